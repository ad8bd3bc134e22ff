"""`backup export` and `backup import`: the app's database as a mongodump archive on the
user's disk, and back into any namespace, across stacks (MongoDB 4.4 to 8.0).

On the sandbox `mongodump` and `mongorestore` are stand-ins run by KWOK for the exec
(pacdeploy/sandbox/mongo_tools.py): they read and write the documents as files in the
pod's own volume directory, so these tests count the documents that crossed.
"""

from __future__ import annotations

import uuid

import pytest

from pacdeploy.sandbox import paths
from tests.support import one_line
from tests.support.credentials import admin_password
from tests.support.documents import SCORES, documents, write_documents

pytestmark = pytest.mark.integration


@pytest.fixture
def other_app_ns(cluster):
    """A second namespace for pacdeploy to create (app_ns's cleanup, for a second app)."""
    name = f"pd-app-{uuid.uuid4().hex[:6]}"
    yield name
    cluster.delete("Namespace", name)
    for kind in ("ClusterRoleBinding", "ClusterRole"):
        cluster.delete(kind, f"pacman-node-reader-{name}")


@pytest.mark.sandbox_only
def test_scores_exported_from_the_lesson_stack_import_into_the_modern_stack_elsewhere(
    target, cluster, app_ns, other_app_ns, tmp_path
):
    target.succeeds("-n", app_ns, "up", "--stack", "lesson")
    write_documents(cluster, app_ns, SCORES)
    archive = tmp_path / "scores.archive"
    said = target.pacdeploy("-n", app_ns, "backup", "export", "-o", str(archive))
    assert said.returncode == 0, said.stderr
    assert "exported 4 documents (highscore 3, userstats 1) from pod mongo-0" in said.stdout
    assert archive.stat().st_mode & 0o777 == 0o600  # the players' data: the owner's only
    assert not archive.with_name(archive.name + ".part").exists()

    target.succeeds("-n", other_app_ns, "up")  # the default, modern stack
    stale = {"highscore": [{"_id": 9, "name": "stale", "score": 1}]}
    write_documents(cluster, other_app_ns, stale)
    # No terminal, no --yes: refused before anything is read or written.
    refused = target.pacdeploy("-n", other_app_ns, "backup", "import", str(archive))
    assert refused.returncode == 2, refused.stderr
    assert "needs confirmation" in one_line(refused.stderr)
    assert documents(cluster, other_app_ns) == stale

    said = target.pacdeploy("-n", other_app_ns, "backup", "import", str(archive), "--yes")
    assert said.returncode == 0, said.stderr
    assert "imported 4 documents" in said.stdout
    # Replaced (mongorestore --drop), not merged: exactly the documents that were exported.
    assert documents(cluster, other_app_ns) == SCORES
    assert documents(cluster, app_ns) == SCORES
    # The root password went over stdin, never on a command line.
    calls = paths.exec_log().read_text()
    assert (
        f"mongodump --uri=mongodb://127.0.0.1:27017/?appName=pacdeploy%20{app_ns}/mongo-0" in calls
    )
    for namespace in (app_ns, other_app_ns):
        assert admin_password(cluster, namespace) not in calls


@pytest.mark.sandbox_only
def test_an_archive_mongorestore_refuses_fails_in_one_line_and_changes_nothing(
    target, cluster, app_ns, tmp_path
):
    target.succeeds("-n", app_ns, "up")
    write_documents(cluster, app_ns, SCORES)
    bogus = tmp_path / "not-an-archive"
    bogus.write_bytes(b"PK\x03\x04 a zip file\n")
    result = target.pacdeploy("-n", app_ns, "backup", "import", str(bogus), "--yes")
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert "mongorestore failed in pod mongo-0" in line and "mongodump archive" in line
    assert documents(cluster, app_ns) == SCORES
    missing = target.pacdeploy("-n", app_ns, "backup", "import", str(tmp_path / "nope"), "--yes")
    assert missing.returncode == 2 and "no archive file" in one_line(missing.stderr)
