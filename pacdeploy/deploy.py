"""up, down and scale: check everything first, then change the cluster, then wait.

Every check (input, namespace state, StorageClass, ownership, permissions) runs before the
first write, so bad input never leaves the cluster half-changed.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pacdeploy import credentials, fields, permissions, storage, waiting
from pacdeploy.errors import Conflict, PermissionDenied
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import ref, ref_of, resource
from pacdeploy.manifests import (
    DEPLOYMENT,
    MANAGED_BY,
    SECRET,
    STATEFULSET,
    Options,
    is_managed,
    render,
    validate,
    validate_replicas,
)
from pacdeploy.output import Output
from pacdeploy.permissions import Need
from pacdeploy.restore import intent_of as restore_intent_of

log = logging.getLogger(__name__)

WORKLOADS = [("StatefulSet", STATEFULSET), ("Deployment", DEPLOYMENT)]
_DEPLOYMENT_REF = ref("Deployment", DEPLOYMENT)
# Apply order as data (lightkube's sort_objects): a rank applies once every lower one has,
# and deletion runs it backwards. The namespace holds everything; pods must not start before
# their ServiceAccount (and Secret); RBAC checks a non-admin's binding against its role's
# rules, so the binding waits for the role. Nothing else waits: the workloads' rollout is
# most of an `up`, so it starts as early as it can (pacman finds mongo by DNS name, not
# through the Service variables a pod only gets for Services older than itself).
APPLY_RANK = {
    "Namespace": 0,
    "ServiceAccount": 1,
    "Secret": 1,
    "NetworkPolicy": 1,  # in place before the pods it guards
    "ClusterRole": 1,
    "Role": 1,
    "Service": 2,
    "Ingress": 2,
    "ClusterRoleBinding": 2,
    "RoleBinding": 2,
    "StatefulSet": 2,
    "Deployment": 2,
}
APPLIED = "pacdeploy.io/applied"  # digest of what pacdeploy applied last
IGNORED_META = ("resourceVersion", "managedFields", "generation", "creationTimestamp", "uid")


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
    needs: set[Need] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    rules: permissions.Rules | None = None  # asked for beside the reads, when known to write
    classes: list[dict[str, Any]] = field(default_factory=list)  # the StorageClasses as read
    # refs of the objects an apply would change; the others are up to date and skipped
    stale: set[str] = field(default_factory=set)


def waves(objects: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The objects grouped by APPLY_RANK, lowest first; each group may go in parallel."""
    ranks = sorted({APPLY_RANK[o["kind"]] for o in objects})
    return [[o for o in objects if APPLY_RANK[o["kind"]] == rank] for rank in ranks]


def deletion_order(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What depends on others goes first: apply order, reversed."""
    return [o for wave in reversed(waves(objects)) for o in wave]


def foreign_objects(
    existing: dict[str, dict[str, Any] | None], secret: dict[str, Any] | None
) -> list[str]:
    """The objects `up` would overwrite that pacdeploy did not create."""
    foreign = [r for r, e in existing.items() if e is not None and not is_managed(e)]
    if secret is not None and not is_managed(secret):
        foreign.append(ref("Secret", SECRET))
    return foreign


def covers(live: Any, desired: Any) -> bool:
    """Every field ``desired`` sets has that value in ``live`` (which the server filled in
    with defaults and status): applying it would change nothing."""
    return not fields.drift(desired, live, ignore=())


def with_digest(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` annotated with a digest of itself, so an object that pacdeploy applied from
    another version of the manifests (a field since dropped) never looks up to date."""
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]
    metadata = obj["metadata"]
    annotations = {**(metadata.get("annotations") or {}), APPLIED: digest}
    return {**obj, "metadata": {**metadata, "annotations": annotations}}


def up_to_date(desired: dict[str, Any], live: dict[str, Any] | None) -> bool:
    """An apply of ``desired`` would change nothing: skip it (a no-op `up` writes nothing)."""
    return live is not None and is_managed(live) and covers(live, desired)


