"""The `pacdeploy` command line: thin commands over the modules that do the work.

Heavy imports (the kubernetes client) happen inside commands so `pacdeploy --help` is instant.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sys
from dataclasses import dataclass
from typing import Any

import click

from pacdeploy import collector, output
from pacdeploy.errors import EXIT_INTERRUPTED, PacdeployError
from pacdeploy.forward import DEFAULT_LOCAL_PORT
from pacdeploy.manifests import DEFAULT_NAMESPACE, SERVICE, SERVICE_TYPES, Options

log = logging.getLogger("pacdeploy")
DEFAULTS = Options()

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600}


class Duration(click.ParamType):
    """kubectl-style durations: 90s, 5m, 1h, 1m30s, or bare seconds."""

    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, int | float):
            return float(value)
        text = str(value).strip()
        if re.fullmatch(r"\d+(\.\d+)?", text):
            total = float(text)
        elif re.fullmatch(r"(\d+(\.\d+)?[hms])+", text):
            total = sum(
                float(n) * DURATION_UNITS[unit]
                for n, _, unit in re.findall(r"(\d+(\.\d+)?)([hms])", text)
            )
        else:
            self.fail(f"{value!r} is not a duration like 90s, 5m or 1h", param, ctx)
        if total <= 0:
            self.fail(f"{value!r} must be a positive duration", param, ctx)
        return total


class Port(click.ParamType):
    name = "port"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        try:
            port = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a port number", param, ctx)
        if not 0 <= port <= 65535:
            self.fail(f"{port} is out of range: use 1-65535 (or 0 for any free port)", param, ctx)
        return port


@dataclass
class Settings:
    """What every command gets from the global options, and where it writes."""

    kubeconfig: str | None
    context: str | None
    namespace: str
    out: output.Output

    def cluster(self, warm: int = 0) -> Any:
        """The cluster; ``warm``: connections to open ahead for the parallel rounds to come."""
        from pacdeploy.kube.client import connect

        cluster = connect(self.kubeconfig, self.context)
        collector.resume()
        if warm:
            cluster.transport.warm(warm)
        return cluster


pass_settings = click.make_pass_decorator(Settings)
OUTPUT = click.Choice(["table", "json", "yaml"])
# Connections up, diff, rollback and down open ahead: with the two their first reads open,
# enough for the widest round (up: the Secret and the default class beside six objects).
PARALLEL_ROUND = 6
TIMEOUT = click.option(
    "--timeout", type=Duration(), default="5m", show_default=True, help="How long to wait."
)


# kubectl's and Helm's global flags work before or after the subcommand.
GLOBAL_WITH_VALUE = ("--kubeconfig", "--context", "-n", "--namespace")
GLOBAL_FLAGS = ("-v", "-vv", "-vvv", "--verbose")


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
    ctx: click.Context, kubeconfig: str | None, context: str | None, namespace: str, verbose: int
) -> None:
    """Deploy the Pacman + MongoDB stateful demo to Kubernetes."""
    from pacdeploy.manifests import validate_namespace

    if verbose:
        logging.basicConfig(
            level=logging.DEBUG if verbose > 1 else logging.INFO,
            format="%(levelname)s %(name)s: %(message)s",
        )
    validate_namespace(namespace)
    ctx.obj = Settings(kubeconfig, context, namespace, output.for_terminal())


# -- sandbox -------------------------------------------------------------------
@cli.group()
def sandbox() -> None:
    """A local cluster: the real control plane, with KWOK simulating nodes and pods."""
    collector.resume()  # these run for seconds to minutes: no start-up to hurry


@sandbox.command("up")
@pass_settings
def sandbox_up(settings: Settings) -> None:
    """Build (first time), start and seed the sandbox; merge context pacdeploy-sandbox."""
    from pacdeploy.sandbox import lifecycle

    with settings.out.steps("sandbox up") as report:
        lifecycle.up(report)
    settings.out.info(f"kubectl --context {lifecycle.CONTEXT} get nodes")


@sandbox.command("down")
@pass_settings
def sandbox_down(settings: Settings) -> None:
    """Stop every sandbox process and remove its context."""
    from pacdeploy.sandbox import lifecycle

    with settings.out.steps("sandbox down") as report:
        existed = lifecycle.down(report)
    settings.out.info("sandbox stopped" if existed else "no sandbox was running")


@sandbox.command("status")
@click.option("-o", "--output", "fmt", type=OUTPUT, default="table", show_default=True)
@pass_settings
def sandbox_status(settings: Settings, fmt: str) -> None:
    """Say what runs and where."""
    from pacdeploy.sandbox import lifecycle

    out = settings.out
    current = lifecycle.status()
    if fmt != "table":
        out.data(current.as_dict(), fmt)
    elif not current.exists:
        out.info("sandbox: not created (run `pacdeploy sandbox up`)")
    else:
        out.info(f"sandbox: {'healthy' if current.healthy else 'DEGRADED'} at {current.server}")
        for name, pid in current.processes.items():
            out.info(f"  {name:<24} {'pid ' + str(pid) if pid else 'NOT RUNNING'}")
    if current.exists and not current.healthy:
        sys.exit(1)


# -- the app -------------------------------------------------------------------
def _report_changes(out: output.Output, changes: list[Any], dry_run: bool = False) -> None:
    suffix = " (server dry run)" if dry_run else ""
    for change in changes:
        out.info(f"{change.ref} {change.action}{suffix}")


def up_options(command: Any) -> Any:
    """The options that say what `up` deploys; `diff` takes the same."""
    options = [
        click.option(
            "--storage-class",
            default="csi-hostpath-sc",
            show_default=True,
            envvar="PACDEPLOY_STORAGE_CLASS",
            help="StorageClass to make the cluster default (the data lives there). "
            "Env: PACDEPLOY_STORAGE_CLASS.",
        ),
        click.option(
            "--keep-default-class",
            is_flag=True,
            help="Leave the cluster's default StorageClass as it is.",
        ),
        click.option(
            "--ingress/--no-ingress",
            default=False,
            show_default=True,
            help="Also create the Ingress.",
        ),
        click.option("--ingress-host", default=DEFAULTS.ingress_host, show_default=True),
        click.option("--ingress-class", default=DEFAULTS.ingress_class, show_default=True),
        click.option(
            "--replicas", type=int, help="Web replicas (default: 1, or the current count)."
        ),
        click.option(
            "--service-type",
            type=click.Choice(SERVICE_TYPES),
            default=DEFAULTS.service_type,
            show_default=True,
        ),
        click.option(
            "--pacman-image", metavar="IMAGE", help="Override the web image (pin a digest)."
        ),
        click.option(
            "--volume-permissions",
            is_flag=True,
            help="Chown MongoDB's volume to its user first (for drivers that ignore fsGroup).",
        ),
        click.option(
            "--force", is_flag=True, help="Take over objects of the same name not made by us."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@cli.command()
@up_options
@click.option("--dry-run", is_flag=True, help="Server-side dry run: show what would change.")
@click.option(
    "--snapshot/--no-snapshot",
    default=True,
    show_default=True,
    help="Back up MongoDB's volumes first when the change touches its StatefulSet.",
)
@click.option(
    "--keep-backups",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="Automatic backups kept; older ones are pruned (named backups never are).",
)
@click.option(
    "--rollback-on-failure",
    "--atomic",  # Helm 4 renamed --atomic; both are taken, as Helm takes both
    "atomic",
    is_flag=True,
    help="Roll back to the last deployed revision if the wait fails (alias: --atomic).",
)
@TIMEOUT
@pass_settings
def up(
    settings: Settings,
    dry_run: bool,
    snapshot: bool,
    keep_backups: int,
    atomic: bool,
    timeout: float,
    **given: Any,
) -> None:
    """Deploy (or update) Pacman and MongoDB, then wait until both are ready."""
    from pacdeploy import deploy, release

    request = _up_request(
        settings, given, timeout=timeout, backup=snapshot, atomic=atomic, keep_backups=keep_backups
    )
    cluster = settings.cluster(warm=PARALLEL_ROUND)
    if dry_run:
        plan = release.plan_for(cluster, request, settings.out)
        _report_changes(
            settings.out, deploy.apply_up(cluster, plan, force=request.force, dry_run=True), True
        )
        return
    result = release.up(cluster, request, settings.out)
    _report_changes(settings.out, result.changes)
    if result.revision is not None:
        settings.out.info(f"revision {result.revision.number} deployed")
    settings.out.info(f"pacman is ready: `pacdeploy forward -n {settings.namespace}` to play")


def _up_request(settings: Settings, given: dict[str, Any], **extra: Any) -> Any:
    """The options `up` and `diff` share, checked before any connection is made."""
    from pacdeploy import release
    from pacdeploy.manifests import validate

    replicas = given["replicas"]
    options = Options(
        namespace=settings.namespace,
        replicas=1 if replicas is None else replicas,
        service_type=given["service_type"],
        ingress=given["ingress"],
        ingress_host=given["ingress_host"],
        ingress_class=given["ingress_class"],
        pacman_image=given["pacman_image"],
        volume_permissions=given["volume_permissions"],
    )
    validate(options)
    return release.UpRequest(
        options=options,
        storage_class=given["storage_class"],
        keep_default_class=given["keep_default_class"],
        replicas_given=replicas is not None,
        force=given["force"],
        **extra,
    )


@cli.command()
@up_options
@click.option(
    "--revision",
    type=click.IntRange(min=1),
    help="Preview `rollback REVISION`: that revision's manifests and options, not these.",
)
@click.option("-o", "--output", "fmt", type=OUTPUT, default="table", show_default=True)
@pass_settings
def diff(settings: Settings, fmt: str, revision: int | None, **given: Any) -> None:
    """What `up` with these options would change, field by field (exit 1 if anything)."""
    from pacdeploy import diff as app_diff
    from pacdeploy import release, revisions

    request = _up_request(settings, given)
    cluster = settings.cluster(warm=PARALLEL_ROUND)
    manifests = None
    if revision is not None:
        target = revisions.find(
            revisions.read(cluster, settings.namespace), revision, settings.namespace
        )
        request, manifests = release.request_for(target), target.manifests
    plan = release.plan_for(cluster, request, settings.out, manifests)
    found = app_diff.diff(cluster, plan)
    if fmt != "table":
        settings.out.data([d.as_dict() for d in found], fmt)
    for change in found if fmt == "table" else []:
        settings.out.info(f"{change.ref} {change.action}")
        for field_change in change.changes:
            settings.out.info(f"  {field_change.line()}")
    if fmt == "table" and not found:
        settings.out.info("no changes")
    sys.exit(1 if found else 0)


@cli.command()
@click.option("-o", "--output", "fmt", type=OUTPUT, default="table", show_default=True)
@pass_settings
def history(settings: Settings, fmt: str) -> None:
    """The revisions `up` recorded: what changed, how it ended, the backup taken first."""
    from pacdeploy import revisions

    found = revisions.read(settings.cluster(), settings.namespace)
    shown = revisions.shown_status(found)
    if fmt != "table":
        settings.out.data(
            [
                {
                    "revision": r.number,
                    "updated": r.time,
                    "status": shown[r.number],
                    "change": r.change,
                    "backup": r.backup,
                    "options": dataclasses.asdict(r.options),
                }
                for r in found
            ],
            fmt,
        )
    elif not found:
        settings.out.info(f"no revisions recorded in namespace {settings.namespace}")
    else:
        rows = [(str(r.number), r.time, shown[r.number], r.backup or "-", r.change) for r in found]
        settings.out.table(("revision", "updated", "status", "backup", "change"), rows)


@cli.command()
@click.argument("revision", type=click.IntRange(min=1), required=False)
@click.option("--with-data", is_flag=True, help="Also restore the backup taken with that revision.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --with-data.")
@TIMEOUT
@pass_settings
def rollback(
    settings: Settings, revision: int | None, with_data: bool, yes: bool, timeout: float
) -> None:
    """Re-apply REVISION (default: the one before the live one) as a new revision."""
    from pacdeploy import release, revisions

    if with_data:
        _require_confirmation(yes, "--with-data replaces the high scores")
    cluster = settings.cluster(warm=PARALLEL_ROUND)
    target = release.rollback_target(
        revisions.read(cluster, settings.namespace), revision, settings.namespace
    )
    if with_data:
        _confirm(
            yes,
            f"Roll back to revision {target.number} and replace MongoDB's data with the "
            "newest backup of that revision?",
            "--with-data replaces the high scores",
        )
    result = release.rollback(
        cluster,
        settings.namespace,
        target,
        with_data=with_data,
        timeout=timeout,
        out=settings.out,
    )
    _report_changes(settings.out, result.changes)
    done = f"as revision {result.revision.number}" if result.revision else "(nothing changed)"
    settings.out.info(f"rolled back to revision {target.number} {done}")


def _require_confirmation(yes: bool, what: str) -> None:
    """Before any connection: a question that cannot be asked fails now, not half-way."""
    from pacdeploy.errors import InvalidInput

    if not yes and not sys.stdin.isatty():
        raise InvalidInput(
            f"{what} and needs confirmation", "Run it in a terminal to confirm, or pass --yes"
        )


def _confirm(yes: bool, question: str, what: str) -> None:
    """Ask on a terminal; without one, only --yes goes on."""
    _require_confirmation(yes, what)
    if not yes:
        click.confirm(question, abort=True)


# -- backups -------------------------------------------------------------------
@cli.group()
def backup() -> None:
    """CSI VolumeSnapshots of MongoDB's volumes: the high scores, kept."""


