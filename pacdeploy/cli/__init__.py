"""The `pacdeploy` command line: the root group and its global options, and one module per
command group. Commands stay thin: they parse, ask, call the domain packages and print.

    settings.py  Settings (the global options), parameter types, confirmation
    rounds.py    how many connections each command opens ahead, before its modules load
    app.py       up, diff, template, scale, status, down
    history.py   history, rollback
    data.py      backup create|list|delete|prune|export|import, restore
    forward.py   forward
    diagnose.py  logs, report
    mongo.py     shell, test
    sandbox.py   sandbox up|down|status

Heavy imports (the kubernetes client) happen inside commands so `pacdeploy --help` is instant.
"""

from __future__ import annotations

import logging
import os
import sys

import click

from pacdeploy import collector, output
from pacdeploy.app.manifests import DEFAULT_NAMESPACE
from pacdeploy.cli import app, data, diagnose, forward, history, mongo, sandbox
from pacdeploy.cli.settings import Settings
from pacdeploy.errors import EXIT_INTERRUPTED, PacdeployError

log = logging.getLogger("pacdeploy")

# kubectl's and Helm's global flags work before or after the subcommand.
GLOBAL_WITH_VALUE = ("--kubeconfig", "--context", "-n", "--namespace")
GLOBAL_FLAGS = ("-v", "-vv", "-vvv", "--verbose")
SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_PACDEPLOY_COMPLETE"


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the global options moved before the subcommand, in their order (so
    the last one given still wins); anything after ``--`` is left as it is."""
    hoisted: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg in GLOBAL_WITH_VALUE and index + 1 < len(args):
            hoisted += args[index : index + 2]  # the flag and its value
            index += 2
            continue
        attached = arg.split("=", 1)[0] in GLOBAL_WITH_VALUE or (
            arg.startswith("-n") and not arg.startswith("--")  # -nmyns, as kubectl takes
        )
        (hoisted if attached or arg in GLOBAL_FLAGS else rest).append(arg)
        index += 1
    return hoisted + rest


class Root(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--kubeconfig", metavar="PATH", help="Kubeconfig file (default: KUBECONFIG, ~/.kube/config)."
)
@click.option("--context", metavar="NAME", help="Kubeconfig context (default: current).")
@click.option(
    "-n", "--namespace", default=DEFAULT_NAMESPACE, show_default=True, help="Namespace of the app."
)
@click.option("-v", "--verbose", count=True, help="More output (-vv: API requests).")
@click.version_option(package_name="pacdeploy")
@click.pass_context
def cli(
    ctx: click.Context, *, kubeconfig: str | None, context: str | None, namespace: str, verbose: int
) -> None:
    """Deploy the Pacman + MongoDB stateful demo to Kubernetes."""
    from pacdeploy.app.manifests import validate_namespace

    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="%(levelname)s %(name)s: %(message)s",
        )
    validate_namespace(namespace)
    ctx.obj = Settings(kubeconfig, context, namespace, output.for_terminal())


@cli.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL, e.g. `source <(pacdeploy completion bash)`."""
    from click.shell_completion import get_completion_class

    completion_class = get_completion_class(shell)
    assert completion_class is not None  # SHELLS are the ones Click ships
    click.echo(completion_class(cli, {}, "pacdeploy", COMPLETE_VAR).source())


for command in (
    app.up_command,
    app.diff_command,
    app.template_command,
    app.scale_command,
    app.status,
    app.down_command,
    history.history,
    history.rollback_command,
    data.backup,
    data.restore_command,
    forward.forward,
    diagnose.logs_command,
    diagnose.report_command,
    mongo.shell_command,
    mongo.test_command,
    sandbox.sandbox,
):
    cli.add_command(command)


def run() -> None:
    """The `pacdeploy` process."""
    with collector.paused_until_loaded():
        main()


def run_as_kubectl_plugin() -> None:
    """`kubectl pacdeploy ...`: kubectl runs `kubectl-pacdeploy` from PATH (krew's way)."""
    with collector.paused_until_loaded():
        main(prog_name="kubectl pacdeploy")


def main(argv: list[str] | None = None, prog_name: str = "pacdeploy") -> None:
    """Entry point: every failure a user can cause is one line on stderr and an exit code."""
    try:
        cli.main(args=argv, prog_name=prog_name, complete_var=COMPLETE_VAR, standalone_mode=False)
    except PacdeployError as exc:
        # The line says it all; -vv also shows the exception it came from.
        log.debug("%s", exc.problem, exc_info=exc.__cause__)
        _fail(str(exc), exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx else ""
        _fail(exc.format_message() + hint, exc.exit_code)
    except click.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            _interrupted()
        _fail("aborted; nothing was changed", 1)
    except KeyboardInterrupt:
        _interrupted()


def _fail(message: str, code: int) -> None:
    output.for_terminal().error(message)
    sys.exit(code)


def _interrupted() -> None:
    """Ctrl-C ends the process now, as it ends kubectl. A normal exit would first wait for
    the worker threads still in a request (a parallel round, a retry backing off for up to
    RETRY_SECONDS): the interpreter joins them at exit. Every command is safe to kill at
    any write (tests/integration/test_kill_points.py), and the next run finishes the job."""
    output.for_terminal().error(
        "interrupted; what was done is kept, run the command again to finish"
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)
