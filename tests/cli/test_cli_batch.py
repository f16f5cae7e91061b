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

from test_cli import BIZ, _subprocess_env, cli  # noqa: F401  (cli is a fixture)

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
    env = _subprocess_env(tmp_path) | {
        "TENCENTCLOUD_SECRET_ID": DEMO_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEMO_SECRET_KEY,
    }
    argv = [
        "--endpoint",
        emulator.url,
        "batch",
        "start",
        "--biz-id",
        BIZ,
        "--rooms",
        "k-{001..120}",
        "--mode",
        "1",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "gme_tui", *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
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
    assert len(starts) == 120 and set(starts.values()) == {1}


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
