"""Waiting for things to go: one object (watched, saying what holds it), or a set of pods."""

from __future__ import annotations

from typing import Any

from pacdeploy.errors import NotReady, PermissionDenied
from pacdeploy.kube import watch
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of, ref
from pacdeploy.output import Output
from pacdeploy.wait.polling import Deadline, rounds


def holders(obj: dict[str, Any]) -> str:
    """What keeps an object from going: finalizers, and a namespace's content conditions."""
    finalizers = obj["metadata"].get("finalizers") or obj.get("spec", {}).get("finalizers", [])
    conditions = [
        c.get("message", "")
        for c in obj.get("status", {}).get("conditions", [])
        if c.get("status") == "True"
    ]
    return "; ".join([*(f"finalizer {f}" for f in finalizers), *conditions]) or "deletion"


def wait_gone(
    cluster: Cluster,
    kind: str,
    name: str,
    *,
    timeout: float,
    out: Output,
    namespace: str | None = None,
) -> None:
    """Wait until an object is deleted, saying what holds it; NotReady if it outlasts timeout.

    Watches the object (list, then watch from there) and returns on its DELETED event;
    polls where watching is forbidden.
    """
    deadline = Deadline(timeout)
    what = ref(kind, name)
    with out.steps(f"waiting for {what} to be deleted") as report:
        shown = None

        def seen(obj: dict[str, Any]) -> None:
            nonlocal shown
            held = holders(obj)
            if deadline.passed:
                raise NotReady(
                    f"{what} still exists after {timeout:.0f}s, held by: {held}",
                    "Resolve what holds it, then run the command again",
                )
            if held != shown:
                report(f"{what} is terminating, waiting on: {held}")
                shown = held

        try:
            # A second past the deadline, so that seen() reports what still holds it.
            for obj in watch.follow(
                cluster, watch.Selection.one(kind, name, namespace), seconds=timeout + 1
            ):
                if obj is None:
                    return
                seen(obj)
        except PermissionDenied:
            for _ in rounds(deadline):
                if (obj := cluster.get(kind, name, namespace)) is None:
                    return
                seen(obj)
        if (obj := cluster.get(kind, name, namespace)) is not None:
            seen(obj)  # past the deadline: raises, naming what holds it


def wait_pods_gone(
    cluster: Cluster, namespace: str, selector: str, *, timeout: float, out: Output
) -> None:
    """Until no pod matches ``selector``, saying which are still terminating."""
    deadline = Deadline(timeout)
    with out.steps("waiting for pods to stop") as report:
        shown = ""
        for _ in rounds(deadline):
            pods = cluster.list("Pod", namespace, label_selector=selector)
            if not pods:
                return
            names = ", ".join(name_of(p) for p in pods)
            if names != shown:
                report(f"still terminating: {names}")
                shown = names
    raise NotReady(
        f"pods still terminating after {timeout:.0f}s: {names}",
        "Check their finalizers and events, then run the command again",
    )
