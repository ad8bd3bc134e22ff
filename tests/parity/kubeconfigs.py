"""Building kubeconfigs for the scenarios, short: one context ``c`` (cluster ``c``, user ``u``)
unless a scenario says otherwise."""

from __future__ import annotations

from typing import Any

from tests.parity.world import V1, Case

V1BETA1 = V1 + "beta1"
TOKEN = {"token": "tok"}


def config(clusters: dict, users: dict, contexts: dict, current: str = "c", **top: Any) -> dict:
    """A kubeconfig of ``{name: body}`` sections."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": b} for n, b in clusters.items()],
        "users": [{"name": n, "user": b} for n, b in users.items()],
        "contexts": [{"name": n, "context": b} for n, b in contexts.items()],
        "current-context": current,
        **top,
    }


def single(cluster: dict, user: dict | None = None, **context: Any) -> dict:
    """One context ``c``: cluster ``c``, user ``u`` (none when ``user`` is None)."""
    users = {} if user is None else {"u": user}
    ctx = {"cluster": "c", **({"user": "u"} if user is not None else {}), **context}
    return config({"c": cluster}, users, {"c": ctx})


def tls(case: Case, **extra: Any) -> dict:
    """The TLS stand-in, its CA given as data."""
    return {
        "server": case.world.url("tls"),
        "certificate-authority-data": case.world.b64("ca-a.crt"),
        **extra,
    }


def other(case: Case, **extra: Any) -> dict:
    """The stand-in whose certificate is from the other CA."""
    return {
        "server": case.world.url("other"),
        "certificate-authority-data": case.world.b64("ca-b.crt"),
        **extra,
    }


def text_config(text: str) -> Any:
    """A kubeconfig written as ``text``, SERVER and CA replaced by the TLS stand-in's."""

    def build(case: Case) -> None:
        text_ = text.replace("SERVER", case.world.url("tls"))
        case.write(".kube/config", text_.replace("CA", case.world.b64("ca-a.crt")))

    return build


def plain(case: Case, **extra: Any) -> dict:
    return {"server": case.world.url("plain"), **extra}


def cert_user(case: Case, name: str = "alice") -> dict:
    return {
        "client-certificate-data": case.world.b64(f"{name}.crt"),
        "client-key-data": case.world.b64(f"{name}.key"),
    }


def plugin(case: Case, *args: str, version: str = V1, **extra: Any) -> dict:
    """A user whose exec plugin records what it was told (world.PLUGIN)."""
    spec = {"apiVersion": version, "command": case.world.plugin, "interactiveMode": "Never"}
    return {"exec": {**spec, "args": list(args), **extra}}


def home_config(case: Case, document: Any) -> None:
    """The scenario's only kubeconfig, at ~/.kube/config."""
    case.write(".kube/config", document)
