"""Fixtures the integration modules share."""

from __future__ import annotations

import pytest

from pacdeploy.sandbox import objects
from tests.support.standin import StandIn

BODIES: dict[str, bytes] = {"/": b"pacman\n"}


@pytest.fixture
def app(target, cluster, app_ns, request):
    """Pacman deployed by pacdeploy (2 web pods), their 8080 forwarded by KWOK to a local
    server answering the paths of the module's BODIES (default: / only)."""
    bodies = getattr(request.module, "BODIES", BODIES)
    with StandIn(bodies) as server:
        forward = objects.port_forward(f"pf-{app_ns}", [app_ns], 8080, server.port)
        cluster.create(forward)
        result = target.pacdeploy("-n", app_ns, "up", "--replicas", "2")
        assert result.returncode == 0, result.stderr
        yield app_ns
        cluster.delete("ClusterPortForward", forward["metadata"]["name"])
