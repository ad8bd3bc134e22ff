"""Scenarios: exec credential plugins (what they are told, when they run at all) and proxies
(proxy-url, HTTPS_PROXY/NO_PROXY as Go reads them)."""

from __future__ import annotations

from tests.parity.kubeconfigs import (
    TOKEN,
    V1BETA1,
    cert_user,
    home_config,
    plain,
    plugin,
    single,
    tls,
)
from tests.parity.runner import Scenario
from tests.parity.world import Case
from tests.support.apiserver import PROXIED, PROXIED_SUB

EXEC = "plugin/pkg/client/auth/exec/exec_test.go"
VALID = "tools/clientcmd/validation_test.go"
CLIENT = "tools/clientcmd/client_config_test.go"
HAND = "hand-written"


def with_plugin(
    *args: str, server: object = tls, cluster: dict | None = None, **spec: object
) -> object:
    def build(case: Case) -> None:
        entry = plugin(case, *args)
        extra = {k: v for k, v in spec.items() if not k.startswith("user_")}
        entry["exec"].update(extra)
        entry["exec"] = {k: v for k, v in entry["exec"].items() if v is not None}
        entry.update({k[5:]: v for k, v in spec.items() if k.startswith("user_")})
        home_config(case, single(server(case, **(cluster or {})), entry))  # type: ignore[operator]

    return build


def plugin_and(other: object) -> object:
    def build(case: Case) -> None:
        entry = plugin(case)
        entry.update(other(case) if callable(other) else other)  # type: ignore[arg-type]
        home_config(case, single(tls(case), entry))

    return build


def plugin_and_token_file(case: Case) -> None:
    entry = {**plugin(case), "tokenFile": str(case.write("token", "from-file"))}
    home_config(case, single(tls(case), entry))


def relative_plugin(case: Case) -> None:
    (case.home / "files/bin").mkdir(parents=True)
    (case.home / "files/bin/plugin").symlink_to(case.world.plugin)
    entry = plugin(case)
    entry["exec"]["command"] = "./bin/plugin"
    case.env["KUBECONFIG"] = str(case.write("files/config", single(tls(case), entry)))


def plugin_on_path(case: Case) -> None:
    entry = plugin(case)
    entry["exec"]["command"] = "record-plugin"
    home_config(case, single(tls(case), entry))


def cluster_info_with_ca_file(case: Case) -> None:
    entry = plugin(case, provideClusterInfo=True)
    cluster = {
        "server": case.world.url("tls"),
        "certificate-authority": str(case.copy("ca-a.crt", "ca.crt")),
    }
    home_config(case, single(cluster, entry))


def through(name: str, proxy: str = "proxy-url", **env: str) -> object:
    """The TLS stand-in under ``name`` (which only the proxy can resolve)."""

    def build(case: Case) -> None:
        url = case.world.url("tls", name)
        cluster = tls(case, server=url)
        if proxy == "proxy-url":
            cluster["proxy-url"] = case.world.proxy.url()
        for key, value in env.items():
            case.env[key] = value.replace("PROXY", case.world.proxy.url()).replace(
                "HOSTPORT", case.world.proxy.url().split("://")[1]
            )
        home_config(case, single(cluster, TOKEN))

    return build


def loopback_with_env_proxy(case: Case) -> None:
    home_config(case, single(tls(case), TOKEN))
    case.env["HTTPS_PROXY"] = case.world.proxy.url()


def http_server_through_proxy(case: Case) -> None:
    home_config(case, single(plain(case, server=case.world.url("plain", PROXIED)), TOKEN))
    case.env["HTTP_PROXY"] = case.world.proxy.url()


EXTENSION = [
    {"name": "client.authentication.k8s.io/exec", "extension": {"audience": "corp", "n": 1}}
]