@backup.command("create")
@click.argument("name", required=False)
@click.option(
    "--snapshot-class",
    metavar="NAME",
    help="VolumeSnapshotClass (default: the volumes' driver's default class).",
)
@click.option("--timeout", type=Duration(), default="2m", show_default=True)
@pass_settings
def backup_create(
    settings: Settings, name: str | None, snapshot_class: str | None, timeout: float
) -> None:
    """Snapshot every MongoDB volume as backup NAME (default: backup-<UTC time>)."""
    from pacdeploy import backups, revisions

    name = name or backups.default_name()
    backups.validate_name(name)
    cluster = settings.cluster()
    live = revisions.previous(revisions.read(cluster, settings.namespace))
    taken = backups.create(
        cluster,
        settings.namespace,
        name,
        snapshot_class=snapshot_class,
        revision=live.number if live else None,
        timeout=timeout,
        out=settings.out,
    )
    settings.out.info(f"backup {taken.name} ready ({taken.size})")


@backup.command("list")
@click.option("-o", "--output", "fmt", type=OUTPUT, default="table", show_default=True)
@pass_settings
def backup_list(settings: Settings, fmt: str) -> None:
    """The backups of the namespace: name, time, size, ready, revision."""
    from pacdeploy import backups

    found = backups.list_backups(settings.cluster(), settings.namespace)
    if fmt != "table":
        settings.out.data([b.as_dict() for b in found], fmt)
    elif not found:
        settings.out.info(f"no backups in namespace {settings.namespace}")
    else:
        rows = [
            (b.name, b.created, b.size, b.state, str(b.revision or "-"), b.reason or "no")
            for b in found
        ]
        settings.out.table(("name", "created", "size", "ready", "revision", "automatic"), rows)


