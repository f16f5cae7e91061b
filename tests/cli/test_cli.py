"""The command line as a script would use it: exit codes, output, history, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import closed_port

from gme_tui.cli import main
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_SECRET_ID, DEMO_SECRET_KEY
from gme_tui.history import History

BIZ = str(DEMO_BIZ_ID)


@pytest.fixture
def cli(no_keyring, emulator, tmp_path, monkeypatch, capsys):
    """Run `gme-tui --endpoint <emulator> --data-dir <tmp> ARGS`; returns (code, stdout, stderr)."""
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY)
    monkeypatch.delenv("TENCENTCLOUD_SESSION_TOKEN", raising=False)
    # Never the developer's own keyring or settings: no backend (no_keyring), and settings in tmp.
    monkeypatch.setenv("GME_TUI_CONFIG", str(tmp_path / "config" / "settings.yaml"))

    def run(*args: str, endpoint: str | None = None) -> tuple[int, str, str]:
        code = main(["--endpoint", endpoint or emulator.url, "--data-dir", str(tmp_path), *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    run.data_dir = tmp_path
    return run


def rows(data_dir):
    with History.in_dir(data_dir) as history:
        return history.rows(limit=1000)


def test_start_prints_the_exact_task_id_and_records_it(cli, emulator):
    code, out, err = cli(
        "start", "--biz-id", BIZ, "--room-id", "1987", "--mode", "single", "--allow", "10001 10002"
    )
    assert code == 0, err
    task_id = rows(cli.data_dir)[0].response["TaskId"]
    assert f"TaskId      {task_id}" in out
    (row,) = rows(cli.data_dir)
    assert (row.action, row.outcome, row.room_id, row.record_mode) == ("StartRecord", "ok", "1987", 1)
    assert int(row.task_id) == task_id > 2**53


def test_json_output_is_the_response_object_with_exact_integers(cli):
    code, out, _ = cli("start", "--biz-id", BIZ, "--room-id", "r-json", "--mode", "2", "--output", "json")
    assert code == 0
    response = json.loads(out)
    assert set(response) == {"TaskId", "RequestId"}
    assert isinstance(response["TaskId"], int) and response["TaskId"] > 2**53
    assert str(response["TaskId"]) in out  # printed digits, not a float

    code, out, _ = cli("describe-task", "--biz-id", BIZ, "--room-id", "r-json", "--output", "json")
    assert code == 0
    assert json.loads(out)["TaskId"] == response["TaskId"]


def test_the_whole_task_lifecycle(cli):
    _, out, _ = cli("start", "--biz-id", BIZ, "--room-id", "life", "--mode", "both", "--output", "json")
    task = str(json.loads(out)["TaskId"])
    code, out, _ = cli("modify", "--biz-id", BIZ, "--task-id", task, "--mode", "mixed", "--block", "10009")
    assert code == 0 and "ModifyRecordInfo ok" in out
    code, out, _ = cli("describe-task", "--biz-id", BIZ, "--room-id", "life")
    assert code == 0 and "mixed" in out and "10009" in out
    code, out, _ = cli("stop", "--biz-id", BIZ, "--task-id", task)
    assert code == 0 and "StopRecord ok" in out
    code, out, _ = cli("describe-record", "--biz-id", BIZ, "--task-id", task)
    assert code == 0
    assert "0 (mixed)" in out
    assert "waiting for transcoding" in out or "transcoding" in out or "uploading" in out
    code, out, err = cli("stop", "--biz-id", BIZ, "--task-id", task)
    assert code == 3
    assert "ResourceNotFound.TaskNotFound" in err and "RequestId" in err


@pytest.mark.parametrize(
    ("args", "field", "rule"),
    [
        (["start", "--biz-id", "12a", "--room-id", "r", "--mode", "1"], "BizId", "decimal digits"),
        (["start", "--biz-id", BIZ, "--room-id", " r", "--mode", "1"], "RoomId", "blanks"),
        (["start", "--biz-id", BIZ, "--room-id", "r", "--mode", "4"], "RecordMode", "1, 2, 3"),
        (
            ["start", "--biz-id", BIZ, "--room-id", "r", "--mode", "1", "--allow", "9999"],
            "SubscribeUserIds",
            "greater than 10000",
        ),
        (
            [
                "start",
                "--biz-id",
                BIZ,
                "--room-id",
                "r",
                "--mode",
                "1",
                "--allow",
                "10001",
                "--block",
                "10001",
            ],
            "UnSubscribeUserIds",
            "one list only",
        ),
        (["start", "--biz-id", BIZ, "--mode", "1"], "RoomId", "required"),
        (["stop", "--biz-id", BIZ, "--task-id", "-5"], "TaskId", "decimal digits"),
        (["--timeout", "0", "describe-task", "--biz-id", BIZ, "--room-id", "r"], "timeout", "more than 0"),
        (["history", "--limit", "lots"], "limit", "whole number"),
        (["history", "--limit", "9" * 5000], "limit", "whole number"),  # int() would refuse it
        (["history", "--limit", "1000001"], "limit", "whole number"),
    ],
)
def test_invalid_input_exits_2_names_the_field_and_sends_nothing(cli, emulator, args, field, rule):
    code, out, err = cli(*args)
    assert code == 2
    assert f"{field}: " in err and rule in err
    assert emulator.requests == []
    assert rows(cli.data_dir) == []


def test_a_bad_endpoint_is_invalid_input(cli):
    code, _, err = cli("describe-task", "--biz-id", BIZ, "--room-id", "r", endpoint="ftp://example.com")
    assert code == 2 and "endpoint: " in err


def test_both_lists_is_a_warning_not_an_error(cli):
    code, _, err = cli(
        "start", "--biz-id", BIZ, "--room-id", "warn", "--mode", "1", "--allow", "10001", "--block", "10002"
    )
    assert code == 0
    assert "warning: UnSubscribeUserIds: both" in err


def test_a_service_error_exits_3_with_code_message_meaning_and_request_id(cli):
    cli("start", "--biz-id", BIZ, "--room-id", "twice", "--mode", "1")
    code, _, err = cli("start", "--biz-id", BIZ, "--room-id", "twice", "--mode", "1")
    assert code == 3
    assert "ResourceInUse.TaskInUse" in err
    assert "already recording this room" in err
    assert "RequestId: " in err and "RequestId: -" not in err
    assert rows(cli.data_dir)[0].error_code == "ResourceInUse.TaskInUse"


def test_not_sent_exits_4_and_says_it_is_safe_to_retry(cli):
    code, _, err = cli(
        "--timeout",
        "2",
        "describe-task",
        "--biz-id",
        BIZ,
        "--room-id",
        "r",
        endpoint=f"http://127.0.0.1:{closed_port()}",
    )
    assert code == 4
    assert "not sent" in err and "safe to retry" in err
    assert rows(cli.data_dir)[0].outcome == "not_sent"


def test_a_bad_answer_exits_4(cli, emulator):
    emulator.faults.set("http502", count=1)
    code, out, err = cli("start", "--biz-id", BIZ, "--room-id", "r502", "--mode", "1", "--output", "json")
    assert code == 4
    assert "HTTP 502" in err and "describe-task" in err
    assert json.loads(out)["Error"]["Kind"] == "bad_answer"


def test_outcome_unknown_exits_5_and_says_how_to_check(cli, emulator):
    emulator.faults.set("drop", count=1)
    code, _, err = cli("start", "--biz-id", BIZ, "--room-id", "lost", "--mode", "1")
    assert code == 5
    assert "outcome unknown" in err
    assert f" describe-task --biz-id {BIZ} --room-id lost" in err  # after the options that aimed it
    assert rows(cli.data_dir)[0].outcome == "unknown"
    code, out, _ = cli("describe-task", "--biz-id", BIZ, "--room-id", "lost")
    assert code == 0 and "TaskId" in out


def test_dry_run_prints_the_request_redacted_and_sends_nothing(cli, emulator):
    code, out, _ = cli(
        "start",
        "--biz-id",
        BIZ,
        "--room-id",
        "dry",
        "--mode",
        "mixed",
        "--allow",
        "10001",
        "--dry-run",
        "--output",
        "json",
    )
    assert code == 0
    shown = json.loads(out)
    assert shown["body"] == {
        "BizId": DEMO_BIZ_ID,
        "RoomId": "dry",
        "RecordMode": 2,
        "SubscribeRecordUserIds": {"SubscribeUserIds": ["10001"]},
    }
    auth = shown["headers"]["Authorization"]
    assert auth.startswith(f"TC3-HMAC-SHA256 Credential={DEMO_SECRET_ID}/")
    assert auth.endswith("Signature=<redacted>")
    assert DEMO_SECRET_KEY not in out
    assert emulator.requests == []
    assert rows(cli.data_dir) == []
    code, out, _ = cli("start", "--biz-id", BIZ, "--room-id", "dry", "--mode", "1", "--dry-run")
    assert code == 0 and out.startswith("POST http://127.0.0.1:") and "X-TC-Action: StartRecord" in out


def test_history_json_lists_rows_newest_first_with_outcomes(cli):
    cli("start", "--biz-id", BIZ, "--room-id", "h1", "--mode", "1")
    cli("start", "--biz-id", BIZ, "--room-id", "h1", "--mode", "1")
    code, out, _ = cli("history", "--output", "json")
    assert code == 0
    listed = json.loads(out)
    assert [r["outcome"] for r in listed] == ["service_error", "ok"]
    assert listed[0]["error_code"] == "ResourceInUse.TaskInUse"
    assert isinstance(listed[1]["task_id"], int)
    code, out, _ = cli("history", "--limit", "1")
    assert code == 0 and "ResourceInUse.TaskInUse" in out and out.count("StartRecord") == 1


def test_missing_credentials_say_which(cli, monkeypatch):
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY")
    code, _, err = cli("describe-task", "--biz-id", BIZ, "--room-id", "r")
    assert code == 1
    assert "TENCENTCLOUD_SECRET_KEY" in err and "no keyring backend" in err


def test_an_unusable_data_dir_stops_before_sending(cli, emulator, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(
        [
            "--endpoint",
            emulator.url,
            "--data-dir",
            str(blocker / "sub"),
            "describe-task",
            "--biz-id",
            BIZ,
            "--room-id",
            "r",
        ]
    )
    assert code == 1
    assert emulator.requests == []


def test_no_secret_reaches_the_data_dir(cli, emulator, monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_SESSION_TOKEN", "token-that-must-not-be-stored")
    cli("start", "--biz-id", BIZ, "--room-id", "s1", "--mode", "1")
    cli("start", "--biz-id", BIZ, "--room-id", "s1", "--mode", "1")
    emulator.faults.set("drop", count=1)
    cli("start", "--biz-id", BIZ, "--room-id", "s2", "--mode", "1")
    cli("history")
    files = [p for p in cli.data_dir.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in (DEMO_SECRET_KEY, "token-that-must-not-be-stored", "Signature="):
            assert secret.encode() not in data, (path, secret)


def _subprocess_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    env["GME_TUI_DATA_DIR"] = str(tmp_path)
    env["GME_TUI_CONFIG"] = str(tmp_path / "config" / "settings.yaml")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return env


def start_importing(
    emulator, tmp_path, room: str, *extra: str
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`python -X importtime -m gme_tui ... start` in a fresh process: the run, and every module it imported."""
    env = _subprocess_env(tmp_path) | {
        "TENCENTCLOUD_SECRET_ID": DEMO_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEMO_SECRET_KEY,
    }
    argv = ["--endpoint", emulator.url, "start", "--biz-id", BIZ, "--room-id", room, "--mode", "1", *extra]
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gme_tui", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    return run, [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "|" in line]


