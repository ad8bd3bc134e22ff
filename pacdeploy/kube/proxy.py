"""Which proxy a connection to the API server goes through, and opening a tunnel through it.

client-go's rule (``tools/clientcmd/client_config.go``, ``transport/cache.go``): a cluster's
``proxy-url`` is used for every request, whatever NO_PROXY says (``http.ProxyURL``); without
one, Go's ``http.ProxyFromEnvironment`` decides (``golang.org/x/net/http/httpproxy``):
HTTPS_PROXY for an https server, HTTP_PROXY for http, never for localhost or a loopback
address, not for a host NO_PROXY matches. Schemes: http, https, socks5 (``helpers.go``
``parseProxyURL``); the proxy's credentials come from its URL's user info.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from pacdeploy.kube.kubeconfig import KubeconfigError

SCHEMES = ("http", "https", "socks5")
DEFAULT_PORTS = {"http": 80, "https": 443, "socks5": 1080}
MAX_RESPONSE = 64 * 1024


class ProxyRefused(OSError):
    """The proxy would not open a tunnel to the API server."""


class Proxy(NamedTuple):
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @property
    def url(self) -> str:
        """Without credentials: safe to print."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def basic_auth(self) -> str | None:
        if self.username is None:
            return None
        pair = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode()


def parse(text: str, source: str, *, default_scheme: str | None = None) -> Proxy:
    """``source``: where the URL was found, for the one-line error."""
    raw = text if "://" in text or default_scheme is None else f"{default_scheme}://{text}"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise KubeconfigError(f"{source} {text!r} is not a URL", "Fix the proxy URL") from exc
    if parts.scheme not in SCHEMES:
        raise KubeconfigError(
            f"{source} has unsupported scheme {parts.scheme!r}, must be http, https, or socks5",
            "Fix the proxy URL (kubectl accepts the same three)",
        )
    if not parts.hostname:
        raise KubeconfigError(f"{source} {text!r} names no host", "Fix the proxy URL")
    return Proxy(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _env(environ: Mapping[str, str], name: str) -> str:
    return environ.get(name.upper()) or environ.get(name.lower()) or ""


def _no_proxy_entry(entry: str) -> tuple[str, str, bool]:
    """One NO_PROXY entry as Go's ``httpproxy`` reads it: (host or address, port, whether
    the name itself matches): ``example.com`` matches it and its subdomains, ``.example.com``
    and ``*.example.com`` only the subdomains."""
    host, port = entry, ""
    if entry.count(":") == 1 or entry.startswith("["):
        host, _, port = entry.rpartition(":")
        host = host.strip("[]")
    if host.startswith("*."):
        host = host[1:]
    if host.startswith("."):
        return host, port, False
    return "." + host, port, True


def _no_proxy_matches(host: str, port: int, no_proxy: str) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*":
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False) if "/" in entry else None
        except ValueError:
            network = None
        if network is not None:
            if ip is not None and ip in network:
                return True
            continue
        name, entry_port, itself = _no_proxy_entry(entry)
        if name in (".", "") or (entry_port and entry_port != str(port)):
            continue
        try:
            if ipaddress.ip_address(name[1:]) is not None:  # an address matches only itself
                if ip is not None and ip == ipaddress.ip_address(name[1:]):
                    return True
                continue
        except ValueError:
            pass
        if host.endswith(name) or (itself and host == name[1:]):
            return True
    return False


def choose(
    server: str, proxy_url: str | None, environ: Mapping[str, str], *, cluster: str = ""
) -> Proxy | None:
    """The proxy kubectl would use for ``server``, or None for a direct connection."""
    if proxy_url:
        return parse(proxy_url, f"proxy-url of cluster {cluster!r}")
    parts = urlsplit(server)
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    name = "HTTPS_PROXY" if parts.scheme == "https" else "HTTP_PROXY"
    value = _env(environ, name)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 443)
    if not value or _no_proxy_matches(host, port, _env(environ, "NO_PROXY")):
        return None
    return parse(value, name, default_scheme="http")


def tunnel(proxy: Proxy, host: str, port: int, *, timeout: float) -> socket.socket:
    """A TCP stream to ``host``:``port`` through ``proxy`` (CONNECT, or SOCKS5)."""
    if proxy.scheme == "socks5":
        import socks  # PySocks, the library urllib3's SOCKS support is built on

        connected: socket.socket = socks.create_connection(
            (host, port),
            timeout=timeout,
            proxy_type=socks.SOCKS5,
            proxy_addr=proxy.host,
            proxy_port=proxy.port,
            proxy_rdns=True,
            proxy_username=proxy.username,
            proxy_password=proxy.password,
        )
        return connected
    sock: socket.socket = socket.create_connection((proxy.host, proxy.port), timeout=timeout)
    try:
        if proxy.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=proxy.host)
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        if auth := proxy.basic_auth():
            lines.append(f"Proxy-Authorization: {auth}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            if not chunk or len(response) > MAX_RESPONSE:
                raise ProxyRefused(f"proxy {proxy.url} closed the connection during CONNECT")
            response += chunk
        status = response.split(b"\r\n", 1)[0].decode(errors="replace")
        if status.split(" ")[1:2] != ["200"]:
            raise ProxyRefused(f"proxy {proxy.url} answered {status.partition(' ')[2]}")
    except BaseException:
        sock.close()
        raise
    return sock
