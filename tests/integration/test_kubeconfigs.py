"""Every kubeconfig kubectl accepts works the same for pacdeploy: same cluster, same user,
refreshed the same way, through the same proxy (issue 18's table, row by row).

Each test runs kubectl and pacdeploy with one kubeconfig and asserts one outcome: the same
user (a SelfSubjectReview, `kubectl auth whoami`), the same server, or the same failure
with pacdeploy's documented exit code. Everything is real: ServiceAccount tokens from the
TokenRequest API, exec plugins that mint them, a proxy on loopback that demands
credentials, and the API server that revokes a token when its bound Secret is deleted.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.support import accounts, cli, eventually, one_line, plugins
from tests.support.forwarding import Forward
from tests.support.proxy import Proxy

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


# -- helpers ------------------------------------------------------------------------------
def config(path: Path, contexts: list[tuple[str, dict, dict]], current: str | None = None):
    """A kubeconfig of ``(name, cluster entry, user entry)`` triples."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c, _ in contexts],
        "users": [{"name": n, "user": u} for n, _, u in contexts],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n, _, _ in contexts],
        "current-context": contexts[0][0] if current is None else current,
    }
    path.write_text(yaml.safe_dump(document))
    path.chmod(0o600)
    return path


def env_for(kubeconfig: Path | str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({"KUBECONFIG": str(kubeconfig), "PACDEPLOY_API_RETRY_SECONDS": "2", **extra})
    return env


def kubectl(target, env, *args, timeout=60):
    return subprocess.run(
        [target.kubectl, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def kubectl_whoami(target, env, *args) -> str:
    done = kubectl(target, env, *args, "auth", "whoami", "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["status"]["userInfo"]["username"]


def pacdeploy_whoami(env, *args, again=False, input=None, timeout=60):
    command = [sys.executable, "-m", "tests.support.whoami", *args]
    if again:
        command.append("--again")
    return subprocess.run(
        command,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )


def whoami_twice(env) -> subprocess.Popen[str]:
    """A pacdeploy process that asks who it is now, and again once a line comes on stdin."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.whoami", "--again"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def whoami(env, *args) -> dict[str, str]:
    done = pacdeploy_whoami(env, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def admin(target):
    return accounts.admin_entries(target)


@pytest.fixture
def account(cluster):
    """A ServiceAccount with the documented operator role (enough for every command)."""
    created = accounts.service_account(cluster, accounts.operator_rules(), "conformance")
    yield created
    for kind, name in created.cleanup:
        cluster.delete(kind, name)


def revoke(cluster, account, secret):
    """Delete the Secret tokens are bound to: the API server then rejects them (in ~10 s)."""
    cluster.delete("Secret", secret["metadata"]["name"], account.namespace)


# -- which cluster --------------------------------------------------------------------------
def test_first_file_in_kubeconfig_wins_current_context_and_entries(target, admin, tmp_path):
    cluster_entry, user = admin
    elsewhere = {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}
    a = config(tmp_path / "a.yaml", [("sandbox", cluster_entry, user)])
    # b names another current context, and redefines a's cluster under the same name.
    b = config(
        tmp_path / "b.yaml", [("elsewhere", elsewhere, {"token": "x"}), ("sandbox", elsewhere, {})]
    )
    env = env_for(f"{a}{os.pathsep}{b}")
    current = kubectl(target, env, "config", "current-context").stdout.strip()
    assert current == "sandbox"
    seen = whoami(env)
    assert (seen["context"], seen["server"]) == ("sandbox", cluster_entry["server"])
    assert seen["user"] == kubectl_whoami(target, env)


def test_empty_current_context_with_context_flag(target, admin, tmp_path):
    """What `pacdeploy sandbox down` leaves: current-context "" — --context still works."""
    cluster_entry, user = admin
    path = config(tmp_path / "config", [("sandbox", cluster_entry, user)], current="")
    env = env_for(path)
    assert whoami(env, "--context", "sandbox")["user"] == kubectl_whoami(
        target, env, "--context", "sandbox"
    )
    result = cli.run("--context", "sandbox", "-n", "pd-none", "history", env=env, timeout=60)
    assert "Expected object" not in result.stderr and result.returncode in (0, 7), result.stderr


def test_relative_paths_resolve_against_their_own_file(target, admin, tmp_path):
    cluster_entry, user = admin
    folder = tmp_path / "nested"
    folder.mkdir()
    (folder / "ca.crt").write_bytes(base64.b64decode(cluster_entry["certificate-authority-data"]))
    (folder / "client.crt").write_bytes(base64.b64decode(user["client-certificate-data"]))
    (folder / "client.key").write_bytes(base64.b64decode(user["client-key-data"]))
    files = {"server": cluster_entry["server"], "certificate-authority": "ca.crt"}
    creds = {"client-certificate": "client.crt", "client-key": "client.key"}
    path = config(folder / "config", [("rel", files, creds)])
    env = env_for(path)  # run from elsewhere: paths are relative to the file, not the cwd
    assert whoami(env)["user"] == kubectl_whoami(target, env)


# -- exec plugins ------------------------------------------------------------------------------
def test_failing_exec_plugin_sends_no_request_and_exits_3(target, admin, tmp_path):
    cluster_entry, _ = admin
    plugin = plugins.failing(tmp_path, "sso session expired: run `corp login`")
    with Proxy() as proxy:
        # Every request would have to pass the proxy: it counts what reaches it.
        cluster_with_proxy = {**cluster_entry, "proxy-url": proxy.url()}
        user = {
            "exec": {"apiVersion": plugins.V1, "command": str(plugin), "interactiveMode": "Never"}
        }
        path = config(tmp_path / "config", [("sso", cluster_with_proxy, user)])
        env = env_for(path)
        theirs = kubectl(target, env, "get", "namespaces")
        started = time.monotonic()
        ours = cli.run("-n", "pd-none", "status", env=env, timeout=60)
        elapsed = time.monotonic() - started
        assert proxy.seen.tunnels == [] and proxy.seen.not_connect == 0
    assert (
        theirs.returncode != 0 and f"executable {plugin} failed with exit code 1" in theirs.stderr
    )
    assert ours.returncode == 3, ours.stderr
    assert "sso session expired" in ours.stderr  # the plugin's own words, on stderr
    line = ours.stderr.strip().splitlines()[-1]
    assert f"getting credentials: exec: executable {plugin} failed with exit code 1" in line
    assert "Traceback" not in ours.stderr and "system:anonymous" not in ours.stderr
    assert elapsed < 2.0, elapsed


def token_plugin(target, account, tmp_path, secret):
    return plugins.TokenPlugin(
        tmp_path / "plugin",
        target.kubectl,
        target.kubeconfig,
        target.context,
        account.namespace,
        account.name,
    ).write(secret)


def exec_user(plugin: plugins.TokenPlugin) -> dict:
    return {
        "exec": {
            "apiVersion": plugins.V1,
            "command": str(plugin.command),
            "interactiveMode": "Never",
            "provideClusterInfo": True,
        }
    }


def test_exec_plugin_gives_the_same_user_and_runs_once_per_process(
    target, cluster, admin, account, tmp_path
):
    accounts.secret(cluster, account, "bound-1")
    plugin = token_plugin(target, account, tmp_path, "bound-1")
    path = config(tmp_path / "config", [("eks", admin[0], exec_user(plugin))])
    env = env_for(path)
    assert kubectl_whoami(target, env) == account.username
    before = plugin.runs()
    done = pacdeploy_whoami(env, again=True, input="\n")
    assert done.returncode == 0, done.stderr
    users = [json.loads(line)["user"] for line in done.stdout.splitlines()]
    assert users == [account.username] * 2
    assert plugin.runs() - before == 1  # no expiry: cached for the process's life
    info = json.loads(plugin.runs_file.read_text().splitlines()[-1])
    assert info["spec"]["cluster"]["server"] == admin[0]["server"]  # provideClusterInfo


def test_revoked_exec_token_is_minted_again_after_401(target, cluster, admin, account, tmp_path):
    first = accounts.secret(cluster, account, "bound-1")
    plugin = token_plugin(target, account, tmp_path, "bound-1")
    path = config(tmp_path / "config", [("eks", admin[0], exec_user(plugin))])
    env = env_for(path)
    process = whoami_twice(env)
    assert json.loads(process.stdout.readline())["user"] == account.username
    old_token = f"Bearer {plugin.last_token}"
    accounts.secret(cluster, account, "bound-2")
    plugin.secret_file.write_text("bound-2")
    revoke(cluster, account, first)
    wait_until_rejected(admin[0], old_token)
    out, err = process.communicate("\n", timeout=60)
    assert process.returncode == 0, err
    assert json.loads(out)["user"] == account.username
    assert plugin.runs() == 2


def wait_until_rejected(cluster_entry, authorization):
    """The API server caches token reviews for ~10 s: wait until it answers 401."""
    import ssl
    import urllib.error
    import urllib.request

    ca = base64.b64decode(cluster_entry["certificate-authority-data"]).decode()
    context = ssl.create_default_context(cadata=ca)

    def rejected():
        """the revoked token is rejected"""
        request = urllib.request.Request(
            cluster_entry["server"] + "/api", headers={"Authorization": authorization}
        )
        try:
            urllib.request.urlopen(request, context=context, timeout=5).close()
        except urllib.error.HTTPError as exc:
            return exc.code == 401
        return False

    eventually(rejected, timeout=60, interval=0.5)


def test_forward_keeps_serving_across_a_token_revocation(
    target, cluster, admin, account, app, tmp_path
):
    first = accounts.secret(cluster, account, "bound-1")
    plugin = token_plugin(target, account, tmp_path, "bound-1")
    path = config(tmp_path / "config", [("eks", admin[0], exec_user(plugin))])
    forward = Forward(cli.start("-n", app, "forward", "0", env=env_for(path)))
    try:
        assert forward.get("/") == (200, b"pacman\n")
        old_token = f"Bearer {plugin.last_token}"
        accounts.secret(cluster, account, "bound-2")
        plugin.secret_file.write_text("bound-2")
        revoke(cluster, account, first)
        wait_until_rejected(admin[0], old_token)
        # The pod's tunnel was upgraded before the revocation and stays open, as kubectl's
        # one connection does: new connections on it still get through.
        answers = [forward.get("/") for _ in range(10)]
        assert answers == [(200, b"pacman\n")] * 10
        # A new pod needs a new tunnel, and so the plugin's new token.
        before = eventually(forward.serving)
        for pod in before:
            cluster.delete("Pod", pod, app)
        eventually(lambda: forward.serving() and not set(forward.serving()) & set(before))
        assert forward.get("/") == (200, b"pacman\n")
        assert plugin.runs() >= 2
    finally:
        code, _, err = forward.stop()
    assert code == 0 and "Traceback" not in err


def test_interactive_plugin_prompts_on_the_terminal_with_stdout_piped(
    target, cluster, admin, account, tmp_path
):
    token = accounts.token(cluster, account)
    plugin = plugins.interactive(tmp_path, token)
    user = {
        "exec": {"apiVersion": plugins.V1, "command": str(plugin), "interactiveMode": "IfAvailable"}
    }
    path = config(tmp_path / "config", [("aks", admin[0], user)])
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        cli.command("-n", "pd-none", "history"),
        env=env_for(path),
        stdin=follower,
        stderr=follower,
        stdout=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + 30
    while b"enter the code" not in shown and time.monotonic() < deadline:
        shown += os.read(leader, 1024)
    assert b"enter the code shown in your browser" in shown
    os.write(leader, b"CODE-42\n")
    out, _ = process.communicate(timeout=60)
    os.close(leader)
    assert process.returncode in (0, 7), out  # authenticated: history has nothing to show


def test_exec_client_certificate_is_renewed_when_it_expires(target, admin, tmp_path):
    pki = _cluster_pki(target)
    if pki is None:
        pytest.skip("the cluster's CA key is not on this machine (only the sandbox has it)")
    _, user = admin
    first = (tmp_path / "a.crt", tmp_path / "a.key")
    first[0].write_bytes(base64.b64decode(user["client-certificate-data"]))
    first[1].write_bytes(base64.b64decode(user["client-key-data"]))
    second = _sign(pki, tmp_path, "pd-renewed")
    plugin = plugins.certificate(tmp_path, [first, second], 3)
    exec_entry = {
        "exec": {"apiVersion": plugins.V1, "command": str(plugin), "interactiveMode": "Never"}
    }
    path = config(tmp_path / "config", [("certs", admin[0], exec_entry)])
    process = whoami_twice(env_for(path))
    original = json.loads(process.stdout.readline())["user"]
    time.sleep(4)  # past the first certificate's expirationTimestamp
    out, err = process.communicate("\n", timeout=60)
    assert process.returncode == 0, err
    assert original != "pd-renewed" and json.loads(out)["user"] == "pd-renewed"


def _cluster_pki(target) -> Path | None:
    if target.kind != "sandbox":
        return None
    from pacdeploy.sandbox import paths

    folder = paths.cluster_dir() / "pki"
    return folder if (folder / "ca.key").is_file() else None


def _sign(pki: Path, folder: Path, name: str) -> tuple[Path, Path]:
    key, csr, crt = folder / f"{name}.key", folder / f"{name}.csr", folder / f"{name}.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-subj",
            f"/CN={name}",
            "-out",
            str(csr),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(pki / "ca.crt"),
            "-CAkey",
            str(pki / "ca.key"),
            "-CAcreateserial",
            "-CAserial",
            str(folder / "ca.srl"),
            "-days",
            "1",
            "-out",
            str(crt),
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


# -- token files ----------------------------------------------------------------------------
def test_token_file_is_read_again_after_a_401(target, cluster, admin, account, tmp_path):
    first = accounts.secret(cluster, account, "file-1")
    token_file = tmp_path / "token"
    token_file.write_text(accounts.token(cluster, account, first))
    path = config(tmp_path / "config", [("file", admin[0], {"tokenFile": str(token_file)})])
    env = env_for(path)
    assert kubectl_whoami(target, env) == account.username
    process = whoami_twice(env)
    assert json.loads(process.stdout.readline())["user"] == account.username
    second = accounts.secret(cluster, account, "file-2")
    old = token_file.read_text()
    token_file.write_text(accounts.token(cluster, account, second))  # as the kubelet rotates
    revoke(cluster, account, first)
    wait_until_rejected(admin[0], f"Bearer {old}")
    out, err = process.communicate("\n", timeout=60)
    assert process.returncode == 0, err
    assert json.loads(out)["user"] == account.username


# -- TLS trust --------------------------------------------------------------------------------
def test_ca_trusted_only_through_ssl_cert_file_serves_rest_and_forward(
    target, admin, app, tmp_path
):
    cluster_entry, user = admin
    ca = tmp_path / "corporate-ca.pem"
    ca.write_bytes(base64.b64decode(cluster_entry["certificate-authority-data"]))
    no_ca = {"server": cluster_entry["server"]}
    path = config(tmp_path / "config", [("corp", no_ca, user)])
    env = env_for(path, SSL_CERT_FILE=str(ca))
    assert whoami(env)["user"] == kubectl_whoami(target, env)
    forward = Forward(cli.start("-n", app, "forward", "0", env=env))
    try:
        assert forward.get("/") == (200, b"pacman\n")
    finally:
        code, _, err = forward.stop()
    assert code == 0 and "error forwarding" not in err, err


def test_an_untrusted_server_fails_forward_in_one_line(target, admin, app, tmp_path):
    cluster_entry, user = admin
    path = config(tmp_path / "config", [("corp", {"server": cluster_entry["server"]}, user)])
    env = env_for(path, SSL_CERT_FILE=str(tmp_path / "empty.pem"))
    (tmp_path / "empty.pem").write_text("")
    result = cli.run("-n", app, "forward", "0", env=env, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "TLS" in one_line(result.stderr)
    assert kubectl(target, env, "get", "ns").returncode != 0


def test_insecure_skip_tls_verify_warns_nothing_per_request(target, admin, tmp_path):
    cluster_entry, user = admin
    insecure = {"server": cluster_entry["server"], "insecure-skip-tls-verify": True}
    path = config(tmp_path / "config", [("insecure", insecure, user)])
    env = env_for(path)
    assert kubectl(target, env, "get", "ns").returncode == 0
    result = cli.run("-n", "pd-none", "history", env=env, timeout=60)
    assert result.returncode in (0, 7), result.stderr
    assert "Warning" not in result.stderr and "Unverified" not in result.stderr


# -- proxies ------------------------------------------------------------------------------------
def test_authenticating_proxy_carries_rest_and_forward(target, admin, app, tmp_path):
    cluster_entry, user = admin
    with Proxy(username="corp", password="s3cr:t") as proxy:
        entry = {**cluster_entry, "proxy-url": proxy.url().replace("s3cr:t", "s3cr%3At")}
        path = config(tmp_path / "config", [("corp", entry, user)])
        env = env_for(path)
        assert kubectl_whoami(target, env) == whoami(env)["user"]
        kubectl_tunnels = len(proxy.seen.tunnels)
        assert kubectl_tunnels > 0
        # `up` opens connections ahead of need: those too must CONNECT first.
        assert cli.run("-n", app, "up", "--replicas", "2", env=env).returncode == 0
        forward = Forward(cli.start("-n", app, "forward", "0", env=env))
        try:
            assert forward.get("/") == (200, b"pacman\n")
        finally:
            code, _, err = forward.stop()
        assert code == 0, err
        assert proxy.seen.refused == 0 and proxy.seen.not_connect == 0
        assert len(proxy.seen.tunnels) > kubectl_tunnels + 1


def test_status_reads_on_the_connections_it_opened_before_loading_and_opens_no_other(
    target, admin, app, tmp_path
):
    """`status` opens its first round's connections (one per read) as soon as its input is
    checked, before urllib3 loads, does their TLS there (tls-server-name as SNI), and the
    transport's requests go on those very connections: a relay in front of the API server
    sees as many TCP connections as that round's reads and the volume's read after it, and
    none besides."""
    from urllib.parse import urlsplit

    from pacdeploy.cli import rounds

    cluster_entry, user = admin
    server = urlsplit(cluster_entry["server"])
    with Proxy("tcp", upstream=(server.hostname, server.port or 443)) as relay:
        host, port = relay._listener.getsockname()[:2]
        entry = {
            **cluster_entry,
            "server": f"https://{host}:{port}",
            "tls-server-name": server.hostname,
        }
        path = config(tmp_path / "config", [("relayed", entry, user)])
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *cli.command("-vv", "-n", app, "status")[1:]],
            env=env_for(path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert len(relay.seen.tunnels) == rounds.STATUS, relay.seen.tunnels
    lines = done.stderr.splitlines()
    opened = next(i for i, line in enumerate(lines) if "connections ahead" in line)
    loaded = next(i for i, line in enumerate(lines) if line.rsplit("|", 1)[-1].strip() == "urllib3")
    assert opened < loaded, "\n".join(lines[opened - 3 : opened + 3])


def test_wrong_proxy_password_is_one_line_exit_3_like_kubectl(target, admin, tmp_path):
    cluster_entry, user = admin
    with Proxy(username="corp", password="right") as proxy:
        entry = {**cluster_entry, "proxy-url": proxy.url(password="wrong")}
        path = config(tmp_path / "config", [("corp", entry, user)])
        env = env_for(path)
        assert kubectl(target, env, "get", "ns").returncode != 0
        started = time.monotonic()
        result = cli.run("-n", "pd-none", "status", env=env, timeout=60)
        assert result.returncode == 3, result.stderr
        line = one_line(result.stderr)
        assert "407" in line and proxy.url(with_credentials=False) in line
        assert "wrong" not in line  # the password is never printed
        assert time.monotonic() - started < 10


def test_socks5_proxy_carries_rest_and_forward(target, admin, app, tmp_path):
    cluster_entry, user = admin
    with Proxy("socks5") as proxy:
        path = config(
            tmp_path / "config", [("socks", {**cluster_entry, "proxy-url": proxy.url()}, user)]
        )
        env = env_for(path)
        assert kubectl_whoami(target, env) == whoami(env)["user"]
        forward = Forward(cli.start("-n", app, "forward", "0", env=env))
        try:
            assert forward.get("/") == (200, b"pacman\n")
        finally:
            forward.stop()
        assert proxy.seen.refused == 0 and len(proxy.seen.tunnels) >= 3


def test_no_proxy_does_not_override_proxy_url(target, admin, tmp_path):
    cluster_entry, user = admin
    with Proxy() as proxy:
        path = config(
            tmp_path / "config", [("corp", {**cluster_entry, "proxy-url": proxy.url()}, user)]
        )
        env = env_for(path, NO_PROXY="127.0.0.1,localhost")
        kubectl_whoami(target, env)
        kubectl_tunnels = len(proxy.seen.tunnels)
        whoami(env)
        assert kubectl_tunnels > 0 and len(proxy.seen.tunnels) > kubectl_tunnels


def test_https_proxy_from_the_environment_is_not_used_for_loopback(target, admin, tmp_path):
    cluster_entry, user = admin
    path = config(tmp_path / "config", [("direct", cluster_entry, user)])
    with Proxy() as proxy:
        env = env_for(path, HTTPS_PROXY=proxy.url())
        assert whoami(env)["user"] == kubectl_whoami(target, env)
        assert proxy.seen.tunnels == []


# -- forward says why ---------------------------------------------------------------------------
def test_forward_names_why_its_streams_cannot_open_once(target, cluster, admin, app, tmp_path):
    """A user who may read pods but not port-forward: each connection is refused, and the
    reason is said once (kubectl: "error forwarding port"), not served as 0 bytes."""
    rules = [
        {"apiGroups": [""], "resources": ["services", "pods"], "verbs": ["get", "list", "watch"]}
    ]
    reader = accounts.service_account(cluster, rules, "reader")
    try:
        user = {"token": accounts.token(cluster, reader)}
        path = config(tmp_path / "config", [("reader", admin[0], user)])
        forward = Forward(cli.start("-n", app, "forward", "0", env=env_for(path)))
        for _ in range(3):
            with contextlib.suppress(OSError):  # closed without an answer: nothing to serve
                forward.get("/", timeout=10)
        code, _, err = forward.stop()
    finally:
        for kind, name in reader.cleanup:
            cluster.delete(kind, name)
    reasons = [line for line in err.splitlines() if "error forwarding port" in line]
    assert code == 0 and len(reasons) == 1, err
    assert "forbidden (403)" in reasons[0]
