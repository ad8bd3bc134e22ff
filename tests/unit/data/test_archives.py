"""Logical archives: the tools' command lines and what their logs say crossed."""

from __future__ import annotations

import pytest

from pacdeploy.data import archives
from pacdeploy.data.archives import Login
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
