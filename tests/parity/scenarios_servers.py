"""Scenarios: which context, which server, which certificate authority and TLS name."""

from __future__ import annotations

from tests.parity.kubeconfigs import (
    TOKEN,
    config,
    home_config,
    other,
    plain,
    single,
    text_config,
    tls,
)
from tests.parity.runner import Scenario
from tests.parity.world import Case
from tests.support.apiserver import SERVER_NAME

LOADER = "tools/clientcmd/loader_test.go"
CLIENT = "tools/clientcmd/client_config_test.go"
VALID = "tools/clientcmd/validation_test.go"
HAND = "hand-written"


def context_document(**changes: object) -> object:
    def build(case: Case) -> None:
        document = single(tls(case), TOKEN)
        document["contexts"][0]["context"].update(changes)
        home_config(case, document)

    return build


def context_flag(name: str) -> object:
    def build(case: Case) -> None:
        document = config(
            {"a": tls(case), "b": other(case)},
            {"u": TOKEN},
            {"a": {"cluster": "a", "user": "u"}, "b": {"cluster": "b", "user": "u"}},
            current="b",
        )
        home_config(case, document)
        case.args += ["--context", name]

    return build


def current(name: str) -> object:
    def build(case: Case) -> None:
        document = single(tls(case), TOKEN)
        document["current-context"] = name
        home_config(case, document)

    return build


def kubernetes_master(case: Case) -> None:
    context_document(cluster="gone")(case)
    case.env["KUBERNETES_MASTER"] = case.world.url("plain")


def server(text: str, user: dict = TOKEN, **cluster: object) -> object:
    def build(case: Case) -> None:
        hosts = {name: case.world.url(name).split("://", 1)[1] for name in ("tls", "plain")}
        url = text.replace("PLAIN", hosts["plain"]).replace("TLS", hosts["tls"])
        ca = {"certificate-authority-data": case.world.b64("ca-a.crt")}
        home_config(case, single({"server": url, **ca, **cluster}, user))

    return build


def cluster_of(make: object, user: dict = TOKEN) -> object:
    return lambda case: home_config(case, single(make(case), user))  # type: ignore[operator]


def trusted_by_env(case: Case) -> None:
    home_config(case, single({"server": case.world.url("tls")}, TOKEN))
    case.env["SSL_CERT_FILE"] = str(case.copy("ca-a.crt", "trust/ca.pem"))


YAML_BOOL = (
    "clusters:\n- name: c\n  cluster: {server: SERVER, insecure-skip-tls-verify: %s}\n"
    "users:\n- name: u\n  user: {token: tok}\n"
    "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n"
)


