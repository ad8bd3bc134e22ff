"""An exec's end: the exit code from the status the server sends, success or failure."""

from pacdeploy.kube import podexec


def test_an_exec_succeeds_or_fails_as_its_status_says():
    from pacdeploy.kube.podexec import outcome

    assert outcome({"status": "Success"}, "{ ok: 1 }", "").ok
    assert outcome(None, "", "").ok  # a server that sends no status: the stream just ended
    failed = outcome(
        {"status": "Failure", "message": "command terminated with non-zero exit code: 1"}, "", "x"
    )
    assert not failed.ok and failed.reason.endswith("exit code: 1")


def test_an_exit_code_comes_from_the_status_cause():
    failed = {
        "status": "Failure",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "2"}]},
    }
    assert podexec.exit_code(failed) == 2
    assert podexec.exit_code({"status": "Success"}) == 0 and podexec.exit_code(None) == 0
    assert podexec.exit_code({"status": "Failure", "message": "executable not found"}) == 1
    kwok = "error executing command in container: cmd wait: mongo --eval x: exit status 2"
    assert (
        podexec.exit_code({"status": "Failure", "message": f"Internal error occurred: {kwok}"}) == 2
    )
