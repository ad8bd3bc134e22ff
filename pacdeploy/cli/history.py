"""`pacdeploy history` and `rollback`: the revisions `up` recorded, and going back to one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pacdeploy.cli import rounds
from pacdeploy.cli.settings import (
    OUTPUT,
    TIMEOUT,
    Settings,
    confirm,
    pass_settings,
    report_changes,
    require_confirmation,
)

if TYPE_CHECKING:
    from pacdeploy.data.revisions import Revision

WITH_DATA = "--with-data replaces the high scores"


@click.command()
@OUTPUT
@pass_settings
def history(settings: Settings, fmt: str) -> None:
    """The revisions `up` recorded: what changed, how it ended, the backup taken first."""
    from pacdeploy.data import revisions

    found = revisions.read(settings.cluster(), settings.namespace)
    if fmt != "table":
        settings.out.data(revisions.documents(found), fmt)
    elif not found:
        settings.out.info(f"no revisions recorded in namespace {settings.namespace}")
    else:
        shown = revisions.shown_status(found)
        rows = [
            (
                str(r.number),
                r.time,
                shown[r.number],
                r.backup or "-",
                _images(r),
                revisions.summary(r.change),
            )
            for r in found
        ]
        settings.out.table(("revision", "updated", "status", "backup", "images", "change"), rows)


def _images(revision: Revision) -> str:
    """Each container's digest, short (`mongo@sha256:1a2b3c4d5e6f`); `-` before they ran."""
    ran = revision.images
    return ", ".join(f"{c}@{ran[c].rsplit('@', 1)[1][:19]}" for c in sorted(ran)) or "-"


@click.command("rollback")
@click.argument("revision", type=click.IntRange(min=1), required=False)
@click.option("--with-data", is_flag=True, help="Also restore the backup taken with that revision.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --with-data.")
@TIMEOUT
@pass_settings
def rollback_command(
    settings: Settings, *, revision: int | None, with_data: bool, yes: bool, timeout: float
) -> None:
    """Re-apply REVISION (default: the one before the live one) as a new revision."""
    if with_data:
        require_confirmation(yes, WITH_DATA)
    settings.open_ahead(rounds.UP)
    from pacdeploy.data import revisions
    from pacdeploy.release import rollback

    cluster = settings.cluster()
    target = rollback.target(
        revisions.read(cluster, settings.namespace), revision, settings.namespace
    )
    if with_data:
        confirm(
            yes,
            f"Roll back to revision {target.number} and replace MongoDB's data with the "
            "newest backup of that revision?",
            WITH_DATA,
        )
    result = rollback.rollback(
        cluster,
        settings.namespace,
        target,
        with_data=with_data,
        timeout=timeout,
        out=settings.out,
    )
    report_changes(settings.out, result.changes)
    done = f"as revision {result.revision.number}" if result.revision else "(nothing changed)"
    settings.out.info(f"rolled back to revision {target.number} {done}")
