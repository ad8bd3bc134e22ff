"""The credentials layer's pure rules: which proxy, what an exec plugin's answer means."""

import json

import pytest

from pacdeploy.kube import execplugin, proxy, transport
from pacdeploy.kube.execplugin import CredentialError
from pacdeploy.kube.kubeconfig import ExecSpec, KubeconfigError

V1 = "client.authentication.k8s.io/v1"


# -- proxies (client-go: proxy-url, else Go's ProxyFromEnvironment) -------------------------
def test_proxy_url_wins_over_no_proxy():
    chosen = proxy.choose("https://10.0.0.1:6443", "http://p:3128", {"NO_PROXY": "*"})
    assert chosen is not None and chosen.url == "http://p:3128"


def test_proxy_url_is_used_even_for_loopback():
    assert proxy.choose("https://127.0.0.1:6443", "http://p:3128", {}) is not None


def test_environment_proxy_never_for_loopback_or_localhost():
    env = {"HTTPS_PROXY": "http://p:3128"}
    assert proxy.choose("https://127.0.0.1:6443", None, env) is None
    assert proxy.choose("https://localhost:6443", None, env) is None
    assert proxy.choose("https://api.example.com", None, env).url == "http://p:3128"


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        ("example.com", True),
        (".example.com", True),
        ("other.com", False),
        ("10.0.0.0/8", False),  # a name, not an address: CIDRs match addresses only
        ("*", True),
        ("api.example.com:443", True),
        ("api.example.com:6443", False),
    ],
)
def test_no_proxy_rules(no_proxy, bypassed):
    env = {"https_proxy": "p:3128", "no_proxy": no_proxy}
    assert (proxy.choose("https://api.example.com", None, env) is None) is bypassed


def test_no_proxy_cidr_matches_an_address():
    env = {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "10.0.0.0/8"}
    assert proxy.choose("https://10.1.2.3:6443", None, env) is None


def test_environment_proxy_without_scheme_is_http_and_default_ports_apply():
    chosen = proxy.choose("https://api.example.com", None, {"HTTPS_PROXY": "p"})
    assert chosen.url == "http://p:80"
    assert proxy.parse("socks5://s", "proxy-url").port == 1080
    assert proxy.parse("https://s", "proxy-url").port == 443


def test_proxy_credentials_are_kept_apart_from_the_printable_url():
    chosen = proxy.parse("http://us%40r:p%3Ass@p:3128", "proxy-url")
    assert chosen.url == "http://p:3128"
    assert (chosen.username, chosen.password) == ("us@r", "p:ss")
    assert chosen.basic_auth() == "Basic dXNAcjpwOnNz"


def test_unsupported_proxy_scheme_is_one_line():
    with pytest.raises(KubeconfigError, match="must be http, https, or socks5"):
        proxy.parse("ftp://p:21", "proxy-url of cluster 'c'")


# -- exec plugins (client-go exec.go) --------------------------------------------------------
def credential(status, api_version=V1):
    return json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "status": status})


def test_a_token_with_expiry():
    parsed = execplugin.parse(
        credential({"token": "t", "expirationTimestamp": "2026-12-02T10:00:00Z"}).encode(), V1
    )
    assert parsed.token == "t"
    assert parsed.expired(parsed.expires) and not parsed.expired(parsed.expires - 1)


def test_a_token_without_expiry_never_expires():
    parsed = execplugin.parse(credential({"token": "t"}).encode(), V1)
    assert parsed.expires is None and not parsed.expired(1e12)


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        ("not json", "decoding stdout"),
        (credential({"token": "t"}, "client.authentication.k8s.io/v1beta1"), "plugin returned"),
        (json.dumps({"apiVersion": V1, "kind": "ExecCredential"}), "didn't return a status"),
        (credential({}), "didn't return a token"),
        (credential({"clientCertificateData": "c"}), "only certificate or key"),
    ],
)
def test_bad_plugin_answers_are_refused(stdout, message):
    with pytest.raises(CredentialError, match=message):
        execplugin.parse(stdout.encode(), V1)


