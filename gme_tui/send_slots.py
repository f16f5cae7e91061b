"""The send rate limit across processes: every gme-tui that shares a data folder counts
the sends of all the others.

The client's own `RateLimiter` holds one process under the service's 20 per second;
two `gme-tui start` run by a shell loop, or a cron job beside the console, would
together go over it and get `RequestLimitExceeded`. `SharedLimiter` has the same
interface and the same rule (a send leaves only while fewer than `limit` sends are
open or answered within the window), with the tickets kept in a small SQLite file in
the data folder: taking one is one `BEGIN IMMEDIATE` transaction that forgets the
tickets no longer counted, reads the others and inserts the next; its answer is one
UPDATE of its row. Times are the wall clock (`time.time`), the one clock that
processes (and machines sharing the folder) agree on.

A process killed mid-request never writes its answer: each row carries its bound (its
slot plus the request's timeout and an allowance), when it counts as answered, so that
the others wait on it that long at most.

If the file cannot be used (a read-only folder, a lock held too long, a file that
is not SQLite), the limiter counts this process's sends alone, as the client's own
does: a send is never refused for want of a slot file.

Imported by `context.make_client` only, with the client (httpx) it is made for.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .api.client import DEFAULT_TIMEOUT, RateLimiter, Ticket, ticket_for

FILE_NAME = "send-slots.sqlite3"
#: the client's RateLimiter: 20 sends open or answered within the last 1 s
LIMIT = 20
WINDOW = 1.0
#: seconds a reservation waits for another process's (each holds the lock for a
#: millisecond); past it, this process counts on its own
BUSY_TIMEOUT = 2.0
#: a slot further ahead than this is not a queued send but a clock set back or a
#: damaged file: dropped, so that it cannot hold every sender back
MAX_AHEAD = 60.0
#: a row held longer than any timeout allows (`options.MAX_TIMEOUT`) is damaged: dropped
MAX_HOLD = 600.0

_COLUMNS = ["id", "slot", "answered", "bound"]
_SCHEMA = """CREATE TABLE send_slots (
    id INTEGER PRIMARY KEY,
    slot REAL NOT NULL,     -- when it may leave
    answered REAL,          -- when its answer (or failure) came; NULL while open
    bound REAL NOT NULL     -- when it counts as answered if never told (its process killed)
)"""


class SharedLimiter(RateLimiter):
    """The client's rule, counted over every process whose limiter uses the same file.
    Thread-safe; the connection opens on the first reservation, so a client that never
    sends never touches the file. Every ticket is kept in this process's own list too,
    so that where the file fails, `RateLimiter`'s count (this process's) goes on from
    where it was."""

    def __init__(
        self,
        path: Path,
        *,
        limit: int = LIMIT,
        window: float = WINDOW,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> None:
        super().__init__(limit, window, clock)
        self.path = path
        self._busy_timeout = busy_timeout
        self._db: sqlite3.Connection | None = None
        self._shared_lock = threading.Lock()
        #: why the file is not in use, once it failed (the process then counts alone)
        self.problem: str | None = None

    def reserve(self, spare: int = 0, hold: float = DEFAULT_TIMEOUT) -> Ticket | None:
        """Take the next slot (`RateLimiter.reserve`), from the file while it serves."""
        with self._shared_lock:
            if self.problem is None:
                try:
                    return self._reserve_shared(spare, hold)
                except (sqlite3.Error, OSError) as error:
                    self._drop(error)
        return super().reserve(spare, hold)

    async def _reserve_async(self, spare: int, hold: float) -> Ticket | None:
        import asyncio  # here, so that the sync driver never loads the event loop

        # In a thread: a reservation waiting on another process's lock must not stall the console.
        return await asyncio.to_thread(self.reserve, spare, hold)

    async def done(self, ticket: Ticket) -> None:
        """Answered now unless it was already, then written to the file (in a thread, as above)."""
        import asyncio

        self.answered(ticket)
        if ticket.row is not None:
            await asyncio.to_thread(self._share, ticket)

    def done_sync(self, ticket: Ticket) -> None:
        self.answered(ticket)
        self._share(ticket)

    def close(self) -> None:
        with self._shared_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _reserve_shared(self, spare: int, hold: float) -> Ticket | None:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            now = self._clock()
            db.execute(
                "DELETE FROM send_slots WHERE COALESCE(answered, bound) <= ? OR slot > ? OR bound > slot + ?",
                (now - self.window, now + MAX_AHEAD, MAX_HOLD),
            )
            rows = db.execute("SELECT slot, answered, bound FROM send_slots").fetchall()
            ends = [Ticket(slot, bound, answered).end(now, self.window) for slot, answered, bound in rows]
            ticket = ticket_for(now, ends, self.limit, spare, hold)
            if ticket is None:
                db.execute("ROLLBACK")
                return None
            ticket.row = db.execute(
                "INSERT INTO send_slots (slot, bound) VALUES (?, ?)", (ticket.slot, ticket.bound)
            ).lastrowid
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        with self._lock:  # this process's own count, should the file fail later
            self._ends(now)
            self._tickets.append(ticket)
        return ticket

    def _share(self, ticket: Ticket) -> None:
        """Write its answer to its row, once."""
        with self._shared_lock:
            row, ticket.row = ticket.row, None
            if row is None or self._db is None or self.problem is not None:
                return
            try:
                self._db.execute("UPDATE send_slots SET answered = ? WHERE id = ?", (ticket.answer, row))
            except (sqlite3.Error, OSError) as error:
                self._drop(error)

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # Created private like the history beside it (slot times are no secret, but the
            # folder's files are the user's alone).
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            db = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            try:
                db.execute("PRAGMA journal_mode=WAL")
                # Losing the last slots to a power cut costs nothing: no fsync on each send.
                db.execute("PRAGMA synchronous=OFF")
                _ensure_schema(db)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def _drop(self, error: BaseException) -> None:
        self.problem = f"{self.path}: {error}"
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None


def _ensure_schema(db: sqlite3.Connection) -> None:
    """The table as this version keeps it. An older file (slots without answers) holds only
    slots of the last second or so: it is made anew rather than migrated. A process of the
    older version still running then fails on the file and counts alone."""
    db.execute("BEGIN IMMEDIATE")
    try:
        columns = [row[1] for row in db.execute("PRAGMA table_info(send_slots)")]
        if columns != _COLUMNS:
            db.execute("DROP TABLE IF EXISTS send_slots")
            db.execute(_SCHEMA)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


_shared: dict[Path, SharedLimiter] = {}
_shared_lock = threading.Lock()


def for_folder(data_dir: Path) -> SharedLimiter:
    """The one limiter of this process for a data folder: every client of the process
    (the console after a profile switch, each command of a batch) takes its slots
    from the same queue, and the file is opened once."""
    path = (data_dir / FILE_NAME).absolute()
    with _shared_lock:
        limiter = _shared.get(path)
        if limiter is None:
            limiter = _shared[path] = SharedLimiter(path)
        return limiter
