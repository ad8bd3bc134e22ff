"""Reading kubeconfigs by client-go's rules: which entry wins, what is resolved, what is refused."""

import base64
from pathlib import Path

import pytest

from pacdeploy.kube import kubeconfig
from pacdeploy.kube.decode import checked_document
from pacdeploy.kube.kubeconfig import KubeconfigError

A, B = Path("/home/u/.kube/a.yaml"), Path("/etc/kube/b.yaml")


def merge(*files):
    """``(path, document)`` pairs decoded and merged as if read from those paths."""
    return kubeconfig.merge([(path, checked_document(document, path)) for path, document in files])


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
    merged = merge((A, doc("sandbox", "https://a")), (B, doc("other", "https://b")))
    endpoint = kubeconfig.select(merged, None)
    assert (endpoint.context, endpoint.server) == ("sandbox", "https://a")


def test_an_empty_current_context_leaves_it_to_the_next_file():
    merged = merge((A, doc("sandbox", "https://a", current="")), (B, doc("other", "https://b")))
    assert kubeconfig.select(merged, None).context == "other"


def test_first_file_wins_a_named_entry_whole():
    first = doc("prod", "https://first", user={"token": "first"})
    second = doc("prod", "https://second", user={"token": "second", "username": "x"})
    endpoint = kubeconfig.select(merge((A, first), (B, second)), "prod")
    assert (endpoint.server, endpoint.token, endpoint.username) == ("https://first", "first", None)


def test_context_flag_needs_no_current_context():
    merged = merge((A, doc("sandbox", "https://a", current="")))
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
    merged = merge((tmp_path / "config", document))
    endpoint = kubeconfig.select(merged, None)
    assert endpoint.ca_file == str(tmp_path / "certs/ca.crt")
    assert endpoint.cert_file == str(tmp_path / "certs/client.crt")
    assert endpoint.exec is None  # a client certificate wins: the plugin never runs
    (user, _) = merged.users["c"]
    assert user["exec"]["command"] == str(tmp_path / "bin/plugin")


def test_an_exec_command_on_path_is_left_to_path():
    user = {"exec": {"command": "aws", "apiVersion": kubeconfig.EXEC_VERSIONS[1]}}
    endpoint = kubeconfig.select(merge((A, doc("eks", "https://e", user=user))), None)
    assert endpoint.exec.command == "aws"
    assert endpoint.exec.interactive_mode == "IfAvailable"  # v1beta1's default


