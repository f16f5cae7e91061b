"""The recordings gme-tui knows: where each runs, as whom, and how far it has got.

An operator thinks in recordings, not requests. A recording is one task of the
service, named by the endpoint (the history's `endpoint`, `demo` for the demo's
emulator), the profile whose credentials started it, the BizId and the TaskId.
It keeps the room, mode and lists as last known, a state, its times and its
file names.

The table lives in the history's SQLite file and changes in the same transaction
as the history row that tells it something (`begun`, `answered`), so the two can
never disagree. Every answer counts, whoever sent it: F3 finding a task, the
recordings view's refresh, a one-shot `describe-record`. An unknown StartRecord
is settled the same way: a DescribeTaskInfo of its room that finds a running task
makes its history row ok (reconciled) with that TaskId, one that finds none makes
it "not started". Nothing here sends: `tracking` does, through `calls`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .api.errors import OutcomeKind
from .api.fields import ALLOW, BLOCK, SUBSCRIPTION, RecordMode, Subscription
from .stored import Checked, stored_json

if TYPE_CHECKING:  # the actions load with the first request, not with the history (start-up)
    from .api.actions import ModifyRecordInfo, RecordInfoResult, TaskInfoResult


class State(StrEnum):
    """Where a recording is, as stored (the plain word) and shown (`words`)."""

    STARTING = "starting"  # its StartRecord is on its way
    RECORDING = "recording"
    STOPPING = "stopping"  # stopped (here or elsewhere); no file status seen yet
    WAITING = "waiting"  # RecordStatus 10
    TRANSCODING = "transcoding"  # 11
    UPLOADING = "uploading"  # 12
    UPLOADED = "uploaded"  # 13
    DONE = "done"  # 14: the files are in storage and the user notified
    UNKNOWN = "unknown"  # its StartRecord may have reached the service; not yet reconciled
    NOT_STARTED = "not_started"  # reconciled: the service has no task from it
    GONE = "gone"  # the service no longer knows the task

    @property
    def words(self) -> str:
        return _WORDS.get(self, self.value.replace("_", " "))

    @property
    def running(self) -> bool:
        """Refreshed with DescribeTaskInfo: it records."""
        return self is State.RECORDING

    @property
    def processing(self) -> bool:
        """Refreshed with DescribeRecordInfo: stopped, its files on their way to storage."""
        return self in _PROCESSING

    @property
    def final(self) -> bool:
        return self in (State.DONE, State.NOT_STARTED, State.GONE)


_WORDS = {State.WAITING: "waiting for transcoding"}
_PROCESSING = (State.STOPPING, State.WAITING, State.TRANSCODING, State.UPLOADING, State.UPLOADED)
#: the order a recording goes through once it has a task: a file status never moves it back
PROGRESS = (State.RECORDING, *_PROCESSING, State.DONE)
#: RecordStatus (DescribeRecordInfo) → state
BY_STATUS = {
    2: State.RECORDING,
    10: State.WAITING,
    11: State.TRANSCODING,
    12: State.UPLOADING,
    13: State.UPLOADED,
    14: State.DONE,
}
#: answers that say the task (or the room's task) is not there
NOT_FOUND = frozenset(
    {"ResourceNotFound.TaskNotFound", "FailedOperation.TaskNotExist", "ResourceNotFound.RoomNotFound"}
)
#: what the history marks the console's own asks with: a credentials check (never a
#: recording), a refresh of the recordings, a reconcile of unknown starts
CHECK = "check"
REFRESH = "refresh"
RECONCILE = "reconcile"
#: the most file names kept per recording (a mode-3 task of 20 users has 21)
MAX_FILES = 64


@dataclass(frozen=True)
class Recording:
    id: int
    endpoint: str
    profile: str
    biz_id: str
    task_id: str | None
    room_id: str | None
    record_mode: int | None
    allow: tuple[str, ...]
    block: tuple[str, ...]
    state: State
    #: the history row of the StartRecord that made it (None: first seen in an answer)
    start_row: int | None
    started_at: float
    updated_at: float
    checked_at: float | None
    stopped_at: float | None
    files: tuple[str, ...]
    damaged: tuple[str, ...] = ()

    @property
    def mode(self) -> RecordMode | None:
        try:
            return RecordMode(self.record_mode) if self.record_mode is not None else None
        except ValueError:
            return None

    @property
    def subscription(self) -> Subscription | None:
        return Subscription(self.allow, self.block) if self.allow or self.block else None

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        return self.endpoint, self.profile, self.biz_id, self.task_id

    def elapsed(self, now: float) -> float | None:
        """Seconds it recorded: to its stop, or to `now` while it records; None where the end
        is not known (no task yet, a start unknown or refused, a task gone unseen)."""
        if self.task_id is None or self.state in (State.STARTING, State.UNKNOWN, State.NOT_STARTED):
            return None
        if self.stopped_at is not None:
            return max(0.0, self.stopped_at - self.started_at)
        return max(0.0, now - self.started_at) if self.state is State.RECORDING else None

    def elsewhere(self, endpoint: str, profile: str) -> str | None:
        """Why an action of a console (or command) aimed at `endpoint` with `profile` must not
        touch this recording, or None when it is this recording's own endpoint and profile."""
        return elsewhere(self.task_id, self.room_id, (self.endpoint, self.profile), (endpoint, profile))

    def to_json(self) -> dict[str, Any]:
        """For `recordings --output json`: BizId and TaskId exact integers, the state a word."""
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "profile": self.profile,
            "biz_id": int(self.biz_id),
            "task_id": int(self.task_id) if self.task_id else None,
            "room_id": self.room_id,
            "record_mode": self.record_mode,
            "allow": list(self.allow),
            "block": list(self.block),
            "state": self.state.value,
            "state_words": self.state.words,
            "start_row": self.start_row,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "checked_at": self.checked_at,
            "stopped_at": self.stopped_at,
            "files": list(self.files),
            "damaged": list(self.damaged),
        }


