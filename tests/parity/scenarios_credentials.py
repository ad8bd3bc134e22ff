"""Scenarios: tokens, basic auth, client certificates, impersonation, auth providers; over TLS
and over plain HTTP (where kubectl sends no credential at all)."""

from __future__ import annotations

import base64
import json
import time

from tests.parity.kubeconfigs import (
    TOKEN,
    cert_user,
    config,
    home_config,
    plain,
    plugin,
    single,
    tls,
)
from tests.parity.runner import Scenario
from tests.parity.world import Case

CLIENT = "tools/clientcmd/client_config_test.go"
VALID = "tools/clientcmd/validation_test.go"
TRIPPERS = "transport/round_trippers_test.go"
HAND = "hand-written"


def user(body: object, server: object = tls, **cluster: object) -> object:
    """``body``: a user entry, or a function of the case giving one."""

    def build(case: Case) -> None:
        entry = body(case) if callable(body) else body
        home_config(case, single(server(case, **cluster), entry))  # type: ignore[operator]

    return build


def token_file(content: str | None, **extra: object) -> object:
    def build(case: Case) -> None:
        path = case.home / "token"
        if content is not None:
            case.write("token", content)
        home_config(case, single(tls(case), {"tokenFile": str(path), **extra}))

    return build


def relative_token_file(case: Case) -> None:
    case.write("files/secrets/token", "from-relative-file\n")
    case.env["KUBECONFIG"] = str(
        case.write("files/config", single(tls(case), {"tokenFile": "secrets/token"}))
    )


def cert_files(case: Case, *, key: bool = True, relative: bool = False) -> None:
    crt = case.copy("alice.crt", "files/alice.crt")
    entry = {"client-certificate": "alice.crt" if relative else str(crt)}
    if key:
        entry["client-key"] = str(case.copy("alice.key", "files/alice.key"))
    case.env["KUBECONFIG"] = str(case.write("files/config", single(tls(case), entry)))


def jwt(expires_in: float) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": "https://issuer.test", "sub": "jane", "exp": int(time.time() + expires_in)}
    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


def oidc(**config_: object) -> dict:
    settings = {"idp-issuer-url": "https://issuer.test", "client-id": "kubectl", **config_}
    return {"auth-provider": {"name": "oidc", "config": settings}}


def tokens_everywhere(case: Case) -> None:
    """Two contexts, two servers: each gets its own user's credential and no other's."""
    document = config(
        {"t": tls(case), "p": plain(case)},
        {"a": {"token": "for-tls"}, "b": {"token": "for-plain"}},
        {"t": {"cluster": "t", "user": "a"}, "p": {"cluster": "p", "user": "b"}},
        current="p",
    )
    home_config(case, document)


EVERYONE = {
    "as": "jane",
    "as-uid": "1234",
    "as-groups": ["dev", "ops"],
    "as-user-extra": {"scopes": ["view", "edit"], "team": ["blue"]},
}

