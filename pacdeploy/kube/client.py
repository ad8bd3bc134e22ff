"""One authenticated connection to one API server, and every request pacdeploy makes.

Every request goes through :meth:`Cluster.send`, which retries what is worth retrying for a
bounded time (logged at -v) and turns everything else into a PacdeployError with one line
a user can act on, the original exception chained as its cause.
"""

from __future__ import annotations

import json
import logging
import math
import os
import select
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import urllib3
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay

from pacdeploy.errors import Conflict, NotFound, PacdeployError, WatchExpired
from pacdeploy.kube import errors, kubeconfig
from pacdeploy.kube.resources import FIELD_MANAGER, path_of, resource

log = logging.getLogger(__name__)

# Bounded so that a dead API server is reported in seconds, not minutes.
RETRY_SECONDS = float(os.environ.get("PACDEPLOY_API_RETRY_SECONDS", "20"))
REQUEST_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
# A watch is closed by the server after this long and re-established from the last version.
WATCH_SECONDS = 300
TICKET_WAIT = 0.05  # seconds, at least, for a new connection's TLS session tickets
# What the API server allocates on a Service and a PUT must carry over.
SERVICE_ALLOCATED = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy")


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    method, path = state.args[:2] if len(state.args) >= 2 else ("?", "?")
    log.info(
        "retrying %s %s (attempt %d, %.1fs so far): %s",
        method,
        path,
        state.attempt_number,
        state.seconds_since_start or 0.0,
        errors.short_reason(getattr(exc, "reason", exc)),
    )


