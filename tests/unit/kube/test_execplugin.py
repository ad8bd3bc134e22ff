"""What an exec credential plugin's answer means, and what the plugin is told (client-go's
exec.go)."""

import json

import pytest

from pacdeploy.kube import execplugin
from pacdeploy.kube.execplugin import CredentialError
from pacdeploy.kube.kubeconfig import ExecSpec

V1 = "client.authentication.k8s.io/v1"


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


def test_the_install_hint_loses_its_terminal_escapes():
    assert execplugin.clean_ansi("\x1b[1mbrew install x\x1b[0m\n\tok") == (
        "U+001B[1mbrew install xU+001B[0m\n\tok"
    )
