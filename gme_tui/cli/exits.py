"""The exit codes of every command, and the one exception that stops a command before it sends.

0 ok, 1 cannot run (credentials, data folder), 2 invalid input (nothing sent),
3 service error, 4 transport failure or bad answer, 5 outcome unknown,
6 timed out (`watch --max-wait` ran out before the state was reached),
130 interrupted.
"""

from __future__ import annotations

from ..api.errors import OutcomeKind

EXIT_OK = 0
EXIT_CANNOT_RUN = 1
EXIT_INVALID = 2
EXIT_SERVICE = 3
EXIT_TRANSPORT = 4
EXIT_UNKNOWN = 5
EXIT_TIMED_OUT = 6
EXIT_INTERRUPTED = 130

_EXIT_BY_KIND: dict[OutcomeKind, int] = {
    OutcomeKind.OK: EXIT_OK,
    OutcomeKind.SERVICE_ERROR: EXIT_SERVICE,
    OutcomeKind.NOT_SENT: EXIT_TRANSPORT,
    OutcomeKind.BAD_ANSWER: EXIT_TRANSPORT,
    OutcomeKind.TRANSPORT_ERROR: EXIT_TRANSPORT,
    OutcomeKind.UNKNOWN: EXIT_UNKNOWN,
    OutcomeKind.PENDING: EXIT_UNKNOWN,
    OutcomeKind.NOT_STARTED: EXIT_SERVICE,
}


def exit_for(kind: OutcomeKind) -> int:
    """The exit code that says how a call ended."""
    return _EXIT_BY_KIND.get(kind, EXIT_TRANSPORT)


class CannotRun(Exception):
    """Something outside the request stops us (credentials, data folder): exit 1."""
