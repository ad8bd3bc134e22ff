"""Revisions: which is live, how many are kept, what a ConfigMap holds and the history shows."""

from __future__ import annotations

from pacdeploy.app.manifests import MANAGED_BY, Options, render
from pacdeploy.data import revisions
from pacdeploy.data.revisions import DEPLOYED, FAILED, SUPERSEDED, Revision
from tests.support.records import rev


def test_only_the_newest_deployed_revision_is_live() -> None:
    shown = revisions.shown_status([rev(1), rev(2), rev(3, FAILED), rev(4, "pending")])
    assert shown == {1: SUPERSEDED, 2: DEPLOYED, 3: FAILED, 4: "pending"}


def test_history_keeps_the_newest_ten() -> None:
    history = [rev(n) for n in range(1, 13)]
    assert [r.number for r in revisions.expired(history)] == [1, 2]
    assert revisions.expired(history[:10]) == []
    assert revisions.next_number(history) == 13
    assert revisions.next_number([]) == 1


def test_a_revision_survives_its_configmap() -> None:
    """(That it holds no credential is checked where credentials exist: after a real `up`,
    in test_app.py's test_up_from_nothing_...)"""
    objects = render(Options(pacman_image="example.org/pacman:v2"))
    original = Revision(
        7,
        Options(pacman_image="example.org/pacman:v2"),
        "standard",
        objects,
        "deployment/pacman configured",
        backup="before-v7",
    )
    cm = revisions.to_configmap(original, "pacman")
    assert cm["metadata"]["name"] == "pacdeploy.v7"
    assert cm["metadata"]["labels"] == {**MANAGED_BY, revisions.REVISION_LABEL: "7"}
    assert revisions.from_configmap(cm) == original


def test_describe_names_only_what_changed() -> None:
    assert revisions.describe(
        [("deployment/pacman", "configured"), ("service/mongo", "unchanged")]
    ) == ("deployment/pacman configured")
    assert revisions.describe([("service/mongo", "unchanged")]) == "no change"


def test_a_first_install_is_summed_up_and_other_changes_are_listed():
    created = ["namespace/shop created", *(f"service/s{i} created" for i in range(12))]
    assert revisions.summary(", ".join(created)) == "install (13 objects)"
    assert revisions.summary("deployment/pacman configured") == "deployment/pacman configured"
    assert revisions.summary("rollback to 1 (--atomic, after 2 failed)").startswith("rollback")


DIGEST = "sha256:" + "c" * 64


def test_a_revision_records_the_digest_each_ready_container_ran():
    ready = {
        "spec": {"containers": [{"name": "mongo", "image": "docker.io/library/mongo:8.0.26"}]},
        "status": {
            "containerStatuses": [
                {"name": "mongo", "ready": True, "imageID": f"docker.io/library/mongo@{DIGEST}"}
            ]
        },
    }
    assert revisions.ran([ready]) == {"mongo": f"docker.io/library/mongo:8.0.26@{DIGEST}"}
    ready["status"]["containerStatuses"][0]["imageID"] = ""  # no digest reported
    assert revisions.ran([ready]) == {}


def test_a_rollback_applies_the_recorded_digests_to_containers_and_their_init_twins():
    manifests = render(Options(stack="lesson", volume_permissions=True))
    images = {"mongo": f"docker.io/bitnamilegacy/mongodb:4.4.8@{DIGEST}"}
    pinned = revisions.pinned(manifests, images)
    (sts,) = [o for o in pinned if o["kind"] == "StatefulSet"]
    pod = sts["spec"]["template"]["spec"]
    assert {c["image"] for c in [*pod["initContainers"], *pod["containers"]]} == {images["mongo"]}
    (dep,) = [o for o in pinned if o["kind"] == "Deployment"]
    assert dep == next(o for o in manifests if o["kind"] == "Deployment")  # none recorded
    assert manifests != pinned  # the recorded manifests are not changed


def test_revisions_keep_their_images_and_old_records_read_as_the_lesson_stack():
    revision = revisions.Revision(1, Options(), "standard", [], "install", images={"mongo": "m@x"})
    cm = revisions.to_configmap(revision, "ns")
    assert revisions.from_configmap(cm).images == {"mongo": "m@x"}
    assert revisions.from_configmap(cm).options.stack == "modern"
    cm["data"]["options"] = '{"namespace": "ns"}'  # recorded before stacks existed
    del cm["data"]["images"]
    old = revisions.from_configmap(cm)
    assert old.options.stack == "lesson" and old.images == {}