SERVERS = [
    Scenario(
        "context-namespace-default",
        HAND,
        lambda c: home_config(c, single(tls(c), TOKEN)),
        mode="namespace",
    ),
    Scenario("context-flag-selects", f"{CLIENT} TestCreateMissingContext", context_flag("a")),
    Scenario(
        "context-flag-missing-fails",
        f"{CLIENT} TestCreateMissingContextNoDefault",
        context_flag("nope"),
    ),
    Scenario(
        "current-context-missing-fails",
        f"{VALID} TestValidateMissingCurrentContextConfig",
        current("nope"),
    ),
    Scenario("no-current-context-fails", f"{CLIENT} TestCreateCleanDefault", current("")),
    Scenario(
        "context-cluster-missing-fails",
        f"{VALID} TestConfirmUsableMissingObjects",
        context_document(cluster="gone"),
    ),
    Scenario(
        "context-user-missing-fails-over-tls",
        f"{VALID} TestConfirmUsableMissingObjects",
        context_document(user="gone"),
    ),
    Scenario("context-without-user-fails-over-tls", HAND, lambda c: home_config(c, single(tls(c)))),
    Scenario(
        "context-without-user-anonymous-over-http", HAND, lambda c: home_config(c, single(plain(c)))
    ),
    Scenario(
        "context-user-missing-anonymous-over-http",
        HAND,
        lambda c: home_config(
            c, config({"c": plain(c)}, {}, {"c": {"cluster": "c", "user": "gone"}})
        ),
    ),
    Scenario(
        "context-namespace-invalid-accepted",
        f"{VALID} TestValidateEmptyContext",
        context_document(namespace="Not_A_Label"),
    ),
    Scenario(
        "kubernetes-master-for-a-missing-cluster",
        f"{CLIENT} TestCreateCleanDefaultCluster",
        kubernetes_master,
    ),
    Scenario(
        "cluster-without-server-fails",
        f"{VALID} TestValidateEmptyClusterInfo",
        lambda c: home_config(
            c, single({"certificate-authority-data": c.world.b64("ca-a.crt")}, TOKEN)
        ),
    ),
    Scenario(
        "server-path-prefix-kept",
        f"{CLIENT} TestCreateCleanWithPrefix",
        server("https://TLS/prefix/to"),
    ),
    Scenario("server-trailing-slash", HAND, server("https://TLS/")),
    Scenario("server-query-dropped-with-a-path", HAND, server("https://TLS/prefix?x=1")),
    Scenario("server-uppercase-scheme", HAND, server("HTTPS://TLS")),
    Scenario("server-without-scheme-is-plain-http", HAND, server("PLAIN")),
    Scenario("server-without-scheme-to-tls-fails", HAND, server("TLS")),
    Scenario("server-without-scheme-with-path-fails", HAND, server("PLAIN/prefix")),
    Scenario("server-unsupported-scheme-fails", HAND, server("ftp://TLS")),
    Scenario("ca-data", f"{CLIENT} TestCertificateData", cluster_of(tls)),
    Scenario(
        "ca-file",
        HAND,
        lambda c: home_config(
            c,
            single(
                {
                    "server": c.world.url("tls"),
                    "certificate-authority": str(c.world.pki.crt("ca-a")),
                },
                TOKEN,
            ),
        ),
    ),
    Scenario(
        "ca-file-and-data-fails",
        f"{VALID} TestValidateCleanWithCAClusterInfo",
        cluster_of(lambda c: tls(c, **{"certificate-authority": str(c.world.pki.crt("ca-a"))})),
    ),
    Scenario(
        "ca-file-missing-fails",
        f"{VALID} TestValidateMissingCAFileClusterInfo",
        cluster_of(
            lambda c: {
                "server": c.world.url("tls"),
                "certificate-authority": str(c.home / "gone.crt"),
            }
        ),
    ),
    Scenario(
        "ca-file-missing-fails-over-http-too",
        f"{VALID} TestValidateMissingCAFileClusterInfo",
        cluster_of(lambda c: plain(c, **{"certificate-authority": str(c.home / "gone.crt")})),
    ),
    Scenario(
        "wrong-ca-fails",
        HAND,
        cluster_of(lambda c: tls(c, **{"certificate-authority-data": c.world.b64("ca-b.crt")})),
    ),
    Scenario(
        "no-ca-system-store-fails", HAND, cluster_of(lambda c: {"server": c.world.url("tls")})
    ),
    Scenario("ca-from-ssl-cert-file", HAND, trusted_by_env),
    Scenario(
        "der-ca-data-fails",
        HAND,
        cluster_of(lambda c: tls(c, **{"certificate-authority-data": c.world.b64("ca-a.der")})),
    ),
    Scenario(
        "garbage-ca-data-fails",
        HAND,
        cluster_of(lambda c: tls(c, **{"certificate-authority-data": "bm90IGEgY2VydA=="})),
    ),
    Scenario(
        "insecure-skip-verify-true",
        f"{CLIENT} TestInsecureOverridesCA",
        cluster_of(lambda c: {"server": c.world.url("tls"), "insecure-skip-tls-verify": True}),
    ),
    Scenario(
        "insecure-skip-verify-quoted-false-fails",
        HAND,
        cluster_of(lambda c: {"server": c.world.url("tls"), "insecure-skip-tls-verify": "false"}),
    ),
    Scenario(
        "insecure-skip-verify-quoted-true-fails",
        HAND,
        cluster_of(lambda c: {"server": c.world.url("tls"), "insecure-skip-tls-verify": "true"}),
    ),
    Scenario(
        "insecure-skip-verify-number-fails",
        HAND,
        cluster_of(lambda c: {"server": c.world.url("tls"), "insecure-skip-tls-verify": 1}),
    ),
    Scenario(
        "insecure-skip-verify-yaml-yes",
        HAND,
        text_config(YAML_BOOL % "yes"),
    ),
    Scenario(
        "insecure-skip-verify-yaml-y",
        HAND,
        text_config(YAML_BOOL % "y"),
    ),
    Scenario(
        "insecure-skip-verify-false-keeps-checks",
        HAND,
        cluster_of(lambda c: {"server": c.world.url("tls"), "insecure-skip-tls-verify": False}),
    ),
    Scenario(
        "insecure-with-ca-fails",
        HAND,
        cluster_of(lambda c: tls(c, **{"insecure-skip-tls-verify": True})),
    ),
    Scenario(
        "insecure-with-ca-over-http-accepted",
        HAND,
        cluster_of(
            lambda c: plain(
                c,
                **{
                    "insecure-skip-tls-verify": True,
                    "certificate-authority-data": c.world.b64("ca-a.crt"),
                },
            )
        ),
    ),
    Scenario(
        "tls-server-name",
        f"{CLIENT} TestTLSServerName",
        cluster_of(
            lambda c: {
                "server": c.world.url("named"),
                "certificate-authority-data": c.world.b64("ca-a.crt"),
                "tls-server-name": SERVER_NAME,
            }
        ),
    ),
    Scenario(
        "certificate-for-another-name-fails",
        HAND,
        cluster_of(
            lambda c: {
                "server": c.world.url("named"),
                "certificate-authority-data": c.world.b64("ca-a.crt"),
            }
        ),
    ),
    Scenario(
        "tls-server-name-wrong-fails",
        HAND,
        cluster_of(
            lambda c: {
                "server": c.world.url("named"),
                "certificate-authority-data": c.world.b64("ca-a.crt"),
                "tls-server-name": "wrong.internal",
            }
        ),
    ),
    Scenario(
        "tls-server-name-sent-as-sni",
        f"{CLIENT} TestTLSServerName",
        cluster_of(lambda c: tls(c, **{"tls-server-name": "localhost"})),
    ),
]
