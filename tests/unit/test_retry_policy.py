"""Which API failures are retried, and how long to wait: pure policy, no server involved."""

import urllib3
from kubernetes.client.exceptions import ApiException
from tenacity import RetryCallState, Retrying

from pacdeploy.cluster import _is_transient, _retry_after


def api_error(status, headers=None):
    exc = ApiException(status=status, reason="x")
    exc.headers = headers or {}
    return exc


def test_throttling_server_errors_and_connection_failures_are_retried():
    for status in (429, 500, 502, 503, 504):
        assert _is_transient(api_error(status))
    refused = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    assert _is_transient(urllib3.exceptions.MaxRetryError(None, "/", refused))
    assert _is_transient(urllib3.exceptions.ProtocolError("reset"))


def test_client_errors_and_tls_failures_are_not():
    for status in (400, 401, 403, 404, 409, 422):
        assert not _is_transient(api_error(status))
    tls = urllib3.exceptions.SSLError("certificate verify failed")
    assert not _is_transient(urllib3.exceptions.MaxRetryError(None, "/", tls))


def state_after(exc, attempt=1):
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_retry_after_is_honoured_and_capped():
    assert _retry_after(state_after(api_error(429, {"Retry-After": "3"}))) == 3
    assert _retry_after(state_after(api_error(429, {"Retry-After": "600"}))) == 10


def test_otherwise_backoff_is_short_and_bounded():
    waits = [_retry_after(state_after(api_error(503), attempt)) for attempt in range(1, 12)]
    assert all(0 < w <= 3.0 for w in waits)
