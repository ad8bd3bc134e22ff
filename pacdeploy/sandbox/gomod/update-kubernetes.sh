#!/usr/bin/env bash
# Regenerate kubernetes/go.mod for another release: k8s.io/kubernetes maps its ~33 staging
# modules to ./staging, which only exists in its own repo, so every one is replaced by the
# published k8s.io/<name> v0.<minor>.<patch>. The list comes from the release's own go.mod.
#   usage: update-kubernetes.sh v1.36.3
set -euo pipefail
version=${1:?usage: $0 vX.Y.Z}
staging=v0.${version#v1.}
cd "$(dirname "$0")/kubernetes"
gomod=$(go mod download -json "k8s.io/kubernetes@${version}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
printf 'module pacdeploy.local/sandbox/kubernetes\n\ngo 1.26.0\n' > go.mod
go mod edit -require "k8s.io/kubernetes@${version}"
for module in $(awk '$2 == "=>" && $3 ~ /^\.\/staging\// {print $1}' "$gomod"); do
  go mod edit -replace "${module}=${module}@${staging}"
done
for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  go mod edit -tool "k8s.io/kubernetes/cmd/${cmd}"
done
go mod tidy
echo "kubernetes/go.mod now pins k8s.io/kubernetes ${version}; update KUBE_VERSION in binaries.py"
