"""Writing the sandbox context into a kubeconfig, as kind and minikube do."""

import os

from pacdeploy.kube import contexts


def test_add_to_empty_and_make_current():
    config = contexts.with_context(
        None, "sb", {"server": "https://127.0.0.1:1"}, user={"token": "t"}
    )
    assert config["current-context"] == "sb"
    assert config["contexts"] == [{"name": "sb", "context": {"cluster": "sb", "user": "sb"}}]


def test_existing_entries_are_kept_and_ours_replaced():
    original = {
        "clusters": [
            {"name": "prod", "cluster": {"server": "https://prod"}},
            {"name": "sb", "cluster": {"server": "https://old"}},
        ],
        "users": [],
        "contexts": [{"name": "prod", "context": {}}],
        "current-context": "prod",
    }
    config = contexts.with_context(original, "sb", {"server": "https://new"}, user={})
    servers = {c["name"]: c["cluster"]["server"] for c in config["clusters"]}
    assert servers == {"prod": "https://prod", "sb": "https://new"}
    assert original["clusters"][1]["cluster"]["server"] == "https://old"  # input untouched


def test_remove_unsets_current_only_if_ours():
    config = contexts.with_context(None, "sb", {}, user={})
    removed = contexts.without_context(config, "sb")
    assert removed["contexts"] == [] and removed["current-context"] == ""
    other = {"contexts": [{"name": "prod"}], "current-context": "prod"}
    assert contexts.without_context(other, "sb")["current-context"] == "prod"


def test_write_is_private(tmp_path):
    path = tmp_path / "nested" / "config"
    contexts.write(path, contexts.with_context(None, "sb", {}, user={}))
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert contexts.read(path)["current-context"] == "sb"
