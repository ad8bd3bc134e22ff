"""What `up` plans from what it reads: objects not ours, connections opened ahead."""

from pacdeploy.app.manifests import Options, render
from pacdeploy.kube.resources import ref_of
from pacdeploy.release import plan
from tests.support.rendered import OBJECTS, live


def test_foreign_objects_are_named_including_the_secret():
    found = {**live(OBJECTS[:2]), **live(OBJECTS[2:3], managed=False)}
    secret = {"metadata": {"name": "mongodb-users-secret", "labels": {}}}
    assert plan.foreign_objects(found, secret) == [
        ref_of(OBJECTS[2]),
        "secret/mongodb-users-secret",
    ]


def test_up_opens_as_many_connections_ahead_as_its_widest_round_makes_requests() -> None:
    """plan_up's second round: a LIST per kind (the Namespace aside, read in the first),
    the Secret, mongo's claims and the CSI driver. A kind added to the manifests widens it."""
    kinds = {o["kind"] for o in render(Options())[1:]}
    assert len(kinds) + 3 == plan.CONNECTIONS_AHEAD
