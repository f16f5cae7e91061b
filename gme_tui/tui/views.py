"""One shape for "what happened" whether it comes from a call just made or a history row.

The response panel renders a `ResponseView`; it never needs to know whether the
answer is live or read back from the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from ..api.actions import ACTIONS, Action, ResponseShapeError, Result
from ..api.errors import OutcomeKind
from ..calls import Outcome, was_cut
from ..history import Row


@dataclass(frozen=True)
class ResponseView:
    action: str
    kind: OutcomeKind
    params: dict[str, Any]
    response: dict[str, Any] | None = None
    request_id: str | None = None
    task_id: int | None = None
    duration_ms: float | None = None
    error_code: str | None = None
    error_message: str | None = None
    detail: str | None = None
    sent: dict[str, Any] | None = None
    row_id: int | None = None
    history_error: str | None = None
    #: the room the history filed a request under that names only a task (Stop, Modify, ...)
    filed_room: str | None = None

    @property
    def room(self) -> str | None:
        room = self.params.get("RoomId")
        return room if isinstance(room, str) else self.filed_room

    @property
    def idempotent(self) -> bool:
        """Only reads (Describe*): it can be sent again whatever happened to it."""
        action = ACTIONS.get(self.action)
        return action is not None and action.idempotent

    @property
    def biz_id(self) -> int | None:
        biz = self.params.get("BizId")
        return biz if isinstance(biz, int) else None

    def result(self) -> Result | None:
        """The typed result, re-read from the raw answer (for Describe* tables); None for an
        answer the history cut (too large to keep: there is no whole answer to read)."""
        if self.kind is not OutcomeKind.OK or self.response is None or self.action not in ACTIONS:
            return None
        if was_cut(self.response):
            return None
        try:
            return ACTIONS[self.action].parse(self.response)
        except ResponseShapeError:
            return None

    def raw_json(self) -> str:
        if self.response is None:
            return "null"
        return json.dumps({"Response": self.response}, ensure_ascii=False, indent=2)

    def sent_json(self) -> str:
        if self.sent is not None:
            return json.dumps(self.sent, ensure_ascii=False, indent=2)
        return json.dumps(
            {"body": self.params, "note": "headers are not kept in the history"}, ensure_ascii=False, indent=2
        )


def pending_view(action_name: str, params: dict[str, Any]) -> ResponseView:
    return ResponseView(action=action_name, kind=OutcomeKind.PENDING, params=params)


def view_from_outcome(outcome: Outcome, filed_room: str | None = None) -> ResponseView:
    """`filed_room`: the room of the history row (`History.begin` files a request that names
    only a task under its room), so a live answer names the room as its row does."""
    sent = outcome.last_sent.redacted() if outcome.last_sent is not None else None
    common: dict[str, Any] = dict(
        action=outcome.action.name,
        params=outcome.action.params(),
        duration_ms=outcome.duration_ms,
        sent=sent,
        row_id=outcome.row_id,
        history_error=outcome.history_error,
        filed_room=filed_room,
    )
    columns = outcome.columns()
    task = common["params"].get("TaskId")
    if columns.get("task_id") is None and isinstance(task, int):  # Stop, Modify: the task asked about
        columns["task_id"] = task
    kind = columns.pop("outcome")
    if kind.is_transport:  # a transport failure: its message is the detail
        columns["detail"] = columns.pop("error_message")
    return ResponseView(kind=kind, **columns, **common)


def view_after_failure(
    action: Action, outcome: Outcome | None, cause: str, filed_room: str | None = None
) -> ResponseView:
    """A send whose worker ended by an exception or a cancel (`cause` says which): what the
    call had written on the outcome (unknown if a request was on its way, not sent if not),
    with the cause beside it; with no outcome, or one the call never reached, nothing was
    sent. What it says matches the history row `calls.send` finished."""
    if outcome is None or (outcome.result is None and outcome.error is None):
        return ResponseView(
            action=action.name,
            kind=OutcomeKind.NOT_SENT,
            params=action.params(),
            detail=f"not sent: {cause}",
            row_id=outcome.row_id if outcome is not None else None,
        )
    view = view_from_outcome(outcome, filed_room)
    if view.kind.is_transport:
        return replace(view, detail=f"{view.detail} ({cause})")
    # The answer came, then something of ours failed (completing the row, showing it).
    return replace(view, history_error=view.history_error or f"after the answer: {cause}")


def view_from_row(row: Row) -> ResponseView:
    return ResponseView(
        action=row.action,
        kind=row.outcome,
        params=row.params,
        response=row.response,
        request_id=row.request_id,
        task_id=int(row.task_id) if row.task_id else None,
        duration_ms=row.duration_ms,
        error_code=row.error_code,
        error_message=row.error_message,
        detail=row.error_message if row.outcome.is_transport else None,
        row_id=row.id,
        filed_room=row.room_id,
    )
