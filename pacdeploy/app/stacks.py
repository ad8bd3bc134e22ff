"""The stacks pacdeploy deploys, as data: each image pinned, its platforms, its shell.

`modern` (the default for new installs) is maintained and published for amd64 and arm64;
`lesson` is the lesson's 2021 images exactly, for amd64 only. Which manifests each stack
renders is here too (the lesson's files live in manifests/lesson/). Every container-level
fact behind these values is cited in tests/unit/image_contracts.py and checked against
every rendering by tests/unit/test_image_contracts.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pacdeploy.errors import InvalidInput
from pacdeploy.kube.resources import labels_of

MODERN, LESSON = "modern", "lesson"
DEFAULT = MODERN
LABEL = "pacdeploy.io/stack"  # on the StatefulSet and (modern) its claims: the data's stack


class Image(NamedTuple):
    repository: str
    tag: str
    digest: str | None  # sha256:..., as published; None: see ``unpinned``
    platforms: tuple[str, ...]  # as a node's status.nodeInfo.architecture names them
    unpinned: str = ""  # why no digest is pinned
    needs_avx: bool = False  # MongoDB 5.0+ on x86-64 (SIGILL without it)

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}" + (f"@{self.digest}" if self.digest else "")


@dataclass(frozen=True)
class Stack:
    name: str
    web: Image
    mongo: Image
    shell: str  # the mongo shell on the image's PATH: `mongosh` or the legacy `mongo`
    read_file: str  # how that shell reads a file's text: JavaScript around %s (its path)
    root_password_env: str  # the variable naming the file the image reads root's password from
    why: str
    # kustomization file -> the file this stack renders in its place (manifests/)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def platforms(self) -> tuple[str, ...]:
        """Where both images run: the architectures the whole stack can be scheduled on."""
        return tuple(p for p in self.web.platforms if p in self.mongo.platforms)


# saintdle/pacman's release workflow publishes one linux/amd64 + linux/arm64 manifest list
# per version; its Helm chart's promotion pins that list's digest with the app version.
SAINTDLE_PACMAN = Image(
    "docker.io/saintdle/pacman",
    "0.7.2",
    "sha256:48f22e19e88b7f22f55e766908cda6b613b8980c0f9464204591f36d7c606426",
    ("amd64", "arm64"),
)
MONGO_8 = Image(
    "docker.io/library/mongo",
    "8.0.26",
    None,
    ("amd64", "arm64"),
    unpinned=(
        "docker-library's sources record the git commit each tag is built from, not the "
        "digest the registry gave it; the digest each pod ran is recorded in history"
    ),
    needs_avx=True,
)
BITNAMI_MONGO_44 = Image(
    "docker.io/bitnamilegacy/mongodb",
    "4.4.8",
    None,
    ("amd64",),
    unpinned="the lesson's tag as published; no source records its digest",
)
IFONT_PACMAN = Image(
    "quay.io/ifont/pacman-nodejs-app",
    "latest",
    None,
    ("amd64",),
    unpinned="published as `latest` only (the lesson's manifest); pin it with --pacman-image",
)

STACKS = {
    MODERN: Stack(
        MODERN,
        SAINTDLE_PACMAN,
        MONGO_8,
        "mongosh",
        "fs.readFileSync(%s, 'utf8')",
        "MONGO_INITDB_ROOT_PASSWORD_FILE",
        "maintained: Node 22 with MongoDB driver 6, MongoDB 8.0; amd64 and arm64",
    ),
    LESSON: Stack(
        LESSON,
        IFONT_PACMAN,
        BITNAMI_MONGO_44,
        "mongo",
        "cat(%s)",
        "MONGODB_ROOT_PASSWORD_FILE",
        "the lesson's images exactly: MongoDB 4.4 (no AVX needed), amd64 only",
        files={"mongo.yaml": "lesson/mongo.yaml", "pacman.yaml": "lesson/pacman.yaml"},
    ),
}


def get(name: str) -> Stack:
    if name not in STACKS:
        raise InvalidInput(f"unknown stack {name!r}", f"Use one of {', '.join(STACKS)}")
    return STACKS[name]


def of_container(container: dict[str, Any]) -> Stack:
    """The stack a running mongo container belongs to, told by the password file it reads
    (its image may be an override)."""
    env = {e["name"] for e in container.get("env") or []}
    return next((s for s in STACKS.values() if s.root_password_env in env), STACKS[DEFAULT])


def runs_on(architecture: str) -> list[str]:
    """The stacks whose every image is published for ``architecture``."""
    return [s.name for s in STACKS.values() if architecture in s.platforms]


def of_data(statefulset: dict[str, Any] | None, claims: list[dict[str, Any]]) -> str | None:
    """The stack whose MongoDB wrote the data here; None where there is none yet.

    A modern claim carries the stack's label (its claim template's). The lesson's carry
    none: they were made before stacks existed, and its template stays as it was.
    """
    for obj in [*claims, *([statefulset] if statefulset else [])]:
        if LABEL in (labels := labels_of(obj)):
            return str(labels[LABEL])
    return LESSON if claims or statefulset is not None else None
