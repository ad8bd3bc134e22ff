"""Growing mongo's volumes (`up --storage-size`), where Helm users hit "Forbidden: updates to
statefulset spec for fields other than ..." (helm/helm#7998, kubernetes#68737): a
StatefulSet's claim template is immutable, so its claims grow first and the StatefulSet is
then replaced with its pods orphaned (`kubectl delete --cascade=orphan`), to be adopted by
the new one, unchanged but for the size its later claims get.

The steps, each safe to run again: patch each claim's request (the StorageClass must allow
expansion; a volume never shrinks); wait until the resizer has grown each volume; delete the
StatefulSet, orphaning its pods; `up` then applies it again with the new template. A run
killed anywhere is finished by the same command; once a claim has grown, by a plain `up`
too, since without --storage-size the size is the largest a claim or the template asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from pacdeploy.app.manifests import STATEFULSET, claim_size
from pacdeploy.errors import InvalidInput, NotFound, NotReady
from pacdeploy.kube import fanout, official
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of, ref
from pacdeploy.output import Output
from pacdeploy.wait import gone
from pacdeploy.wait.polling import Deadline, rounds
from pacdeploy.wait.readiness import last_said

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import Event


class NotExpandable(NotFound):
    """The claims' StorageClass does not allow expansion (exit 7: a missing prerequisite)."""


@dataclass(frozen=True)
class Resize:
    size: str  # what every mongo claim and the claim template will ask for
    # (claim, what it asks for now) of those asking for less: patched, then waited for
    claims: tuple[tuple[str, str], ...] = ()
    replace_statefulset: bool = False  # its template asks for less: orphaned and applied again


def quantity(text: str) -> Decimal:
    """A Kubernetes quantity in bytes (the official client's parser: 1Gi, 500M, 1.5Ti)."""
    return official.parse_quantity(text)


def requested(claim: dict[str, Any]) -> str:
    return str(claim["spec"]["resources"]["requests"]["storage"])


def capacity(claim: dict[str, Any]) -> str | None:
    return ((claim.get("status") or {}).get("capacity") or {}).get("storage")


def decide(
    asked: str | None,
    statefulset: dict[str, Any] | None,
    claims: list[dict[str, Any]],
    *,
    classes: list[dict[str, Any]],
    default: str,
) -> tuple[str, Resize | None]:
    """(the size to deploy, the resize that takes the app there or None).

    ``asked``: --storage-size, None to keep what is there (``default`` on a first install).
    Raises before anything changes: a smaller size (InvalidInput), a class that cannot
    expand its volumes (NotExpandable)."""
    live = [requested(c) for c in claims]
    if statefulset is not None:
        live.append(claim_size(statefulset))
    largest = max(live, key=quantity, default=None)
    if asked is not None and largest is not None and quantity(asked) < quantity(largest):
        raise InvalidInput(
            f"--storage-size {asked} is smaller than mongo's volumes ({largest}): a volume "
            "cannot shrink",
            f"Pass {largest} or more, or leave --storage-size out to keep it",
        )
    size = asked or largest or default
    if largest is not None and quantity(size) == quantity(largest):
        size = largest  # 1024Mi is 1Gi: the template stays as the server keeps it
    growing = tuple(
        (name_of(c), requested(c)) for c in claims if quantity(requested(c)) < quantity(size)
    )
    replace = statefulset is not None and quantity(claim_size(statefulset)) < quantity(size)
    if not growing and not replace:
        return size, None
    by_name = {name_of(sc): sc for sc in classes}
    names = {name for name, _ in growing}
    for claim in claims:
        if name_of(claim) not in names:
            continue
        class_name = claim["spec"].get("storageClassName") or ""
        if not (by_name.get(class_name) or {}).get("allowVolumeExpansion"):
            what = ref("PersistentVolumeClaim", name_of(claim))
            raise NotExpandable(
                f"StorageClass {class_name or '(none)'} of {what} does not allow volume "
                f"expansion, so it cannot grow to {size}",
                "Nothing was changed. Use a class with allowVolumeExpansion: true (if its "
                "driver can resize, `kubectl patch storageclass` can set it), or leave "
                "--storage-size out",
            )
    return size, Resize(size, growing, replace)


def why_not_grown(claim: dict[str, Any], events: list[Event]) -> str:
    """What a growing claim waits on: its resize conditions, else the resizer's last word."""
    for condition in (claim.get("status") or {}).get("conditions") or []:
        if condition.get("status") == "True":
            message = condition.get("message") or ""
            return f"{condition.get('type')}{': ' + message if message else ''}"
    if said := last_said(claim, events):
        return said
    return f"waiting for the volume's resizer (capacity {capacity(claim) or 'unknown'})"


def grow(
    cluster: Cluster, namespace: str, resize: Resize, *, timeout: float, out: Output
) -> list[str]:
    """Carry ``resize`` out up to the StatefulSet's replacement; the claims grown."""
    patch = {"spec": {"resources": {"requests": {"storage": resize.size}}}}
    for name, _ in resize.claims:
        cluster.merge_patch("PersistentVolumeClaim", name, patch, namespace=namespace)
    if resize.claims:
        _wait_grown(cluster, namespace, resize, timeout=timeout, out=out)
    if resize.replace_statefulset:
        cluster.delete("StatefulSet", STATEFULSET, namespace, cascade="Orphan")
        gone.wait_gone(
            cluster, "StatefulSet", STATEFULSET, timeout=timeout, out=out, namespace=namespace
        )
    return [name for name, _ in resize.claims]


def _wait_grown(
    cluster: Cluster, namespace: str, resize: Resize, *, timeout: float, out: Output
) -> None:
    deadline = Deadline(timeout)
    waiting: list[dict[str, Any]] = []
    with out.steps(f"growing mongo's volumes to {resize.size}") as report:
        shown: dict[str, str] = {}
        for _ in rounds(deadline):
            names = [name for name, _ in resize.claims]
            claims = fanout.each(
                lambda n: cluster.get("PersistentVolumeClaim", n, namespace), names
            )
            waiting = [c for c in claims if c is not None and not _grown(c, resize.size)]
            if not waiting:
                return
            events = cast("list[Event]", cluster.events_about(namespace, waiting))
            for claim in waiting:
                why = why_not_grown(claim, events)
                name = name_of(claim)
                if shown.get(name) != why:
                    report(f"{ref('PersistentVolumeClaim', name)}: {why}")
                    shown[name] = why
    details = "; ".join(f"{c['metadata']['name']}: {why_not_grown(c, [])}" for c in waiting)
    raise NotReady(
        f"mongo's volumes did not grow to {resize.size} in {timeout:.0f}s: {details}",
        "Check the volume driver's resizer (`kubectl describe pvc`), then run `up` again "
        "(it finishes the resize)",
    )


def _grown(claim: dict[str, Any], size: str) -> bool:
    have = capacity(claim)
    return have is not None and quantity(have) >= quantity(size)
