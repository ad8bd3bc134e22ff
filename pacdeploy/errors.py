"""Errors a user can act on, each with its own exit code (documented in the README)."""

from __future__ import annotations


class PacdeployError(Exception):
    """An expected failure: printed as one line, never as a traceback."""

    exit_code = 1

    def __init__(self, problem: str, fix: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem}. {self.fix}" if self.fix else self.problem


class InvalidInput(PacdeployError):
    exit_code = 2


class ClusterUnreachable(PacdeployError):
    exit_code = 3


class PermissionDenied(PacdeployError):
    exit_code = 4


class Conflict(PacdeployError):
    exit_code = 5


class NotReady(PacdeployError):
    exit_code = 6


class NotFound(PacdeployError):
    exit_code = 7


class SandboxError(PacdeployError):
    exit_code = 8


class WatchExpired(PacdeployError):
    """A watch's resourceVersion is gone (410) or its stream broke: list again, then watch."""


EXIT_INTERRUPTED = 130
