"""Applying an `up` plan: server-side apply in waves, then waiting for the workloads.

Apply order is data (lightkube's sort_objects): a rank applies once every lower one has,
and deletion (`down`) runs it backwards. The namespace holds everything; pods must not
start before their ServiceAccount (and Secret); RBAC checks a non-admin's binding against
its role's rules, so the binding waits for the role. Nothing else waits: the workloads'
rollout is most of an `up`, so it starts as early as it can (pacman finds mongo by DNS
name, not through the Service variables a pod only gets for Services older than itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pacdeploy.app import credentials, storage
from pacdeploy.app.manifests import MANAGED_BY, SECRET, is_managed
from pacdeploy.kube import fanout, permissions
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import ref, ref_of, resource
from pacdeploy.output import Output
from pacdeploy.release.change import Change
from pacdeploy.release.fields import unchanged_by_dry_run
from pacdeploy.release.plan import WORKLOADS, UpPlan
from pacdeploy.wait import rollout
from pacdeploy.wait.causes import Hints

APPLY_RANK = {
    "Namespace": 0,
    "ServiceAccount": 1,
    "Secret": 1,
    "ConfigMap": 1,  # mongo's init script, mounted by its pods
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


def waves(objects: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The objects grouped by APPLY_RANK, lowest first; each group may go in parallel."""
    ranks = sorted({APPLY_RANK[o["kind"]] for o in objects})
    return [[o for o in objects if APPLY_RANK[o["kind"]] == rank] for rank in ranks]


def apply_up(cluster: Cluster, plan: UpPlan, *, dry_run: bool = False) -> list[Change]:
    """Make the cluster match the plan; a second run reports everything unchanged."""
    if plan.needs:
        permissions.require(cluster, plan.needs, "deploy pacman", rules=plan.rules)
    first, *rest = waves(plan.objects)
    force = plan.force

    def apply(obj: dict[str, Any]) -> Change:
        return _apply_one(cluster, plan, obj, force=force, dry_run=dry_run)

    changes = [apply(o) for o in first]
    second, *later = rest or [[]]
    # The Secret and the default class go with the next wave: both must be in place
    # before the workloads (their pods read the one, their claims take the other).
    applied, secret, classes = fanout.together(
        lambda: fanout.each(apply, second),
        lambda: _ensure_secret(cluster, plan, dry_run),
        lambda: _default_class(cluster, plan, dry_run),
    )
    changes += [secret, *classes]
    for wave in later:
        applied += fanout.each(apply, wave)
    return changes + applied


def _apply_one(
    cluster: Cluster, plan: UpPlan, obj: dict[str, Any], *, force: bool, dry_run: bool
) -> Change:
    before = plan.existing[ref_of(obj)]
    if ref_of(obj) not in plan.stale:
        return Change(ref_of(obj), "unchanged")
    if dry_run and resource(obj["kind"]).namespaced and not plan.namespace_existed:
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
                "Secret",
                SECRET,
                {"metadata": {"labels": MANAGED_BY}},
                namespace=plan.options.namespace,
            )
        return Change(ref("Secret", SECRET), "adopted" if adopt else "unchanged")
    if not dry_run:
        cluster.create(credentials.new_secret(plan.options.namespace))
    return Change(ref("Secret", SECRET), "created")


def _default_class(cluster: Cluster, plan: UpPlan, dry_run: bool) -> list[Change]:
    if not dry_run:
        storage.apply_patches(cluster, plan.class_patches)
    return [Change(ref("StorageClass", name), "configured") for name, _ in plan.class_patches]


def wait_up(
    cluster: Cluster,
    plan: UpPlan,
    timeout: float,
    *,
    out: Output,
    changes: Sequence[Change] = (),
    last_good: dict[str, str] | None = None,
) -> None:
    """Wait for both workloads, each watched from the last version seen of it: as `up` just
    wrote it, else as the plan read it (nothing is listed again). ``last_good``: container ->
    the image the last deployed revision ran, named when a pull is refused."""
    read = {ref(kind, name): plan.existing[ref(kind, name)] for kind, name in WORKLOADS}
    known = {r: obj for r, obj in read.items() if obj is not None}
    known.update({c.ref: c.written for c in changes if c.written is not None})
    hints = Hints(node_arch=plan.nodes, last_good=last_good or {})
    workloads = rollout.Workloads(plan.options.namespace, WORKLOADS, known)
    rollout.wait_ready(cluster, workloads, timeout=timeout, out=out, hints=hints)
