"""Each revision records the digest its pods ran (`containerStatuses[].imageID`, reported by
the kubelet: here by a KWOK Stage, as KWOK's default stage reports none), `history` shows
it, and `rollback` runs that digest, whatever the tag names by then."""

from __future__ import annotations

import json

import pytest

from pacdeploy.app import stacks
from tests.support.kwok import ready_stage

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only]

DIGEST = "sha256:" + "1" * 64
# What the kubelet reports, and the image pinned to it as the revision records it.
IMAGE_ID = f"docker.io/library/mongo@{DIGEST}"
RAN = f"{stacks.STACKS[stacks.DEFAULT].mongo.ref}@{DIGEST}"


def test_a_rollback_runs_the_digest_its_revision_recorded(target, cluster, app_ns, stages):
    stages(ready_stage(app_ns, "mongo", IMAGE_ID))
    target.succeeds("-n", app_ns, "up")
    (first,) = json.loads(target.succeeds("-n", app_ns, "history", "-o", "json"))
    assert first["images"] == {"mongo": RAN}
    assert "mongo@sha256:1111111111" in target.succeeds("-n", app_ns, "history")
    # The tag is then moved on: revision 2 runs another image under the same container.
    target.succeeds("-n", app_ns, "up", "--mongo-image", "docker.io/library/mongo:8.0.99")
    target.succeeds("-n", app_ns, "rollback", "1", "--yes")
    pod = cluster.get("StatefulSet", "mongo", app_ns)["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == RAN