def duration_text(seconds: float | None) -> str:
    """`45s`, `12m04s`, `3h07m`, `2d05h` (two units at most, the larger first); `-` for None."""
    if seconds is None:
        return "-"
    total = max(0, int(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def elsewhere(task_id: object, room: str | None, its: tuple[str, str], here: tuple[str, str]) -> str | None:
    """The one rule of where an action on a recording may go: to its own (endpoint, profile)
    only. None when `here` is that; else why not, naming where it runs."""
    if its == here:
        return None
    what = f"Task {task_id}" if task_id else f"The recording of room {room}"
    return (
        f"{what} runs on {its[0]} with profile {its[1]}, not on {here[0]} with profile "
        f"{here[1]}: an action on it goes there and nowhere else. Open gme-tui on that "
        "endpoint and profile to act on it."
    )


def modify_diff(
    mode: int | None, allow: tuple[str, ...], block: tuple[str, ...], action: ModifyRecordInfo
) -> list[str]:
    """What a ModifyRecordInfo changes in a recording as last known (ModifyRecordInfo
    replaces the mode and both lists): a line per field, an emptied list said in words."""
    from .words import mode_label

    new_allow = action.subscription.allow if action.subscription else ()
    new_block = action.subscription.block if action.subscription else ()
    lines = [
        f"RecordMode: {mode_label(int(action.mode))}, unchanged"
        if mode == int(action.mode)
        else f"RecordMode: {mode_label(mode) if mode else 'not known'} → {mode_label(int(action.mode))}"
    ]
    emptied = {
        ALLOW: "the allowlist is emptied: every user of the room is recorded",
        BLOCK: "the blocklist is emptied: nobody is left out any more",
    }
    for name, before, after in ((ALLOW, allow, new_allow), (BLOCK, block, new_block)):
        if tuple(before) == tuple(after):
            lines.append(f"{name}: unchanged ({', '.join(after) or 'empty'})")
        elif before and not after:
            lines.append(f"{name}: {emptied[name]} (was {', '.join(before)})")
        else:
            added = [i for i in after if i not in before]
            removed = [i for i in before if i not in after]
            said = [f"+ {', '.join(added)}" if added else "", f"− {', '.join(removed)}" if removed else ""]
            lines.append(f"{name}: " + ("; ".join(p for p in said if p) or "same IDs, new order"))
    return lines


@dataclass(frozen=True)
class Change:
    """What one answer did to a recording: `before` is None for one it made known."""

    recording: Recording
    before: State | None

    @property
    def moved(self) -> bool:
        return self.before is not self.recording.state


SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint    TEXT NOT NULL,
    profile     TEXT NOT NULL,
    biz_id      TEXT NOT NULL,
    task_id     TEXT,
    room_id     TEXT,
    record_mode INTEGER,
    allow       TEXT,
    block       TEXT,
    state       TEXT NOT NULL,
    start_row   INTEGER,
    started_at  REAL NOT NULL,
    updated_at  REAL NOT NULL,
    checked_at  REAL,
    stopped_at  REAL,
    files       TEXT
);
CREATE INDEX IF NOT EXISTS recordings_here ON recordings (endpoint, started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS recordings_newest ON recordings (started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS recordings_task ON recordings (task_id);
CREATE INDEX IF NOT EXISTS recordings_room ON recordings (room_id);
CREATE INDEX IF NOT EXISTS recordings_start ON recordings (start_row);
CREATE INDEX IF NOT EXISTS recordings_state ON recordings (state)
"""


# --- what answers change (called inside the history's write transaction) ---------------


def begun(db: sqlite3.Connection, row_id: int, action: str, profile: str, endpoint: str,
          params: dict[str, Any], now: float, purpose: str | None) -> None:  # fmt: skip
    """A request is about to leave: a StartRecord is a recording, starting."""
    from .api.actions import StartRecord

    if action != StartRecord.name or purpose == CHECK:
        return
    biz, room, mode = params.get("BizId"), params.get("RoomId"), params.get("RecordMode")
    if not isinstance(biz, int) or not isinstance(room, str):
        return
    allow, block = _lists(params.get(SUBSCRIPTION))
    db.execute(
        "INSERT INTO recordings (endpoint, profile, biz_id, room_id, record_mode, allow, block, state,"
        " start_row, started_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (endpoint, profile, str(biz), room, mode if isinstance(mode, int) else None,
         _dump(allow), _dump(block), State.STARTING, row_id, now, now),
    )  # fmt: skip


def answered(db: sqlite3.Connection, row_id: int, now: float) -> list[Change]:
    """A history row was just completed: what it tells about recordings, applied."""
    from .api.actions import (
        ACTIONS,
        DescribeRecordInfo,
        DescribeTaskInfo,
        ModifyRecordInfo,
        RecordInfoResult,
        ResponseShapeError,
        StartRecord,
        StopRecord,
        TaskInfoResult,
    )

    found = db.execute(
        "SELECT action, profile, endpoint, params, outcome, response, task_id, error_code, room_id,"
        " purpose FROM requests WHERE id=?",
        (row_id,),
    ).fetchone()
    if found is None:
        return []
    action, profile, endpoint, params_text, outcome, response_text, task_text, code, room, purpose = found
    if purpose == CHECK or action not in ACTIONS:
        return []
    params = _object(params_text)
    biz = params.get("BizId")
    if not isinstance(biz, int):
        return []
    here = _Here(db, endpoint, profile, str(biz), now)
    kind = OutcomeKind(outcome) if outcome in tuple(OutcomeKind) else OutcomeKind.TRANSPORT_ERROR
    result = None
    if kind is OutcomeKind.OK:
        try:
            result = ACTIONS[action].parse(_object(response_text))
        except ResponseShapeError:
            return here.changes  # a cut or broken answer tells nothing
    task = params.get("TaskId")
    task_id = str(task) if isinstance(task, int) else None
    if action == StartRecord.name:
        here.started(row_id, kind, task_text if isinstance(task_text, str) else None)
    elif action == StopRecord.name and task_id:
        if kind is OutcomeKind.OK:
            here.stopped(task_id, room)
        elif code in NOT_FOUND:
            here.not_running(task_id)
    elif action == ModifyRecordInfo.name and task_id:
        if kind is OutcomeKind.OK:
            allow, block = _lists(params.get(SUBSCRIPTION))
            mode = params.get("RecordMode")
            here.update(task_id, record_mode=mode if isinstance(mode, int) else None,
                        allow=_dump(allow), block=_dump(block))  # fmt: skip
        elif code in NOT_FOUND:
            here.not_running(task_id)
    elif action == DescribeTaskInfo.name and isinstance(params.get("RoomId"), str):
        room_id = params["RoomId"]
        if isinstance(result, TaskInfoResult):
            here.running_in(room_id, result, row_id)
        elif kind is OutcomeKind.SERVICE_ERROR and code in NOT_FOUND:
            here.none_in(room_id, row_id)
    elif action == DescribeRecordInfo.name and task_id:
        if isinstance(result, RecordInfoResult):
            here.files_of(task_id, result)
        elif kind is OutcomeKind.SERVICE_ERROR and code in NOT_FOUND:
            here.gone(task_id)
    return here.changes


def settle_unknown(db: sqlite3.Connection, row_ids: Iterable[int], now: float) -> None:
    """StartRecords whose writer is gone without an answer (the history reads them as
    unknown): their recordings are unknown too, and so wait for a reconcile."""
    for row_id in row_ids:
        db.execute(
            "UPDATE recordings SET state=?, updated_at=? WHERE start_row=? AND state=?",
            (State.UNKNOWN, now, row_id, State.STARTING),
        )


class _Here:
    """The recordings of one endpoint, profile and BizId, as one answer changes them."""

    def __init__(self, db: sqlite3.Connection, endpoint: str, profile: str, biz: str, now: float) -> None:
        self.db, self.endpoint, self.profile, self.biz, self.now = db, endpoint, profile, biz, now
        self.changes: list[Change] = []

    _WHERE = "endpoint=? AND profile=? AND biz_id=?"

    @property
    def _scope(self) -> tuple[str, str, str]:
        return self.endpoint, self.profile, self.biz

    def _select(self, condition: str, args: tuple[object, ...]) -> list[Recording]:
        cursor = self.db.execute(
            f"SELECT * FROM recordings WHERE {self._WHERE} AND {condition} ORDER BY id", (*self._scope, *args)
        )
        return [read(record, cursor.description) for record in cursor.fetchall()]

    def by_task(self, task_id: str) -> Recording | None:
        found = self._select("task_id=?", (task_id,))
        return found[0] if found else None

    def _set(self, recording: Recording, **columns: object) -> None:
        columns["updated_at"] = self.now
        names = ", ".join(f"{name}=?" for name in columns)
        self.db.execute(f"UPDATE recordings SET {names} WHERE id=?", (*columns.values(), recording.id))
        self._changed(recording.id, recording.state)

    def _changed(self, recording_id: int, before: State | None) -> None:
        cursor = self.db.execute("SELECT * FROM recordings WHERE id=?", (recording_id,))
        record = cursor.fetchone()
        if record is not None:
            self.changes.append(Change(read(record, cursor.description), before))

    def _new(self, task_id: str, room: str | None, state: State, **columns: object) -> None:
        columns = {"record_mode": None, **columns}
        cursor = self.db.execute(
            "INSERT INTO recordings (endpoint, profile, biz_id, task_id, room_id, state, started_at,"
            " updated_at, checked_at, record_mode, allow, block, files, stopped_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*self._scope, task_id, room, state, self.now, self.now, self.now, columns["record_mode"],
             columns.get("allow"), columns.get("block"), columns.get("files"), columns.get("stopped_at")),
        )  # fmt: skip
        assert cursor.lastrowid is not None, "an INSERT sets it"
        self._changed(cursor.lastrowid, None)

    def update(self, task_id: str, **columns: object) -> None:
        recording = self.by_task(task_id)
        if recording is not None:
            self._set(recording, **columns)

    def started(self, row_id: int, kind: OutcomeKind, task_id: str | None) -> None:
        found = self.db.execute("SELECT * FROM recordings WHERE start_row=?", (row_id,))
        record = found.fetchone()
        if record is None:
            return
        recording = read(record, found.description)
        if kind is OutcomeKind.OK and task_id:
            # An answer about this task may have come first (another process): one recording of it.
            self.db.execute(
                f"DELETE FROM recordings WHERE {self._WHERE} AND task_id=? AND id<>?",
                (*self._scope, task_id, recording.id),
            )
            self._set(recording, task_id=task_id, state=State.RECORDING, checked_at=self.now)
        elif kind.may_have_acted:
            self._set(recording, state=State.UNKNOWN)
        else:  # refused or never sent: no recording, the history row says why
            self.db.execute("DELETE FROM recordings WHERE id=?", (recording.id,))

    def stopped(self, task_id: str, room: str | None) -> None:
        recording = self.by_task(task_id)
        if recording is None:
            self._new(task_id, room, State.STOPPING, stopped_at=self.now)
        elif recording.state in (State.RECORDING, State.UNKNOWN, State.STARTING, State.GONE):
            self._set(recording, state=State.STOPPING, stopped_at=self.now)

    def not_running(self, task_id: str) -> None:
        recording = self.by_task(task_id)
        if recording is not None and recording.state is State.RECORDING:
            self._set(recording, state=State.STOPPING)

    def running_in(self, room: str, result: TaskInfoResult, row_id: int) -> None:
        task_id = str(result.task_id)
        allow, block = (
            result.subscription.allow if result.subscription else (),
            (result.subscription.block if result.subscription else ()),
        )
        known = dict(
            room_id=room,
            record_mode=int(result.mode) if result.mode else None,
            allow=_dump(allow),
            block=_dump(block),
            checked_at=self.now,
        )
        for other in self._select("room_id=? AND state=? AND task_id<>?", (room, State.RECORDING, task_id)):
            self._set(other, state=State.STOPPING)  # one task runs per room: this one ended
        recording = self.by_task(task_id)
        unknown = self._select("room_id=? AND state=? AND task_id IS NULL", (room, State.UNKNOWN))
        if recording is None and unknown:
            first, *rest = unknown
            self._reconcile(first, row_id, task_id)
            self._set(first, task_id=task_id, state=State.RECORDING, **known)
            for later in rest:
                self._not_started(later, row_id)
            return
        for later in unknown:
            self._not_started(later, row_id)
        if recording is None:
            self._new(task_id, room, State.RECORDING, **known)
        else:
            state = State.RECORDING if recording.state in (State.UNKNOWN, State.GONE) else recording.state
            self._set(recording, state=state, **known)

    def none_in(self, room: str, row_id: int) -> None:
        for recording in self._select("room_id=? AND state=?", (room, State.RECORDING)):
            self._set(recording, state=State.STOPPING)
        for recording in self._select("room_id=? AND state=? AND task_id IS NULL", (room, State.UNKNOWN)):
            self._not_started(recording, row_id)

    def files_of(self, task_id: str, result: RecordInfoResult) -> None:
        files = [record.file_name for record in result.records if record.file_name][:MAX_FILES]
        statuses = [BY_STATUS.get(record.status) for record in result.records]
        state = min((PROGRESS.index(s) for s in statuses if s is not None), default=None)
        columns: dict[str, object] = dict(checked_at=self.now, files=_dump(files) if files else None)
        if result.mode is not None:
            columns["record_mode"] = int(result.mode)
        recording = self.by_task(task_id)
        if recording is None:
            self._new(task_id, result.room or None, PROGRESS[state] if state is not None else State.RECORDING,
                      **columns)  # fmt: skip
            return
        if result.room and not recording.room_id:
            columns["room_id"] = result.room
        if state is not None and (
            recording.state not in PROGRESS or PROGRESS.index(recording.state) <= state
        ):  # a file status moves it on, never back (a stale answer from a slow replica)
            columns["state"] = PROGRESS[state]
            if PROGRESS[state] is not State.RECORDING and recording.stopped_at is None:
                columns["stopped_at"] = self.now
        self._set(recording, **columns)

    def gone(self, task_id: str) -> None:
        recording = self.by_task(task_id)
        if recording is not None and recording.state is not State.DONE:
            self._set(recording, state=State.GONE, checked_at=self.now)

    def _reconcile(self, recording: Recording, row_id: int, task_id: str) -> None:
        if recording.start_row is None:
            return
        self.db.execute(
            "UPDATE requests SET outcome=?, task_id=?, note=? WHERE id=? AND outcome IN (?,?,?)",
            (OutcomeKind.OK, task_id,
             f"reconciled: DescribeTaskInfo (row {row_id}) found task {task_id} running in the room",
             recording.start_row, *_UNSETTLED),
        )  # fmt: skip

    def _not_started(self, recording: Recording, row_id: int) -> None:
        if recording.start_row is not None:
            self.db.execute(
                "UPDATE requests SET outcome=?, note=? WHERE id=? AND outcome IN (?,?,?)",
                (OutcomeKind.NOT_STARTED,
                 f"reconciled: DescribeTaskInfo (row {row_id}) found no task of it running in the room",
                 recording.start_row, *_UNSETTLED),
            )  # fmt: skip
        self._set(recording, state=State.NOT_STARTED)


#: history outcomes a reconcile may settle (a pending row here is one whose writer is gone)
_UNSETTLED = (OutcomeKind.UNKNOWN, OutcomeKind.BAD_ANSWER, OutcomeKind.PENDING)


def replay(db: sqlite3.Connection, now: float) -> None:
    """Build the table from a history made before it existed: every row, oldest first, as
    if it had just been written and answered."""
    cursor = db.execute(
        "SELECT id, action, profile, endpoint, params, outcome, purpose FROM requests ORDER BY id"
    )
    for row_id, action, profile, endpoint, params_text, outcome, purpose in cursor.fetchall():
        if not all(isinstance(v, str) for v in (action, profile, endpoint)):
            continue
        begun(db, row_id, action, profile, endpoint, _object(params_text), now, purpose)
        if outcome != OutcomeKind.PENDING:
            answered(db, row_id, now)


# --- reading --------------------------------------------------------------------


def read(record: tuple, description: Any) -> Recording:
    """A stored recording, shape-checked (`stored.Checked`): never a crash of whoever shows it."""
    data = dict(zip((d[0] for d in description), record, strict=True))
    check = Checked()
    state = data["state"]
    if not (isinstance(state, str) and state in tuple(State)):
        check.damaged.append("state: not a state this version knows")
        state = State.GONE
    return Recording(
        id=data["id"],
        endpoint=check.text("endpoint", data["endpoint"]) or "?",
        profile=check.text("profile", data["profile"]) or "?",
        biz_id=check.digits("biz_id", data["biz_id"]) or "0",
        task_id=check.digits("task_id", data["task_id"]),
        room_id=check.text("room_id", data["room_id"]),
        record_mode=check.integer("record_mode", data["record_mode"]),
        allow=_ids(check, "allow", data["allow"]),
        block=_ids(check, "block", data["block"]),
        state=State(state),
        start_row=check.integer("start_row", data["start_row"]),
        started_at=check.time("started_at", data["started_at"]) or 0.0,
        updated_at=check.time("updated_at", data["updated_at"]) or 0.0,
        checked_at=check.time("checked_at", data["checked_at"]),
        stopped_at=check.time("stopped_at", data["stopped_at"]),
        files=_ids(check, "files", data["files"]),
        damaged=tuple(check.damaged),
    )


def _ids(check: Checked, column: str, value: object) -> tuple[str, ...]:
    """A stored JSON list of text (user IDs, file names); anything else is damage."""
    if value is None:
        return ()
    parsed = stored_json(value) if isinstance(value, str) and len(value) < 1_000_000 else None
    if isinstance(parsed, list) and len(parsed) <= MAX_FILES and all(isinstance(v, str) for v in parsed):
        return tuple(check.text(column, v) or "" for v in parsed)
    check.damaged.append(f"{column}: not a list of at most {MAX_FILES} texts")
    return ()


def _object(text: object) -> dict[str, Any]:
    parsed = stored_json(text) if isinstance(text, str) else None
    return parsed if isinstance(parsed, dict) else {}


def _lists(value: object) -> tuple[list[str], list[str]]:
    """The allowlist and blocklist a request sent (its params as the history keeps them)."""
    if not isinstance(value, dict):
        return [], []
    return _texts(value.get(ALLOW)), _texts(value.get(BLOCK))


def _texts(value: object) -> list[str]:
    return [str(v) for v in value if isinstance(v, str | int)][:MAX_FILES] if isinstance(value, list) else []


def _dump(values: list[str] | tuple[str, ...]) -> str | None:
    return json.dumps(list(values), ensure_ascii=False) if values else None
