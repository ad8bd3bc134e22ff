"""Typed views of the API objects pacdeploy reads most, in the style of kopf's
``structs/bodies.py``: what arrives from the API server is a plain JSON dict; these say
which of its fields pacdeploy reads, so the rules over them are type-checked.

Each view is a ``TypedDict(total=False)``: the API server omits empty fields, so every key
may be absent, and only the fields pacdeploy reads are listed (not the whole API). The
shapes and names are the Kubernetes API reference's: core/v1 (Pod, PersistentVolumeClaim,
PersistentVolume, Event), apps/v1 (Deployment, StatefulSet) and the CSI external-snapshotter's
snapshot.storage.k8s.io/v1 (VolumeSnapshot, VolumeSnapshotClass). A view is a cast, never a
copy or a check: a dict from ``Cluster.get``/``list`` becomes one at one place per reader.
"""

from __future__ import annotations

from typing import Literal, TypedDict


# -- what every object shares (meta/v1) -----------------------------------------------
class ObjectMeta(TypedDict, total=False):
    """meta/v1 ObjectMeta."""

    name: str
    namespace: str
    uid: str
    generation: int
    creationTimestamp: str
    deletionTimestamp: str
    labels: dict[str, str]
    annotations: dict[str, str]


class Condition(TypedDict, total=False):
    """The common shape of a status condition (PodCondition, DeploymentCondition,
    PersistentVolumeClaimCondition): ``status`` is "True", "False" or "Unknown"."""

    type: str
    status: str
    reason: str
    message: str


class LabelSelector(TypedDict, total=False):
    """meta/v1 LabelSelector (only matchLabels: the app's workloads use no expressions)."""

    matchLabels: dict[str, str]


# -- Pod (core/v1) ---------------------------------------------------------------------
class ResourceRequirements(TypedDict, total=False):
    """core/v1 ResourceRequirements; quantities as the API serialises them ("512Mi")."""

    limits: dict[str, str]
    requests: dict[str, str]


class Container(TypedDict, total=False):
    """core/v1 Container."""

    name: str
    image: str
    resources: ResourceRequirements


class ClaimSource(TypedDict, total=False):
    """core/v1 PersistentVolumeClaimVolumeSource."""

    claimName: str


class Volume(TypedDict, total=False):
    """core/v1 Volume (a pod's; only the claim source is read)."""

    name: str
    persistentVolumeClaim: ClaimSource


class PodSpec(TypedDict, total=False):
    """core/v1 PodSpec."""

    nodeName: str
    containers: list[Container]
    volumes: list[Volume]


class ContainerStateWaiting(TypedDict, total=False):
    """core/v1 ContainerStateWaiting."""

    reason: str
    message: str


class ContainerStateTerminated(TypedDict, total=False):
    """core/v1 ContainerStateTerminated."""

    exitCode: int
    reason: str
    message: str


class ContainerState(TypedDict, total=False):
    """core/v1 ContainerState: at most one of its members is set."""

    waiting: ContainerStateWaiting
    terminated: ContainerStateTerminated


class ContainerStatus(TypedDict, total=False):
    """core/v1 ContainerStatus."""

    name: str
    image: str
    ready: bool
    restartCount: int
    state: ContainerState
    lastState: ContainerState


class PodStatus(TypedDict, total=False):
    """core/v1 PodStatus."""

    phase: str
    conditions: list[Condition]
    containerStatuses: list[ContainerStatus]
    initContainerStatuses: list[ContainerStatus]


class Pod(TypedDict, total=False):
    """core/v1 Pod."""

    apiVersion: str
    kind: Literal["Pod"]
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus


class PodTemplateSpec(TypedDict, total=False):
    """core/v1 PodTemplateSpec, a workload's template."""

    metadata: ObjectMeta
    spec: PodSpec


# -- workloads (apps/v1) ----------------------------------------------------------------
class DeploymentSpec(TypedDict, total=False):
    """apps/v1 DeploymentSpec."""

    replicas: int
    paused: bool
    selector: LabelSelector
    template: PodTemplateSpec


class DeploymentStatus(TypedDict, total=False):
    """apps/v1 DeploymentStatus."""

    observedGeneration: int
    replicas: int
    updatedReplicas: int
    readyReplicas: int
    availableReplicas: int
    conditions: list[Condition]


class Deployment(TypedDict, total=False):
    """apps/v1 Deployment."""

    apiVersion: str
    kind: Literal["Deployment"]
    metadata: ObjectMeta
    spec: DeploymentSpec
    status: DeploymentStatus


class RollingUpdateStatefulSetStrategy(TypedDict, total=False):
    """apps/v1 RollingUpdateStatefulSetStrategy."""

    partition: int


