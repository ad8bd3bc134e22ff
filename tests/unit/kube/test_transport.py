"""The transport: credentials only over TLS, a token file re-read."""

from pacdeploy.kube import transport


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
