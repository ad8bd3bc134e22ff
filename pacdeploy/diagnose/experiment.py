"""`pacdeploy test`: the lesson's experiment, as `helm test` runs a chart's own check.

Through pacdeploy's own forward, a high score is written with the app's API, `mongo-0` is
deleted, and once it is Ready again on the very claim it had, the scores are read back
through the API and the one written must be there; then it is removed again, in mongo's
shell (the password read inside the pod, as `shell` does). Each step is timed; the first
that fails ends the test with exit 6, naming it.

The score stays within the app's own validation (saintdle/pacman's score-validation.js:
at most 104*10 + 4*50 + 4*4*100 = 2840 points per level), under a name no player has.
"""

from __future__ import annotations

import http.client
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from pacdeploy.app import deployed
from pacdeploy.app.manifests import SERVICE, STATEFULSET
from pacdeploy.data import shell
from pacdeploy.data.consistency import CONTAINER
from pacdeploy.errors import Conflict, NotReady, PacdeployError
from pacdeploy.forward.server import Forwarder
from pacdeploy.kube import podexec, watch
from pacdeploy.kube.client import Cluster
from pacdeploy.restore.intent import intent_of
from pacdeploy.wait import readiness
from pacdeploy.wait.polling import Deadline, rounds

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import Pod

POD = f"{STATEFULSET}-0"
SCORE, LEVEL = 2840, 1  # the most one level allows
HTTP_SECONDS = 10.0
COLLECTION = "highscore"  # where the app keeps its scores (its db adapters' name)


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    detail: str

    def line(self) -> str:
        return f"{self.name:<10} {self.seconds:6.2f}s  {self.detail}"


class StepFailed(NotReady):
    """A step of the experiment did not hold (exit 6)."""


def refuse_unfinished(statefulset: dict[str, Any], namespace: str) -> None:
    """A restore left half-way: the data the test would check is not settled."""
    if (under_way := intent_of(statefulset)) is not None:
        raise Conflict(
            f"a restore from {under_way.source} is under way in namespace {namespace}",
            f"Finish it first: `{under_way.command(namespace)}`",
        )