CREDENTIALS = [
    Scenario("token", HAND, user(TOKEN)),
    Scenario("token-file", f"{CLIENT} TestBasicTokenFile", token_file("from-file")),
    Scenario("token-file-trimmed", HAND, token_file("  from-file\n\n")),
    Scenario(
        "token-file-relative-to-its-kubeconfig",
        "tools/clientcmd/loader_test.go TestResolveRelativePaths",
        relative_token_file,
    ),
    Scenario(
        "token-and-token-file-file-wins",
        f"{CLIENT} TestPrecedenceTokenFile",
        token_file("from-file", token="inline"),
    ),
    Scenario("token-and-missing-token-file-token", HAND, token_file(None, token="inline")),
    Scenario("token-file-missing-fails", HAND, token_file(None)),
    Scenario("token-file-empty-fails", HAND, token_file("\n")),
    Scenario(
        "token-file-and-basic-auth-fails", HAND, token_file("from-file", username="u", password="p")
    ),
    Scenario("basic-auth", f"{CLIENT} TestBasicAuthData", user({"username": "u", "password": "p"})),
    Scenario("username-without-password", HAND, user({"username": "u"})),
    Scenario("password-without-username-fails", HAND, user({"password": "p"})),
    Scenario(
        "token-and-password-fails",
        f"{VALID} TestValidateMultipleMethodsAuthInfo",
        user({"token": "t", "password": "p"}),
    ),
    Scenario(
        "token-and-username-fails",
        f"{VALID} TestValidateMultipleMethodsAuthInfo",
        user({"token": "t", "username": "u"}),
    ),
    Scenario("token-as-number-fails", HAND, user({"token": 12345})),
    Scenario("token-as-yaml-bool-fails", HAND, user({"token": True})),
    Scenario("empty-user-fails-over-tls", f"{VALID} TestValidateEmptyAuthInfo", user({})),
    Scenario("client-certificate-data", f"{CLIENT} TestCertificateData", user(cert_user)),
    Scenario("client-certificate-files", f"{VALID} TestValidateCleanCertFilesAuthInfo", cert_files),
    Scenario(
        "client-certificate-relative-path",
        "tools/clientcmd/loader_test.go TestResolveRelativePaths",
        lambda c: cert_files(c, relative=True),
    ),
    Scenario("client-certificate-without-key-fails", HAND, lambda c: cert_files(c, key=False)),
    Scenario(
        "client-certificate-file-missing-fails",
        f"{VALID} TestValidateCertFilesNotFoundAuthInfo",
        user({"client-certificate": "/nonexistent/a.crt", "client-key": "/nonexistent/a.key"}),
    ),
    Scenario(
        "client-certificate-file-and-data-fails",
        f"{VALID} TestValidateCertDataOverridesFiles",
        user(lambda c: {**cert_user(c), "client-certificate": str(c.world.pki.crt("alice"))}),
    ),
    Scenario(
        "client-certificate-and-token-both-sent",
        HAND,
        user(lambda c: {**cert_user(c), "token": "tok"}),
    ),
    Scenario(
        "client-certificate-mismatched-key-fails",
        HAND,
        user(lambda c: {**cert_user(c), "client-key-data": c.world.b64("bob.key")}),
    ),
    Scenario("no-token-over-http", HAND, user(TOKEN, plain)),
    Scenario("no-basic-auth-over-http", HAND, user({"username": "u", "password": "p"}, plain)),
    Scenario("no-client-certificate-over-http", HAND, user(cert_user, plain)),
    Scenario(
        "no-token-file-read-over-http", HAND, user({"tokenFile": "/nonexistent/token"}, plain)
    ),
    Scenario("no-exec-plugin-over-http", HAND, user(plugin, plain)),
    Scenario("each-context-its-own-credential", HAND, tokens_everywhere),
    Scenario(
        "impersonate-user",
        f"{VALID} TestValidateAuthInfoImpersonateUser",
        user({**TOKEN, "as": "jane"}),
    ),
    Scenario(
        "impersonate-everything", f"{CLIENT} TestFullImpersonateConfig", user({**TOKEN, **EVERYONE})
    ),
    Scenario(
        "impersonate-groups-in-order",
        f"{TRIPPERS} TestImpersonationRoundTripper",
        user({**TOKEN, "as": "jane", "as-groups": ["z", "a", "m"]}),
    ),
    Scenario(
        "impersonate-extra-key-escaped",
        f"{TRIPPERS} TestHeaderEscapeRoundTrip",
        user({**TOKEN, "as": "jane", "as-user-extra": {"example.com/Scopes%x y": ["v"]}}),
    ),
    Scenario("impersonate-over-http-without-credentials", HAND, user({**TOKEN, **EVERYONE}, plain)),
    Scenario(
        "impersonate-with-client-certificate", HAND, user(lambda c: {**cert_user(c), "as": "jane"})
    ),
    Scenario("impersonate-only-fails-over-tls", HAND, user({"as": "jane"})),
    Scenario(
        "impersonate-groups-without-user-fails",
        f"{VALID} TestValidateAuthInfoImpersonateGroupsWithoutUserInvalid",
        user({**TOKEN, "as-groups": ["dev"]}),
    ),
    Scenario(
        "impersonate-extra-without-user-fails",
        f"{VALID} TestValidateAuthInfoImpersonateExtraWithoutUserInvalid",
        user({**TOKEN, "as-user-extra": {"a": ["b"]}}),
    ),
    Scenario(
        "impersonate-uid-without-user-fails",
        f"{VALID} TestValidateAuthInfoImpersonateUIDWithoutUserInvalid",
        user({**TOKEN, "as-uid": "1"}),
    ),
    Scenario("impersonate-on-streams", HAND, user({**TOKEN, **EVERYONE}), mode="stream"),
    Scenario("token-on-streams", HAND, user(TOKEN), mode="stream"),
    Scenario("client-certificate-on-streams", HAND, user(cert_user), mode="stream"),
    Scenario(
        "no-token-on-streams-over-http", HAND, user({**TOKEN, "as": "jane"}, plain), mode="stream"
    ),
    Scenario("oidc-valid-id-token", HAND, user(oidc(**{"id-token": jwt(3600)}))),
    Scenario("oidc-and-token-token-wins", HAND, user({**oidc(**{"id-token": jwt(3600)}), **TOKEN})),
    Scenario(
        "oidc-expired-without-refresh-token-fails", HAND, user(oidc(**{"id-token": jwt(-60)}))
    ),
    Scenario("oidc-not-a-jwt-fails", HAND, user(oidc(**{"id-token": "opaque"}))),
    Scenario(
        "oidc-without-client-id-fails",
        HAND,
        user(
            {
                "auth-provider": {
                    "name": "oidc",
                    "config": {"idp-issuer-url": "https://i", "id-token": jwt(3600)},
                }
            }
        ),
    ),
    Scenario("auth-provider-gcp-removed-fails", HAND, user({"auth-provider": {"name": "gcp"}})),
    Scenario("auth-provider-unknown-fails", HAND, user({"auth-provider": {"name": "corp-sso"}})),
]
