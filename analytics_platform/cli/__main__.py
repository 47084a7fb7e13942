"""``python -m analytics_platform.cli``: the same as ``analytics-platform``."""

import sys

from analytics_platform.cli import main

sys.exit(main())
