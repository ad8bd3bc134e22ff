"""The app's namespace and Secret made as `up` makes them, with passwords the test knows."""

from __future__ import annotations

import base64

from pacdeploy.app import credentials
from pacdeploy.app.manifests import MANAGED_BY


def own_credentials(cluster, namespace):
    """The namespace and Secret as `up` would make them, with passwords this test knows."""
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": MANAGED_BY},
        }
    )
    secret = credentials.new_secret(namespace)
    cluster.create(secret)
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def admin_password(cluster, namespace: str) -> str:
    """MongoDB's root password in the app's Secret (a test checks it never leaks)."""
    data = cluster.get("Secret", "mongodb-users-secret", namespace)["data"]
    return base64.b64decode(data["database-admin-password"]).decode()
