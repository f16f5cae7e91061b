"""Every request goes through here: history row first, then the signed call.

The app sends with `send()`, one-shot commands with `send_sync()` (the same
logic around the blocking driver), so neither can forget to
record a request, and a request can never leave without its pending row. If
the history cannot be written first, nothing is sent; if it cannot be completed
after, the result still reaches the operator, with a warning.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .api.actions import Action, Result
from .api.errors import GmeError, NotSentError, OutcomeKind, OutcomeUnknownError, ServiceError

if TYPE_CHECKING:  # the client (httpx) loads on the first send, not with the app
    from .api.client import GmeClient, Prepared, SyncGmeClient
    from .history import History
    from .recordings import Change


#: the most of an answer the history keeps, serialized: GME's answers are a few KiB, and a
#: store that copied every huge answer whole would grow without end and read slowly
KEPT_ANSWER = 64 * 1024
#: the key that marks a stored answer as cut (no answer of GME's has a key starting with _)
CUT = "_cut"
CUT_NOTE = "answer too large to keep; cut at 64 KiB"


def kept(response: dict[str, Any] | None) -> dict[str, Any] | None:
    """The answer as the history stores it: whole when small, else a marked shape that
    is still JSON (`was_cut`) with the answer's size and the first of its text."""
    if response is None:
        return None
    text = json.dumps(response, ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode("utf-8"))
    if size <= KEPT_ANSWER:
        return response
    cut: dict[str, Any] = {CUT: True, "_note": CUT_NOTE, "_bytes": size, "_prefix": ""}
    room = KEPT_ANSWER - len(json.dumps(cut))
    prefix = text[:room]
    # The prefix is stored escaped (quotes, control characters): shorten it until it fits.
    while (stored := len(json.dumps(prefix, ensure_ascii=False).encode("utf-8"))) > room:
        prefix = prefix[: min(len(prefix) - 1, len(prefix) * room // stored)]
    cut["_prefix"] = prefix
    return cut


def was_cut(response: dict[str, Any] | None) -> bool:
    """Is this stored answer the marked shape `kept` leaves of one too large to keep?"""
    return response is not None and response.get(CUT) is True


class HistoryUnavailable(Exception):
    """The pending row could not be written, so the request was not sent."""


@dataclass
class Outcome:
    action: Action
    row_id: int
    duration_ms: float = 0.0
    result: Result | None = None
    error: GmeError | None = None
    sent: list[Prepared] = field(default_factory=list)
    #: why the history row could not be completed, if it could not
    history_error: str | None = None
    #: what the answer changed in the recordings gme-tui knows (`recordings.answered`)
    changes: list[Change] = field(default_factory=list)

    @property
    def kind(self) -> OutcomeKind:
        return OutcomeKind.OK if self.error is None else self.error.kind

    @property
    def last_sent(self) -> Prepared | None:
        return self.sent[-1] if self.sent else None

    def columns(self) -> dict[str, Any]:
        """What the answer came to, as the history stores it and the console shows it."""
        result, error = self.result, self.error
        if result is not None:
            return dict(
                outcome=OutcomeKind.OK,
                response=result.raw,
                request_id=result.request_id,
                task_id=result.task_id_value,
            )
        if isinstance(error, ServiceError):
            return dict(
                outcome=OutcomeKind.SERVICE_ERROR,
                response=error.raw,
                request_id=error.request_id,
                error_code=error.code,
                error_message=error.message,
            )
        assert error is not None, "an outcome is finished with a result or an error"
        return dict(outcome=error.kind, error_message=str(error))


async def send(
    client: GmeClient,
    history: History,
    action: Action,
    *,
    profile: str,
    on_start: Callable[[Outcome], None] | None = None,
    purpose: str | None = None,
    spare: int = 0,
    batch: tuple[int, str] | None = None,
) -> Outcome:
    """Record, send, record. `on_start` sees the outcome as soon as its row exists, so a
    caller that is interrupted still knows what was on its way (the error is set on it).
    `purpose`: what the row is marked with (`recordings.CHECK`); `spare`: a background
    call, which leaves that many send slots to the operator (`GmeClient.call`); `batch`:
    the batch and room the request is for (`History.begin`)."""
    with _recorded(client, history, action, profile, on_start, purpose, batch) as outcome:
        outcome.result = await client.call(action, on_send=outcome.sent.append, spare=spare)
    return outcome


def send_sync(
    client: SyncGmeClient,
    history: History,
    action: Action,
    *,
    profile: str,
    on_start: Callable[[Outcome], None] | None = None,
    purpose: str | None = None,
    spare: int = 0,
) -> Outcome:
    """`send` for the blocking driver (one-shot commands): the same rows, the same outcomes;
    a Ctrl+C (KeyboardInterrupt) while waiting reads as an outcome unknown."""
    with _recorded(client, history, action, profile, on_start, purpose, None) as outcome:
        outcome.result = client.call(action, on_send=outcome.sent.append, spare=spare)
    return outcome


@contextmanager
def _recorded(
    client: GmeClient | SyncGmeClient,
    history: History,
    action: Action,
    profile: str,
    on_start: Callable[[Outcome], None] | None,
    purpose: str | None,
    batch: tuple[int, str] | None,
) -> Iterator[Outcome]:
    """The history around one call, for both drivers: the row first (nothing is sent without
    it), then the call in the `with` body; its GmeError becomes the outcome's error."""
    try:
        row_id = history.begin(
            action=action.name,
            profile=profile,
            endpoint=client.scope,
            region=client.region,
            params=action.params(),
            purpose=purpose,
            batch=batch,
        )
    except (sqlite3.Error, OSError) as error:
        raise HistoryUnavailable(f"cannot write the history ({error}); nothing was sent") from error
    outcome = Outcome(action, row_id)
    if on_start is not None:
        on_start(outcome)
    started = time.perf_counter()
    try:
        yield outcome
    except GmeError as error:
        outcome.error = error
    except BaseException:
        # Cancelled, interrupted, or a fault of our own: if a request was on its
        # way the service may have acted; if not, nothing was sent.
        outcome.error = (
            OutcomeUnknownError("interrupted while waiting for the answer")
            if outcome.sent
            else NotSentError("interrupted before sending")
        )
        _finish(history, outcome, started)
        raise
    _finish(history, outcome, started)


def _finish(history: History, outcome: Outcome, started: float) -> None:
    outcome.duration_ms = (time.perf_counter() - started) * 1000
    columns = outcome.columns()
    if (
        "response" in columns
    ):  # the outcome keeps the whole answer (the screen shows it); the row a bounded one
        columns["response"] = kept(columns["response"])
    try:
        outcome.changes = history.finish(outcome.row_id, duration_ms=outcome.duration_ms, **columns)
    except (sqlite3.Error, OSError) as failure:
        outcome.history_error = f"the history row {outcome.row_id} could not be completed ({failure})"
