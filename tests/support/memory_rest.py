"""The REST verbs of the in-memory API server (tests/support/memory.py), one function each:
what the real one answers for the requests pacdeploy makes, conflicts included."""

from __future__ import annotations

import copy
from typing import Any

from pacdeploy.kube.wire import Request
from tests.support.memory import Address, Memory, Obj, merge, status_answer
from tests.support.selectors import matches

Answer = tuple[int, Obj]


def answer(memory: Memory, request: Request, address: Address, query: dict[str, Any]) -> Answer:
    """(status code, body) for ``request``; called holding ``memory.changed``."""
    if address.resource.group == "authorization.k8s.io":
        return 201, _review(request.body)
    if request.method == "GET":
        return _get(memory, address, query) if address.name else _list(memory, address, query)
    if request.method == "DELETE":
        orphan = isinstance(request.body, dict) and request.body.get("propagationPolicy")
        return _delete(memory, address, orphan=orphan == "Orphan")
    body = request.body if isinstance(request.body, dict) else {}
    dry_run = query.get("dryRun") == "All"
    if request.method == "POST":
        return _create(memory, address, body, dry_run=dry_run)
    if request.method == "PUT":
        return _replace(memory, address, body)
    return _patch(memory, address, body, request.content_type or "", query)


def _review(body: Any) -> Obj:
    """Every access review allowed: RBAC is the real API server's to decide."""
    rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
    return {**body, "status": {"allowed": True, "resourceRules": rules, "incomplete": False}}


def _missing(address: Address) -> Answer:
    what = f'{address.resource.plural} "{address.name}" not found'
    return status_answer(404, "NotFound", what)


def _get(memory: Memory, address: Address, query: dict[str, Any]) -> Answer:
    found = memory.objects.get(address.key())
    return (200, copy.deepcopy(found)) if found is not None else _missing(address)


def _list(memory: Memory, address: Address, query: dict[str, Any]) -> Answer:
    kind = address.resource.kind
    items = [
        copy.deepcopy(o)
        for (k, ns, _), o in sorted(memory.objects.items())
        if k == kind and (not address.namespace or ns == address.namespace)
        if matches(o, query.get("labelSelector"), query.get("fieldSelector"))
    ]
    meta = {"resourceVersion": str(memory.version)}
    return 200, {"kind": f"{kind}List", "apiVersion": "v1", "metadata": meta, "items": items}


def _namespace_refuses(memory: Memory, address: Address) -> Answer | None:
    """A namespaced object needs its namespace, and one not on its way out."""
    if not address.resource.namespaced:
        return None
    ns = memory.objects.get(("Namespace", "", address.namespace))
    if ns is None:
        return status_answer(404, "NotFound", f'namespaces "{address.namespace}" not found')
    if ns["metadata"].get("deletionTimestamp"):
        return status_answer(403, "Forbidden", f"namespace {address.namespace} is being terminated")
    return None


def _create(memory: Memory, address: Address, body: Obj, *, dry_run: bool) -> Answer:
    name = body["metadata"]["name"]
    if (refused := _namespace_refuses(memory, address)) is not None:
        return refused
    if address.key(name) in memory.objects:
        return status_answer(
            409, "AlreadyExists", f'{address.resource.plural} "{name}" already exists'
        )
    obj = copy.deepcopy(body)
    if address.namespace:
        obj["metadata"]["namespace"] = address.namespace
    return 201, obj if dry_run else copy.deepcopy(memory.put(address.key(name), obj))


def _stale(current: Obj, sent: Obj) -> Answer | None:
    """A write that names a resourceVersion must name the current one."""
    version = sent.get("metadata", {}).get("resourceVersion")
    if version is None or version == current["metadata"]["resourceVersion"]:
        return None
    name = current["metadata"]["name"]
    return status_answer(409, "Conflict", f'Operation cannot be fulfilled on "{name}": modified')


def _replace(memory: Memory, address: Address, body: Obj) -> Answer:
    current = memory.objects.get(address.key())
    if current is None:
        return _missing(address)
    if (stale := _stale(current, body)) is not None:
        return stale
    obj = copy.deepcopy(body)
    obj["metadata"] |= {k: current["metadata"][k] for k in ("uid", "creationTimestamp")}
    obj["status"] = current.get("status", {})
    return 200, copy.deepcopy(memory.put(address.key(), obj))


def _patch(
    memory: Memory, address: Address, body: Obj, content_type: str, query: dict[str, Any]
) -> Answer:
    dry_run = query.get("dryRun") == "All"
    current = memory.objects.get(address.key())
    if content_type.startswith("application/apply-patch"):
        if current is None and (refused := _namespace_refuses(memory, address)) is not None:
            return refused
    elif current is None:
        return _missing(address)
    elif (stale := _stale(current, body)) is not None:
        return stale
    base = copy.deepcopy(current or {})
    applier = (address.key(), str(query.get("fieldManager")))
    if content_type.startswith("application/apply-patch"):
        # Server-side apply: what this manager applied before and leaves out now goes.
        _drop_unapplied(base, memory.applied.get(applier, {}), body)
    obj = merge(base, body)
    if dry_run:
        return 200, obj
    if content_type.startswith("application/apply-patch"):
        memory.applied[applier] = copy.deepcopy(body)
    return 200, copy.deepcopy(memory.put(address.key(), obj))


def _drop_unapplied(obj: Any, before: Any, now: Any) -> None:
    """Remove from ``obj`` the fields applied ``before`` and not ``now`` (lists are atomic:
    the merge replaces them whole)."""
    if not isinstance(obj, dict) or not isinstance(before, dict) or not isinstance(now, dict):
        return
    for key, value in before.items():
        if key not in now:
            obj.pop(key, None)
        else:
            _drop_unapplied(obj.get(key), value, now[key])


def _delete(memory: Memory, address: Address, *, orphan: bool) -> Answer:
    current = memory.objects.get(address.key())
    if current is None:
        return _missing(address)
    memory.remove(address.key(), orphan=orphan)
    return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
