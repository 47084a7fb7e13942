"""The platform's resources and executor, shared by every network (``ANALYTICS_PROFILE``):
one instance of :func:`analytics_platform.lib.platform.platform_definitions`."""

import dagster as dg

from analytics_platform.config import load_settings
from analytics_platform.lib.platform import platform_definitions


@dg.definitions
def platform() -> dg.Definitions:
    return platform_definitions(load_settings())
