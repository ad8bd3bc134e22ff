"""Scenarios: which files are read, how each is decoded, how they are merged."""

from __future__ import annotations

import json

from tests.parity.kubeconfigs import TOKEN, config, home_config, other, single, text_config, tls
from tests.parity.runner import Scenario
from tests.parity.world import Case

LOADER = "tools/clientcmd/loader_test.go"
CLIENT = "tools/clientcmd/client_config_test.go"
VALID = "tools/clientcmd/validation_test.go"
HAND = "hand-written"


def _two_files(case: Case, first: dict, second: dict) -> None:
    a, b = case.write("a/config", first), case.write("b/config", second)
    case.env["KUBECONFIG"] = f"{a}:{b}"


def precedence_env(case: Case) -> None:
    home_config(case, single(other(case), {"token": "home"}))
    case.env["KUBECONFIG"] = str(case.write("env/config", single(tls(case), TOKEN)))


def precedence_flag(case: Case) -> None:
    case.env["KUBECONFIG"] = str(case.write("env/config", single(other(case), {"token": "env"})))
    case.args += ["--kubeconfig", str(case.write("flag/config", single(tls(case), TOKEN)))]


def current_context_first_wins(case: Case) -> None:
    first = config(
        {"a": tls(case)}, {"u": TOKEN}, {"a": {"cluster": "a", "user": "u"}}, current="a"
    )
    second = config(
        {"b": other(case)},
        {"u": {"token": "second"}},
        {"b": {"cluster": "b", "user": "u"}},
        current="b",
    )
    _two_files(case, first, second)


def entry_first_wins(case: Case, section: str) -> None:
    first = single(tls(case), TOKEN)
    second = single(other(case), {"token": "second", "as": "jane"})
    second["current-context"] = ""
    if section == "users":
        second["clusters"] = []
    _two_files(case, first, second)


def empty_current_context_next(case: Case) -> None:
    first = single(tls(case), TOKEN)
    first["current-context"] = ""
    second = config({}, {}, {}, current="c")
    _two_files(case, first, second)


def kubeconfig_list(entries: list[str]) -> object:
    def build(case: Case) -> None:
        case.write("a/config", single(tls(case), TOKEN))
        case.write("dir/.keep", "")
        case.env["KUBECONFIG"] = ":".join(
            str(case.home / e) if e and not e.startswith("~") else e for e in entries
        )

    return build


def relative_env_entry(case: Case) -> None:
    case.write("rel/config", single(tls(case), TOKEN))
    case.env["KUBECONFIG"] = "rel/config"


def relative_ca(case: Case) -> None:
    case.copy("ca-a.crt", "files/certs/ca.crt")
    cluster = {"server": case.world.url("tls"), "certificate-authority": "certs/ca.crt"}
    case.env["KUBECONFIG"] = str(case.write("files/config", single(cluster, TOKEN)))


def tilde_ca(case: Case) -> None:
    case.copy("ca-a.crt", "ca.crt")
    home_config(
        case, single({"server": case.world.url("tls"), "certificate-authority": "~/ca.crt"}, TOKEN)
    )


def tilde_flag(case: Case) -> None:
    case.write("k/config", single(tls(case), TOKEN))
    case.args += ["--kubeconfig", "~/k/config"]


def dotdot_through_symlink(case: Case) -> None:
    """client-go joins ``..`` lexically: link/.. is the link's folder, not the target's parent."""
    case.copy("ca-a.crt", "ca.crt")  # what filepath.Join names: home/link/../ca.crt
    case.copy("ca-b.crt", "real/ca.crt")  # what the operating system would open
    config_file = case.write(
        "real/sub/config",
        single({"server": case.world.url("tls"), "certificate-authority": "../ca.crt"}, TOKEN),
    )
    (case.home / "link").symlink_to(config_file.parent)
    case.env["KUBECONFIG"] = str(case.home / "link" / "config")


def duplicated(section: str, key: str) -> object:
    def build(case: Case) -> None:
        document = single(tls(case), TOKEN)
        document[section].append(dict(document[section][0]))
        home_config(case, document)

    return build


def duplicate_extension(case: Case) -> None:
    document = single(
        tls(case, extensions=[{"name": "x", "extension": {}}, {"name": "x", "extension": {}}]),
        TOKEN,
    )
    home_config(case, document)


def with_top(**top: object) -> object:
    def build(case: Case) -> None:
        document = single(tls(case), TOKEN)
        document.update(top)
        home_config(case, {k: v for k, v in document.items() if v is not None})

    return build


def unused_cluster(body: dict) -> object:
    def build(case: Case) -> None:
        document = single(tls(case), TOKEN)
        document["clusters"].append(body)
        home_config(case, document)

    return build


def json_file(case: Case) -> None:
    home_config(case, json.dumps(single(tls(case), TOKEN)))


def old_home_file(case: Case) -> None:
    case.write(".kube/.kubeconfig", single(tls(case), TOKEN))


