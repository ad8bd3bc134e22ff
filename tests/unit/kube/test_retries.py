"""Asking again after a transient failure: how long to wait, and that the first try counts."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException
from tenacity import RetryCallState, Retrying

from pacdeploy.errors import InvalidInput
from pacdeploy.kube.retries import again, retry_after
from tests.support.cli import fresh_python


def api_error(status, headers=None):
    exc = ApiException(status=status, reason="x")
    exc.headers = headers or {}
    return exc


def state_after(exc, attempt=1):
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_retry_after_is_honoured_and_capped():
    assert retry_after(state_after(api_error(429, {"Retry-After": "3"}))) == 3
    assert retry_after(state_after(api_error(429, {"Retry-After": "600"}))) == 10


def test_otherwise_backoff_is_short_and_bounded():
    waits = [retry_after(state_after(api_error(503), attempt)) for attempt in range(1, 12)]
    assert all(0 < w <= 3.0 for w in waits)


def test_the_first_failure_is_the_first_attempt_and_the_next_success_is_returned():
    answers = [api_error(503, {"Retry-After": "0"}), b"{}"]
    calls = []

    def attempt():
        calls.append(1)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    first = api_error(429, {"Retry-After": "0"})
    assert again(attempt, first, seconds=5, what=("GET", "/api")) == b"{}"
    assert len(calls) == 2  # the failed first try is not sent again by itself


def test_a_failure_not_worth_retrying_ends_the_retries():
    calls = []

    def attempt():
        calls.append(1)
        raise InvalidInput("bad")

    with pytest.raises(InvalidInput):
        again(attempt, api_error(503, {"Retry-After": "0"}), seconds=5, what=("GET", "/api"))
    assert len(calls) == 1


def test_a_command_whose_requests_succeed_never_loads_tenacity():
    code = (
        "import sys\n"
        "from pacdeploy.kube.client import Cluster\n"
        "class Answer:\n"
        "    status = 200\n"
        '    def read(self): return b\'{"kind": "Namespace"}\'\n'
        "class Wire:\n"
        "    def rest(self, request): return Answer()\n"
        "Cluster(Wire(), 'c', 'https://x').get('Namespace', 'default')\n"
        "print('tenacity' in sys.modules)"
    )
    assert fresh_python(code) == "False"
