"""Every request goes through here: history row first, then the signed call.

The app sends with `send()`, one-shot commands with `send_sync()` (the same
logic around the blocking driver), so neither can forget to
record a request, and a request can never leave without its pending row. If
the history cannot be written first, nothing is sent; if it cannot be completed
after, the result still reaches the operator, with a warning.
"""

from __future__ import annotations

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
) -> Outcome:
    """Record, send, record. `on_start` sees the outcome as soon as its row exists, so a
    caller that is interrupted still knows what was on its way (the error is set on it)."""
    with _recorded(client, history, action, profile, on_start) as outcome:
        outcome.result = await client.call(action, on_send=outcome.sent.append)
    return outcome


def send_sync(
    client: SyncGmeClient,
    history: History,
    action: Action,
    *,
    profile: str,
    on_start: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """`send` for the blocking driver (one-shot commands): the same rows, the same outcomes;
    a Ctrl+C (KeyboardInterrupt) while waiting reads as an outcome unknown."""
    with _recorded(client, history, action, profile, on_start) as outcome:
        outcome.result = client.call(action, on_send=outcome.sent.append)
    return outcome


@contextmanager
def _recorded(
    client: GmeClient | SyncGmeClient,
    history: History,
    action: Action,
    profile: str,
    on_start: Callable[[Outcome], None] | None,
) -> Iterator[Outcome]:
    """The history around one call, for both drivers: the row first (nothing is sent without
    it), then the call in the `with` body; its GmeError becomes the outcome's error."""
    try:
        row_id = history.begin(
            action=action.name,
            profile=profile,
            endpoint=client.endpoint,
            region=client.region,
            params=action.params(),
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
    try:
        history.finish(outcome.row_id, duration_ms=outcome.duration_ms, **outcome.columns())
    except (sqlite3.Error, OSError) as failure:
        outcome.history_error = f"the history row {outcome.row_id} could not be completed ({failure})"
