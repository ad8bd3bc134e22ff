"""What one worker of the parity suite owns: stand-in API servers, a CONNECT proxy, a
recording exec plugin; and a Case, the home and environment of one run of one scenario.

kubectl and pacdeploy run one after the other in the same Case (same HOME, KUBECONFIG,
environment, working directory, stdin /dev/null: no terminal); what the servers, the proxy
and the plugin saw of each run is taken as that run's Observation.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.apiserver import (
    PROXIED,
    PROXIED_SUB,
    Log,
    Pki,
    Request,
    StubServer,
    server_context,
)
from tests.support.proxy import Proxy

ROOT = Path(__file__).resolve().parents[2]
V1 = "client.authentication.k8s.io/v1"
PLUGIN = """#!{python}
import json, os, pathlib, sys
info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{{}}")
record = {{"info": info, "args": sys.argv[1:], "env": os.environ.get("PLUGIN_ENV")}}
with open(pathlib.Path(os.environ["HOME"]) / "plugin.log", "a") as log:
    log.write(json.dumps(record, sort_keys=True) + "\\n")
mode = (sys.argv[1:] or ["token"])[0]
version = info.get("apiVersion") or "{v1}"
status = {{"token": "exec-token"}}
if mode == "fail":
    sys.stderr.write("plugin: login expired\\n")
    sys.exit(1)
if mode == "empty":
    status = {{}}
if mode == "other-version":
    version = "{v1}beta1" if version == "{v1}" else "{v1}"
if mode == "cert":
    folder = pathlib.Path({pki!r})
    status = {{"clientCertificateData": (folder / "bob.crt").read_text(),
              "clientKeyData": (folder / "bob.key").read_text()}}
print(json.dumps({{"apiVersion": version, "kind": "ExecCredential", "status": status}}))
"""


class NamingProxy(Proxy):
    """The test proxy, which also reaches the names only it knows (PROXIED, PROXIED_SUB)."""

    @staticmethod
    def _connect(host: str, port: int) -> socket.socket:
        if host in (PROXIED, PROXIED_SUB):
            host = "127.0.0.1"
        return Proxy._connect(host, port)


@dataclass
class World:
    folder: Path
    pki: Pki
    log: Log = field(default_factory=Log)
    servers: dict[str, StubServer] = field(default_factory=dict)
    proxy: NamingProxy = field(default_factory=NamingProxy)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __enter__(self) -> World:
        self.servers = {
            "tls": StubServer("tls", self.log, server_context(self.pki, "tls")),
            "other": StubServer("other", self.log, server_context(self.pki, "other")),
            "named": StubServer("named", self.log, server_context(self.pki, "named")),
            "plain": StubServer("plain", self.log),
        }
        for server in self.servers.values():
            self.stack.enter_context(server)
        self.stack.enter_context(self.proxy)
        self.bin.mkdir(parents=True, exist_ok=True)
        plugin = self.bin / "record-plugin"
        plugin.write_text(PLUGIN.format(python=sys.executable, v1=V1, pki=str(self.pki.folder)))
        plugin.chmod(0o755)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    @property
    def bin(self) -> Path:
        return self.folder / "bin"

    @property
    def plugin(self) -> str:
        return str(self.bin / "record-plugin")

    def url(self, name: str, host: str = "127.0.0.1") -> str:
        return self.servers[name].url(host)

    def b64(self, name: str) -> str:
        """A PKI file as kubeconfig ``*-data``."""
        path = self.pki.folder / name
        return base64.b64encode(path.read_bytes()).decode()

    def observe(self, home: Path, result: subprocess.CompletedProcess[str]) -> Observation:
        plugin_log = home / "plugin.log"
        runs = plugin_log.read_text().splitlines() if plugin_log.exists() else []
        plugin_log.unlink(missing_ok=True)
        seen = self.proxy.seen
        with seen.lock:
            proxy = (len(seen.tunnels), seen.not_connect)
            seen.tunnels.clear()
            seen.not_connect = 0
        return Observation(
            failed=result.returncode != 0,
            requests=self.log.take(),
            proxy=proxy,
            plugin=[json.loads(line) for line in runs],
            stderr=result.stderr.strip()[-400:],
        )


@dataclass
class Observation:
    failed: bool
    requests: list[Request]
    proxy: tuple[int, int]  # tunnels opened, requests that were not CONNECT
    plugin: list[dict[str, Any]]
    stderr: str


@dataclass
class Case:
    """One scenario's home: the files it writes, the environment and flags of both runs."""

    world: World
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)

    def write(self, relative: str, content: Any) -> Path:
        """``content``: a mapping (written as YAML), text, or bytes."""
        path = self.home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, (dict, list)):
            content = yaml.safe_dump(content, sort_keys=False)
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        return path

    def copy(self, pki_name: str, relative: str) -> Path:
        path = self.home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.world.pki.folder / pki_name, path)
        return path

    def environment(self) -> dict[str, str]:
        return {
            "PATH": f"{self.world.bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "PYTHONPATH": str(ROOT),
            "PACDEPLOY_API_RETRY_SECONDS": "0",
            "LANG": "C.UTF-8",
            **self.env,
        }
