"""The SQLite store of every request and how it ended.

A row is written (pending) before a request leaves and completed when it ends,
so a crash can never lose the fact that something was sent. WAL mode and a busy
timeout let the command line and the app write at once. Secrets never reach
this file: callers hand it parameters and the service's answer, nothing else.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import socket
import sqlite3
import stat
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from . import recordings
from .api.errors import OutcomeKind
from .recordings import State
from .stored import Checked

if TYPE_CHECKING:
    from .batch import record as batch_record
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
    purpose     TEXT,
    batch_id    INTEGER
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
SCHEMA_VERSION = 6

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
    #: the request's RecordMode, else its recording's (a Stop's, as the recordings knew it;
    #: a DescribeTaskInfo's, as its answer said); None where neither is known
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
        #: the filter asks the text index `_TEXT` (there, and readable by this SQLite); False: LIKE
        #: over every row, as before it (what the benchmark compares it with)
        self.text_index = False
        if read_only:
            self._db = _connect_read_only(path, timeout)
            self.text_index = _text_index_works(self._db)
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
        if self._version() >= SCHEMA_VERSION:
            if not text_index_possible():
                self._drop_text_index()
                return
            if _text_index_works(self._db):
                self.text_index = True
                return
        with self._write():
            if not self._up_to_date():  # another opener may have migrated while this one waited
                self._migrate()
        self.text_index = _text_index_works(self._db)

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _up_to_date(self) -> bool:
        """At this version, with the text index wherever this SQLite can keep one."""
        return self._version() >= SCHEMA_VERSION and (
            not text_index_possible() or _text_index_works(self._db)
        )

    def _migrate(self) -> None:
        """Every step is idempotent: a store at any version (or with its text index missing)
        comes out at `SCHEMA_VERSION`."""
        version = self._version()
        for statement in _SCHEMA.strip().split(";"):
            if statement.strip():
                self._db.execute(statement)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(requests)")}
        for column in ("pid_start", "note", "purpose"):  # a store made before each came
            if column not in columns:
                self._db.execute(f"ALTER TABLE requests ADD COLUMN {column} TEXT")
        if "batch_id" not in columns:
            self._db.execute("ALTER TABLE requests ADD COLUMN batch_id INTEGER")
        for statement in _batch_record().SCHEMA.strip().split(";"):
            self._db.execute(statement)
        had_recordings = bool(
            self._db.execute("SELECT 1 FROM sqlite_master WHERE name='recordings'").fetchone()
        )
        for statement in recordings.SCHEMA.strip().split(";"):
            self._db.execute(statement)
        if not had_recordings:
            recordings.replay(self._db, time.time())
        if version < 4:
            _fill_modes(self._db)
        _track_order(self._db)
        if text_index_possible():
            _index_text(self._db)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _drop_text_index(self) -> None:
        """This SQLite has no FTS5 trigram but the store's triggers feed an index (a store made
        by another build of SQLite): with them every write would fail, so they go. The index
        is then stale, and an open by a SQLite that can keep it builds it again from the rows
        (`_text_index_works` trusts it only while its triggers are there)."""
        if not _text_triggers(self._db):
            return
        with self._write():
            for trigger in _TEXT_TRIGGERS:
                self._db.execute(f"DROP TRIGGER IF EXISTS {trigger}")

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
        batch: tuple[int, str] | None = None,
    ) -> int:
        """Record a request about to leave; returns the row to complete later.

        A request that names a task and no room (Stop, Modify, DescribeRecordInfo)
        is filed under the room the history saw that task started in, so its row
        shows the room and the filter finds it by the room's name; one that names no
        mode takes the mode its recording has (`recordings`), so that a Stop's row says
        which recording it ended. A StartRecord is a
        recording from here on (`recordings.begun`), in the same transaction. `purpose`:
        `recordings.CHECK` for a credentials check, which is never a recording. `batch`: the
        batch and room this request is for; the row is that room's latest, in the same
        transaction.
        """
        mode = params.get("RecordMode")
        task_id = _text(params.get("TaskId"))
        with self._write():
            # Read in the write lock, so that rows written by racing writers keep time order.
            now = time.time()
            room_id = params.get("RoomId")
            if room_id is None and task_id is not None:
                found = self._db.execute(
                    "SELECT room_id FROM requests WHERE task_id = ? AND room_id IS NOT NULL"
                    " ORDER BY id DESC LIMIT 1",
                    (task_id,),
                ).fetchone()
                room_id = found[0] if found else None
            if not _is_mode(mode) and task_id is not None:
                mode = self._mode_of(task_id, endpoint)
            cursor = self._db.execute(
                "INSERT INTO requests (started_at, action, profile, endpoint, region, params, biz_id,"
                " room_id, record_mode, task_id, pid, pid_start, host, purpose, batch_id)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    now,
                    action,
                    profile,
                    endpoint,
                    region,
                    _dump(params),
                    _text(params.get("BizId")),
                    room_id,
                    mode if _is_mode(mode) else None,
                    task_id,
                    os.getpid(),
                    _process_start(os.getpid()),
                    socket.gethostname(),
                    purpose,
                    batch[0] if batch else None,
                ),
            )
            assert cursor.lastrowid is not None, "an INSERT sets it"
            if batch is not None:
                _batch_record().sent(self._db, batch[0], batch[1], cursor.lastrowid, action, now)
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
                " task_id=COALESCE(?, task_id), error_code=?, error_message=?,"
                " record_mode=COALESCE(record_mode, ?) WHERE id=?",
                (
                    now,
                    outcome,
                    duration_ms,
                    _dump(response) if response is not None else None,
                    request_id,
                    _text(task_id),
                    error_code,
                    error_message,
                    # A DescribeTaskInfo (or RecordInfo) says the mode of the task it found.
                    answered if _is_mode(answered := (response or {}).get("RecordMode")) else None,
                    row_id,
                ),
            )
            return recordings.answered(self._db, row_id, now)

    def _mode_of(self, task_id: str, endpoint: str) -> int | None:
        found = self._db.execute(
            "SELECT record_mode FROM recordings WHERE task_id = ? AND endpoint = ? AND record_mode IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            (task_id, endpoint),
        ).fetchone()
        return found[0] if found and _is_mode(found[0]) else None

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

        How a filter is answered (the rows are the same whichever way, see `_matching`):
        with the text index (`_TEXT`), when it names at most `FEW` rows, those rows are
        read and sorted (a millisecond at a million rows); when it names more, the index
        is walked newest id first (`_page_in_order`), wherever in the store the matches
        lie. A needle of under 3 characters (no trigram), or a store without the index,
        walks the time index with LIKE, as it always did.
        """
        keyset, after = "1", cast("tuple[object, ...]", ())
        if before is not None:
            # The row's stored time, not the one its Row shows: a damaged one (a text,
            # 1e300) reads as 0.0 but sorts where SQLite keeps it.
            keyset = "(started_at, id) < (COALESCE((SELECT started_at FROM requests WHERE id = ?), ?), ?)"
            after = (before[1], before[0], before[1])
        order = "ORDER BY started_at DESC, id DESC LIMIT ?"
        plan = self._plan(text)
        if plan == "broad":
            found = self._page_in_order(text, endpoint, own, after, limit)
            if found is not None:
                return found
        where, args = _matching(text, endpoint, own, fts=plan != "like")
        # A few rows named by the index: read those (by rowid), never the time index.
        source = "requests NOT INDEXED" if plan == "few" else "requests"
        cursor = self._db.execute(
            f"SELECT * FROM {source} WHERE {where} AND {keyset} {order}", (*args, *after, limit)
        )
        return [self._row(record, cursor.description) for record in cursor.fetchall()]

    def _page_in_order(
        self, text: str, endpoint: str | None, own: bool, after: tuple[object, ...], limit: int
    ) -> list[Row] | None:
        """A broad filter's page from the index walked by rowid, newest first: the rows kept in
        order (`_track_order`) sort by id as by time, so their first `limit` matches are theirs
        for the page; the few rows out of order are read and sorted beside them. None where
        more than `FEW` rows are out of order (a store whose clock went wild): the time index
        is walked instead."""
        out_of_order = self._db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {_BEHIND} LIMIT ?)", (FEW + 1,))
        if int(out_of_order.fetchone()[0]) > FEW:
            return None
        phrase = _phrase(text.strip())
        where, args = _matching(text, endpoint, own)
        keyset, bound = "1", _NO_ROW
        if after:
            edge = "(COALESCE((SELECT started_at FROM requests WHERE id = ?), ?), ?)"
            keyset = f"(started_at, id) < {edge}"
            # The rows in order that sort before `after` are those below the first at or past it.
            first = self._db.execute(
                f"SELECT id FROM requests WHERE (started_at, id) >= {edge}"
                f" AND id NOT IN (SELECT id FROM {_BEHIND}) ORDER BY started_at, id LIMIT 1",
                after,
            ).fetchone()
            bound = first[0] if first is not None else _NO_ROW
        picked = [
            record[0]
            for record in self._db.execute(
                f"SELECT id FROM requests NOT INDEXED WHERE id IN (SELECT id FROM {_BEHIND})"
                f" AND {where} AND {keyset} ORDER BY started_at DESC, id DESC LIMIT ?",
                (*args, *after, limit),
            )
        ]
        in_order: list[int] = []
        chunk = limit
        while len(in_order) < limit:
            named = [
                record[0]
                for record in self._db.execute(
                    f"SELECT rowid FROM {_TEXT} WHERE {_TEXT} MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?",
                    (phrase, bound, chunk),
                )
            ]
            if named:
                marks = ",".join("?" * len(named))
                in_order += [
                    record[0]
                    for record in self._db.execute(
                        f"SELECT id FROM requests NOT INDEXED WHERE id IN ({marks})"
                        f" AND id NOT IN (SELECT id FROM {_BEHIND}) AND {where} ORDER BY id DESC",
                        (*named, *args),
                    )
                ]
            if len(named) < chunk:
                break
            bound, chunk = named[-1], min(chunk * 2, _CHUNK)
        chosen = picked + in_order[:limit]
        marks = ",".join("?" * len(chosen))
        cursor = self._db.execute(
            f"SELECT * FROM requests NOT INDEXED WHERE id IN ({marks}) ORDER BY started_at DESC, id DESC LIMIT ?",
            (*chosen, limit),
        )
        return [self._row(record, cursor.description) for record in cursor.fetchall()]

    def _plan(self, text: str) -> str:
        """ "like" (no index or no trigram in `text`), "few" (the index names at most `FEW`
        rows) or "broad" (more)."""
        phrase = _phrase(text.strip()) if self.text_index else None
        if phrase is None:
            return "like"
        found = self._db.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {_TEXT} WHERE {_TEXT} MATCH ? LIMIT ?)",
            (phrase, FEW + 1),
        )
        return "few" if int(found.fetchone()[0]) <= FEW else "broad"

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

    # --- batches (`batch.record`) ----------------------------------------------------------

    def new_batch(self, **batch: Any) -> int:
        """Record a batch and its whole plan before any of it is sent (`batch.record.create`
        names what it takes); returns its id."""
        with self._write():
            return _batch_record().create(self._db, now=time.time(), **batch)

    def batch(self, batch_id: int) -> batch_record.Batch | None:
        cursor = self._db.execute("SELECT * FROM batches WHERE id=?", (batch_id,))
        record = cursor.fetchone()
        return _batch_record().read(record, cursor.description) if record else None

    def batches(self, limit: int = 100) -> list[batch_record.Batch]:
        """Newest first; a batch whose record is damaged is left out."""
        cursor = self._db.execute("SELECT * FROM batches ORDER BY id DESC LIMIT ?", (limit,))
        found = (_batch_record().read(record, cursor.description) for record in cursor.fetchall())
        return [batch for batch in found if batch is not None]

    def batch_rooms(
        self, batch_id: int, rooms: list[str] | None = None, *, settle: bool = True
    ) -> list[tuple[batch_record.PlannedRoom, Row | None]]:
        """Each room of the batch (or those named) in the source's order, with its latest own
        request's row (None: never sent), settled as every row is (`settle`; a runner reading
        back the row it has just completed need not).

        The row is found among the requests tagged with the batch, of its action, room,
        endpoint and profile, never by `row_id` alone: a row of another batch, room or
        endpoint cannot speak for this room. A room whose `row_id` names a row that is not
        found so is `PlannedRoom.lost`: its request may have gone (`batch.run` looks it up)."""
        if settle:
            self.settle()
        batch = self.batch(batch_id)
        where, args = "batch_id=?", cast("tuple[object, ...]", (batch_id,))
        if rooms is not None:
            where += f" AND room_id IN ({','.join('?' * len(rooms))})"
            args = (*args, *rooms)
        plan = self._db.execute(
            f"SELECT {_batch_record().PLANNED} FROM batch_rooms WHERE {where} ORDER BY line, room_id", args
        ).fetchall()
        found = [_batch_record().planned(record) for record in plan]
        if batch is None:
            return [(room, None) for room in found]
        cursor = self._db.execute(
            f"SELECT * FROM requests WHERE id IN (SELECT max(id) FROM requests WHERE {where}"
            " AND action=? AND endpoint=? AND profile=? GROUP BY room_id)",
            (*args, _batch_record().ACTION_OF[batch.kind], batch.endpoint, batch.profile),
        )
        rows: dict[str, Row] = {}
        for record in cursor.fetchall():
            row = self._row(record, cursor.description)
            if row.room_id is not None:
                rows[row.room_id] = row
        paired: list[tuple[batch_record.PlannedRoom, Row | None]] = []
        for room in found:
            own = rows.get(room.room_id)
            if own is None and room.row_id is not None:
                room = dataclasses.replace(room, lost=True)
            paired.append((room, own))
        return paired

    def claim_batch(self, batch_id: int) -> str | None:
        """Take the batch for this process's run: None, or who runs it now (another process
        alive, in words), in which case nothing is taken. Two runs of one batch would each
        judge a room not yet sent and both send it."""
        with self._write():
            return _batch_record().claim(self._db, batch_id, _holder(), _writer_alive)

    def release_batch(self, batch_id: int) -> None:
        with self._write():
            _batch_record().release(self._db, batch_id, os.getpid())

    def settle_batch_room(self, batch_id: int, room_id: str, note: str, task_id: int | None = None) -> None:
        """The room is done without its own action succeeding (`batch.record.settle`)."""
        with self._write():
            _batch_record().settle(self._db, batch_id, room_id, note, task_id)

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


