"""Which port and which pods a forward to a Service reaches."""

import pytest

from pacdeploy.errors import InvalidInput
from pacdeploy.forward.service import container_port, ready_backends, resolve_service_port

SERVICE = {
    "metadata": {"name": "pacman"},
    "spec": {
        "selector": {"name": "pacman"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http-server"}, {"port": 8443}],
    },
}


def pod(name, ready=True, port_name="http-server", port=8080, deleting=False, phase="Running"):
    meta = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {"containers": [{"ports": [{"name": port_name, "containerPort": port}]}]},
        "status": {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_service_port_by_number_or_name():
    assert resolve_service_port(SERVICE, 80).target == "http-server"
    assert resolve_service_port(SERVICE, "http").port == 80
    assert resolve_service_port(SERVICE, 8443).target == 8443  # targetPort defaults to port


def test_missing_port_lists_the_ports():
    with pytest.raises(InvalidInput, match=r"has no port 81 \(it has 80 \(http\), 8443\)"):
        resolve_service_port(SERVICE, 81)


def test_service_without_selector_is_refused():
    with pytest.raises(InvalidInput, match="no selector"):
        resolve_service_port({"metadata": {"name": "ext"}, "spec": {"ports": []}}, 80)


def test_named_target_port_is_looked_up_per_pod():
    assert container_port(pod("a", port=9000), "http-server") == 9000
    assert container_port(pod("a", port_name="other"), "http-server") is None
    assert container_port(pod("a"), 7000) == 7000


def test_only_ready_running_pods_with_the_port_serve():
    pods = [
        pod("c"),
        pod("a"),
        pod("b", ready=False),
        pod("d", deleting=True),
        pod("e", phase="Pending"),
        pod("f", port_name="metrics"),
    ]
    assert ready_backends(pods, "http-server") == [("a", 8080), ("c", 8080)]
