"""Every request goes through here: history row first, then the signed call.

The command line and the app both send with `send()`, so neither can forget to
record a request, and a request can never leave without its pending row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .api.actions import Action, Result
from .api.client import GmeClient, Prepared
from .api.errors import GmeError, OutcomeUnknownError, ServiceError
from .history import History


@dataclass
class Outcome:
    action: Action
    row_id: int
    duration_ms: float = 0.0
    result: Result | None = None
    error: GmeError | None = None
    sent: list[Prepared] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "ok" if self.error is None else self.error.kind

    @property
    def last_sent(self) -> Prepared | None:
        return self.sent[-1] if self.sent else None


async def send(client: GmeClient, history: History, action: Action, *, profile: str) -> Outcome:
    row_id = history.begin(action=action.name, profile=profile, endpoint=client.endpoint,
                           region=client.region, params=action.params())
    outcome = Outcome(action, row_id)
    started = time.perf_counter()
    try:
        outcome.result = await client.call(action, on_send=outcome.sent.append)
    except GmeError as error:
        outcome.error = error
    except BaseException:
        # Cancelled or interrupted mid-flight: the service may have acted.
        _finish(history, outcome, started, OutcomeUnknownError("interrupted while waiting for the answer"))
        raise
    _finish(history, outcome, started, outcome.error)
    return outcome


def _finish(history: History, outcome: Outcome, started: float, error: GmeError | None) -> None:
    outcome.duration_ms = (time.perf_counter() - started) * 1000
    if error is None and outcome.result is not None:
        result = outcome.result
        history.finish(outcome.row_id, outcome="ok", duration_ms=outcome.duration_ms,
                       response=result.raw, request_id=result.request_id, task_id=result.task_id_value)
    elif isinstance(error, ServiceError):
        history.finish(outcome.row_id, outcome="service_error", duration_ms=outcome.duration_ms,
                       response=getattr(error, "raw", None), request_id=error.request_id,
                       error_code=error.code, error_message=error.message)
    elif error is not None:
        history.finish(outcome.row_id, outcome=error.kind, duration_ms=outcome.duration_ms,
                       error_message=str(error))
