"""The one way the platform's definitions are assembled: the ``defs/`` folder (``dg`` layout),
loaded with a :class:`~analytics_platform.config.Settings` in force.

``dagster dev``, ``dg`` and the webserver load ``analytics_platform.definitions``, which calls
:func:`build_definitions` with the settings of the environment; the CLI's in-process runs and
the tests call it with theirs. Either way the same instances are loaded (``defs/platform.py``,
``defs/*/defs.yaml``), and the components read the settings through :func:`settings_in_force`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import dagster as dg

from analytics_platform.config import Settings, load_settings

PACKAGE = Path(__file__).resolve().parents[1]
"""The package's folder: ``dg`` finds the project (``pyproject.toml``) above it."""

_IN_FORCE: ContextVar[Settings | None] = ContextVar("settings_in_force", default=None)


def settings_in_force() -> Settings:
    """The settings :func:`build_definitions` was given, else the environment's."""
    return _IN_FORCE.get() or load_settings()


@contextmanager
def _loading_with(settings: Settings | None) -> Iterator[None]:
    token = _IN_FORCE.set(settings)
    try:
        yield
    finally:
        _IN_FORCE.reset(token)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    """The platform and every network: the ``defs/`` folder loaded with ``settings`` (default:
    the environment's) in force."""
    with _loading_with(settings):
        return dg.load_from_defs_folder(path_within_project=PACKAGE)
