"""calls.send: the history row is written before a request leaves, and completed after.

Real parts only: a History on tmp_path, a GmeClient against the emulator over
loopback. What the server saw is observed where it happens: a hook on the
emulator's answer reads the history file through a connection of its own the
moment a request arrives, and can hold the answer until the test lets it go.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from gme_tui.api.actions import StartRecord
from gme_tui.api.client import GmeClient, RateLimiter
from gme_tui.api.fields import RecordMode
from gme_tui.calls import HistoryUnavailable, send
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.history import History

#: long enough for any machine to get a request across loopback, short of hanging the run
WAIT = 10.0
#: how long the history waits for a lock held on purpose: these tests hold it until they are done
SHORT_BUSY = 0.2


def start(room: str = "calls") -> StartRecord:
    return StartRecord(DEMO_BIZ_ID, room, RecordMode(1))


def stored(path: Path) -> list[tuple]:
    """Every row as the file holds it, read through a second, read-only connection."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return db.execute("SELECT id, action, room_id, outcome FROM requests ORDER BY id").fetchall()


class Arrivals:
    """A hook on the emulator's answer: at each request's arrival, what the history file holds.

    With `hold`, the answer waits until `release` is set (bounded, so a failing
    test cannot leave a server thread waiting forever).
    """

    def __init__(self, emulator, path: Path, monkeypatch, *, hold: bool = False, then=None) -> None:
        self.seen: list[list[tuple]] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        answer = emulator.answer

        def observing(headers, body):
            self.seen.append(stored(path))
            if then is not None:
                then()
            self.arrived.set()
            if hold:
                self.release.wait(WAIT)
            return answer(headers, body)

        monkeypatch.setattr(emulator, "answer", observing)

    async def wait(self) -> None:
        assert await asyncio.to_thread(self.arrived.wait, WAIT), f"no request arrived within {WAIT} s"


@pytest.fixture
def history(tmp_path):
    with History(tmp_path / "history.sqlite3", busy_timeout=SHORT_BUSY) as store:
        yield store


@pytest.fixture
async def client(emulator):
    # A limiter of its own: the process's is shared with every other test.
    async with GmeClient(DEMO_KEY, endpoint=emulator.url, limiter=RateLimiter()) as gme:
        yield gme


# --- (a) the row is there before the request arrives --------------------------


async def test_the_pending_row_is_in_the_file_when_the_request_arrives(
    client, history, emulator, monkeypatch
):
    arrivals = Arrivals(emulator, history.path, monkeypatch)
    outcome = await send(client, history, start("first"), profile="p")

    assert arrivals.seen == [[(outcome.row_id, "StartRecord", "first", "pending")]]
    assert outcome.error is None and outcome.history_error is None
    assert stored(history.path) == [(outcome.row_id, "StartRecord", "first", "ok")]
    assert history.get(outcome.row_id).task_id == str(outcome.result.task_id_value)


# --- (b) no row, no request -----------------------------------------------------


@pytest.mark.parametrize("spoil", ["read-only", "locked", "closed"])
async def test_a_row_that_cannot_be_written_sends_nothing(client, history, emulator, spoil):
    blocker = sqlite3.connect(history.path, isolation_level=None)
    if spoil == "read-only":
        # The store's own connection refuses writes, as on a file gone read-only under
        # it (file modes cannot show it: the tests may run as root, who ignores them).
        history._db.execute("PRAGMA query_only=ON")
    elif spoil == "locked":
        blocker.execute("BEGIN EXCLUSIVE")  # another writer, holding on
    else:
        history.close()
    started = []
    try:
        with pytest.raises(HistoryUnavailable, match=r"^cannot write the history \(.+\); nothing was sent$"):
            await send(client, history, start(), profile="p", on_start=started.append)
    finally:
        blocker.close()
    assert emulator.requests == []
    assert started == []
    assert stored(history.path) == []


# --- (c) the answer outlives a row that cannot be completed ---------------------


@pytest.mark.parametrize("spoil", ["locked", "closed"])
async def test_a_row_that_cannot_be_completed_still_gives_the_result(
    client, history, emulator, monkeypatch, spoil
):
    blocker = sqlite3.connect(history.path, isolation_level=None, check_same_thread=False)

    def spoil_history() -> None:  # on the server's thread, once the row is in and the request here
        if spoil == "locked":
            blocker.execute("BEGIN EXCLUSIVE")
        else:
            history.close()

    arrivals = Arrivals(emulator, history.path, monkeypatch, then=spoil_history)
    try:
        outcome = await send(client, history, start("kept"), profile="p")
    finally:
        if blocker.in_transaction:
            blocker.execute("ROLLBACK")
        blocker.close()

    assert outcome.error is None and outcome.result is not None
    assert outcome.result.task_id_value == emulator.service.tasks()[0].task_id
    assert outcome.history_error is not None
    assert outcome.history_error.startswith(f"the history row {outcome.row_id} could not be completed (")
    assert len(arrivals.seen) == 1
    assert stored(history.path) == [(outcome.row_id, "StartRecord", "kept", "pending")]


# --- (d) cancelled ----------------------------------------------------------------


async def test_cancelled_while_the_server_holds_the_answer_reads_as_unknown(
    client, history, emulator, monkeypatch
):
    arrivals = Arrivals(emulator, history.path, monkeypatch, hold=True)
    started = []
    call = asyncio.create_task(send(client, history, start("held"), profile="p", on_start=started.append))
    try:
        await arrivals.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    finally:
        arrivals.release.set()

    [outcome] = started
    assert outcome.kind == "unknown" and outcome.sent
    assert len(emulator.requests) == 1
    assert stored(history.path) == [(outcome.row_id, "StartRecord", "held", "unknown")]
    assert history.get(outcome.row_id).outcome == "unknown"


async def test_cancelled_before_sending_reads_as_not_sent(emulator, history):
    # The limiter's only slot is taken, so the call waits in it, row written, nothing sent.
    limiter = RateLimiter(limit=1, window=60)
    limiter.reserve()
    waiting = asyncio.Event()
    started = []

    def on_start(outcome) -> None:
        started.append(outcome)
        waiting.set()

    async with GmeClient(DEMO_KEY, endpoint=emulator.url, limiter=limiter) as client:
        call = asyncio.create_task(send(client, history, start("early"), profile="p", on_start=on_start))
        await asyncio.wait_for(waiting.wait(), WAIT)  # resumes once the call sleeps in the limiter
        [outcome] = started
        assert outcome.sent == []
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    assert outcome.kind == "not_sent"
    assert emulator.requests == []
    assert stored(history.path) == [(outcome.row_id, "StartRecord", "early", "not_sent")]
