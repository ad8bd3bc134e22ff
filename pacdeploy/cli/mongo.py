"""`pacdeploy shell` and `test`: MongoDB's shell, and the lesson's experiment on the data."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from pacdeploy.cli.settings import SHORT_TIMEOUT, Settings, pass_settings
from pacdeploy.errors import InvalidInput

EXPRESSION_SECONDS = 60.0


def _write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _on_resize(callback: Callable[[], None]) -> None:
    import signal

    signal.signal(signal.SIGWINCH, lambda *_: callback())


@click.command("shell")
@click.option("--admin", is_flag=True, help="As MongoDB's root user, on the admin database.")
@click.argument("expression", nargs=-1, metavar="[-- EXPR]")
@pass_settings
def shell_command(settings: Settings, admin: bool, expression: tuple[str, ...]) -> None:
    """MongoDB's shell in a ready mongo pod, logged in as the app's user (the password is
    read inside the pod); `-- EXPR` evaluates EXPR, prints it and exits with the shell."""
    from pacdeploy import output
    from pacdeploy.app import deployed
    from pacdeploy.app.manifests import STATEFULSET
    from pacdeploy.data import shell
    from pacdeploy.data.consistency import CONTAINER
    from pacdeploy.kube import podexec

    expr = " ".join(expression) or None
    if expr is None and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise InvalidInput(
            "shell needs a terminal", "Run it in one, or pass `-- EXPR` to evaluate EXPR"
        )
    cluster, ns = settings.cluster(), settings.namespace
    program = shell.shell_of(deployed.get(cluster, "StatefulSet", STATEFULSET, namespace=ns))
    pod = shell.ready_pod(cluster, ns)
    command = program.command(admin=admin, expression=expr)
    if expr is not None:
        where = podexec.Where(pod, ns, CONTAINER)
        ran = podexec.run(cluster, where, command, timeout=EXPRESSION_SECONDS)
        sys.stdout.write(ran.stdout)
        sys.stderr.write(ran.stderr)
        if not ran.ok and not (ran.stdout or ran.stderr):
            settings.out.error(f"{command[0]} in pod {pod}: {ran.reason}")
        sys.exit(ran.code)
    term = podexec.Terminal(sys.stdin.fileno(), _write, output.terminal_size, _on_resize)
    with output.raw_terminal(sys.stdin.fileno()):
        code = podexec.attach(cluster, pod, ns, container=CONTAINER, command=command, term=term)
    sys.exit(code)


@click.command("test")
@click.option("--keep-pod", is_flag=True, help="Do not delete mongo-0: only write and read.")
@SHORT_TIMEOUT
@pass_settings
def test_command(settings: Settings, keep_pod: bool, timeout: float) -> None:
    """The lesson's experiment: write a high score, delete mongo-0, read the score back once
    it is Ready on the same volume, remove it (exit 6 naming the step that failed)."""
    from pacdeploy.diagnose.experiment import Experiment

    experiment = Experiment(settings.cluster(), settings.namespace, timeout=timeout)
    experiment.run(lambda step: settings.out.info(step.line()), keep_pod=keep_pod)
    settings.out.info(f"the score survived: the data is kept in namespace {settings.namespace}")
