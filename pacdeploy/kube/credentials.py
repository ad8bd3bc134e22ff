"""What a request says about who sent it, beyond the transport: impersonation headers, an
oidc id-token, and the cluster an exec plugin is told about. Each as client-go builds it.
"""

from __future__ import annotations

import base64
import binascii
import json
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pacdeploy.kube.decode import KubeconfigError
from pacdeploy.kube.kubeconfig import Endpoint, Impersonation
from pacdeploy.kube.proxy import Proxy

# net/http's token characters (round_trippers.go legalHeaderKeyBytes), '%' escaped anyway.
HEADER_KEY_BYTES = frozenset((string.ascii_letters + string.digits + "!#$&'*+-.^_`|~").encode())
OIDC_EXPIRY_DELTA = 10.0  # seconds: oidc.go expiryDelta


def _canonical(name: str) -> str:
    """Go's ``CanonicalMIMEHeaderKey``, as ``Header.Set``/``Add`` store a key."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def header_key_escape(key: str) -> str:
    """``headerKeyEscape``: an extra's key %-encoded byte by byte where HTTP forbids it."""
    return "".join(
        chr(byte) if byte in HEADER_KEY_BYTES else f"%{byte:02X}" for byte in key.encode()
    )


def impersonation_headers(who: Impersonation | None) -> list[tuple[str, str]]:
    """``impersonatingRoundTripper.RoundTrip``: user, uid, one header per group and per
    extra value."""
    if who is None:
        return []
    headers = [("Impersonate-User", who.user)]
    if who.uid:
        headers.append(("Impersonate-Uid", who.uid))
    headers += [("Impersonate-Group", group) for group in who.groups]
    for key, values in who.extra:
        name = _canonical("Impersonate-Extra-" + header_key_escape(key))
        headers += [(name, value) for value in values]
    return headers


def cluster_info(endpoint: Endpoint, proxy: Proxy | None) -> dict[str, Any]:
    """ExecCredential ``spec.cluster`` (``rest.ConfigToExecCluster``): the CA's bytes whether
    the kubeconfig gives a file or data, the proxy-url only when the kubeconfig sets one."""
    ca = endpoint.ca_data
    if ca is None and endpoint.ca_file:
        try:
            ca = Path(endpoint.ca_file).read_bytes()
        except OSError as exc:
            raise KubeconfigError(
                f"failed to load CA bundle for execProvider: {exc.strerror}", "Fix the path"
            ) from exc
    fields = {
        "tls-server-name": endpoint.tls_server_name,
        "insecure-skip-tls-verify": endpoint.insecure,
        "certificate-authority-data": base64.b64encode(ca).decode() if ca else None,
        "proxy-url": endpoint.proxy_url if proxy is not None else None,
        "disable-compression": endpoint.disable_compression,
    }
    info: dict[str, Any] = {"server": endpoint.server}
    info.update({key: value for key, value in fields.items() if value})
    info["config"] = endpoint.exec_extension  # RawExtension: null when there is none
    return info


def _jwt_expiry(token: str, where: str) -> float:
    parts = token.split(".")
    if len(parts) != 3:
        raise KubeconfigError(f"{where}: the oidc id-token is not a valid JWT", "Log in again")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return float(claims.get("exp") or 0)
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise KubeconfigError(f"{where}: the oidc id-token's claims cannot be read", "") from exc


def oidc_id_token(
    config: dict[str, str], user: str, *, clock: Callable[[], float] = time.time
) -> str:
    """The auth-provider oidc's ``id-token`` while it is valid (``oidcAuthProvider.idToken``).
    kubectl then refreshes it with ``refresh-token`` and writes the new one into the
    kubeconfig; pacdeploy writes no kubeconfig it was not asked to, and says so."""
    where = f"user {user!r}"
    token = config.get("id-token") or ""
    if token and clock() + OIDC_EXPIRY_DELTA < _jwt_expiry(token, where):
        return token
    if not config.get("refresh-token"):
        raise KubeconfigError(
            f"{where}: no valid oidc id-token, and no refresh-token to get one",
            "Log in again with your identity provider's tool",
        )
    raise KubeconfigError(
        f"{where}: the oidc id-token has expired",
        "Refresh it with `kubectl get --raw /version` (kubectl writes the new one to the "
        "kubeconfig), or log in again",
    )