def _request(url: str, method: str, path: str, *, body: dict[str, Any] | None = None) -> Any:
    """One HTTP exchange straight to the forward (no proxy: it is this machine's port)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=HTTP_SECONDS)
    try:
        data = urllib.parse.urlencode(body).encode() if body is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if data else {}
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        raise PacdeployError(f"{method} {path}: {exc}") from exc
    finally:
        connection.close()
    if response.status != 200:
        raise PacdeployError(f"{method} {path}: HTTP {response.status} {text[:120]}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise PacdeployError(f"{method} {path}: not JSON: {text[:120]}") from exc


@contextmanager
def forwarded(cluster: Cluster, namespace: str) -> Iterator[str]:
    """pacdeploy's forward to the app's Service on a free local port, for the block: its URL."""
    forwarder = Forwarder(
        cluster, namespace, SERVICE, port=80, address="127.0.0.1", local_port=0
    ).open()
    threading.Thread(target=forwarder.serve_forever, daemon=True, name="forward").start()
    try:
        yield forwarder.url
    finally:
        forwarder.stop()


def _uid(obj: dict[str, Any] | None) -> str | None:
    uid = (obj or {}).get("metadata", {}).get("uid")
    return str(uid) if uid else None


class Experiment:
    def __init__(self, cluster: Cluster, namespace: str, *, timeout: float) -> None:
        self.cluster, self.namespace, self.timeout = cluster, namespace, timeout
        self.name = f"pacdeploy-test-{secrets.token_hex(3)}"

    def run(self, report: Callable[[Step], None], *, keep_pod: bool) -> None:
        statefulset = deployed.get(
            self.cluster, "StatefulSet", STATEFULSET, namespace=self.namespace
        )
        refuse_unfinished(statefulset, self.namespace)
        program = shell.shell_of(statefulset)
        with forwarded(self.cluster, self.namespace) as url:
            report(self._step("write", lambda: self.write(url)))
            if not keep_pod:
                before = cast("Pod", self.cluster.get("Pod", POD, self.namespace) or {})
                report(self._step("delete", lambda: self.delete(before)))
                report(self._step("ready", lambda: self.ready_again(before)))
            report(self._step("read", lambda: self.read(url)))
        report(self._step("remove", lambda: self.remove(program)))

    def _step(self, name: str, act: Callable[[], str]) -> Step:
        started = time.monotonic()
        try:
            detail = act()
        except PacdeployError as exc:
            raise StepFailed(
                f"test failed at step {name} after {time.monotonic() - started:.1f}s: "
                f"{exc.problem}",
                exc.fix,
            ) from exc
        return Step(name, time.monotonic() - started, detail)

    def write(self, url: str) -> str:
        score = {"name": self.name, "cloud": "pacdeploy", "zone": "test", "host": "pacdeploy"}
        answer = _request(
            url, "POST", "/highscores", body={**score, "score": SCORE, "level": LEVEL}
        )
        if isinstance(answer, dict) and answer.get("rs", "success") != "success":
            raise PacdeployError(f"the app did not keep the score: {answer}")
        return f"{SCORE} points as {self.name}, through {url}"

    def delete(self, before: Pod) -> str:
        if not before or not self.cluster.delete("Pod", POD, self.namespace):
            raise PacdeployError(f"pod {POD} not found in namespace {self.namespace}")
        return f"pod {POD} deleted"

    def ready_again(self, before: Pod) -> str:
        """A new mongo-0, Ready, on the claim it had: the same name and the same object."""
        claims = readiness.claims_of(before)
        wanted = {c: self.cluster.get("PersistentVolumeClaim", c, self.namespace) for c in claims}
        one = watch.Selection.one("Pod", POD, self.namespace)
        for pod in watch.follow(self.cluster, one, seconds=self.timeout):
            if pod is None or pod["metadata"]["uid"] == before["metadata"]["uid"]:
                continue
            if readiness.has_ready_condition(pod):
                return self._same_claims(cast("Pod", pod), wanted)  # as watched
        raise PacdeployError(f"pod {POD} was not Ready again within {self.timeout:.0f}s")

    def _same_claims(self, pod: Pod, wanted: dict[str, Any]) -> str:
        for name, claim in wanted.items():
            now = self.cluster.get("PersistentVolumeClaim", name, self.namespace)
            if name not in readiness.claims_of(pod) or _uid(now) != _uid(claim):
                raise PacdeployError(
                    f"pod {POD} came back on another claim than {name}: the data is not the same"
                )
        return f"pod {POD} Ready on {', '.join(wanted) or 'no claim'}"

    def read(self, url: str) -> str:
        """The score among those the app lists (it may take a moment to find mongo again)."""
        seen: Any = None
        for _ in rounds(Deadline(min(self.timeout, 60.0))):
            try:
                seen = _request(url, "GET", "/highscores/list")
            except PacdeployError:
                continue
            if any(isinstance(s, dict) and s.get("name") == self.name for s in seen or []):
                return f"{self.name} found among {len(seen)} scores"
        raise PacdeployError(f"{self.name} is not among the scores the app lists: {seen}")

    def remove(self, program: shell.Shell) -> str:
        pod = shell.ready_pod(self.cluster, self.namespace)
        mine = json.dumps({"name": self.name})
        expression = f"db.{COLLECTION}.deleteMany({mine}).deletedCount"
        command = program.command(admin=False, expression=expression)
        where = podexec.Where(pod, self.namespace, CONTAINER)
        ran = podexec.run(self.cluster, where, command, timeout=60.0)
        if not ran.ok:
            raise PacdeployError(f"{command[0]} in pod {pod}: {ran.reason or ran.stderr.strip()}")
        return f"{self.name} removed in pod {pod}"