FILES = [
    Scenario("old-home-file-is-migrated", f"{LOADER} TestMigratingFile", old_home_file),
    Scenario(
        "old-home-file-ignored-beside-the-new",
        f"{LOADER} TestMigratingFileLeaveExistingFileAlone",
        lambda c: (old_home_file(c), home_config(c, single(other(c), TOKEN))),
    ),
    Scenario("home-config-is-the-default", HAND, lambda c: home_config(c, single(tls(c), TOKEN))),
    Scenario(
        "kubeconfig-env-over-home", f"{LOADER} TestLoadingGetLoadingPrecedence", precedence_env
    ),
    Scenario(
        "kubeconfig-flag-over-env", f"{LOADER} TestLoadingGetLoadingPrecedence", precedence_flag
    ),
    Scenario(
        "kubeconfig-flag-missing-fails",
        f"{LOADER} TestNonExistentCommandLineFile",
        lambda c: c.args.extend(["--kubeconfig", str(c.home / "gone")]),
    ),
    Scenario(
        "env-missing-files-tolerated",
        f"{LOADER} TestToleratingMissingFiles",
        kubeconfig_list(["gone", "a/config", "gone2"]),
    ),
    Scenario(
        "env-all-missing-fails",
        f"{LOADER} TestWarningMissingFiles",
        kubeconfig_list(["gone", "gone2"]),
    ),
    Scenario(
        "env-directory-fails",
        f"{LOADER} TestErrorReadingNonFile",
        kubeconfig_list(["dir", "a/config"]),
    ),
    Scenario(
        "env-duplicates-read-once",
        f"{LOADER} TestDeduplicate",
        kubeconfig_list(["a/config", "a/config"]),
    ),
    Scenario("env-empty-entries-skipped", HAND, kubeconfig_list(["", "a/config", ""])),
    Scenario("env-tilde-not-expanded", HAND, kubeconfig_list(["~/a/config"])),
    Scenario("env-relative-entry-from-cwd", HAND, relative_env_entry),
    Scenario("flag-tilde-not-expanded", HAND, tilde_flag),
    Scenario(
        "first-file-wins-current-context",
        f"{LOADER} TestConflictingCurrentContext",
        current_context_first_wins,
    ),
    Scenario(
        "first-file-wins-user-whole",
        f"{CLIENT} TestMergeSemantics",
        lambda c: entry_first_wins(c, "users"),
    ),
    Scenario(
        "first-file-wins-cluster-whole",
        f"{CLIENT} TestMergeSemantics",
        lambda c: entry_first_wins(c, "clusters"),
    ),
    Scenario("empty-current-context-left-to-next-file", HAND, empty_current_context_next),
    Scenario("relative-ca-from-its-file", f"{LOADER} TestResolveRelativePaths", relative_ca),
    Scenario("tilde-in-ca-path-not-expanded", HAND, tilde_ca),
    Scenario("dotdot-is-lexical-through-symlink", HAND, dotdot_through_symlink),
    Scenario("empty-file-is-empty-config", f"{LOADER} TestLoadingEmptyMaps", text_config("")),
    Scenario("invalid-yaml-fails", f"{LOADER} TestErrorReadingFile", text_config("clusters: [\n")),
    Scenario("not-a-mapping-fails", HAND, text_config("- a\n- b\n")),
    Scenario("json-syntax-accepted", HAND, json_file),
    Scenario(
        "duplicate-cluster-fails",
        f"{LOADER} TestDuplicateClusterName",
        duplicated("clusters", "cluster"),
    ),
    Scenario(
        "duplicate-context-fails",
        f"{LOADER} TestDuplicateContextName",
        duplicated("contexts", "context"),
    ),
    Scenario(
        "duplicate-user-fails", f"{LOADER} TestDuplicateUserName", duplicated("users", "user")
    ),
    Scenario(
        "duplicate-extension-fails", f"{LOADER} TestDuplicateExtensionName", duplicate_extension
    ),
    Scenario("kind-other-than-config-fails", HAND, with_top(kind="Pod")),
    Scenario("apiversion-other-than-v1-fails", HAND, with_top(apiVersion="v2")),
    Scenario(
        "kind-and-apiversion-may-be-absent",
        f"{LOADER} TestEncodeYAML",
        with_top(kind=None, apiVersion=None),
    ),
    Scenario(
        "unknown-fields-ignored", HAND, with_top(surprise={"a": 1}, preferences={"colors": True})
    ),
    Scenario(
        "bad-base64-in-unused-cluster-fails",
        HAND,
        unused_cluster(
            {"name": "x", "cluster": {"server": "https://x", "certificate-authority-data": "%%%"}}
        ),
    ),
    Scenario(
        "unnamed-unused-cluster-accepted",
        HAND,
        unused_cluster({"cluster": {"server": "https://x"}}),
    ),
    Scenario(
        "string-for-a-bool-in-unused-cluster-fails",
        HAND,
        unused_cluster(
            {"name": "x", "cluster": {"server": "https://x", "insecure-skip-tls-verify": "true"}}
        ),
    ),
]
