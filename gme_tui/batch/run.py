"""Running a batch: every room of its plan, at the service's full rate, never a duplicate.

The plan is in the store (`batch.record`), so one function serves a first run and a
resume: each room is judged by its latest row (`state_of`). A room already ok is
left alone; one never sent, or refused by the service, is sent; one whose outcome is
unknown (cut short, timed out, its process killed) is first looked up with
DescribeTaskInfo, never sent again on its own: a running task found makes it ok
(the reconcile of `recordings`), none found makes it "not started", and only then
is it sent. The look waits until its start is `tracking.SETTLE_AFTER` old, for a
slow service may still act on it.

The pace is the client's limiter's, shared with every other request of this machine;
this only keeps `WORKERS` rooms in flight. RequestLimitExceeded means the service did
not act: that room waits and goes again. ResourceInUse.TaskInUse means the room
already records: its task is looked up and kept, and the room counts as ok.

Everything goes through `calls.send`, so each request has its history row, tagged
with the batch and written before it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import calls, tracking
from ..api import fields
from ..api.actions import Action, DescribeTaskInfo, TaskInfoResult
from ..api.errors import OutcomeKind, ServiceError, explain
from ..api.fields import ALLOW, BLOCK, RecordMode, Subscription
from ..calls import HistoryUnavailable, Outcome
from ..recordings import NOT_FOUND
from .record import Batch, PlannedRoom

if TYPE_CHECKING:
    from ..api.client import GmeClient
    from ..history import History, Row

#: rooms in flight at once: the limiter lets 20 go per round trip, so more would only wait
WORKERS = 20
#: times a room is sent again after RequestLimitExceeded before it counts as failed
LIMIT_RETRIES = 5
IN_USE = "ResourceInUse.TaskInUse"

#: a room's state, as counted and shown
OK, FAILED, UNKNOWN, TO_SEND = "ok", "failed", "unknown", "to send"
STATES = (OK, FAILED, UNKNOWN, TO_SEND)


@dataclass(frozen=True)
class RoomState:
    """Where one room of a batch stands."""

    line: int
    room: str
    state: str
    task_id: int | None = None
    #: the outcome of its latest request (None: never sent), its error code and what to do
    outcome: OutcomeKind | None = None
    code: str | None = None
    next_step: str | None = None
    #: how it got there, in words ("already recording", "reconciled: ...", "interrupted")
    note: str = ""
    row_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "room": self.room,
            "state": self.state,
            "task_id": self.task_id,
            "outcome": self.outcome.value if self.outcome else None,
            "code": self.code,
            "next_step": self.next_step,
            "note": self.note,
            "row": self.row_id,
        }


#: what a StartRecord's row can say for sure: its start did not reach the service, or it did
_SURE = (OutcomeKind.OK, OutcomeKind.SERVICE_ERROR, OutcomeKind.NOT_SENT, OutcomeKind.NOT_STARTED)


def state_of(batch: Batch, planned: PlannedRoom, row: Row | None) -> RoomState:
    """A room judged by its latest own row. Whatever cannot be read for sure (an outcome
    unknown, a bad answer, a damaged row, a row that went missing) is unknown: for a start,
    looked up before anything is sent; a stop or a modify is sent again (twice is harmless)."""
    # Every state of this room: its line, its name and its row, with what is said of it.
    room = functools.partial(RoomState, planned.line, planned.room_id, row_id=planned.row_id)
    if planned.note is not None:  # settled beside its row: already recording, nothing to stop
        return room(OK, planned.task_id, row.outcome if row else None, note=planned.note)
    if row is None:
        return room(UNKNOWN, note="its stored row is missing or broken") if planned.lost else room(TO_SEND)
    task = int(row.task_id) if row.task_id else None
    note = row.note or ""
    if row.damaged or row.outcome not in _SURE:
        why = note or ("its stored row is damaged: " + ", ".join(row.damaged) if row.damaged else "")
        return room(UNKNOWN, outcome=row.outcome, note=why)
    if row.outcome is OutcomeKind.OK:
        return room(OK, task, row.outcome, note=note)
    if row.outcome is OutcomeKind.NOT_STARTED:
        return room(TO_SEND, outcome=row.outcome, note=note)
    code = row.error_code
    return room(
        FAILED,
        outcome=row.outcome,
        code=code,
        next_step=explain(code).next_step if code else _next_step(row.outcome),
        note=note or (row.error_message or ""),
    )


def _next_step(kind: OutcomeKind) -> str:
    if kind is OutcomeKind.NOT_SENT:
        return "Check the endpoint and the network, then resume the batch."
    return "Resume the batch: the room is looked up before anything is sent again."


def room_states(history: History, batch: Batch) -> list[RoomState]:
    return [state_of(batch, planned, row) for planned, row in history.batch_rooms(batch.id)]


def elsewhere(batch: Batch, endpoint: str, profile: str, region: str | None) -> str | None:
    """Why an action on this batch may not go from here (None: it may): a batch's every
    request goes to the endpoint, as the profile, in the region it ran with, and nowhere else."""
    if (batch.endpoint, batch.profile) != (endpoint, profile):
        return f"batch {batch.id} ran on {batch.endpoint} as profile {batch.profile}, not on {endpoint} as {profile}"
    if batch.region != region:
        return f"batch {batch.id} ran in region {batch.region or '(none)'}, not {region or '(none)'}"
    return None


def stop_plan(history: History, started: Batch) -> list[tuple[int, str, dict[str, Any]]]:
    """A stop batch's plan for the recordings a start batch started: each room ok with its TaskId."""
    return [
        (s.line, s.room, {"TaskId": s.task_id})
        for s in room_states(history, started)
        if s.state == OK and s.task_id is not None
    ]


