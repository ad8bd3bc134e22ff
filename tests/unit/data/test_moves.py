"""Moving the scores between stacks: the intent as recorded, which volume going back binds,
what a kept volume says, and how `status` names an interrupted move."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacdeploy.app import stacks
from pacdeploy.data import moves
from pacdeploy.data.kept_volumes import RECLAIM_POLICY
from pacdeploy.data.moves import MoveIntent
from pacdeploy.errors import Conflict
from pacdeploy.status.outline import outline
from tests.support.status import doc, lines

INTENT = MoveIntent("m-1", "lesson", "modern", 3, documents=12, safety="before-move-1")


def namespace(**annotations):
    return {"metadata": {"name": "ns", "annotations": annotations}}


def volume(name, **labels):
    return {
        "metadata": {"name": name, "labels": labels, "annotations": {}},
        "spec": {
            "persistentVolumeReclaimPolicy": "Delete",
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "csi-hostpath-sc",
        },
    }


def test_the_intent_reads_back_as_recorded_and_a_broken_one_is_none():
    assert moves.intent_of(namespace(**{moves.INTENT: INTENT.dump()})) == INTENT
    assert moves.intent_of(namespace(**{moves.INTENT: "{not json"})) is None
    assert moves.intent_of(namespace(**{moves.INTENT: '{"id": "x"}'})) is None
    assert moves.intent_of(None) is None
    assert INTENT.command("ns") == "pacdeploy up --stack modern --yes -n ns"


def test_only_going_back_over_the_last_move_binds_the_kept_volume_again():
    last = moves.last_of(namespace(**{moves.LAST: '{"source": "lesson", "target": "modern"}'}))
    assert moves.undoes(last, source="modern", target="lesson")
    # Forward again after going back: the current data moves, the old copy is superseded.
    assert not moves.undoes({}, source="lesson", target="modern")
    assert not moves.undoes(last, source="lesson", target="modern")
    assert moves.last_of(namespace(**{moves.LAST: "[1]"})) == {}


def test_a_kept_volume_is_retained_labelled_and_given_back_its_policy():
    kept = volume("pv-1")
    patch = moves.keep_patch(kept, namespace="ns", claim="c", stack="lesson", move_id="m-1")
    assert patch["spec"] == {"persistentVolumeReclaimPolicy": "Retain"}
    labels = patch["metadata"]["labels"]
    assert labels == {moves.MOVED_NAMESPACE: "ns", moves.MOVED_CLAIM: "c", stacks.LABEL: "lesson"}
    kept["metadata"]["labels"].update(labels)
    kept["metadata"]["annotations"].update(patch["metadata"]["annotations"])
    assert (
        moves.kept_for([volume("other", **{moves.MOVED_CLAIM: "c"}), kept], "c", "lesson") is kept
    )
    assert moves.kept_for([kept], "c", "modern") is None
    back = moves.unkeep_patch(kept)
    assert back["spec"] == {"persistentVolumeReclaimPolicy": "Delete"}
    assert set(back["metadata"]["labels"].values()) == {None}
    assert back["metadata"]["annotations"] == {RECLAIM_POLICY: None, moves.MOVE_ID: None}


def test_the_claim_made_again_is_pre_bound_to_the_kept_volume():
    claim = moves.claim_on(volume("pv-1"), "mongo-db-mongo-0", "ns")
    assert claim["spec"]["volumeName"] == "pv-1"
    assert claim["spec"]["storageClassName"] == "csi-hostpath-sc"
    assert claim["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
    assert stacks.LABEL not in claim["metadata"]["labels"]  # the lesson's claims carry none


def test_the_archive_waits_on_the_users_disk():
    path = moves.archive_path(Path("/state"), "ns", "m-1")
    assert path == Path("/state/moves/ns-m-1.archive")


def test_status_names_an_interrupted_move_first_with_the_command_that_finishes_it():
    shown = doc()
    shown["move"] = {"source": "lesson", "target": "modern", "finish": INTENT.command("pacman")}
    first = list(lines(outline(shown)))[1]
    assert first == (
        "  move of the scores from the lesson stack to the modern stack interrupted: finish "
        "it with `pacdeploy up --stack modern --yes -n pacman`"
    )


def test_a_plain_up_over_an_interrupted_move_is_refused_naming_the_command():
    interrupted = namespace(**{moves.INTENT: INTENT.dump()})
    with pytest.raises(Conflict) as refused:
        moves.none_under_way(interrupted, "ns", explicit=False)
    assert "move of the scores to the modern stack was interrupted" in refused.value.problem
    assert INTENT.command("ns") in (refused.value.fix or "")
    moves.none_under_way(interrupted, "ns", explicit=True)  # up --stack: the move resumes
    moves.none_under_way(namespace(), "ns", explicit=False)