@dataclass(frozen=True)
class Cluster:
    api: Any  # kubernetes.client.ApiClient
    context: str
    server: str
    retry_seconds: float = RETRY_SECONDS

    # -- transport ------------------------------------------------------------------
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
        from kubernetes.client.exceptions import ApiException

        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        verb, url, headers, body, _ = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )

        def once(_method: str, _path: str) -> bytes:
            response = self.api.call_api(
                verb, url, header_params=headers, body=body, _request_timeout=timeout
            )
            data = response.read()
            if not 200 <= response.status <= 299:
                raise ApiException(http_resp=response, body=data.decode(errors="replace"))
            return data

        retrying = Retrying(
            retry=retry_if_exception(errors.is_transient),
            stop=stop_after_delay(self.retry_seconds),
            wait=errors.retry_after,
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            return retrying(once, method, path)
        except PacdeployError:
            raise
        except Exception as exc:
            where = errors.Where(method, path, self.server, self.context, self.retry_seconds)
            raise errors.translate(exc, where) from exc

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
    ) -> list[dict[str, Any]]:
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
    ) -> tuple[list[dict[str, Any]], str]:
        """The items and the list's resourceVersion, to watch from."""
        found = self.request(
            "GET",
            resource(kind).path(namespace=namespace),
            query={"labelSelector": label_selector, "fieldSelector": field_selector},
        )
        return found.get("items", []), found["metadata"]["resourceVersion"]

    def watch(
        self,
        kind: str,
        namespace: str | None = None,
        *,
        resource_version: str,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = WATCH_SECONDS,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(type, object) for each change after ``resource_version``, until the server ends
        the watch. Bookmarks are asked for and skipped; WatchExpired (410) means: list again.
        """
        query = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": timeout_seconds,
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
        }
        path = resource(kind).path(namespace=namespace)
        _, url, headers, _, _ = self.api.param_serialize(
            method="GET",
            resource_path=path,
            query_params=[(k, v) for k, v in query.items() if v is not None],
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        try:
            response = self.api.call_api(
                "GET", url, header_params=headers, _request_timeout=(5.0, timeout_seconds + 30)
            )
        except Exception as exc:
            if errors.is_transient(exc):  # the server may be restarting: list (with retries)
                raise WatchExpired(f"watch of {path} could not start: {exc}") from exc
            where = errors.Where("WATCH", path, self.server, self.context, 0)
            raise errors.translate(exc, where) from exc
        stream = response.response
        try:
            if response.status != 200:
                where = errors.Where("WATCH", path, self.server, self.context, 0)
                raise errors.translate(errors.api_error(response.status, stream.read()), where)
            for line in stream:
                event = json.loads(line)
                kind_of_event, obj = event["type"], event["object"]
                if kind_of_event == "ERROR":
                    if obj.get("code") == 410:
                        raise WatchExpired(obj.get("message", "resource version too old"))
                    raise PacdeployError(f"watch of {path} failed: {obj.get('message')}")
                if kind_of_event != "BOOKMARK":
                    yield kind_of_event, obj
        except (OSError, ValueError, urllib3.exceptions.HTTPError) as exc:  # the stream broke
            raise WatchExpired(f"watch of {path} broke: {exc}") from exc
        finally:
            stream.release_conn()

    def follow(
        self,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        seconds: float,
        known: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any] | None]:
        """Each version of one object for ``seconds``: as it is now, then every change
        (None: absent or deleted). List, then watch from the list's resourceVersion; 410
        Gone or a broken stream: list again. ``known``: the object as a write just returned
        it, watched from its own resourceVersion without listing first (a round trip less).
        """
        selector = f"metadata.name={name}"
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if known is not None:
                found, version, known = known, known["metadata"]["resourceVersion"], None
            else:
                items, version = self.list_with_version(kind, namespace, field_selector=selector)
                # List items carry no kind or apiVersion; watch events do.
                api_version = resource(kind).api_version
                found = {"apiVersion": api_version, "kind": kind, **items[0]} if items else None
            yield found
            try:
                for event, obj in self.watch(
                    kind,
                    namespace,
                    resource_version=version,
                    field_selector=selector,
                    timeout_seconds=max(1, math.ceil(left)),
                ):
                    yield None if event == "DELETED" else obj
            except WatchExpired:
                continue

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
        return self.request(
            "POST",
            resource(obj["kind"]).path(namespace=obj["metadata"].get("namespace")),
            query={"fieldManager": FIELD_MANAGER, "dryRun": "All" if dry_run else None},
            body=obj,
        )

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

    def delete(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete in the background like kubectl; False if it was already gone."""
        try:
            self.request(
                "DELETE",
                resource(kind).path(name, namespace),
                body={"propagationPolicy": "Background"},
            )
        except NotFound:
            return False
        return True

    def warm(self, connections: int) -> None:
        """Open ``connections`` to the API server in the background, for the parallel
        requests a command is about to make: on a distant cluster each new connection costs
        two round trips (TCP, then TLS) before its first request, and paying them once, all
        at the start, takes them off every later round. Best effort: a connection that
        cannot be opened is simply not there, and requests open their own as before."""
        pool = self.api.rest_client.pool_manager.connection_from_url(self.server)
        for _ in range(connections):
            threading.Thread(target=_open_idle, args=(pool,), daemon=True, name="warm").start()

    def with_retry_budget(self, seconds: float) -> Cluster:
        """The same connection with another retry budget (0: fail on the first error)."""
        return Cluster(self.api, self.context, self.server, seconds)


def _open_idle(pool: Any) -> None:
    """Connect one of ``pool``'s connections and give it back to the pool, idle and clean.

    A TLS 1.3 server sends its session tickets just after the handshake; unread, they make
    the idle socket readable, which urllib3 takes for a connection the server dropped (and
    reopens it). They are read here first: they arrive about one round trip after the
    handshake, as long as the handshake itself took.
    """
    conn = None
    try:
        conn = pool._get_conn()  # urllib3's own checkout: the pool's queue holds placeholders
        started = time.monotonic()
        conn.connect()
        handshake = time.monotonic() - started
        if select.select([conn.sock], [], [], max(TICKET_WAIT, 2 * handshake))[0]:
            conn.sock.setblocking(False)
            try:
                if conn.sock.recv(1):  # application data on an idle connection: not ours
                    raise OSError("unexpected data on an idle connection")
            except ssl.SSLWantReadError:
                pass  # only the post-handshake records were there: read and gone
            conn.sock.setblocking(True)
        pool._put_conn(conn)
    except Exception as exc:  # never more than a missed head start
        log.debug("could not open a connection ahead: %s", exc)
        if conn is not None:
            conn.close()


def connect(
    kubeconfig_file: str | None = None,
    context: str | None = None,
    *,
    retry_seconds: float = RETRY_SECONDS,
) -> Cluster:
    """Load credentials like kubectl (--kubeconfig, KUBECONFIG, ~/.kube/config; --context)."""
    api, chosen = kubeconfig.load(kubeconfig_file, context)
    return Cluster(
        api=api, context=chosen, server=api.configuration.host, retry_seconds=retry_seconds
    )