@pytest.mark.parametrize(
    ("user", "cluster_extra", "message"),
    [
        (
            {"exec": {"command": "p", "apiVersion": "client.authentication.k8s.io/v1"}},
            {},
            "interactiveMode '' is not one of",
        ),
        (
            {"exec": {"command": "p", "apiVersion": "v1alpha1", "interactiveMode": "Never"}},
            {},
            "apiVersion 'v1alpha1'",
        ),
        ({"token": "t", "username": "u"}, {}, "more than one authentication method"),
        ({"auth-provider": {"name": "gcp"}}, {}, "auth-provider 'gcp'"),
        ({"client-certificate-data": "eA=="}, {}, "client certificate but no client-key"),
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
        kubeconfig.select(merge((A, document)), None)
    assert str(A) in str(caught.value) and "\n" not in str(caught.value)


def test_a_context_naming_a_missing_cluster_says_which():
    document = doc("c", "https://a")
    document["contexts"][0]["context"]["cluster"] = "gone"
    with pytest.raises(KubeconfigError, match="names cluster 'gone'"):
        kubeconfig.select(merge((A, document)), None)


def test_an_unknown_context_lists_the_known_ones():
    merged = merge((A, doc("a", "https://a")), (B, doc("b", "https://b")))
    with pytest.raises(KubeconfigError, match="Use one of: a, b"):
        kubeconfig.select(merged, "nope")


def test_the_context_namespace_and_proxy_are_kept():
    document = doc("c", "https://a", namespace="team")
    document["clusters"][0]["cluster"]["proxy-url"] = "http://proxy:3128"
    endpoint = kubeconfig.select(merge((A, document)), None)
    assert (endpoint.namespace, endpoint.proxy_url) == ("team", "http://proxy:3128")


def test_only_kubeconfig_flag_file_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", "/x/a:/x/b")
    assert kubeconfig.paths(str(tmp_path / "k")) == [tmp_path / "k"]
    assert kubeconfig.paths(None) == [Path("/x/a"), Path("/x/b")]


# -- issue 32: what kubectl keeps safe ---------------------------------------------------------
def endpoint_of(user, server="https://a", **cluster):
    document = doc("c", server)
    document["users"][0]["user"] = user
    document["clusters"][0]["cluster"].update(cluster)
    return kubeconfig.select(merge((A, document)), None)


@pytest.mark.parametrize(
    "user",
    [
        {"token": "t"},
        {"username": "u", "password": "p"},
        {"client-certificate-data": "eA==", "client-key-data": "eA=="},
        {"exec": {"command": "p", "apiVersion": kubeconfig.EXEC_VERSIONS[0]}},
    ],
)
@pytest.mark.parametrize("server", ["http://a:8080", "a:8080", "127.0.0.1:8080"])
def test_no_credential_is_kept_for_a_server_without_tls(user, server):
    """client_config.go ClientConfig: auth information only `if IsConfigTransportTLS`."""
    if "exec" in user:
        user["exec"]["interactiveMode"] = "Never"
    endpoint = endpoint_of(user, server)
    assert not endpoint.secure and endpoint.server.startswith("http://")
    kept = (endpoint.token, endpoint.username, endpoint.cert_data, endpoint.key_data, endpoint.exec)
    assert kept == (None, None, None, None, None)


@pytest.mark.parametrize("value", ["false", "true", "False", 0, 1, "no"])
def test_insecure_skip_tls_verify_must_be_a_yaml_boolean(value):
    with pytest.raises(KubeconfigError, match="insecure-skip-tls-verify must be true or false"):
        endpoint_of({"token": "t"}, **{"insecure-skip-tls-verify": value})


def test_yaml_booleans_as_go_yaml_reads_them():
    from pacdeploy.kube.decode import decode

    text = "clusters:\n- name: c\n  cluster: {server: 'https://a', insecure-skip-tls-verify: %s}\n"
    for word, meaning in (("y", True), ("yes", True), ("on", True), ("n", False), ("off", False)):
        assert decode(text % word, A).clusters["c"]["insecure-skip-tls-verify"] is meaning


def test_impersonation_is_kept_and_extras_need_a_user():
    user = {
        "token": "t",
        "as": "jane",
        "as-uid": "42",
        "as-groups": ["dev", "ops"],
        "as-user-extra": {"scopes": ["a", "b"]},
    }
    who = endpoint_of(user).impersonate
    assert (who.user, who.uid, who.groups, who.extra) == (
        "jane",
        "42",
        ("dev", "ops"),
        (("scopes", ("a", "b")),),
    )
    assert endpoint_of(user, "http://a").impersonate == who  # no credential, still impersonating
    with pytest.raises(KubeconfigError, match="without as"):
        endpoint_of({"token": "t", "as-groups": ["dev"]})


@pytest.mark.parametrize(
    "user", [{}, {"as": "jane"}, {"password": "p"}, {"tokenFile": "/dev/null"}]
)
def test_no_credential_for_a_tls_server_is_refused_as_without_a_terminal(user):
    with pytest.raises(KubeconfigError, match=r"needs a terminal|is empty"):
        endpoint_of(user)


def test_a_context_without_user_is_anonymous_only_without_tls():
    document = doc("c", "https://a")
    document["contexts"][0]["context"]["user"] = ""
    with pytest.raises(KubeconfigError, match="needs a terminal"):
        kubeconfig.select(merge((A, document)), None)
    document["clusters"][0]["cluster"]["server"] = "http://a"
    assert kubeconfig.select(merge((A, document)), None).token is None


@pytest.mark.parametrize(
    "other",
    [
        {"token": "t"},
        {"tokenFile": "/etc/hostname"},
        {"username": "u"},
        {"client-certificate-data": "eA==", "client-key-data": "eA=="},
    ],
)
def test_a_token_basic_auth_or_certificate_means_the_plugin_never_runs(other):
    """exec.go UpdateTransportConfig returns early on HasTokenAuth/HasBasicAuth/HasCertAuth."""
    plugin = {"command": "p", "apiVersion": kubeconfig.EXEC_VERSIONS[0], "interactiveMode": "Never"}
    assert endpoint_of({**other, "exec": plugin}).exec is None
    assert endpoint_of({"exec": plugin}).exec is not None


def test_a_token_with_a_missing_token_file_is_the_token(tmp_path):
    endpoint = endpoint_of({"token": "t", "tokenFile": str(tmp_path / "gone")})
    assert (endpoint.token, endpoint.token_file) == ("t", str(tmp_path / "gone"))
    with pytest.raises(KubeconfigError, match="cannot be read"):
        endpoint_of({"tokenFile": str(tmp_path / "gone")})


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"token": "t", "password": "p"}, "more than one authentication method"),
        ({"tokenFile": "/etc/hostname", "username": "u", "password": "p"}, "only one may be set"),
        ({"password": "p"}, "needs a terminal"),
    ],
)
def test_mixed_or_half_basic_auth_is_refused(user, message):
    with pytest.raises(KubeconfigError, match=message):
        endpoint_of(user)


def test_a_mistyped_credential_is_refused_without_printing_it():
    with pytest.raises(KubeconfigError, match="token must be a string, not a number") as caught:
        endpoint_of({"token": 987654321})
    assert "987654321" not in str(caught.value)
