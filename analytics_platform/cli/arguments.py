"""Argument types the commands share: a day and a positive whole number."""

from __future__ import annotations

import argparse
from datetime import date


def day(text: str) -> date:
    """A ``YYYY-MM-DD`` day."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def positive(text: str) -> int:
    """A count or a number of days: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


# Mistakes a user can fix (config, names, dates, an empty store): one line on stderr and exit
# code 2, no traceback unless --debug. Anything else is a bug and keeps its traceback.
USER_ERRORS = (ValueError, LookupError, FileNotFoundError, PermissionError)
