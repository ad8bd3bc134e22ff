"""What a command did to one object, as every command reports it (``deployment/pacman
configured``). Light on purpose: `scale` reports one without loading `up`'s planner."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Change:
    ref: str
    action: str  # created, configured, unchanged, adopted, scaled, deleted, restored
    # The object as the write returned it (None: nothing written), for waits to start from.
    written: dict[str, Any] | None = field(default=None, compare=False, repr=False)
