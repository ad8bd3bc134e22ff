"""``kubectl auth whoami`` through pacdeploy's own connection layer, in a process of its own.

    python -m tests.support.whoami [--kubeconfig K] [--context C] [--again]

Prints one JSON line per call: the user a SelfSubjectReview names, and the server and
context pacdeploy chose. With --again it waits for a line on stdin and asks once more in the
same process (credentials cached, refreshed or re-read in between). Errors are pacdeploy's
own: one line on stderr, its exit code.
"""

from __future__ import annotations

import argparse
import json
import sys

from pacdeploy.errors import PacdeployError
from pacdeploy.kube.client import Cluster, connect

REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


def whoami(cluster: Cluster) -> dict[str, str]:
    review = cluster.request(
        "POST",
        REVIEW,
        body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    user = review["status"]["userInfo"]["username"]
    return {"user": user, "server": cluster.server, "context": cluster.context}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig")
    parser.add_argument("--context")
    parser.add_argument("--again", action="store_true")
    args = parser.parse_args()
    try:
        cluster = connect(args.kubeconfig, args.context, retry_seconds=2)
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
