"""A backup as `backup list` shows it: its snapshots, its state, why it was taken. Its own
module, below both backups.py (which reads and takes backups) and retention.py (which
decides which to prune), so neither imports the other for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Backup:
    name: str
    created: str
    size: str
    ready: bool
    revision: int | None
    snapshots: tuple[str, ...]
    reason: str | None = None  # why it was taken automatically; None: asked for
    deleting: bool = False  # `backup delete` is under way

    @property
    def state(self) -> str:
        return "deleting" if self.deleting else "true" if self.ready else "false"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created": self.created,
            "size": self.size,
            "ready": self.ready,
            "revision": self.revision,
            "automatic": self.reason,
            "deleting": self.deleting,
            "snapshots": list(self.snapshots),
        }
