"""The words about an outcome, said once for the command line and the console.

What a kind of outcome is called (a heading, a short label for a history
column), what to do next, and how a record mode reads. The console adds only
its keys ("press F3"), the command line only its commands.
"""

from __future__ import annotations

from typing import Literal

from .api.errors import BadAnswerError, NotSentError, OutcomeKind, OutcomeUnknownError, TransportError
from .api.fields import RecordMode

#: what a response is headed with when no usable answer came
HEADINGS: dict[OutcomeKind, str] = {
    OutcomeKind.PENDING: "Pending",
    OutcomeKind.OK: "ok",
    OutcomeKind.SERVICE_ERROR: "Service error",
    OutcomeKind.NOT_STARTED: "Not started",
    # the words each transport error's message starts with ("not sent: ...")
    **{
        error.kind: error.summary.capitalize()
        for error in (NotSentError, BadAnswerError, OutcomeUnknownError, TransportError)
    },
}

_ADVICE: dict[OutcomeKind, str] = {
    OutcomeKind.PENDING: "Waiting for the answer…",
    OutcomeKind.NOT_SENT: "Nothing reached the service; it is safe to retry. Check the endpoint and the network.",
    OutcomeKind.BAD_ANSWER: "The answer was not a valid API response. The service may have acted: "
    "check before retrying.",
    OutcomeKind.UNKNOWN: "The request was sent but no answer came. The service may have acted: "
    "check before retrying.",
    OutcomeKind.TRANSPORT_ERROR: "The request failed on the way.",
    OutcomeKind.NOT_STARTED: "No answer came, and the room's running task, looked up after, is not "
    "from it: the service did not start it. It is safe to start the room again.",
}


def heading(kind: OutcomeKind) -> str:
    return HEADINGS.get(kind, "Failure")


def advice(kind: OutcomeKind, action: str, *, idempotent: bool) -> str | None:
    """What to do next after a call that got no usable answer (None after an answer)."""
    if idempotent and kind.is_transport:
        return f"{action} only reads, so it is safe to retry. Check the endpoint and the network."
    return _ADVICE.get(kind)


def check_by(kind: OutcomeKind, *, idempotent: bool, room: str | None) -> Literal["room", "task"] | None:
    """After a call that may have acted unseen, how to find out: the room's running task
    (DescribeTaskInfo) when the room is known, else the task's recording
    (DescribeRecordInfo); None when there is nothing to check (an answer came, or it
    only read). The command line names the command, the console the key."""
    if idempotent or not kind.may_have_acted:
        return None
    return "room" if room else "task"


def outcome_label(kind: OutcomeKind, error_code: str | None = None, *, damaged: bool = False) -> str:
    """At a glance, for a history column: the service's code for a service error, else the
    kind in words, as the history's text filter reads it ("not sent"); a row the store
    could not read whole says so, so that its empty cells are not taken for the truth."""
    label = error_code if kind is OutcomeKind.SERVICE_ERROR and error_code else str(kind).replace("_", " ")
    return f"{label} (damaged row)" if damaged else label


def mode_text(mode: object) -> str:
    """A record mode by its name (`mixed`); a value this version does not know as it is."""
    if mode is None:
        return ""
    try:
        return RecordMode(mode).short  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return str(mode)


def mode_label(mode: object) -> str:
    """A record mode with what it means, `2 (mixed: one file for the room)`, or `-`."""
    try:
        return RecordMode(mode).label  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return "-"
