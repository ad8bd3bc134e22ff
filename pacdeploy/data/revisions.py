"""Revisions: what each changing `up` applied, kept in the namespace like Helm's releases.

One ConfigMap per revision (`pacdeploy.v3`): the options, the rendered manifests as they
were applied, what changed, the outcome and the backup taken first. A ConfigMap, not a
Secret, because nothing secret is in it: the credentials Secret is generated apart from
the manifests and never recorded, so anyone who may read the namespace may read history.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pacdeploy.app import stacks
from pacdeploy.app.manifests import MANAGED_BY, Options
from pacdeploy.errors import NotFound
from pacdeploy.kube.client import Cluster

PREFIX = "pacdeploy.v"
REVISION_LABEL = "pacdeploy.io/revision"
SELECTOR = f"{REVISION_LABEL},{next(iter(MANAGED_BY))}={next(iter(MANAGED_BY.values()))}"
KEEP = 10  # like `helm upgrade --history-max`'s default

# What a revision's outcome can be; only the newest deployed one is live.
PENDING, DEPLOYED, FAILED, SUPERSEDED = "pending", "deployed", "failed", "superseded"


@dataclass(frozen=True)
class Revision:
    number: int
    options: Options
    storage_class: str
    manifests: list[dict[str, Any]]
    change: str  # one line: what this revision changed
    status: str = PENDING
    backup: str | None = None  # taken before this revision was applied
    # container -> the image its pods ran, by digest (status.containerStatuses[].imageID)
    images: dict[str, str] = field(default_factory=dict)
    time: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.number}"


def to_configmap(revision: Revision, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": revision.name,
            "namespace": namespace,
            "labels": {**MANAGED_BY, REVISION_LABEL: str(revision.number)},
        },
        "data": {
            "time": revision.time,
            "status": revision.status,
            "change": revision.change,
            "backup": revision.backup or "",
            "storageClass": revision.storage_class,
            "options": json.dumps(dataclasses.asdict(revision.options), sort_keys=True),
            "manifests": json.dumps(revision.manifests, sort_keys=True),
            "images": json.dumps(revision.images, sort_keys=True),
        },
    }


def from_configmap(cm: dict[str, Any]) -> Revision:
    data = cm.get("data") or {}
    known = {f.name for f in dataclasses.fields(Options)}
    recorded = json.loads(data["options"])
    recorded.setdefault("stack", stacks.LESSON)  # recorded before stacks: the lesson's images
    options = Options(**{k: v for k, v in recorded.items() if k in known})
    return Revision(
        number=int(cm["metadata"]["labels"][REVISION_LABEL]),
        options=options,
        storage_class=data.get("storageClass", ""),
        manifests=json.loads(data["manifests"]),
        change=data.get("change", ""),
        status=data.get("status", PENDING),
        backup=data.get("backup") or None,
        time=data.get("time", ""),
        images=json.loads(data.get("images") or "{}"),
    )


def shown_status(revisions: list[Revision]) -> dict[int, str]:
    """Each revision's status as history shows it: deployed ones older than the newest
    deployed one have been superseded (so rolling back never rewrites old records)."""
    live = max((r.number for r in revisions if r.status == DEPLOYED), default=None)
    return {
        r.number: SUPERSEDED if r.status == DEPLOYED and r.number != live else r.status
        for r in revisions
    }


def next_number(revisions: list[Revision]) -> int:
    return max((r.number for r in revisions), default=0) + 1


def expired(revisions: list[Revision], keep: int = KEEP) -> list[Revision]:
    """The oldest records beyond ``keep`` (the newest ``keep``, this one included, stay)."""
    return sorted(revisions, key=lambda r: r.number)[:-keep] if len(revisions) > keep else []


def describe(changes: list[tuple[str, str]]) -> str:
    """One line from (ref, action) pairs: what a revision changed."""
    changed = [f"{ref} {action}" for ref, action in changes if action != "unchanged"]
    return ", ".join(changed) or "no change"


def summary(change: str) -> str:
    """A change as history's table shows it: a first install (its Namespace created) as
    `install (13 objects)`, as Helm says `Install complete`; other changes as they are.
    The whole list stays in the record (`history -o json`)."""
    parts = change.split(", ")
    if not any(p.startswith("namespace/") and p.endswith(" created") for p in parts):
        return change
    return f"install ({sum(p.endswith(' created') for p in parts)} objects)"


def documents(revisions: list[Revision]) -> list[dict[str, Any]]:
    """`history -o json`: each revision as recorded, with the status history shows."""
    shown = shown_status(revisions)
    return [
        {
            "revision": r.number,
            "updated": r.time,
            "status": shown[r.number],
            "change": r.change,
            "backup": r.backup,
            "stack": r.options.stack,
            "images": r.images,
            "options": dataclasses.asdict(r.options),
        }
        for r in revisions
    ]


def live(revisions: Sequence[Revision]) -> Revision | None:
    """The revision running now: the newest that was deployed."""
    return max((r for r in revisions if r.status == DEPLOYED), key=lambda r: r.number, default=None)


def deployed_before(revisions: list[Revision], number: int) -> Revision | None:
    """The newest deployed revision older than ``number``: what a rollback goes back to."""
    return live([r for r in revisions if r.number < number])


def by_digest(image: str, image_id: str) -> str | None:
    """``image`` (as the pod spec names it) pinned to the digest the kubelet reports having
    run (imageID `docker.io/library/mongo@sha256:...`); None when it reports no digest."""
    if "@sha256:" not in image_id:
        return None
    return f"{image.split('@', 1)[0]}@{image_id.split('@', 1)[1]}"


def ran(pods: list[dict[str, Any]]) -> dict[str, str]:
    """container -> the image, by digest, that the ready pods' containers run."""
    found = {}
    for pod in pods:
        specs = {c["name"]: c.get("image", "") for c in pod.get("spec", {}).get("containers", [])}
        for status in pod.get("status", {}).get("containerStatuses") or []:
            image = by_digest(specs.get(status.get("name"), ""), status.get("imageID") or "")
            if status.get("ready") and image:
                found[status["name"]] = image
    return found


