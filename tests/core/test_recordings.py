"""The recordings model, fed by real answers of the emulator over loopback.

Every request goes through `calls.send_sync`, so each answer reaches the
recordings table the way it does in the console and the command line.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from helpers import until_sync

from gme_tui.api.actions import (
    DescribeRecordInfo,
    DescribeTaskInfo,
    ModifyRecordInfo,
    StartRecord,
    StopRecord,
)
from gme_tui.api.client import RateLimiter, SyncGmeClient
from gme_tui.api.errors import OutcomeKind
from gme_tui.api.fields import RecordMode, Subscription
from gme_tui.calls import send_sync
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.emulator.faults import Fault
from gme_tui.history import History
from gme_tui.recordings import CHECK, State
from gme_tui.tracking import reconcile_sync, refresh_sync

BIZ = DEMO_BIZ_ID


@pytest.fixture
def history(tmp_path):
    with History(tmp_path / "history.sqlite3") as store:
        yield store


@pytest.fixture
def client(emulator):
    with SyncGmeClient(DEMO_KEY, endpoint=emulator.url, limiter=RateLimiter(), timeout=2.0) as gme:
        yield gme


def send(client, history, action, **kw):
    return send_sync(client, history, action, profile="ops", **kw)


def only(history, **kw):
    found = history.recordings(**kw)
    assert len(found) == 1, found
    return found[0]


def test_a_start_is_a_recording_of_its_endpoint_and_profile(client, history, emulator):
    outcome = send(client, history, StartRecord(BIZ, "r1", RecordMode.BOTH, Subscription(("10001",), ())))
    recording = only(history, endpoint=emulator.url)
    assert recording.state is State.RECORDING
    assert recording.task_id == str(outcome.result.task_id)  # exact: above 2**60
    assert (recording.endpoint, recording.profile, recording.room_id) == (emulator.url, "ops", "r1")
    assert (recording.record_mode, recording.allow, recording.block) == (3, ("10001",), ())
    assert recording.start_row == outcome.row_id
    assert history.recordings(endpoint="https://elsewhere.example") == []
    assert [c.recording.state for c in outcome.changes] == [State.RECORDING]


def test_a_refused_start_is_no_recording(client, history):
    send(client, history, StartRecord(BIZ, "busy", RecordMode.MIXED))
    refused = send(client, history, StartRecord(BIZ, "busy", RecordMode.MIXED))
    assert refused.error.code == "ResourceInUse.TaskInUse"
    assert len(history.recordings()) == 1


def test_stop_then_file_status_follows_the_recording_to_done(client, history, emulator):
    task = send(client, history, StartRecord(BIZ, "r2", RecordMode.MIXED)).result.task_id
    send(client, history, StopRecord(BIZ, task))
    assert only(history).state is State.STOPPING
    seen = []

    def done():
        outcome = send(client, history, DescribeRecordInfo(BIZ, task))
        seen.append(only(history).state)
        return only(history).state is State.DONE and outcome

    outcome = until_sync(done, "the recording to be done")
    recording = only(history)
    assert len(recording.files) == 1 and "_mix_" in recording.files[0]
    assert State.DONE in seen and seen.index(State.DONE) == len(seen) - 1
    assert recording.stopped_at is not None
    assert any(c.before is not State.DONE and c.recording.state is State.DONE for c in outcome.changes)


def test_modify_keeps_what_it_sent_as_the_last_known_lists(client, history):
    task = send(
        client, history, StartRecord(BIZ, "r3", RecordMode.SINGLE, Subscription(("10001", "10002"), ()))
    )
    send(
        client,
        history,
        ModifyRecordInfo(BIZ, task.result.task_id, RecordMode.BOTH, Subscription((), ("10003",))),
    )
    recording = only(history)
    assert (recording.record_mode, recording.allow, recording.block) == (3, (), ("10003",))


def test_describe_task_makes_a_task_started_elsewhere_known(client, history, emulator, tmp_path):
    with History(tmp_path / "other.sqlite3") as other:
        task = send(client, other, StartRecord(BIZ, "r4", RecordMode.MIXED)).result.task_id
    send(client, history, DescribeTaskInfo(BIZ, "r4"))
    recording = only(history)
    assert (recording.task_id, recording.state, recording.start_row) == (str(task), State.RECORDING, None)


def test_describe_task_finding_none_says_the_room_stopped(client, history, tmp_path):
    task = send(client, history, StartRecord(BIZ, "r5", RecordMode.MIXED)).result.task_id
    with History(tmp_path / "other.sqlite3") as other:  # stopped by another console
        send(client, other, StopRecord(BIZ, task))
    send(client, history, DescribeTaskInfo(BIZ, "r5"))
    assert only(history).state is State.STOPPING
    refresh_sync(client, history, profile="ops")
    assert only(history).state in (
        State.WAITING,
        State.TRANSCODING,
        State.UPLOADING,
        State.UPLOADED,
        State.DONE,
    )


def test_an_unknown_start_is_reconciled_with_its_task_and_never_sent_again(client, history, emulator):
    emulator.faults.add(Fault("drop", count=1, action="StartRecord"))  # applied, then no answer
    lost = send(client, history, StartRecord(BIZ, "r6", RecordMode.MIXED))
    assert lost.kind is OutcomeKind.UNKNOWN
    assert only(history).state is State.UNKNOWN
    found = reconcile_sync(client, history, profile="ops")
    running = [t for t in emulator.service.tasks() if t.room_id == "r6"]
    assert len(running) == 1
    assert [s.now.state for s in found] == [State.RECORDING]
    assert only(history).task_id == str(running[0].task_id)
    row = history.get(lost.row_id)
    assert (row.outcome, row.task_id) == (OutcomeKind.OK, str(running[0].task_id))
    assert row.note.startswith("reconciled: DescribeTaskInfo")
    starts = [r for r in emulator.requests if r[0] == "StartRecord"]
    assert len(starts) == 1  # never a second StartRecord
    assert reconcile_sync(client, history, profile="ops") == []  # nothing left to settle


def test_an_unknown_start_that_never_arrived_is_not_started(client, history, emulator):
    emulator.faults.add(Fault("http502", count=1, action="StartRecord"))  # the gateway's: not applied
    lost = send(client, history, StartRecord(BIZ, "r7", RecordMode.MIXED))
    assert lost.kind is OutcomeKind.BAD_ANSWER and only(history).state is State.UNKNOWN
    found = reconcile_sync(client, history, profile="ops")
    assert [s.now.state for s in found] == [State.NOT_STARTED]
    row = history.get(lost.row_id)
    assert row.outcome is OutcomeKind.NOT_STARTED and "found no task" in row.note
    assert not [t for t in emulator.service.tasks() if t.room_id == "r7"]


def test_reconcile_asks_only_its_own_endpoint_and_profile(client, history, emulator):
    emulator.faults.add(Fault("drop", count=1, action="StartRecord"))
    send_sync(client, history, StartRecord(BIZ, "r8", RecordMode.MIXED), profile="other")
    assert reconcile_sync(client, history, profile="ops") == []
    assert only(history).state is State.UNKNOWN
    assert [s.now.state for s in reconcile_sync(client, history, profile="other")] == [State.RECORDING]


def test_the_credentials_check_is_never_a_recording(client, history):
    send(client, history, StartRecord(BIZ, "r9", RecordMode.MIXED), purpose=CHECK)
    send(client, history, DescribeTaskInfo(BIZ, "r9"), purpose=CHECK)
    assert history.recordings() == []


def test_a_pending_start_whose_writer_died_is_unknown(client, history, emulator):
    row_id = history.begin(
        action="StartRecord", profile="ops", endpoint=emulator.url, region=None,
        params={"BizId": BIZ, "RoomId": "r10", "RecordMode": 2},
    )  # fmt: skip
    assert only(history).state is State.STARTING  # its writer (this process) is alive
    history._db.execute("UPDATE requests SET pid_start='1' WHERE id=?", (row_id,))  # as if it died
    assert only(history).state is State.UNKNOWN
    assert [s.now.state for s in reconcile_sync(client, history, profile="ops")] == [State.NOT_STARTED]


def test_an_old_history_is_migrated_in_place(tmp_path, client, emulator):
    path = tmp_path / "old.sqlite3"
    with History(path) as store:
        task = send(client, store, StartRecord(BIZ, "r11", RecordMode.MIXED)).result.task_id
    db = sqlite3.connect(path)
    db.execute("DROP TABLE recordings")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    with History(path) as store:
        assert only(store).task_id == str(task)
        assert only(store).state is State.RECORDING


def test_a_damaged_recording_reads_as_damaged_not_a_crash(history, client):
    send(client, history, StartRecord(BIZ, "r12", RecordMode.MIXED))
    history._db.execute(
        "UPDATE recordings SET task_id=1.5, state='nonsense', files=?", (json.dumps([1] * 5),)
    )
    recording = only(history)
    assert recording.task_id is None and recording.state is State.GONE
    assert {d.split(":")[0] for d in recording.damaged} >= {"task_id", "state", "files"}


def test_an_unknown_start_is_not_looked_up_while_the_service_may_still_act(
    client, history, emulator, monkeypatch
):
    monkeypatch.setattr("gme_tui.tracking.SETTLE_AFTER", 30.0)
    emulator.faults.add(Fault("drop", count=1, action="StartRecord"))
    send(client, history, StartRecord(BIZ, "r13", RecordMode.MIXED))
    assert reconcile_sync(client, history, profile="ops") == []  # too soon: nothing asked
    assert [name for name, _p, _h in emulator.requests] == ["StartRecord"]
    assert only(history).state is State.UNKNOWN
    monkeypatch.setattr("gme_tui.tracking.SETTLE_AFTER", 0.0)  # as if 30 s went by
    assert [s.now.state for s in reconcile_sync(client, history, profile="ops")] == [State.RECORDING]
