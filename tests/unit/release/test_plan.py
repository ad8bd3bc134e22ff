"""What `up` plans from what it reads: objects not ours."""

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
