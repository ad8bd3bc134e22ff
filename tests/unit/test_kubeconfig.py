"""Reading kubeconfigs by client-go's rules: which entry wins, what is resolved, what is refused."""

import base64
from pathlib import Path

import pytest

from pacdeploy.kube import kubeconfig
from pacdeploy.kube.kubeconfig import KubeconfigError

A, B = Path("/home/u/.kube/a.yaml"), Path("/etc/kube/b.yaml")


def doc(context, cluster_server, user=None, current=None, **context_extra):
    return {
        "clusters": [{"name": context, "cluster": {"server": cluster_server}}],
        "users": [{"name": context, "user": user or {"token": f"{context}-token"}}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": context, **context_extra}}
        ],
        "current-context": current if current is not None else context,
    }


def test_first_file_wins_current_context():
    merged = kubeconfig.merge([(A, doc("sandbox", "https://a")), (B, doc("other", "https://b"))])
    endpoint = kubeconfig.select(merged, None)
    assert (endpoint.context, endpoint.server) == ("sandbox", "https://a")


def test_an_empty_current_context_leaves_it_to_the_next_file():
    merged = kubeconfig.merge(
        [(A, doc("sandbox", "https://a", current="")), (B, doc("other", "https://b"))]
    )
    assert kubeconfig.select(merged, None).context == "other"


def test_first_file_wins_a_named_entry_whole():
    first = doc("prod", "https://first", user={"token": "first"})
    second = doc("prod", "https://second", user={"token": "second", "username": "x"})
    endpoint = kubeconfig.select(kubeconfig.merge([(A, first), (B, second)]), "prod")
    assert (endpoint.server, endpoint.token, endpoint.username) == ("https://first", "first", None)


def test_context_flag_needs_no_current_context():
    merged = kubeconfig.merge([(A, doc("sandbox", "https://a", current=""))])
    assert kubeconfig.select(merged, "sandbox").server == "https://a"
    with pytest.raises(KubeconfigError, match="has no current context"):
        kubeconfig.select(merged, None)


def test_relative_paths_resolve_against_the_file_that_names_them(tmp_path):
    (tmp_path / "certs").mkdir()
    for name in ("ca.crt", "client.crt", "client.key"):
        (tmp_path / "certs" / name).write_text("x")
    document = doc(
        "c",
        "https://a",
        user={
            "client-certificate": "certs/client.crt",
            "client-key": "certs/client.key",
            "tokenFile": "token",
            "exec": {
                "command": "./bin/plugin",
                "apiVersion": kubeconfig.EXEC_VERSIONS[0],
                "interactiveMode": "Never",
            },
        },
    )
    document["clusters"][0]["cluster"]["certificate-authority"] = "certs/ca.crt"
    document["users"][0]["user"].pop("tokenFile")
    endpoint = kubeconfig.select(kubeconfig.merge([(tmp_path / "config", document)]), None)
    assert endpoint.ca_file == str(tmp_path / "certs/ca.crt")
    assert endpoint.cert_file == str(tmp_path / "certs/client.crt")
    assert endpoint.exec.command == str(tmp_path / "bin/plugin")


def test_an_exec_command_on_path_is_left_to_path():
    user = {"exec": {"command": "aws", "apiVersion": kubeconfig.EXEC_VERSIONS[1]}}
    endpoint = kubeconfig.select(kubeconfig.merge([(A, doc("eks", "https://e", user=user))]), None)
    assert endpoint.exec.command == "aws"
    assert endpoint.exec.interactive_mode == "IfAvailable"  # v1beta1's default


@pytest.mark.parametrize(
    ("user", "cluster_extra", "message"),
    [
        (
            {"exec": {"command": "p", "apiVersion": "client.authentication.k8s.io/v1"}},
            {},
            "interactiveMode '' is not valid",
        ),
        ({"exec": {"command": "p", "apiVersion": "v1alpha1"}}, {}, "apiVersion 'v1alpha1'"),
        ({"token": "t", "username": "u"}, {}, "more than one authentication method"),
        ({"auth-provider": {"name": "gcp"}}, {}, "auth-provider 'gcp'"),
        ({"client-certificate-data": "eA=="}, {}, "client certificate but no key"),
        (
            {"token": "t"},
            {
                "insecure-skip-tls-verify": True,
                "certificate-authority-data": base64.b64encode(b"x").decode(),
            },
            "both a certificate authority and insecure-skip-tls-verify",
        ),
        ({"token": "t"}, {"certificate-authority-data": "not base64!"}, "is not base64"),
    ],
)
def test_what_kubectl_refuses_is_one_line_naming_file_and_key(user, cluster_extra, message):
    document = doc("c", "https://a", user=user)
    document["clusters"][0]["cluster"].update(cluster_extra)
    with pytest.raises(KubeconfigError, match=message) as caught:
        kubeconfig.select(kubeconfig.merge([(A, document)]), None)
    assert str(A) in str(caught.value) and "\n" not in str(caught.value)


def test_a_context_naming_a_missing_cluster_says_which():
    document = doc("c", "https://a")
    document["contexts"][0]["context"]["cluster"] = "gone"
    with pytest.raises(KubeconfigError, match="names cluster 'gone'"):
        kubeconfig.select(kubeconfig.merge([(A, document)]), None)


def test_an_unknown_context_lists_the_known_ones():
    merged = kubeconfig.merge([(A, doc("a", "https://a")), (B, doc("b", "https://b"))])
    with pytest.raises(KubeconfigError, match="Use one of: a, b"):
        kubeconfig.select(merged, "nope")


def test_the_context_namespace_and_proxy_are_kept():
    document = doc("c", "https://a", namespace="team")
    document["clusters"][0]["cluster"]["proxy-url"] = "http://proxy:3128"
    endpoint = kubeconfig.select(kubeconfig.merge([(A, document)]), None)
    assert (endpoint.namespace, endpoint.proxy_url) == ("team", "http://proxy:3128")


def test_only_kubeconfig_flag_file_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/x/a:/x/b")
    assert kubeconfig.paths(str(tmp_path / "k")) == [tmp_path / "k"]
    assert kubeconfig.paths(None) == [Path("/x/a"), Path("/x/b")]
