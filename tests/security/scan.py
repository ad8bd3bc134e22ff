"""checkov over every option combination `up` can render, against a checked-in skip list.

    python -m tests.security.scan CHECKOV

Every check checkov fails must be listed in skips.yaml for that object, with its reason
(the image's source, or the lesson's published tag); a listed skip that no longer fails is
an error too, so the list cannot grow or go stale without someone saying why.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from pacdeploy.app.credentials import new_secret
from pacdeploy.app.manifests import SERVICE_TYPES, Options, render
from pacdeploy.app.stacks import STACKS

SKIPS = Path(__file__).with_name("skips.yaml")


def combinations() -> list[Options]:
    """Each option that changes what is rendered, in every combination, for each stack."""
    return [
        Options(stack=stack, service_type=kind, ingress=ingress, volume_permissions=permissions)
        for stack, kind, ingress, permissions in itertools.product(
            STACKS, SERVICE_TYPES, (False, True), (False, True)
        )
    ]


def name_of(options: Options) -> str:
    ingress = "ingress" if options.ingress else "no-ingress"
    permissions = "volume-permissions" if options.volume_permissions else "plain"
    return f"{options.stack}-{options.service_type}-{ingress}-{permissions}"


def allowed() -> dict[tuple[str, str, str], str]:
    """(stack, check id, Kind/name) -> the reason it may fail (an entry without `stacks`
    holds for every stack)."""
    found = {}
    for entry in yaml.safe_load(SKIPS.read_text()):
        reason = str(entry.get("reason") or "").strip()
        if not reason:
            raise SystemExit(f"{SKIPS}: {entry['check']} has no reason")
        for stack in entry.get("stacks") or list(STACKS):
            for resource in entry["resources"]:
                found[(stack, entry["check"], resource)] = reason
    return found


def _stack_of(check: dict[str, str]) -> str:
    """The stack of the rendering a failed check came from (its file's name says it)."""
    return Path(check["file_path"]).name.split("-", 1)[0]


def _resource(checkov_resource: str) -> str:
    """checkov's 'StatefulSet.pacman.mongo' as 'StatefulSet/mongo' (Pods: 'Pod/mongo')."""
    kind, _namespace, name = checkov_resource.split(".", 2)
    return f"{kind}/{name.split('.', 1)[0]}"


def main() -> int:
    checkov = sys.argv[1]
    with tempfile.TemporaryDirectory() as folder:
        for options in combinations():
            objects = [*render(options), new_secret(options.namespace)]
            (Path(folder) / f"{name_of(options)}.yaml").write_text(yaml.safe_dump_all(objects))
        done = subprocess.run(
            [checkov, "-d", folder, "--framework", "kubernetes", "-o", "json", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
        )
    reports = json.loads(done.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    failed = {
        (_stack_of(check), check["check_id"], _resource(check["resource"]))
        for report in reports
        for check in report["results"]["failed_checks"]
    }
    passed = sum(report["summary"]["passed"] for report in reports)
    skips = allowed()
    unexpected = sorted(failed - skips.keys())
    stale = sorted(skips.keys() - failed)
    for stack, check, resource in unexpected:
        print(
            f"checkov: {check} fails on {resource} ({stack}): fix it, or add it to {SKIPS} "
            "with a reason"
        )
    for stack, check, resource in stale:
        print(f"checkov: {check} no longer fails on {resource} ({stack}): remove it from {SKIPS}")
    combos = len(combinations())
    for stack in STACKS:
        known = sorted(f"{c} {r}" for s, c, r in failed if s == stack)
        print(f"checkov {stack}: {len(known)} known failures: {', '.join(known)}")
    print(f"checkov: {combos} renderings, {passed} checks passed, {len(failed)} known failures")
    return 1 if unexpected or stale else 0


if __name__ == "__main__":
    sys.exit(main())
