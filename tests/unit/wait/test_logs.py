"""The log line a wait quotes: secrets redacted, blanks and control characters gone."""

from pacdeploy.wait import logs


def test_redaction_removes_secret_values_and_url_passwords():
    line = "Failed: mongodb://pacman:s3cr3t-Value_x@mongo:27017/pacman and s3cr3t-Value_x"
    assert logs.redact(line, ["s3cr3t-Value_x"]) == (
        "Failed: mongodb://pacman:***@mongo:27017/pacman and ***"
    )
    # Even a password the Secret does not hold (someone else's URL) is hidden.
    assert logs.redact("mongodb://u:other@h/db", []) == "mongodb://u:***@h/db"


def test_last_log_line_skips_blanks_and_strips_control_characters():
    log = "starting\nERROR \x1b[31mcannot write /opt/bitnami/mongodb/conf\x1b[0m\n\n"
    assert logs.last_log_line(log, []) == "ERROR [31mcannot write /opt/bitnami/mongodb/conf[0m"
    assert logs.last_log_line("\n \n", []) is None
