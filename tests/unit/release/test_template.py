"""`template`: `up`'s options and rendering, the Secret only when asked for."""

import yaml

from pacdeploy.app import credentials
from pacdeploy.app.manifests import SECRET, Options
from pacdeploy.release import template
from pacdeploy.release.fields import APPLIED, without_digest
from pacdeploy.release.wanted import Wanted


def wanted(**options):
    return Wanted(Options(**options), "csi-hostpath-sc")


def test_offline_is_what_a_first_up_sends_leaving_the_default_class_alone():
    objects = template.offline(wanted(namespace="shop", replicas=3))
    assert all(APPLIED in o["metadata"]["annotations"] for o in objects)
    namespace = without_digest(objects[0])
    assert namespace["metadata"]["name"] == "shop"
    assert namespace["metadata"].get("annotations") in (None, {})  # no class recorded
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert not [o for o in objects if o["kind"] == "Secret"]


def test_the_secret_is_generated_only_when_asked_and_goes_after_the_namespace():
    objects = template.with_secret(template.offline(wanted()), "pacman")
    assert [o["kind"] for o in objects[:2]] == ["Namespace", "Secret"]
    assert objects[1]["metadata"]["name"] == SECRET
    assert credentials.missing_keys(objects[1]) == []


def test_yaml_stream_reads_back_as_the_objects_with_the_note_as_a_comment():
    objects = template.offline(wanted())
    text = template.as_yaml(objects, template.SECRET_NOTE)
    assert text.startswith("# Secret ")
    assert any("--with-secret " in line for line in text.splitlines()[:3])  # never split
    assert [d for d in yaml.safe_load_all(text) if d] == objects
