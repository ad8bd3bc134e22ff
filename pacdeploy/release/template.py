"""`template`: the manifests `up` would apply, for another tool to apply (Helm's `helm
template`): Argo CD, Flux, a review, or `kubectl apply --server-side -f -`.

Rendered by `up`'s own code from `up`'s own options, so an option `up` gains is one
`template` has. Offline by default, as `helm template` is: what a first `up` applies to a
new namespace that leaves the default StorageClass alone (a StorageClass patch is a change
to the cluster, not a manifest). ``validate`` (Helm's `--validate`): planned against the
cluster as `up` would plan it now, so it is exactly what `up` would send, the count
`scale` set and the volumes' grown size kept, `up`'s refusals included.

The credentials Secret is never in the stream silently: it is only named (the pods read it)
unless one is asked for, freshly generated, as `up` generates it on a first install.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pacdeploy.app import credentials
from pacdeploy.app.manifests import SECRET, render, validate
from pacdeploy.kube.client import Cluster
from pacdeploy.output import Output
from pacdeploy.release.plan import as_applied
from pacdeploy.release.up import UpRequest, plan_for
from pacdeploy.release.wanted import Wanted

SECRET_NOTE = (
    f"Secret {SECRET} is not included (the pods read it): create it first, or pass "
    "--with-secret for a generated one (a new install only)"
)


def offline(wanted: Wanted) -> list[dict[str, Any]]:
    """What `up` applies to a new namespace, the default StorageClass left as it is."""
    validate(wanted.options)
    first_install = dataclasses.replace(wanted, keep_default_class=True)
    return as_applied(render(wanted.options), None, [], wanted=first_install)


def planned(cluster: Cluster, wanted: Wanted, out: Output) -> list[dict[str, Any]]:
    """What `up` with ``wanted`` would send to this cluster now (reads only)."""
    return list(plan_for(cluster, UpRequest(wanted), out).objects)


def with_secret(objects: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """``objects`` with a freshly generated Secret where `up` creates it: after the Namespace."""
    return [objects[0], credentials.new_secret(namespace), *objects[1:]]


def as_list(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """One JSON document for ``kubectl apply -f -``: a v1 List, as `kubectl get -o json`."""
    return {"apiVersion": "v1", "kind": "List", "items": objects}


def as_yaml(objects: list[dict[str, Any]], note: str | None) -> str:
    """A YAML stream, one document per object, ``note`` as a comment at its head."""
    import yaml

    head = "".join(f"# {line}\n" for line in _wrapped(note)) if note else ""
    return head + yaml.safe_dump_all(objects, sort_keys=False, explicit_start=True)


def _wrapped(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_on_hyphens=False)  # keep --with-secret whole
