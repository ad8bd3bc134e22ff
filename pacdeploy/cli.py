"""The `pacdeploy` command line: thin commands over the modules that do the work.

Heavy imports (the kubernetes client) happen inside commands so `pacdeploy --help` is instant.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from typing import Any

import click

from pacdeploy import output
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

    def cluster(self) -> Any:
        from pacdeploy.kube.client import connect

        return connect(self.kubeconfig, self.context)


pass_settings = click.make_pass_decorator(Settings)
OUTPUT = click.Choice(["table", "json", "yaml"])
TIMEOUT = click.option(
    "--timeout", type=Duration(), default="5m", show_default=True, help="How long to wait."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


@cli.command()
@click.option(
    "--storage-class",
    default="csi-hostpath-sc",
    show_default=True,
    envvar="PACDEPLOY_STORAGE_CLASS",
    help="StorageClass to make the cluster default (the data lives there). "
    "Env: PACDEPLOY_STORAGE_CLASS.",
)
@click.option(
    "--keep-default-class", is_flag=True, help="Leave the cluster's default StorageClass as it is."
)
@click.option(
    "--ingress/--no-ingress", default=False, show_default=True, help="Also create the Ingress."
)
@click.option("--ingress-host", default=DEFAULTS.ingress_host, show_default=True)
@click.option("--ingress-class", default=DEFAULTS.ingress_class, show_default=True)
@click.option("--replicas", type=int, help="Web replicas (default: 1, or the current count).")
@click.option(
    "--service-type",
    type=click.Choice(SERVICE_TYPES),
    default=DEFAULTS.service_type,
    show_default=True,
)
@click.option("--pacman-image", metavar="IMAGE", help="Override the web image (pin a digest).")
@click.option(
    "--volume-permissions",
    is_flag=True,
    help="Chown MongoDB's volume to its user first (for drivers that ignore fsGroup).",
)
@click.option("--force", is_flag=True, help="Take over objects of the same name not made by us.")
@click.option("--dry-run", is_flag=True, help="Server-side dry run: show what would change.")
@TIMEOUT
@pass_settings
def up(
    settings: Settings,
    storage_class: str,
    keep_default_class: bool,
    ingress: bool,
    ingress_host: str,
    ingress_class: str,
    replicas: int | None,
    service_type: str,
    pacman_image: str | None,
    volume_permissions: bool,
    force: bool,
    dry_run: bool,
    timeout: float,
) -> None:
    """Deploy (or update) Pacman and MongoDB, then wait until both are ready."""
    from pacdeploy import deploy
    from pacdeploy.manifests import validate

    options = Options(
        namespace=settings.namespace,
        replicas=1 if replicas is None else replicas,
        service_type=service_type,
        ingress=ingress,
        ingress_host=ingress_host,
        ingress_class=ingress_class,
        pacman_image=pacman_image,
        volume_permissions=volume_permissions,
    )
    validate(options)  # bad input fails before any connection is made
    cluster = settings.cluster()
    plan = deploy.plan_up(
        cluster,
        options,
        storage_class=storage_class,
        keep_default_class=keep_default_class,
        replicas_given=replicas is not None,
        force=force,
    )
    for warning in plan.warnings:
        settings.out.warning(warning)
    changes = deploy.apply_up(cluster, plan, force=force, dry_run=dry_run)
    _report_changes(settings.out, changes, dry_run)
    if dry_run:
        return
    deploy.wait_up(cluster, settings.namespace, timeout, settings.out)
    settings.out.info(f"pacman is ready: `pacdeploy forward -n {settings.namespace}` to play")


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
    from pacdeploy.errors import InvalidInput

    cluster = settings.cluster()
    if purge and not yes:
        if not sys.stdin.isatty():
            raise InvalidInput(
                "--purge deletes the high scores and needs confirmation",
                "Run it in a terminal to confirm, or pass --yes",
            )
        click.confirm(
            f"Delete namespace {settings.namespace} with its volumes and credentials?",
            abort=True,
        )
    changes = deploy.down(
        cluster, settings.namespace, purge=purge, timeout=timeout, out=settings.out
    )
    _report_changes(settings.out, changes)
    if not changes:
        settings.out.info(f"nothing to remove in namespace {settings.namespace}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure a user can cause is one line on stderr and an exit code."""
    try:
        cli.main(args=argv, prog_name="pacdeploy", standalone_mode=False)
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
