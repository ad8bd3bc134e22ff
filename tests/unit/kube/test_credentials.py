"""The credentials a request carries: impersonation headers, the CA an exec plugin is told."""


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
