"""`up --storage-size`: what grows and what is refused before anything changes (pure
decisions)."""

from __future__ import annotations

import pytest

from pacdeploy.app.manifests import Options, render
from pacdeploy.errors import InvalidInput
from pacdeploy.release.resize import NotExpandable, Resize, decide
from tests.support.claims import claim, storage_class

STS = next(o for o in render(Options()) if o["kind"] == "StatefulSet")
EXPANDABLE = [storage_class("csi-hostpath-sc", True)]


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
