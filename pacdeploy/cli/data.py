"""`pacdeploy backup create|list|delete|prune` and `restore`: the high scores, kept."""

from __future__ import annotations

from pathlib import Path

import click

from pacdeploy.cli.settings import (
    OUTPUT,
    SHORT_TIMEOUT,
    TIMEOUT,
    YES,
    Duration,
    Settings,
    confirm,
    pass_settings,
    require_confirmation,
)
from pacdeploy.errors import InvalidInput

PRUNING = "backup prune deletes backups"
RESTORING = "restore replaces the high scores"
IMPORTING = "backup import replaces the high scores"


@click.group()
def backup() -> None:
    """CSI VolumeSnapshots of MongoDB's volumes: the high scores, kept."""


@backup.command("create")
@click.argument("name", required=False)
@click.option(
    "--snapshot-class",
    metavar="NAME",
    help="VolumeSnapshotClass (default: the volumes' driver's default class).",
)
@click.option(
    "--no-lock",
    is_flag=True,
    help="Do not hold mongo's writes (db.fsyncLock) while snapshotting: crash-consistent.",
)
@SHORT_TIMEOUT
@pass_settings
def backup_create(
    settings: Settings,
    *,
    name: str | None,
    snapshot_class: str | None,
    no_lock: bool,
    timeout: float,
) -> None:
    """Snapshot every MongoDB volume as backup NAME (default: backup-<UTC time>)."""
    from pacdeploy.data import backups, revisions

    name = name or backups.default_name()
    backups.validate_name(name)
    cluster = settings.cluster()
    live = revisions.live(revisions.read(cluster, settings.namespace))
    request = backups.BackupRequest(
        namespace=settings.namespace,
        name=name,
        timeout=timeout,
        snapshot_class=snapshot_class,
        revision=live.number if live else None,
        lock=not no_lock,
    )
    taken = backups.create(cluster, request, settings.out)
    settings.out.info(f"backup {taken.name} ready ({taken.size})")


@backup.command("list")
@OUTPUT
@pass_settings
def backup_list(settings: Settings, fmt: str) -> None:
    """The backups of the namespace: name, time, size, ready, revision."""
    from pacdeploy.data import backups

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
@SHORT_TIMEOUT
@pass_settings
def backup_delete(settings: Settings, name: str, timeout: float) -> None:
    """Delete backup NAME and wait until its snapshots and their data are gone."""
    from pacdeploy.data import backups

    for snapshot in backups.delete(
        settings.cluster(), settings.namespace, name, timeout=timeout, out=settings.out
    ):
        settings.out.info(f"volumesnapshot/{snapshot} deleted")


@backup.command("prune")
@click.option("--keep", type=click.IntRange(0, 1000), required=True, help="Newest backups kept.")
@click.option("--older-than", type=Duration(), help="Only delete backups older than this.")
@YES
@SHORT_TIMEOUT
@pass_settings
def backup_prune(
    settings: Settings, *, keep: int, older_than: float | None, yes: bool, timeout: float
) -> None:
    """Delete all but the newest KEEP backups, named ones too (--older-than: only older)."""
    from pacdeploy.data import backups, retention

    require_confirmation(yes, PRUNING)
    cluster = settings.cluster()
    doomed = retention.to_prune(
        backups.list_backups(cluster, settings.namespace),
        keep=keep,
        older_than=older_than,
        automatic_only=False,
    )
    if not doomed:
        settings.out.info("nothing to prune")
        return
    confirm(yes, f"Delete backup(s) {', '.join(b.name for b in doomed)}?", PRUNING)
    for found in doomed:
        backups.delete(cluster, settings.namespace, found.name, timeout=timeout, out=settings.out)
        settings.out.info(f"backup {found.name} deleted")


@backup.command("export")
@click.option(
    "-o",
    "--output-file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the archive (mongodump --archive).",
)
@pass_settings
def backup_export(settings: Settings, path: Path) -> None:
    """The app's database, live, as a mongodump archive on this machine's disk (any MongoDB
    version, namespace or cluster can import it)."""
    from pacdeploy.data import archives

    found = archives.export(settings.cluster(), settings.namespace, path)
    settings.out.info(f"exported {found.describe()} from pod {found.pod} to {path}")


@backup.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@YES
@pass_settings
def backup_import(settings: Settings, path: Path, yes: bool) -> None:
    """Replace the app's database by the archive PATH (from `backup export`, or mongodump)."""
    from pacdeploy.data import archives

    require_confirmation(yes, IMPORTING)
    if not path.is_file():
        raise InvalidInput(f"no archive file {path}")
    ns = settings.namespace
    confirm(yes, f"Replace the high scores in namespace {ns} by those in {path}?", IMPORTING)
    pod, count = archives.import_(settings.cluster(), ns, path)
    settings.out.info(f"imported {count} documents from {path} into pod {pod}")


@click.command("restore")
@click.argument("name", required=False)
@click.option("--undo", is_flag=True, help="Go back to the volumes the last restore replaced.")
@YES
@TIMEOUT
@pass_settings
def restore_command(
    settings: Settings, *, name: str | None, undo: bool, yes: bool, timeout: float
) -> None:
    """Put MongoDB's data back to backup NAME (the current data is kept until it works)."""
    from pacdeploy.restore import plan, run

    if (name is None) == (not undo):
        raise InvalidInput("give a backup NAME or --undo (not both)", "See `pacdeploy backup list`")
    require_confirmation(yes, RESTORING)
    cluster = settings.cluster()
    restore_plan = plan.plan(cluster, settings.namespace, None if undo else name)
    run.run(
        cluster,
        restore_plan,
        timeout=timeout,
        out=settings.out,
        confirm=lambda question: confirm(yes, question, RESTORING),
    )
    settings.out.info(f"mongo is ready on the data from {restore_plan.source}")
