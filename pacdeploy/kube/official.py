"""The official ``kubernetes`` client, the parts pacdeploy uses: its REST layer
(``RESTClientObject`` on a ``Configuration``), ``ApiException`` and ``parse_quantity``.

Every import of the official client goes through here, because of how it loads. Its
top-level ``kubernetes/__init__.py`` (v37) eagerly imports ``config``, ``dynamic``,
``watch``, ``stream``, ``leaderelection`` and ``informer``, and through them ``ApiClient``
with pydantic, dateutil, requests and oauthlib: about 230 ms of CPU on a machine of this
project's kind, before the first request, for code pacdeploy never calls.
``kubernetes.client``'s own ``__init__`` is lazy since v37, so the REST layer by itself
costs about 30 ms. So, for the versions pyproject.toml allows (``STAND_IN_FOR``), the top
package is stood in for by a module of the same name and path whose ``__init__`` is not
run (stand_ins.py), and so are ``kubernetes.utils`` (the REST layer's retry and keepalive
modules live there, beside a YAML loader and metrics its ``__init__`` imports) and
``kubernetes.client``; their modules then load as usual, each from the installed client.
Any other version, or a process that already imported the package, takes the plain import.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import urllib3

from pacdeploy.kube import stand_ins

if TYPE_CHECKING:
    from decimal import Decimal

STAND_IN_FOR = "37."  # the major version pyproject.toml pins (kubernetes>=37,<38)


class Response(Protocol):
    """What ``RESTClientObject.request`` returns: ``RESTResponse``, its body unread."""

    status: int
    response: urllib3.BaseHTTPResponse

    def read(self) -> bytes: ...


class RestClient(Protocol):
    """``kubernetes.client.rest.RESTClientObject``, as pacdeploy calls it."""

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        body: object = None,
        post_params: None = None,
        _request_timeout: tuple[float, float | None] | None = None,
    ) -> Response: ...


def installed_version() -> str | None:
    """The installed client's version, read from its package without running it."""
    spec = importlib.util.find_spec("kubernetes")
    return None if spec is None or spec.origin is None else stand_ins.version_in(Path(spec.origin))


def stand_in_for_package() -> bool:
    """Stand in for the ``kubernetes`` package's ``__init__`` (see the module's docstring);
    True if the stand-in is in place, False if the package loads (or loaded) as usual."""
    loaded = sys.modules.get("kubernetes")
    if loaded is not None:
        return getattr(loaded, "__pacdeploy_stand_in__", False) is True
    spec = importlib.util.find_spec("kubernetes")
    version = installed_version()
    if spec is None or spec.submodule_search_locations is None or version is None:
        return False
    if not version.startswith(STAND_IN_FOR):
        return False
    directory = Path(spec.submodule_search_locations[0])
    package = stand_ins.package("kubernetes", directory, spec)
    package.__version__ = version  # type: ignore[attr-defined]
    # kubernetes.utils's __init__ too: the REST layer needs its retry and keepalive modules,
    # not the YAML loader, quantities, durations and metrics it imports with them (~3 ms).
    stand_ins.package("kubernetes.utils", directory / "utils")
    # And kubernetes.client's: lazy since v37, it still lists every API and model it could
    # load (~3 ms); the REST layer is three of its modules, loaded by name.
    stand_ins.package("kubernetes.client", directory / "client")
    return True


def rest_client(server: str, pool: urllib3.PoolManager) -> RestClient:
    """The official REST client for ``server``, sending through ``pool`` (the transport's:
    TLS, client certificate and proxy are decided there, never by the client's own
    reading of the environment)."""
    stand_in_for_package()
    from kubernetes.client.configuration import Configuration
    from kubernetes.client.rest import RESTClientObject

    configuration = Configuration(host=server)
    configuration.proxy = None  # it reads HTTPS_PROXY itself; the transport chose (proxy.py)
    client: RestClient = RESTClientObject(configuration)
    client.pool_manager = pool  # type: ignore[attr-defined]
    return client


def api_exception() -> type[Exception]:
    """``kubernetes.client.exceptions.ApiException``: what the REST layer raises."""
    stand_in_for_package()
    from kubernetes.client.exceptions import ApiException

    exception: type[Exception] = ApiException
    return exception


def api_error(status: int, body: str) -> Exception:
    """An ``ApiException`` for an answer of ``status`` with ``body``, as the official
    client raises for it (the reason: the body's start)."""
    stand_in_for_package()
    from kubernetes.client.exceptions import ApiException

    error: Exception = ApiException(status=status, reason=body[:200])
    error.body = body  # type: ignore[attr-defined]
    return error


def parse_quantity(quantity: str) -> Decimal:
    """A Kubernetes quantity ("1Gi", "500m") as a number, by the official client's rules."""
    stand_in_for_package()
    from kubernetes.utils.quantity import parse_quantity as parse

    value: Decimal = parse(quantity)  # type: ignore[no-untyped-call]
    return value
