"""The move of the scores across stacks (`up --stack modern --yes` on a lesson-stack
install, and back with `up --stack lesson --yes`) killed after every write, on the
in-memory API server (tests/support/memory.py), each finished by running it again.

The real CLI runs (`pacdeploy.cli.main`); its mongodump and mongorestore run through
pods/exec on the documents in the volumes' data (memory_tools.py), the archive on the
user's disk (a directory of the test's own). After its Nth write the command dies as if
SIGKILLed; while the move's intent is there, `status` names it and a plain `up` refuses,
naming the command that finishes it; that command must leave what an uninterrupted move
leaves (:func:`ended_on`, as the integration tests' own, and the kept volume's documents
as they were, no archive left on disk). The real API server keeps the kill points where
its own semantics matter (tests/integration/test_moves.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pacdeploy.app import stacks
from pacdeploy.data import archives, moves
from tests.support import memory_tools
from tests.support.memory import Memory, MemoryWire
from tests.support.memory_cli import NS, OURS, UP, cluster_with, live, run
from tests.support.memory_tools import documents, put_documents

# The threads a killed command had started (its watches) die with what they were doing.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")

SCORES = {
    "highscore": [{"_id": n, "name": f"player {n}", "score": 1000 * n} for n in (1, 2, 3)],
    "userstats": [{"_id": "pacman-0", "games": 7}],
}
NEW = {"highscore": [{"_id": 7, "name": "new", "score": 1}]}  # made on the modern stack
TO_MODERN = (*UP, "--stack", "modern", "--yes")
TO_LESSON = (*UP, "--stack", "lesson", "--yes")


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """A fresh state directory (the user's disk, where a move keeps its archive) per name."""

    def fresh(name: str) -> Path:
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / name))
        return tmp_path / name / "pacdeploy"

    return fresh


def lesson_with_scores() -> Memory:
    memory = cluster_with(OURS, snapshots=True)
    assert run(memory, *UP, "--stack", "lesson", "--replicas", "2")[0] == 0
    put_documents(live(memory), SCORES)
    return memory


def moved_to_modern() -> Memory:
    """The scores moved to the modern stack, and a new one made there."""
    memory = lesson_with_scores()
    assert run(memory, *TO_MODERN)[0] == 0
    put_documents(live(memory), {"highscore": SCORES["highscore"] + NEW["highscore"]})
    return memory


def on_stack(memory: Memory) -> str:
    sts = memory.objects[("StatefulSet", NS, "mongo")]
    return stacks.of_container(sts["spec"]["template"]["spec"]["containers"][0]).name


def ended_on(memory: Memory, stack: str, kept: str, kept_scores: dict) -> list[str]:
    """What differs from the end of an uninterrupted move to ``stack`` that keeps the
    ``kept`` stack's volume, holding ``kept_scores``."""
    problems = []
    if on_stack(memory) != stack:
        problems.append(f"mongo not on the {stack} stack")
    if documents(live(memory)) != SCORES:
        problems.append(f"documents {documents(live(memory))}")
    namespace = memory.objects[("Namespace", "", NS)]
    if moves.intent_of(namespace) is not None:
        problems.append("move intent left")
    # The move to undo by going back: this one, unless it went back itself (then none).
    last = {k: v for k, v in moves.last_of(namespace).items() if k != "id"}
    if last != ({} if stack == "lesson" else {"source": kept, "target": stack}):
        problems.append(f"last move recorded {last}")
    if memory.objects[("Deployment", NS, "pacman")]["spec"]["replicas"] != 2:
        problems.append("web replicas not back")
    volumes = [
        o
        for k, o in memory.objects.items()
        if k[0] == "PersistentVolume"
        and (o["metadata"].get("labels") or {}).get(moves.MOVED_NAMESPACE) == NS
    ]
    if [v["metadata"]["labels"][stacks.LABEL] for v in volumes] != [kept]:
        problems.append(f"kept volumes {[v['metadata']['name'] for v in volumes]}")
    elif documents(memory.volumes[volumes[0]["metadata"]["name"]]) != kept_scores:
        problems.append("the kept volume's documents changed")
    return problems


def interrupted_says(memory: Memory, args: tuple[str, ...], capsys) -> list[str]:
    """While the intent is there: `status` names the move, a plain `up` refuses (exit 5,
    nothing written) naming the command that finishes it."""
    intent = moves.intent_of(memory.objects[("Namespace", "", NS)])
    if intent is None:
        return []
    problems = []
    capsys.readouterr()
    said = run(memory, "status")[0], capsys.readouterr().out
    if said[0] != 0 or f"move of the scores from the {intent.source} stack" not in said[1]:
        problems.append(f"status: {said}")
    plain = run(memory, *UP), " ".join(capsys.readouterr().err.split())
    if plain[0] != (5, 0) or f"--stack {args[args.index('--stack') + 1]} --yes" not in plain[1]:
        problems.append(f"plain up: {plain}")
    return problems


