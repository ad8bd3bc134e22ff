"""Which stack `up` deploys, and whether its images can run on the nodes: pure rules."""

from __future__ import annotations

import pytest

from pacdeploy.app import stacks
from pacdeploy.app.manifests import Options
from pacdeploy.errors import Conflict
from pacdeploy.release import preflight


def node(name, arch="amd64", *, ready=True, cordoned=False, taint=None, labels=None):
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            **({"unschedulable": True} if cordoned else {}),
            **({"taints": [{"key": "k", "effect": taint}]} if taint else {}),
        },
        "status": {
            "nodeInfo": {"architecture": arch},
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


ARM = [node("a1", "arm64"), node("a2", "arm64")]


def test_a_cluster_of_arm64_nodes_runs_the_modern_stack():
    verdict = preflight.check(Options(), ARM)
    assert verdict.nodes == {"a1": "arm64", "a2": "arm64"} and verdict.warnings == []


def test_the_lesson_stack_on_arm64_only_is_refused_naming_the_stack_that_runs_there():
    with pytest.raises(preflight.CannotRunHere) as refused:
        preflight.check(Options(stack="lesson"), ARM)
    assert refused.value.exit_code == 7
    assert "arm64 (2)" in refused.value.problem and "amd64 only" in refused.value.problem
    assert "--stack modern" in refused.value.fix and "Nothing was changed" in refused.value.fix


@pytest.mark.parametrize(
    "hidden",
    [
        node("x", ready=False),
        node("x", cordoned=True),
        node("x", taint="NoSchedule"),
        node("x", taint="NoExecute"),
    ],
)
def test_only_nodes_the_pods_could_land_on_count(hidden):
    with pytest.raises(preflight.CannotRunHere):
        preflight.check(Options(stack="lesson"), [*ARM, hidden])


def test_a_prefer_no_schedule_taint_does_not_hide_a_node():
    verdict = preflight.check(Options(stack="lesson"), [*ARM, node("x", taint="PreferNoSchedule")])
    assert verdict.nodes["x"] == "amd64"


def test_a_mixed_cluster_runs_both_stacks():
    mixed = [*ARM, node("x")]
    for stack in stacks.STACKS:
        assert set(preflight.check(Options(stack=stack), mixed).nodes) == {"a1", "a2", "x"}


def test_no_schedulable_node_says_nothing_about_images():
    assert preflight.check(Options(stack="lesson"), [node("a", "arm64", cordoned=True)]).nodes == {}


def test_an_overridden_image_is_not_checked():
    options = Options(stack="lesson", pacman_image="p@sha256:1", mongo_image="m@sha256:2")
    assert preflight.check(options, ARM).nodes


NO_AVX = {"feature.node.kubernetes.io/cpu-cpuid.SSE4": "true"}
AVX = {**NO_AVX, "feature.node.kubernetes.io/cpu-cpuid.AVX": "true"}


def test_nfd_saying_no_avx_excludes_a_node_for_mongodb_8_and_names_the_lesson_stack():
    with pytest.raises(preflight.CannotRunHere) as refused:
        preflight.check(Options(), [node("old", labels=NO_AVX)])
    assert "needs AVX" in refused.value.problem and "--stack lesson" in refused.value.fix
    # MongoDB 4.4 runs there.
    assert preflight.check(Options(stack="lesson"), [node("old", labels=NO_AVX)]).nodes


def test_where_nothing_is_known_about_the_cpu_nothing_is_assumed():
    assert preflight.check(Options(), [node("plain")]).nodes == {"plain": "amd64"}
    assert preflight.check(Options(), [node("new", labels=AVX)]).warnings == []


def test_some_nodes_without_avx_are_named_in_a_warning():
    verdict = preflight.check(Options(), [node("old", labels=NO_AVX), node("new", labels=AVX)])
    (warning,) = verdict.warnings
    assert "old" in warning and "SIGILL" in warning and "new" not in warning


CLAIM_MODERN = {"metadata": {"name": "mongo-db-mongo-0", "labels": {stacks.LABEL: "modern"}}}
CLAIM_LESSON = {"metadata": {"name": "mongo-db-mongo-0", "labels": {"name": "mongo"}}}


def test_a_new_install_gets_the_default_and_an_existing_app_keeps_its_stack():
    assert preflight.stack_here(Options(), False, None, claims=[]).stack == "modern"
    assert preflight.stack_here(Options(), False, None, claims=[CLAIM_LESSON]).stack == "lesson"
    assert preflight.stack_here(Options(), False, None, claims=[CLAIM_MODERN]).stack == "modern"
    old_sts = {"metadata": {"name": "mongo", "labels": {"name": "mongo"}}}
    assert preflight.stack_here(Options(), False, old_sts, claims=[]).stack == "lesson"


def test_moving_the_data_to_another_stack_is_refused_before_any_write():
    with pytest.raises(Conflict) as refused:
        preflight.stack_here(Options(stack="modern"), True, None, claims=[CLAIM_LESSON])
    assert "lesson stack's MongoDB data" in refused.value.problem
    assert "Nothing was changed" in refused.value.fix
    same = preflight.stack_here(Options(stack="lesson"), True, None, claims=[CLAIM_LESSON])
    assert same.stack == "lesson"
