"""calls.send_sync: the blocking driver gets the same history-first rule as calls.send.

The logic is one (`calls._recorded`); these show it holds around the sync
driver too, with the observers of tests/core/test_calls.py: the row is in the file
when the request arrives, no row means no request, and a Ctrl+C while the
server holds the answer leaves the row saying "unknown".
"""

from __future__ import annotations

import signal
import sqlite3
import threading

import pytest
from test_calls import SHORT_BUSY, Arrivals, start, stored

from gme_tui.api.client import RateLimiter, SyncGmeClient
from gme_tui.calls import HistoryUnavailable, send_sync
from gme_tui.emulator import DEMO_KEY
from gme_tui.history import History


@pytest.fixture
def history(tmp_path):
    with History(tmp_path / "history.sqlite3", busy_timeout=SHORT_BUSY) as store:
        yield store


@pytest.fixture
def client(emulator):
    with SyncGmeClient(DEMO_KEY, endpoint=emulator.url, limiter=RateLimiter()) as gme:
        yield gme


def test_the_pending_row_is_in_the_file_when_the_request_arrives(client, history, emulator, monkeypatch):
    arrivals = Arrivals(emulator, history.path, monkeypatch)
    outcome = send_sync(client, history, start("first"), profile="p")

    assert arrivals.seen == [[(outcome.row_id, "StartRecord", "first", "pending")]]
    assert outcome.error is None and outcome.history_error is None
    assert stored(history.path) == [(outcome.row_id, "StartRecord", "first", "ok")]


def test_a_row_that_cannot_be_written_sends_nothing(client, history, emulator):
    blocker = sqlite3.connect(history.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer, holding on
    started = []
    try:
        with pytest.raises(HistoryUnavailable, match=r"^cannot write the history \(.+\); nothing was sent$"):
            send_sync(client, history, start(), profile="p", on_start=started.append)
    finally:
        blocker.close()
    assert emulator.requests == []
    assert started == []


def test_ctrl_c_while_the_server_holds_the_answer_reads_as_unknown(client, history, emulator, monkeypatch):
    # SIGINT as a terminal's Ctrl+C delivers it, to this (the main) thread, blocked in its read;
    # Python's own handler, even where the test run was started with SIGINT ignored.
    main_thread = threading.main_thread().ident
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    arrivals = Arrivals(
        emulator,
        history.path,
        monkeypatch,
        hold=True,
        then=lambda: signal.pthread_kill(main_thread, signal.SIGINT),
    )
    started = []
    try:
        with pytest.raises(KeyboardInterrupt):
            send_sync(client, history, start("held"), profile="p", on_start=started.append)
    finally:
        arrivals.release.set()
        signal.signal(signal.SIGINT, previous)

    [outcome] = started
    assert outcome.kind == "unknown" and outcome.sent
    assert len(emulator.requests) == 1
    assert stored(history.path) == [(outcome.row_id, "StartRecord", "held", "unknown")]
