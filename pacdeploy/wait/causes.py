"""Root causes that status alone does not name: an image built for another CPU, a CPU
without an instruction MongoDB needs, a tag the registry no longer has. Pure functions,
given what the caller knows beyond the pods (``Hints``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pacdeploy.app import stacks

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import ContainerStateTerminated, Pod

# The image has no build for the node's CPU: the kernel refuses to run its entrypoint.
EXEC_FORMAT = "exec format error"
WRONG_ARCH = "ExecFormatError"
# Killed by SIGILL (128 + 4): an instruction this CPU lacks (MongoDB 5.0+ needs AVX).
SIGILL_EXIT = 132
NO_INSTRUCTION = "IllegalInstruction"


@dataclass(frozen=True)
class Hints:
    """What the caller knows beyond the pods, to name a root cause precisely."""

    node_arch: Mapping[str, str] = field(default_factory=dict)  # node -> its architecture
    last_good: dict[str, str] = field(default_factory=dict)  # container -> image it last ran


def wrong_architecture(container: str | None, pod: Pod, hints: Hints) -> str:
    """Why an `exec format error`: the node's architecture, and the stacks that run there."""
    node = str(pod.get("spec", {}).get("nodeName") or "?")
    arch = hints.node_arch.get(node, "")
    there = " or ".join(f"`--stack {s}`" for s in stacks.runs_on(arch)) if arch else ""
    return (
        f"container {container}: its image has no build for node {node}"
        + (f" ({arch})" if arch else "")
        + (f"; {there} runs there" if there else "")
    )


def crash_cause(
    terminated: ContainerStateTerminated, container: str | None, pod: Pod, *, hints: Hints
) -> tuple[str, str] | None:
    """(reason, detail) when what ended the container names its cause, else None."""
    if EXEC_FORMAT in str(terminated.get("message") or ""):
        return WRONG_ARCH, wrong_architecture(container, pod, hints)
    if terminated.get("exitCode") == SIGILL_EXIT:
        without = [s.name for s in stacks.STACKS.values() if not s.mongo.needs_avx]
        detail = (
            f"container {container} killed by SIGILL (exit code {SIGILL_EXIT}): this CPU "
            "lacks an instruction the image needs (MongoDB 5.0+ needs AVX on x86-64)"
            + "".join(f"; `--stack {s}` runs MongoDB 4.4, which does not" for s in without)
        )
        return NO_INSTRUCTION, detail
    return None


def last_good(container: str | None, hints: Hints) -> str:
    """For an image the registry refused: what the last good revision ran, if known."""
    ran = hints.last_good.get(container or "")
    return f"; the last good revision ran {ran} (`pacdeploy rollback` runs it again)" if ran else ""