def new_stop_batch(history: History, started: Batch, plan: list[tuple[int, str, dict[str, Any]]]) -> Batch:
    """The stop batch of `stop_plan`, written whole before anything is sent, aimed where
    `started` ran."""
    batch_id = history.new_batch(
        kind="stop", source=f"batch {started.id}", endpoint=started.endpoint, profile=started.profile,
        region=started.region, biz_id=started.biz_id, rooms=plan,
    )  # fmt: skip
    batch = history.batch(batch_id)
    assert batch is not None, "just written"
    return batch


def counts(states: list[RoomState]) -> dict[str, int]:
    found = dict.fromkeys(STATES, 0)
    for state in states:
        found[state.state] += 1
    return found


@dataclass
class Summary:
    batch: Batch
    states: list[RoomState]
    elapsed: float
    #: requests this run sent for the batch's own action, and how many the service refused
    #: for the rate (each sent again)
    sent: int = 0
    limited: int = 0
    stopped: bool = False
    #: rooms ok before this run began (a resume leaves them alone)
    already: int = 0
    #: why the run ended before its rooms did (the history could not be written)
    fault: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = counts(self.states)

    @property
    def rate(self) -> float:
        """The batch's own requests per second this run achieved."""
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def failed(self) -> list[RoomState]:
        return [s for s in self.states if s.state == FAILED]

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": True,
            "batch": self.batch.id,
            "kind": self.batch.kind,
            "endpoint": self.batch.endpoint,
            "profile": self.batch.profile,
            "rooms": len(self.states),
            "counts": self.counts,
            "failed": [s.to_json() for s in self.failed],
            "elapsed_s": round(self.elapsed, 3),
            "sent": self.sent,
            "rate_per_s": round(self.rate, 2),
            "request_limit_exceeded": self.limited,
            "stopped": self.stopped,
            "already_ok": self.already,
            "fault": self.fault,
        }


def planned_fields(mode: RecordMode | None, subscription: Subscription | None) -> dict[str, Any]:
    """What the plan keeps of a checked room beyond its RoomId (`record.PlannedRoom.fields`)."""
    fields: dict[str, Any] = {}
    if mode is not None:
        fields["RecordMode"] = int(mode)
    if subscription is not None:
        if subscription.allow:
            fields[ALLOW] = list(subscription.allow)
        if subscription.block:
            fields[BLOCK] = list(subscription.block)
    return fields


class BatchBusy(Exception):
    """Another process runs this batch now: two runs would both send the rooms not yet sent."""


