"""The SQLite store of every request and how it ended.

A row is written (pending) before a request leaves and completed when it ends,
so a crash can never lose the fact that something was sent. WAL mode and a busy
timeout let the command line and the app write at once. Secrets never reach
this file: callers hand it parameters and the service's answer, nothing else.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .api.errors import OutcomeKind

FILE_NAME = "history.sqlite3"

#: outcomes a row can end with; a pending row reads as unknown once its writer is gone
OUTCOMES = tuple(OutcomeKind)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  REAL NOT NULL,
    finished_at REAL,
    action      TEXT NOT NULL,
    profile     TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    region      TEXT,
    params      TEXT NOT NULL,
    biz_id      TEXT,
    room_id     TEXT,
    record_mode INTEGER,
    outcome     TEXT NOT NULL DEFAULT 'pending',
    error_code  TEXT,
    error_message TEXT,
    response    TEXT,
    request_id  TEXT,
    task_id     TEXT,
    duration_ms REAL,
    pid         INTEGER NOT NULL,
    pid_start   TEXT,
    host        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_started ON requests (started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS requests_task ON requests (task_id);
"""

#: a pending row this old is unknown even if its process seems alive (pid reuse)
STALE_AFTER = 15 * 60

#: what `PRAGMA user_version` says once `_SCHEMA` and its migrations are in; raise it when they change
SCHEMA_VERSION = 1

#: seconds a write waits for another (the console and a command line writing at once
#: each hold the lock for milliseconds); read when a store is opened
BUSY_TIMEOUT = 10.0