#: the full-text index of what the filter looks in: a contentless FTS5 table, trigram
#: tokenizer (any substring of 3+ characters, case-folded), its rowid the request's id,
#: kept in step by the triggers `_TEXT_TRIGGERS`
_TEXT = "requests_text"
_TEXT_COLUMNS = ("room_id", "action", "outcome", "outcome_words", "error_code", "task_id", "request_id")
_TEXT_TRIGGERS = ("requests_text_insert", "requests_text_delete", "requests_text_update")
#: a filter whose index lookup names at most this many rows reads them and sorts them
FEW = 5_000
#: the most rowids a broad filter takes from the index at a time (SQLite's bound on `?`s is 32766)
_CHUNK = 4_096
#: a rowid past every row's
_NO_ROW = 2**63 - 1
#: the rows out of time order (`_track_order`), and the latest time of those in order
_BEHIND = "requests_behind"
_HIGH = "requests_high"
_ORDER_TRIGGERS = ("requests_order_insert", "requests_order_update", "requests_order_delete")
#: a row stamped this far past its writer's clock is out of order, so that it cannot hold
#: every later row out of order until that time comes
_AHEAD = 86_400.0
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _text_values(prefix: str) -> str:
    """What `_TEXT` holds for a row, in its columns' order: `_SEARCHED` read from `prefix`."""
    return ", ".join(
        f"replace({prefix}outcome, '_', ' ')" if column == "outcome_words" else prefix + column
        for column in _TEXT_COLUMNS
    )


