"""Which proxy a connection goes through (client-go: proxy-url, else Go's
ProxyFromEnvironment), and its credentials kept out of what is printed."""

import pytest

from pacdeploy.kube import proxy
from pacdeploy.kube.kubeconfig import KubeconfigError


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


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [(".example.com", False), ("*.example.com", False), ("example.com", True)],
)
def test_a_leading_dot_or_star_exempts_only_subdomains(no_proxy, bypassed):
    env = {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": no_proxy}
    assert (proxy.choose("https://example.com", None, env) is None) is bypassed
    assert proxy.choose("https://api.example.com", None, env) is None
