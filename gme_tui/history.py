"""The SQLite store of every request and how it ended.

A row is written (pending) before a request leaves and completed when it ends,
so a crash can never lose the fact that something was sent. WAL mode and a busy
timeout let the command line and the app write at once. Secrets never reach
this file: callers hand it parameters and the service's answer, nothing else.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import recordings
from .api.errors import OutcomeKind
from .recordings import State
from .stored import Checked

if TYPE_CHECKING:
    from .recordings import Change, Recording

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
    host        TEXT NOT NULL,
    note        TEXT,
    purpose     TEXT
);
CREATE INDEX IF NOT EXISTS requests_started ON requests (started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS requests_task ON requests (task_id);
CREATE INDEX IF NOT EXISTS requests_here ON requests (endpoint, started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS requests_own ON requests (endpoint, started_at DESC, id DESC)
    WHERE purpose IS NULL OR purpose NOT IN ('check', 'refresh');
"""

#: a pending row this old is unknown even if its process seems alive (pid reuse)
STALE_AFTER = 15 * 60

#: what `PRAGMA user_version` says once `_SCHEMA` and its migrations are in; raise it when they change
SCHEMA_VERSION = 3

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
    #: what another program broke in the stored row ("task_id: ..."), each value shown
    #: in its place as nothing (or escaped); empty for a sound row
    damaged: tuple[str, ...] = ()
    #: how a reconcile settled it ("reconciled: DescribeTaskInfo (row 12) found task …")
    note: str | None = None
    #: `recordings.CHECK` for a credentials check (never a recording); None for the operator's own
    purpose: str | None = None

    def to_json(self) -> dict[str, Any]:
        """For `history --output json`: TaskId kept as an exact integer."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for key in ("task_id", "biz_id"):
            if data[key] is not None:
                data[key] = int(data[key])
        data["damaged"] = list(self.damaged)
        return data


class History:
    def __init__(self, path: Path, *, busy_timeout: float | None = None, read_only: bool = False) -> None:
        """`busy_timeout`: seconds a write waits for another writer; `BUSY_TIMEOUT` if None.
        `read_only`: only read (see `for_reading`): nothing is created, tightened or migrated."""
        self.path = path
        self.read_only = read_only
        timeout = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
        if read_only:
            self._db = _connect_read_only(path, timeout)
            return
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _tighten(path.parent, 0o700)
        # Create the file private before SQLite opens it: its -wal and -shm files
        # take the same mode, so parameters and answers are never world-readable.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        _tighten(path, 0o600)
        self._db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for suffix in ("-wal", "-shm"):  # left loose by an older version or a copy
            _tighten(self.path.with_name(self.path.name + suffix), 0o600)
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
            for column in ("pid_start", "note", "purpose"):  # a store made before each came
                if column not in columns:
                    self._db.execute(f"ALTER TABLE requests ADD COLUMN {column} TEXT")
            had_recordings = bool(
                self._db.execute("SELECT 1 FROM sqlite_master WHERE name='recordings'").fetchone()
            )
            for statement in recordings.SCHEMA.strip().split(";"):
                self._db.execute(statement)
            if not had_recordings:
                recordings.replay(self._db, time.time())
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @classmethod
    def for_reading(cls, data_dir: Path) -> History:
        """The store in `data_dir` for a command that only reads: opened as usual where it
        can be (its modes tightened, its schema brought up to date), else read-only, so
        that a history on a read-only filesystem or in a folder not writable by this
        user still reads. Raises the usual open's error when neither works."""
        path = data_dir / FILE_NAME
        try:
            return cls(path)
        except (OSError, sqlite3.Error) as error:
            if not path.is_file():
                raise
            try:
                return cls(path, read_only=True)
            except sqlite3.Error:
                raise error from None

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
        self,
        *,
        action: str,
        profile: str,
        endpoint: str,
        region: str | None,
        params: dict[str, Any],
        purpose: str | None = None,
    ) -> int:
        """Record a request about to leave; returns the row to complete later.

        A request that names a task and no room (Stop, Modify, DescribeRecordInfo)
        is filed under the room the history saw that task started in, so its row
        shows the room and the filter finds it by the room's name. A StartRecord is a
        recording from here on (`recordings.begun`), in the same transaction. `purpose`:
        `recordings.CHECK` for a credentials check, which is never a recording.
        """
        mode = params.get("RecordMode")
        task_id = _text(params.get("TaskId"))
        now = time.time()
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
                " room_id, record_mode, task_id, pid, pid_start, host, purpose)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    now,
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
                    purpose,
                ),
            )
            assert cursor.lastrowid is not None, "an INSERT sets it"
            recordings.begun(self._db, cursor.lastrowid, action, profile, endpoint, params, now, purpose)
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
    ) -> list[Change]:
        """Complete a row; what it told about recordings is applied in the same transaction
        and returned (`recordings.answered`)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        now = time.time()
        with self._write():
            self._db.execute(
                "UPDATE requests SET finished_at=?, outcome=?, duration_ms=?, response=?, request_id=?,"
                " task_id=COALESCE(?, task_id), error_code=?, error_message=? WHERE id=?",
                (
                    now,
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
            return recordings.answered(self._db, row_id, now)

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

    def page(
        self,
        limit: int = 100,
        *,
        before: tuple[float, int] | None = None,
        text: str = "",
        endpoint: str | None = None,
        own: bool = False,
    ) -> list[Row]:
        """Newest first, the `limit` rows after `before` (a row's `(started_at, id)`) that match `text`.

        Keyset paging walks the `requests_started` index from where the last page
        ended, so the thousandth page costs what the first does (OFFSET would read
        and throw away every row before it). See `matches` for what `text` matches;
        `endpoint`: that endpoint's rows only (None: every endpoint's); `own`: without the
        console's own asks (credentials checks, the recordings' refresh; see `BACKGROUND`).
        """
        where, matching = _matching(text, endpoint, own)
        args: tuple[object, ...] = matching
        if before is not None:
            # The row's stored time, not the one its Row shows: a damaged one (a text,
            # 1e300) reads as 0.0 but sorts where SQLite keeps it.
            where += (
                " AND (started_at, id) < (COALESCE((SELECT started_at FROM requests WHERE id = ?), ?), ?)"
            )
            args = (*args, before[1], before[0], before[1])
        cursor = self._db.execute(
            f"SELECT * FROM requests WHERE {where} ORDER BY started_at DESC, id DESC LIMIT ?",
            (*args, limit),
        )
        return [self._row(record, cursor.description) for record in cursor.fetchall()]

    # --- recordings (the table `recordings` keeps up to date) -------------------------

    def recordings(
        self, *, endpoint: str | None = None, limit: int = 100, before: tuple[float, int] | None = None
    ) -> list[Recording]:
        """Newest first, of one endpoint (None: all), the `limit` after `before` (keyset paging
        on `(started_at, id)`, as `page` does)."""
        self.settle()
        where, args = ("endpoint=?", (endpoint,)) if endpoint is not None else ("1", ())
        if before is not None:
            where += " AND (started_at, id) < (?, ?)"
            args = (*args, *before)
        cursor = self._db.execute(
            f"SELECT * FROM recordings WHERE {where} ORDER BY started_at DESC, id DESC LIMIT ?",
            (*args, limit),
        )
        return [recordings.read(record, cursor.description) for record in cursor.fetchall()]

    def recording(self, recording_id: int) -> Recording | None:
        cursor = self._db.execute("SELECT * FROM recordings WHERE id=?", (recording_id,))
        record = cursor.fetchone()
        return recordings.read(record, cursor.description) if record else None

    def recordings_of_task(self, task_id: int | str) -> list[Recording]:
        """Every recording with this TaskId, wherever it runs: which endpoint and profile it
        belongs to, so that an action on it goes there and nowhere else."""
        cursor = self._db.execute(
            "SELECT * FROM recordings WHERE task_id=? ORDER BY id DESC", (str(task_id),)
        )
        return [recordings.read(record, cursor.description) for record in cursor.fetchall()]

    def count_recordings(self, endpoint: str | None = None) -> int:
        if endpoint is None:
            return int(self._db.execute("SELECT COUNT(*) FROM recordings").fetchone()[0])
        return int(
            self._db.execute("SELECT COUNT(*) FROM recordings WHERE endpoint=?", (endpoint,)).fetchone()[0]
        )

    def unknown_starts(self, endpoint: str, profile: str) -> list[Recording]:
        """The recordings of this endpoint and profile whose StartRecord's outcome is unknown,
        oldest first: what a reconcile looks up."""
        self.settle()
        cursor = self._db.execute(
            "SELECT * FROM recordings WHERE endpoint=? AND profile=? AND state=? AND task_id IS NULL ORDER BY id",
            (endpoint, profile, State.UNKNOWN),
        )
        return [recordings.read(record, cursor.description) for record in cursor.fetchall()]

    def due(self, endpoint: str, profile: str, *, older_than: float, limit: int = 100) -> list[Recording]:
        """Recordings of this endpoint and profile that run or are processed and were last
        asked about before `older_than` (unix seconds), least recently asked first."""
        states = [s.value for s in State if s.running or s.processing]
        marks = ",".join("?" * len(states))
        cursor = self._db.execute(
            f"SELECT * FROM recordings WHERE endpoint=? AND profile=? AND state IN ({marks})"
            " AND (checked_at IS NULL OR checked_at < ?) ORDER BY COALESCE(checked_at, 0), id LIMIT ?",
            (endpoint, profile, *states, older_than, limit),
        )
        return [recordings.read(record, cursor.description) for record in cursor.fetchall()]

    def mark_checked(self, recording_id: int, when: float) -> None:
        """Asked about now (whatever the answer): not due again before the next interval."""
        with self._write():
            self._db.execute("UPDATE recordings SET checked_at=? WHERE id=?", (when, recording_id))

    def settle(self) -> None:
        """StartRecords whose writer went away unanswered are unknown recordings (see `Row`:
        their rows read as unknown), ready for a reconcile. A read-only store is left as it is."""
        if self.read_only:
            return
        cursor = self._db.execute(
            "SELECT r.* FROM requests r JOIN recordings c ON c.start_row = r.id"
            " WHERE c.state=? AND r.outcome=?",
            (State.STARTING, OutcomeKind.PENDING),
        )
        gone = [
            row.id
            for row in (self._row(record, cursor.description) for record in cursor.fetchall())
            if row.outcome is OutcomeKind.UNKNOWN
        ]
        if gone:
            with self._write():
                recordings.settle_unknown(self._db, gone, time.time())

    def interrupt(self) -> None:
        """Abort the query this connection is running in another thread (a filter scan no longer wanted)."""
        self._db.interrupt()

    def matches(self, row_id: int, text: str, endpoint: str | None = None, own: bool = False) -> bool:
        """Would `page(text=text)` include this row? One rule, kept in SQL, for paging and updates.

        `text` is a case-insensitive (ASCII) substring of the room, action, outcome
        (as stored or in words: "not sent"), error code, TaskId or RequestId, with
        `%` and `_` taken literally. A pending row also matches "unknown", since it
        reads as unknown once its writer is gone; the store cannot tell which in SQL.
        """
        where, args = _matching(text, endpoint, own)
        found = self._db.execute(f"SELECT 1 FROM requests WHERE id=? AND {where}", (row_id, *args))
        return found.fetchone() is not None

    def _row(self, record: tuple, description: Any) -> Row:
        """A stored row, shape-checked: what another program (or a hand) broke in it is
        shown as nothing and named in `damaged`, never a crash of whoever shows it."""
        data = dict(zip((d[0] for d in description), record, strict=True))
        check = Checked()
        row = Row(
            id=data["id"],
            started_at=check.time("started_at", data["started_at"]) or 0.0,
            finished_at=check.time("finished_at", data["finished_at"]),
            action=check.name("action", data["action"]) or "?",
            profile=check.text("profile", data["profile"]) or "?",
            endpoint=check.text("endpoint", data["endpoint"]) or "?",
            region=check.text("region", data["region"]),
            params=check.json("params", data["params"]) or {},
            biz_id=check.digits("biz_id", data["biz_id"]),
            room_id=check.text("room_id", data["room_id"]),
            record_mode=check.integer("record_mode", data["record_mode"]),
            outcome=check.outcome(data["outcome"]),
            error_code=check.name("error_code", data["error_code"]),
            error_message=check.text("error_message", data["error_message"]),
            response=check.json("response", data["response"]),
            request_id=check.text("request_id", data["request_id"]),
            task_id=check.digits("task_id", data["task_id"]),
            duration_ms=check.number("duration_ms", data["duration_ms"]),
            note=check.text("note", data.get("note")),
            purpose=check.name("purpose", data.get("purpose")),
            damaged=tuple(check.damaged),
        )
        if row.outcome is OutcomeKind.PENDING and not _writer_alive(data, row.started_at):
            row = dataclasses.replace(row, outcome=OutcomeKind.UNKNOWN)
        return row


def _connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that never writes. `mode=ro` still reads what a writer has in the WAL;
    where even that cannot work (a WAL store with no -shm beside it on a read-only
    filesystem), `immutable=1` reads the file as it is, as nothing can change it there."""
    uri = path.absolute().as_uri()
    for query in ("?mode=ro", "?mode=ro&immutable=1"):
        db = sqlite3.connect(
            uri + query, uri=True, timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute("SELECT 1 FROM requests LIMIT 1").fetchall()
        except sqlite3.Error:
            db.close()
            if query.endswith("immutable=1"):
                raise
            continue
        return db
    raise AssertionError("the loop returns or raises")


def _tighten(path: Path, mode: int) -> None:
    """Take from `path` every permission `mode` lacks (0644 becomes 0600), at every open:
    a history made loose by an older version, a copy or a umask is private again. Never
    a folder that others share on purpose (sticky, as /tmp) or the home folder, nor
    what this user does not own; a filesystem that refuses (read-only) is left as it is."""
    try:
        seen = path.stat()
        if seen.st_mode & ~mode & 0o777 == 0 or seen.st_uid != os.getuid():
            return
        if stat.S_ISDIR(seen.st_mode) and (
            seen.st_mode & stat.S_ISVTX or path.resolve() == Path.home().resolve()
        ):
            return
        os.chmod(path, stat.S_IMODE(seen.st_mode) & (mode | ~0o777))
    except (OSError, AttributeError, RuntimeError, KeyError):
        # no getuid (Windows, where modes mean little), no home folder: leave it as it is
        pass


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


#: purposes of the rows the console sends on its own, which the operator's view leaves out
BACKGROUND = (recordings.CHECK, recordings.REFRESH)
#: the test of an operator's own row, written as the partial index `requests_own` is, so that
#: SQLite pages the scoped view on that index past any number of background rows
_OWN = "(purpose IS NULL OR purpose NOT IN ('check', 'refresh'))"
assert _OWN == "(purpose IS NULL OR purpose NOT IN (" + ", ".join(f"'{p}'" for p in BACKGROUND) + "))"


def _matching(text: str, endpoint: str | None = None, own: bool = False) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (and its arguments) keeping the rows that contain `text` (and were sent
    to `endpoint`, unless None; and are the operator's own, with `own`)."""
    if own:
        where, args = _matching(text, endpoint)
        return f"{_OWN} AND {where}", args
    if endpoint is not None:
        where, args = _matching(text)
        return f"endpoint = ? AND {where}", (endpoint, *args)
    needle = text.strip()
    if not needle:
        return "1", ()
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    tests = [f"{column} LIKE ? ESCAPE '\\'" for column in _SEARCHED]
    tests.append("(outcome = 'pending' AND 'unknown' LIKE ? ESCAPE '\\')")
    return "(" + " OR ".join(tests) + ")", (pattern,) * len(tests)


def _writer_alive(data: dict[str, Any], started_at: float) -> bool:
    """Is the process that wrote this pending row still running (so still waiting)? A row
    whose writer cannot be told (its pid or time damaged) is not waited for."""
    pid, pid_start = data.get("pid"), data.get("pid_start")  # no pid_start: an old store read-only
    if time.time() - started_at > STALE_AFTER or not isinstance(pid, int) or isinstance(pid, bool):
        return False
    if data.get("host") != socket.gethostname():
        return True  # another machine sharing the folder: trust the row until it is stale
    started = _process_start(pid)
    if started is not None or pid_start is not None:
        # Where /proc tells a process's start, a reused PID or a zombie is not the writer.
        return started is not None and started == pid_start
    if os.name == "nt":
        return True  # no safe probe here (os.kill would end the process)
    try:
        os.kill(pid, 0)
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
