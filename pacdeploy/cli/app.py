"""`pacdeploy up`, `diff`, `template`, `scale`, `status` and `down`: the app itself."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from pacdeploy.app.manifests import SERVICE_TYPES, Options
from pacdeploy.cli import rounds
from pacdeploy.cli.settings import (
    OUTPUT,
    TIMEOUT,
    YES,
    Settings,
    confirm,
    pass_settings,
    report_changes,
)

if TYPE_CHECKING:  # loaded by the commands themselves: `--help` stays instant
    from pacdeploy.release.wanted import Wanted

DEFAULTS = Options()
MOVING = "up --stack moves the scores to another MongoDB"


# The options that say what `up` deploys, in the order --help lists them.
_UP_OPTIONS = [
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
    click.option("--replicas", type=int, help="Web replicas (default: 1, or the current count)."),
    click.option(
        "--service-type",
        type=click.Choice(SERVICE_TYPES),
        default=DEFAULTS.service_type,
        show_default=True,
    ),
    click.option(
        "--stack",
        type=click.Choice(["modern", "lesson"]),
        help="Which images: modern (multi-arch, maintained; new installs) or lesson (the "
        "lesson's, amd64 only). Default: the stack the app runs, else modern.",
    ),
    click.option("--pacman-image", metavar="IMAGE", help="Override the web image (pin a digest)."),
    click.option(
        "--mongo-image", metavar="IMAGE", help="Override the MongoDB image (pin a digest)."
    ),
    click.option(
        "--storage-size",
        metavar="SIZE",
        help="Grow each MongoDB volume to SIZE, e.g. 2Gi (the class must allow expansion; "
        "default: the size they have, 1Gi at first).",
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


def up_options(command: Any) -> Any:
    """The options that say what `up` deploys; `diff` takes the same."""
    for option in reversed(_UP_OPTIONS):
        command = option(command)
    return command


def _wanted(settings: Settings, given: dict[str, Any]) -> Wanted:
    """What `up` and `diff` are asked to deploy, checked before any connection is made."""
    from pacdeploy.app.manifests import validate
    from pacdeploy.release.wanted import Wanted

    replicas = given["replicas"]
    options = Options(
        namespace=settings.namespace,
        replicas=1 if replicas is None else replicas,
        service_type=given["service_type"],
        ingress=given["ingress"],
        ingress_host=given["ingress_host"],
        ingress_class=given["ingress_class"],
        pacman_image=given["pacman_image"],
        mongo_image=given["mongo_image"],
        volume_permissions=given["volume_permissions"],
        storage_size=given["storage_size"] or DEFAULTS.storage_size,
        stack=given["stack"] or DEFAULTS.stack,
    )
    validate(options)
    return Wanted(
        options=options,
        storage_class=given["storage_class"],
        keep_default_class=given["keep_default_class"],
        replicas_given=replicas is not None,
        storage_size_given=given["storage_size"] is not None,
        stack_given=given["stack"] is not None,
        force=given["force"],
    )


@click.command("up")
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
@YES
@TIMEOUT
@pass_settings
def up_command(
    settings: Settings,
    /,
    *,
    dry_run: bool,
    snapshot: bool,
    keep_backups: int,
    atomic: bool,
    timeout: float,
    yes: bool,
    **given: Any,
) -> None:
    """Deploy (or update) Pacman and MongoDB, then wait until both are ready."""
    wanted = _wanted(settings, given)
    settings.open_ahead(rounds.UP)
    from pacdeploy.data.moves import state_dir
    from pacdeploy.release import apply, move, rollback, up

    request = up.UpRequest(
        wanted,
        backup_first=snapshot,
        atomic=atomic,
        timeout=timeout,
        keep_backups=keep_backups,
    )
    cluster = settings.cluster()
    if dry_run:
        plan = up.plan_for(cluster, request, settings.out)
        report_changes(settings.out, apply.apply_up(cluster, plan, dry_run=True), dry_run=True)
        return
    moving = move.plan(cluster, request.wanted, state_dir())
    if moving is None:
        result = rollback.up_or_roll_back(cluster, request, settings.out)
    else:
        result = move.run(
            cluster, moving, request, out=settings.out, confirm=lambda q: confirm(yes, q, MOVING)
        )
    report_changes(settings.out, result.changes)
    if result.revision is not None:
        settings.out.info(f"revision {result.revision.number} deployed")
    settings.out.info(f"pacman is ready: `pacdeploy forward -n {settings.namespace}` to play")


@click.command("diff")
@up_options
@click.option(
    "--revision",
    type=click.IntRange(min=1),
    help="Preview `rollback REVISION`: that revision's manifests and options, not these.",
)
@OUTPUT
@pass_settings
def diff_command(settings: Settings, /, fmt: str, revision: int | None, **given: Any) -> None:
    """What `up` with these options would change, field by field (exit 1 if anything)."""
    wanted = _wanted(settings, given)
    settings.open_ahead(rounds.UP)
    from pacdeploy.data import revisions
    from pacdeploy.release import diff, up

    request = up.UpRequest(wanted)
    cluster = settings.cluster()
    manifests = None
    if revision is not None:
        target = revisions.find(
            revisions.read(cluster, settings.namespace), revision, settings.namespace
        )
        request, manifests = up.request_for(target), target.manifests
    found = diff.diff(cluster, up.plan_for(cluster, request, settings.out, manifests=manifests))
    if fmt != "table":
        settings.out.data([d.as_dict() for d in found], fmt)
    else:
        for change in found:
            settings.out.info(f"{change.ref} {change.action}")
            for field_change in change.changes:
                settings.out.info(f"  {field_change.line()}")
        if not found:
            settings.out.info("no changes")
    sys.exit(1 if found else 0)


@click.command("template")
@up_options
@click.option(
    "--with-secret",
    is_flag=True,
    help="Include a freshly generated credentials Secret (a new install only).",
)
@click.option(
    "--validate",
    is_flag=True,
    help="Plan against the cluster as `up` would now (current replicas, volume size).",
)
@click.option(
    "-o", "--output", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@pass_settings
def template_command(
    settings: Settings, /, *, with_secret: bool, validate: bool, fmt: str, **given: Any
) -> None:
    """The manifests `up` would apply, for `kubectl apply --server-side -f -`, Argo CD or Flux."""
    wanted = _wanted(settings, given)
    if validate:
        settings.open_ahead(rounds.UP)
    from pacdeploy.release import template

    if validate:
        objects = template.planned(settings.cluster(), wanted, settings.out)
    else:
        objects = template.offline(wanted)
    note = None if with_secret else template.SECRET_NOTE
    if with_secret:
        objects = template.with_secret(objects, settings.namespace)
    else:
        settings.out.warning(template.SECRET_NOTE)
    if fmt == "json":
        settings.out.data(template.as_list(objects), fmt)
    else:
        sys.stdout.write(template.as_yaml(objects, note))


@click.command("scale")
@click.option("--replicas", type=int, required=True, help="Web replicas (0-100).")
@TIMEOUT
@pass_settings
def scale_command(settings: Settings, replicas: int, timeout: float) -> None:
    """Scale the web Deployment and wait for the rollout."""
    from pacdeploy.app.manifests import validate_replicas

    validate_replicas(replicas)
    settings.open_ahead(rounds.SCALE)
    from pacdeploy.release import scale

    cluster = settings.cluster()
    change = scale.scale(cluster, settings.namespace, replicas, timeout=timeout, out=settings.out)
    settings.out.info(f"{change.ref} {change.action} to {replicas}")


@click.command()
@OUTPUT
@pass_settings
def status(settings: Settings, fmt: str) -> None:
    """Show the app: workloads, pods, volumes, services, ingress, default StorageClass."""
    settings.open_ahead(rounds.STATUS)
    from pacdeploy.status.collect import collect
    from pacdeploy.status.outline import outline

    doc = collect(settings.cluster(), settings.namespace)
    if fmt == "table":
        settings.out.tree(outline(doc))
    else:
        settings.out.data(doc, fmt)


@click.command("down")
@click.option(
    "--purge",
    is_flag=True,
    help="Also delete the namespace with its data, and restore the default class.",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --purge.")
@TIMEOUT
@pass_settings
def down_command(settings: Settings, *, purge: bool, yes: bool, timeout: float) -> None:
    """Remove the app; keeps the Secret and volumes unless --purge."""
    if purge:
        confirm(
            yes,
            f"Delete namespace {settings.namespace} with its volumes and credentials?",
            "--purge deletes the high scores",
        )
    settings.open_ahead(rounds.UP)
    from pacdeploy.release.down import down

    cluster = settings.cluster()
    changes = down(cluster, settings.namespace, purge=purge, timeout=timeout, out=settings.out)
    report_changes(settings.out, changes)
    if not changes:
        settings.out.info(f"nothing to remove in namespace {settings.namespace}")