EXEC_PROXY = [
    Scenario("exec-plugin-token", f"{EXEC} TestRoundTripper", with_plugin()),
    Scenario(
        "exec-plugin-v1beta1-defaults-if-available",
        "tools/clientcmd/api/v1/defaults_test.go",
        with_plugin(interactiveMode=None, apiVersion=V1BETA1),
    ),
    Scenario(
        "exec-plugin-v1-without-interactive-mode-fails",
        f"{VALID} TestValidateAuthInfoExecInteractiveModeMissing",
        with_plugin(interactiveMode=None),
    ),
    Scenario(
        "exec-plugin-invalid-interactive-mode-fails",
        f"{VALID} TestValidateAuthInfoExecInteractiveModeInvalid",
        with_plugin(interactiveMode="Sometimes"),
    ),
    Scenario(
        "exec-plugin-always-interactive-without-terminal-fails",
        f"{EXEC} TestRefreshCreds",
        with_plugin(interactiveMode="Always"),
    ),
    Scenario(
        "exec-plugin-without-command-fails",
        f"{VALID} TestValidateAuthInfoExecNoCommand",
        with_plugin(command=""),
    ),
    Scenario(
        "exec-plugin-without-api-version-fails",
        f"{VALID} TestValidateAuthInfoExecNoVersion",
        with_plugin(apiVersion=""),
    ),
    Scenario(
        "exec-plugin-v1alpha1-fails",
        HAND,
        with_plugin(apiVersion="client.authentication.k8s.io/v1alpha1"),
    ),
    Scenario(
        "exec-plugin-env-without-name-fails",
        f"{VALID} TestValidateAuthInfoExecNoEnv",
        with_plugin(env=[{"value": "x"}]),
    ),
    Scenario(
        "exec-plugin-env-and-args-passed",
        HAND,
        with_plugin("token", "--flag", env=[{"name": "PLUGIN_ENV", "value": "from-kubeconfig"}]),
    ),
    Scenario(
        "exec-plugin-and-auth-provider-fails",
        f"{VALID} TestValidateAuthInfoExecWithAuthProvider",
        with_plugin(**{"user_auth-provider": {"name": "oidc"}}),
    ),
    Scenario(
        "exec-plugin-and-token-token-wins",
        f"{EXEC} TestAuthorizationHeaderPresentCancelsExecAction",
        plugin_and(TOKEN),
    ),
    Scenario(
        "exec-plugin-and-token-file-file-wins",
        f"{EXEC} TestAuthorizationHeaderPresentCancelsExecAction",
        plugin_and_token_file,
    ),
    Scenario(
        "exec-plugin-and-basic-auth-basic-wins",
        HAND,
        plugin_and({"username": "u", "password": "p"}),
    ),
    Scenario("exec-plugin-and-client-certificate-certificate-wins", HAND, plugin_and(cert_user)),
    Scenario("exec-plugin-and-password-only-plugin-runs", HAND, plugin_and({"password": "p"})),
    Scenario("exec-plugin-failing-fails", HAND, with_plugin("fail")),
    Scenario(
        "exec-plugin-not-found-fails",
        f"{CLIENT} TestCreateAuthConfigExecInstallHintCleanup",
        with_plugin(command="/nonexistent/plugin", installHint="\x1b[1mbrew install plugin\x1b[0m"),
    ),
    Scenario(
        "exec-plugin-other-api-version-fails",
        f"{EXEC} TestRefreshCreds",
        with_plugin("other-version"),
    ),
    Scenario("exec-plugin-empty-status-fails", f"{EXEC} TestRefreshCreds", with_plugin("empty")),
    Scenario("exec-plugin-client-certificate", f"{EXEC} TestTLSCredentials", with_plugin("cert")),
    Scenario(
        "exec-plugin-relative-command",
        "tools/clientcmd/loader_test.go TestResolveRelativePaths",
        relative_plugin,
    ),
    Scenario(
        "exec-plugin-command-on-path",
        "tools/clientcmd/loader_test.go TestResolveRelativePaths",
        plugin_on_path,
    ),
    Scenario(
        "exec-plugin-cluster-info-ca-data",
        f"{EXEC} TestRefreshCreds",
        with_plugin(provideClusterInfo=True),
    ),
    Scenario("exec-plugin-cluster-info-ca-file", HAND, cluster_info_with_ca_file),
    Scenario(
        "exec-plugin-cluster-info-extension",
        f"{EXEC} TestRefreshCreds",
        with_plugin(provideClusterInfo=True, cluster={"extensions": EXTENSION}),
    ),
    Scenario(
        "exec-plugin-cluster-info-server-name-and-proxy",
        HAND,
        with_plugin(
            provideClusterInfo=True,
            cluster={
                "tls-server-name": "localhost",
                "proxy-url": "http://127.0.0.1:9",
                "disable-compression": True,
            },
        ),
    ),
    Scenario(
        "exec-plugin-cluster-info-not-asked",
        HAND,
        with_plugin(provideClusterInfo=False, cluster={"extensions": EXTENSION}),
    ),
    Scenario("exec-plugin-on-streams", HAND, with_plugin(), mode="stream"),
    Scenario("proxy-url-connect", f"{CLIENT} TestProxyURL", through(PROXIED_SUB)),
    Scenario(
        "proxy-url-bad-scheme-fails",
        f"{CLIENT} TestProxyURL",
        lambda c: home_config(c, single(tls(c, **{"proxy-url": "ftp://127.0.0.1:21"}), TOKEN)),
    ),
    Scenario("proxy-url-wins-over-no-proxy", HAND, through(PROXIED_SUB, NO_PROXY="*")),
    Scenario(
        "proxy-url-used-for-loopback",
        HAND,
        lambda c: home_config(c, single(tls(c, **{"proxy-url": c.world.proxy.url()}), TOKEN)),
    ),
    Scenario("https-proxy-env", HAND, through(PROXIED_SUB, "env", HTTPS_PROXY="PROXY")),
    Scenario("https-proxy-env-lowercase", HAND, through(PROXIED_SUB, "env", https_proxy="PROXY")),
    Scenario(
        "https-proxy-env-without-scheme", HAND, through(PROXIED_SUB, "env", HTTPS_PROXY="HOSTPORT")
    ),
    Scenario("https-proxy-env-not-for-loopback", HAND, loopback_with_env_proxy),
    Scenario(
        "no-proxy-exact-name-bypasses",
        HAND,
        through(PROXIED_SUB, "env", HTTPS_PROXY="PROXY", NO_PROXY=PROXIED_SUB),
    ),
    Scenario(
        "no-proxy-domain-covers-subdomain",
        HAND,
        through(PROXIED_SUB, "env", HTTPS_PROXY="PROXY", NO_PROXY=PROXIED),
    ),
    Scenario(
        "no-proxy-dot-domain-covers-subdomain",
        HAND,
        through(PROXIED_SUB, "env", HTTPS_PROXY="PROXY", NO_PROXY="." + PROXIED),
    ),
    Scenario(
        "no-proxy-dot-domain-not-the-domain",
        HAND,
        through(PROXIED, "env", HTTPS_PROXY="PROXY", NO_PROXY="." + PROXIED),
    ),
    Scenario(
        "no-proxy-star-domain-not-the-domain",
        HAND,
        through(PROXIED, "env", HTTPS_PROXY="PROXY", NO_PROXY="*." + PROXIED),
    ),
    Scenario(
        "no-proxy-star-bypasses-all",
        HAND,
        through(PROXIED_SUB, "env", HTTPS_PROXY="PROXY", NO_PROXY="*"),
    ),
    Scenario(
        "no-proxy-other-port-still-proxied",
        HAND,
        through(PROXIED_SUB, "env", HTTPS_PROXY="PROXY", NO_PROXY=PROXIED_SUB + ":1"),
    ),
    Scenario("http-proxy-for-plain-http-server", HAND, http_server_through_proxy),
]
