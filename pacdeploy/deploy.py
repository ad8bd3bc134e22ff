"""up, down and scale: check everything first, then change the cluster, then wait.

Every check (input, namespace state, StorageClass, ownership, permissions) runs before the
first write, so bad input never leaves the cluster half-changed.
"""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pacdeploy import credentials, permissions, storage, waiting
from pacdeploy.cluster import KINDS, Cluster
from pacdeploy.errors import Conflict, PermissionDenied
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
from pacdeploy.permissions import Need

log = logging.getLogger(__name__)

WORKLOADS = [("StatefulSet", STATEFULSET), ("Deployment", DEPLOYMENT)]
SECOND_WAVE = {"ClusterRoleBinding", "RoleBinding", "StatefulSet", "Deployment"}
IGNORED_META = ("resourceVersion", "managedFields", "generation", "creationTimestamp", "uid")


def ref(obj: dict[str, Any]) -> str:
    return f"{obj['kind'].lower()}/{obj['metadata']['name']}"


@dataclass(frozen=True)
class Change:
    ref: str
    action: str  # created, configured, unchanged, adopted, scaled, deleted, restored


@dataclass
class UpPlan:
    options: Options
    objects: list[dict[str, Any]]
    existing: dict[str, dict[str, Any] | None]
    secret: dict[str, Any] | None
    class_patches: list[storage.Patch]
    needs: set[Need] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


def _terminating(ns: dict[str, Any] | None) -> bool:
    return bool(ns) and (
        ns["metadata"].get("deletionTimestamp") is not None
        or ns.get("status", {}).get("phase") == "Terminating"
    )


def _get(cluster: Cluster, obj: dict[str, Any], namespace_exists: bool) -> dict[str, Any] | None:
    meta = obj["metadata"]
    if KINDS[obj["kind"]][1] and not namespace_exists:
        return None  # nothing can exist in a namespace that does not
    return cluster.get(obj["kind"], meta["name"], meta.get("namespace"))


def plan_up(
    cluster: Cluster,
    options: Options,
    *,
    storage_class: str,
    keep_default_class: bool = False,
    replicas_given: bool = True,
    force: bool = False,
) -> UpPlan:
    """Read the cluster and decide every change; raises before anything is written."""
    validate(options)
    ns_name = options.namespace
    namespace = cluster.get("Namespace", ns_name)
    if _terminating(namespace):
        raise Conflict(
            f"namespace {ns_name} is being deleted (Terminating)",
            "Wait until it is gone (kubectl get ns -w) or choose another with -n",
        )
    classes = cluster.list("StorageClass")
    storage.require(classes, storage_class)
    class_patches = [] if keep_default_class else storage.make_only_default(classes, storage_class)

    exists = namespace is not None
    if not replicas_given:
        # `up` keeps a count set by `scale`; only --replicas changes it.
        current = _get(
            cluster,
            {"kind": "Deployment", "metadata": {"name": DEPLOYMENT, "namespace": ns_name}},
            exists,
        )
        if current is not None:
            options = dataclasses.replace(options, replicas=current["spec"].get("replicas", 1))
    objects = render(options)
    with ThreadPoolExecutor(max_workers=8) as pool:  # independent reads: in parallel
        found = list(pool.map(lambda o: _get(cluster, o, exists), objects[1:]))
    existing = {ref(objects[0]): namespace, **dict(zip(map(ref, objects[1:]), found, strict=True))}
    secret = cluster.get("Secret", SECRET, ns_name) if exists else None

    foreign = [r for r, e in existing.items() if e is not None and not is_managed(e)]
    if secret is not None and not is_managed(secret):
        foreign.append(f"secret/{SECRET}")
    if foreign and not force:
        raise Conflict(
            f"{', '.join(foreign)} in namespace {ns_name} exist but were not created by pacdeploy",
            "Nothing was changed. Delete them, pick another -n, or pass --force to take them over",
        )
    if secret is not None and (missing := credentials.missing_keys(secret)):
        raise Conflict(
            f"secret/{SECRET} in namespace {ns_name} lacks {', '.join(missing)}",
            "Add those keys or delete the Secret so pacdeploy generates one",
        )

    _record_storage_defaults(objects[0], namespace, classes, storage_class, keep_default_class)
    plan = UpPlan(options, objects, existing, secret, class_patches)
    plan.needs = _needs_for_up(plan)
    if not options.volume_permissions:
        plan.warnings += _volume_permission_warnings(cluster, classes, storage_class)
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
    ns = plan.options.namespace
    needs = {Need.on("list", "StorageClass")}
    if plan.class_patches:
        needs.add(Need.on("patch", "StorageClass"))
    for obj in plan.objects:
        scope = ns if KINDS[obj["kind"]][1] else None
        needs.add(Need.on("patch", obj["kind"], scope))
        if plan.existing[ref(obj)] is None:
            needs.add(Need.on("create", obj["kind"], scope))
    needs.add(Need.on("get", "Secret", ns))
    if plan.secret is None:
        needs.add(Need.on("create", "Secret", ns))
    needs |= _needs_for_wait(ns)
    return needs


