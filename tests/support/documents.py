"""The app's documents on the sandbox: files in mongo-0's volume that the mongod stand-in
keeps, a collection a file; and the scores the tests write there."""

from __future__ import annotations

import json
from pathlib import Path

from pacdeploy.sandbox.mongo_tools import STORE
from tests.support.volumes import volume_dir

SCORES = {
    "highscore": [
        {"_id": 1, "name": "ada", "score": 3120, "level": 2},
        {"_id": 2, "name": "bob", "score": 870, "level": 1},
        {"_id": 3, "name": "cy", "score": 12400, "level": 5},
    ],
    "userstats": [{"_id": "pacman-0", "games": 7}],
}


def store(cluster, namespace: str) -> Path:
    """Where the sandbox's mongod keeps the app's documents: in mongo-0's volume."""
    return volume_dir(cluster, namespace) / STORE / "pacman"


def write_documents(cluster, namespace: str, collections: dict[str, list[dict]]) -> None:
    directory = store(cluster, namespace)
    directory.mkdir(parents=True, exist_ok=True)
    for name, documents in collections.items():
        lines = "".join(json.dumps(d) + "\n" for d in documents)
        (directory / f"{name}.jsonl").write_text(lines)


def documents(cluster, namespace: str) -> dict[str, list[dict]]:
    return {
        path.stem: [json.loads(line) for line in path.read_text().splitlines()]
        for path in sorted(store(cluster, namespace).glob("*.jsonl"))
    }
