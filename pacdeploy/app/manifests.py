"""The app's manifests: loaded from manifests/ (the kustomization) and rendered with options."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pacdeploy import yamlio
from pacdeploy.app import stacks
from pacdeploy.errors import InvalidInput
from pacdeploy.kube.resources import name_of, resource

DEFAULT_NAMESPACE = "pacman"
DEPLOYMENT = "pacman"
STATEFULSET = "mongo"
SERVICE = "pacman"
INGRESS = "pacman-ingress"
SECRET = "mongodb-users-secret"
MANAGED_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = {MANAGED_LABEL: "pacdeploy"}
MAX_REPLICAS = 100
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
ARCH_LABEL = "kubernetes.io/arch"

# A Kubernetes quantity as `kubectl` takes a size: digits, a fraction, a binary or SI suffix.
_QUANTITY = re.compile(r"^(?P<number>[0-9]+(\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(
    r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


@dataclass(frozen=True)
class Options:
    namespace: str = DEFAULT_NAMESPACE
    replicas: int = 1
    service_type: str = "LoadBalancer"
    ingress: bool = False
    ingress_host: str = "pacman.com"
    ingress_class: str = "nginx"
    pacman_image: str | None = None
    volume_permissions: bool = False
    storage_size: str = "1Gi"  # each mongo claim's; volumes grow, never shrink
    stack: str = stacks.DEFAULT  # which images (app/stacks.py)
    mongo_image: str | None = None


def validate_namespace(name: str) -> None:
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise InvalidInput(
            f"invalid namespace {name!r}: it must be a DNS-1123 label",
            "Use at most 63 lowercase letters, digits and '-', starting and ending alphanumeric",
        )


def validate_replicas(replicas: int) -> None:
    if not 0 <= replicas <= MAX_REPLICAS:
        raise InvalidInput(
            f"invalid replicas {replicas}: must be between 0 and {MAX_REPLICAS}",
            "Pass --replicas with a number in that range",
        )


def validate_ingress_host(host: str) -> None:
    if len(host) > 253 or not _DNS_SUBDOMAIN.match(host):
        raise InvalidInput(
            f"invalid ingress host {host!r}: it must be a DNS name like pacman.example.com",
            "Pass --ingress-host made of lowercase letters, digits, '-' and '.' ('*.' may lead)",
        )


def validate_ingress_class(name: str) -> None:
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name) or name.startswith("*."):
        raise InvalidInput(
            f"invalid ingress class {name!r}: it must be a DNS-1123 subdomain like nginx",
            "Pass --ingress-class with an IngressClass name (kubectl get ingressclass)",
        )


def validate_storage_size(size: str) -> None:
    found = _QUANTITY.match(size)
    if found is None or float(found.group("number")) == 0:
        raise InvalidInput(
            f"invalid storage size {size!r}: it must be a quantity like 2Gi or 500Mi",
            "Pass --storage-size as a number with a suffix such as Mi, Gi or Ti",
        )


def validate(options: Options) -> None:
    stacks.get(options.stack)
    validate_namespace(options.namespace)
    validate_replicas(options.replicas)
    validate_storage_size(options.storage_size)
    if options.service_type not in SERVICE_TYPES:
        raise InvalidInput(
            f"invalid service type {options.service_type!r}",
            f"Use one of {', '.join(SERVICE_TYPES)}",
        )
    if options.ingress:
        validate_ingress_host(options.ingress_host)
        validate_ingress_class(options.ingress_class)


def manifests_dir() -> Path:
    """manifests/ shipped in the wheel, or the repository's own in a source checkout."""
    from importlib import resources  # only when rendering: keeps `--help` and start-up light

    packaged = Path(str(resources.files("pacdeploy"))) / "manifests"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "manifests"


@cache
def load(directory: Path | None = None, stack: str = stacks.DEFAULT) -> tuple[dict[str, Any], ...]:
    """The objects of the kustomization, in its order, with ``stack``'s files in place of
    the default's."""
    directory = directory or manifests_dir()
    kustomization = yamlio.load((directory / "kustomization.yaml").read_text())
    files = stacks.get(stack).files
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        text = (directory / files.get(name, name)).read_text()
        docs += [d for d in yamlio.load_all(text) if d]
    return tuple(docs)


@cache
def volume_permissions_init(directory: Path | None = None) -> dict[str, Any]:
    """The init container of the `volume-permissions` kustomize Component."""
    directory = directory or manifests_dir()
    patch = yamlio.load((directory / "volume-permissions" / "init-container.yaml").read_text())
    (init,) = patch["spec"]["template"]["spec"]["initContainers"]
    found: dict[str, Any] = init
    return found


