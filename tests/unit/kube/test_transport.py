"""The transport: kept-alive connections, credentials only over TLS, PEM CAs only."""

import pytest

from pacdeploy.kube import transport
from pacdeploy.kube.kubeconfig import KubeconfigError


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
