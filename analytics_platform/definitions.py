"""The Dagster code location: ``dagster dev -m analytics_platform.definitions``.

Loads the ``defs/`` folder (``dg`` layout) through
:func:`analytics_platform.lib.loading.build_definitions`, the same way the CLI and the tests do:
``defs/platform.py`` (resources, executor) and the component instances in ``defs/*/defs.yaml``
(networks).
"""

import dagster as dg

from analytics_platform.lib.loading import build_definitions

__all__ = ["build_definitions", "defs"]


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
