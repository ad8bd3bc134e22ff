"""The sandbox's stand-ins for mongodump and mongorestore: reading the command lines
data/archives.py writes and writing the log lines it reads."""

from __future__ import annotations

import io
import json

import pytest

from pacdeploy.data import archives
from pacdeploy.data.archives import Login
from pacdeploy.sandbox import mongo_tools

LOGIN = Login("root", "s3cret-Pw", "pacman")


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
