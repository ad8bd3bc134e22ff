"""Reading a rendered pod template as the kubelet would: shared by the image-contract tests."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def pod_of(objs: list[Obj], kind: str) -> Obj:
    """The pod template's spec of the (first) object of ``kind``."""
    return next(o for o in objs if o["kind"] == kind)["spec"]["template"]["spec"]


def effective(pod: Obj, container: Obj, key: str) -> Any:
    """A securityContext field as the kubelet applies it: container first, then pod."""
    value = (container.get("securityContext") or {}).get(key)
    return (pod.get("securityContext") or {}).get(key) if value is None else value


def env_of(container: Obj) -> dict[str, Obj]:
    return {e["name"]: e for e in container.get("env", [])}


def mounts_of(container: Obj) -> dict[str, Obj]:
    return {m["mountPath"]: m for m in container.get("volumeMounts", [])}
