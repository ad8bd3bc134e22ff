"""The `status -o json` document (schemaVersion 1): its shape, checked by the type checker
where it is built (collect.py) and where it is read (outline.py). The README documents it;
a key changes only with a new schemaVersion."""

from __future__ import annotations

from typing import Any, TypedDict

SCHEMA_VERSION = 1


class NamespaceDoc(TypedDict):
    name: str
    exists: bool
    phase: str | None


class StorageClassDoc(TypedDict):
    name: str
    provisioner: str | None
    default: bool


class PodDoc(TypedDict):
    name: str
    phase: str
    ready: bool
    node: str | None
    restarts: int
    claims: list[str]


class WorkloadDoc(TypedDict):
    name: str
    replicas: int
    readyReplicas: int
    availableReplicas: int
    ready: bool
    waitingFor: str | None
    images: list[str]
    pods: list[PodDoc]


class VolumeDoc(TypedDict):
    name: str
    phase: str | None
    reclaimPolicy: str | None


class ClaimDoc(TypedDict):
    name: str
    phase: str | None
    storageClass: str | None
    capacity: str | None
    volume: VolumeDoc | None


class ServiceDoc(TypedDict):
    name: str
    type: str | None
    clusterIP: str | None
    ports: list[dict[str, Any]]
    reach: str | None


# "class" is a Python keyword, so this one is declared the functional way.
IngressDoc = TypedDict(
    "IngressDoc",
    {"name": str, "class": str | None, "hosts": list[str | None], "addresses": list[str | None]},
)


class RestoreDoc(TypedDict):
    source: str
    finish: str
    undo: str


class MoveDoc(TypedDict):
    """A move of the scores to another stack's MongoDB, interrupted or under way."""

    source: str  # the stack the data comes from
    target: str
    finish: str


class LockDoc(TypedDict):
    pods: list[str]  # mongo's writes held there since an interrupted backup
    release: str


class DriftDoc(TypedDict):
    object: str
    field: str
    applied: Any
    live: Any


class RevisionDoc(TypedDict):
    """The live revision: its stack, and the image each container ran, by digest."""

    number: int
    stack: str
    images: dict[str, str]


class StatusDoc(TypedDict):
    schemaVersion: int
    namespace: NamespaceDoc
    defaultStorageClasses: list[str]
    storageClasses: list[StorageClassDoc]
    deployment: WorkloadDoc | None
    statefulset: WorkloadDoc | None
    services: list[ServiceDoc]
    ingress: IngressDoc | None
    claims: list[ClaimDoc]
    restore: RestoreDoc | None
    move: MoveDoc | None
    mongoLocked: LockDoc | None
    drift: list[DriftDoc]
    revision: RevisionDoc | None
