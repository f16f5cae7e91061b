"""Where the emulator keeps its tasks: in memory, or in a SQLite file many emulators share.

The demo's history lives on disk, so its service must too: a TaskId the history
shows has to be one the next `gme-tui --demo` finds, and the console and a
one-shot demo command running at the same time, each with an emulator of its
own, must agree at every call. Each action is one `BEGIN IMMEDIATE` transaction
on the shared file, so one process's start and another's describe never
interleave.

The file is outside input like any other: another program may have written it,
truncated it or put something else at its path. Nothing read from it is
trusted: each row is shape-checked and bounded on the SQLite side before it
reaches Python, a bad row reads as no task (and is said once), and a file that
is not a state file at all is set aside, never deleted, and a new one started.
Nothing here ever raises out of `open_store`: the worst case is a warning and
tasks kept in memory.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gme_tui.api.fields import ALLOW, BLOCK, MAX_USER_IDS, ROOM_ID_MAX, UINT64_MAX

#: seconds an action waits for another emulator's (each holds the file for milliseconds)
BUSY_TIMEOUT = 10.0
#: a state file larger than this is not one the emulator wrote for a demo: set aside unread
MAX_FILE_BYTES = 64 * 1024 * 1024
#: the lists of one task, as JSON: what one request body can carry at most
MAX_LISTS_CHARS = 10 * 1024 * 1024
#: no time the emulator writes is before 2000 or after 2200
_TIME_MIN, _TIME_MAX = 946_684_800, 7_258_118_400
SCHEMA_VERSION = 1

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS tasks ("
    " task_id TEXT PRIMARY KEY, biz_id TEXT NOT NULL, room_id TEXT NOT NULL,"
    " mode INTEGER NOT NULL, lists TEXT, begin_time INTEGER NOT NULL, stopped_at REAL)",
    "CREATE TABLE IF NOT EXISTS running ("
    " biz_id TEXT NOT NULL, room_id TEXT NOT NULL, task_id TEXT NOT NULL,"
    " PRIMARY KEY (biz_id, room_id))",
)
_COLUMNS = {
    "tasks": ("task_id", "biz_id", "room_id", "mode", "lists", "begin_time", "stopped_at"),
    "running": ("biz_id", "room_id", "task_id"),
}
#: what may stand in sqlite_master: our tables and the indexes of their keys, nothing that runs
_OBJECTS = {("table", "tasks"), ("table", "running")}
_DIGITS = re.compile(r"[1-9][0-9]{0,19}")


def _bounded(column: str, limit: int) -> str:
    """The column if it is small enough, else NULL, decided before the value leaves SQLite;
    with its type, so that a value too large reads apart from a NULL one."""
    return f"typeof({column}), CASE WHEN length(CAST({column} AS BLOB)) <= {limit} THEN {column} END"


#: a task's columns, each as (type, bounded value): what `_task_from` reads
_TASK_VALUES = ", ".join(
    (
        _bounded("task_id", 20),
        _bounded("biz_id", 20),
        _bounded("room_id", ROOM_ID_MAX * 4),
        _bounded("mode", 20),
        _bounded("lists", MAX_LISTS_CHARS),
        _bounded("begin_time", 32),
        _bounded("stopped_at", 32),
    )
)
_TASK_SELECT = f"SELECT {_TASK_VALUES}"
_RUNNING_VALUES = ", ".join(
    (_bounded("biz_id", 20), _bounded("room_id", ROOM_ID_MAX * 4), _bounded("task_id", 20))
)


@dataclass
class Task:
    task_id: int
    biz_id: int
    room_id: str
    mode: int
    subscription: dict[str, list[str]] | None
    begin_time: int
    stopped_at: float | None = None


class Tasks(Protocol):
    """What an action may do with the tasks, inside one transaction."""

    def task(self, task_id: int) -> Task | None: ...
    def running(self, biz_id: int, room_id: str) -> int | None: ...
    def add(self, task: Task) -> None:
        """A new task, running in its room."""

    def save(self, task: Task) -> None:
        """A task changed (mode, lists, stopped); a stopped one no longer runs in its room."""

    def all(self) -> list[Task]: ...


class Store(Protocol):
    path: Path | None

    def transaction(self) -> contextlib.AbstractContextManager[Tasks]: ...
    def close(self) -> None: ...


# --- in memory ---------------------------------------------------------------


class MemoryStore:
    """The tasks of this emulator only, gone when it is: the tests' and `gme-tui emulator`'s."""

    path: Path | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[int, Task] = {}
        self._running: dict[tuple[int, str], int] = {}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tasks]:
        with self._lock:
            yield self

    def close(self) -> None:
        pass

    def task(self, task_id: int) -> Task | None:
        return self._tasks.get(task_id)

    def running(self, biz_id: int, room_id: str) -> int | None:
        return self._running.get((biz_id, room_id))

    def add(self, task: Task) -> None:
        self._tasks[task.task_id] = task
        self._running[(task.biz_id, task.room_id)] = task.task_id

    def save(self, task: Task) -> None:
        self._tasks[task.task_id] = task
        key = (task.biz_id, task.room_id)
        if task.stopped_at is not None and self._running.get(key) == task.task_id:
            del self._running[key]

    def all(self) -> list[Task]:
        return list(self._tasks.values())


# --- in a file -------------------------------------------------------------------


class SqliteStore:
    """The tasks in a SQLite file, shared by every emulator opened on it.

    One connection, used under a lock by the server's threads; each transaction
    takes the file's write lock first (`BEGIN IMMEDIATE`), so that what it reads
    is still true when it writes, whichever process wrote last.
    """

    def __init__(self, path: Path, warn: Callable[[str], None]) -> None:
        self.path: Path | None = path
        self._warn = warn
        self._said: set[str] = set()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            for suffix in ("-wal", "-shm"):
                _tighten(self.path.with_name(self.path.name + suffix), 0o600)
        except BaseException:
            db.close()
            raise
        return db

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tasks]:
        with self._lock:
            if self._db is None:
                self._db = self._connect()
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield _FileTasks(db, self._bad_row)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                db.close()

    def _bad_row(self, why: str) -> None:
        """A row another program broke while this emulator ran: said once, then read as no task."""
        if why not in self._said:
            self._said.add(why)
            self._warn(f"the emulator's state file {self.path} has a damaged task ({why}); it is skipped")

    def sweep(self) -> int:
        """Delete every row no emulator can read; how many there were."""
        with self._lock:
            assert self._db is not None
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                bad = [
                    rowid
                    for rowid, *values in db.execute(f"SELECT rowid, {_TASK_VALUES} FROM tasks")
                    if _task_from(values) is None
                ]
                bad_running = [
                    rowid
                    for rowid, biz_type, biz, room_type, room, task_type, task in db.execute(
                        f"SELECT rowid, {_RUNNING_VALUES} FROM running"
                    )
                    if _id(biz_type, biz) is None
                    or _room(room_type, room) is None
                    or _id(task_type, task) is None
                ]
                db.executemany("DELETE FROM tasks WHERE rowid = ?", [(r,) for r in bad])
                db.executemany("DELETE FROM running WHERE rowid = ?", [(r,) for r in bad_running])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return len(bad) + len(bad_running)


class _FileTasks:
    def __init__(self, db: sqlite3.Connection, bad_row: Callable[[str], None]) -> None:
        self._db = db
        self._bad_row = bad_row

    def task(self, task_id: int) -> Task | None:
        row = self._db.execute(
            _TASK_SELECT + " FROM tasks WHERE task_id = ? LIMIT 1", (str(task_id),)
        ).fetchone()
        if row is None:
            return None
        task = _task_from(row)
        if task is None or task.task_id != task_id:
            self._bad_row(f"task {task_id}")
            return None
        return task

    def running(self, biz_id: int, room_id: str) -> int | None:
        row = self._db.execute(
            f"SELECT {_bounded('task_id', 20)} FROM running WHERE biz_id = ? AND room_id = ? LIMIT 1",
            (str(biz_id), room_id),
        ).fetchone()
        if row is None:
            return None
        task_id = _id(*row)
        if task_id is None:
            self._bad_row(f"the task running in room {room_id!r}")
            return None
        task = self.task(task_id)
        if task is None or task.stopped_at is not None or (task.biz_id, task.room_id) != (biz_id, room_id):
            return None  # a room whose task is gone or stopped is free
        return task_id

    def add(self, task: Task) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO tasks (task_id, biz_id, room_id, mode, lists, begin_time, stopped_at)"
            " VALUES (?,?,?,?,?,?,?)",
            _row_of(task),
        )
        self._db.execute(
            "INSERT OR REPLACE INTO running (biz_id, room_id, task_id) VALUES (?,?,?)",
            (str(task.biz_id), task.room_id, str(task.task_id)),
        )

    def save(self, task: Task) -> None:
        self._db.execute(
            "UPDATE tasks SET biz_id=?, room_id=?, mode=?, lists=?, begin_time=?, stopped_at=? WHERE task_id=?",
            (*_row_of(task)[1:], str(task.task_id)),
        )
        if task.stopped_at is not None:
            self._db.execute(
                "DELETE FROM running WHERE biz_id = ? AND room_id = ? AND task_id = ?",
                (str(task.biz_id), task.room_id, str(task.task_id)),
            )

    def all(self) -> list[Task]:
        tasks = []
        for row in self._db.execute(_TASK_SELECT + " FROM tasks ORDER BY rowid"):
            task = _task_from(row)
            if task is not None:
                tasks.append(task)
        return tasks


def _row_of(task: Task) -> tuple[Any, ...]:
    lists = None if task.subscription is None else json.dumps(task.subscription, ensure_ascii=False)
    return (
        str(task.task_id),
        str(task.biz_id),
        task.room_id,
        task.mode,
        lists,
        task.begin_time,
        task.stopped_at,
    )


# --- reading a row: every value checked ----------------------------------------


def _id(kind: str, value: Any) -> int | None:
    """A TaskId or BizId: decimal text only (never a float, never text that is not digits)."""
    if kind != "text" or not isinstance(value, str) or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= UINT64_MAX else None


def _room(kind: str, value: Any) -> str | None:
    if kind != "text" or not isinstance(value, str) or not 1 <= len(value) <= ROOM_ID_MAX:
        return None
    return value


def _time(kind: str, value: Any) -> float | None:
    if kind not in ("integer", "real") or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or not _TIME_MIN <= value <= _TIME_MAX:
        return None
    return float(value)


def _lists(kind: str, value: Any) -> dict[str, list[str]] | None | bool:
    """The lists, None for "all users", False when damaged."""
    if kind == "null":
        return None
    if kind != "text" or not isinstance(value, str):
        return False
    try:
        lists = json.loads(value, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return False
    if not isinstance(lists, dict) or not set(lists) <= {ALLOW, BLOCK}:
        return False
    for items in lists.values():
        if (
            not isinstance(items, list)
            or len(items) > MAX_USER_IDS
            or not all(isinstance(i, str) for i in items)
        ):
            return False
    return lists


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _task_from(row: Any) -> Task | None:
    """The task of one selected row (pairs of type and bounded value), or None if damaged."""
    if len(row) != 14:
        return None
    (
        (tid_t, tid),
        (biz_t, biz),
        (room_t, room),
        (mode_t, mode),
        (lists_t, lists),
        (begin_t, begin),
        (
            stop_t,
            stop,
        ),
    ) = (row[i : i + 2] for i in range(0, 14, 2))
    task_id, biz_id, room_id = _id(tid_t, tid), _id(biz_t, biz), _room(room_t, room)
    subscription = _lists(lists_t, lists)
    begin_time = _time(begin_t, begin)
    stopped_at = None if stop_t == "null" else _time(stop_t, stop)
    if (
        task_id is None
        or biz_id is None
        or room_id is None
        or mode_t != "integer"
        or mode not in (1, 2, 3)
        or subscription is False
        or begin_t != "integer"
        or begin_time is None
        or (stop_t != "null" and stopped_at is None)
    ):
        return None
    assert subscription is not True
    return Task(task_id, biz_id, room_id, int(mode), subscription, int(begin_time), stopped_at)


# --- opening a file ------------------------------------------------------------


def open_store(path: Path | None, warn: Callable[[str], None]) -> Store:
    """The store at `path` (None: in memory). Never raises: a file that cannot be a state
    file is set aside and a new one started, and where no file can be made at all the
    tasks are kept in memory; each with one line to `warn`."""
    if path is None:
        return MemoryStore()
    try:
        return _open_file(path, warn)
    except (OSError, sqlite3.Error) as error:
        warn(f"cannot keep the emulator's tasks in {path} ({_reason(error)}); they are kept in memory only")
        return MemoryStore()


def _open_file(path: Path, warn: Callable[[str], None]) -> SqliteStore:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path.parent, 0o700)
    problem = _not_a_state_file(path)
    if problem is None:
        try:
            store = SqliteStore(path, warn)
            try:
                problem = _check_schema(store)
                if problem is None:
                    swept = store.sweep()
                    if swept:
                        warn(
                            f"the emulator's state file {path} had {swept} damaged task row(s);"
                            " they were skipped and removed"
                        )
                    return store
            except BaseException:
                store.close()
                raise
            store.close()
        except sqlite3.DatabaseError as error:  # not a database, damaged, or its schema is
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise
            problem = _reason(error)
    aside = _set_aside(path)
    warn(
        f"the emulator's state file {path} could not be used ({problem});"
        + (f" it was moved to {aside}" if aside else "")
        + " and the demo starts with no tasks"
    )
    return _new_file(path, warn)


def _new_file(path: Path, warn: Callable[[str], None]) -> SqliteStore:
    store = SqliteStore(path, warn)
    try:
        problem = _check_schema(store)
    except BaseException:
        store.close()
        raise
    if problem is not None:  # another process put something else there in between
        store.close()
        raise sqlite3.DatabaseError(problem)
    return store


def _not_a_state_file(path: Path) -> str | None:
    """Why the file at `path` must not be opened (a FIFO would hang, a huge one is not ours);
    None when it may, or when there is none yet (it is made here, private)."""
    try:
        fd = os.open(
            path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0), 0o600
        )
    except IsADirectoryError:
        return "it is a folder"
    try:
        seen = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(seen.st_mode):
        return "it is not a regular file"
    if seen.st_size > MAX_FILE_BYTES:
        return f"it is larger than {MAX_FILE_BYTES >> 20} MiB"
    _tighten(path, 0o600)
    return None


def _check_schema(store: SqliteStore) -> str | None:
    """Our tables made where missing; why the file is not ours, or None."""
    with store._lock:
        db = store._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            problem = _schema_problem(db)
            if problem is None:
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return problem


def _schema_problem(db: sqlite3.Connection) -> str | None:
    checked = db.execute("PRAGMA quick_check(1)").fetchone()
    if checked is None or checked[0] != "ok":
        return "it is damaged"
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, SCHEMA_VERSION):
        return f"it is of another version ({version})"
    objects = db.execute("SELECT type, name FROM sqlite_master LIMIT 100").fetchall()
    for kind, name in objects:
        if (kind, name) not in _OBJECTS and not (
            kind == "index" and str(name).startswith("sqlite_autoindex_")
        ):
            return "it holds more than an emulator's tasks"
    for table, columns in _COLUMNS.items():
        if ("table", table) in objects:
            found = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})"))
            if found != columns:
                return f"its table {table} is not the emulator's"
    return None


def _set_aside(path: Path) -> Path | None:
    """Move the file (and its -wal and -shm) beside itself under a new name; None if it is gone."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(100):
        aside = path.with_name(f"{path.name}.damaged-{stamp}" + (f"-{n}" if n else ""))
        if not aside.exists():
            break
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return None
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(OSError):
            os.replace(path.with_name(path.name + suffix), aside.with_name(aside.name + suffix))
    return aside


def _tighten(path: Path, mode: int) -> None:
    """Take from `path` every permission `mode` lacks, if this user owns it (as the history does)."""
    try:
        seen = path.stat()
        if seen.st_mode & ~mode & 0o777 and seen.st_uid == os.getuid():
            if stat.S_ISDIR(seen.st_mode) and (
                seen.st_mode & stat.S_ISVTX or path.resolve() == Path.home().resolve()
            ):
                return
            os.chmod(path, stat.S_IMODE(seen.st_mode) & mode)
    except (OSError, AttributeError):
        pass


def _reason(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return text[:200]
