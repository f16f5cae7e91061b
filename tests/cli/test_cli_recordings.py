"""`recordings`, `watch` and `reconcile`, and the one rule that keeps an action on a task at
its own endpoint and profile, over real sockets: the emulator on loopback (two of them
where two endpoints are needed), `main([...])` in this process, capsys read."""

from __future__ import annotations

import json
import re

import pytest
from hostile_answers import record_answer
from hostile_server import HostileServer, http_answer
from test_cli import BIZ, rows
from test_cli import cli as cli  # the fixture (an explicit re-export: its name is used as a parameter)

from gme_tui.api.errors import OutcomeKind
from gme_tui.cli import exits
from gme_tui.emulator import Emulator
from gme_tui.emulator.faults import Fault
from gme_tui.history import History

#: what a terminal would act on: none of it may reach the output raw
RAW = re.compile("[\x1b\x07\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
PROCESSING = ("stopping", "waiting", "transcoding", "uploading", "uploaded", "done")
WORDS = ["waiting for transcoding", "transcoding", "uploading", "uploaded", "done"]


def start(cli, room: str, *, endpoint: str | None = None, mode: str = "2") -> int:
    code, out, err = cli(
        "start", "--biz-id", BIZ, "--room-id", room, "--mode", mode, "--output", "json", endpoint=endpoint
    )
    assert code == 0, err
    return json.loads(out)["TaskId"]


def listed(cli, *args: str) -> list[dict]:
    code, out, err = cli("recordings", "--output", "json", *args)
    assert code == 0, err
    return json.loads(out)


def sent(emulator, action: str | None = None) -> list:
    return [r for r in emulator.requests if action is None or r[0] == action]


def stop_in_the_emulator(emulator, task: int) -> None:
    """A stop the history never sees (another tool's)."""
    emulator.service.call("StopRecord", json.dumps({"BizId": int(BIZ), "TaskId": task}).encode())


# --- recordings ----------------------------------------------------------------------------------


def test_recordings_lists_both_starts_newest_first_with_exact_task_ids(cli, emulator):
    first, second = start(cli, "room-one"), start(cli, "room-two", mode="1")
    code, out, err = cli("recordings")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Recordings on {emulator.url}, newest first (2 shown)"  # the header names it
    assert "Profile" not in lines[1] and "Endpoint" not in lines[1]
    assert str(second) in lines[2] and "room-two" in lines[2] and "single" in lines[2]
    assert str(first) in lines[3] and "room-one" in lines[3] and "mixed" in lines[3]
    assert all(" recording " in line for line in lines[2:4])

    found = listed(cli)
    assert [r["task_id"] for r in found] == [second, first]  # integers, exact
    assert [r["room_id"] for r in found] == ["room-two", "room-one"]
    assert {r["endpoint"] for r in found} == {emulator.url}
    assert {r["state"] for r in found} == {"recording"}
    assert re.search(rf'"task_id": {second}\b', cli("recordings", "--output", "json")[1])


def test_recordings_of_this_endpoint_only_and_every_endpoints_with_all(cli, emulator):
    start(cli, "here")
    with Emulator(status_step=0.2) as other:
        start(cli, "there", endpoint=other.url)
        assert [r["room_id"] for r in listed(cli)] == ["here"]
        everywhere = listed(cli, "--all")
        assert {(r["endpoint"], r["room_id"]) for r in everywhere} == {
            (emulator.url, "here"),
            (other.url, "there"),
        }
        code, out, err = cli("recordings", "--all")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].startswith("Recordings on every endpoint")
        assert "Endpoint" in lines[1] and "Profile" in lines[1]
        assert any(other.url in line and "there" in line and "default" in line for line in lines[2:])
        assert any(emulator.url in line and "here" in line for line in lines[2:])


def test_recordings_with_no_recordings_says_so(cli, emulator):
    code, out, _ = cli("recordings")
    assert code == 0 and out.strip() == f"No recordings known on {emulator.url}."
    assert listed(cli) == []
    assert sent(emulator) == []  # listing sends nothing


def test_recordings_limit(cli):
    for room in ("a", "b", "c"):
        start(cli, room)
    assert [r["room_id"] for r in listed(cli, "--limit", "2")] == ["c", "b"]


