"""`pacdeploy logs` and `report`: looking into a running app."""

from __future__ import annotations

import math

import click

from pacdeploy.app.manifests import DEPLOYMENT, STATEFULSET
from pacdeploy.cli import rounds
from pacdeploy.cli.settings import Duration, Settings, pass_settings
from pacdeploy.errors import InvalidInput, PermissionDenied


@click.command("logs")
@click.argument("workload", type=click.Choice((DEPLOYMENT, STATEFULSET)), required=False)
@click.option("-f", "--follow", is_flag=True, help="Go on printing, across pods that come and go.")
@click.option("-p", "--previous", is_flag=True, help="The previous instance of each container.")
@click.option("--since", type=Duration(), help="Only lines newer than this, e.g. 10m.")
@click.option(
    "--tail",
    type=click.IntRange(min=-1),
    default=-1,
    show_default=True,
    help="Lines from the end of each container's log (-1: all).",
)
@pass_settings
def logs_command(
    settings: Settings,
    *,
    workload: str | None,
    follow: bool,
    previous: bool,
    since: float | None,
    tail: int,
) -> None:
    """Every container's log of the app (or of WORKLOAD), each line prefixed with its pod
    and container; Secret values are masked."""
    from pacdeploy.diagnose import logs
    from pacdeploy.kube.logs import Window
    from pacdeploy.wait.logs import secret_values

    if follow and previous:
        raise InvalidInput("-f cannot follow --previous: that instance has ended", "Drop one")
    window = Window(
        tail=None if tail < 0 else tail,
        since_seconds=math.ceil(since) if since else None,
        previous=previous,
    )
    cluster, out, ns = settings.cluster(), settings.out, settings.namespace
    try:
        secrets = secret_values(cluster, ns)
    except PermissionDenied as exc:
        raise PermissionDenied(
            f"{exc.problem}: logs are shown only with the Secret's values masked", exc.fix
        ) from exc
    pods = logs.app_pods(cluster, ns, workload)
    if not follow:
        for source, text in logs.read_all(cluster, ns, pods, window=window):
            if isinstance(text, str):
                for line in logs.prefixed(source, text, secrets):
                    out.info(line)
            else:
                out.warning(f"{source.prefix} {text.problem}")
        return
    follower = logs.Follower(cluster, ns, logs.selector(workload), secrets=secrets)
    try:
        follower.run(window, lambda line: (out.warning if line.notice else out.info)(line.text))
    except KeyboardInterrupt:
        return  # Ctrl-C is how a follow ends


@click.command("report")
@click.option(
    "-o",
    "--output",
    "path",
    metavar="FILE",
    help="Where to write the tar.gz (default: pacdeploy-report-<namespace>-<time>.tar.gz).",
)
@pass_settings
def report_command(settings: Settings, path: str | None) -> None:
    """A support bundle (tar.gz): status, Events, pods, logs, revisions, backups, versions,
    nodes; no secret value in it."""
    import os
    from datetime import UTC, datetime

    from pacdeploy.app import deployed
    from pacdeploy.diagnose import report
    from pacdeploy.wait.logs import secret_values

    ns = settings.namespace
    top = f"pacdeploy-report-{ns}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    path = path or f"{top}.tar.gz"
    if os.path.exists(path):
        raise InvalidInput(f"{path} exists", "Pass -o with another file name, or remove it")
    settings.open_ahead(rounds.REPORT)
    cluster = settings.cluster()
    deployed.get(cluster, "StatefulSet", STATEFULSET, namespace=ns)  # no app: nothing to report on
    # Read first: no bundle if they cannot be masked.
    secrets = report.secret_only(secret_values(cluster, ns), ns)
    gathered = report.gather(cluster, ns)
    names = report.write(gathered, path, top=top, secrets=secrets)
    for problem in gathered.problems:
        settings.out.warning(f"not in the report: {problem}")
    settings.out.info(f"report written to {path} ({len(names)} files)")
