"""Real exec credential plugins for the kubeconfig tests, written as small scripts.

The token plugin mints a ServiceAccount token with the real TokenRequest API (`kubectl
create token`), bound to a Secret: deleting that Secret revokes every token bound to it
(the API server answers 401 within about 10 s). Each run is counted in a file, so a test
can tell how often kubectl or pacdeploy ran the plugin.
"""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

V1 = "client.authentication.k8s.io/v1"


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@dataclass
class TokenPlugin:
    """Mints tokens for ``account`` in ``namespace``, bound to the Secret named in
    ``secret_file`` (rewrite it to move to a new Secret after revoking the old one)."""

    folder: Path
    kubectl: str
    admin_kubeconfig: Path
    context: str
    namespace: str
    account: str
    expiry: str | None = None  # an RFC 3339 time to put in expirationTimestamp

    @property
    def command(self) -> Path:
        return self.folder / "mint-token"

    @property
    def runs_file(self) -> Path:
        return self.folder / "runs"

    @property
    def secret_file(self) -> Path:
        return self.folder / "secret"

    @property
    def last_token(self) -> str:
        """The token the plugin handed out last (the tests' way to see when it is revoked)."""
        return (self.folder / "last-token").read_text()

    def runs(self) -> int:
        return len(self.runs_file.read_text().splitlines()) if self.runs_file.exists() else 0

    def write(self, secret: str) -> TokenPlugin:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.secret_file.write_text(secret)
        status_extra = {"expirationTimestamp": self.expiry} if self.expiry else {}
        kubectl = [
            self.kubectl,
            "--kubeconfig",
            str(self.admin_kubeconfig),
            "--context",
            self.context,
            "-n",
            self.namespace,
            "create",
            "token",
            self.account,
            "--bound-object-kind",
            "Secret",
            "--duration",
            "10m",
        ]
        _script(
            self.command,
            f"""import json, os, pathlib, subprocess, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
with open({str(self.runs_file)!r}, "a") as runs:
    runs.write(json.dumps(info) + "\\n")
secret = pathlib.Path({str(self.secret_file)!r}).read_text().strip()
done = subprocess.run({kubectl!r} + ["--bound-object-name", secret],
                      capture_output=True, text=True)
if done.returncode:
    sys.stderr.write(done.stderr)
    sys.exit(done.returncode)
pathlib.Path({str(self.folder / "last-token")!r}).write_text(done.stdout.strip())
status = {{"token": done.stdout.strip(), **{status_extra!r}}}
print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential", "status": status}}))
""",
        )
        return self


def failing(folder: Path, message: str, code: int = 1) -> Path:
    """A plugin whose login has expired: it says so on stderr and fails."""
    folder.mkdir(parents=True, exist_ok=True)
    return _script(
        folder / "expired-sso",
        f"import sys\nsys.stderr.write({message + chr(10)!r})\nsys.exit({code})\n",
    )


def interactive(folder: Path, token: str) -> Path:
    """A device-code style plugin: asks on stderr, reads the answer from stdin."""
    folder.mkdir(parents=True, exist_ok=True)
    credential = json.dumps(
        {"apiVersion": V1, "kind": "ExecCredential", "status": {"token": token}}
    )
    return _script(
        folder / "device-login",
        f"""import sys
sys.stderr.write("To sign in, enter the code shown in your browser: ")
sys.stderr.flush()
if sys.stdin.readline().strip() != "CODE-42":
    sys.exit(2)
print({credential!r})
""",
    )


def certificate(folder: Path, pairs: list[tuple[Path, Path]], expires_in: float) -> Path:
    """Hands out the client certificates of ``pairs`` in turn, each valid ``expires_in`` s."""
    folder.mkdir(parents=True, exist_ok=True)
    counter = folder / "cert-runs"
    return _script(
        folder / "issue-cert",
        f"""import datetime, json, pathlib
counter = pathlib.Path({str(counter)!r})
n = len(counter.read_text().splitlines()) if counter.exists() else 0
with counter.open("a") as f:
    f.write("run\\n")
pairs = {[(str(c), str(k)) for c, k in pairs]!r}
cert, key = pairs[min(n, len(pairs) - 1)]
when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={expires_in})
status = {{"clientCertificateData": pathlib.Path(cert).read_text(),
          "clientKeyData": pathlib.Path(key).read_text(),
          "expirationTimestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ")}}
print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential", "status": status}}))
""",
    )
