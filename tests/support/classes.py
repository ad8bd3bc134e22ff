"""The suite's StorageClasses as tests find and leave them, and what a test's namespace
leaves behind outside itself."""

from __future__ import annotations

import json
from collections.abc import Collection

import pytest

from pacdeploy.app import storage
from pacdeploy.kube.client import Cluster
from pacdeploy.restore import rules


def class_annotations(cluster: Cluster) -> dict[str, dict[str, str]]:
    """StorageClass name -> its annotations: which is default (both keys), pacdeploy's
    records, anything a test wrote."""
    return {
        sc["metadata"]["name"]: dict(sc["metadata"].get("annotations") or {})
        for sc in cluster.list("StorageClass")
    }


def others_purges_dropped(
    annotations: dict[str, dict[str, str]], ours: Collection[str]
) -> dict[str, dict[str, str]]:
    """``annotations`` without the purge records (`storage.PURGING`) that name a namespace
    not in ``ours``: a `down --purge` beside the test writes one on the suite's class for
    the seconds it runs (the suite's last process still finds any left behind)."""
    return {
        name: {
            key: value
            for key, value in found.items()
            if key != storage.PURGING or _purged_namespace(value) in ours
        }
        for name, found in annotations.items()
    }


def _purged_namespace(record: str) -> object:
    try:
        return (json.loads(record) or {}).get("namespace")
    except (ValueError, AttributeError):
        return None  # not a record pacdeploy wrote: every test sees it


def put_class_annotations_back(
    cluster: Cluster, before: dict[str, dict[str, str]], ours: Collection[str] | None = None
) -> list[str]:
    """Each class that still exists gets exactly the annotations it had in ``before``; the
    names of those that had changed. ``ours``: the test's namespaces, when other tests run
    beside it (their purge records are theirs, left alone)."""
    now = class_annotations(cluster)
    if ours is not None:
        now, before = others_purges_dropped(now, ours), others_purges_dropped(before, ours)
    changed = []
    for name, found in now.items():
        if name in before and found != before[name]:
            patch = {k: before[name].get(k) for k in found.keys() | before[name].keys()}
            cluster.merge_patch("StorageClass", name, {"metadata": {"annotations": patch}})
            changed.append(name)
    return changed


def classes_put_back(
    request: pytest.FixtureRequest, cluster: Cluster, before: dict, ours: Collection[str]
) -> None:
    """A test's StorageClass annotations put back; a test not alone must not have changed
    them (every test beside it sees the default class). ``ours``: its namespaces."""
    exclusive = request.node.get_closest_marker("exclusive") is not None
    changed = put_class_annotations_back(cluster, before, None if exclusive else ours)
    if changed and not exclusive:
        pytest.fail(
            f"changed StorageClass {', '.join(changed)} while other tests ran: "
            "mark it @pytest.mark.exclusive (tests/conftest.py)"
        )


def release_kept_volumes(cluster: Cluster, namespace: str) -> None:
    """Volumes a restore kept (Retain) outlive their namespace: a failed test's too."""
    selector = f"{rules.REPLACED_NAMESPACE}={namespace}"
    for volume in cluster.list("PersistentVolume", label_selector=selector):
        cluster.delete("PersistentVolume", volume["metadata"]["name"])
