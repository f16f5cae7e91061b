"""The send rate limit across processes: every gme-tui that shares a data folder counts
the sends of all the others.

The client's own `RateLimiter` holds one process under the service's 20 per second;
two `gme-tui start` run by a shell loop, or a cron job beside the console, would
together go over it and get `RequestLimitExceeded`. `SharedLimiter` has the same
interface (`reserve`, `wait`, `wait_sync`) and the same rule (at most `limit` slots
in any window plus margin), with the slots kept in a small SQLite file in the data
folder: taking one is one `BEGIN IMMEDIATE` transaction that prunes the slots past
the window, reads the latest `limit`, and inserts the next. Slot times are the wall
clock (`time.time`), the one clock that processes (and machines sharing the folder)
agree on.

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

from .api.client import RateLimiter, has_spare, next_slot

FILE_NAME = "send-slots.sqlite3"
#: the client's RateLimiter: 20 sends in any 1 s window, plus 250 ms for their differing
#: times on the way (see api/client.py)
LIMIT = 20
WINDOW = 1.0
MARGIN = 0.25
#: seconds a reservation waits for another process's (each holds the lock for a
#: millisecond); past it, this process counts on its own
BUSY_TIMEOUT = 2.0
#: a slot further ahead than this is not a queued send but a clock set back or a
#: damaged file: dropped, so that it cannot hold every sender back
MAX_AHEAD = 60.0

_SCHEMA = "CREATE TABLE IF NOT EXISTS send_slots (slot REAL NOT NULL)"


class SharedLimiter(RateLimiter):
    """At most `limit` sends in any `window + margin` seconds, counted over every process
    whose limiter uses the same file. Thread-safe; the connection opens on the first
    reservation, so a client that never sends never touches the file. Where the file
    fails, `RateLimiter`'s own slots (this process's) count instead."""

    def __init__(
        self,
        path: Path,
        *,
        limit: int = LIMIT,
        window: float = WINDOW,
        margin: float = MARGIN,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = BUSY_TIMEOUT,
    ) -> None:
        super().__init__(limit, window, margin, clock)
        self.path = path
        self._busy_timeout = busy_timeout
        self._db: sqlite3.Connection | None = None
        self._shared_lock = threading.Lock()
        #: why the file is not in use, once it failed (the process then counts alone)
        self.problem: str | None = None

    def reserve(self, spare: int = 0) -> float | None:
        """Take the next free slot; return how long to wait for it (`RateLimiter.reserve`)."""
        with self._shared_lock:
            if self.problem is None:
                try:
                    return self._reserve_shared(spare)
                except (sqlite3.Error, OSError) as error:
                    self._drop(error)
        return super().reserve(spare)

    async def wait(self, spare: int = 0) -> None:
        import asyncio  # here, so that the sync driver never loads the event loop

        from .api.client import SPARE_POLL

        # In a thread: a reservation waiting on another process's lock must not stall the console.
        while (delay := await asyncio.to_thread(self.reserve, spare)) is None:
            await asyncio.sleep(SPARE_POLL)
        if delay > 0:
            await asyncio.sleep(delay)

    def close(self) -> None:
        with self._shared_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _reserve_shared(self, spare: int) -> float | None:
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            now = self._clock()
            db.execute(
                "DELETE FROM send_slots WHERE slot <= ? OR slot > ?", (now - self.span, now + MAX_AHEAD)
            )
            latest = [
                row[0]
                for row in db.execute("SELECT slot FROM send_slots ORDER BY slot DESC LIMIT ?", (self.limit,))
            ]
            if spare and not has_spare(now, latest, self.limit, self.span, spare):
                db.execute("ROLLBACK")
                return None
            slot = next_slot(now, latest, self.limit, self.span)
            db.execute("INSERT INTO send_slots (slot) VALUES (?)", (slot,))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return slot - now

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
                db.execute(_SCHEMA)
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
