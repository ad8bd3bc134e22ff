"""Which StorageClass annotations `up` and `down --purge` change."""

from pacdeploy.app import storage
from pacdeploy.app.storage import BETA, GA


def sc(name, **annotations):
    return {"metadata": {"name": name, "annotations": annotations}}


def test_target_becomes_the_only_default_ga_and_beta():
    classes = [
        sc("standard", **{GA: "true"}),
        sc("old", **{BETA: "true"}),
        sc("csi-hostpath-sc"),
        sc("other", **{GA: "false"}),
    ]
    patches = dict(storage.make_only_default(classes, "csi-hostpath-sc"))
    assert patches == {
        "standard": {GA: "false"},
        "old": {GA: "false", BETA: "false"},
        "csi-hostpath-sc": {GA: "true"},
    }


def test_nothing_to_do_when_target_already_sole_default():
    classes = [sc("standard", **{GA: "false"}), sc("csi-hostpath-sc", **{GA: "true"})]
    assert storage.make_only_default(classes, "csi-hostpath-sc") == []


def test_restore_gives_the_default_back():
    classes = [sc("standard", **{GA: "false"}), sc("csi-hostpath-sc", **{GA: "true"})]
    patches = dict(storage.restore(classes, ["standard"], "csi-hostpath-sc"))
    assert patches == {"standard": {GA: "true"}, "csi-hostpath-sc": {GA: "false"}}


def test_restore_when_there_was_no_default():
    classes = [sc("csi-hostpath-sc", **{GA: "true"})]
    assert dict(storage.restore(classes, [], "csi-hostpath-sc")) == {
        "csi-hostpath-sc": {GA: "false"}
    }


def test_two_apps_purged_out_of_order_never_leave_two_defaults():
    """App A made csi default (standard before it), app B came after (csi before it)."""
    classes = [sc("standard", **{GA: "false"}), sc("csi-hostpath-sc", **{GA: "true"})]
    after_a = dict(storage.restore(classes, ["standard"], "csi-hostpath-sc"))
    assert after_a == {"standard": {GA: "true"}, "csi-hostpath-sc": {GA: "false"}}
    moved = [sc("standard", **{GA: "true"}), sc("csi-hostpath-sc", **{GA: "false"})]
    assert storage.restore(moved, ["csi-hostpath-sc"], "csi-hostpath-sc") == []  # B: not ours


def test_a_purge_killed_between_its_two_patches_is_finished():
    neither = [sc("standard", **{GA: "false"}), sc("csi-hostpath-sc", **{GA: "false"})]
    assert dict(storage.restore(neither, ["standard"], "csi-hostpath-sc")) == {
        "standard": {GA: "true"}
    }
    both = [sc("standard", **{GA: "true"}), sc("csi-hostpath-sc", **{GA: "true"})]
    assert dict(storage.restore(both, ["standard"], "csi-hostpath-sc")) == {
        "csi-hostpath-sc": {GA: "false"}
    }


def test_previous_defaults_round_trip():
    ns = {"metadata": {"annotations": {storage.PREVIOUS_DEFAULT: "a,b"}}}
    assert storage.parse_previous(ns) == ["a", "b"]
    assert (
        storage.parse_previous({"metadata": {"annotations": {storage.PREVIOUS_DEFAULT: ""}}}) == []
    )
    assert storage.parse_previous({"metadata": {}}) is None


def csi_driver(name="hostpath.csi.k8s.io", policy=None):
    spec = {} if policy is None else {"fsGroupPolicy": policy}
    return {"metadata": {"name": name}, "spec": spec}


def test_fsgroup_warning_only_where_the_driver_ignores_fsgroup():
    sc = {"metadata": {"name": "csi-hostpath-sc"}, "provisioner": "hostpath.csi.k8s.io"}
    assert storage.fsgroup_warning(sc, None) is None  # not a CSI driver: nothing to say
    assert storage.fsgroup_warning(sc, csi_driver(policy="File")) is None
    assert "fsGroupPolicy: None" in storage.fsgroup_warning(sc, csi_driver(policy="None"))
    assert "fsGroupPolicy: unset" in storage.fsgroup_warning(sc, csi_driver())
    rwo = csi_driver(policy="ReadWriteOnceWithFSType")
    assert "sets none" in storage.fsgroup_warning(sc, rwo)
    with_fstype = {**sc, "parameters": {"csi.storage.k8s.io/fstype": "ext4"}}
    assert storage.fsgroup_warning(with_fstype, rwo) is None
