"""What a batch is, as the history keeps it: its own record and the plan of its rooms.

A batch is kept in the history's SQLite file beside the requests it sent, so that
the two can never disagree: `batches` holds where it goes (endpoint, profile,
region, BizId), what it does (start, stop, modify), its source and its time;
`batch_rooms` holds each room of it in the source's order, with the checked fields
to send and the history row of its latest request. A room's outcome is that row's
(so a reconcile that settles the row settles the room too); a room with no row yet
was never sent. Every request row a batch sends carries the batch's id
(`requests.batch_id`).

The plan is written whole, before anything is sent, so that a batch cut short by
Ctrl+C, a kill or a lost network resumes from the store alone (`batch start
--resume ID`), with no need of its source again.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..stored import Checked

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  REAL NOT NULL,
    endpoint    TEXT NOT NULL,
    profile     TEXT NOT NULL,
    region      TEXT,
    biz_id      TEXT NOT NULL,
    rooms       INTEGER NOT NULL,
    relaxed     INTEGER NOT NULL DEFAULT 0,
    run_pid     INTEGER,
    run_pid_start TEXT,
    run_host    TEXT,
    run_seen_at REAL
);
CREATE TABLE IF NOT EXISTS batch_rooms (
    batch_id    INTEGER NOT NULL,
    line        INTEGER NOT NULL,
    room_id     TEXT NOT NULL,
    fields      TEXT NOT NULL,
    row_id      INTEGER,
    task_id     TEXT,
    note        TEXT,
    PRIMARY KEY (batch_id, room_id)
);
CREATE INDEX IF NOT EXISTS requests_batch ON requests (batch_id) WHERE batch_id IS NOT NULL
"""

#: what a batch does to each of its rooms
KINDS = ("start", "stop", "modify")


@dataclass(frozen=True)
class Batch:
    id: int
    kind: str
    source: str
    created_at: float
    endpoint: str
    profile: str
    region: str | None
    biz_id: int
    rooms: int
    #: string OpenIDs accepted in its lists (`--relaxed-ids`)
    relaxed: bool = False


@dataclass(frozen=True)
class PlannedRoom:
    """One room of a batch: its line in the source, the fields to send, its latest row."""

    line: int
    room_id: str
    #: the action's fields beyond BizId and RoomId: "RecordMode", "SubscribeUserIds", ...
    fields: dict[str, Any]
    row_id: int | None
    #: settled without its own action succeeding, in words ("already recording"), with the
    #: task that runs there; None: the room is as its row says
    note: str | None = None
    task_id: int | None = None
    #: its stored plan is broken: never sent (`batch.run` checks it again and says so)
    damaged: bool = False
    #: the row it names is not one of this room's own requests: what it sent is unknown
    lost: bool = False


def create(
    db: sqlite3.Connection,
    *,
    kind: str,
    source: str,
    now: float,
    endpoint: str,
    profile: str,
    region: str | None,
    biz_id: int,
    rooms: list[tuple[int, str, dict[str, Any]]],
    relaxed: bool = False,
) -> int:
    """The batch and its whole plan, in the caller's transaction; returns the batch's id."""
    if kind not in KINDS:
        raise ValueError(f"a batch starts, stops or modifies, not {kind!r}")
    cursor = db.execute(
        "INSERT INTO batches (kind, source, created_at, endpoint, profile, region, biz_id, rooms, relaxed)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        (kind, source, now, endpoint, profile, region, str(biz_id), len(rooms), int(relaxed)),
    )
    batch_id = cursor.lastrowid
    assert batch_id is not None, "an INSERT sets it"
    db.executemany(
        "INSERT INTO batch_rooms (batch_id, line, room_id, fields) VALUES (?,?,?,?)",
        [(batch_id, line, room, json.dumps(fields, separators=(",", ":"))) for line, room, fields in rooms],
    )
    return batch_id


#: the request that is a room's own, by what the batch does
ACTION_OF = {"start": "StartRecord", "stop": "StopRecord", "modify": "ModifyRecordInfo"}