def test_the_one_shot_path_never_imports_textual(emulator, tmp_path):
    _run, imported = start_importing(emulator, tmp_path, "imports")
    assert "gme_tui.api.client" in imported  # the probe sees our modules...
    assert not [name for name in imported if name.split(".")[0] == "textual"]  # ...and no Textual


def test_demo_mode_needs_no_credentials(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "gme_tui",
            "--demo",
            "start",
            "--room-id",
            "demo-room",
            "--mode",
            "mixed",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=_subprocess_env(tmp_path),
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["TaskId"] > 2**53
    assert rows(tmp_path / "demo")[0].profile == "demo"  # demo rows live apart from real ones
    assert not (tmp_path / "history.sqlite3").exists()


def test_argparse_errors_exit_2_without_a_traceback(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "gme_tui", "start", "--no-such-flag"],
        capture_output=True,
        text=True,
        env=_subprocess_env(tmp_path),
        timeout=60,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "--no-such-flag" in run.stderr


def test_a_closed_stdout_keeps_the_exit_code_and_the_explanation(emulator, tmp_path):
    env = _subprocess_env(tmp_path) | {
        "TENCENTCLOUD_SECRET_ID": DEMO_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEMO_SECRET_KEY,
    }
    base = [
        sys.executable,
        "-m",
        "gme_tui",
        "--endpoint",
        emulator.url,
        "start",
        "--biz-id",
        BIZ,
        "--room-id",
        "piped",
        "--mode",
        "1",
        "--output",
        "json",
    ]
    subprocess.run(base, env=env, capture_output=True, timeout=60)
    with open(os.devnull, "rb") as nothing:
        proc = subprocess.Popen(base, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=nothing)
        proc.stdout.close()  # the reader is gone before anything is printed
        err = proc.stderr.read().decode()
        proc.wait(60)
    assert proc.returncode == 3
    assert "ResourceInUse.TaskInUse" in err and "Traceback" not in err


def test_a_full_disk_on_stdout_still_reports_the_task(emulator, tmp_path):
    env = _subprocess_env(tmp_path) | {
        "TENCENTCLOUD_SECRET_ID": DEMO_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEMO_SECRET_KEY,
    }
    with open("/dev/full", "w") as full:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "gme_tui",
                "--endpoint",
                emulator.url,
                "start",
                "--biz-id",
                BIZ,
                "--room-id",
                "full",
                "--mode",
                "1",
            ],
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert run.returncode == 0
    task = rows(tmp_path)[0].task_id
    assert "StartRecord succeeded but its output could not be printed" in run.stderr
    assert f"TaskId {task}" in run.stderr


