"""Emulators sharing one state file: what one does, the other sees, over real loopback.

The demo's console and a one-shot demo command each run an emulator of their own
on the same file; these tests are those two, in one process, each with its own
port, connection and rate limit. Damaged and hostile files come last: none of
them may stop an emulator, and each is said in one line.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ManualClock

from gme_tui.api.actions import (
    DescribeRecordInfo,
    DescribeTaskInfo,
    ModifyRecordInfo,
    StartRecord,
    StopRecord,
)
from gme_tui.api.client import RateLimiter, SyncGmeClient
from gme_tui.api.errors import ServiceError
from gme_tui.api.fields import RecordMode, Subscription
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY, Emulator
from gme_tui.emulator.store import MAX_FILE_BYTES

BIZ = DEMO_BIZ_ID


class Side:
    """One emulator on the state file, and a client signed with the demo key aimed at it."""

    def __init__(self, path: Path, clock: Any = time.time) -> None:
        self.warnings: list[str] = []
        self.emulator = Emulator(state_file=path, clock=clock, warn=self.warnings.append).start()
        self.client = SyncGmeClient(
            DEMO_KEY, endpoint=self.emulator.url, limiter=RateLimiter(), use_env_proxies=False, retries=0
        )

    def call(self, action: Any) -> Any:
        return self.client.call(action)

    def error(self, action: Any) -> str:
        with pytest.raises(ServiceError) as caught:
            self.client.call(action)
        return caught.value.code

    def start(self, room: str = "room-1", mode: RecordMode = RecordMode.MIXED, **extra: Any) -> int:
        return self.call(StartRecord(BIZ, room, mode, **extra)).task_id

    def close(self) -> None:
        self.client.close()
        self.emulator.stop()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "demo" / "emulator.sqlite3"


@pytest.fixture
def sides(state: Path) -> Iterator[Any]:
    opened: list[Side] = []

    def open_side(clock: Any = time.time) -> Side:
        side = Side(state, clock)
        opened.append(side)
        return side

    yield open_side
    for side in opened:
        side.close()


# --- two emulators, one file ----------------------------------------------------


def test_a_start_on_one_is_the_task_the_other_describes(sides: Any) -> None:
    one, two = sides(), sides()
    task_id = one.start("shared", RecordMode.BOTH)
    assert task_id > 2**53
    info = two.call(DescribeTaskInfo(BIZ, "shared"))
    assert info.task_id == task_id  # exact, all 19 digits
    assert info.mode == RecordMode.BOTH
    assert two.error(StartRecord(BIZ, "shared", RecordMode.MIXED)) == "ResourceInUse.TaskInUse"
    assert one.warnings == two.warnings == []


def test_a_stop_on_one_shows_in_the_others_record_info(sides: Any) -> None:
    clock = ManualClock()
    one, two = sides(clock), sides(clock)
    task_id = one.start("r-stop", RecordMode.MIXED)
    assert [r.status for r in two.call(DescribeRecordInfo(BIZ, task_id)).records] == [2]

    two.call(StopRecord(BIZ, task_id))
    clock.advance(2.5)
    records = one.call(DescribeRecordInfo(BIZ, task_id)).records
    assert [(r.user_id, r.status) for r in records] == [("0", 12)]  # two steps after the stop
    assert one.error(StopRecord(BIZ, task_id)) == "ResourceNotFound.TaskNotFound"
    assert one.error(DescribeTaskInfo(BIZ, "r-stop")) == "ResourceNotFound.TaskNotFound"
    assert two.start("r-stop") != task_id  # the room is free again, for either


def test_a_modify_on_one_is_what_the_other_describes(sides: Any) -> None:
    one, two = sides(), sides()
    task_id = one.start("r-mod", RecordMode.SINGLE)
    two.call(ModifyRecordInfo(BIZ, task_id, RecordMode.BOTH, Subscription(allow=("7", "8"), block=("8",))))
    info = one.call(DescribeTaskInfo(BIZ, "r-mod"))
    assert (info.mode, info.subscription) == (RecordMode.BOTH, Subscription(allow=("7", "8"), block=("8",)))
    users = [r.user_id for r in one.call(DescribeRecordInfo(BIZ, task_id)).records]
    assert users == ["7", "0"]


def test_a_race_for_a_room_across_two_emulators_has_one_winner(sides: Any) -> None:
    one, two = sides(), sides()
    per_side = 6
    barrier = threading.Barrier(2 * per_side)
    results: list[tuple[str, Any]] = []
    lock = threading.Lock()

    def race(side: Side) -> None:
        barrier.wait(timeout=10)
        try:
            outcome: tuple[str, Any] = ("ok", side.start("contested"))
        except ServiceError as error:
            outcome = ("error", error.code)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=race, args=(side,)) for side in (one, two) for _ in range(per_side)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    wins = [value for kind, value in results if kind == "ok"]
    assert len(results) == 2 * per_side
    assert len(wins) == 1, results
    assert sorted({value for kind, value in results if kind == "error"}) == ["ResourceInUse.TaskInUse"]
    assert one.call(DescribeTaskInfo(BIZ, "contested")).task_id == wins[0]
    assert len(two.emulator.service.tasks()) == 1


def test_a_restart_keeps_the_tasks_and_their_time(state: Path) -> None:
    clock = ManualClock()
    first = Side(state, clock)
    try:
        running = first.start("keeps-running", RecordMode.SINGLE, subscription=Subscription(allow=("10",)))
        stopped = first.start("gets-stopped")
        first.call(StopRecord(BIZ, stopped))
    finally:
        first.close()

    clock.advance(10)  # long enough for the stopped one to be done
    second = Side(state, clock)
    try:
        assert second.call(DescribeTaskInfo(BIZ, "keeps-running")).task_id == running
        assert [r.status for r in second.call(DescribeRecordInfo(BIZ, stopped)).records] == [14]
        assert second.error(StartRecord(BIZ, "keeps-running", RecordMode.MIXED)) == "ResourceInUse.TaskInUse"
        assert sorted(t.task_id for t in second.emulator.service.tasks()) == sorted([running, stopped])
        assert second.warnings == []
    finally:
        second.close()


def test_the_state_file_is_private_in_a_private_folder(state: Path, sides: Any) -> None:
    sides().start()
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700


def test_the_rate_limit_is_each_emulators_own(sides: Any) -> None:
    clock = ManualClock()  # stands still: all of these arrive within one of the emulators' seconds
    one, two = sides(clock), sides(clock)
    for n in range(20):
        one.start(f"limit-{n}")
    assert one.error(StartRecord(BIZ, "limit-one-more", RecordMode.MIXED)) == "RequestLimitExceeded"
    assert two.start("limit-other") > 0  # the other's own 20 are untouched


def test_without_a_state_file_two_emulators_share_nothing() -> None:
    with Emulator() as one, Emulator() as two:
        assert one.service.store.path is None
        with SyncGmeClient(DEMO_KEY, endpoint=one.url, limiter=RateLimiter(), use_env_proxies=False) as c:
            c.call(StartRecord(BIZ, "alone", RecordMode.MIXED))
        assert len(one.service.tasks()) == 1 and two.service.tasks() == []


# --- damaged and hostile files -----------------------------------------------------


def _works(side: Side) -> None:
    """The emulator serves a whole task life on whatever file it ended up with."""
    task_id = side.start("after-damage")
    assert side.call(DescribeTaskInfo(BIZ, "after-damage")).task_id == task_id
    side.call(StopRecord(BIZ, task_id))


def _aside(state: Path) -> list[Path]:
    return sorted(
        p for p in state.parent.iterdir() if ".damaged-" in p.name and not p.name.endswith(("-wal", "-shm"))
    )


def test_a_file_that_is_not_sqlite_is_set_aside(state: Path, sides: Any) -> None:
    state.parent.mkdir(parents=True)
    state.write_bytes(b"this is not a database\n" * 100)
    side = sides()
    _works(side)
    [warning] = side.warnings
    assert str(state) in warning and "could not be used" in warning and "no tasks" in warning
    [aside] = _aside(state)
    assert aside.read_bytes() == b"this is not a database\n" * 100  # kept, never deleted
    assert str(aside) in warning


def test_a_truncated_file_is_set_aside(state: Path) -> None:
    first = Side(state)
    try:
        for n in range(15):
            first.start(f"t-{n}", subscription=Subscription(allow=tuple(str(i) for i in range(20))))
    finally:
        first.close()
    data = state.read_bytes()
    assert len(data) > 3 * 4096
    state.write_bytes(data[: len(data) // 2 + 100])
    second = Side(state)
    try:
        _works(second)
        assert len(second.warnings) == 1, second.warnings
        assert len(_aside(state)) == 1
    finally:
        second.close()


@pytest.mark.parametrize("kind", ["folder", "fifo", "huge"])
def test_what_is_not_a_state_file_at_its_path_is_set_aside(state: Path, sides: Any, kind: str) -> None:
    state.parent.mkdir(parents=True)
    if kind == "folder":
        state.mkdir()
    elif kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no named pipes here")
        os.mkfifo(state)
    else:
        with open(state, "wb") as handle:  # sparse: large to stat, nothing on disk
            handle.truncate(MAX_FILE_BYTES + 1)
    side = sides()
    _works(side)
    assert len(side.warnings) == 1 and "could not be used" in side.warnings[0]
    assert len(_aside(state)) == 1


def test_a_folder_that_cannot_be_made_keeps_the_tasks_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    side = Side(blocker / "emulator.sqlite3")
    try:
        _works(side)
        assert side.emulator.service.store.path is None
        [warning] = side.warnings
        assert "kept in memory only" in warning
    finally:
        side.close()


def test_a_file_of_another_shape_is_set_aside(state: Path, sides: Any) -> None:
    state.parent.mkdir(parents=True)
    db = sqlite3.connect(state)
    db.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, what TEXT)")
    db.execute("CREATE TABLE running (biz_id TEXT, room_id TEXT, task_id TEXT)")
    db.execute("CREATE TRIGGER slow AFTER INSERT ON running BEGIN SELECT 1; END")
    db.commit()
    db.close()
    side = sides()
    _works(side)
    assert len(side.warnings) == 1 and "could not be used" in side.warnings[0]


def _good_file(state: Path) -> int:
    """A state file with one sound running task in room `good`; its TaskId."""
    side = Side(state)
    try:
        return side.start("good")
    finally:
        side.close()


HOSTILE_TASKS = [
    # task_id, biz_id, room_id, mode, lists, begin_time, stopped_at
    ("abc", str(BIZ), "r-text-id", 2, None, 1_700_000_000, None),  # a TaskId that is text
    (1.5e18, str(BIZ), "r-float-id", 2, None, 1_700_000_000, None),  # a TaskId that is a float
    ("2" + "0" * 30, str(BIZ), "r-huge-id", 2, None, 1_700_000_000, None),  # beyond 64 bits
    ("1152921504606846977", str(BIZ), "x" * 1_000_000, 2, None, 1_700_000_000, None),  # huge room
    ("1152921504606846978", str(BIZ), "r-mode", "two", None, 1_700_000_000, None),
    ("1152921504606846979", str(BIZ), "r-lists", 1, "{not json", 1_700_000_000, None),
    ("1152921504606846980", str(BIZ), "r-deep", 1, "[" * 100_000 + "]" * 100_000, 1_700_000_000, None),
    (
        "1152921504606846981",
        str(BIZ),
        "r-many",
        1,
        '{"SubscribeUserIds": [' + ",".join(['"u"'] * 50) + "]}",
        1_700_000_000,
        None,
    ),
    ("1152921504606846982", str(BIZ), "r-time", 2, None, 10**15, None),
    ("1152921504606846986", str(BIZ), "r-time-f", 2, None, 1e30, None),
    ("1152921504606846983", str(BIZ), "r-stop", 2, None, 1_700_000_000, float("inf")),
    ("1152921504606846984", "-5", "r-biz", 2, None, 1_700_000_000, None),
    ("1152921504606846985", str(BIZ), "r-blob", 2, b"\x00\xff" * 10, 1_700_000_000, None),
]


def test_hostile_rows_are_skipped_with_one_line_and_the_sound_one_kept(state: Path) -> None:
    good = _good_file(state)
    db = sqlite3.connect(state)
    db.executemany(
        "INSERT INTO tasks (task_id, biz_id, room_id, mode, lists, begin_time, stopped_at) VALUES (?,?,?,?,?,?,?)",
        HOSTILE_TASKS,
    )
    db.execute("INSERT INTO running VALUES (?, 'r-text-id', 'abc')", (str(BIZ),))
    db.execute("INSERT INTO running VALUES (?, 'r-float-id', 1.5e18)", (str(BIZ),))
    db.execute("INSERT INTO running VALUES (?, 'r-mode', '1152921504606846978')", (str(BIZ),))
    db.commit()
    db.close()

    side = Side(state)
    try:
        [warning] = side.warnings
        assert "damaged task row(s)" in warning and str(state) in warning
        assert side.call(DescribeTaskInfo(BIZ, "good")).task_id == good
        assert [t.task_id for t in side.emulator.service.tasks()] == [good]
        for room in ("r-text-id", "r-float-id", "r-mode"):  # rooms whose task was garbage are free
            assert side.error(DescribeTaskInfo(BIZ, room)) == "ResourceNotFound.TaskNotFound"
            side.start(room)
        assert side.error(DescribeRecordInfo(BIZ, 1152921504606846978)) == "ResourceNotFound.TaskNotFound"
    finally:
        side.close()


def test_a_row_broken_while_serving_reads_as_no_task_and_is_said_once(state: Path, sides: Any) -> None:
    side = sides()
    task_id = side.start("broken-later")
    db = sqlite3.connect(state)
    db.execute("UPDATE tasks SET mode = 'garbage', room_id = 7 WHERE task_id = ?", (str(task_id),))
    db.commit()
    db.close()
    for _ in range(3):
        assert side.error(DescribeRecordInfo(BIZ, task_id)) == "ResourceNotFound.TaskNotFound"
    assert side.error(DescribeTaskInfo(BIZ, "broken-later")) == "ResourceNotFound.TaskNotFound"
    [warning] = side.warnings
    assert str(task_id) in warning and "skipped" in warning
    assert side.start("broken-later") != task_id  # the room is usable again


def test_a_file_removed_while_serving_answers_an_error_not_a_crash(state: Path, sides: Any) -> None:
    side = sides()
    side.start("before")
    db = sqlite3.connect(state)
    db.execute("DROP TABLE tasks")
    db.commit()
    db.close()
    assert side.error(DescribeTaskInfo(BIZ, "before")) == "InternalError"
    assert side.error(DescribeTaskInfo(BIZ, "before")) == "InternalError"
    [warning] = side.warnings
    assert "failed" in warning