def _needs_for_wait(ns: str) -> set[Need]:
    return {
        Need.on("get", "StatefulSet", ns),
        Need.on("get", "Deployment", ns),
        *(Need.on("list", kind, ns) for kind in ("Pod", "PersistentVolumeClaim", "Event")),
    }


def _comparable(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    meta = {k: v for k, v in obj["metadata"].items() if k not in IGNORED_META}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def apply_up(
    cluster: Cluster, plan: UpPlan, *, force: bool = False, dry_run: bool = False
) -> list[Change]:
    """Make the cluster match the plan; a second run reports everything unchanged.

    Objects go in waves (the namespace; what others refer to; bindings and workloads), so
    no pod starts before its ServiceAccount exists and no binding precedes its role (RBAC
    checks a non-admin's binding against the role's rules). Within a wave: in parallel.
    """
    permissions.require(cluster, plan.needs, "deploy pacman")
    namespace, rest = plan.objects[0], plan.objects[1:]
    ns_existed = plan.existing[ref(namespace)] is not None
    changes = [_apply_one(cluster, plan, namespace, ns_existed, force, dry_run)]
    changes.append(_ensure_secret(cluster, plan, dry_run))
    changes += _default_class(cluster, plan, dry_run)
    waves = [
        [o for o in rest if o["kind"] not in SECOND_WAVE],
        [o for o in rest if o["kind"] in SECOND_WAVE],
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for wave in waves:
            changes += pool.map(
                lambda o: _apply_one(cluster, plan, o, ns_existed, force, dry_run), wave
            )
    return changes


def _apply_one(
    cluster: Cluster,
    plan: UpPlan,
    obj: dict[str, Any],
    ns_existed: bool,
    force: bool,
    dry_run: bool,
) -> Change:
    before = plan.existing[ref(obj)]
    if dry_run and KINDS[obj["kind"]][1] and not ns_existed:
        return Change(ref(obj), "created")  # the server cannot dry-run into a new namespace
    if before is not None and not is_managed(before) and not dry_run:
        # --force: replace the foreign object whole, then own every field we apply.
        cluster.replace(obj, before)
    after = cluster.apply(obj, force=force, dry_run=dry_run)
    if before is None:
        return Change(ref(obj), "created")
    if dry_run:
        same = _comparable(after) == _comparable(before)
    else:
        same = after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    return Change(ref(obj), "unchanged" if same else "configured")


def _ensure_secret(cluster: Cluster, plan: UpPlan, dry_run: bool) -> Change:
    if plan.secret is not None:
        adopt = not is_managed(plan.secret)
        if adopt and not dry_run:  # --force: keep the user's credentials, mark them ours
            cluster.merge_patch(
                "Secret", SECRET, {"metadata": {"labels": MANAGED_BY}}, plan.options.namespace
            )
        return Change(f"secret/{SECRET}", "adopted" if adopt else "unchanged")
    if not dry_run:
        try:
            cluster.create(credentials.new_secret(plan.options.namespace))
        except Conflict:
            # A retried create whose first attempt landed: ours already, keep it as it is.
            existing = cluster.get("Secret", SECRET, plan.options.namespace)
            if existing is None or not is_managed(existing):
                raise
    return Change(f"secret/{SECRET}", "created")


def _default_class(cluster: Cluster, plan: UpPlan, dry_run: bool) -> list[Change]:
    if not dry_run:
        storage.apply_patches(cluster, plan.class_patches)
    return [Change(f"storageclass/{name}", "configured") for name, _ in plan.class_patches]


def wait_up(cluster: Cluster, namespace: str, timeout: float) -> None:
    waiting.wait_ready(cluster, namespace, WORKLOADS, timeout)


# -- scale -----------------------------------------------------------------------
def scale(cluster: Cluster, namespace: str, replicas: int, timeout: float) -> Change:
    validate_replicas(replicas)
    permissions.require(
        cluster,
        {Need.on("patch", "Deployment", namespace, "scale"), *_needs_for_wait(namespace)},
        f"scale deployment/{DEPLOYMENT}",
    )
    before = waiting.require(cluster, "Deployment", DEPLOYMENT, namespace)
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/{DEPLOYMENT}/scale"
    cluster.request(
        "PATCH",
        path,
        query={"fieldManager": "pacdeploy"},
        body={"spec": {"replicas": replicas}},
        content_type="application/merge-patch+json",
    )
    waiting.wait_ready(cluster, namespace, [("Deployment", DEPLOYMENT)], timeout)
    same = before["spec"].get("replicas") == replicas
    return Change(f"deployment/{DEPLOYMENT}", "unchanged" if same else "scaled")


# -- down ------------------------------------------------------------------------
def down(cluster: Cluster, namespace: str, *, purge: bool, timeout: float) -> list[Change]:
    """Remove the app. Without purge the namespace, Secret and PVCs (the data) stay."""
    ns_obj = cluster.get("Namespace", namespace)
    if purge and ns_obj is not None and not is_managed(ns_obj):
        raise Conflict(
            f"namespace {namespace} was not created by pacdeploy; refusing to purge it",
            "Run `pacdeploy down` without --purge, or delete the namespace yourself",
        )
    objects = render(Options(namespace=namespace, ingress=True))
    cluster_scoped = [o for o in objects if not KINDS[o["kind"]][1] and o["kind"] != "Namespace"]
    namespaced = [o for o in objects if KINDS[o["kind"]][1]] if ns_obj and not purge else []
    targets = [o for o in [*namespaced, *cluster_scoped] if _deletable(cluster, o)]
    if purge and ns_obj is not None:
        targets.insert(0, objects[0])
    if not targets:
        return []
    permissions.require(
        cluster,
        {Need.on("delete", o["kind"], namespace if KINDS[o["kind"]][1] else None) for o in targets}
        | ({Need.on("patch", "StorageClass")} if purge else set()),
        "remove pacman",
    )
    changes = []
    for obj in reversed(targets):
        meta = obj["metadata"]
        if cluster.delete(obj["kind"], meta["name"], meta.get("namespace")):
            changes.append(Change(ref(obj), "deleted"))
    if purge and ns_obj is not None:
        waiting.wait_gone(cluster, "Namespace", namespace, timeout)
        previous = storage.parse_previous(ns_obj)
        made = (ns_obj["metadata"].get("annotations") or {}).get(storage.MADE_DEFAULT)
        if previous is not None and made:
            patches = storage.restore(cluster.list("StorageClass"), previous, made)
            storage.apply_patches(cluster, patches)
            changes += [Change(f"storageclass/{name}", "restored") for name, _ in patches]
    elif namespaced:
        waiting.wait_pods_gone(cluster, namespace, "name in (pacman,mongo)", timeout)
    return changes


def _deletable(cluster: Cluster, obj: dict[str, Any]) -> bool:
    """Only what pacdeploy made, and never the data (the namespace itself)."""
    if obj["kind"] == "Namespace":
        return False
    meta = obj["metadata"]
    existing = cluster.get(obj["kind"], meta["name"], meta.get("namespace"))
    return existing is not None and is_managed(existing)
