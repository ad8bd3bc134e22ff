"""Logical archives: the tools' command lines, what their logs say crossed, and the sandbox's
stand-ins reading the same command lines and writing the same log lines."""

from __future__ import annotations

import io
import json

import pytest

from pacdeploy.data import archives
from pacdeploy.data.archives import Login
from pacdeploy.sandbox import mongo_tools
from tests.unit.image_contracts import CONTRACTS

LOGIN = Login("root", "s3cret-Pw", "pacman")
# mongo-tools 100.5 (the 4.4 era) and today's (TOOLS-4158 quotes names in backquotes).
DUMP_LOG = """\
2021-08-01T10:00:00.000+0000\twriting pacman.highscore to archive on stdout
2021-08-01T10:00:00.010+0000\tdone dumping pacman.highscore (3 documents)
2026-12-01T10:00:00.020+0000\tdone dumping `pacman.userstats` (1 document)
"""
RESTORE_LOG = """\
2026-12-01T10:00:00.000+0000\tfinished restoring pacman.highscore (3 documents, 0 failures)
2026-12-01T10:00:00.010+0000\t4 document(s) restored successfully. 0 document(s) failed to restore.
"""


@pytest.mark.parametrize("stack", sorted(CONTRACTS))
@pytest.mark.parametrize("tool", ["mongodump", "mongorestore"])
def test_each_stacks_image_ships_the_tool_and_no_password_is_on_its_command_line(stack, tool):
    mongo, _ = CONTRACTS[stack]
    command = archives.tool_command(tool, LOGIN, "ns", pod="mongo-0")
    assert command[0] in mongo.tools.value
    assert LOGIN.password not in " ".join(command)
    assert "--username=root" in command and "--archive" in command
    assert "appName=pacdeploy%20ns/mongo-0" in command[1]


def test_a_restore_replaces_only_the_apps_database():
    command = archives.tool_command("mongorestore", LOGIN, "ns", pod="mongo-0")
    assert "--nsInclude=pacman.*" in command and "--drop" in command


def test_the_logs_say_what_crossed():
    assert archives.dumped(DUMP_LOG) == {"pacman.highscore": 3, "pacman.userstats": 1}
    assert archives.restored(RESTORE_LOG) == (4, 0)
    assert archives.restored("Failed: error connecting to host") is None
    dumped = archives.Dumped("mongo-0", archives.dumped(DUMP_LOG))
    assert dumped.describe() == "4 documents (highscore 3, userstats 1)"


def test_why_a_tool_failed_is_its_own_failed_line():
    log = "2026-12-01T10:00:00.000+0000\tFailed: can't create session: auth error\n"
    assert archives.why(log, "command terminated with non-zero exit code") == (
        "can't create session: auth error"
    )
    assert archives.why("", "exit code 1") == "exit code 1"


def test_the_stand_ins_read_the_tools_command_lines():
    command = archives.tool_command("mongorestore", LOGIN, "pd-x", pod="mongo-0")
    options = mongo_tools.parse("mongorestore", command[1:])
    assert options["username"] == "root" and options["archive"] == "-"
    assert options["nsInclude"] == "pacman.*" and "drop" in options
    assert mongo_tools.caller(options) == ("pd-x", "mongo-0")
    assert mongo_tools.parse("mongodump", ["-d", "pacman", "--archive=/x"])["db"] == "pacman"
    with pytest.raises(SystemExit) as exited:
        mongo_tools.parse("mongodump", ["--oplogReplay"])
    assert exited.value.code == mongo_tools.EXIT_FAILURE


def test_the_stand_ins_read_the_password_up_to_the_newline_and_no_further():
    stdin = io.BytesIO(b"s3cret-Pw\n" + mongo_tools.HEADER)
    assert mongo_tools.read_password(stdin) == "s3cret-Pw"
    assert stdin.read() == mongo_tools.HEADER


def test_the_stand_ins_move_documents_between_volume_directories(tmp_path, capsys):
    source, target = tmp_path / "a", tmp_path / "b"
    (source / mongo_tools.STORE / "pacman").mkdir(parents=True)
    docs = [json.dumps({"_id": i, "score": i * 10}) for i in range(3)]
    (source / mongo_tools.STORE / "pacman" / "highscore.jsonl").write_text("\n".join(docs))
    archive = io.BytesIO()
    mongo_tools.dump({"db": "pacman", "archive": "-"}, source, archive)
    assert archives.dumped(capsys.readouterr().err) == {"pacman.highscore": 3}
    (target / mongo_tools.STORE / "pacman").mkdir(parents=True)
    (target / mongo_tools.STORE / "pacman" / "highscore.jsonl").write_text(docs[0] + "\n")
    # Without --drop a document already there is a duplicate key: a failure, as mongod says.
    archive.seek(0)
    assert mongo_tools.restore({"nsInclude": "pacman.*"}, target, archive) == (2, 1)
    archive.seek(0)
    assert mongo_tools.restore({"nsInclude": "pacman.*", "drop": "-"}, target, archive) == (3, 0)
    written = (target / mongo_tools.STORE / "pacman" / "highscore.jsonl").read_text()
    assert written.splitlines() == docs
    archive.seek(0)
    assert mongo_tools.restore({"nsInclude": "other.*"}, target, archive) == (0, 0)
