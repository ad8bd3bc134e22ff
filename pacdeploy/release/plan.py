"""Deciding an `up`: read the cluster, check everything, decide every change; write nothing.

Every check (input, namespace state, StorageClass, ownership, a restore under way,
permissions needed) runs here, before the first write, so bad input never leaves the
cluster half-changed.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from pacdeploy.app import credentials, storage
from pacdeploy.app.manifests import (
    DEPLOYMENT,
    SECRET,
    STATEFULSET,
    Options,
    claim_size,
    is_managed,
    render,
    validate,
    with_claim_size,
)
from pacdeploy.data import moves
from pacdeploy.data.backups import mongo_claims
from pacdeploy.errors import Conflict, PermissionDenied
from pacdeploy.kube import fanout, permissions
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.permissions import Need
from pacdeploy.kube.resources import name_of, ref, ref_of, resource
from pacdeploy.release import preflight
from pacdeploy.release.fields import up_to_date, with_digest
from pacdeploy.release.resize import Resize, decide
from pacdeploy.restore.rules import intent_of

log = logging.getLogger(__name__)

WORKLOADS = [("StatefulSet", STATEFULSET), ("Deployment", DEPLOYMENT)]


@dataclass(frozen=True)
class Wanted:
    """What the user asked to deploy: the options `up` and `diff` share."""

    options: Options
    storage_class: str
    keep_default_class: bool = False
    replicas_given: bool = True  # False: keep the count `scale` set
    storage_size_given: bool = False  # False: keep the size mongo's volumes have
    stack_given: bool = False  # False: keep the stack whose MongoDB wrote the data here
    force: bool = False  # take over objects of the same name not made by pacdeploy


@dataclass(frozen=True)
class Change:
    ref: str
    action: str  # created, configured, unchanged, adopted, scaled, deleted, restored
    # The object as the write returned it (None: nothing written), for waits to start from.
    written: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass
class UpPlan:
    options: Options
    objects: list[dict[str, Any]]
    existing: dict[str, dict[str, Any] | None]
    secret: dict[str, Any] | None
    class_patches: list[storage.Patch]
    force: bool = False  # --force: objects not ours are taken over
    needs: set[Need] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    rules: permissions.Rules | None = None  # asked for beside the reads, when known to write
    classes: list[dict[str, Any]] = field(default_factory=list)  # the StorageClasses as read
    # refs of the objects an apply would change; the others are up to date and skipped
    stale: set[str] = field(default_factory=set)
    resize: Resize | None = None  # mongo's volumes grow first (--storage-size)
    nodes: dict[str, str] = field(default_factory=dict)  # schedulable node -> architecture

    @property
    def namespace_existed(self) -> bool:
        return self.existing[ref_of(self.objects[0])] is not None


def foreign_objects(
    existing: dict[str, dict[str, Any] | None], secret: dict[str, Any] | None
) -> list[str]:
    """The objects `up` would overwrite that pacdeploy did not create."""
    foreign = [r for r, e in existing.items() if e is not None and not is_managed(e)]
    if secret is not None and not is_managed(secret):
        foreign.append(ref("Secret", SECRET))
    return foreign


def scope(obj: dict[str, Any], namespace: str) -> str | None:
    """The namespace ``obj`` lives in, None for a cluster-scoped kind."""
    return namespace if resource(obj["kind"]).namespaced else None


def _terminating(ns: dict[str, Any] | None) -> bool:
    if ns is None:
        return False
    return (
        ns["metadata"].get("deletionTimestamp") is not None
        or ns.get("status", {}).get("phase") == "Terminating"
    )


def read_live(
    cluster: Cluster, objects: list[dict[str, Any]], namespace: dict[str, Any] | None
) -> dict[str, dict[str, Any] | None]:
    """ref -> the live object (None if absent) for rendered ``objects``, the namespace first.

    One LIST per kind, in parallel: a namespaced kind lists the whole namespace (so an object
    of the same name made by someone else is seen too), a cluster-scoped one asks by name.
    Nothing namespaced can exist in a namespace that does not.
    """
    ns_name = name_of(objects[0])

    def read(kind: str) -> list[dict[str, Any]]:
        names = [name_of(o) for o in objects if o["kind"] == kind]
        if resource(kind).namespaced:
            return cluster.list(kind, ns_name) if namespace is not None else []
        selector = f"metadata.name={names[0]}" if len(names) == 1 else None
        return cluster.list(kind, field_selector=selector)

    kinds = list(dict.fromkeys(o["kind"] for o in objects[1:]))
    found = {
        ref(kind, name_of(item)): {
            "apiVersion": resource(kind).api_version,  # list items carry neither
            "kind": kind,
            **item,
        }
        for kind, items in zip(kinds, fanout.each(read, kinds), strict=True)
        for item in items
    }
    return {ref_of(objects[0]): namespace, **{ref_of(o): found.get(ref_of(o)) for o in objects[1:]}}


def plan_up(
    cluster: Cluster, wanted: Wanted, manifests: list[dict[str, Any]] | None = None
) -> UpPlan:
    """Read the cluster and decide every change; raises before anything is written.

    ``manifests``: objects to apply instead of rendering the options (a recorded revision).
    """
    options = wanted.options
    validate(options)
    ns_name = options.namespace
    namespace, classes, nodes = fanout.together(
        lambda: cluster.get("Namespace", ns_name),
        lambda: cluster.list("StorageClass"),
        lambda: _nodes(cluster),
    )
    if _terminating(namespace):
        raise Conflict(
            f"namespace {ns_name} is being deleted (Terminating)",
            "Wait until it is gone (kubectl get ns -w) or choose another with -n",
        )
    moves.none_under_way(namespace, wanted.options.namespace, explicit=wanted.stack_given)
    storage.require(classes, wanted.storage_class)
    class_patches = (
        []
        if wanted.keep_default_class
        else storage.make_only_default(classes, wanted.storage_class)
    )

    objects = render(options) if manifests is None else copy.deepcopy(manifests)
    existing, secret, claims, warnings, rules = fanout.together(
        lambda: read_live(cluster, objects, namespace),
        lambda: cluster.get("Secret", SECRET, ns_name) if namespace else None,
        lambda: mongo_claims(cluster.list("PersistentVolumeClaim", ns_name)) if namespace else [],
        lambda: (
            []
            if options.volume_permissions
            else _volume_permission_warnings(cluster, classes, wanted.storage_class)
        ),
        # A first install certainly writes: ask for the rules now, beside the reads.
        lambda: permissions.rules_for(cluster, [ns_name, None]) if namespace is None else None,
    )
    _refuse(existing, secret, ns_name, force=wanted.force)
    sts = existing[ref("StatefulSet", STATEFULSET)]
    options = preflight.stack_here(options, wanted.stack_given, sts, claims=claims)
    verdict = preflight.check(options, nodes) if nodes is not None else None
    current = existing[ref("Deployment", DEPLOYMENT)]
    if not wanted.replicas_given and current is not None and manifests is None:
        # `up` keeps a count set by `scale`; only --replicas changes it.
        options = dataclasses.replace(options, replicas=current["spec"].get("replicas", 1))
    template = next(o for o in objects if o["kind"] == "StatefulSet")
    size, resize = decide(
        options.storage_size if wanted.storage_size_given else None,
        existing[ref("StatefulSet", STATEFULSET)],
        claims,
        classes=classes,
        default=claim_size(template),
    )
    options = dataclasses.replace(options, storage_size=size)
    if manifests is None:
        objects = render(options)
    else:
        with_claim_size(template, size)  # a recorded revision's volumes may since have grown

    objects = as_applied(objects, namespace, classes, wanted=wanted)
    plan = UpPlan(
        options,
        objects,
        existing,
        secret,
        class_patches,
        force=wanted.force,
        warnings=warnings,
        rules=rules,
        classes=classes,
        resize=resize,
        nodes=verdict.nodes if verdict else {},
    )
    plan.warnings += verdict.warnings if verdict else []
    plan.stale = {ref_of(o) for o in objects if not up_to_date(o, existing[ref_of(o)])}
    plan.needs = _needs_for_up(plan)
    return plan


def as_applied(
    objects: list[dict[str, Any]],
    namespace: dict[str, Any] | None,
    classes: list[dict[str, Any]],
    *,
    wanted: Wanted,
) -> list[dict[str, Any]]:
    """Rendered ``objects`` as `up` sends them: the Namespace records the default class
    (``namespace``: as it is live, None before the first `up`), each object its digest."""
    _record_storage_defaults(objects[0], namespace, classes, wanted=wanted)
    return [with_digest(o) for o in objects]


def _nodes(cluster: Cluster) -> list[dict[str, Any]] | None:
    """The cluster's nodes, for the preflight; None where listing them is forbidden (then
    nothing is checked: the wait still names a pod that cannot run)."""
    try:
        return cluster.list("Node")
    except PermissionDenied:
        log.info("cannot list nodes: whether the images run on them is not checked")
        return None


def _refuse(
    existing: dict[str, dict[str, Any] | None],
    secret: dict[str, Any] | None,
    namespace: str,
    *,
    force: bool,
) -> None:
    """What the live objects forbid: a restore under way, objects not ours, a Secret
    missing keys."""
    mongo = existing[ref("StatefulSet", STATEFULSET)]
    if mongo is not None and (under_way := intent_of(mongo)) is not None:
        raise Conflict(
            f"a restore from {under_way.source} is under way in namespace {namespace}",
            f"Nothing was changed. Finish it first: `{under_way.command(namespace)}`, or go "
            f"back: `pacdeploy restore --undo --yes -n {namespace}`",
        )
    foreign = foreign_objects(existing, secret)
    if foreign and not force:
        raise Conflict(
            f"{', '.join(foreign)} in namespace {namespace} exist but were not created by "
            "pacdeploy",
            "Nothing was changed. Delete them, pick another -n, or pass --force to take them over",
        )
    if secret is not None and (missing := credentials.missing_keys(secret)):
        raise Conflict(
            f"{ref('Secret', SECRET)} in namespace {namespace} lacks {', '.join(missing)}",
            "Add those keys or delete the Secret so pacdeploy generates one",
        )


def _volume_permission_warnings(
    cluster: Cluster, classes: list[dict[str, Any]], storage_class: str
) -> list[str]:
    """MongoDB runs as uid 1001: say so before `up` if its volume will not be writable."""
    sc = next(c for c in classes if name_of(c) == storage_class)
    try:
        driver = cluster.get("CSIDriver", sc.get("provisioner", ""))
    except PermissionDenied:
        log.info("cannot read CSIDriver %s; volume permissions not checked", sc.get("provisioner"))
        return []
    reason = storage.fsgroup_warning(sc, driver)
    if reason is None:
        return []
    return [
        f"{reason}, so MongoDB (uid 1001) may not be able to write its volume; "
        "pass --volume-permissions to chown it first"
    ]


def _record_storage_defaults(
    ns_obj: dict[str, Any],
    current: dict[str, Any] | None,
    classes: list[dict[str, Any]],
    *,
    wanted: Wanted,
) -> None:
    """Annotate the Namespace with the defaults before the first `up`, kept on later runs."""
    annotations = ns_obj["metadata"].setdefault("annotations", {})
    recorded = (current or {}).get("metadata", {}).get("annotations") or {}
    for key in (storage.PREVIOUS_DEFAULT, storage.MADE_DEFAULT):
        if key in recorded:
            annotations[key] = recorded[key]
    if wanted.keep_default_class or storage.PREVIOUS_DEFAULT in annotations:
        return
    annotations[storage.PREVIOUS_DEFAULT] = ",".join(storage.defaults(classes))
    annotations[storage.MADE_DEFAULT] = wanted.storage_class


def _needs_for_up(plan: UpPlan) -> set[Need]:
    """What the writes and the wait need (the reads have already succeeded). Nothing when
    there is nothing to write: with no change to protect, there is nothing to check."""
    ns = plan.options.namespace
    writes = [o for o in plan.objects if ref_of(o) in plan.stale]
    if not writes and plan.secret is not None and not plan.class_patches:
        return set()
    needs = {Need.on("patch", "StorageClass")} if plan.class_patches else set()
    for obj in writes:
        needs.add(Need.on("patch", obj["kind"], scope(obj, ns)))
        if plan.existing[ref_of(obj)] is None:
            needs.add(Need.on("create", obj["kind"], scope(obj, ns)))
    if plan.secret is None:
        needs.add(Need.on("create", "Secret", ns))
    if plan.resize is not None:
        needs |= {
            Need.on("patch", "PersistentVolumeClaim", ns),
            Need.on("delete", "StatefulSet", ns),
        }
    return needs | needs_for_wait(ns)


def needs_for_wait(ns: str) -> set[Need]:
    """What waiting for the workloads reads."""
    return {
        Need.on("get", "StatefulSet", ns),
        Need.on("get", "Deployment", ns),
        *(Need.on("list", kind, ns) for kind in ("Pod", "PersistentVolumeClaim", "Event")),
    }
