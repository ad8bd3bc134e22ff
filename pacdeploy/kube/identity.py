"""Who a kubeconfig user entry says we are, each part as client-go reads it: its bearer
token, exec plugin, oidc auth provider and impersonation (``tools/clientcmd/client_config.go``
``getUserIdentificationPartialConfig``, ``api/v1/defaults.go``, ``rest.GetAuthProvider``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from pacdeploy.kube.decode import KubeconfigError
from pacdeploy.kube.validation import EXEC_VERSIONS


class ExecSpec(NamedTuple):
    """A user's ``exec`` credential plugin (EKS, GKE, AKS, OIDC helpers)."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = EXEC_VERSIONS[0]
    interactive_mode: str = "IfAvailable"
    provide_cluster_info: bool = False
    install_hint: str = ""


class Impersonation(NamedTuple):
    """``as``, ``as-uid``, ``as-groups``, ``as-user-extra``: who the API server is asked
    to treat the request as (``transport/round_trippers.go``)."""

    user: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


def impersonation(user: dict[str, Any]) -> Impersonation | None:
    if not user.get("as"):
        return None
    extra = user.get("as-user-extra") or {}
    return Impersonation(
        user=user["as"],
        uid=user.get("as-uid") or "",
        groups=tuple(user.get("as-groups") or ()),
        extra=tuple((k, tuple(v or ())) for k, v in extra.items()),
    )


def exec_spec(raw: dict[str, Any]) -> ExecSpec:
    version = raw.get("apiVersion") or ""
    mode = raw.get("interactiveMode") or ""  # defaulted by decode.py
    return ExecSpec(
        command=raw["command"],
        args=tuple(raw.get("args") or ()),
        env=tuple((e["name"], e.get("value") or "") for e in raw.get("env") or ()),
        api_version=version,
        interactive_mode=mode,
        provide_cluster_info=bool(raw.get("provideClusterInfo")),
        install_hint=raw.get("installHint") or "",
    )


def exec_extension(cluster: dict[str, Any]) -> Any:
    return (cluster.get("extensions") or {}).get("client.authentication.k8s.io/exec")


def bearer(user: dict[str, Any], where: str) -> str:
    """The token ``getUserIdentificationPartialConfig`` starts with: ``token``, else the
    tokenFile's content (a file that cannot be read fails the command)."""
    if user.get("token") or not user.get("tokenFile"):
        return str(user.get("token") or "")
    try:
        text = Path(user["tokenFile"]).read_text().strip()
    except OSError as exc:
        raise KubeconfigError(
            f"{where}.tokenFile {user['tokenFile']} cannot be read: {exc.strerror}", "Fix the path"
        ) from exc
    if not text:
        raise KubeconfigError(f"{where}.tokenFile {user['tokenFile']} is empty", "Write a token")
    return text


def auth_provider(provider: dict[str, Any] | None, where: str) -> dict[str, str] | None:
    """client-go still registers ``oidc`` (``plugin/pkg/client/auth``); gcp and azure only
    say they were removed, and any other name is unknown (``rest.GetAuthProvider``)."""
    if provider is None:
        return None
    name, config = provider.get("name") or "", provider.get("config") or {}
    if name != "oidc":
        raise KubeconfigError(
            f"{where} uses auth-provider {name!r}, which kubectl does not have",
            "Use the provider's exec plugin (kubelogin, gke-gcloud-auth-plugin, aws eks get-token)",
        )
    for key in ("idp-issuer-url", "client-id"):  # oidc.go newOIDCAuthProvider
        if not config.get(key):
            raise KubeconfigError(f"{where}.auth-provider.config has no {key}", f"Add {key}")
    return dict(config)
