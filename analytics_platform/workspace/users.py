"""Who may use the workspace: users with a role and an Argon2 password hash, and API tokens
for scripts, in one SQLite file under the home (``workspace/users.db``).

Roles, each including the one before: ``viewer`` (read), ``analyst`` (+ record verdicts),
``admin`` (+ promote or roll back the risk model). A token is shown once when made; only its
SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "analyst", "admin")
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_HASHER = PasswordHasher()


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        """Whether this user has ``role`` or a role above it."""
        return ROLES.index(self.role) >= ROLES.index(role)


class UserStore:
    """Users and tokens in the SQLite file ``path`` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
                "password TEXT NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (digest TEXT PRIMARY KEY, name TEXT NOT NULL "
                "REFERENCES users(name))"
            )

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def add(self, name: str, role: str, password: str) -> User:
        """Add or update ``name`` with ``role`` and ``password`` (at least 8 characters)."""
        if not NAME.match(name):
            raise ValueError(f"user: invalid name {name!r} (letters, digits and . _ @ -)")
        if role not in ROLES:
            raise ValueError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")
        if len(password) < 8:
            raise ValueError(f"password: at least 8 characters for {name!r}")
        with self._db() as db:
            db.execute(
                "INSERT INTO users (name, role, password) VALUES (?, ?, ?) ON CONFLICT(name) "
                "DO UPDATE SET role = excluded.role, password = excluded.password",
                (name, role, _HASHER.hash(password)),
            )
        return User(name, role)

    def get(self, name: str) -> User | None:
        with self._db() as db:
            row = db.execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
        return User(*row) if row else None

    def users(self) -> list[User]:
        with self._db() as db:
            return [User(*r) for r in db.execute("SELECT name, role FROM users ORDER BY name")]

    def check(self, name: str, password: str) -> User | None:
        """The user whose password this is, else None (the same time either way)."""
        with self._db() as db:
            row = db.execute("SELECT role, password FROM users WHERE name = ?", (name,)).fetchone()
        stored = row[1] if row else _HASHER.hash("not a user")
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, row[0]) if row else None

    def new_token(self, name: str) -> str:
        """A new API token for ``name``: returned once, stored only as its SHA-256."""
        if self.get(name) is None:
            raise LookupError(f"user: no user {name!r}")
        token = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("INSERT INTO tokens (digest, name) VALUES (?, ?)", (_digest(token), name))
        return token

    def by_token(self, token: str) -> User | None:
        with self._db() as db:
            row = db.execute(
                "SELECT u.name, u.role FROM tokens t JOIN users u ON u.name = t.name "
                "WHERE t.digest = ?",
                (_digest(token),),
            ).fetchone()
        return User(*row) if row else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
