"""pacdeploy reaches the same server, as the same user, with the same headers, or fails
where kubectl fails: each scenario of the table (scenarios.py) run with the real kubectl
and with pacdeploy, against stand-in API servers that record what they receive.

A difference fails its scenario unless ALLOWED names it, with the reason; an allowed
difference that disappears fails too, so the list stays true.
"""

from __future__ import annotations

import pytest

from tests.parity.runner import summary
from tests.parity.scenarios import SCENARIOS

pytestmark = pytest.mark.integration

# scenario -> (the fields that differ, why pacdeploy keeps its own behaviour)
ALLOWED: dict[str, tuple[set[str], str]] = {
    "context-namespace-default": (
        {"request"},
        "pacdeploy's namespace is its app's (-n, default pacman), not the context's: the "
        "lesson's objects live there whatever context the user has",
    ),
    "kubernetes-master-for-a-missing-cluster": (
        {"failed", "servers reached", "request"},
        "kubectl falls back to KUBERNETES_MASTER or http://localhost:8080 for a context whose "
        "cluster is missing (clientcmd.ClusterDefaults); pacdeploy names the missing cluster "
        "instead of deploying to a server the kubeconfig does not name",
    ),
}


def test_the_table_is_big_and_sourced():
    names = [s.name for s in SCENARIOS]
    assert len(names) >= 100 and len(set(names)) == len(names)
    assert all(
        s.source.startswith(("tools/", "plugin/", "transport/", "hand-written")) for s in SCENARIOS
    )
    assert set(ALLOWED) <= set(names)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_pacdeploy_does_what_kubectl_does(scenario, parity):
    theirs, ours = parity(scenario)
    kubectl, pacdeploy = summary(theirs, scenario.mode), summary(ours, scenario.mode)
    differences = {key for key in kubectl if kubectl[key] != pacdeploy[key]}
    report = "\n".join(
        [f"{scenario.name} ({scenario.source})"]
        + [
            f"  {key}:\n    kubectl:   {kubectl[key]}\n    pacdeploy: {pacdeploy[key]}"
            for key in sorted(differences)
        ]
        + [f"  kubectl said: {theirs.stderr}", f"  pacdeploy said: {ours.stderr}"]
    )
    allowed, _ = ALLOWED.get(scenario.name, (set(), ""))
    assert differences == allowed, report
