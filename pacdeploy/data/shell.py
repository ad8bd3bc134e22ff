"""`pacdeploy shell`: MongoDB's shell in a ready mongo pod, logged in as the app's user
(or root), as `kubectl cnpg psql` opens psql in the primary.

Everything it needs is read from the live StatefulSet, so it follows the stack deployed:
which shell its image has and how that shell reads a file (app/stacks.py: `mongo` and
`cat()` in MongoDB 4.4's image, `mongosh` and `fs.readFileSync()` from 6.0 on), and where
the credentials Secret is mounted, key by key. The
password is read by the shell itself from that file inside the container, so it never
appears on a command line (`ps` in the pod, the API server's audit log, the exec record).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pacdeploy.app import stacks
from pacdeploy.app.credentials import KEYS
from pacdeploy.app.manifests import SECRET
from pacdeploy.data.consistency import CONTAINER, ROOT_USER, ready_mongo_pods
from pacdeploy.errors import NotReady
from pacdeploy.kube.client import Cluster


@dataclass(frozen=True)
class Shell:
    """The shell of a deployed mongo, and where its credentials are mounted."""

    stack: stacks.Stack
    files: dict[str, str]  # Secret key -> the file it is mounted as

    @property
    def program(self) -> str:
        return self.stack.shell

    def read(self, key: str) -> str:
        """A JS expression: the value of Secret ``key``, read in the container."""
        return f"{self.stack.read_file % json.dumps(self.files[key])}.trim()"

    def login(self, *, admin: bool) -> str:
        """JS that logs in (root on `admin`, or the app's user on its database)."""
        if admin:
            user = (
                self.read("database-admin-name")
                if "database-admin-name" in self.files
                else json.dumps(ROOT_USER)  # the image names its root user itself
            )
            database, password = json.dumps("admin"), self.read("database-admin-password")
        else:
            database, user = self.read("database-name"), self.read("database-user")
            password = self.read("database-password")
        return f"db = db.getSiblingDB({database}); db.auth({user}, {password})"

    def command(self, *, admin: bool, expression: str | None) -> list[str]:
        """The shell, logged in: interactive, or evaluating ``expression`` and printing it."""
        login = self.login(admin=admin)
        if expression is None:
            return [self.program, "--quiet", "--shell", "--eval", f"{login};"]
        return [self.program, "--quiet", "--eval", f"{login}; printjson({expression})"]


def _container(statefulset: dict[str, Any]) -> dict[str, Any]:
    containers = statefulset["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == CONTAINER)


def shell_of(statefulset: dict[str, Any]) -> Shell:
    """The shell the StatefulSet's image has and the files its credentials are mounted as."""
    container = _container(statefulset)
    volumes = statefulset["spec"]["template"]["spec"].get("volumes") or []
    secret = next(v for v in volumes if (v.get("secret") or {}).get("secretName") == SECRET)
    mount = next(m for m in container["volumeMounts"] if m["name"] == secret["name"])
    items = secret["secret"].get("items") or []
    paths = {i["key"]: i["path"] for i in items}
    keys = paths or {k: k for k in KEYS}  # no items: each key is a file of its name
    files = {key: f"{mount['mountPath']}/{path}" for key, path in keys.items()}
    return Shell(stacks.of_container(container), files)


def ready_pod(cluster: Cluster, namespace: str) -> str:
    """The first ready mongo pod; NotReady naming what to check when there is none."""
    pods = ready_mongo_pods(cluster, namespace)
    if not pods:
        raise NotReady(
            f"no mongo pod is ready in namespace {namespace}",
            f"See why with `pacdeploy status -n {namespace}`",
        )
    return next(iter(pods))  # by name: mongo-0 first
