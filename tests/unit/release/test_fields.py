"""Field comparisons: the digest up records, what diff shows, what counts as drift."""

from __future__ import annotations

from pacdeploy.app.manifests import Options, render
from pacdeploy.kube.resources import ref_of
from pacdeploy.release import fields
from pacdeploy.release.fields import FieldChange, drift, dry_run_changes, field_changes
from tests.support.rendered import OBJECTS


def test_a_recorded_manifest_drops_the_digest_that_up_recomputes() -> None:
    obj = fields.with_digest(render(Options())[0])
    assert fields.APPLIED not in fields.without_digest(obj)["metadata"].get("annotations", {})
    assert fields.with_digest(fields.without_digest(obj)) == obj


def test_named_lists_are_compared_by_name() -> None:
    live = {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}
    desired = {"containers": [{"name": "b", "image": "y"}, {"name": "a", "image": "z"}]}
    assert field_changes(live, desired) == [FieldChange("containers[a].image", "x", "z")]
    assert field_changes({"args": [1, 2]}, {"args": [2, 1]}) == [
        FieldChange("args", [1, 2], [2, 1])
    ]


def test_the_digest_is_shown_only_when_it_is_the_only_change() -> None:
    def obj(replicas: int, digest: str) -> dict:
        return {
            "metadata": {
                "name": "p",
                "annotations": {fields.APPLIED: digest},
                "resourceVersion": digest,
            },
            "spec": {"replicas": replicas},
            "status": {"readyReplicas": 1},
        }

    assert [c.path for c in dry_run_changes(obj(1, "a"), obj(3, "b"))] == ["spec.replicas"]
    assert [c.path for c in dry_run_changes(obj(1, "a"), obj(1, "b"))] == [
        f"metadata.annotations.{fields.APPLIED}"
    ]
    assert dry_run_changes(obj(1, "a"), obj(1, "a")) == []


def test_drift_is_a_field_that_no_longer_holds_what_was_applied() -> None:
    applied = {
        "metadata": {"name": "pacman", "labels": {"name": "pacman"}},
        "spec": {
            "replicas": 1,
            "template": {"spec": {"containers": [{"name": "pacman", "image": "app:v1"}]}},
        },
    }
    live = {
        "metadata": {"name": "pacman", "labels": {"name": "pacman"}, "uid": "u", "generation": 3},
        "spec": {
            "replicas": 10,  # pacdeploy scale: not drift
            "template": {
                "spec": {
                    "containers": [{"name": "pacman", "image": "app:v2", "imagePullPolicy": "X"}]
                }
            },
        },
        "status": {"readyReplicas": 10},
    }
    assert drift(applied, live) == [
        FieldChange("spec.template.spec.containers[pacman].image", "app:v2", "app:v1")
    ]
    assert drift(applied, {**live, "spec": {**applied["spec"], "replicas": 10}}) == []
    # up compares the same way, replicas included
    assert not fields.covers(live, applied)


def test_dry_run_comparison_ignores_server_set_fields():
    before = {
        "kind": "Service",
        "metadata": {"name": "pacman", "resourceVersion": "1", "uid": "a", "labels": {"x": "1"}},
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {}},
    }
    after = {**before, "metadata": {**before["metadata"], "resourceVersion": "2"}, "status": {}}
    assert fields.unchanged_by_dry_run(before, after)
    changed = {**after, "spec": {"type": "NodePort"}}
    assert not fields.unchanged_by_dry_run(before, changed)


def test_an_object_the_server_only_filled_in_is_up_to_date():
    service = next(o for o in OBJECTS if ref_of(o) == "service/pacman")
    desired = fields.with_digest(service)
    live = {
        **desired,
        "metadata": {**desired["metadata"], "resourceVersion": "7", "uid": "u"},
        "spec": {
            **desired["spec"],
            "clusterIP": "10.0.0.9",
            "ports": [{**p, "protocol": "TCP"} for p in desired["spec"]["ports"]],
        },
        "status": {},
    }
    assert fields.up_to_date(desired, live)


def test_drift_a_missing_object_or_another_manifest_version_is_not_up_to_date():
    desired = fields.with_digest(next(o for o in OBJECTS if o["kind"] == "Deployment"))
    assert not fields.up_to_date(desired, None)
    drifted = {**desired, "spec": {**desired["spec"], "replicas": 5}}
    assert not fields.up_to_date(desired, drifted)
    # Same fields, but applied from other manifests: the digest differs, so apply again.
    older = fields.with_digest({**desired, "metadata": {**desired["metadata"], "x": 1}})
    assert not fields.up_to_date(desired, {**desired, "metadata": older["metadata"]})
    foreign = {**desired, "metadata": {**desired["metadata"], "labels": {}}}
    assert not fields.up_to_date(desired, foreign)
