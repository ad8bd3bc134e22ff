"""Which API failures are retried, and what each becomes for the user: pure, no server."""

from __future__ import annotations

import urllib3
from kubernetes.client.exceptions import ApiException

from pacdeploy.errors import (
    ClusterUnreachable,
    Conflict,
    InvalidInput,
    NotFound,
    PacdeployError,
    PermissionDenied,
)
from pacdeploy.kube import errors
from pacdeploy.kube.errors import is_transient, only_own_conflicts


def api_error(status, headers=None):
    exc = ApiException(status=status, reason="x")
    exc.headers = headers or {}
    return exc


def test_throttling_server_errors_and_connection_failures_are_retried():
    for status in (429, 500, 502, 503, 504):
        assert is_transient(api_error(status))
    refused = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    assert is_transient(urllib3.exceptions.MaxRetryError(None, "/", refused))
    assert is_transient(urllib3.exceptions.ProtocolError("reset"))


def test_client_errors_and_tls_failures_are_not():
    for status in (400, 401, 403, 404, 409, 422):
        assert not is_transient(api_error(status))
    tls = urllib3.exceptions.SSLError("certificate verify failed")
    assert not is_transient(urllib3.exceptions.MaxRetryError(None, "/", tls))


WHERE = errors.Where("GET", "/api/v1/namespaces/x", "https://k8s:6443", "prod", 20)


def translated(exc):
    return errors.translate(exc, WHERE)


def test_status_table_maps_to_exit_codes_a_user_can_act_on():
    body = '{"message": "pods is forbidden: User \\"bob\\" cannot list pods"}'
    forbidden = api_error(403)
    forbidden.body = body
    cases = {
        401: (ClusterUnreachable, 3, "rejected the credentials of context 'prod'"),
        403: (PermissionDenied, 4, 'User "bob" cannot list pods'),
        404: (NotFound, 7, ""),
        409: (Conflict, 5, ""),
        422: (InvalidInput, 2, ""),
        503: (ClusterUnreachable, 3, "kept failing (503 x) for 20s on GET /api/v1/namespaces/x"),
        418: (PacdeployError, 1, "GET /api/v1/namespaces/x failed: 418"),
    }
    for status, (kind, code, text) in cases.items():
        exc = forbidden if status == 403 else api_error(status)
        result = translated(exc)
        assert type(result) is kind, status
        assert result.exit_code == code, status
        assert text in str(result), (status, str(result))


def test_transport_failures_name_the_server_and_context():
    refused = urllib3.exceptions.NewConnectionError(None, "[Errno 111] Connection refused")
    down = translated(urllib3.exceptions.MaxRetryError(None, "/", refused))
    assert isinstance(down, ClusterUnreachable)
    assert "https://k8s:6443 (context 'prod') after retrying for 20s: connection refused" in str(
        down
    )
    tls = urllib3.exceptions.SSLError("certificate verify failed")
    assert "TLS handshake with https://k8s:6443 failed" in str(
        translated(urllib3.exceptions.MaxRetryError(None, "/", tls))
    )


def test_only_a_conflict_naming_no_manager_but_ours_is_ours() -> None:
    """The words the real server uses, and the forced retry they lead to, are checked on it:
    test_api_rules.py."""
    own = 'Apply failed with 1 conflict: conflict with "pacdeploy" with subresource "scale"'
    assert only_own_conflicts(own, "pacdeploy")
    other = own + '; conflict with "kubectl-edit" using apps/v1'
    assert not only_own_conflicts(other, "pacdeploy")
    assert not only_own_conflicts("namespace is terminating", "pacdeploy")