@backup.command("delete")
@click.argument("name")
@click.option("--timeout", type=Duration(), default="2m", show_default=True)
@pass_settings
def backup_delete(settings: Settings, name: str, timeout: float) -> None:
    """Delete backup NAME and wait until its snapshots and their data are gone."""
    from pacdeploy import backups

    for snapshot in backups.delete(
        settings.cluster(), settings.namespace, name, timeout, settings.out
    ):
        settings.out.info(f"volumesnapshot/{snapshot} deleted")


@backup.command("prune")
@click.option("--keep", type=click.IntRange(0, 1000), required=True, help="Newest backups kept.")
@click.option("--older-than", type=Duration(), help="Only delete backups older than this.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask first.")
@click.option("--timeout", type=Duration(), default="2m", show_default=True)
@pass_settings
def backup_prune(
    settings: Settings, keep: int, older_than: float | None, yes: bool, timeout: float
) -> None:
    """Delete all but the newest KEEP backups, named ones too (--older-than: only older)."""
    from pacdeploy import backups

    _require_confirmation(yes, "backup prune deletes backups")
    cluster = settings.cluster()
    doomed = backups.to_prune(
        backups.list_backups(cluster, settings.namespace),
        keep=keep,
        older_than=older_than,
        automatic_only=False,
    )
    if not doomed:
        settings.out.info("nothing to prune")
        return
    names = ", ".join(b.name for b in doomed)
    _confirm(yes, f"Delete backup(s) {names}?", "backup prune deletes backups")
    for found in doomed:
        backups.delete(cluster, settings.namespace, found.name, timeout, settings.out)
        settings.out.info(f"backup {found.name} deleted")


