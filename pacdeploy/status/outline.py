"""The status document as the tree `status -o table` prints: Namespace, workloads, pods,
claims, volumes (the output layer draws it)."""

from __future__ import annotations

from pacdeploy.output import Outline
from pacdeploy.status.schema import ClaimDoc, PodDoc, StatusDoc


def _pod_line(pod: PodDoc) -> str:
    ready = "ready" if pod["ready"] else "not ready"
    return f"pod/{pod['name']} {pod['phase']} {ready} node={pod['node'] or '-'}"


def _claim_line(claim: ClaimDoc) -> Outline:
    line = (
        f"pvc/{claim['name']} {claim['phase']} {claim['capacity'] or '-'} "
        f"class={claim['storageClass'] or '-'}"
    )
    volume = claim["volume"]
    if volume is None:
        return Outline(line)
    pv = f"pv/{volume['name']} {volume['phase']} reclaim={volume['reclaimPolicy']}"
    return Outline(line, [Outline(pv)])


def outline(doc: StatusDoc) -> Outline:
    """The status document as a tree of lines: Namespace, workloads, pods, claims, volumes."""
    ns = doc["namespace"]
    defaults = ", ".join(doc["defaultStorageClasses"]) or "none"
    children = [Outline(f"default storageclass: {defaults}")]
    claims = {c["name"]: c for c in doc["claims"]}
    shown: set[str] = set()
    for key in ("deployment", "statefulset"):
        workload = doc[key]
        if workload is None:
            children.append(Outline(f"{key}: not deployed"))
            continue
        state = "ready" if workload["ready"] else f"waiting for {workload['waitingFor']}"
        pods = []
        for pod in workload["pods"]:
            shown.update(pod["claims"])
            pod_claims = [_claim_line(claims[c]) for c in pod["claims"] if c in claims]
            pods.append(Outline(_pod_line(pod), pod_claims))
        head = f"{key}/{workload['name']} {workload['readyReplicas']}/{workload['replicas']} ready"
        children.append(Outline(f"{head}, {state}", pods))
    children += [_claim_line(c) for name, c in claims.items() if name not in shown]
    for svc in doc["services"]:
        ports = ", ".join(f"{p['port']}->{p.get('targetPort')}" for p in svc["ports"])
        reach = [Outline(f"reach: {svc['reach']}")] if svc["reach"] else []
        line = f"service/{svc['name']} {svc['type']} {svc['clusterIP']} {ports}"
        children.append(Outline(line, reach))
    if doc["ingress"]:
        ing = doc["ingress"]
        address = ", ".join(a for a in ing["addresses"] if a) or "pending"
        hosts = ",".join(h or "*" for h in ing["hosts"])  # a rule without host takes all
        children.append(
            Outline(f"ingress/{ing['name']} class={ing['class']} hosts={hosts} address={address}")
        )
    if doc["drift"]:
        revision_lines = [
            Outline(f"{d['object']} {d['field']}: applied {d['applied']!r}, live {d['live']!r}")
            for d in doc["drift"]
        ]
        children.insert(
            0,
            Outline(
                "drift: changed behind pacdeploy's back (`pacdeploy up --force` puts it back)",
                revision_lines,
            ),
        )
    if (held := doc["mongoLocked"]) is not None:
        children.insert(
            0,
            Outline(
                f"mongo's writes held (db.fsyncLock in {', '.join(held['pods'])}) by a backup "
                f"that was interrupted: the next backup releases them first, "
                f"`{held['release']}` or the interrupted command again"
            ),
        )
    if (under_way := doc["restore"]) is not None:
        children.insert(
            0,
            Outline(
                f"restore from {under_way['source']} interrupted: finish it with "
                f"`{under_way['finish']}`, or go back with `{under_way['undo']}`"
            ),
        )
    return Outline(f"namespace/{ns['name']} {ns['phase'] or 'absent'}", children)