class Runner:
    """One run of one batch, through one client (the batch's endpoint and profile)."""

    def __init__(
        self,
        client: GmeClient,
        history: History,
        batch: Batch,
        *,
        on_room: Callable[[RoomState], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
        stop: asyncio.Event | None = None,
        workers: int = WORKERS,
    ) -> None:
        self.client, self.history, self.batch = client, history, batch
        self.on_room = on_room or (lambda state: None)
        self.on_wait = on_wait or (lambda words: None)
        self.stop = stop or asyncio.Event()
        self.workers = workers
        self.sent = 0
        self.limited = 0
        self.fault: str | None = None
        #: rooms this run could not act on, with why (a failed lookup, a broken plan)
        self._failed: dict[str, RoomState] = {}

    async def run(self) -> Summary:
        """The batch's rooms, sent; BatchBusy (nothing sent) while another process runs it."""
        busy = self.history.claim_batch(self.batch.id)
        if busy is not None:
            raise BatchBusy(f"{busy}; nothing was sent")
        try:
            return await self._run()
        finally:
            with contextlib.suppress(sqlite3.Error, OSError):
                self.history.release_batch(self.batch.id)

    async def _run(self) -> Summary:
        started = time.perf_counter()
        rooms = {planned.room_id: (planned, row) for planned, row in self.history.batch_rooms(self.batch.id)}
        first = {room: state_of(self.batch, *pair) for room, pair in rooms.items()}
        unknown = [room for room, state in first.items() if state.state == UNKNOWN]
        if unknown and self.batch.kind == "start":
            await self._reconcile(unknown, rooms)
            rooms.update((p.room_id, (p, r)) for p, r in self.history.batch_rooms(self.batch.id, unknown))
        queue: asyncio.Queue[PlannedRoom] = asyncio.Queue()
        already = 0
        for planned, row in rooms.values():
            state = state_of(self.batch, planned, row)
            again = state.state == UNKNOWN and self.batch.kind != "start"  # a stop or modify: harmless twice
            if state.state in (TO_SEND, FAILED) or again:
                queue.put_nowait(planned)
            elif state.state == OK and planned.room_id not in unknown:
                already += 1  # ok before this run: left alone, and not told again room by room
            else:
                self.on_room(state)
        await asyncio.gather(*(self._worker(queue) for _ in range(min(self.workers, max(queue.qsize(), 1)))))
        final = [self._failed.get(state.room, state) for state in room_states(self.history, self.batch)]
        summary = Summary(
            self.batch,
            final,
            time.perf_counter() - started,
            self.sent,
            self.limited,
            self.stop.is_set(),
            already,
        )
        summary.fault = self.fault
        return summary

    def _state(self, planned: PlannedRoom) -> RoomState:
        """The room as the store has it now (its rows are this run's own: no settling needed)."""
        if planned.room_id in self._failed:
            return self._failed[planned.room_id]
        fresh = self.history.batch_rooms(self.batch.id, [planned.room_id], settle=False)
        return state_of(self.batch, *fresh[0]) if fresh else state_of(self.batch, planned, None)

    async def _reconcile(self, unknown: list[str], rooms: dict[str, tuple[PlannedRoom, Row | None]]) -> None:
        """Look up each room whose outcome is unknown, once its start is old enough to tell."""
        rows = [rooms[room][1] for room in unknown]
        newest = max((row.started_at for row in rows if row is not None), default=0.0)
        wait = newest + tracking.SETTLE_AFTER - time.time()
        if wait > 0:
            self.on_wait(
                f"{len(unknown)} rooms' outcome is unknown: looking them up in {wait:.0f} s,"
                " when the service can no longer be acting on them"
            )
            try:
                await asyncio.wait_for(self.stop.wait(), wait)
                return  # stopped while waiting: nothing looked up, nothing sent
            except TimeoutError:
                pass
        found = await asyncio.gather(*(self._look_up(room) for room in unknown))
        # A proper unknown start is settled by the answer itself (`recordings`); one whose row
        # is damaged or missing is not, and is settled here by what the service said.
        for (planned, row), task in zip(self.history.batch_rooms(self.batch.id, unknown), found, strict=True):
            if state_of(self.batch, planned, row).state != UNKNOWN:
                continue
            if isinstance(task, int):
                self.history.settle_batch_room(self.batch.id, planned.room_id, "already recording", task)
            elif task is None:
                self._failed[planned.room_id] = RoomState(
                    planned.line, planned.room_id, UNKNOWN,
                    note="its stored row is damaged or missing and no task runs there now:"
                    " check the room before starting it again",
                )  # fmt: skip

    async def _look_up(self, room: str) -> int | None | Outcome:
        """The room's running task: its TaskId, None (no task runs there), or the failed ask."""
        outcome = await calls.send(
            self.client,
            self.history,
            DescribeTaskInfo(self.batch.biz_id, room),
            profile=self.batch.profile,
            batch=(self.batch.id, room),
        )
        result = outcome.result
        if isinstance(result, TaskInfoResult):
            return result.task_id or None
        if isinstance(outcome.error, ServiceError) and outcome.error.code in NOT_FOUND:
            return None
        return outcome

    async def _worker(self, queue: asyncio.Queue[PlannedRoom]) -> None:
        while not self.stop.is_set():
            try:
                planned = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                await self._one(planned)
            except HistoryUnavailable as error:
                # Nothing more can be sent with its row first: the run ends here, resumable.
                self.fault = str(error)
                self.stop.set()
            self.on_room(self._state(planned))

    def _fail(self, planned: PlannedRoom, why: str, outcome: Outcome | None = None) -> None:
        code = outcome.error.code if outcome is not None and isinstance(outcome.error, ServiceError) else None
        self._failed[planned.room_id] = RoomState(
            planned.line,
            planned.room_id,
            FAILED,
            outcome=outcome.kind if outcome is not None else None,
            code=code,
            next_step=explain(code).next_step if code else "Check the room, then resume the batch.",
            note=why,
        )

    async def _one(self, planned: PlannedRoom) -> None:
        room, kind = planned.room_id, self.batch.kind
        task = planned.fields.get("TaskId")
        if kind != "start" and "TaskId" not in planned.fields:
            found = await self._look_up(room)
            if found is None:
                self.history.settle_batch_room(self.batch.id, room, f"not recording: nothing to {kind}")
                return
            if not isinstance(found, int):
                self._fail(planned, f"its task could not be looked up ({found.error})", found)
                return
            task = found
        try:
            action = self._action(planned, task)
        except fields.FieldError as error:
            self._fail(planned, f"its stored plan is not a valid request: {error}")
            return
        for _ in range(LIMIT_RETRIES + 1):
            if self.stop.is_set():
                return
            outcome = await calls.send(
                self.client, self.history, action, profile=self.batch.profile, batch=(self.batch.id, room)
            )
            code = outcome.error.code if isinstance(outcome.error, ServiceError) else None
            if code == "RequestLimitExceeded":
                self.limited += 1
                await asyncio.sleep(1.0)  # the service did not act: this room waits and goes again
                continue
            self.sent += 1
            if code == IN_USE and kind == "start":
                found = await self._look_up(room)
                if isinstance(found, int):
                    self.history.settle_batch_room(self.batch.id, room, "already recording", found)
            elif code in NOT_FOUND and kind == "stop":
                self.history.settle_batch_room(self.batch.id, room, "not recording: the task had ended")
            return

    def _action(self, planned: PlannedRoom, task: Any) -> Action:
        """The room's request, its stored plan checked again by `api.fields` (a history file
        edited or damaged since is never sent as it is); FieldError names what is wrong."""
        from ..api import actions

        if planned.damaged:
            raise fields.FieldError("plan", "the stored plan of this room is damaged")
        biz, plan = str(self.batch.biz_id), planned.fields
        if self.batch.kind == "stop":
            return actions.StopRecord(self.batch.biz_id, fields.parse_task_id(_text(fields.TASK_ID, task)))
        mode = _text(fields.RECORD_MODE, plan.get("RecordMode"))
        allow, block = _ids(ALLOW, plan.get(ALLOW)), _ids(BLOCK, plan.get(BLOCK))
        relaxed = self.batch.relaxed
        if self.batch.kind == "modify":
            checked = fields.check_modify(
                biz, _text(fields.TASK_ID, task), mode, allow, block, relaxed=relaxed
            )
            name = "ModifyRecordInfo"
        else:
            checked = fields.check_start(biz, planned.room_id, mode, allow, block, relaxed=relaxed)
            name = "StartRecord"
        if checked.errors:
            raise next(iter(checked.errors.values()))
        return actions.from_checked(name, checked)


def _text(name: str, value: object) -> str:
    """A stored value as the text its field is checked from; FieldError where it is neither a
    whole number nor a text (a plan edited in the store)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise fields.FieldError(name, f"is stored as {type(value).__name__}, not a whole number or a text")
    return str(value)


def _ids(name: str, value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fields.FieldError(name, "is stored as something other than a list of IDs")
    return ",".join(value)
