"""What the user asked `up` (and `diff`, `template`) to deploy, checked before the command
connects: it loads nothing but the app's options, so the connections open first."""

from __future__ import annotations

from dataclasses import dataclass

from pacdeploy.app.manifests import Options


@dataclass(frozen=True)
class Wanted:
    """What the user asked to deploy: the options `up` and `diff` share."""

    options: Options
    storage_class: str
    keep_default_class: bool = False
    replicas_given: bool = True  # False: keep the count `scale` set
    storage_size_given: bool = False  # False: keep the size mongo's volumes have
    stack_given: bool = False  # False: keep the stack whose MongoDB wrote the data here
    force: bool = False  # take over objects of the same name not made by pacdeploy