def test_interactive_modes():
    assert execplugin.interactive("Never", True) is False
    assert execplugin.interactive("IfAvailable", False) is False
    assert execplugin.interactive("IfAvailable", True) is True
    assert execplugin.interactive("Always", True) is True
    with pytest.raises(CredentialError, match="standard input is not a terminal"):
        execplugin.interactive("Always", False)


def test_exec_info_names_the_cluster_only_when_asked():
    spec = ExecSpec(command="p", provide_cluster_info=False)
    info = json.loads(execplugin.exec_info(spec, {"server": "https://a"}, False))
    assert info["spec"] == {"interactive": False}
    spec = ExecSpec(command="p", provide_cluster_info=True)
    cluster = {"server": "https://a", "tls-server-name": "n"}
    info = json.loads(execplugin.exec_info(spec, cluster, True))
    assert info["spec"] == {"interactive": True, "cluster": cluster}


def test_connections_are_kept_alive_as_the_official_client_keeps_them():
    from kubernetes.utils.keepalive import tcp_keepalive_socket_options

    assert transport.keepalive_socket_options() == tcp_keepalive_socket_options()


# -- issue 32 ------------------------------------------------------------------------------------
def test_impersonation_headers_as_client_go_sends_them():
    from pacdeploy.kube.credentials import impersonation_headers
    from pacdeploy.kube.kubeconfig import Impersonation

    who = Impersonation(
        "jane", "42", ("dev", "ops"), (("scopes", ("a", "b")), ("ex/am%ple", ("c",)))
    )
    assert impersonation_headers(who) == [
        ("Impersonate-User", "jane"),
        ("Impersonate-Uid", "42"),
        ("Impersonate-Group", "dev"),
        ("Impersonate-Group", "ops"),
        ("Impersonate-Extra-Scopes", "a"),
        ("Impersonate-Extra-Scopes", "b"),
        ("Impersonate-Extra-Ex%2fam%25ple", "c"),  # headerKeyEscape, then canonical case
    ]
    assert impersonation_headers(None) == []


def test_a_transport_without_tls_sends_no_authorization_but_impersonates():
    from pacdeploy.kube.kubeconfig import Endpoint, Impersonation

    plain = transport.Transport(
        Endpoint(context="c", server="http://a", secure=False, impersonate=Impersonation("jane"))
    )
    assert plain.headers() == [("Impersonate-User", "jane")]


def test_a_token_file_that_disappears_falls_back_to_the_token(tmp_path):
    from pacdeploy.kube.kubeconfig import Endpoint

    path = tmp_path / "token"
    endpoint = Endpoint(context="c", server="https://a", token="t", token_file=str(path))
    assert transport.Transport(endpoint).authorization() == "Bearer t"
    path.write_text("from-file\n")
    assert transport.Transport(endpoint).authorization() == "Bearer from-file"


def test_a_der_ca_is_refused_pem_only():
    from pacdeploy.kube.kubeconfig import Endpoint

    with pytest.raises(KubeconfigError, match="cannot be loaded"):
        transport.tls_context(Endpoint(context="c", server="https://a", ca_data=b"\x30\x82\x01"))


def test_the_exec_plugin_is_told_the_ca_of_a_file(tmp_path):
    from pacdeploy.kube.credentials import cluster_info
    from pacdeploy.kube.kubeconfig import Endpoint

    (tmp_path / "ca.crt").write_bytes(b"PEM")
    endpoint = Endpoint(context="c", server="https://a", ca_file=str(tmp_path / "ca.crt"))
    assert cluster_info(endpoint, None) == {
        "server": "https://a",
        "certificate-authority-data": "UEVN",
        "config": None,
    }


def test_the_install_hint_loses_its_terminal_escapes():
    assert execplugin.clean_ansi("\x1b[1mbrew install x\x1b[0m\n\tok") == (
        "U+001B[1mbrew install xU+001B[0m\n\tok"
    )


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [(".example.com", False), ("*.example.com", False), ("example.com", True)],
)
def test_a_leading_dot_or_star_exempts_only_subdomains(no_proxy, bypassed):
    env = {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": no_proxy}
    assert (proxy.choose("https://example.com", None, env) is None) is bypassed
    assert proxy.choose("https://api.example.com", None, env) is None
