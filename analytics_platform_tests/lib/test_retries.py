"""Steps retry connection, timeout and throttling errors, and fail at once on anything else."""

import dagster as dg
import pytest
from botocore.exceptions import ClientError

from analytics_platform.lib.assets.retries import is_transient, retry_only_transient
from analytics_platform.lib.assets.spec import SERVER_RETRIES


def test_what_counts_as_transient():
    assert is_transient(ConnectionResetError("reset by peer")) and is_transient(TimeoutError())
    slow = ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "PutObject")
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")
    assert is_transient(slow) and not is_transient(denied)
    assert not is_transient(TypeError("unsupported operand")) and not is_transient(KeyError("x"))


@pytest.mark.parametrize(
    ("error", "attempts"), [(TypeError("a bug"), 1), (ConnectionResetError("reset"), 3)]
)
def test_a_bug_fails_at_once_and_a_dropped_connection_is_retried(error, attempts):
    tries = []
    policy = dg.RetryPolicy(max_retries=SERVER_RETRIES.max_retries, delay=0)

    @dg.asset(retry_policy=policy)
    @retry_only_transient
    def flaky(context: dg.AssetExecutionContext):
        tries.append(context.retry_number)
        raise error
        yield dg.Output(1)  # a generator, as the network assets are

    result = dg.materialize([flaky], raise_on_error=False)
    assert not result.success
    assert len(tries) == attempts
    if attempts == 1:
        failure = result.get_step_failure_events()[0].step_failure_data.error
        assert "TypeError: a bug" in failure.message
