"""Each command opens as many connections ahead as its first parallel round makes
requests: a round that grows without its number leaves a request waiting for a new one."""

from pacdeploy.app.manifests import Options, render
from pacdeploy.cli import rounds
from pacdeploy.status import collect


def test_up_opens_as_many_connections_ahead_as_its_widest_round_makes_requests() -> None:
    """plan_up's second round: a LIST per kind (the Namespace aside, read in the first),
    the Secret, mongo's claims and the CSI driver. A kind added to the manifests widens it."""
    kinds = {o["kind"] for o in render(Options())[1:]}
    assert len(kinds) + 3 == rounds.UP


def test_status_opens_one_connection_per_read_of_its_first_round() -> None:
    assert len(collect._READS) == rounds.STATUS
