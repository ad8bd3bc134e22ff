"""Deciding an `up`: read the cluster, check everything, decide every change; write nothing.

Every check (input, namespace state, StorageClass, ownership, a restore under way,
permissions needed) runs here, before the first write, so bad input never leaves the
cluster half-changed.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Mapping
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
from pacdeploy.release import needs, preflight
from pacdeploy.release.fields import up_to_date, with_digest
from pacdeploy.release.resize import Resize, decide
from pacdeploy.release.wanted import Wanted
from pacdeploy.restore.intent import intent_of

log = logging.getLogger(__name__)

WORKLOADS = [("StatefulSet", STATEFULSET), ("Deployment", DEPLOYMENT)]


@dataclass(frozen=True)
class UpPlan:
    """Every change `up` would make, decided once: nothing changes it afterwards (a step
    that learns something, like the StatefulSet replaced, makes a new plan)."""

    options: Options
    objects: tuple[dict[str, Any], ...]
    existing: Mapping[str, dict[str, Any] | None]
    secret: dict[str, Any] | None
    class_patches: tuple[storage.Patch, ...]
    force: bool = False  # --force: objects not ours are taken over
    needs: frozenset[Need] = frozenset()
    warnings: tuple[str, ...] = ()
    rules: permissions.Rules | None = None  # asked for beside the reads, when known to write
    classes: tuple[dict[str, Any], ...] = ()  # the StorageClasses as read
    # refs of the objects an apply would change; the others are up to date and skipped
    stale: frozenset[str] = frozenset()
    resize: Resize | None = None  # mongo's volumes grow first (--storage-size)
    nodes: Mapping[str, str] = field(default_factory=dict)  # schedulable node -> architecture

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
    validate(wanted.options)
    ns_name, options = wanted.options.namespace, wanted.options
    namespace, classes, nodes = _read_namespace_and_classes(cluster, wanted)
    objects = render(options) if manifests is None else copy.deepcopy(manifests)
    existing, secret, claims, warnings, rules = _read_app(
        cluster, wanted, namespace=namespace, classes=classes, objects=objects
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
    options, resize = _size_kept(
        wanted, options, existing, claims=claims, classes=classes, template=template
    )
    if manifests is None:
        objects = render(options)
    else:  # a recorded revision's volumes may since have grown
        with_claim_size(template, options.storage_size)
    applied = tuple(as_applied(objects, namespace, classes, wanted=wanted))
    stale = frozenset(ref_of(o) for o in applied if not up_to_date(o, existing[ref_of(o)]))
    patches = (
        ()
        if wanted.keep_default_class
        else storage.make_only_default(classes, wanted.storage_class)
    )
    writes = [(o, existing[ref_of(o)] is not None) for o in applied if ref_of(o) in stale]
    return UpPlan(
        options,
        applied,
        existing,
        secret,
        tuple(patches),
        force=wanted.force,
        needs=needs.for_up(
            ns_name,
            writes,
            creates_secret=secret is None,
            patches_classes=bool(patches),
            resizes=resize is not None,
        ),
        warnings=tuple(warnings + (verdict.warnings if verdict else [])),
        rules=rules,
        classes=tuple(classes),
        stale=stale,
        resize=resize,
        nodes=verdict.nodes if verdict else {},
    )


def _read_app(
    cluster: Cluster,
    wanted: Wanted,
    *,
    namespace: dict[str, Any] | None,
    classes: list[dict[str, Any]],
    objects: list[dict[str, Any]],
) -> tuple[
    dict[str, dict[str, Any] | None],
    dict[str, Any] | None,
    list[dict[str, Any]],
    list[str],
    permissions.Rules | None,
]:
    """The second round, the widest of all (as many connections open ahead: cli/rounds.py):
    the live ``objects``, the Secret, mongo's claims, the volume-permission warnings and,
    for a first install (which certainly writes), the rules, asked for beside the reads."""
    ns_name, options = wanted.options.namespace, wanted.options
    return fanout.together(
        lambda: read_live(cluster, objects, namespace),
        lambda: cluster.get("Secret", SECRET, ns_name) if namespace else None,
        lambda: mongo_claims(cluster.list("PersistentVolumeClaim", ns_name)) if namespace else [],
        lambda: (
            []
            if options.volume_permissions
            else storage.volume_permission_warnings(cluster, classes, wanted.storage_class)
        ),
        lambda: permissions.rules_for(cluster, [ns_name, None]) if namespace is None else None,
    )


def _read_namespace_and_classes(
    cluster: Cluster, wanted: Wanted
) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]] | None]:
    """The first round: the namespace, the StorageClasses and the nodes. Refuses a
    namespace being deleted, a move under way there and a StorageClass that is not."""
    ns_name = wanted.options.namespace
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
    moves.none_under_way(namespace, ns_name, explicit=wanted.stack_given)
    storage.require(classes, wanted.storage_class)
    return namespace, classes, nodes


def _size_kept(
    wanted: Wanted,
    options: Options,
    existing: dict[str, dict[str, Any] | None],
    *,
    claims: list[dict[str, Any]],
    classes: list[dict[str, Any]],
    template: dict[str, Any],
) -> tuple[Options, Resize | None]:
    """The size mongo's volumes have, kept (``template``'s at first): only --storage-size
    grows them, and the growing to do first."""
    size, resize = decide(
        options.storage_size if wanted.storage_size_given else None,
        existing[ref("StatefulSet", STATEFULSET)],
        claims,
        classes=classes,
        default=claim_size(template),
    )
    return dataclasses.replace(options, storage_size=size), resize


def as_applied(
    objects: list[dict[str, Any]],
    namespace: dict[str, Any] | None,
    classes: list[dict[str, Any]],
    *,
    wanted: Wanted,
) -> list[dict[str, Any]]:
    """Rendered ``objects`` as `up` sends them: the Namespace records the default class
    (``namespace``: as it is live, None before the first `up`), each object its digest."""
    storage.record_defaults(
        objects[0],
        namespace,
        classes,
        storage_class=wanted.storage_class,
        keep_default=wanted.keep_default_class,
    )
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
