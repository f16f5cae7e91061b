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
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import calls, tracking
from ..api.actions import Action, DescribeTaskInfo, ModifyRecordInfo, StartRecord, StopRecord, TaskInfoResult
from ..api.errors import OutcomeKind, ServiceError, explain
from ..api.fields import ALLOW, BLOCK, RecordMode, Subscription
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


def state_of(batch: Batch, planned: PlannedRoom, row: Row | None) -> RoomState:
    """A room judged by its latest row (the batch's own action for it)."""
    base = dict(line=planned.line, room=planned.room_id, row_id=planned.row_id)
    if planned.note is not None:  # settled beside its row: already recording, nothing to stop
        return RoomState(state=OK, task_id=planned.task_id, outcome=row.outcome if row else None,
                         note=planned.note, **base)  # type: ignore[arg-type]  # fmt: skip
    if row is None:
        return RoomState(state=TO_SEND, **base)  # type: ignore[arg-type]
    task = int(row.task_id) if row.task_id else None
    note = row.note or ""
    if row.outcome is OutcomeKind.OK:
        return RoomState(state=OK, task_id=task, outcome=row.outcome, note=note, **base)  # type: ignore[arg-type]
    if row.outcome in (OutcomeKind.UNKNOWN, OutcomeKind.PENDING) or (
        row.outcome is OutcomeKind.BAD_ANSWER and batch.kind == "start"
    ):
        # a StartRecord that may have reached the service: looked up before anything else
        return RoomState(state=UNKNOWN, outcome=row.outcome, note=note, **base)  # type: ignore[arg-type]
    if row.outcome is OutcomeKind.NOT_STARTED:
        return RoomState(state=TO_SEND, outcome=row.outcome, note=note, **base)  # type: ignore[arg-type]
    code = row.error_code
    return RoomState(
        state=FAILED,
        outcome=row.outcome,
        code=code,
        next_step=explain(code).next_step if code else _next_step(row.outcome),
        note=note or (row.error_message or ""),
        **base,  # type: ignore[arg-type]
    )


def _next_step(kind: OutcomeKind) -> str:
    if kind is OutcomeKind.NOT_SENT:
        return "Check the endpoint and the network, then resume the batch."
    return "Resume the batch: the room is looked up before anything is sent again."


def room_states(history: History, batch: Batch) -> list[RoomState]:
    return [state_of(batch, planned, row) for planned, row in history.batch_rooms(batch.id)]


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
        }


def _subscription(fields: dict[str, Any]) -> Subscription | None:
    allow, block = fields.get(ALLOW) or [], fields.get(BLOCK) or []
    if not allow and not block:
        return None
    return Subscription(allow=tuple(allow), block=tuple(block))


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

    async def run(self) -> Summary:
        started = time.perf_counter()
        rooms = {planned.room_id: (planned, row) for planned, row in self.history.batch_rooms(self.batch.id)}
        unknown = [room for room, pair in rooms.items() if state_of(self.batch, *pair).state == UNKNOWN]
        if unknown:
            await self._reconcile(unknown, rooms)
            rooms.update((p.room_id, (p, r)) for p, r in self.history.batch_rooms(self.batch.id, unknown))
        queue: asyncio.Queue[PlannedRoom] = asyncio.Queue()
        already = 0
        for planned, row in rooms.values():
            state = state_of(self.batch, planned, row)
            if state.state in (TO_SEND, FAILED):
                queue.put_nowait(planned)
            elif state.state == OK and planned.room_id not in unknown:
                already += 1  # ok before this run: left alone, and not told again room by room
            else:
                self.on_room(state)
        await asyncio.gather(*(self._worker(queue) for _ in range(min(self.workers, max(queue.qsize(), 1)))))
        final = room_states(self.history, self.batch)
        return Summary(
            self.batch,
            final,
            time.perf_counter() - started,
            self.sent,
            self.limited,
            self.stop.is_set(),
            already,
        )

    def _state(self, planned: PlannedRoom) -> RoomState:
        """The room as the store has it now (its rows are this run's own: no settling needed)."""
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
        await asyncio.gather(*(self._look_up(room) for room in unknown))

    async def _look_up(self, room: str) -> int | None:
        """The room's running task (None: none, or the ask failed)."""
        outcome = await calls.send(
            self.client,
            self.history,
            DescribeTaskInfo(self.batch.biz_id, room),
            profile=self.batch.profile,
            batch=(self.batch.id, room),
        )
        result = outcome.result
        if isinstance(result, TaskInfoResult) and result.task_id:
            return result.task_id
        return None

    async def _worker(self, queue: asyncio.Queue[PlannedRoom]) -> None:
        while not self.stop.is_set():
            try:
                planned = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await self._one(planned)
            self.on_room(self._state(planned))

    async def _one(self, planned: PlannedRoom) -> None:
        room, kind = planned.room_id, self.batch.kind
        task = planned.fields.get("TaskId")
        if kind != "start" and not isinstance(task, int):
            task = await self._look_up(room)
            if task is None:
                self.history.settle_batch_room(self.batch.id, room, f"not recording: nothing to {kind}")
                return
        action = self._action(planned, task)
        for _ in range(LIMIT_RETRIES + 1):
            if self.stop.is_set():
                return
            outcome = await calls.send(
                self.client, self.history, action, profile=self.batch.profile, batch=(self.batch.id, room)
            )
            self.sent += 1
            code = outcome.error.code if isinstance(outcome.error, ServiceError) else None
            if code == "RequestLimitExceeded":
                self.limited += 1
                await asyncio.sleep(1.0)  # the service did not act: this room waits and goes again
                continue
            if code == IN_USE and kind == "start":
                found = await self._look_up(room)
                if found is not None:
                    self.history.settle_batch_room(self.batch.id, room, "already recording", found)
            elif code in NOT_FOUND and kind == "stop":
                self.history.settle_batch_room(self.batch.id, room, "not recording: the task had ended")
            return

    def _action(self, planned: PlannedRoom, task: Any) -> Action:
        biz, fields = self.batch.biz_id, planned.fields
        if self.batch.kind == "stop":
            return StopRecord(biz, int(task))
        mode = RecordMode(int(fields["RecordMode"]))
        if self.batch.kind == "modify":
            return ModifyRecordInfo(biz, int(task), mode, _subscription(fields))
        return StartRecord(biz, planned.room_id, mode, _subscription(fields))
