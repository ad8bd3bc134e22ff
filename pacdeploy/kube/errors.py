"""How an API or transport failure becomes one line a user can act on (kopf's errors.py idea).

Pure functions over the exception and where it happened, so the whole table is unit-tested.
The original exception stays chained as ``__cause__`` (shown with -vv).
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

import urllib3

from pacdeploy.errors import (
    ClusterUnreachable,
    Conflict,
    InvalidInput,
    NotFound,
    PacdeployError,
    PermissionDenied,
)
from pacdeploy.kube import official

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class Where(NamedTuple):
    """The request that failed, and the connection it went over."""

    method: str
    path: str
    server: str
    context: str
    retry_seconds: float
    proxy: str | None = None  # the proxy's URL without credentials


def api_error(status: int, body: bytes) -> Exception:
    """The client's ApiException for an answer that was not a success."""
    return official.api_error(status, body.decode(errors="replace"))


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, official.api_exception()):
        return int(getattr(exc, "status", 0) or 0)
    return None


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: connection trouble, throttling, server errors; never 4xx or TLS."""
    status = _status(exc)
    if status is not None:
        return status in RETRY_STATUSES or status == 0
    if isinstance(exc, urllib3.exceptions.MaxRetryError):
        return not isinstance(exc.reason, urllib3.exceptions.SSLError) and not proxy_refused(
            exc.reason
        )
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError) and not isinstance(
        exc, urllib3.exceptions.SSLError
    )


def proxy_refused(reason: object) -> bool:
    """The proxy answered, and said no (407, 403): asking again will not change that."""
    return isinstance(reason, urllib3.exceptions.ProxyError) and "Tunnel connection failed" in (
        str(reason.original_error)
    )


def status_message(exc: Any) -> str:
    try:
        return str(json.loads(exc.body).get("message") or exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "reason", exc))


def short_reason(reason: object) -> str:
    text = str(reason)
    for marker in ("Connection refused", "Name or service not known", "timed out"):
        if marker in text:
            return marker.lower()
    return text.split(": ", 1)[-1][:160]


def _from_status(status: int, exc: Any, where: Where) -> PacdeployError:
    message = status_message(exc)
    if status == 401:  # authentication: the README's exit 3, like an unreachable server
        return ClusterUnreachable(
            f"the API server at {where.server} rejected the credentials of context "
            f"{where.context!r}",
            "Refresh the credentials in your kubeconfig",
        )
    if status == 403:
        return PermissionDenied(message, "Ask a cluster admin for the RBAC in the README")
    if status == 404:
        return NotFound(message)
    if status == 409:
        return Conflict(message)
    if status in (400, 422):
        return InvalidInput(message)
    if status in RETRY_STATUSES:
        return ClusterUnreachable(
            f"the API server kept failing ({status} {exc.reason}) for "
            f"{where.retry_seconds:.0f}s on {where.method} {where.path}",
            "Check the control plane's health and retry",
        )
    return PacdeployError(f"{where.method} {where.path} failed: {status} {message}")


_CONFLICT_MANAGER = re.compile(r'conflict with "([^"]*)"')


def only_own_conflicts(message: str, manager: str) -> bool:
    """A server-side apply conflict is only with ``manager`` itself under another operation
    (`scale` writes replicas through the scale subresource, a manager of its own)."""
    managers = _CONFLICT_MANAGER.findall(message)
    return bool(managers) and all(m == manager for m in managers)


def translate(exc: BaseException, where: Where) -> PacdeployError:
    """The error a user sees for ``exc``; the caller chains ``exc`` as its cause."""
    status = _status(exc)
    if status:
        return _from_status(status, exc, where)
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, urllib3.exceptions.ProxyError) and where.proxy:
        return ClusterUnreachable(
            f"the proxy {where.proxy} did not connect us to {where.server} "
            f"(context {where.context!r}): {short_reason(reason.original_error or reason)}",
            "Check the cluster's proxy-url (or HTTPS_PROXY) and the proxy's credentials",
        )
    if isinstance(reason, urllib3.exceptions.SSLError) or isinstance(
        exc, urllib3.exceptions.SSLError
    ):
        return ClusterUnreachable(
            f"TLS handshake with {where.server} failed ({short_reason(reason)})",
            "Check certificate-authority-data in your kubeconfig matches the cluster",
        )
    return ClusterUnreachable(
        f"cannot reach the API server at {where.server} (context {where.context!r}) "
        f"after retrying for {where.retry_seconds:.0f}s: {short_reason(reason)}",
        "Check the cluster is running and --context/--kubeconfig point at it",
    )
