"""`down`: remove what pacdeploy made, never the data; `--purge` takes the namespace (its
Secret and volumes) too, and gives the cluster back the default StorageClass it had.

A purge survives being killed: before its first deletion it records, on the class it made
default, what to give back (`storage.PURGING`); the last step patches the classes and
clears that record, and a re-run finds it and finishes.
"""

from __future__ import annotations

import time
from typing import Any

from pacdeploy.app import storage
from pacdeploy.app.manifests import DEPLOYMENT, STATEFULSET, Options, is_managed, render
from pacdeploy.errors import Conflict
from pacdeploy.kube import fanout, permissions
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.permissions import Need
from pacdeploy.kube.resources import ref, ref_of, resource
from pacdeploy.output import Output
from pacdeploy.release.apply import waves
from pacdeploy.release.change import Change
from pacdeploy.release.needs import scope
from pacdeploy.release.plan import read_live
from pacdeploy.wait import gone

APP_PODS = f"name in ({DEPLOYMENT},{STATEFULSET})"


def deletion_order(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What depends on others goes first: apply order, reversed."""
    return [o for wave in reversed(waves(objects)) for o in wave]


def down_targets(
    objects: list[dict[str, Any]],
    live: dict[str, dict[str, Any] | None],
    *,
    purge: bool,
) -> list[dict[str, Any]]:
    """What `down` deletes, in order: only what pacdeploy made, never the data.

    Without --purge the namespace (with its Secret and PVCs) stays. With it the namespace
    goes last, taking along whatever else is in it.
    """
    ns, rest = objects[0], objects[1:]
    targets = [o for o in rest if (e := live.get(ref_of(o))) is not None and is_managed(e)]
    if purge and live.get(ref_of(ns)) is not None:
        targets.append(ns)
    return deletion_order(targets)


def down(
    cluster: Cluster, namespace: str, *, purge: bool, timeout: float, out: Output
) -> list[Change]:
    """Remove the app. Without purge the namespace, Secret and PVCs (the data) stay."""
    ns_obj = cluster.get("Namespace", namespace)
    if purge and ns_obj is not None and not is_managed(ns_obj):
        raise Conflict(
            f"namespace {namespace} was not created by pacdeploy; refusing to purge it",
            "Run `pacdeploy down` without --purge, or delete the namespace yourself",
        )
    objects = render(Options(namespace=namespace, ingress=True))
    live, class_list = fanout.together(
        lambda: read_live(cluster, objects, ns_obj),
        lambda: cluster.list("StorageClass") if purge else [],
    )
    targets = down_targets(objects, live, purge=purge)
    unfinished = storage.purging(class_list, namespace)
    if not targets:  # a purge killed after its namespace went: only the classes are left
        return _give_default_back(cluster, class_list, unfinished) if purge else []
    permissions.require(
        cluster,
        {Need.on("delete", o["kind"], scope(o, namespace)) for o in targets}
        | ({Need.on("patch", "StorageClass")} if purge else set()),
        "remove pacman",
    )
    made = ((ns_obj or {}).get("metadata", {}).get("annotations") or {}).get(storage.MADE_DEFAULT)
    previous = storage.parse_previous(ns_obj)
    if purge and made and previous is not None and unfinished is None:
        cluster.merge_patch("StorageClass", made, storage.purge_record(namespace, previous))
        unfinished = (made, previous)
    deadline = time.monotonic() + timeout
    app = [o for o in targets if o["kind"] != "Namespace"]
    changes = _delete_in_waves(cluster, app)
    if any(resource(o["kind"]).namespaced for o in app):
        # Before the namespace: its controller, finding pods still terminating, comes back
        # only after their grace period (--purge on the sandbox: 16 -> 11 s).
        gone.wait_pods_gone(
            cluster, namespace, APP_PODS, timeout=deadline - time.monotonic(), out=out
        )
    if purge and ns_obj is not None:
        if cluster.delete("Namespace", namespace):
            changes.append(Change(ref("Namespace", namespace), "deleted"))
        gone.wait_gone(
            cluster, "Namespace", namespace, timeout=deadline - time.monotonic(), out=out
        )
        changes += _give_default_back(cluster, cluster.list("StorageClass"), unfinished)
    return changes


def _give_default_back(
    cluster: Cluster, classes: list[dict[str, Any]], unfinished: tuple[str, list[str]] | None
) -> list[Change]:
    """The last step of a purge: the classes default before `up` are again, and the record
    of the purge goes (the step a re-run finishes)."""
    if unfinished is None:
        return []
    made, previous = unfinished
    patches = storage.restore(classes, previous, made)
    storage.apply_patches(cluster, patches)
    cluster.merge_patch(
        "StorageClass", made, {"metadata": {"annotations": {storage.PURGING: None}}}
    )
    return [Change(ref("StorageClass", name), "restored") for name, _ in patches]


def _delete_in_waves(cluster: Cluster, objects: list[dict[str, Any]]) -> list[Change]:
    changes = []
    for wave in reversed(waves(objects)):  # within a wave, in parallel
        deleted = fanout.each(lambda o: cluster.delete(*_address(o)), wave)
        changes += [
            Change(ref_of(o), "deleted") for o, done in zip(wave, deleted, strict=True) if done
        ]
    return changes


def _address(obj: dict[str, Any]) -> tuple[str, str, str | None]:
    meta = obj["metadata"]
    return obj["kind"], meta["name"], meta.get("namespace")
