"""The Dagster code location: ``dagster dev -m analytics_platform.definitions``.

Loads the ``defs/`` folder (``dg`` layout): ``defs/platform.py`` (resources, executor) and the
component instances in ``defs/*/defs.yaml`` (networks). ``build_definitions`` assembles the
same from explicit settings, for the CLI's in-process runs and tests.
"""

from pathlib import Path

import dagster as dg

from analytics_platform.config import Settings
from analytics_platform.lib.component import network_definitions
from analytics_platform.lib.platform import platform_definitions


def build_definitions(settings: Settings) -> dg.Definitions:
    """The platform and every network of ``settings``."""
    return dg.Definitions.merge(
        platform_definitions(settings),
        *(network_definitions(net, settings) for net in settings.networks),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(project_root=Path(__file__).resolve().parent.parent)
