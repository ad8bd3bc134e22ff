"""`pacdeploy report`: a support bundle, as `kubectl cnpg report` and `velero debug` make.

A tar.gz of what a maintainer asks for first: `status -o json`, the Events of the app's
objects (asked by object, never the namespace's whole list), every app pod as the API
server has it with its last 500 log lines (and its containers' previous instances'), the
revisions, the backups, the versions of pacdeploy, its client and the server, the nodes'
architectures. Only the app's objects are read.

No secret value goes in: the credentials Secret is never written, only its values are read
to mask them, and every file is redacted with them (and of any URL's password) as it is
added, as `logs` does; but for the values that are the app's own names (the generated
Secret's database and user are `pacman`, the name of the Deployment, its Service and its
image: masked, the bundle would not say which object is which). What could not be read
is said in `problems.txt`, so a half-broken app (the case a bundle is for) still gets one.
"""

from __future__ import annotations

import io
import json
import platform
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from pacdeploy.app.manifests import DEPLOYMENT, SERVICE, STATEFULSET
from pacdeploy.data import backups, revisions
from pacdeploy.diagnose.logs import read_all
from pacdeploy.errors import PacdeployError
from pacdeploy.kube import fanout
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.logs import Window
from pacdeploy.kube.resources import name_of
from pacdeploy.release.fields import comparable
from pacdeploy.status.collect import APP_PODS, collect
from pacdeploy.wait.logs import redact

LOG_LINES = 500
Files = dict[str, str]


@dataclass
class Bundle:
    files: Files = field(default_factory=dict)  # path in the archive -> its text
    problems: list[str] = field(default_factory=list)

    def add(self, part: str, make: Callable[[], Files]) -> None:
        """The files of ``part``, or a line in problems.txt saying why there are none."""
        try:
            self.files.update(make())
        except PacdeployError as exc:
            self.problems.append(f"{part}: {exc}")


def _json(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def _described(pod: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """A pod as the API server has it (without what only the server tracks), and its Events."""
    import yaml

    uid = pod["metadata"].get("uid")
    mine = [e for e in events if e.get("involvedObject", {}).get("uid") == uid]
    doc = {**(comparable(pod) or {}), "status": pod.get("status", {}), "events": mine}
    return yaml.safe_dump(doc, sort_keys=False)


def _pods(cluster: Cluster, namespace: str) -> Files:
    pods = cluster.list("Pod", namespace, label_selector=APP_PODS)
    workloads = [
        w
        for w in fanout.together(
            lambda: cluster.get("StatefulSet", STATEFULSET, namespace),
            lambda: cluster.get("Deployment", DEPLOYMENT, namespace),
        )
        if w is not None
    ]
    claims = backups.mongo_claims(cluster.list("PersistentVolumeClaim", namespace))
    events = cluster.events_about(namespace, [*pods, *workloads, *claims])
    files = {"events.json": _json(events)}
    files.update({f"pods/{name_of(p)}.yaml": _described(p, events) for p in pods})
    for previous in (False, True):
        window = Window(tail=LOG_LINES, previous=previous)
        for source, text in read_all(cluster, namespace, pods, window=window):
            if isinstance(text, str):  # a container without a previous instance has none
                suffix = ".previous" if previous else ""
                files[f"logs/{source.pod}/{source.container}{suffix}.log"] = text
    return files


def _versions(cluster: Cluster) -> Files:
    """As `kubectl version -o json` shapes them, and pacdeploy's own."""
    client = {
        "gitVersion": f"v{metadata.version('pacdeploy')}",
        "pythonKubernetes": metadata.version("kubernetes"),
        "pythonVersion": platform.python_version(),
        "platform": f"{platform.system().lower()}/{platform.machine()}",
    }
    server = cluster.request("GET", "/version")
    return {"versions.json": _json({"clientVersion": client, "serverVersion": server})}


def _nodes(cluster: Cluster) -> Files:
    """Where the pods may run: each node's architecture, OS and kubelet, nothing else."""
    rows = []
    for node in cluster.list("Node"):
        info = node.get("status", {}).get("nodeInfo", {})
        keys = ("architecture", "operatingSystem", "kubeletVersion", "containerRuntimeVersion")
        rows.append({"name": name_of(node), **{k: info.get(k) for k in keys}})
    return {"nodes.json": _json(rows)}


def gather(cluster: Cluster, namespace: str) -> Bundle:
    """Every part of the bundle, read side by side; a part that fails is a problem noted."""
    bundle = Bundle()
    parts: dict[str, Callable[[], Files]] = {
        "status": lambda: {"status.json": _json(collect(cluster, namespace))},
        "pods": lambda: _pods(cluster, namespace),
        "revisions": lambda: {
            "revisions.json": _json(revisions.documents(revisions.read(cluster, namespace)))
        },
        "backups": lambda: {
            "backups.json": _json([b.as_dict() for b in backups.list_backups(cluster, namespace)])
        },
        "versions": lambda: _versions(cluster),
        "nodes": lambda: _nodes(cluster),
    }
    fanout.each(lambda item: bundle.add(*item), parts.items())
    return bundle


def secret_only(values: list[str], namespace: str) -> list[str]:
    """The Secret's ``values`` but those that are names the app's objects carry anyway."""
    public = {DEPLOYMENT, STATEFULSET, SERVICE, namespace}
    return [v for v in values if v not in public]


def write(bundle: Bundle, path: str, *, top: str, secrets: list[str]) -> list[str]:
    """The bundle as a tar.gz at ``path``, every file under ``top/`` and redacted; the names
    written, in order."""
    files = dict(sorted(bundle.files.items()))
    if bundle.problems:
        files["problems.txt"] = "".join(f"{line}\n" for line in bundle.problems)
    now = time.time()
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = redact(text, secrets).encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mtime, info.mode = len(data), int(now), 0o600
            archive.addfile(info, io.BytesIO(data))
    return list(files)
