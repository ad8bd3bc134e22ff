"""Each typed view of kube/bodies.py names only fields the API has, with the API's types:
checked field by field, nested views too, against the official client's models of core/v1
and apps/v1 (generated from the API server's OpenAPI document). The snapshot views are a
CRD's, which the client does not model."""

from __future__ import annotations

import re
import typing
from typing import Any, TypedDict

import pytest

from pacdeploy.kube import bodies, official

# The models' type names for the leaves a view holds (timestamps travel as strings).
LEAVES: dict[str, Any] = {
    "str": str,
    "int": int,
    "bool": bool,
    "datetime": str,
    "dict(str, str)": dict[str, str],
}


def _model(name: str) -> Any:
    official.stand_in_for_package()  # the client loads as pacdeploy loads it
    from kubernetes.client import models

    return getattr(models, name)


def _wrong(view: Any, model: Any) -> list[str]:
    """The view's fields the model lacks or types otherwise, as dotted paths."""
    types = {json: model.openapi_types[attr] for attr, json in model.attribute_map.items()}
    wrong = []
    for name, declared in typing.get_type_hints(view).items():
        if name not in types:
            wrong.append(f"{name} (no such field)")
            continue
        hint, api = declared, re.sub(r"^Dict\[(\w+), (\w+)\]$", r"dict(\1, \2)", types[name])
        listed = re.fullmatch(r"[Ll]ist\[(\w+)\]", api)
        if typing.get_origin(hint) is list and listed:  # a list's items, checked as one
            hint, api = typing.get_args(hint)[0], listed.group(1)
        if typing.is_typeddict(hint):
            wrong += [f"{name}.{w}" for w in _wrong(hint, _model(api))]
        elif typing.get_origin(hint) is typing.Literal:
            wrong += [] if api == "str" else [f"{name} ({api})"]
        elif LEAVES.get(api) != hint:
            wrong.append(f"{name} ({api}, not {hint})")
    return wrong


@pytest.mark.parametrize(
    ("view", "model"),
    [
        (bodies.Pod, "V1Pod"),
        (bodies.Deployment, "V1Deployment"),
        (bodies.StatefulSet, "V1StatefulSet"),
        (bodies.PersistentVolumeClaim, "V1PersistentVolumeClaim"),
        (bodies.PersistentVolume, "V1PersistentVolume"),
        (bodies.Event, "CoreV1Event"),
    ],
)
def test_a_view_names_the_apis_fields_with_its_types(view: Any, model: str) -> None:
    assert _wrong(view, _model(model)) == []


class _Misnamed(TypedDict, total=False):
    restarts: int  # the API says restartCount
    ready: str  # a bool


def test_a_misnamed_or_mistyped_field_is_found() -> None:
    assert _wrong(_Misnamed, _model("V1ContainerStatus")) == [
        "restarts (no such field)",
        "ready (bool, not <class 'str'>)",
    ]
