"""Which pod port a Service port means, and which pods may serve it: kubectl's rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pacdeploy.errors import InvalidInput
from pacdeploy.kube.resources import name_of
from pacdeploy.wait.readiness import has_ready_condition


@dataclass(frozen=True)
class ServicePort:
    service: str
    port: int
    target: int | str  # container port number, or the name of one


def resolve_service_port(service: dict[str, Any], port: int | str) -> ServicePort:
    """The Service port asked for, by number or name, and what it targets."""
    name = name_of(service)
    if not service["spec"].get("selector"):
        raise InvalidInput(
            f"service/{name} has no selector, so it has no pods to forward to",
            "Forward to a Service that selects pods",
        )
    ports = service["spec"].get("ports", [])
    for entry in ports:
        if port in (entry.get("port"), entry.get("name")):
            return ServicePort(name, entry["port"], entry.get("targetPort", entry["port"]))
    offered = (
        ", ".join(str(p.get("port")) + (f" ({p['name']})" if p.get("name") else "") for p in ports)
        or "none"
    )
    raise InvalidInput(
        f"service/{name} has no port {port} (it has {offered})", "Pass --port with one of those"
    )


def container_port(pod: dict[str, Any], target: int | str) -> int | None:
    """A pod's port for a Service targetPort: numbers as they are, names looked up."""
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for container in pod["spec"].get("containers", []):
        for entry in container.get("ports", []):
            if entry.get("name") == target:
                return int(entry["containerPort"])
    return None


def is_ready(pod: dict[str, Any]) -> bool:
    if pod["metadata"].get("deletionTimestamp") or pod.get("status", {}).get("phase") != "Running":
        return False
    return has_ready_condition(pod)


def ready_backends(pods: list[dict[str, Any]], target: int | str) -> list[tuple[str, int]]:
    """(pod, container port) for each ready pod that has the target port, in name order."""
    backends = []
    for pod in sorted(pods, key=name_of):
        port = container_port(pod, target)
        if is_ready(pod) and port is not None:
            backends.append((name_of(pod), port))
    return backends