def _index_text(db: sqlite3.Connection) -> None:
    """Create `_TEXT`, its triggers, and fill it from the rows there are (the migration to
    version 4, in its transaction). A SQLite without FTS5 or its trigram tokenizer (before
    3.34) gets no index: the filter reads every row with LIKE, as before."""
    for trigger in _TEXT_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    try:
        db.execute(f"DROP TABLE IF EXISTS {_TEXT}")
        db.execute(
            f"CREATE VIRTUAL TABLE {_TEXT} USING fts5({', '.join(_TEXT_COLUMNS)},"
            " content='', tokenize='trigram')"
        )
    except sqlite3.OperationalError:
        return
    columns = ", ".join(_TEXT_COLUMNS)
    insert = f"INSERT INTO {_TEXT} (rowid, {columns}) VALUES (new.id, {_text_values('new.')});"
    delete = (
        f"INSERT INTO {_TEXT} ({_TEXT}, rowid, {columns}) VALUES ('delete', old.id, {_text_values('old.')});"
    )
    watched = ", ".join(["id", *(c for c in _TEXT_COLUMNS if c != "outcome_words")])
    db.execute(f"CREATE TRIGGER requests_text_insert AFTER INSERT ON requests BEGIN {insert} END")
    db.execute(f"CREATE TRIGGER requests_text_delete AFTER DELETE ON requests BEGIN {delete} END")
    db.execute(
        f"CREATE TRIGGER requests_text_update AFTER UPDATE OF {watched} ON requests BEGIN {delete} {insert} END"
    )
    db.execute(f"INSERT INTO {_TEXT} (rowid, {columns}) SELECT id, {_text_values('')} FROM requests")