@cli.command()
@click.argument("name", required=False)
@click.option("--undo", is_flag=True, help="Go back to the volumes the last restore replaced.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask first.")
@TIMEOUT
@pass_settings
def restore(settings: Settings, name: str | None, undo: bool, yes: bool, timeout: float) -> None:
    """Put MongoDB's data back to backup NAME (the current data is kept until it works)."""
    from pacdeploy import restore as app_restore
    from pacdeploy import restore_steps
    from pacdeploy.errors import InvalidInput

    if (name is None) == (not undo):
        raise InvalidInput("give a backup NAME or --undo (not both)", "See `pacdeploy backup list`")
    _require_confirmation(yes, "restore replaces the high scores")
    cluster = settings.cluster()
    plan = app_restore.plan(cluster, settings.namespace, None if undo else name)

    def confirm(question: str) -> None:
        _confirm(yes, question, "restore replaces the high scores")

    restore_steps.run(cluster, plan, timeout=timeout, out=settings.out, confirm=confirm)
    settings.out.info(f"mongo is ready on the data from {plan.source}")


@cli.command()
@click.option("--replicas", type=int, required=True, help="Web replicas (0-100).")
@TIMEOUT
@pass_settings
def scale(settings: Settings, replicas: int, timeout: float) -> None:
    """Scale the web Deployment and wait for the rollout."""
    from pacdeploy import deploy
    from pacdeploy.manifests import validate_replicas

    validate_replicas(replicas)
    change = deploy.scale(settings.cluster(), settings.namespace, replicas, timeout, settings.out)
    settings.out.info(f"{change.ref} {change.action} to {replicas}")


