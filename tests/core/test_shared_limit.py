"""The rate limit holds across processes that share a data folder (`gme_tui.send_slots`).

Two limiters on one file stand for two processes (they share nothing but the file);
then real processes, released at once against the emulator (which enforces 20 per
second), must together get no RequestLimitExceeded.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import pytest

from gme_tui.context import Flags, make_client, resolve
from gme_tui.emulator import DEMO_KEY, DEMO_SECRET_ID, DEMO_SECRET_KEY
from gme_tui.history import History
from gme_tui.send_slots import FILE_NAME, SharedLimiter, for_folder
from gme_tui.settings import Settings


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_two_processes_on_one_folder_share_the_twenty_slots(tmp_path):
    clock = Clock()
    first = SharedLimiter(tmp_path / FILE_NAME, clock=clock)
    second = SharedLimiter(tmp_path / FILE_NAME, clock=clock)  # another process: only the file is shared
    mine = [first.reserve() for _ in range(12)]
    theirs = [second.reserve() for _ in range(8)]
    assert [ticket.slot for ticket in mine + theirs] == [clock.now] * 20
    assert second.reserve() is None and first.reserve() is None  # the 21st: all twenty still open
    clock.now += 0.1
    second.done_sync(theirs[0])  # the other process's answer, through the file
    assert first.reserve().slot == pytest.approx(clock.now + 1.0)  # a window after that answer
    assert second.reserve() is None
    assert first.problem is None and second.problem is None
    first.close()
    second.close()


def test_the_consoles_async_wait_takes_its_slots_from_the_file_too(tmp_path):
    import asyncio

    limiter = SharedLimiter(tmp_path / FILE_NAME, limit=1, window=0.05)

    async def twice() -> None:
        await limiter.done(await limiter.wait())
        await limiter.done(await limiter.wait())  # a window after the first one's answer

    asyncio.run(twice())
    db = sqlite3.connect(tmp_path / FILE_NAME)
    rows = db.execute("SELECT slot, answered FROM send_slots ORDER BY slot").fetchall()
    db.close()
    limiter.close()
    assert len(rows) == 2 and all(answered is not None for _slot, answered in rows)
    assert rows[1][0] - rows[0][1] >= 0.05 - 1e-6  # a window apart (within a float of unix seconds)


def test_old_slots_are_forgotten_and_one_far_ahead_holds_nobody_back(tmp_path):
    clock = Clock()
    limiter = SharedLimiter(tmp_path / FILE_NAME, clock=clock)
    for _ in range(20):
        limiter.done_sync(limiter.reserve())
    clock.now += 10
    assert limiter.reserve().slot == clock.now
    db = sqlite3.connect(tmp_path / FILE_NAME)
    far = [(clock.now + 3600, clock.now + 3610)] * 25  # a clock set back
    db.executemany("INSERT INTO send_slots (slot, bound) VALUES (?, ?)", far)
    held = [(clock.now, clock.now + 10**6)] * 25  # held longer than any timeout: a damaged file
    db.executemany("INSERT INTO send_slots (slot, bound) VALUES (?, ?)", held)
    db.commit()
    assert limiter.reserve().slot == clock.now
    assert db.execute("SELECT COUNT(*) FROM send_slots").fetchone()[0] == 2  # the one before, this one
    db.close()
    limiter.close()


def test_a_slot_file_that_cannot_be_used_leaves_the_process_its_own_limit(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    clock = Clock()
    limiter = SharedLimiter(blocker / FILE_NAME, clock=clock)
    first = [limiter.reserve() for _ in range(20)]
    assert [ticket.slot for ticket in first] == [clock.now] * 20
    assert limiter.problem is not None and str(blocker) in limiter.problem
    assert limiter.reserve() is None  # still never over the limit alone
    limiter.done_sync(first[0])
    assert limiter.reserve().slot == pytest.approx(clock.now + 1.0)


def test_a_file_that_fails_midway_keeps_counting_this_processs_sends(tmp_path):
    clock = Clock()
    limiter = SharedLimiter(tmp_path / FILE_NAME, clock=clock)
    first = [limiter.reserve() for _ in range(20)]
    assert limiter.problem is None
    limiter._db.close()  # its connection broken under it: the next use fails  # noqa: SLF001
    assert limiter.reserve() is None and limiter.problem is not None
    limiter.done_sync(first[0])
    assert limiter.reserve().slot == pytest.approx(clock.now + 1.0)


def test_a_slot_file_of_the_older_kind_is_made_anew(tmp_path):
    db = sqlite3.connect(tmp_path / FILE_NAME)
    db.execute("CREATE TABLE send_slots (slot REAL NOT NULL)")
    db.executemany("INSERT INTO send_slots VALUES (?)", [(1_800_000_000.0,)] * 20)
    db.commit()
    db.close()
    limiter = SharedLimiter(tmp_path / FILE_NAME, clock=Clock())
    assert limiter.reserve() is not None and limiter.problem is None
    db = sqlite3.connect(tmp_path / FILE_NAME)
    columns = [row[1] for row in db.execute("PRAGMA table_info(send_slots)")]
    assert columns == ["id", "slot", "answered", "bound"]
    assert db.execute("SELECT COUNT(*) FROM send_slots").fetchone()[0] == 1
    db.close()
    limiter.close()


def test_every_client_of_a_context_takes_its_slots_from_the_folder(tmp_path):
    ctx = resolve(Flags(data_dir=str(tmp_path), endpoint="http://127.0.0.1:9"), Settings(), environ={})
    with make_client(ctx, DEMO_KEY, blocking=True) as blocking:
        assert blocking._limiter is for_folder(tmp_path)
    assert make_client(ctx, DEMO_KEY)._limiter is for_folder(tmp_path)
    assert not (tmp_path / FILE_NAME).exists()  # no send, no file


#: one process of the test below: it says it is ready, waits for the word, then starts
#: its rooms one after another through the command line's own send path
_SENDER = textwrap.dedent(
    """
    import sys
    from gme_tui.cli import main

    url, folder, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        main(["--endpoint", url, "--data-dir", folder, "start", "--biz-id", "1400089356",
              "--room-id", f"{name}-{n}", "--mode", "2", "--output", "json"])
    from pathlib import Path
    from gme_tui.send_slots import for_folder
    problem = for_folder(Path(folder)).problem
    if problem:  # the slot file failed: this process counted alone
        print(f"gme-tui: slots: {problem}", file=sys.stderr)
    """
)


def test_processes_started_at_once_stay_under_the_limit_together(tmp_path, emulator, monkeypatch):
    """3 processes x 9 starts = 27 sends released at once: over 20 in a second unless
    they count each other's (each alone keeps only its own 9 under the limit). The 21st
    waits a window after an answer that came through the file from another process."""
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY)
    monkeypatch.setenv("GME_TUI_CONFIG", str(tmp_path / "settings.yaml"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    folder, processes, each = tmp_path / "data", 3, 9
    senders = [
        subprocess.Popen(
            [sys.executable, "-c", _SENDER, emulator.url, str(folder), f"p{n}", str(each)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    try:
        for sender in senders:  # every one imported and waiting: then all go at once
            assert sender.stdout.readline().strip() == "ready"
        for sender in senders:
            sender.stdin.write("go\n")
            sender.stdin.flush()
        said = [sender.communicate(timeout=120)[1] for sender in senders]
        assert [sender.returncode for sender in senders] == [0] * processes, said
        assert "RequestLimitExceeded" not in "".join(said)
        assert "gme-tui:" not in "".join(said), said  # no start refused, on any count
    finally:
        for sender in senders:
            if sender.poll() is None:
                sender.kill()
    with History.in_dir(folder) as history:
        rows = history.rows(limit=1000)
    assert len(rows) == processes * each
    limited = [row for row in rows if row.error_code == "RequestLimitExceeded"]
    assert limited == []
    assert [row.outcome for row in rows] == ["ok"] * processes * each
