"""The platform's resources and executor, shared by every network (``ANALYTICS_PROFILE``):
one instance of :func:`analytics_platform.lib.platform.platform_definitions`."""

import dagster as dg

from analytics_platform.lib.loading import settings_in_force
from analytics_platform.lib.platform import platform_definitions


@dg.definitions
def platform() -> dg.Definitions:
    return platform_definitions(settings_in_force())
