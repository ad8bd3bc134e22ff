"""One kubeconfig file decoded as client-go decodes it, before anything is merged.

client-go turns the YAML into JSON (``sigs.k8s.io/yaml`` ``YAMLToJSON``, go-yaml v2's YAML 1.1
scalars) and decodes that into its v1 types (``tools/clientcmd/loader.go`` ``Load``,
``tools/clientcmd/api/v1/types.go``, ``conversion.go``). So, for the whole file, used or not:

- ``kind`` is ``Config`` and ``apiVersion`` is ``v1`` (either may be left out);
- every field has its Go type: a bool is a YAML boolean (``true``, ``yes``, ``on``, ``y``...),
  never a string, so ``insecure-skip-tls-verify: "false"`` is refused, not truthy; a string is
  a string (``token: 123`` is refused); unknown fields are ignored;
- every ``*-data`` field is standard base64 (Go's decoder skips line breaks);
- names are unique within clusters, users, contexts and each list of extensions.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from pacdeploy.errors import ClusterUnreachable


class KubeconfigError(ClusterUnreachable):
    """A kubeconfig kubectl would refuse too: one line naming the file and the key."""


class Bytes:
    """A ``[]byte`` field: base64 in the file."""


class Mapping(NamedTuple):
    """A Go ``map[string]X``."""

    values: Any


class Named(NamedTuple):
    """A list of ``{name, <key>: X}`` that client-go converts to a map (unique names)."""

    key: str
    body: Any


# api/v1/defaults.go SetDefaults_ExecConfig: these versions default to IfAvailable; v1 must say.
DEFAULT_IF_AVAILABLE = (
    "client.authentication.k8s.io/v1beta1",
    "client.authentication.k8s.io/v1alpha1",
)
EXTENSIONS = Named("extension", object)  # any value: client-go keeps it raw
CLUSTER = {
    "server": str,
    "tls-server-name": str,
    "insecure-skip-tls-verify": bool,
    "certificate-authority": str,
    "certificate-authority-data": Bytes,
    "proxy-url": str,
    "disable-compression": bool,
    "extensions": EXTENSIONS,
}
EXEC = {
    "command": str,
    "args": [str],
    "env": [{"name": str, "value": str}],
    "apiVersion": str,
    "installHint": str,
    "provideClusterInfo": bool,
    "interactiveMode": str,
}
USER = {
    "client-certificate": str,
    "client-certificate-data": Bytes,
    "client-key": str,
    "client-key-data": Bytes,
    "token": str,
    "tokenFile": str,
    "as": str,
    "as-uid": str,
    "as-groups": [str],
    "as-user-extra": Mapping([str]),
    "username": str,
    "password": str,
    "auth-provider": {"name": str, "config": Mapping(str)},
    "exec": EXEC,
    "extensions": EXTENSIONS,
}
CONTEXT = {"cluster": str, "user": str, "namespace": str, "extensions": EXTENSIONS}
CONFIG = {
    "kind": str,
    "apiVersion": str,
    "preferences": {"colors": bool, "extensions": EXTENSIONS},
    "clusters": Named("cluster", CLUSTER),
    "users": Named("user", USER),
    "contexts": Named("context", CONTEXT),
    "current-context": str,
    "extensions": EXTENSIONS,
}


# libyaml's parser where PyYAML has it: it reads a kubeconfig's certificate data ~15 times
# faster than the pure-Python one (2.6 ms -> 0.15 ms for the sandbox's), before every command's
# first connection. Tags are still resolved by the Python resolvers below.
if TYPE_CHECKING:
    _Parser = yaml.SafeLoader
else:
    _Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Parser):
    """YAML 1.1 scalars as go-yaml v2 resolves them: y/n are booleans too, and a date is a
    string (go-yaml gives a plain value no timestamp)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))


def _bool(loader: yaml.SafeLoader, node: yaml.Node) -> bool:
    return str(node.value).lower() in ("y", "yes", "true", "on")


_Loader.add_constructor("tag:yaml.org,2002:bool", _bool)


@dataclass
class Decoded:
    """One file's entries by name, each body checked and its ``*-data`` fields decoded."""

    clusters: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    current_context: str = ""


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "a mapping"}
    return names.get(type(value), "a value")


