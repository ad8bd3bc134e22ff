"""The app commands' options and input: `template` takes what `up` takes about what it
deploys, and prints nothing secret unless asked."""

import json

import pytest

from pacdeploy.app.manifests import SECRET
from pacdeploy.cli import app as commands
from pacdeploy.cli import main

# `up`'s own ways of going about a change, not what it deploys.
HOW_UP_GOES = {"dry_run", "snapshot", "keep_backups", "atomic", "timeout", "yes"}


def test_template_takes_every_option_up_takes_about_what_it_deploys():
    up = {p.name for p in commands.up_command.params} - HOW_UP_GOES
    assert up <= {p.name for p in commands.template_command.params}


def test_the_command_prints_nothing_secret_without_with_secret(capsys):
    main(["--kubeconfig", "/nonexistent", "template", "-o", "json", "--replicas", "2"])
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert doc["kind"] == "List"
    assert "Secret" not in [o["kind"] for o in doc["items"]]
    assert SECRET in err


def test_bad_options_are_refused_as_up_refuses_them(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--kubeconfig", "/nonexistent", "template", "--replicas", "101"])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "between 0 and 100" in err