def _claim_requests(statefulset: dict[str, Any]) -> dict[str, Any]:
    requests: dict[str, Any] = statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["resources"][
        "requests"
    ]
    return requests


def claim_size(statefulset: dict[str, Any]) -> str:
    """What the StatefulSet's claim template asks for: the size of each new mongo claim."""
    return str(_claim_requests(statefulset)["storage"])


def with_claim_size(statefulset: dict[str, Any], size: str) -> None:
    _claim_requests(statefulset)["storage"] = size


def claim_template() -> str:
    """The StatefulSet's volumeClaimTemplate name: its claims are `<template>-mongo-<n>`."""
    statefulset = next(o for o in load() if o["kind"] == "StatefulSet")
    return name_of(statefulset["spec"]["volumeClaimTemplates"][0])


def cluster_scoped_name(base: str, namespace: str) -> str:
    """Cluster-scoped names carry the namespace: `pacman-node-reader-<namespace>`."""
    return f"{base.rsplit('-', 1)[0]}-{namespace}"


def _place(obj: dict[str, Any], ns: str) -> None:
    """Into namespace ``ns``: its objects there, cluster-scoped names suffixed with it."""
    kind, meta = obj["kind"], obj["metadata"]
    meta.setdefault("labels", {}).update(MANAGED_BY)
    if kind == "Namespace":
        meta["name"] = ns
    elif resource(kind).namespaced:
        meta["namespace"] = ns
    else:
        meta["name"] = cluster_scoped_name(meta["name"], ns)
    if kind == "ClusterRoleBinding":
        obj["roleRef"]["name"] = cluster_scoped_name(obj["roleRef"]["name"], ns)
        for subject in obj["subjects"]:
            subject["namespace"] = ns


def _with_image(pod: dict[str, Any], image: stacks.Image, override: str | None) -> None:
    """The pod runs ``override`` or the stack's image, and only on nodes of an architecture
    the stack's image is published for (an override's platforms are not known)."""
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        container["image"] = override or image.ref
    if override:
        pod.pop("affinity", None)
        return
    term = {"key": ARCH_LABEL, "operator": "In", "values": list(image.platforms)}
    required = {"nodeSelectorTerms": [{"matchExpressions": [term]}]}
    pod["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}


def _volume_permissions(pod: dict[str, Any]) -> dict[str, Any]:
    """The chown init container, for this pod's user and its data volume's mount."""
    init = copy.deepcopy(volume_permissions_init())
    init["image"] = pod["containers"][0]["image"]  # one image to pull, one to pin
    context = pod["securityContext"]
    owner = f"{context['runAsUser']}:{context['fsGroup']}"
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == init_volume(init)]
    init["command"][-2:] = [owner, mount["mountPath"]]
    init["volumeMounts"][0]["mountPath"] = mount["mountPath"]
    return init


def init_volume(init: dict[str, Any]) -> str:
    return str(init["volumeMounts"][0]["name"])


def _apply_options(obj: dict[str, Any], options: Options) -> None:
    kind, meta = obj["kind"], obj["metadata"]
    stack = stacks.get(options.stack)
    if kind == "Namespace" and options.volume_permissions:
        meta["labels"][PSA_ENFORCE] = "baseline"  # its init container runs as root
    elif kind == "Deployment":
        obj["spec"]["replicas"] = options.replicas
        _with_image(obj["spec"]["template"]["spec"], stack.web, options.pacman_image)
    elif kind == "StatefulSet":
        with_claim_size(obj, options.storage_size)
        pod = obj["spec"]["template"]["spec"]
        _with_image(pod, stack.mongo, options.mongo_image)
        if options.volume_permissions:
            pod["initContainers"] = [*pod.get("initContainers", []), _volume_permissions(pod)]
    elif kind == "Service" and meta["name"] == SERVICE:
        obj["spec"]["type"] = options.service_type
    elif kind == "Ingress":
        obj["spec"]["ingressClassName"] = options.ingress_class
        obj["spec"]["rules"][0]["host"] = options.ingress_host


def render(options: Options) -> list[dict[str, Any]]:
    """The objects `up` applies, in dependency order, labelled as pacdeploy's."""
    rendered = []
    for source in load(None, options.stack):
        if source["kind"] == "Ingress" and not options.ingress:
            continue
        obj = copy.deepcopy(source)
        _place(obj, options.namespace)
        _apply_options(obj, options)
        rendered.append(obj)
    return rendered


def is_managed(obj: Mapping[str, Any]) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    return labels.get(MANAGED_LABEL) == MANAGED_BY[MANAGED_LABEL]
