"""What `up` would change, field by field: the server's dry-run apply against the live object.

Like `kubectl diff`, the server decides (defaults, admission, field ownership), so what is
shown is what `up` would write; fields the server sets itself (resourceVersion,
managedFields, generation, status) are not changes. Exit 0 when nothing would change, 1
when something would, as kubectl does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pacdeploy.app.manifests import SECRET
from pacdeploy.kube import fanout
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of, ref, ref_of, resource
from pacdeploy.release.fields import DIGEST_PATH, MISSING, FieldChange, drift, dry_run_changes
from pacdeploy.release.plan import UpPlan


@dataclass
class ObjectDiff:
    ref: str
    action: str  # created, configured
    changes: list[FieldChange] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": self.ref,
            "action": self.action,
            "changes": [
                {"path": c.path, "live": c.live, "desired": c.desired} for c in self.changes
            ],
        }


def diff(cluster: Cluster, plan: UpPlan) -> list[ObjectDiff]:
    """What applying ``plan`` would change; reads only (server-side dry runs)."""

    def one(obj: dict[str, Any]) -> ObjectDiff | None:
        live = plan.existing[ref_of(obj)]
        if live is None:
            return ObjectDiff(ref_of(obj), "created")
        if resource(obj["kind"]).namespaced and not plan.namespace_existed:
            return ObjectDiff(ref_of(obj), "created")
        if obj["kind"] == "StatefulSet" and plan.resize and plan.resize.replace_statefulset:
            # Its claim template cannot change in place, so no dry run: what differs.
            applied = [c for c in drift(obj, live, ignore=()) if c.path != DIGEST_PATH]
            return ObjectDiff(ref_of(obj), "replaced (pods kept)", applied)
        changes = dry_run_changes(live, cluster.apply(obj, dry_run=True))
        return ObjectDiff(ref_of(obj), "configured", changes) if changes else None

    stale = [o for o in plan.objects if ref_of(o) in plan.stale]
    found = [d for d in fanout.each(one, stale) if d is not None]
    if plan.resize is not None:
        for name, now in plan.resize.claims:
            growth = FieldChange("spec.resources.requests.storage", now, plan.resize.size)
            found.append(ObjectDiff(ref("PersistentVolumeClaim", name), "resized", [growth]))
    if plan.secret is None:
        found.append(ObjectDiff(ref("Secret", SECRET), "created"))
    classes = {name_of(sc): sc for sc in plan.classes}
    for name, wanted in plan.class_patches:
        live = classes[name]["metadata"].get("annotations") or {}
        changes = [
            FieldChange(f"metadata.annotations.{k}", live.get(k, MISSING), v)
            for k, v in wanted.items()
        ]
        found.append(ObjectDiff(ref("StorageClass", name), "configured", changes))
    return found