def sent(db: sqlite3.Connection, batch_id: int, room_id: str, row_id: int, action: str, now: float) -> None:
    """The room's latest request is this row, if it is the batch's own action (a lookup on
    the way, DescribeTaskInfo, is tagged but does not speak for the room); the run that
    sends it is still alive (`claim`)."""
    db.execute("UPDATE batches SET run_seen_at=? WHERE id=?", (now, batch_id))
    db.execute(
        "UPDATE batch_rooms SET row_id=?, note=NULL, task_id=NULL WHERE batch_id=? AND room_id=?"
        " AND ? = (CASE (SELECT kind FROM batches WHERE id=?)"
        + "".join(f" WHEN '{kind}' THEN '{name}'" for kind, name in ACTION_OF.items())
        + " END)",
        (row_id, batch_id, room_id, action, batch_id),
    )


def settle(db: sqlite3.Connection, batch_id: int, room_id: str, note: str, task_id: int | None) -> None:
    """The room is done without its action succeeding: it already records, or has nothing to stop."""
    db.execute(
        "UPDATE batch_rooms SET note=?, task_id=? WHERE batch_id=? AND room_id=?",
        (note, None if task_id is None else str(task_id), batch_id, room_id),
    )


def claim(
    db: sqlite3.Connection,
    batch_id: int,
    holder: dict[str, Any],
    alive: Callable[[dict[str, Any], float], bool],
) -> str | None:
    """Take the batch for `holder`'s run (in the caller's transaction), unless a run of it
    that `alive` says still lives holds it: then who, in words, and nothing taken."""
    found = db.execute(
        "SELECT run_pid, run_pid_start, run_host, run_seen_at FROM batches WHERE id=?", (batch_id,)
    ).fetchone()
    if found is None:
        return f"there is no batch {batch_id}"
    pid, pid_start, host, seen_at = found
    if pid is not None and (pid, host) != (holder["pid"], holder["host"]):
        data = {"pid": pid, "pid_start": pid_start, "host": host}
        if alive(data, seen_at if isinstance(seen_at, int | float) else 0.0):
            return f"batch {batch_id} is running in process {pid} on {host}"
    db.execute(
        "UPDATE batches SET run_pid=?, run_pid_start=?, run_host=?, run_seen_at=? WHERE id=?",
        (holder["pid"], holder["pid_start"], holder["host"], time.time(), batch_id),
    )
    return None


def release(db: sqlite3.Connection, batch_id: int, pid: int) -> None:
    db.execute("UPDATE batches SET run_pid=NULL, run_pid_start=NULL, run_host=NULL WHERE id=? AND run_pid=?",
               (batch_id, pid))  # fmt: skip


def read(record: tuple, description: Any) -> Batch | None:
    """A stored batch, shape-checked; None where what makes it one is damaged."""
    data = dict(zip((d[0] for d in description), record, strict=True))
    check = Checked()
    kind, endpoint, profile = data["kind"], check.text("endpoint", data["endpoint"]), data["profile"]
    biz = check.digits("biz_id", data["biz_id"])
    if kind not in KINDS or not endpoint or not isinstance(profile, str) or biz is None:
        return None
    return Batch(
        id=data["id"],
        kind=kind,
        source=check.text("source", data["source"]) or "?",
        created_at=check.time("created_at", data["created_at"]) or 0.0,
        endpoint=endpoint,
        profile=profile,
        region=check.text("region", data["region"]),
        biz_id=int(biz),
        rooms=check.integer("rooms", data["rooms"]) or 0,
        relaxed=data.get("relaxed") == 1,
    )


#: the columns `planned` reads, in its order
PLANNED = "line, room_id, fields, row_id, note, task_id"


def planned(record: tuple) -> PlannedRoom:
    """A stored room of a batch (`PLANNED`); what is broken in it makes it `damaged`, never
    dropped: a room of the plan is always told of."""
    line, room, fields, row_id, note, task = record
    try:
        parsed = json.loads(fields) if isinstance(fields, str) else None
    except (ValueError, RecursionError):
        parsed = None
    damaged = not isinstance(room, str) or not isinstance(parsed, dict) or not isinstance(line, int)
    return PlannedRoom(
        line if isinstance(line, int) else 0,
        room if isinstance(room, str) else "?",
        parsed if isinstance(parsed, dict) else {},
        row_id if isinstance(row_id, int) else None,
        note if isinstance(note, str) else None,
        int(task) if isinstance(task, str) and task.isdigit() and task.isascii() else None,
        damaged,
    )
