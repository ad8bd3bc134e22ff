"""The sandbox: a local cluster with the real control plane (kube-apiserver, controllers,
snapshot-controller) and KWOK's simulated nodes and pods, run by kwokctl.

paths.py          where it keeps things: XDG state (the running cluster) and cache (binaries)
processes.py      its processes, by pid file, signalled only once known to be ours
binaries.py       the control-plane binaries, built from the Go module proxy once per version
gomod/            the small wrapper modules whose go.mod pins each binary's upstream version
kwokctl.py        running kwokctl: create, start and delete the control plane
objects.py        the cluster-scoped objects that make it look like the lesson's minikube
mongo_shell.sh    what an exec into a simulated mongo pod runs as `mongo`/`mongosh`
mongo_tools.py    what it runs as `mongodump` and `mongorestore` (standard library only)
informer.py       a small informer: a cache of one kind by list and watch, and a work queue
provisioner.py    its storage, as minikube's storage-provisioner and csi-hostpath driver do
csi_snapshots.py  its CSI driver's snapshot side, as external-snapshotter's sidecar plays it
lifecycle.py      bring it up, report on it, take it down
"""