@cli.command()
@click.option("-o", "--output", "fmt", type=OUTPUT, default="table", show_default=True)
@pass_settings
def status(settings: Settings, fmt: str) -> None:
    """Show the app: workloads, pods, volumes, services, ingress, default StorageClass."""
    from pacdeploy import status as app_status

    doc = app_status.collect(settings.cluster(), settings.namespace)
    if fmt == "table":
        settings.out.tree(app_status.outline(doc))
    else:
        settings.out.data(doc, fmt)


@cli.command()
@click.option(
    "--purge",
    is_flag=True,
    help="Also delete the namespace with its data, and restore the default class.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --purge.")
@TIMEOUT
@pass_settings
def down(settings: Settings, purge: bool, yes: bool, timeout: float) -> None:
    """Remove the app; keeps the Secret and volumes unless --purge."""
    from pacdeploy import deploy

    if purge:
        _confirm(
            yes,
            f"Delete namespace {settings.namespace} with its volumes and credentials?",
            "--purge deletes the high scores",
        )
    cluster = settings.cluster(warm=PARALLEL_ROUND)
    changes = deploy.down(
        cluster, settings.namespace, purge=purge, timeout=timeout, out=settings.out
    )
    _report_changes(settings.out, changes)
    if not changes:
        settings.out.info(f"nothing to remove in namespace {settings.namespace}")


SHELLS = ("bash", "zsh", "fish")


@cli.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL, e.g. `source <(pacdeploy completion bash)`."""
    from click.shell_completion import get_completion_class

    completion_class = get_completion_class(shell)
    assert completion_class is not None  # SHELLS are the ones Click ships
    click.echo(completion_class(cli, {}, "pacdeploy", "_PACDEPLOY_COMPLETE").source())


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
        cli.main(
            args=argv,
            prog_name=prog_name,
            complete_var="_PACDEPLOY_COMPLETE",
            standalone_mode=False,
        )
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
    _fail("interrupted; what was done is kept, run the command again to finish", EXIT_INTERRUPTED)


@cli.command()
@click.argument("local_port", type=Port(), default=DEFAULT_LOCAL_PORT, required=False)
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Local address to listen on (0.0.0.0 exposes it to your network).",
)
@click.option("--service", default=SERVICE, show_default=True)
@click.option(
    "--port",
    "service_port",
    default="80",
    show_default=True,
    help="Service port, by number or name.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the URL in a browser.")
@pass_settings
def forward(
    settings: Settings,
    local_port: int,
    address: str,
    service: str,
    service_port: str,
    open_browser: bool,
) -> None:
    """Forward LOCAL_PORT (default 9090; 0 = any free) to the Service, surviving pod restarts."""
    from pacdeploy.forward import display
    from pacdeploy.forward.server import Forwarder

    port: int | str = int(service_port) if service_port.isdigit() else service_port
    forwarder = Forwarder(
        settings.cluster(), settings.namespace, service, port, address, local_port
    ).open()
    if open_browser:
        import webbrowser

        webbrowser.open(forwarder.url)
    display.run(forwarder, settings.out)