def test_refresh_shows_a_stop_done_outside_gme_tui(cli, emulator):
    task = start(cli, "stopped-elsewhere")
    other = start(cli, "still-running")
    stop_in_the_emulator(emulator, task)
    assert {r["state"] for r in listed(cli)} == {"recording"}  # as last known: nothing asked

    refreshed = {r["task_id"]: r for r in listed(cli, "--refresh")}
    assert refreshed[task]["state"] in PROCESSING[1:]  # its files asked about once found stopped
    assert refreshed[other]["state"] == "recording"
    asked = {(r.action, r.room_id): r for r in rows(cli.data_dir) if r.action.startswith("Describe")}
    assert asked[("DescribeTaskInfo", "stopped-elsewhere")].error_code == "ResourceNotFound.TaskNotFound"
    assert asked[("DescribeRecordInfo", "stopped-elsewhere")].outcome is OutcomeKind.OK
    assert asked[("DescribeTaskInfo", "still-running")].outcome is OutcomeKind.OK

    code, out, _ = cli("recordings", "--refresh")
    assert code == 0
    [line] = [line for line in out.splitlines() if str(task) in line]
    assert " recording " not in line and re.search(r"(transcoding|uploading|uploaded|done)", line)


def test_refresh_with_all_says_what_was_not_asked_about(cli, emulator):
    with Emulator(status_step=0.2) as other:
        start(cli, "there", endpoint=other.url)
        start(cli, "here")
        before = len(sent(other))
        code, _, err = cli("recordings", "--all", "--refresh")
        assert code == 0, err
        assert "only the recordings of" in err and "1 shown of other endpoints" in err
        assert len(sent(other)) == before  # never asked with this context's client


# --- watch ---------------------------------------------------------------------------------------


def test_watch_follows_a_stopped_recording_to_done_printing_each_change_once(cli, emulator):
    task = start(cli, "to-done")
    code, _, err = cli("stop", "--biz-id", BIZ, "--task-id", str(task))
    assert code == 0, err
    code, out, err = cli("watch", "--biz-id", BIZ, "--task-id", str(task), "--interval", "0.05")
    assert code == 0, err
    states = [re.sub(r"^\d\d:\d\d:\d\d  ", "", line).split("  files:")[0] for line in out.splitlines()]
    assert states[-1] == "done"
    assert len(states) == len(set(states))  # each change once
    assert states == sorted(states, key=WORDS.index)  # in order, never back
    assert "files: " in out.splitlines()[0] and "_mix_" in out  # the file names as they appear
    assert f"watching task {task} until done" in err
    assert [r for r in listed(cli) if r["task_id"] == task][0]["state"] == "done"  # the table too
    asks = [r for r in rows(cli.data_dir) if r.action == "DescribeRecordInfo"]
    assert len(asks) >= len(states)  # every ask has its history row

    code, out, _ = cli("watch", "--biz-id", BIZ, "--task-id", str(task), "--output", "json")
    assert code == 0
    [line] = out.splitlines()  # one object per line, and done at once
    said = json.loads(line)
    assert (said["task_id"], said["state"]) == (task, "done")
    assert re.search(rf'"task_id": {task}\b', line) and len(said["files"]) == 1


def test_watch_until_recording_on_a_running_task_ends_at_once(cli, emulator):
    task = start(cli, "running")
    code, out, err = cli(
        "watch", "--biz-id", BIZ, "--task-id", str(task), "--until", "recording", "--output", "json"
    )
    assert code == 0, err
    [line] = out.splitlines()
    assert json.loads(line)["state"] == "recording"
    assert len(sent(emulator, "DescribeRecordInfo")) == 1


def test_watch_until_uploaded_is_reached_by_uploaded_or_done(cli, emulator):
    task = start(cli, "uploaded")
    stop_in_the_emulator(emulator, task)
    code, out, _ = cli(
        "watch", "--biz-id", BIZ, "--task-id", str(task), "--until", "uploaded", "--interval", "0.05"
    )
    assert code == 0
    assert out.splitlines()[-1].split("  ")[1] in ("uploaded", "done")


def test_watch_on_an_unknown_task_exits_3_with_the_code(cli, emulator):
    code, out, err = cli("watch", "--biz-id", BIZ, "--task-id", "446192236330927912")
    assert code == exits.EXIT_SERVICE == 3
    assert "ResourceNotFound.TaskNotFound" in err and "Message:" in err
    assert out == ""
    code, out, err = cli("watch", "--biz-id", BIZ, "--task-id", "446192236330927912", "--output", "json")
    assert code == 3
    assert json.loads(out)["Error"]["Code"] == "ResourceNotFound.TaskNotFound"
    assert json.loads(out)["task_id"] == 446192236330927912


def test_watch_gives_up_with_exit_6_when_max_wait_runs_out(cli, emulator):
    task = start(cli, "forever")
    code, out, err = cli(
        "watch", "--biz-id", BIZ, "--task-id", str(task), "--max-wait", "0.5", "--interval", "0.2"
    )
    assert code == exits.EXIT_TIMED_OUT == 6
    assert "--max-wait 0.5 s ran out" in err and "recording" in err and "not yet done" in err
    assert [line.split("  ")[1] for line in out.splitlines()] == ["recording"]  # printed once
    assert 2 <= len(sent(emulator, "DescribeRecordInfo")) <= 5
    assert "6 timed out" in exits.__doc__


