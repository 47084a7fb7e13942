"""SQL identifier validation (table, database, network and cluster names)."""

from __future__ import annotations

import re

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def validate_identifier(value: str, what: str = "identifier") -> str:
    """Return ``value`` if it is a safe SQL identifier (lower snake case), else raise."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise ValueError(
            f"invalid {what} {value!r}: expected lower-case letters, digits and '_', "
            "starting with a letter"
        )
    return value
