"""The pure parts of `logs`, `report` and `history`'s CHANGE column."""

import tarfile

import pytest

from pacdeploy.app.manifests import Options, render
from pacdeploy.cli import main
from pacdeploy.data import revisions, shell
from pacdeploy.diagnose import logs, report
from pacdeploy.errors import PermissionDenied
from pacdeploy.kube import podexec
from pacdeploy.kube.logs import Window

SECRET = "s3cr3t-Pa55"


def pod(name, uid, *, init_state=None, state=None, restarts=0):
    status = {"containerStatuses": [{"name": "mongo", "restartCount": restarts, "state": state}]}
    if init_state is not None:
        status["initContainerStatuses"] = [{"name": "prepare", "state": init_state}]
    return {
        "metadata": {"name": name, "uid": uid},
        "spec": {"initContainers": [{"name": "prepare"}], "containers": [{"name": "mongo"}]},
        "status": status,
    }


def test_every_container_by_pod_name_init_containers_first():
    found = logs.sources([pod("mongo-1", "b"), pod("mongo-0", "a")])
    assert [(s.pod, s.container) for s in found] == [
        ("mongo-0", "prepare"),
        ("mongo-0", "mongo"),
        ("mongo-1", "prepare"),
        ("mongo-1", "mongo"),
    ]
    assert found[0].prefix == "[pod/mongo-0/prepare]"


def test_a_follow_starts_on_running_containers_and_a_restart_is_another_source():
    running = {"running": {"startedAt": "now"}}
    done = {"terminated": {"exitCode": 0}}
    first = logs.sources([pod("mongo-0", "a", init_state=done, state=running)], running_only=True)
    assert [(s.container, s.instance) for s in first] == [("mongo", 0)]
    again = logs.sources([pod("mongo-0", "a", state=running, restarts=1)], running_only=True)
    recreated = logs.sources([pod("mongo-0", "z", state=running)], running_only=True)
    assert first[0] != again[0] and first[0] != recreated[0]
    assert logs.sources([pod("mongo-0", "a", state={"waiting": {}})], running_only=True) == []


def test_lines_are_prefixed_and_secret_values_and_url_passwords_masked():
    text = f"auth ok for {SECRET}\nconnect mongodb://pacman:other@mongo:27017/pacman\n"
    source = logs.Source("pacman-1", "pacman")
    lines = list(logs.prefixed(source, text, [SECRET]))
    assert lines == [
        "[pod/pacman-1/pacman] auth ok for ***",
        "[pod/pacman-1/pacman] connect mongodb://pacman:***@mongo:27017/pacman",
    ]


def test_one_workload_or_the_whole_app():
    assert logs.selector("mongo") == "name=mongo"
    assert logs.selector(None) == "name in (pacman,mongo)"


def test_the_window_asks_only_what_was_given():
    assert Window().query("mongo") == {
        "container": "mongo",
        "tailLines": None,
        "sinceSeconds": None,
        "previous": None,
    }
    assert Window(tail=5, since_seconds=600, previous=True).query(None)["previous"] == "true"


def test_a_first_install_is_summed_up_and_other_changes_are_listed():
    created = ["namespace/shop created", *(f"service/s{i} created" for i in range(12))]
    assert revisions.summary(", ".join(created)) == "install (13 objects)"
    assert revisions.summary("deployment/pacman configured") == "deployment/pacman configured"
    assert revisions.summary("rollback to 1 (--atomic, after 2 failed)").startswith("rollback")


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


def mongo_statefulset(stack):
    return next(o for o in render(Options(stack=stack)) if o["kind"] == "StatefulSet")


def test_the_lessons_shell_logs_in_with_passwords_read_from_the_mounted_files():
    found = shell.shell_of(mongo_statefulset("lesson"))
    assert found.program == "mongo"
    assert found.files["database-password"] == "/opt/bitnami/mongodb/secrets/mongodb-password"
    command = found.command(admin=False, expression=None)
    assert command[:4] == ["mongo", "--quiet", "--shell", "--eval"]
    script = command[-1]
    assert 'db.getSiblingDB(cat("/opt/bitnami/mongodb/secrets/mongodb-database").trim())' in script
    assert 'cat("/opt/bitnami/mongodb/secrets/mongodb-password").trim()' in script
    admin = found.command(admin=True, expression="db.stats()")
    assert "--shell" not in admin
    assert admin[-1].endswith(
        '"root", cat("/opt/bitnami/mongodb/secrets/mongodb-root-password")'
        ".trim()); printjson(db.stats())"
    )


def test_the_modern_stacks_shell_is_mongosh_reading_each_key_from_its_file():
    found = shell.shell_of(mongo_statefulset("modern"))
    admin = found.command(admin=True, expression="1")
    assert admin[0] == "mongosh"
    read = "fs.readFileSync(\"/etc/mongo-credentials/{}\", 'utf8').trim()"
    assert f"db.auth({read.format('database-admin-name')}, " in admin[-1]
    assert read.format("database-admin-password") in admin[-1]
    app = found.command(admin=False, expression="1")[-1]
    assert read.format("database-user") in app and read.format("database-password") in app


def test_an_exit_code_comes_from_the_status_cause():
    failed = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "2"}]},
    }
    assert podexec.exit_code(failed) == 2
    assert podexec.exit_code({"status": "Success"}) == 0 and podexec.exit_code(None) == 0
    assert podexec.exit_code({"status": "Failure", "message": "executable not found"}) == 1
    kwok = "error executing command in container: cmd wait: mongo --eval x: exit status 2"
    assert (
        podexec.exit_code({"status": "Failure", "message": f"Internal error occurred: {kwok}"}) == 2
    )


def completions(args, incomplete):
    from click.shell_completion import BashComplete

    from pacdeploy.cli import COMPLETE_VAR, cli

    complete = BashComplete(cli, {}, "pacdeploy", COMPLETE_VAR)
    return [c.value for c in complete.get_completions(args, incomplete)]


def test_the_day_two_commands_and_their_workload_names_complete():
    assert {"template", "logs", "report", "shell", "test"} <= set(completions([], ""))
    assert completions(["logs"], "") == ["pacman", "mongo"]
    assert completions(["-n", "shop", "logs"], "m") == ["mongo"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["logs", "nosuchworkload"], "'nosuchworkload' is not one of 'pacman', 'mongo'"),
        (["logs", "-f", "--previous"], "-f cannot follow --previous"),
        (["logs", "--tail", "-2"], "-2 is not in the range"),
        (["logs", "--since", "soon"], "not a duration"),
        (["shell"], "shell needs a terminal"),
        (["report", "-o", __file__], "exists"),
    ],
)
def test_bad_input_is_one_line_before_any_connection(capsys, args, needle):
    with pytest.raises(SystemExit) as exit_info:
        main(["--kubeconfig", "/nonexistent/kubeconfig", *args])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and needle in err