def _go_type(spec: Any) -> tuple[type, str]:
    """The Python type a YAML value must have to decode into ``spec``, and its name."""
    if isinstance(spec, list):
        return list, "a list"
    if isinstance(spec, (dict, Mapping)):
        return dict, "a mapping"
    if spec is Bytes:
        return str, "base64 data"
    return spec, "true or false" if spec is bool else "a string"


def _at(where: str, key: object) -> str:
    return f"{where} {key}" if where.endswith(":") else f"{where}.{key}"


def _require(value: Any, spec: Any, where: str) -> None:
    wanted, what = _go_type(spec)
    if not isinstance(value, wanted):
        shown = f" ({value!r})" if spec is bool else ""  # a string field may be a secret
        raise KubeconfigError(
            f"{where} must be {what}, not {_kind_of(value)}{shown}",
            "Fix the file (kubectl refuses it too)",
        )


def _check(value: Any, spec: Any, where: str) -> Any:
    """``value`` as Go decodes it into ``spec``'s type, or the one line why it cannot be."""
    if value is None or spec is object:
        return value  # JSON null: the zero value
    if isinstance(spec, Named):
        return _named(value, spec, where)
    _require(value, spec, where)
    if spec is Bytes:
        return _base64(value, where)
    if isinstance(spec, list):
        return [_check(item, spec[0], f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(spec, Mapping):
        return {str(k): _check(v, spec.values, _at(where, k)) for k, v in value.items()}
    if not isinstance(spec, dict):
        return value  # a string or a bool, as it is
    return {
        key: _check(item, spec[key], _at(where, key)) if key in spec else item
        for key, item in value.items()
    }


def _base64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KubeconfigError(f"{where} is not base64", "Fix or regenerate it") from exc


def _named(value: Any, spec: Named, where: str) -> dict[str, Any]:
    if not isinstance(value, list):
        raise KubeconfigError(f"{where} must be a list, not {_kind_of(value)}", "Fix the file")
    found: dict[str, Any] = {}
    for index, raw in enumerate(value):
        entry = _check(raw, {"name": str}, f"{where}[{index}]") or {}
        name = str(entry.get("name") or "")
        if name in found:  # conversion.go: "duplicate name ... in list"
            raise KubeconfigError(
                f"{where} names {name!r} twice", "Keep one entry per name (kubectl refuses both)"
            )
        found[name] = _check(entry.get(spec.key), spec.body, f"{where}[{name}].{spec.key}") or {}
    return found


def decode(text: str, path: Path) -> Decoded:
    """The file at ``path`` (its ``text``) as client-go's ``Load`` decodes it."""
    if not text:
        return Decoded()  # loader.go: no data is the empty config
    try:
        document = yaml.load(text, Loader=_Loader)  # a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise KubeconfigError(
            f"kubeconfig {path} is not valid YAML{line}", "Fix or regenerate the file"
        ) from exc
    return checked_document(document, path)


def checked_document(document: Any, path: Path) -> Decoded:
    """A parsed kubeconfig (``document``, read from ``path``) checked as client-go decodes it."""
    if document is None:
        return Decoded()
    if not isinstance(document, dict):
        raise KubeconfigError(
            f"{path} is not a kubeconfig (no clusters, users or contexts in it)",
            "Pass --kubeconfig with a kubeconfig file",
        )
    checked = _check(document, CONFIG, f"kubeconfig {path}:")
    kind, version = checked.get("kind") or "Config", checked.get("apiVersion") or "v1"
    if (kind, version) != ("Config", "v1"):
        raise KubeconfigError(
            f"kubeconfig {path} is a {kind} of apiVersion {version}, not a Config of v1",
            "Use a kubeconfig file (kind: Config, apiVersion: v1)",
        )
    users = checked.get("users") or {}
    for user in users.values():
        spec = user.get("exec") or {}
        if not spec.get("interactiveMode") and spec.get("apiVersion") in DEFAULT_IF_AVAILABLE:
            spec["interactiveMode"] = "IfAvailable"
    return Decoded(
        clusters=checked.get("clusters") or {},
        users=users,
        contexts=checked.get("contexts") or {},
        current_context=checked.get("current-context") or "",
    )