def test_ctrl_c_while_waiting_says_the_outcome_is_unknown(emulator, tmp_path):
    import signal
    import time

    env = _subprocess_env(tmp_path) | {
        "TENCENTCLOUD_SECRET_ID": DEMO_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEMO_SECRET_KEY,
    }
    emulator.faults.set("delay", seconds=10.0, count=1)  # ample time to see the request and interrupt it
    # pytest started as a background job (`&`) ignores SIGINT, and a child inherits that: give the
    # CLI the default, as a terminal's Ctrl+C finds it. Reset in the child before it execs the CLI,
    # not in a preexec_fn (unsafe with the emulator's threads running in this process).
    default_sigint = (
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            default_sigint,
            "-m",
            "gme_tui",
            "--endpoint",
            emulator.url,
            "start",
            "--biz-id",
            BIZ,
            "--room-id",
            "ctrl-c",
            "--mode",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while not any(name == "StartRecord" for name, _p, _h in emulator.requests):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 5
    assert "outcome unknown" in err and "describe-task" in err and "Traceback" not in err
    assert rows(tmp_path)[0].outcome == "unknown"


def test_a_locked_history_stops_before_sending(cli, emulator, monkeypatch):
    """Another writer holds the store: the row cannot be written, so nothing is sent.

    The store exists, so opening it takes no lock and the first write is the
    pending row; a short busy timeout makes that write give up at once.
    """
    import sqlite3

    import gme_tui.history as history_module

    History.in_dir(cli.data_dir).close()
    monkeypatch.setattr(history_module, "BUSY_TIMEOUT", 0.2)
    blocker = sqlite3.connect(cli.data_dir / "history.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = cli("start", "--biz-id", BIZ, "--room-id", "locked", "--mode", "1")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert code == 1
    assert "cannot write the history (database is locked); nothing was sent" in err
    assert emulator.requests == []
    assert rows(cli.data_dir) == []


@pytest.mark.parametrize("endpoint", ["https://[zz]", "https://[::1", "https://h:99999", "https://u:p@h"])
def test_malformed_endpoints_are_invalid_input(cli, endpoint):
    code, _, err = cli("describe-task", "--biz-id", BIZ, "--room-id", "r", endpoint=endpoint)
    assert code == 2 and "endpoint: " in err


def test_service_text_cannot_inject_terminal_escapes(cli, emulator):
    code, out, _ = cli("start", "--biz-id", BIZ, "--room-id", "esc\u202eroom", "--mode", "1")
    assert code == 2  # the rule refuses invisible formatting characters in input...
    from gme_tui.safe_text import clean

    assert clean("bad\x1b[2Jname\u202e") == "bad\\u001b[2Jname\\u202e"  # ...and output escapes them


def test_emulator_port_out_of_range_is_invalid_input(capsys):
    assert main(["emulator", "--port", "99999"]) == 2
    assert "--port: must be from 0 to 65535" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["emulator", "--fault", "bogus"], "--fault"),
        (["emulator", "--fault", "delay=x"], "--fault"),
        (["emulator", "--port", "70000"], "--port"),
        (["emulator", "--secret-id", "AKIDx"], "--secret-key"),
    ],
)
def test_the_emulator_command_refuses_bad_options_before_it_listens(capsys, args, field):
    from gme_tui.cli import main

    assert main(args) == 2
    assert f"gme-tui: {field}: " in capsys.readouterr().err
