"""``kubectl auth whoami`` through pacdeploy's own connection layer, in a process of its own.

    python -m tests.support.whoami [--kubeconfig K] [--context C] [--again] [--exec POD]

Prints one JSON line per call: the user a SelfSubjectReview names, and the server and
context pacdeploy chose. With --again it waits for a line on stdin and asks once more in the
same process (credentials cached, refreshed or re-read in between). With --exec it instead
opens the websocket of `kubectl exec POD -- true` in the namespace default (pacdeploy's
streams: port-forward and exec). Errors are pacdeploy's own: one line on stderr, its exit
code. PACDEPLOY_API_RETRY_SECONDS bounds the retries (default 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from pacdeploy.errors import PacdeployError
from pacdeploy.kube.client import Cluster, connect
from pacdeploy.kube.podexec import PROTOCOL

REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


def whoami(cluster: Cluster) -> dict[str, str]:
    review = cluster.request(
        "POST",
        REVIEW,
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    user = review["status"]["userInfo"]["username"]
    return {"user": user, "server": cluster.server, "context": cluster.context}


def stream(cluster: Cluster, pod: str) -> int:
    from websocket import WebSocketException

    query = {"command": ["true"], "stdout": "true", "stderr": "true"}
    try:
        cluster.open_websocket(f"/api/v1/namespaces/default/pods/{pod}/exec", query, PROTOCOL)
    except (WebSocketException, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig")
    parser.add_argument("--context")
    parser.add_argument("--again", action="store_true")
    parser.add_argument("--exec", metavar="POD")
    args = parser.parse_args()
    retry = float(os.environ.get("PACDEPLOY_API_RETRY_SECONDS", "2"))
    try:
        cluster = connect(args.kubeconfig, args.context, retry_seconds=retry)
        if args.exec:
            return stream(cluster, args.exec)
        print(json.dumps(whoami(cluster)), flush=True)
        if args.again:
            sys.stdin.readline()
            print(json.dumps(whoami(cluster)), flush=True)
    except PacdeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
