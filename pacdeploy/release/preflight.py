"""Will it run here? The stack's images against the nodes its pods could be scheduled on.

Read before any write, from one LIST of the cluster's nodes (nodes are what the pods run on,
so this reads beyond the app's own objects, and only that): a node counts when it is Ready,
not cordoned, and has no NoSchedule/NoExecute taint (the app's pods tolerate none). Each
node's `status.nodeInfo.architecture` is compared with the platforms each image is
published for (app/stacks.py). Where Node Feature Discovery labels an x86-64 node's CPU and
AVX is not among them, MongoDB 5.0+ cannot run there (it dies of SIGILL); where nothing is
known, nothing is assumed. An image given with --pacman-image or --mongo-image has unknown
platforms: it is not checked.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pacdeploy.app import stacks
from pacdeploy.app.manifests import Options
from pacdeploy.app.stacks import Image
from pacdeploy.errors import Conflict, NotFound
from pacdeploy.kube.resources import labels_of, name_of
from pacdeploy.wait.readiness import has_ready_condition

# Node Feature Discovery's CPUID labels (feature.node.kubernetes.io/cpu-cpuid.<FLAG>=true).
NFD_CPUID = "feature.node.kubernetes.io/cpu-cpuid."
NFD_AVX = NFD_CPUID + "AVX"
BLOCKING_TAINTS = ("NoSchedule", "NoExecute")


class CannotRunHere(NotFound):
    """No node the pods could be scheduled on can run an image (exit 7, as nothing to run
    it on was found)."""


def stack_here(
    options: Options,
    given: bool,
    statefulset: dict[str, Any] | None,
    *,
    claims: list[dict[str, Any]],
) -> Options:
    """The stack to deploy: the one asked for, else the one whose MongoDB wrote the data
    here, else the default. Another stack than the data's is `up`'s move (release/move.py),
    made before this plan; a plan that meets it (a dry run, `diff`) cannot show it."""
    here = stacks.of_data(statefulset, claims)
    if not given:
        return dataclasses.replace(options, stack=here or options.stack)
    if here is None or here == options.stack:
        return options
    ns = options.namespace
    raise Conflict(
        f"namespace {ns} holds the {here} stack's MongoDB data; --stack {options.stack} "
        "moves the scores to another MongoDB first, which a dry run or diff cannot show",
        f"Nothing was changed. `pacdeploy up --stack {options.stack} -n {ns}` moves them "
        "(it asks first)",
    )


def schedulable(node: dict[str, Any]) -> bool:
    """The scheduler may place the app's pods here: Ready, not cordoned, no taint they
    would have to tolerate."""
    spec = node.get("spec") or {}
    taints = spec.get("taints") or []
    return (
        has_ready_condition(node)
        and not spec.get("unschedulable")
        and not any(t.get("effect") in BLOCKING_TAINTS for t in taints)
    )


def architecture(node: dict[str, Any]) -> str:
    return str(((node.get("status") or {}).get("nodeInfo") or {}).get("architecture", ""))


def lacks_avx(node: dict[str, Any]) -> bool:
    """NFD has labelled this x86-64 node's CPU flags, and AVX is not among them."""
    labels = labels_of(node)
    known = any(key.startswith(NFD_CPUID) for key in labels)
    return architecture(node) == "amd64" and known and labels.get(NFD_AVX) != "true"


def can_run(image: Image, node: dict[str, Any]) -> bool:
    return architecture(node) in image.platforms and not (image.needs_avx and lacks_avx(node))


@dataclass(frozen=True)
class Verdict:
    nodes: dict[str, str]  # the schedulable nodes: name -> architecture
    warnings: list[str]


def _images(options: Options) -> list[Image]:
    """The stack's images that are checked: those no option overrides."""
    stack = stacks.get(options.stack)
    overridden = {stack.web.ref: options.pacman_image, stack.mongo.ref: options.mongo_image}
    return [i for i in (stack.web, stack.mongo) if not overridden[i.ref]]


def _refusal(options: Options, image: Image, nodes: list[dict[str, Any]]) -> CannotRunHere:
    arches = Counter(architecture(n) for n in nodes)
    have = ", ".join(f"{arch or 'unknown'} ({count})" for arch, count in sorted(arches.items()))
    others = [s for a in arches for s in stacks.runs_on(a) if s != options.stack]
    if any(a in image.platforms for a in arches):  # the architecture fits: the CPU does not
        why = f"{image.ref} needs AVX, which Node Feature Discovery says these CPUs lack"
        others = [s.name for s in stacks.STACKS.values() if not s.mongo.needs_avx]
    else:
        why = f"{image.ref} is published for {', '.join(image.platforms)} only"
    fix = "Nothing was changed. " + (
        f"`pacdeploy up --stack {others[0]}` runs there"
        if others
        else "Add a node of an architecture the images have"
    )
    return CannotRunHere(
        f"the {options.stack} stack cannot run on any schedulable node (nodes: {have}): {why}",
        fix,
    )


def check(options: Options, nodes: list[dict[str, Any]]) -> Verdict:
    """Raises CannotRunHere when no schedulable node can run one of the stack's images.

    No schedulable node at all says nothing about images: the wait names that (Unschedulable).
    """
    candidates = [n for n in nodes if schedulable(n)]
    warnings = []
    for image in _images(options) if candidates else []:
        fit = [n for n in candidates if can_run(image, n)]
        if not fit:
            raise _refusal(options, image, candidates)
        if image.needs_avx and (slow := sorted(name_of(n) for n in candidates if lacks_avx(n))):
            warnings.append(
                f"{image.ref} cannot run on {', '.join(slow)} (no AVX, says Node Feature "
                "Discovery): a pod placed there dies of SIGILL"
            )
    return Verdict({name_of(n): architecture(n) for n in candidates}, warnings)