def pinned(manifests: list[dict[str, Any]], images: dict[str, str]) -> list[dict[str, Any]]:
    """``manifests`` with each container that ``images`` names on the recorded digest (and
    the init containers that share its image): a tag that moved or vanished cannot change
    what applying them runs."""
    result = copy.deepcopy(manifests)
    for obj in result:
        pod = obj.get("spec", {}).get("template", {}).get("spec")
        if not pod:
            continue
        swap = {c["image"]: images[c["name"]] for c in pod["containers"] if c["name"] in images}
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            container["image"] = swap.get(container["image"], container["image"])
    return result


# -- the cluster ---------------------------------------------------------------------
def read(cluster: Cluster, namespace: str) -> list[Revision]:
    """Every recorded revision of the namespace, oldest first."""
    found = cluster.list("ConfigMap", namespace, label_selector=SELECTOR)
    return sorted((from_configmap(cm) for cm in found), key=lambda r: r.number)


def find(revisions: list[Revision], number: int, namespace: str) -> Revision:
    for revision in revisions:
        if revision.number == number:
            return revision
    have = ", ".join(str(r.number) for r in revisions) or "none"
    raise NotFound(
        f"revision {number} is not recorded in namespace {namespace} (recorded: {have})",
        f"See `pacdeploy history -n {namespace}`",
    )


def record(cluster: Cluster, namespace: str, revision: Revision, *, older: list[Revision]) -> None:
    """Store ``revision`` and drop what falls out of the history."""
    cluster.create(to_configmap(revision, namespace))
    for old in expired([*older, revision]):
        cluster.delete("ConfigMap", old.name, namespace)


def settle(
    cluster: Cluster,
    namespace: str,
    revision: Revision,
    *,
    status: str,
    change: str | None = None,
    images: dict[str, str] | None = None,
) -> None:
    """The outcome; ``change``: what was changed, once known (the intent named it first);
    ``images``: what the pods ran, once they are ready."""
    data = {"status": status, **({"change": change} if change else {})}
    if images:
        data["images"] = json.dumps(images, sort_keys=True)
    cluster.merge_patch("ConfigMap", revision.name, {"data": data}, namespace=namespace)