def unchanged_by_dry_run(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """A server-side dry run's result equals the live object, but for server-set fields."""
    return comparable(after) == comparable(before)


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


def _terminating(ns: dict[str, Any] | None) -> bool:
    if ns is None:
        return False
    return (
        ns["metadata"].get("deletionTimestamp") is not None
        or ns.get("status", {}).get("phase") == "Terminating"
    )


def _read_live(
    cluster: Cluster, objects: list[dict[str, Any]], namespace: dict[str, Any] | None
) -> dict[str, dict[str, Any] | None]:
    """ref -> the live object (None if absent) for rendered ``objects``, the namespace first.

    One LIST per kind, in parallel: a namespaced kind lists the whole namespace (so an object
    of the same name made by someone else is seen too), a cluster-scoped one asks by name.
    Nothing namespaced can exist in a namespace that does not.
    """
    ns_name = objects[0]["metadata"]["name"]

    def read(kind: str) -> list[dict[str, Any]]:
        names = [o["metadata"]["name"] for o in objects if o["kind"] == kind]
        if resource(kind).namespaced:
            return cluster.list(kind, ns_name) if namespace is not None else []
        selector = f"metadata.name={names[0]}" if len(names) == 1 else None
        return cluster.list(kind, field_selector=selector)

    kinds = list(dict.fromkeys(o["kind"] for o in objects[1:]))
    with ThreadPoolExecutor(max_workers=8) as pool:
        found = {
            ref(kind, item["metadata"]["name"]): {
                "apiVersion": resource(kind).api_version,  # list items carry neither
                "kind": kind,
                **item,
            }
            for kind, items in zip(kinds, pool.map(read, kinds), strict=True)
            for item in items
        }
    return {ref_of(objects[0]): namespace, **{ref_of(o): found.get(ref_of(o)) for o in objects[1:]}}


def plan_up(
    cluster: Cluster,
    options: Options,
    *,
    storage_class: str,
    keep_default_class: bool = False,
    replicas_given: bool = True,
    force: bool = False,
    manifests: list[dict[str, Any]] | None = None,
) -> UpPlan:
    """Read the cluster and decide every change; raises before anything is written.

    ``manifests``: objects to apply instead of rendering ``options`` (a recorded revision).
    """
    validate(options)
    ns_name = options.namespace
    with ThreadPoolExecutor(max_workers=2) as pool:  # independent reads: one round trip
        namespace_read = pool.submit(cluster.get, "Namespace", ns_name)
        classes_read = pool.submit(cluster.list, "StorageClass")
        namespace, classes = namespace_read.result(), classes_read.result()
    if _terminating(namespace):
        raise Conflict(
            f"namespace {ns_name} is being deleted (Terminating)",
            "Wait until it is gone (kubectl get ns -w) or choose another with -n",
        )
    storage.require(classes, storage_class)
    class_patches = [] if keep_default_class else storage.make_only_default(classes, storage_class)

    objects = render(options) if manifests is None else copy.deepcopy(manifests)
    with ThreadPoolExecutor(max_workers=4) as pool:  # independent reads: one round trip
        live = pool.submit(_read_live, cluster, objects, namespace)
        # A first install certainly writes: ask for the rules now, beside the reads.
        rules = (
            pool.submit(permissions.rules_for, cluster, [ns_name, None])
            if namespace is None
            else None
        )
        secret_read = pool.submit(cluster.get, "Secret", SECRET, ns_name) if namespace else None
        warnings = (
            pool.submit(_volume_permission_warnings, cluster, classes, storage_class)
            if not options.volume_permissions
            else None
        )
        existing = live.result()
        secret = secret_read.result() if secret_read else None
        plan_warnings = warnings.result() if warnings else []
        prefetched = rules.result() if rules else None
    current = existing[ref("Deployment", DEPLOYMENT)]
    if not replicas_given and current is not None and manifests is None:
        # `up` keeps a count set by `scale`; only --replicas changes it.
        options = dataclasses.replace(options, replicas=current["spec"].get("replicas", 1))
        objects = render(options)

    mongo = existing[ref("StatefulSet", STATEFULSET)]
    if mongo is not None and (under_way := restore_intent_of(mongo)) is not None:
        raise Conflict(
            f"a restore from {under_way.source} is under way in namespace {ns_name}",
            f"Nothing was changed. Finish it first: `{under_way.command(ns_name)}`, or go back: "
            f"`pacdeploy restore --undo --yes -n {ns_name}`",
        )
    foreign = foreign_objects(existing, secret)
    if foreign and not force:
        raise Conflict(
            f"{', '.join(foreign)} in namespace {ns_name} exist but were not created by pacdeploy",
            "Nothing was changed. Delete them, pick another -n, or pass --force to take them over",
        )
    if secret is not None and (missing := credentials.missing_keys(secret)):
        raise Conflict(
            f"{ref('Secret', SECRET)} in namespace {ns_name} lacks {', '.join(missing)}",
            "Add those keys or delete the Secret so pacdeploy generates one",
        )

    _record_storage_defaults(objects[0], namespace, classes, storage_class, keep_default_class)
    objects = [with_digest(o) for o in objects]
    plan = UpPlan(
        options,
        objects,
        existing,
        secret,
        class_patches,
        warnings=plan_warnings,
        rules=prefetched,
        classes=classes,
    )
    plan.stale = {ref_of(o) for o in objects if not up_to_date(o, existing[ref_of(o)])}
    plan.needs = _needs_for_up(plan)
    return plan


def _volume_permission_warnings(
    cluster: Cluster, classes: list[dict[str, Any]], storage_class: str
) -> list[str]:
    """MongoDB runs as uid 1001: say so before `up` if its volume will not be writable."""
    sc = next(c for c in classes if c["metadata"]["name"] == storage_class)
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
    storage_class: str,
    keep_default_class: bool,
) -> None:
    """Annotate the Namespace with the defaults before the first `up`, kept on later runs."""
    annotations = ns_obj["metadata"].setdefault("annotations", {})
    recorded = (current or {}).get("metadata", {}).get("annotations") or {}
    for key in (storage.PREVIOUS_DEFAULT, storage.MADE_DEFAULT):
        if key in recorded:
            annotations[key] = recorded[key]
    if keep_default_class or storage.PREVIOUS_DEFAULT in annotations:
        return
    annotations[storage.PREVIOUS_DEFAULT] = ",".join(storage.defaults(classes))
    annotations[storage.MADE_DEFAULT] = storage_class


