"""`up --storage-size`: what grows, what is refused before anything changes, and what the
sandbox's resizer does (pure decisions)."""

from __future__ import annotations

import pytest

from pacdeploy.app.manifests import Options, claim_size, render, validate_storage_size
from pacdeploy.errors import InvalidInput
from pacdeploy.release.resize import NotExpandable, Resize, decide
from pacdeploy.sandbox.provisioner import to_resize

STS = next(o for o in render(Options()) if o["kind"] == "StatefulSet")


def claim(name: str, size: str, cls: str = "csi-hostpath-sc", have: str | None = None) -> dict:
    return {
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "spec": {
            "storageClassName": cls,
            "volumeName": f"pv-{name}",
            "resources": {"requests": {"storage": size}},
        },
        "status": {"phase": "Bound", "capacity": {"storage": have or size}},
    }


def storage_class(name: str, expandable: bool) -> dict:
    sc: dict = {"metadata": {"name": name}, "provisioner": "hostpath.csi.k8s.io"}
    if expandable:
        sc["allowVolumeExpansion"] = True
    return sc


EXPANDABLE = [storage_class("csi-hostpath-sc", True)]


def test_the_claim_template_carries_the_size_asked_for():
    assert claim_size(STS) == "1Gi"
    sts = next(o for o in render(Options(storage_size="2Gi")) if o["kind"] == "StatefulSet")
    assert claim_size(sts) == "2Gi"


def test_a_larger_size_grows_the_claims_then_replaces_the_statefulset():
    size, resize = decide(
        "2Gi", STS, [claim("mongo-db-mongo-0", "1Gi")], classes=EXPANDABLE, default="1Gi"
    )
    assert size == "2Gi"
    assert resize == Resize("2Gi", (("mongo-db-mongo-0", "1Gi"),), replace_statefulset=True)


def test_without_the_option_the_volumes_keep_their_size():
    grown = claim("mongo-db-mongo-0", "2Gi")
    sts_2gi = next(o for o in render(Options(storage_size="2Gi")) if o["kind"] == "StatefulSet")
    assert decide(None, sts_2gi, [grown], classes=EXPANDABLE, default="1Gi") == ("2Gi", None)
    assert decide(None, None, [], classes=EXPANDABLE, default="1Gi") == (
        "1Gi",
        None,
    )  # a first install


def test_a_resize_killed_after_its_claims_grew_is_finished_by_a_plain_up():
    """The claims are at 2Gi, the StatefulSet's template still at 1Gi: `up` replaces it."""
    size, resize = decide(
        None, STS, [claim("mongo-db-mongo-0", "2Gi")], classes=EXPANDABLE, default="1Gi"
    )
    assert (size, resize) == ("2Gi", Resize("2Gi", (), replace_statefulset=True))
    # ... and killed after the StatefulSet went: applied again at the claims' size.
    assert decide(
        None, None, [claim("mongo-db-mongo-0", "2Gi")], classes=EXPANDABLE, default="1Gi"
    ) == (
        "2Gi",
        None,
    )


def test_a_smaller_size_is_refused_naming_the_current_one():
    with pytest.raises(InvalidInput, match=r"smaller than mongo's volumes \(2Gi\)"):
        decide("1Gi", STS, [claim("mongo-db-mongo-0", "2Gi")], classes=EXPANDABLE, default="1Gi")
    with pytest.raises(InvalidInput, match="smaller"):
        decide("1000Mi", STS, [claim("mongo-db-mongo-0", "1Gi")], classes=EXPANDABLE, default="1Gi")


def test_a_class_that_cannot_expand_is_refused_before_anything_changes():
    fixed = [storage_class("csi-hostpath-sc", False)]
    with pytest.raises(NotExpandable, match="does not allow volume expansion") as refused:
        decide("2Gi", STS, [claim("mongo-db-mongo-0", "1Gi")], classes=fixed, default="1Gi")
    assert refused.value.exit_code == 7
    assert "Nothing was changed" in str(refused.value)


def test_quantities_compare_across_suffixes():
    size, resize = decide(
        "1024Mi", STS, [claim("mongo-db-mongo-0", "1Gi")], classes=EXPANDABLE, default="1Gi"
    )
    assert (size, resize) == ("1Gi", None)  # the same size, written another way


@pytest.mark.parametrize("bad", ["", "2GB", "-1Gi", "0", "1.5.1Gi", "Gi"])
def test_storage_size_must_be_a_positive_quantity(bad):
    with pytest.raises(InvalidInput, match="invalid storage size"):
        validate_storage_size(bad)


def test_the_sandbox_resizes_only_bound_claims_of_expandable_classes():
    classes = {"csi-hostpath-sc": storage_class("csi-hostpath-sc", True)}
    assert to_resize(claim("c", "2Gi", have="1Gi"), classes) == "2Gi"
    assert to_resize(claim("c", "2Gi", have="2Gi"), classes) is None  # done
    fixed = {"csi-hostpath-sc": storage_class("csi-hostpath-sc", False)}
    assert to_resize(claim("c", "2Gi", have="1Gi"), fixed) is None
    pending = claim("c", "2Gi", have="1Gi")
    pending["status"]["phase"] = "Pending"
    assert to_resize(pending, classes) is None
