"""--rollback-on-failure as a step of its own after `up`'s failed wait (rollback.py): what
it applies, records and says; and which revision `rollback` goes back to. What it does on a
real cluster is test_failures.py's to show."""

from __future__ import annotations

import pytest

from pacdeploy.app.manifests import Options, render
from pacdeploy.data import revisions
from pacdeploy.data.revisions import FAILED
from pacdeploy.errors import NotFound, NotReady
from pacdeploy.output import PlainOutput
from pacdeploy.release import rollback, up
from pacdeploy.release.wanted import Wanted
from tests.support.records import rev

PROBLEM, FIX = "deployment/pacman: ImagePullBackOff", "Check the image name"
WEB = "quay.io/ifont/pacman-nodejs-app@sha256:" + "a" * 64


def revision(number, status, manifests=(), **kw):
    change = f"change {number}"
    return revisions.Revision(number, Options(), "standard", list(manifests), change, status, **kw)


def request(*, atomic):
    return up.UpRequest(Wanted(Options(), "csi-hostpath-sc"), atomic=atomic, timeout=7.0)


def failing_once(monkeypatch, history):
    """`up` whose first call fails its wait as revision len(history) + 1; the calls made."""
    calls = []

    def fake_up(cluster, request, out, *, manifests=None, note=None):
        calls.append((request, manifests, note))
        if len(calls) == 1:
            failed = revision(len(history) + 1, revisions.FAILED)
            raise up.Failed(PROBLEM, FIX, revision=failed, history=history)
        return up.UpResult([], None)

    monkeypatch.setattr(up, "up", fake_up)
    return calls


def test_a_failed_wait_is_followed_by_a_rollback_to_the_last_deployed_revision(monkeypatch, capsys):
    good = revision(2, revisions.DEPLOYED, manifests=render(Options()), images={"pacman": WEB})
    calls = failing_once(monkeypatch, [revision(1, revisions.SUPERSEDED), good])
    with pytest.raises(NotReady) as raised:
        rollback.up_or_roll_back(None, request(atomic=True), PlainOutput())
    assert not isinstance(raised.value, up.Failed)  # no caller rolls back a second time
    assert raised.value.problem == f"{PROBLEM}; --atomic rolled back to revision 2"
    assert raised.value.fix == FIX
    assert capsys.readouterr().err == "warning: --atomic: revision 3 failed, rolling back to 2\n"
    (_, _, _), (again, manifests, note) = calls
    assert note == "rollback to 2 (--atomic, after 3 failed)"
    assert again.wanted.keep_default_class and again.backup_first and again.timeout == 7.0
    assert manifests == revisions.pinned(good.manifests, good.images)  # what its pods ran
    assert WEB in str(manifests)


def test_a_failed_first_install_is_removed_keeping_the_secret_and_volumes(monkeypatch, capsys):
    calls = failing_once(monkeypatch, [])
    removed = []
    monkeypatch.setattr(
        rollback, "down", lambda _c, ns, *, purge, timeout, out: removed.append((ns, purge))
    )
    with pytest.raises(NotReady) as raised:
        rollback.up_or_roll_back(None, request(atomic=True), PlainOutput())
    problem = f"{PROBLEM}; --atomic removed the app (the Secret and volumes stay)"
    assert raised.value.problem == problem
    assert removed == [(Options().namespace, False)]
    assert len(calls) == 1  # nothing to apply again
    err = capsys.readouterr().err
    assert err == "warning: --atomic: revision 1 failed and none came before: removing it\n"


def test_without_the_flag_the_failure_is_ups_own(monkeypatch, capsys):
    calls = failing_once(monkeypatch, [revision(1, revisions.DEPLOYED)])
    with pytest.raises(up.Failed) as raised:
        rollback.up_or_roll_back(None, request(atomic=False), PlainOutput())
    assert str(raised.value) == f"{PROBLEM}. {FIX}"
    assert raised.value.exit_code == NotReady.exit_code
    assert len(calls) == 1
    assert capsys.readouterr().err == ""


def test_rollback_goes_to_the_deployed_revision_before_the_live_one() -> None:
    history = [rev(1), rev(2, FAILED), rev(3), rev(4, FAILED)]
    assert rollback.target(history, None, "pacman").number == 1
    assert rollback.target(history, 2, "pacman").number == 2
    with pytest.raises(NotFound, match="revision 9 is not recorded"):
        rollback.target(history, 9, "pacman")
    with pytest.raises(NotFound, match="no deployed revision before"):
        rollback.target([rev(1)], None, "pacman")