def killed_everywhere(prepare, args, state, capsys, expected) -> list[tuple[int, object]]:
    """For each kill point N: a copy of the cluster ``prepare`` made, ``args`` killed
    after its Nth write, what the interrupted move says, then ``args`` again;
    ``expected(memory)``: what differs from an uninterrupted move. Each N's (N, problems)
    where any."""
    state("prepared")
    prepared = prepare()
    writes = run(prepared.clone(), *args)[1]
    assert writes >= 10, writes
    found: list[tuple[int, object]] = []
    for n in range(1, writes + 1):
        disk = state(f"killed-{n}")
        memory = prepared.clone()
        assert run(memory, *args, kill_after=n) in {(-9, n), (0, writes)}, n
        problems = interrupted_says(memory, args, capsys)
        code = run(memory, *args)[0]
        problems += [f"exit {code}"] if code else expected(memory)
        problems += [f"left on disk: {p.name}" for p in disk.rglob("*") if p.is_file()]
        if problems:
            found.append((n, problems))
    return found


def test_a_move_killed_after_every_write_is_finished_by_running_it_again(state, capsys):
    def expected(memory: Memory) -> list[str]:
        return ended_on(memory, "modern", "lesson", SCORES)

    assert killed_everywhere(lesson_with_scores, TO_MODERN, state, capsys, expected) == []


def test_going_back_killed_after_every_write_is_finished_by_running_it_again(state, capsys):
    """Going back binds the lesson's kept volume again (the data as it was); the modern
    one, with the score made there, is kept in its place."""
    with_new = {"highscore": SCORES["highscore"] + NEW["highscore"]}

    def expected(memory: Memory) -> list[str]:
        return ended_on(memory, "lesson", "modern", {**SCORES, **with_new})

    assert killed_everywhere(moved_to_modern, TO_LESSON, state, capsys, expected) == []


def test_a_restore_short_of_the_documents_dumped_switches_nothing_and_is_run_again(
    state, capsys, monkeypatch
):
    """The restore is held to the count the dump recorded earlier in the same run: one
    document short, the move stops before the new web app, its intent left for the same
    command, which (its mongorestore whole again) finishes it."""
    disk = state("short")
    memory = lesson_with_scores()
    whole = archives.restore_from
    monkeypatch.setattr(archives, "restore_from", lambda *a, **kw: whole(*a, **kw) - 1)
    capsys.readouterr()
    assert run(memory, *TO_MODERN)[0] == 1
    said = " ".join(capsys.readouterr().err.split())
    assert "mongorestore restored 3 of the 4 documents dumped" in said, said
    assert "Run `pacdeploy up --stack modern --yes -n app` to finish" in said, said
    intent = moves.intent_of(memory.objects[("Namespace", "", NS)])
    assert intent is not None and (intent.documents, intent.restored) == (4, False)
    assert memory.objects[("Deployment", NS, "pacman")]["spec"]["replicas"] == 0
    monkeypatch.setattr(archives, "restore_from", whole)
    assert run(memory, *TO_MODERN)[0] == 0
    assert ended_on(memory, "modern", "lesson", SCORES) == []
    assert [p.name for p in disk.rglob("*") if p.is_file()] == []


# -- the database tools in memory, as the move runs them -----------------------------------
def test_an_exported_archive_imported_replaces_the_collections_it_holds(tmp_path, capsys):
    memory = lesson_with_scores()
    archive = tmp_path / "scores.archive"
    capsys.readouterr()
    assert run(memory, "backup", "export", "-o", str(archive))[0] == 0
    assert "exported 4 documents (highscore 3, userstats 1) from pod mongo-0" in (
        capsys.readouterr().out
    )
    put_documents(live(memory), {"highscore": NEW["highscore"], "other": [{"_id": 1}]})
    assert run(memory, "backup", "import", str(archive), "--yes")[0] == 0
    assert documents(live(memory)) == {**SCORES, "other": [{"_id": 1}]}


def test_the_tools_in_memory_refuse_a_wrong_password_and_fail_on_documents_already_there():
    memory = lesson_with_scores()
    login = archives.Login("root", "wrong", "pacman")
    where = (NS, "mongo-0")
    code, out, said = memory_tools.run(
        memory, where, archives.tool_command("mongodump", login, NS, pod="mongo-0"), b"wrong\n"
    )
    assert (code, out) == (1, b"") and "Failed: can't create session" in said
    login = archives.login(MemoryWire(memory).cluster(), NS)  # the Secret's
    password = f"{login.password}\n".encode()
    dump = archives.tool_command("mongodump", login, NS, pod="mongo-0")
    code, archive, said = memory_tools.run(memory, where, dump, password)
    assert code == 0 and archives.dumped(said) == {"pacman.highscore": 3, "pacman.userstats": 1}
    # Without --drop, as a user may run it: each _id already there fails (E11000).
    restore = archives.tool_command("mongorestore", login, NS, pod="mongo-0")
    restore.remove("--drop")
    code, _, said = memory_tools.run(memory, where, restore, password + archive)
    assert (code, archives.restored(said)) == (0, (0, 4))