@dataclass(frozen=True)
class Row:
    id: int
    started_at: float
    finished_at: float | None
    action: str
    profile: str
    endpoint: str
    region: str | None
    params: dict[str, Any]
    biz_id: str | None
    room_id: str | None
    record_mode: int | None
    outcome: OutcomeKind
    error_code: str | None
    error_message: str | None
    response: dict[str, Any] | None
    request_id: str | None
    task_id: str | None
    duration_ms: float | None

    def to_json(self) -> dict[str, Any]:
        """For `history --output json`: TaskId kept as an exact integer."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for key in ("task_id", "biz_id"):
            if data[key] is not None:
                data[key] = int(data[key])
        return data


class History:
    def __init__(self, path: Path, *, busy_timeout: float | None = None) -> None:
        """`busy_timeout`: seconds a write waits for another writer; `BUSY_TIMEOUT` if None."""
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create the file private before SQLite opens it: its -wal and -shm files
        # take the same mode, so parameters and answers are never world-readable.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        timeout = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Opening a store already made takes no write lock: a reader (the history
        # panel, `gme-tui history`) never waits on a writer, and a store another
        # writer holds fails at the first row written, where `calls.send` says
        # that nothing was sent.
        if self._db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
        with self._write():
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._db.execute(statement)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(requests)")}
            if "pid_start" not in columns:  # a store made by 0.1.0's first cut
                self._db.execute("ALTER TABLE requests ADD COLUMN pid_start TEXT")
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @classmethod
    def in_dir(cls, data_dir: Path) -> History:
        return cls(data_dir / FILE_NAME)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def begin(
        self, *, action: str, profile: str, endpoint: str, region: str | None, params: dict[str, Any]
    ) -> int:
        """Record a request about to leave; returns the row to complete later.

        A request that names a task and no room (Stop, Modify, DescribeRecordInfo)
        is filed under the room the history saw that task started in, so its row
        shows the room and the filter finds it by the room's name.
        """
        mode = params.get("RecordMode")
        task_id = _text(params.get("TaskId"))
        with self._write():
            room_id = params.get("RoomId")
            if room_id is None and task_id is not None:
                found = self._db.execute(
                    "SELECT room_id FROM requests WHERE task_id = ? AND room_id IS NOT NULL"
                    " ORDER BY id DESC LIMIT 1",
                    (task_id,),
                ).fetchone()
                room_id = found[0] if found else None
            cursor = self._db.execute(
                "INSERT INTO requests (started_at, action, profile, endpoint, region, params, biz_id,"
                " room_id, record_mode, task_id, pid, pid_start, host) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    time.time(),
                    action,
                    profile,
                    endpoint,
                    region,
                    _dump(params),
                    _text(params.get("BizId")),
                    room_id,
                    mode if isinstance(mode, int) else None,
                    task_id,
                    os.getpid(),
                    _process_start(os.getpid()),
                    socket.gethostname(),
                ),
            )
        assert cursor.lastrowid is not None, "an INSERT sets it"
        return cursor.lastrowid

    def finish(
        self,
        row_id: int,
        *,
        outcome: OutcomeKind,
        duration_ms: float,
        response: dict[str, Any] | None = None,
        request_id: str | None = None,
        task_id: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        with self._write():
            self._db.execute(
                "UPDATE requests SET finished_at=?, outcome=?, duration_ms=?, response=?, request_id=?,"
                " task_id=COALESCE(?, task_id), error_code=?, error_message=? WHERE id=?",
                (
                    time.time(),
                    outcome,
                    duration_ms,
                    _dump(response) if response is not None else None,
                    request_id,
                    _text(task_id),
                    error_code,
                    error_message,
                    row_id,
                ),
            )

    def rows(self, limit: int = 50, offset: int = 0) -> list[Row]:
        """Newest first."""
        cursor = self._db.execute(
            "SELECT * FROM requests ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [self._row(record, cursor.description) for record in cursor.fetchall()]

    def get(self, row_id: int) -> Row | None:
        cursor = self._db.execute("SELECT * FROM requests WHERE id=?", (row_id,))
        record = cursor.fetchone()
        return self._row(record, cursor.description) if record else None

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM requests").fetchone()[0])

    def page(self, limit: int = 100, *, before: tuple[float, int] | None = None, text: str = "") -> list[Row]:
        """Newest first, the `limit` rows after `before` (a row's `(started_at, id)`) that match `text`.

        Keyset paging walks the `requests_started` index from where the last page
        ended, so the thousandth page costs what the first does (OFFSET would read
        and throw away every row before it). See `matches` for what `text` matches.
        """
        where, matching = _matching(text)
        args: tuple[object, ...] = matching
        if before is not None:
            where += " AND (started_at, id) < (?, ?)"
            args = (*args, *before)
        cursor = self._db.execute(
            f"SELECT * FROM requests WHERE {where} ORDER BY started_at DESC, id DESC LIMIT ?",
            (*args, limit),
        )
        return [self._row(record, cursor.description) for record in cursor.fetchall()]

    def interrupt(self) -> None:
        """Abort the query this connection is running in another thread (a filter scan no longer wanted)."""
        self._db.interrupt()

    def matches(self, row_id: int, text: str) -> bool:
        """Would `page(text=text)` include this row? One rule, kept in SQL, for paging and updates.

        `text` is a case-insensitive (ASCII) substring of the room, action, outcome
        (as stored or in words: "not sent"), error code, TaskId or RequestId, with
        `%` and `_` taken literally. A pending row also matches "unknown", since it
        reads as unknown once its writer is gone; the store cannot tell which in SQL.
        """
        where, args = _matching(text)
        found = self._db.execute(f"SELECT 1 FROM requests WHERE id=? AND {where}", (row_id, *args))
        return found.fetchone() is not None

    def _row(self, record: tuple, description: Any) -> Row:
        data = dict(zip((d[0] for d in description), record, strict=True))
        params = _stored_json(data["params"])
        response = _stored_json(data["response"]) if data["response"] else None
        data["params"] = params if isinstance(params, dict) else {}
        data["response"] = response if isinstance(response, dict) else None
        data["outcome"] = _kind(data["outcome"])
        if data["outcome"] is OutcomeKind.PENDING and not _writer_alive(data):
            data["outcome"] = OutcomeKind.UNKNOWN
        for private in ("pid", "pid_start", "host"):
            data.pop(private)
        return Row(**data)


#: what the text filter looks in; outcomes also match in words ("not sent" for not_sent)
_SEARCHED = (
    "room_id",
    "action",
    "outcome",
    "replace(outcome, '_', ' ')",
    "error_code",
    "task_id",
    "request_id",
)


def _matching(text: str) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (and its arguments) keeping the rows that contain `text`."""
    needle = text.strip()
    if not needle:
        return "1", ()
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    tests = [f"{column} LIKE ? ESCAPE '\\'" for column in _SEARCHED]
    tests.append("(outcome = 'pending' AND 'unknown' LIKE ? ESCAPE '\\')")
    return "(" + " OR ".join(tests) + ")", (pattern,) * len(tests)


def _stored_json(text: str) -> Any:
    """A stored JSON column; one another program broke reads as nothing, never as a crash
    (the row itself, its outcome and ids, stays readable)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _kind(stored: str) -> OutcomeKind:
    """A stored outcome; one this version does not know (a newer one wrote it) reads as a failure."""
    try:
        return OutcomeKind(stored)
    except ValueError:
        return OutcomeKind.TRANSPORT_ERROR


def _writer_alive(data: dict[str, Any]) -> bool:
    """Is the process that wrote this pending row still running (so still waiting)?"""
    if time.time() - data["started_at"] > STALE_AFTER:
        return False
    if data["host"] != socket.gethostname():
        return True  # another machine sharing the folder: trust the row until it is stale
    started = _process_start(data["pid"])
    if started is not None or data["pid_start"] is not None:
        # Where /proc tells a process's start, a reused PID or a zombie is not the writer.
        return started is not None and started == data["pid_start"]
    if os.name == "nt":
        return True  # no safe probe here (os.kill would end the process)
    try:
        os.kill(data["pid"], 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _process_start(pid: int) -> str | None:
    """The start time of a live (not zombie) process from /proc, or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[19]  # field 22 of stat: start time in clock ticks since boot


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
