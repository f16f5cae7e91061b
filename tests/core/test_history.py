"""The history store: rows before and after, crashes, concurrent writers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

from gme_tui.history import History

PARAMS = {"BizId": 3400352518, "RoomId": "lobby", "RecordMode": 2}


def test_a_row_is_pending_before_and_complete_after(tmp_path):
    with History.in_dir(tmp_path) as history:
        row_id = history.begin(
            action="StartRecord", profile="p", endpoint="http://e", region=None, params=PARAMS
        )
        pending = history.get(row_id)
        assert pending.outcome == "pending"
        assert pending.params == PARAMS
        assert pending.room_id == "lobby"
        assert pending.biz_id == "3400352518"
        history.finish(
            row_id,
            outcome="ok",
            duration_ms=12.5,
            response={"TaskId": 446192236330927912, "RequestId": "r-1"},
            request_id="r-1",
            task_id=446192236330927912,
        )
        done = history.get(row_id)
    assert done.outcome == "ok"
    assert done.task_id == "446192236330927912"
    assert done.to_json()["task_id"] == 446192236330927912
    assert done.response["TaskId"] == 446192236330927912
    assert done.request_id == "r-1"
    assert done.duration_ms == 12.5
    assert done.finished_at >= done.started_at


def test_service_errors_keep_their_code(tmp_path):
    with History.in_dir(tmp_path) as history:
        row_id = history.begin(
            action="StopRecord",
            profile="p",
            endpoint="e",
            region="ap-guangzhou",
            params={"BizId": 1, "TaskId": 2**63 + 5},
        )
        history.finish(
            row_id,
            outcome="service_error",
            duration_ms=3,
            error_code="ResourceNotFound.TaskNotFound",
            error_message="no task",
            request_id="r",
        )
        row = history.get(row_id)
    assert (row.outcome, row.error_code, row.task_id) == (
        "service_error",
        "ResourceNotFound.TaskNotFound",
        str(2**63 + 5),
    )


def test_a_request_on_a_task_is_filed_under_the_room_it_started_in(tmp_path):
    task = 2**63 - 25  # beyond a float's exact range: matched as text, digit for digit
    with History.in_dir(tmp_path) as history:
        start = history.begin(action="StartRecord", profile="p", endpoint="e", region=None, params=PARAMS)
        history.finish(start, outcome="ok", duration_ms=1, task_id=task)
        other = history.begin(
            action="StartRecord", profile="p", endpoint="e", region=None, params={**PARAMS, "RoomId": "other"}
        )
        history.finish(other, outcome="ok", duration_ms=1, task_id=task - 1)
        stop = history.begin(
            action="StopRecord", profile="p", endpoint="e", region=None, params={"BizId": 1, "TaskId": task}
        )
        unknown = history.begin(
            action="StopRecord", profile="p", endpoint="e", region=None, params={"BizId": 1, "TaskId": 5}
        )
        assert history.get(stop).room_id == "lobby"
        assert history.get(stop).params == {"BizId": 1, "TaskId": task}  # what was sent is unchanged
        assert history.get(unknown).room_id is None  # a task the history never saw start: no room
        assert [row.id for row in history.page(10, text="lobby")] == [stop, start]


def test_rows_are_newest_first_and_limited(tmp_path):
    with History.in_dir(tmp_path) as history:
        ids = [
            history.begin(
                action="DescribeTaskInfo",
                profile="p",
                endpoint="e",
                region=None,
                params={"BizId": 1, "RoomId": f"r{i}"},
            )
            for i in range(5)
        ]
        rows = history.rows(limit=3)
        assert history.count() == 5
    assert [r.id for r in rows] == ids[::-1][:3]


def test_a_row_left_pending_by_a_killed_process_reads_as_unknown(tmp_path):
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from gme_tui.history import History
        h = History.in_dir(Path({str(tmp_path)!r}))
        h.begin(action="StartRecord", profile="p", endpoint="e", region=None, params={PARAMS!r})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert run.returncode == -9
    with History.in_dir(tmp_path) as history:
        (row,) = history.rows()
        live = history.begin(action="StartRecord", profile="p", endpoint="e", region=None, params=PARAMS)
        assert history.get(live).outcome == "pending"  # its writer (this process) is alive
    assert row.outcome == "unknown"


def test_the_store_uses_wal_and_is_private(tmp_path):
    History.in_dir(tmp_path).close()
    db = sqlite3.connect(tmp_path / "history.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert os.stat(tmp_path / "history.sqlite3").st_mode & 0o077 == 0


def test_two_processes_can_write_at_once(tmp_path):
    script = textwrap.dedent(f"""
        from pathlib import Path
        from gme_tui.history import History
        h = History.in_dir(Path({str(tmp_path)!r}))
        for i in range(150):
            row = h.begin(action="DescribeTaskInfo", profile="p", endpoint="e", region=None,
                          params={{"BizId": 1, "RoomId": str(i)}})
            h.finish(row, outcome="ok", duration_ms=1, response={{"RequestId": "r"}}, request_id="r")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE) for _ in range(3)]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with History.in_dir(tmp_path) as history:
        assert history.count() == 450
        assert {r.outcome for r in history.rows(limit=450)} == {"ok"}


def test_a_pending_row_whose_pid_was_reused_reads_as_unknown(tmp_path):
    with History.in_dir(tmp_path) as history:
        row_id = history.begin(action="StartRecord", profile="p", endpoint="e", region=None, params=PARAMS)
        # Same live PID (ours), but a different process start: the PID was reused.
        history._db.execute("UPDATE requests SET pid_start='1' WHERE id=?", (row_id,))
        assert history.get(row_id).outcome == "unknown"


def test_the_wal_files_are_private_too(tmp_path):
    with History.in_dir(tmp_path) as history:
        history.begin(action="StartRecord", profile="p", endpoint="e", region=None, params=PARAMS)
        wal = tmp_path / "history.sqlite3-wal"
        assert wal.exists()
        assert wal.stat().st_mode & 0o077 == 0
    sub = tmp_path / "made-by-us"
    History.in_dir(sub).close()
    assert sub.stat().st_mode & 0o077 == 0


def test_a_row_whose_stored_json_was_broken_still_reads(tmp_path):
    """Another program (or a disk) broke a row's JSON: the row reads with what is left, and
    every other row with it, instead of failing the history for good."""
    with History.in_dir(tmp_path) as history:
        good = history.begin(
            action="StartRecord",
            profile="p",
            endpoint="e",
            region=None,
            params={"BizId": 1, "RoomId": "good"},
        )
        bad = history.begin(
            action="StartRecord", profile="p", endpoint="e", region=None, params={"BizId": 1, "RoomId": "bad"}
        )
        history.finish(bad, outcome="ok", duration_ms=1.0, response={"TaskId": 7}, task_id=7)
        history._db.execute(
            "UPDATE requests SET params='{not json', response=? WHERE id=?", ("[" * 100_000, bad)
        )
        by_id = {row.id: row for row in history.rows()}
    assert by_id[good].params == {"BizId": 1, "RoomId": "good"}
    assert by_id[bad].params == {} and by_id[bad].response is None
    assert by_id[bad].outcome == "ok" and by_id[bad].task_id == "7" and by_id[bad].room_id == "bad"
