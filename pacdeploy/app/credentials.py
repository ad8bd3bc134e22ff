"""MongoDB credentials: random on the first `up`, kept afterwards, never printed."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from pacdeploy.app.manifests import MANAGED_BY, SECRET

KEYS = (
    "database-admin-name",
    "database-admin-password",
    "database-name",
    "database-user",
    "database-password",
)


def generate() -> dict[str, str]:
    """Fresh credentials. The admin is `root` because the MongoDB image creates it by that
    name; passwords are URL-safe because the app pastes them into its connection URL."""
    return {
        "database-admin-name": "root",
        "database-admin-password": secrets.token_urlsafe(24),
        "database-name": "pacman",
        "database-user": "pacman",
        "database-password": secrets.token_urlsafe(24),
    }


def new_secret(namespace: str) -> dict[str, Any]:
    values = generate()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": SECRET,
            "namespace": namespace,
            "labels": {**MANAGED_BY, "app.kubernetes.io/part-of": "pacman"},
        },
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
    }


def missing_keys(secret: dict[str, Any]) -> list[str]:
    return [k for k in KEYS if k not in (secret.get("data") or {})]
