"""The status document as the tree `status -o table` prints: Namespace, workloads, pods,
claims, volumes (the output layer draws it)."""

from __future__ import annotations

from pacdeploy.output import Outline
from pacdeploy.status.schema import ClaimDoc, IngressDoc, PodDoc, ServiceDoc, StatusDoc


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
    """The status document as a tree of lines: what needs the user first (an interrupted
    restore, mongo's writes held, drift), then workloads, pods, claims, volumes, Services."""
    ns = doc["namespace"]
    defaults = ", ".join(doc["defaultStorageClasses"]) or "none"
    children = [
        *_warnings(doc),
        Outline(f"default storageclass: {defaults}"),
        *_workloads(doc),
        *[_service(svc) for svc in doc["services"]],
        *([_ingress(doc["ingress"])] if doc["ingress"] else []),
    ]
    return Outline(f"namespace/{ns['name']} {ns['phase'] or 'absent'}", children)


def _warnings(doc: StatusDoc) -> list[Outline]:
    found = []
    if (moving := doc["move"]) is not None:
        found.append(
            Outline(
                f"move of the scores from the {moving['source']} stack to the "
                f"{moving['target']} stack interrupted: finish it with `{moving['finish']}`"
            )
        )
    if (under_way := doc["restore"]) is not None:
        found.append(
            Outline(
                f"restore from {under_way['source']} interrupted: finish it with "
                f"`{under_way['finish']}`, or go back with `{under_way['undo']}`"
            )
        )
    if (held := doc["mongoLocked"]) is not None:
        found.append(
            Outline(
                f"mongo's writes held (db.fsyncLock in {', '.join(held['pods'])}) by a backup "
                f"that was interrupted: the next backup releases them first, "
                f"`{held['release']}` or the interrupted command again"
            )
        )
    if doc["drift"]:
        fields = [
            Outline(f"{d['object']} {d['field']}: applied {d['applied']!r}, live {d['live']!r}")
            for d in doc["drift"]
        ]
        found.append(
            Outline(
                "drift: changed behind pacdeploy's back (`pacdeploy up --force` puts it back)",
                fields,
            )
        )
    return found


def _workloads(doc: StatusDoc) -> list[Outline]:
    """Each workload with its pods and their claims, then the claims no pod holds."""
    claims = {c["name"]: c for c in doc["claims"]}
    shown: set[str] = set()
    found = []
    for key in ("deployment", "statefulset"):
        workload = doc[key]
        if workload is None:
            found.append(Outline(f"{key}: not deployed"))
            continue
        state = "ready" if workload["ready"] else f"waiting for {workload['waitingFor']}"
        pods = []
        for pod in workload["pods"]:
            shown.update(pod["claims"])
            pod_claims = [_claim_line(claims[c]) for c in pod["claims"] if c in claims]
            pods.append(Outline(_pod_line(pod), pod_claims))
        head = f"{key}/{workload['name']} {workload['readyReplicas']}/{workload['replicas']} ready"
        found.append(Outline(f"{head}, {state}", pods))
    return found + [_claim_line(c) for name, c in claims.items() if name not in shown]


def _service(svc: ServiceDoc) -> Outline:
    ports = ", ".join(f"{p['port']}->{p.get('targetPort')}" for p in svc["ports"])
    reach = [Outline(f"reach: {svc['reach']}")] if svc["reach"] else []
    return Outline(f"service/{svc['name']} {svc['type']} {svc['clusterIP']} {ports}", reach)


def _ingress(ing: IngressDoc) -> Outline:
    address = ", ".join(a for a in ing["addresses"] if a) or "pending"
    hosts = ",".join(h or "*" for h in ing["hosts"])  # a rule without host takes all
    return Outline(f"ingress/{ing['name']} class={ing['class']} hosts={hosts} address={address}")
