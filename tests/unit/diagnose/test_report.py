"""`report`: a part that cannot be read is noted, the archive holds no secret value."""

import tarfile

from pacdeploy.diagnose import report
from pacdeploy.errors import PermissionDenied

SECRET = "s3cr3t-Pa55"


def test_a_part_that_cannot_be_read_is_a_problem_noted_not_a_failure():
    bundle = report.Bundle()
    bundle.add("nodes", lambda: (_ for _ in ()).throw(PermissionDenied("cannot list nodes")))
    bundle.add("versions", lambda: {"versions.json": "{}\n"})
    assert bundle.files == {"versions.json": "{}\n"}
    assert bundle.problems == ["nodes: cannot list nodes"]


def test_the_archive_holds_every_file_under_one_folder_with_no_secret_value(tmp_path):
    bundle = report.Bundle(
        {"logs/mongo-0/mongo.log": f"password={SECRET}\n", "status.json": "{}\n"},
        ["nodes: cannot list nodes"],
    )
    path = tmp_path / "r.tar.gz"
    names = report.write(bundle, str(path), top="bundle", secrets=[SECRET])
    assert names == ["logs/mongo-0/mongo.log", "status.json", "problems.txt"]
    with tarfile.open(path) as archive:
        assert archive.getnames() == [f"bundle/{n}" for n in names]
        texts = [archive.extractfile(m).read().decode() for m in archive.getmembers()]
    assert not [t for t in texts if SECRET in t]
    assert "password=***" in texts[0]
