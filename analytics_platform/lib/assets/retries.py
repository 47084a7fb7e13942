"""Which failures a step retries: those that can pass (``spec.SERVER_RETRIES``), not bugs.

Dagster's ``RetryPolicy`` retries whatever a step raises. A dropped connection, a timeout or a
throttled object store can pass on a later try; a bug or a bad input fails the same way three
times and only delays the answer by the backoff (15 s, then 30 s). :func:`retry_only_transient`
lets the first kind through unchanged (so the policy retries it) and turns anything else into
``dg.Failure(allow_retries=False)``, the original exception kept as its cause.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg


def transient_errors() -> tuple[type[BaseException], ...]:
    """Connection, timeout and throttling errors of the stores the steps talk to."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from clickhouse_connect.driver.exceptions import OperationalError, StreamFailureError

    return (OSError, TimeoutError, OperationalError, StreamFailureError, BotoConnectionError)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, transient_errors()):
        return True
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")  # botocore ClientError
    return code in ("Throttling", "ThrottlingException", "SlowDown", "RequestTimeout", "503")


@contextmanager
def _fail_fast_unless_transient() -> Iterator[None]:
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise dg.Failure(
            description=f"{type(exc).__name__}: {exc}",
            metadata={"retried": "no: not a connection, timeout or throttling error"},
            allow_retries=False,
        ) from exc


def retry_only_transient(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an asset's compute function (plain or generator) as the module docstring says."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any):
            with _fail_fast_unless_transient():
                yield from fn(*args, **kwargs)

        return generator

    @functools.wraps(fn)
    def plain(*args: Any, **kwargs: Any):
        with _fail_fast_unless_transient():
            return fn(*args, **kwargs)

    return plain
