"""Bad input: one line naming the problem and the fix, a documented exit code, no cluster call.

Every case points --kubeconfig at a file that does not exist: had the command tried to
connect, it would fail with exit code 3 instead of the code asserted here.
"""

import subprocess
import sys

import pytest

from pacdeploy.cli import main
from tests.support.cli import fresh_python

NO_CLUSTER = ["--kubeconfig", "/nonexistent/kubeconfig"]


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main([*NO_CLUSTER, *args])
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["scale", "--replicas", "-1"], 2, "between 0 and 100"),
        (["scale", "--replicas", "abc"], 2, "not a valid integer"),
        (["scale", "--replicas", "1000000"], 2, "between 0 and 100"),
        (["up", "--replicas", "101"], 2, "between 0 and 100"),
        (["-n", "Not_A_Namespace", "status"], 2, "DNS-1123"),
        (["status", "-n", "Not_A_Namespace"], 2, "DNS-1123"),  # after it, as kubectl takes
        (["backup", "list", "--namespace=Not_A_Namespace"], 2, "DNS-1123"),
        # The last --kubeconfig given wins, wherever it stands.
        (["status", "--kubeconfig", "/elsewhere/kc"], 3, "kubeconfig /elsewhere/kc does not"),
        (["up", "--ingress", "--ingress-host", "Bad Host!"], 2, "invalid ingress host"),
        (["up", "--timeout", "soon"], 2, "not a duration"),
        (["up", "--timeout", "1.5.2m"], 2, "not a duration"),
        (["scale", "--replicas", "1", "--timeout", "0s"], 2, "positive duration"),
        (["up", "--service-type", "Magic"], 2, "Magic"),
        (["backup", "create", "Not_A_Name"], 2, "invalid backup name"),
        (["restore"], 2, "give a backup NAME or --undo"),
        (["restore", "b1", "--undo"], 2, "give a backup NAME or --undo"),
        (["restore", "b1"], 2, "restore replaces the high scores and needs confirmation"),
        (["rollback", "1", "--with-data"], 2, "--with-data replaces the high scores"),
        (["rollback", "0"], 2, "0 is not in the range"),
        (["down", "--purge"], 2, "--purge deletes the high scores and needs confirmation"),
        (["status"], 3, "kubeconfig /nonexistent/kubeconfig does not exist"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(capsys, args, code, needle):
    exit_code, out, err = run(capsys, *args)
    assert exit_code == code
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in err and out == ""


def test_unknown_context_lists_the_known_ones(tmp_path, capsys):
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
        "clusters: [{name: a, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: a, user: {token: x}}]\n"
        "contexts: [{name: a, context: {cluster: a, user: a}}]\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["--kubeconfig", str(config), "--context", "b", "status"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 3
    assert "context 'b' is not in kubeconfig" in err and "Use one of: a" in err


@pytest.mark.parametrize(
    ("port", "needle"),
    [("-1", "out of range"), ("65536", "out of range"), ("http", "not a port number")],
)
def test_forward_port_must_be_a_port(capsys, port, needle):
    exit_code, out, err = run(capsys, "forward", "--", port)
    assert exit_code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_help_does_not_load_the_kubernetes_client():
    """`pacdeploy --help` stays instant: the client is imported only by commands that talk."""
    code = (
        "import sys\n"
        "from pacdeploy.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('kubernetes' in sys.modules)\n"
    )
    printed = fresh_python(code)
    assert "Deploy the Pacman" in printed
    assert printed.endswith("False")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("apiVersion: v1\nclusters: [unclosed\n", "is not valid YAML at line 3"),
        ("just a string\n", "is not a kubeconfig"),
    ],
)
def test_broken_kubeconfig_is_one_line(tmp_path, capsys, content, needle):
    config = tmp_path / "config"
    config.write_text(content)
    with pytest.raises(SystemExit) as exit_info:
        main(["--kubeconfig", str(config), "status"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 3
    assert needle in err and len(err.strip().splitlines()) == 1


def test_global_options_move_before_the_subcommand_in_their_order():
    from pacdeploy.cli import hoist_global_options

    assert hoist_global_options(["up", "-n", "a", "--replicas", "2", "-vv", "-n", "b"]) == [
        "-n",
        "a",
        "-vv",
        "-n",
        "b",
        "up",
        "--replicas",
        "2",
    ]
    assert hoist_global_options(["status", "--context=c", "-nx"]) == [
        "--context=c",
        "-nx",
        "status",
    ]
    assert hoist_global_options(["forward", "--", "-n"]) == ["forward", "--", "-n"]


def test_bash_completion_completes_ba_to_backup(tmp_path):
    """The script `completion bash` prints, sourced in a real bash, completes subcommands."""
    script = tmp_path / "complete.bash"
    done = subprocess.run(
        [sys.executable, "-m", "pacdeploy", "completion", "bash"],
        capture_output=True,
        text=True,
        check=True,
    )
    script.write_text(done.stdout)
    shim = tmp_path / "pacdeploy"  # the name the script completes, as on a user's PATH
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m pacdeploy "$@"\n')
    shim.chmod(0o755)
    probe = (
        f"source {script}; COMP_WORDS=(pacdeploy ba); COMP_CWORD=1; "
        "_pacdeploy_completion pacdeploy ba pacdeploy; printf '%s\\n' \"${COMPREPLY[@]}\""
    )
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    replies = subprocess.run(
        ["bash", "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert replies == ["backup"]


def test_rollback_on_failure_is_helm_4s_name_for_atomic(monkeypatch):
    """Either name asks `up` for the same thing (the request's ``atomic``), and neither
    is the default; what atomic does on a real cluster is test_failures.py's to show."""
    from pacdeploy.cli.settings import Settings
    from pacdeploy.release import move, up

    asked: list[bool] = []

    def fake_up(cluster, request, out):
        asked.append(request.atomic)
        return up.UpResult(changes=[], revision=None)

    monkeypatch.setattr(Settings, "open_ahead", lambda self, connections: None)
    monkeypatch.setattr(Settings, "cluster", lambda self: None)
    monkeypatch.setattr(up, "up", fake_up)
    monkeypatch.setattr(move, "plan", lambda cluster, wanted, state: None)  # no move to make
    for flags in (["--rollback-on-failure"], ["--atomic"], []):
        main([*NO_CLUSTER, "up", *flags])
    assert asked == [True, True, False]


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