def test_ctrl_c_between_two_asks_ends_the_watch_with_130(cli, emulator, monkeypatch):
    from gme_tui.cli import recordings

    task = start(cli, "interrupted")

    def ctrl_c(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(recordings, "pause_for", ctrl_c)
    code, out, err = cli("watch", "--biz-id", BIZ, "--task-id", str(task))
    assert code == exits.EXIT_INTERRUPTED == 130
    assert f"interrupted; task {task} was last recording" in err
    assert [r.outcome for r in rows(cli.data_dir) if r.action == "DescribeRecordInfo"] == [OutcomeKind.OK]


def test_watch_on_a_transport_failure_exits_4(cli, emulator):
    with HostileServer(http_answer(b"<html>bad gateway</html>", status=502)) as server:
        code, _, err = cli("watch", "--biz-id", BIZ, "--task-id", "5", endpoint=server.url)
    assert code == exits.EXIT_TRANSPORT, err
    assert "502" in err


def test_watch_shows_hostile_file_names_inert(cli):
    name = "rec\x1b]0;PWNED\x07\u202e.mp3"
    with HostileServer(http_answer(record_answer(FileName=name, RecordStatus=14))) as server:
        for output in ("text", "json"):
            code, out, err = cli(
                "watch", "--biz-id", BIZ, "--task-id", "5", "--output", output, endpoint=server.url
            )
            assert code == 0, err
            assert not RAW.search(out + err)
            assert "\\u001b]0;PWNED\\u0007" in out
            if output == "json":
                assert json.loads(out)["files"] == [name]  # escaped, and still exactly the JSON


@pytest.mark.parametrize(
    ("args", "flag", "rule"),
    [
        (("--interval", "abc"), "--interval", "must be a number of seconds"),
        (("--interval", "0"), "--interval", "more than 0"),
        (("--interval", "1e3"), "--interval", "decimal digits"),
        (("--interval", "601"), "--interval", "at most 600"),
        (("--interval", ""), "--interval", "is empty"),
        (("--max-wait", "soon"), "--max-wait", "must be a number of seconds"),
        (("--max-wait", "-1"), "--max-wait", "seconds"),
        (("--until", "sideways"), "--until", "invalid choice"),
        (("--task-id", "12x"), "TaskId", ""),
    ],
)
def test_bad_watch_input_names_the_flag_and_the_rule(cli, emulator, args, flag, rule):
    base = {"--task-id": "5", "--interval": "2"}
    words = ["watch", "--biz-id", BIZ]
    for name, value in base.items():
        if name not in args:
            words += [name, value]
    code, out, err = cli(*words, *args)
    assert code == exits.EXIT_INVALID == 2, err
    assert flag in err and rule in err
    assert sent(emulator) == []


def test_bad_recordings_limit_is_refused(cli):
    code, _, err = cli("recordings", "--limit", "lots")
    assert code == 2 and "limit" in err and "whole number" in err


# --- reconcile -----------------------------------------------------------------------------------


def test_reconcile_finds_a_start_whose_answer_was_dropped(cli, emulator):
    emulator.faults.add(Fault("drop", count=1, action="StartRecord"))
    code, _, err = cli("start", "--biz-id", BIZ, "--room-id", "lost", "--mode", "2")
    assert code == exits.EXIT_UNKNOWN, err
    [row] = rows(cli.data_dir)
    assert row.outcome is OutcomeKind.UNKNOWN
    assert listed(cli)[0]["state"] == "unknown"

    code, out, err = cli("reconcile")
    assert code == 0, err
    [task] = [t for t in emulator.service.tasks() if t.room_id == "lost"]
    assert f"history row {row.id}" in out and "room lost" in out and f"started: task {task.task_id}" in out
    with History.in_dir(cli.data_dir) as history:
        settled = history.get(row.id)
    assert (settled.outcome, settled.task_id) == (OutcomeKind.OK, str(task.task_id))
    assert settled.note.startswith("reconciled:")
    assert len(sent(emulator, "StartRecord")) == 1  # never sent again
    assert listed(cli)[0]["task_id"] == task.task_id

    code, out, _ = cli("reconcile")
    assert code == 0 and out.startswith("Nothing to reconcile on")
    code, out, _ = cli("reconcile", "--output", "json")
    assert code == 0 and json.loads(out) == []


def test_reconcile_of_a_start_that_never_arrived_says_not_started(cli, emulator):
    emulator.faults.add(Fault("http502", count=1, action="StartRecord"))
    code, _, _ = cli("start", "--biz-id", BIZ, "--room-id", "never", "--mode", "2")
    assert code == exits.EXIT_TRANSPORT
    code, out, err = cli("reconcile", "--output", "json")
    assert code == 0, err
    [found] = json.loads(out)
    assert (found["room_id"], found["result"], found["task_id"]) == ("never", "not_started", None)
    assert rows(cli.data_dir)[-1].outcome is OutcomeKind.NOT_STARTED


def test_reconcile_that_gets_no_answer_says_still_unknown_and_exits_with_the_failure(cli, emulator):
    emulator.faults.add(Fault("drop", count=1, action="StartRecord"))
    cli("start", "--biz-id", BIZ, "--room-id", "lost-again", "--mode", "2")
    emulator.faults.add(Fault("http502", count=3, action="DescribeTaskInfo"))  # the retries too
    code, out, err = cli("reconcile")
    assert code == exits.EXIT_TRANSPORT, out + err
    assert "room lost-again" in out and "still unknown: " in out and "502" in out


# --- an action on a task goes to its own endpoint and profile -------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("stop",),
        ("describe-record",),
        ("modify", "--mode", "mixed"),
        ("watch", "--max-wait", "1"),
    ],
)
def test_an_action_on_a_task_of_another_endpoint_is_refused_before_sending(cli, emulator, command):
    with Emulator(status_step=0.2) as other:
        task = start(cli, "theirs", endpoint=other.url)
        before_here, before_there = len(sent(emulator)), len(sent(other))
        code, out, err = cli(command[0], "--biz-id", BIZ, "--task-id", str(task), *command[1:])
        assert code == exits.EXIT_INVALID, out + err
        assert f"Task {task} runs on {other.url} with profile default" in err
        assert f"not on {emulator.url}" in err and "Nothing was sent" in err
        assert (len(sent(emulator)), len(sent(other))) == (before_here, before_there)
        assert [r.action for r in rows(cli.data_dir)] == ["StartRecord"]  # no row: nothing sent
        # at its own endpoint it goes ahead
        code, _, err = cli("describe-record", "--biz-id", BIZ, "--task-id", str(task), endpoint=other.url)
        assert code == 0, err