def _track_order(db: sqlite3.Connection) -> None:
    """Keep `_BEHIND`: the rows whose time is behind that of a row written before them (a clock
    set back, two writers racing, a damaged or edited time). Every other row is in order: its
    time is at least that of every row in order before it, so among those rows the newest id
    is the newest time, and a filter can walk its index by rowid (`History._page_in_order`).
    The triggers keep it for every writer, older versions of gme-tui included; this fills it
    from the rows there are (the migration to version 5, in its transaction)."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {_BEHIND} (id INTEGER PRIMARY KEY)")
    db.execute(f"CREATE TABLE IF NOT EXISTS {_HIGH} (k INTEGER PRIMARY KEY CHECK (k = 0), at REAL NOT NULL)")
    db.execute(f"DELETE FROM {_BEHIND}")
    high, behind = -math.inf, []
    ahead = time.time() + _AHEAD
    for row_id, started_at in db.execute("SELECT id, started_at FROM requests ORDER BY id"):
        if _in_order(started_at, high, ahead):
            high = started_at
        else:
            behind.append((row_id,))
    db.executemany(f"INSERT INTO {_BEHIND} (id) VALUES (?)", behind)
    db.execute(f"INSERT OR REPLACE INTO {_HIGH} (k, at) VALUES (0, ?)", (max(high, -1e308),))
    in_order = (
        f"typeof(new.started_at) IN ('integer', 'real') AND new.started_at >= (SELECT at FROM {_HIGH})"
        f" AND new.started_at <= (julianday('now') - 2440587.5) * 86400.0 + {_AHEAD}"
    )
    for trigger in _ORDER_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute(
        "CREATE TRIGGER requests_order_insert AFTER INSERT ON requests BEGIN"
        f" UPDATE {_HIGH} SET at = new.started_at WHERE {in_order};"
        f" INSERT OR IGNORE INTO {_BEHIND} (id) SELECT new.id WHERE (SELECT at FROM {_HIGH}) IS NOT new.started_at;"
        " END"
    )
    db.execute(
        "CREATE TRIGGER requests_order_update AFTER UPDATE OF id, started_at ON requests BEGIN"
        f" INSERT OR IGNORE INTO {_BEHIND} (id) VALUES (new.id); END"
    )
    db.execute(
        f"CREATE TRIGGER requests_order_delete AFTER DELETE ON requests BEGIN DELETE FROM {_BEHIND} WHERE id = old.id; END"
    )


def _in_order(started_at: object, high: float, ahead: float) -> bool:
    """The insert trigger's test, for the rows there are: a time (not a text or a blob), not
    behind `high`, not past `ahead`."""
    return (
        isinstance(started_at, int | float)
        and not isinstance(started_at, bool)
        and high <= started_at <= ahead
    )


@functools.cache
def text_index_possible() -> bool:
    """Can this SQLite keep the text index (FTS5 with its trigram tokenizer, SQLite 3.34+)?"""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
    except sqlite3.Error:
        return False
    finally:
        db.close()
    return True


def _fill_modes(db: sqlite3.Connection) -> None:
    """The migration to version 4: a row's mode is its recording's where the request did not
    say one (`History.begin`, `History.finish`), for the rows stored before."""
    try:
        db.execute(
            "UPDATE requests SET record_mode = json_extract(response, '$.RecordMode')"
            " WHERE record_mode IS NULL AND action IN ('DescribeTaskInfo', 'DescribeRecordInfo')"
            " AND json_valid(response) AND json_type(response, '$.RecordMode') = 'integer'"
        )
    except sqlite3.OperationalError:  # a SQLite built without JSON: those rows keep no mode
        pass
    db.execute(
        "UPDATE requests SET record_mode = (SELECT c.record_mode FROM recordings c"
        " WHERE c.task_id = requests.task_id AND c.endpoint = requests.endpoint ORDER BY c.id DESC LIMIT 1)"
        " WHERE record_mode IS NULL AND task_id IS NOT NULL AND action <> 'StartRecord'"
    )


def _text_triggers(db: sqlite3.Connection) -> bool:
    marks = ",".join("?" * len(_TEXT_TRIGGERS))
    found = db.execute(
        f"SELECT 1 FROM sqlite_master WHERE type='trigger' AND name IN ({marks})", _TEXT_TRIGGERS
    )
    return found.fetchone() is not None


def _text_index_works(db: sqlite3.Connection) -> bool:
    """Is `_TEXT` there, kept by its triggers, and readable by this SQLite (FTS5, trigram)?"""
    if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION or not _text_triggers(db):
        return False
    try:
        db.execute(f"SELECT rowid FROM {_TEXT} WHERE {_TEXT} MATCH '\"abc\"' LIMIT 0").fetchall()
    except sqlite3.Error:
        return False
    return True


def _phrase(needle: str) -> str | None:
    """The FTS5 query for rows containing `needle` (a quoted phrase, its quotes doubled), or
    None where the index cannot answer as LIKE does: a needle under 3 characters (no trigram),
    or one "unknown" contains (a pending row matches it without holding it)."""
    if len(needle) < 3 or needle.translate(_ASCII_LOWER) in "unknown":
        return None
    return '"' + needle.replace('"', '""') + '"'


def _matching(
    text: str, endpoint: str | None = None, own: bool = False, *, fts: bool = False
) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause (and its arguments) keeping the rows that contain `text` (and were sent
    to `endpoint`, unless None; and are the operator's own, with `own`). `fts`: narrow the
    rows first with the index `_TEXT` where it can answer; the LIKE tests still decide, so the
    rows are the same either way (the index folds case beyond ASCII, so it names a few more)."""
    # With the index, the scope is tested on the rows it names (`+` keeps SQLite from
    # walking an endpoint's index instead, testing every row of it against the index's list).
    if own:
        where, args = _matching(text, endpoint, fts=fts)
        return f"{'+' if fts else ''}{_OWN} AND {where}", args
    if endpoint is not None:
        where, args = _matching(text, fts=fts)
        return f"{'+' if fts else ''}endpoint = ? AND {where}", (endpoint, *args)
    needle = text.strip()
    if not needle:
        return "1", ()
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    tests = [f"{column} LIKE ? ESCAPE '\\'" for column in _SEARCHED]
    tests.append("(outcome = 'pending' AND 'unknown' LIKE ? ESCAPE '\\')")
    where, args = "(" + " OR ".join(tests) + ")", (pattern,) * len(tests)
    phrase = _phrase(needle) if fts else None
    if phrase is not None:
        where = f"id IN (SELECT rowid FROM {_TEXT} WHERE {_TEXT} MATCH ?) AND {where}"
        args = (phrase, *args)
    return where, args


def _batch_record() -> Any:
    """`batch.record`, loaded with the first batch (or migration), not on the console's way to
    its first frame."""
    from .batch import record

    return record


def _holder() -> dict[str, Any]:
    """This process, as a row's writer is kept (`_writer_alive` tells if it still runs)."""
    return {"pid": os.getpid(), "pid_start": _process_start(os.getpid()), "host": socket.gethostname()}


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


def _is_mode(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