def _needs_for_up(plan: UpPlan) -> set[Need]:
    """What the writes and the wait need (the reads have already succeeded). Nothing when
    there is nothing to write: with no change to protect, there is nothing to check."""
    ns = plan.options.namespace
    writes = [o for o in plan.objects if ref_of(o) in plan.stale]
    if not writes and plan.secret is not None and not plan.class_patches:
        return set()
    needs = {Need.on("patch", "StorageClass")} if plan.class_patches else set()
    for obj in writes:
        scope = _scope(obj, ns)
        needs.add(Need.on("patch", obj["kind"], scope))
        if plan.existing[ref_of(obj)] is None:
            needs.add(Need.on("create", obj["kind"], scope))
    if plan.secret is None:
        needs.add(Need.on("create", "Secret", ns))
    return needs | _needs_for_wait(ns)


def _needs_for_wait(ns: str) -> set[Need]:
    return {
        Need.on("get", "StatefulSet", ns),
        Need.on("get", "Deployment", ns),
        *(Need.on("list", kind, ns) for kind in ("Pod", "PersistentVolumeClaim", "Event")),
    }


def comparable(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    meta = {k: v for k, v in obj["metadata"].items() if k not in IGNORED_META}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def apply_up(
    cluster: Cluster, plan: UpPlan, *, force: bool = False, dry_run: bool = False
) -> list[Change]:
    """Make the cluster match the plan; a second run reports everything unchanged.

    Objects go in the waves of APPLY_RANK; within a wave, in parallel.
    """
    if plan.needs:
        permissions.require(cluster, plan.needs, "deploy pacman", plan.rules)
    first, *rest = waves(plan.objects)
    ns_existed = plan.existing[ref_of(plan.objects[0])] is not None
    changes = [_apply_one(cluster, plan, o, ns_existed, force, dry_run) for o in first]
    with ThreadPoolExecutor(max_workers=8) as pool:

        def apply(obj: dict[str, Any]) -> Change:
            return _apply_one(cluster, plan, obj, ns_existed, force, dry_run)

        # The Secret and the default class go with the next wave: both must be in place
        # before the workloads (their pods read the one, their claims take the other).
        secret = pool.submit(_ensure_secret, cluster, plan, dry_run)
        classes = pool.submit(_default_class, cluster, plan, dry_run)
        second, *later = rest or [[]]
        applied = list(pool.map(apply, second))
        changes += [secret.result(), *classes.result()]
        for wave in later:
            applied += pool.map(apply, wave)
    return changes + applied


def _apply_one(
    cluster: Cluster,
    plan: UpPlan,
    obj: dict[str, Any],
    ns_existed: bool,
    force: bool,
    dry_run: bool,
) -> Change:
    before = plan.existing[ref_of(obj)]
    if ref_of(obj) not in plan.stale:
        return Change(ref_of(obj), "unchanged")
    if dry_run and resource(obj["kind"]).namespaced and not ns_existed:
        return Change(ref_of(obj), "created")  # the server cannot dry-run into a new namespace
    if before is not None and not is_managed(before) and not dry_run:
        # --force: replace the foreign object whole, then own every field we apply.
        cluster.replace(obj, before)
    after = cluster.apply(obj, force=force, dry_run=dry_run)
    written = None if dry_run else after
    if before is None:
        return Change(ref_of(obj), "created", written)
    if dry_run:
        same = unchanged_by_dry_run(before, after)
    else:
        same = after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    return Change(ref_of(obj), "unchanged" if same else "configured", written)


def _ensure_secret(cluster: Cluster, plan: UpPlan, dry_run: bool) -> Change:
    if plan.secret is not None:
        adopt = not is_managed(plan.secret)
        if adopt and not dry_run:  # --force: keep the user's credentials, mark them ours
            cluster.merge_patch(
                "Secret", SECRET, {"metadata": {"labels": MANAGED_BY}}, plan.options.namespace
            )
        return Change(ref("Secret", SECRET), "adopted" if adopt else "unchanged")
    if not dry_run:
        try:
            cluster.create(credentials.new_secret(plan.options.namespace))
        except Conflict:
            # A retried create whose first attempt landed: ours already, keep it as it is.
            existing = cluster.get("Secret", SECRET, plan.options.namespace)
            if existing is None or not is_managed(existing):
                raise
    return Change(ref("Secret", SECRET), "created")


def _default_class(cluster: Cluster, plan: UpPlan, dry_run: bool) -> list[Change]:
    if not dry_run:
        storage.apply_patches(cluster, plan.class_patches)
    return [Change(ref("StorageClass", name), "configured") for name, _ in plan.class_patches]


def wait_up(
    cluster: Cluster,
    plan: UpPlan,
    timeout: float,
    out: Output,
    changes: Sequence[Change] = (),
) -> None:
    """Wait for both workloads, each watched from the last version seen of it: as `up` just
    wrote it, else as the plan read it (nothing is listed again)."""
    read = {ref(kind, name): plan.existing[ref(kind, name)] for kind, name in WORKLOADS}
    known = {r: obj for r, obj in read.items() if obj is not None}
    known.update({c.ref: c.written for c in changes if c.written is not None})
    waiting.wait_ready(cluster, plan.options.namespace, WORKLOADS, timeout, out, known)


# -- scale -----------------------------------------------------------------------
def scale(cluster: Cluster, namespace: str, replicas: int, timeout: float, out: Output) -> Change:
    validate_replicas(replicas)
    needs = {Need.on("patch", "Deployment", namespace, "scale"), *_needs_for_wait(namespace)}
    with ThreadPoolExecutor(max_workers=2) as pool:  # both before any change, in parallel
        allowed = pool.submit(permissions.require, cluster, needs, f"scale {_DEPLOYMENT_REF}")
        current = pool.submit(waiting.require, cluster, "Deployment", DEPLOYMENT, namespace)
        before = current.result()
        allowed.result()
    patch = {"spec": {"replicas": replicas}}
    scale = cluster.merge_patch("Deployment", DEPLOYMENT, patch, namespace, subresource="scale")
    written = as_scaled(before, scale)  # watched from there: no read between write and wait
    waiting.wait_ready(
        cluster, namespace, [("Deployment", DEPLOYMENT)], timeout, out, {_DEPLOYMENT_REF: written}
    )
    same = before["spec"].get("replicas") == replicas
    return Change(_DEPLOYMENT_REF, "unchanged" if same else "scaled")


def as_scaled(before: dict[str, Any], scale: dict[str, Any]) -> dict[str, Any]:
    """The Deployment ``before`` as a write to its Scale subresource (``scale``, as the
    server returned it) left it: a new count, version and, if the count changed, generation;
    its status is still the controller's last word."""
    replicas = scale["spec"].get("replicas", 0)
    meta = dict(before["metadata"], resourceVersion=scale["metadata"]["resourceVersion"])
    if replicas != before["spec"].get("replicas", 1):
        meta["generation"] = before["metadata"].get("generation", 1) + 1
    return {**before, "metadata": meta, "spec": {**before["spec"], "replicas": replicas}}


# -- down ------------------------------------------------------------------------
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
    with ThreadPoolExecutor(max_workers=2) as pool:
        live = pool.submit(_read_live, cluster, objects, ns_obj)
        classes = pool.submit(cluster.list, "StorageClass") if purge else None
        targets = down_targets(objects, live.result(), purge=purge)
        class_list = classes.result() if classes else []
    unfinished = storage.purging(class_list, namespace)
    if not targets:  # a purge killed after its namespace went: only the classes are left
        return _give_default_back(cluster, class_list, unfinished) if purge else []
    permissions.require(
        cluster,
        {Need.on("delete", o["kind"], _scope(o, namespace)) for o in targets}
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
        pods = f"name in ({DEPLOYMENT},{STATEFULSET})"
        waiting.wait_pods_gone(cluster, namespace, pods, deadline - time.monotonic())
    if purge and ns_obj is not None:
        if cluster.delete("Namespace", namespace):
            changes.append(Change(ref("Namespace", namespace), "deleted"))
        waiting.wait_gone(cluster, "Namespace", namespace, deadline - time.monotonic(), out)
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
    with ThreadPoolExecutor(max_workers=8) as pool:  # within a wave, in parallel
        for wave in reversed(waves(objects)):
            deleted = list(pool.map(lambda o: cluster.delete(*_address(o)), wave))
            changes += [
                Change(ref_of(o), "deleted") for o, gone in zip(wave, deleted, strict=True) if gone
            ]
    return changes


def _address(obj: dict[str, Any]) -> tuple[str, str, str | None]:
    meta = obj["metadata"]
    return obj["kind"], meta["name"], meta.get("namespace")


def _scope(obj: dict[str, Any], namespace: str) -> str | None:
    return namespace if resource(obj["kind"]).namespaced else None