def test_an_action_on_a_task_of_another_profile_is_refused(cli, emulator):
    task = start(cli, "ops-room")
    code, _, err = cli("--profile", "other", "stop", "--biz-id", BIZ, "--task-id", str(task))
    assert code == 2 and "with profile default, not on" in err and "with profile other" in err
    assert sent(emulator, "StopRecord") == []


def test_a_task_the_history_does_not_know_is_sent_as_before(cli, emulator):
    code, _, err = cli("stop", "--biz-id", BIZ, "--task-id", "446192236330927912")
    assert code == 3 and "ResourceNotFound.TaskNotFound" in err  # it reached the service
    assert len(sent(emulator, "StopRecord")) == 1


def test_stop_and_modify_say_where_they_went(cli, emulator):
    task = start(cli, "where")
    code, _, err = cli("modify", "--biz-id", BIZ, "--task-id", str(task), "--mode", "1")
    assert code == 0 and f"ModifyRecordInfo goes to profile default → {emulator.host_header}" in err
    code, _, err = cli("stop", "--biz-id", BIZ, "--task-id", str(task))
    assert code == 0 and "StopRecord goes to profile default" in err and "local endpoint" in err


# --- what the store holds is shown inert ----------------------------------------------------------


def test_recordings_text_shows_a_hostile_store_inert(cli):
    start(cli, "plain")
    with History.in_dir(cli.data_dir) as history:
        history._db.execute(
            "UPDATE recordings SET room_id=?, profile=?, files=?",
            ("r\x1b[2J\u202e", "p\x07", json.dumps(["a\x1b]0;x\x07.mp3"])),
        )
    for args in ((), ("--all",)):
        code, out, err = cli("recordings", *args)
        assert code == 0, err
        assert not RAW.search(out) and "\\u001b[2J" in out


@pytest.mark.parametrize("command", ["recordings", "watch", "reconcile"])
def test_help_names_every_option(command, capsys):
    from gme_tui.cli import main

    assert main([command, "--help"]) == 0
    said = capsys.readouterr().out
    wanted = {
        "recordings": ("--all", "--refresh", "--limit", "--output"),
        "watch": ("--biz-id", "--task-id", "--until", "--interval", "--max-wait", "--output"),
        "reconcile": ("--output",),
    }[command]
    assert all(flag in said for flag in wanted)
