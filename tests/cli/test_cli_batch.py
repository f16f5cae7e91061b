"""`gme-tui batch` against the emulator over loopback: checked first, full rate, resumable,
never a duplicate StartRecord."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

from test_cli import BIZ, _subprocess_env
from test_cli import cli as cli  # the fixture (an explicit re-export: its name is used as a parameter)

from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from gme_tui.emulator.faults import make_fault
from gme_tui.history import FILE_NAME


def _objects(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _starts(emulator) -> Counter:
    return Counter(params.get("RoomId") for action, params, _ in emulator.requests if action == "StartRecord")


def _summary(out: str) -> dict:
    *_, last = _objects(out)
    assert last["summary"] is True
    return last


def test_200_rooms_start_once_each_and_never_over_20_in_a_second(cli, emulator):
    code, out, err = cli(
        "batch", "start", "--biz-id", BIZ, "--rooms", "r-{001..200}", "--mode", "1", "--output", "json"
    )
    assert code == 0, err
    *rooms, summary = _objects(out)
    assert len(rooms) == 200 and {r["state"] for r in rooms} == {"ok"}
    assert summary["counts"]["ok"] == 200 and summary["request_limit_exceeded"] == 0
    starts = _starts(emulator)
    assert len(starts) == 200 and set(starts.values()) == {1}
    arrivals = emulator.service.start_arrivals()
    busiest = max(sum(1 for t in arrivals if first <= t < first + 1.0) for first in arrivals)
    assert busiest <= 20


def test_a_wrong_line_sends_nothing_and_names_line_field_and_rule(cli, emulator, tmp_path):
    source = tmp_path / "rooms.csv"
    source.write_text("RoomId,RecordMode\nhall-1,1\nhall-2,7\nhall-1,2\n")
    code, out, err = cli("batch", "start", "--biz-id", BIZ, str(source))
    assert code == 2
    assert "line 3: RecordMode" in err and "line 4: RoomId" in err and "nothing was sent" in err
    assert emulator.requests == []


def test_a_busy_room_counts_as_recording_with_its_task(cli, emulator):
    code, out, _ = cli("start", "--biz-id", BIZ, "--room-id", "busy-2", "--mode", "1", "--output", "json")
    running = json.loads(out)["TaskId"]
    code, out, err = cli(
        "batch", "start", "--biz-id", BIZ, "--rooms", "busy-{1..3}", "--mode", "1", "--output", "json"
    )
    assert code == 0, err
    by_room = {r["room"]: r for r in _objects(out)[:-1]}
    assert by_room["busy-2"]["state"] == "ok" and by_room["busy-2"]["task_id"] == running
    assert by_room["busy-2"]["note"] == "already recording"
    assert _starts(emulator)["busy-2"] == 2  # the first, and the batch's refused one (not acted on)


def test_refused_for_the_rate_the_room_waits_and_goes_again(cli, emulator):
    emulator.service._start_limit.limit = 5  # a service busier than this client knows
    code, out, err = cli(
        "batch", "start", "--biz-id", BIZ, "--rooms", "rl-{01..30}", "--mode", "2", "--output", "json"
    )
    assert code == 0, err
    summary = _summary(out)
    assert summary["counts"]["ok"] == 30 and summary["request_limit_exceeded"] > 0
    tasks = emulator.service.tasks()
    assert Counter(t.room_id for t in tasks if t.room_id.startswith("rl-")) == Counter(
        f"rl-{i:02}" for i in range(1, 31)
    )


def test_unknown_outcomes_are_reconciled_on_resume_never_sent_twice(cli, emulator):
    emulator.faults.add(make_fault("delay", count=3, seconds=1.5, action="StartRecord"))
    code, out, err = cli(
        "--timeout", "0.5", "batch", "start", "--biz-id", BIZ, "--rooms", "d-{1..12}", "--mode", "1",
        "--output", "json",
    )  # fmt: skip
    assert code == 5, err  # the worst outcome: unknown
    summary = _summary(out)
    assert summary["counts"]["unknown"] == 3 and summary["counts"]["ok"] == 9
    emulator.faults.clear()
    _wait_for(lambda: len(emulator.service.tasks()) == 12, "the delayed starts to be applied")
    code, out, err = cli("batch", "start", "--resume", str(summary["batch"]), "--output", "json")
    assert code == 0, err
    summary = _summary(out)
    assert summary["counts"]["ok"] == 12 and summary["already_ok"] == 9
    assert set(_starts(emulator).values()) == {1}  # the three were looked up, not sent again
    asked = [p["RoomId"] for a, p, _ in emulator.requests if a == "DescribeTaskInfo"]
    assert len(asked) == 3


def test_a_batch_killed_mid_way_resumes_and_starts_every_room_exactly_once(cli, emulator, tmp_path):
    process = _spawn_batch(emulator, tmp_path, "k-{001..120}")
    try:
        _wait_for(lambda: len(_starts(emulator)) >= 30, "30 rooms to have been sent")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert len(_starts(emulator)) < 120  # cut short indeed
    code, out, err = cli("batch", "list", "--output", "json")
    [listed] = _objects(out)
    code, out, err = cli("batch", "start", "--resume", str(listed["batch"]), "--output", "json")
    assert code == 0, err
    assert _summary(out)["counts"]["ok"] == 120
    starts = _starts(emulator)
    tasks = Counter(task.room_id for task in emulator.service.tasks())
    assert len(tasks) == 120 and set(tasks.values()) == {1}  # every room started exactly once
    twice = {room: _rows_of(tmp_path, room) for room, count in starts.items() if count > 1}
    assert not twice, twice  # and none was sent a second StartRecord


def test_stop_by_batch_stops_its_tasks_where_they_run_and_nowhere_else(cli, emulator):
    code, out, _ = cli(
        "batch", "start", "--biz-id", BIZ, "--rooms", "s-{1..5}", "--mode", "1", "--output", "json"
    )
    started = _summary(out)["batch"]
    tasks = {r["task_id"] for r in _objects(out)[:-1]}
    code, out, err = cli("batch", "stop", "--batch", str(started), endpoint="http://127.0.0.1:9")
    assert code == 2 and "ran on" in err and "Nothing was sent" in err
    code, out, err = cli("batch", "stop", "--batch", str(started), "--output", "json")
    assert code == 0, err
    stopped = {p["TaskId"] for a, p, _ in emulator.requests if a == "StopRecord"}
    assert stopped == tasks and _summary(out)["counts"]["ok"] == 5


def test_stop_and_modify_by_source_find_each_room_task(cli, emulator, tmp_path):
    cli("batch", "start", "--biz-id", BIZ, "--rooms", "m-{1..3}", "--mode", "1")
    source = tmp_path / "rooms.yaml"
    source.write_text("- RoomId: m-1\n  RecordMode: 2\n- RoomId: m-2\n- RoomId: m-9\n")
    code, out, err = cli("batch", "modify", "--biz-id", BIZ, "--mode", "3", str(source), "--output", "json")
    assert code == 0, err
    by_room = {r["room"]: r for r in _objects(out)[:-1]}
    assert by_room["m-9"]["note"].startswith("not recording")
    modes = {p["TaskId"]: p["RecordMode"] for a, p, _ in emulator.requests if a == "ModifyRecordInfo"}
    assert sorted(modes.values()) == [2, 3]
    code, out, err = cli("batch", "stop", "--biz-id", BIZ, str(source))
    assert code == 0, err
    assert "ok 3" in out
    assert len([a for a, _, _ in emulator.requests if a == "StopRecord"]) == 2


def test_list_and_status_read_back_what_ran(cli, emulator, tmp_path):
    cli("batch", "start", "--biz-id", BIZ, "--rooms", "l-{a,b}", "--mode", "1")
    code, out, _ = cli("batch", "list")
    assert code == 0 and "--rooms l-{a,b}" in out and "ok 2" in out
    code, out, _ = cli("batch", "status", "--batch", "1", "--output", "json")
    *rooms, summary = _objects(out)
    assert [r["room"] for r in rooms] == ["l-a", "l-b"] and summary["counts"]["ok"] == 2
    db = sqlite3.connect(tmp_path / FILE_NAME)
    tagged = db.execute("SELECT count(*) FROM requests WHERE batch_id = 1").fetchone()[0]
    db.close()
    assert tagged == 2
    code, _, err = cli("batch", "status", "--batch", "77")
    assert code == 2 and "no batch 77" in err


def _wait_for(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_stop_by_batch_takes_a_start_batch_and_no_source(cli, emulator, tmp_path):
    cli("batch", "start", "--biz-id", BIZ, "--rooms", "t-{1..2}", "--mode", "1")
    code, _, err = cli("batch", "stop", "--batch", "1", str(tmp_path / "x.csv"))
    assert code == 2 and "either --batch or a SOURCE" in err
    assert cli("batch", "stop", "--batch", "1")[0] == 0
    code, _, err = cli("batch", "stop", "--batch", "2")
    assert code == 2 and "batch 2 is a stop batch" in err
    assert len([a for a, _, _ in emulator.requests if a == "StopRecord"]) == 2


def test_dry_run_shows_every_checked_line_and_sends_nothing(cli, emulator):
    code, out, _ = cli(
        "batch", "start", "--biz-id", BIZ, "--rooms", "dr-{1..2}", "--mode", "mixed", "--allow", "10001,10002",
        "--dry-run",
    )  # fmt: skip
    assert code == 0
    assert "line 2: dr-2 RecordMode=2 SubscribeUserIds=10001,10002" in out and "nothing was sent" in out
    assert emulator.requests == []


def _rows_of(data_dir, room: str) -> list[tuple]:
    db = sqlite3.connect(data_dir / FILE_NAME)
    try:
        return db.execute(
            "SELECT id, action, outcome, error_code, started_at FROM requests WHERE room_id=? ORDER BY id",
            (room,),
        ).fetchall()
    finally:
        db.close()


def _edit(data_dir, *statements: tuple[str, tuple]) -> None:
    db = sqlite3.connect(data_dir / FILE_NAME)
    with db:
        for sql, args in statements:
            db.execute(sql, args)
    db.close()


def test_a_damaged_or_missing_row_is_looked_up_never_started_again(cli, emulator, tmp_path):
    code, out, _ = cli(
        "batch", "start", "--biz-id", BIZ, "--rooms", "dm-{1..4}", "--mode", "1", "--output", "json"
    )
    assert code == 0
    _edit(
        tmp_path,
        ("UPDATE requests SET outcome='garbage' WHERE room_id='dm-1' AND action='StartRecord'", ()),
        ("UPDATE batch_rooms SET row_id=NULL WHERE room_id='dm-2'", ()),
        (
            "UPDATE batch_rooms SET row_id=(SELECT id FROM requests WHERE room_id='dm-4') WHERE room_id='dm-3'",
            (),
        ),
        ("DELETE FROM requests WHERE room_id='dm-4' AND action='StartRecord'", ()),
    )
    code, out, err = cli("batch", "start", "--resume", "1", "--output", "json")
    assert set(_starts(emulator).values()) == {1}  # not one StartRecord more
    states = {r["room"]: r for r in _objects(out)[:-1]}
    assert states["dm-4"]["state"] == "ok" and states["dm-4"]["note"] == "already recording"  # looked up
    assert code == 0, (out, err)


def test_a_plan_edited_in_the_store_is_checked_again_before_it_is_sent(cli, emulator, tmp_path):
    assert cli("batch", "start", "--biz-id", BIZ, "--rooms", "pe-1", "--mode", "1")[0] == 0
    bad = [
        ("px-1", '{"RecordMode": 99}'),
        ("px-2", "[1]"),
        ("px-3", '{"RecordMode": 1, "SubscribeUserIds": ["\\u001b[31m"]}'),
    ]
    _edit(
        tmp_path,
        ("INSERT INTO batches (kind, source, created_at, endpoint, profile, biz_id, rooms)"
         " SELECT kind, 'edited', created_at, endpoint, profile, biz_id, 3 FROM batches WHERE id=1", ()),
        *[("INSERT INTO batch_rooms (batch_id, line, room_id, fields) VALUES (2, ?, ?, ?)", (n, room, plan))
          for n, (room, plan) in enumerate(bad, 1)],
    )  # fmt: skip
    code, out, err = cli("batch", "start", "--resume", "2", "--output", "json")
    assert "internal error" not in err
    failed = {r["room"]: r for r in _summary(out)["failed"]}
    assert set(failed) == {"px-1", "px-2", "px-3"}
    assert "RecordMode" in failed["px-1"]["note"] and "damaged" in failed["px-2"]["note"]
    assert "SubscribeUserIds" in failed["px-3"]["note"]
    assert code == 2  # nothing of them could be sent
    assert not any(room.startswith("px-") for room in _starts(emulator))


def test_two_runs_of_one_batch_never_both_send(cli, emulator, tmp_path):
    emulator.faults.add(make_fault("delay", seconds=0.3, action="StartRecord"))
    first = _spawn_batch(emulator, tmp_path, "tw-{01..60}")
    try:
        _wait_for(lambda: len(_starts(emulator)) >= 5, "the first run to be sending")
        code, out, err = cli("batch", "start", "--resume", "1")
        assert code == 1 and "batch 1 is running in process" in err and "nothing was sent" in err
    finally:
        first.wait(timeout=60)
    assert first.returncode == 0, first.stderr.read() if first.stderr else ""
    starts = _starts(emulator)
    assert len(starts) == 60 and set(starts.values()) == {1}


def test_a_failed_lookup_is_a_failed_room_never_not_recording(cli, emulator, tmp_path):
    cli("batch", "start", "--biz-id", BIZ, "--rooms", "fl-{1..3}", "--mode", "1")
    emulator.faults.add(make_fault("http502", action="DescribeTaskInfo"))
    code, out, err = cli("batch", "stop", "--biz-id", BIZ, "--rooms", "fl-{1..3}", "--output", "json")
    summary = _summary(out)
    assert summary["counts"]["failed"] == 3 and code == 4, (out, err)
    assert not [a for a, _, _ in emulator.requests if a == "StopRecord"]
    emulator.faults.clear()
    code, out, err = cli("batch", "stop", "--resume", str(summary["batch"]), "--output", "json")
    assert code == 0 and _summary(out)["counts"]["ok"] == 3, err
    assert len([a for a, _, _ in emulator.requests if a == "StopRecord"]) == 3


def test_a_resume_takes_nothing_from_the_command_line_and_only_its_own_kind(cli, emulator):
    cli("batch", "start", "--biz-id", BIZ, "--rooms", "rs-{1..2}", "--mode", "1")
    code, _, err = cli("batch", "start", "--resume", "1", "--mode", "2")
    assert code == 2 and "--mode cannot change it" in err
    code, _, err = cli("batch", "stop", "--resume", "1")
    assert code == 2 and "batch 1 is a start batch" in err
    code, _, err = cli("--region", "ap-tokyo", "batch", "start", "--resume", "1")
    assert code == 2 and "region" in err
    code, out, err = cli("batch", "start", "--resume", "1", "--dry-run")
    assert code == 0 and "0 of 2 rooms" in out
    assert len(_starts(emulator)) == 2


def _spawn_batch(emulator, data_dir, rooms: str) -> subprocess.Popen:
    """`gme-tui batch start --rooms ROOMS` in a process of its own (to be killed, or raced)."""
    env = _subprocess_env(data_dir) | {
        "TENCENTCLOUD_SECRET_ID": DEMO_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEMO_SECRET_KEY,
    }
    argv = ["--endpoint", emulator.url, "batch", "start", "--biz-id", BIZ, "--rooms", rooms, "--mode", "1"]
    return subprocess.Popen(
        [sys.executable, "-m", "gme_tui", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
