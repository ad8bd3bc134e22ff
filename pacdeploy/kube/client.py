"""One authenticated connection to one API server, and the calls pacdeploy makes on it.

Every request leaves through `wire.Wire.exchange`. REST calls go there by
:meth:`Cluster.send`, which retries what is worth retrying for a bounded time (logged at -v)
and turns everything else into a PacdeployError with one line a user can act on, the
original exception chained as its cause; watches (`watch.py`) and websockets (exec,
port-forward) go there directly, as their retries differ.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pacdeploy.errors import Conflict, NotFound, PacdeployError
from pacdeploy.kube import errors, fanout, kubeconfig
from pacdeploy.kube.dialing import Ahead
from pacdeploy.kube.resources import FIELD_MANAGER, holds, name_of, path_of, resource
from pacdeploy.kube.transport import Transport
from pacdeploy.kube.wire import REQUEST_TIMEOUT, Request, Wire

log = logging.getLogger(__name__)

# Bounded so that a dead API server is reported in seconds, not minutes.
RETRY_SECONDS = float(os.environ.get("PACDEPLOY_API_RETRY_SECONDS", "20"))
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
# What the API server allocates on a Service and a PUT must carry over.
SERVICE_ALLOCATED = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")


# `Cluster.list` shadows the builtin inside the class: its annotations use this name.
Items = list[dict[str, Any]]


@dataclass(frozen=True)
class Cluster:
    wire: Wire
    context: str
    server: str
    retry_seconds: float = RETRY_SECONDS

    @property
    def transport(self) -> Transport:
        return self.wire.transport

    # -- requests -------------------------------------------------------------------
    def request(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """:meth:`send`, decoding the JSON body."""
        data = self.send(method, path, **options)
        return json.loads(data) if data else {}

    def send(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        timeout: tuple[float, float] = REQUEST_TIMEOUT,
    ) -> bytes:
        """One API call with bounded retries; returns the raw body."""
        request = Request(method, path, query, body, content_type, timeout)

        def once() -> bytes:
            response = self.wire.rest(request)
            data = response.read()
            if not 200 <= response.status <= 299:
                raise errors.api_error(response.status, data)
            return data

        try:
            try:
                return once()
            except Exception as exc:
                if not errors.is_transient(exc):
                    raise
                from pacdeploy.kube import retries  # tenacity, on the first failure worth it

                return retries.again(once, exc, seconds=self.retry_seconds, what=(method, path))
        except PacdeployError:
            raise
        except Exception as exc:
            raise errors.translate(exc, self.where(method, path)) from exc

    def where(self, method: str, path: str, retry_seconds: float | None = None) -> errors.Where:
        seconds = self.retry_seconds if retry_seconds is None else retry_seconds
        proxy = self.transport.proxy.url if self.transport.proxy else None
        return errors.Where(method, path, self.server, self.context, seconds, proxy)

    def open_websocket(self, path: str, query: dict[str, Any], protocol: str) -> Any:
        """A websocket to ``path`` (port-forward, exec): `Wire.exchange`, as every request."""
        return self.wire.upgrade(Request("GET", path, query), protocol)

    # -- objects ----------------------------------------------------------------------
    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        try:
            return self.request("GET", resource(kind).path(name, namespace))
        except NotFound:
            return None

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Items:
        return self.list_with_version(
            kind, namespace, label_selector=label_selector, field_selector=field_selector
        )[0]

    def list_with_version(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[Items, str]:
        """The items and the list's resourceVersion, to watch from."""
        found = self.request(
            "GET",
            resource(kind).path(namespace=namespace),
            query={"labelSelector": label_selector, "fieldSelector": field_selector},
        )
        return found.get("items", []), found["metadata"]["resourceVersion"]

    def apply(
        self, obj: dict[str, Any], *, force: bool = False, dry_run: bool = False
    ) -> dict[str, Any]:
        """Server-side apply: idempotent, and a no-op leaves resourceVersion untouched.

        A conflict with pacdeploy's own writes through another operation (replicas set by
        `scale`) is no conflict with anyone else: applied again, forced.
        """
        query = {"fieldManager": FIELD_MANAGER, "dryRun": "All" if dry_run else None}
        try:
            return self.request(
                "PATCH",
                path_of(obj),
                query={**query, "force": "true" if force else None},
                body=obj,
                content_type=APPLY_PATCH,
            )
        except Conflict as exc:
            if force or not errors.only_own_conflicts(exc.problem, FIELD_MANAGER):
                raise
        return self.request(
            "PATCH",
            path_of(obj),
            query={**query, "force": "true"},
            body=obj,
            content_type=APPLY_PATCH,
        )

    def create(self, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST ``obj``; an object of its name that holds all of it counts as created.

        :meth:`send` retries a POST whose answer was lost (an API server restarting), and
        the first attempt may have landed: its retry then meets AlreadyExists for the very
        object it made. client-go never retries a write for this reason; pacdeploy does, so
        it recognises its own. Anything else under that name is still a Conflict.
        """
        namespace = obj["metadata"].get("namespace")
        try:
            return self.request(
                "POST",
                resource(obj["kind"]).path(namespace=namespace),
                query={"fieldManager": FIELD_MANAGER, "dryRun": "All" if dry_run else None},
                body=obj,
            )
        except Conflict:
            live = None if dry_run else self.get(obj["kind"], name_of(obj), namespace)
            if live is None or not holds(live, obj):
                raise
            log.info("%s/%s already holds what was sent: created", obj["kind"], name_of(obj))
            return live

    def replace(self, obj: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        """PUT ``obj`` over ``current``, keeping what the API server allocated (Service IPs)."""
        metadata = {**obj["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]}
        body = {**obj, "metadata": metadata}
        if obj["kind"] == "Service":
            kept = {k: current["spec"][k] for k in SERVICE_ALLOCATED if k in current["spec"]}
            body["spec"] = {**obj["spec"], **kept}
        return self.request("PUT", path_of(obj), query={"fieldManager": FIELD_MANAGER}, body=body)

    def merge_patch(
        self,
        kind: str,
        name: str,
        patch: dict[str, Any],
        *,
        namespace: str | None = None,
        subresource: str = "",
    ) -> dict[str, Any]:
        return self.request(
            "PATCH",
            resource(kind).path(name, namespace, subresource),
            query={"fieldManager": FIELD_MANAGER},
            body=patch,
            content_type=MERGE_PATCH,
        )

    def delete(
        self, kind: str, name: str, namespace: str | None = None, *, cascade: str = "Background"
    ) -> bool:
        """Delete, its dependents in the background like kubectl (``cascade="Orphan"``: they
        stay, as `kubectl delete --cascade=orphan`); False if it was already gone."""
        try:
            self.request(
                "DELETE",
                resource(kind).path(name, namespace),
                body={"propagationPolicy": cascade},
            )
        except NotFound:
            return False
        return True

    def events_about(
        self, namespace: str, objects: Iterable[Mapping[str, Any]], limit: int | None = None
    ) -> Items:
        """The Events of these objects only, asked by uid side by side: a busy namespace
        keeps thousands, so its Events are never listed whole. ``limit``: the first uids."""
        uids = sorted({uid for o in objects if (uid := o["metadata"].get("uid"))})[:limit]
        found = fanout.each(
            lambda uid: self.list("Event", namespace, field_selector=f"involvedObject.uid={uid}"),
            uids,
        )
        return [event for events in found for event in events]

    def with_retry_budget(self, seconds: float) -> Cluster:
        """The same connection with another retry budget (0: fail on the first error)."""
        return Cluster(self.wire, self.context, self.server, seconds)


def connect(
    kubeconfig_file: str | None = None,
    context: str | None = None,
    *,
    retry_seconds: float = RETRY_SECONDS,
    ahead: Ahead | None = None,
) -> Cluster:
    """The cluster kubectl would reach with these flags, as the user kubectl would be.
    Credentials are obtained here, so a failing plugin stops the command before any request.

    ``ahead``: what the command started for these flags before its modules loaded
    (`dialing.start`): the endpoint, and the connections its first round wants, their TLS
    done there or (with an exec plugin) started here once the credentials are known, in
    threads, while this one loads the official REST layer (`Wire.prepare`).
    """
    if ahead is None:
        ahead = Ahead(kubeconfig.load(kubeconfig_file, context), connections=1)
    endpoint = ahead.endpoint
    transport = Transport(endpoint, dialed=ahead.dialed)
    transport.prepare()
    transport.warm(ahead.connections)
    wire = Wire(transport, endpoint.server)
    wire.prepare()
    return Cluster(wire, endpoint.context, endpoint.server, retry_seconds)