class StatefulSetUpdateStrategy(TypedDict, total=False):
    """apps/v1 StatefulSetUpdateStrategy: ``type`` is RollingUpdate (the default) or
    OnDelete."""

    type: str
    rollingUpdate: RollingUpdateStatefulSetStrategy


class StatefulSetSpec(TypedDict, total=False):
    """apps/v1 StatefulSetSpec."""

    replicas: int
    selector: LabelSelector
    template: PodTemplateSpec
    updateStrategy: StatefulSetUpdateStrategy


class StatefulSetStatus(TypedDict, total=False):
    """apps/v1 StatefulSetStatus."""

    observedGeneration: int
    replicas: int
    readyReplicas: int
    availableReplicas: int
    updatedReplicas: int
    currentRevision: str
    updateRevision: str


class StatefulSet(TypedDict, total=False):
    """apps/v1 StatefulSet."""

    apiVersion: str
    kind: Literal["StatefulSet"]
    metadata: ObjectMeta
    spec: StatefulSetSpec
    status: StatefulSetStatus


# The workloads pacdeploy waits for; ``kind`` tells them apart.
Workload = Deployment | StatefulSet


# -- storage (core/v1) ------------------------------------------------------------------
class PersistentVolumeClaimSpec(TypedDict, total=False):
    """core/v1 PersistentVolumeClaimSpec."""

    storageClassName: str
    volumeName: str


class PersistentVolumeClaimStatus(TypedDict, total=False):
    """core/v1 PersistentVolumeClaimStatus: ``phase`` Pending, Bound or Lost."""

    phase: str
    capacity: dict[str, str]
    conditions: list[Condition]


class PersistentVolumeClaim(TypedDict, total=False):
    """core/v1 PersistentVolumeClaim."""

    apiVersion: str
    kind: Literal["PersistentVolumeClaim"]
    metadata: ObjectMeta
    spec: PersistentVolumeClaimSpec
    status: PersistentVolumeClaimStatus


class PersistentVolumeSpec(TypedDict, total=False):
    """core/v1 PersistentVolumeSpec: ``persistentVolumeReclaimPolicy`` Retain or Delete."""

    persistentVolumeReclaimPolicy: str
    storageClassName: str


class PersistentVolumeStatus(TypedDict, total=False):
    """core/v1 PersistentVolumeStatus: ``phase`` Available, Bound, Released or Failed."""

    phase: str


class PersistentVolume(TypedDict, total=False):
    """core/v1 PersistentVolume."""

    apiVersion: str
    kind: Literal["PersistentVolume"]
    metadata: ObjectMeta
    spec: PersistentVolumeSpec
    status: PersistentVolumeStatus


# -- snapshots (snapshot.storage.k8s.io/v1) -----------------------------------------------
class VolumeSnapshotSource(TypedDict, total=False):
    """VolumeSnapshotSource: exactly one of the two is set."""

    persistentVolumeClaimName: str
    volumeSnapshotContentName: str


class VolumeSnapshotSpec(TypedDict, total=False):
    """VolumeSnapshotSpec."""

    volumeSnapshotClassName: str
    source: VolumeSnapshotSource


class VolumeSnapshotError(TypedDict, total=False):
    """VolumeSnapshotError: the last error cutting the snapshot, if any."""

    message: str
    time: str


class VolumeSnapshotStatus(TypedDict, total=False):
    """VolumeSnapshotStatus: ``creationTime`` once the point in time is taken,
    ``readyToUse`` once the data may be restored from."""

    boundVolumeSnapshotContentName: str
    creationTime: str
    readyToUse: bool
    restoreSize: str
    error: VolumeSnapshotError


class VolumeSnapshot(TypedDict, total=False):
    """snapshot.storage.k8s.io/v1 VolumeSnapshot."""

    apiVersion: str
    kind: Literal["VolumeSnapshot"]
    metadata: ObjectMeta
    spec: VolumeSnapshotSpec
    status: VolumeSnapshotStatus


class VolumeSnapshotClass(TypedDict, total=False):
    """snapshot.storage.k8s.io/v1 VolumeSnapshotClass (no spec: its fields are top-level)."""

    apiVersion: str
    kind: Literal["VolumeSnapshotClass"]
    metadata: ObjectMeta
    driver: str
    deletionPolicy: str


# -- events (core/v1) ---------------------------------------------------------------------
class ObjectReference(TypedDict, total=False):
    """core/v1 ObjectReference, an Event's involvedObject."""

    kind: str
    name: str
    namespace: str
    uid: str


class Event(TypedDict, total=False):
    """core/v1 Event: ``type`` Normal or Warning; ``lastTimestamp`` or, from newer
    reporters, only ``eventTime``."""

    apiVersion: str
    kind: Literal["Event"]
    metadata: ObjectMeta
    involvedObject: ObjectReference
    type: str
    reason: str
    message: str
    lastTimestamp: str
    eventTime: str
