"""The demo holds together across runs: each `--demo` command starts an emulator of its own,
and all of them keep their tasks in the demo folder, beside the demo history. And
`gme-tui emulator` says, first thing, how to reach it."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gme_tui.cli import main
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_SECRET_ID, DEMO_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(no_keyring, tmp_path, monkeypatch, capsys):
    """Run `gme-tui --demo --data-dir <tmp> ARGS`; returns (code, stdout, stderr)."""
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GME_TUI_DATA_DIR", raising=False)
    monkeypatch.setenv("GME_TUI_CONFIG", str(tmp_path / "config" / "settings.yaml"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--demo", "--data-dir", str(tmp_path), *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    run.state = tmp_path / "demo" / "emulator.sqlite3"
    return run


def test_a_later_demo_command_finds_the_task_an_earlier_one_started(demo):
    code, out, err = demo("start", "--room-id", "r1", "--mode", "2", "--output", "json")
    assert code == 0, err
    task_id = json.loads(out)["TaskId"]
    assert task_id > 2**53

    code, out, err = demo("describe-task", "--room-id", "r1", "--output", "json")
    assert code == 0, err
    assert json.loads(out)["TaskId"] == task_id  # exact, from another emulator on the same file

    code, out, err = demo("start", "--room-id", "r1", "--mode", "2")
    assert code != 0 and "ResourceInUse.TaskInUse" in out + err

    code, _, err = demo("stop", "--task-id", str(task_id))
    assert code == 0, err
    code, out, err = demo("describe-record", "--task-id", str(task_id), "--output", "json")
    assert code == 0, err
    [record] = json.loads(out)["RecordInfo"]
    assert record["RecordStatus"] >= 10  # stopped, and on its way to done

    assert demo.state.is_file()
    assert (demo.state.parent / "history.sqlite3").is_file()  # both in the demo folder


def test_a_demo_that_cannot_take_its_port_says_so_and_sends_nothing(demo, monkeypatch):
    from gme_tui import demo as demo_module

    def refused(*_args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(demo_module, "listen", refused)
    code, out, err = demo("describe-task", "--room-id", "r1")
    assert code == 1 and out == ""
    assert "the demo's emulator could not take a port on 127.0.0.1: PermissionError" in err
    assert "internal error" not in err
    assert not (demo.state.parent / "history.sqlite3").exists()  # nothing was sent, nor begun


def test_a_damaged_demo_state_file_is_set_aside_and_the_demo_goes_on(demo):
    demo.state.parent.mkdir(parents=True)
    demo.state.write_bytes(b"\x00garbage" * 500)
    code, out, err = demo("start", "--room-id", "r2", "--mode", "1", "--output", "json")
    assert code == 0, err
    assert json.loads(out)["TaskId"] > 2**53
    [line] = [line for line in err.splitlines() if "state file" in line]
    assert line.startswith("gme-tui: ") and "could not be used" in line
    code, _, err = demo("describe-task", "--room-id", "r2")
    assert code == 0 and "state file" not in err  # said once, then a sound file


def test_a_one_shot_demo_process_and_a_running_demo_emulator_agree(tmp_path):
    """The console's emulator (here, in this process) and a `gme-tui --demo` command run in
    another process at the same time: each sees what the other did, at once."""
    from gme_tui.api.actions import DescribeTaskInfo, StartRecord
    from gme_tui.api.client import RateLimiter, SyncGmeClient
    from gme_tui.api.fields import RecordMode
    from gme_tui.emulator import DEMO_KEY, Emulator

    def one_shot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gme_tui", "--demo", *args, "--output", "json"],
            cwd=ROOT,
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )

    warnings: list[str] = []
    with (
        Emulator(state_file=tmp_path / "demo" / "emulator.sqlite3", warn=warnings.append) as console,
        SyncGmeClient(DEMO_KEY, endpoint=console.url, limiter=RateLimiter(), use_env_proxies=False) as client,
    ):
        mine = client.call(StartRecord(DEMO_BIZ_ID, "from-console", RecordMode.MIXED)).task_id
        found = one_shot("describe-task", "--room-id", "from-console")
        assert found.returncode == 0, found.stderr
        assert json.loads(found.stdout)["TaskId"] == mine

        started = one_shot("start", "--room-id", "from-command", "--mode", "1")
        assert started.returncode == 0, started.stderr
        theirs = json.loads(started.stdout)["TaskId"]
        assert client.call(DescribeTaskInfo(DEMO_BIZ_ID, "from-command")).task_id == theirs
    assert warnings == []


# --- gme-tui emulator: the banner -------------------------------------------------


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
    env["GME_TUI_DATA_DIR"] = str(tmp_path)
    env["GME_TUI_CONFIG"] = str(tmp_path / "config" / "settings.yaml")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    return env


def _banner(tmp_path: Path, *extra: str) -> list[str]:
    """The lines `gme-tui emulator --port 0 EXTRA` prints before it serves, up to its last one."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gme_tui", "emulator", "--port", "0", *extra],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while not seen or seen[-1] != "Ctrl+C stops it.":
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, f"it ended early: {seen} {proc.stderr.read() if proc.stderr else ''}"
            seen.append(line)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return seen


def test_the_emulator_banner_says_whom_it_accepts_and_how_to_point_clients_at_it(tmp_path):
    lines = _banner(tmp_path)
    url = lines[0].removeprefix("GME emulator listening on ")
    assert url.startswith("http://127.0.0.1:") and url != lines[0]
    assert any(DEMO_SECRET_ID in line and "SecretId" in line for line in lines[1:])
    assert f"  export TENCENTCLOUD_SECRET_ID={DEMO_SECRET_ID}" in lines
    assert f"  export TENCENTCLOUD_SECRET_KEY={DEMO_SECRET_KEY}" in lines  # the demo's own test key
    assert any(
        line.startswith(f"  gme-tui --endpoint {url} start --biz-id {DEMO_BIZ_ID} --room-id ")
        and line.endswith("--mode 2")
        for line in lines
    )
    assert any("tccli" in line for line in lines)
    assert any("memory" in line for line in lines)


def test_a_key_given_with_secret_key_is_never_echoed(tmp_path):
    lines = _banner(tmp_path, "--secret-id", "AKIDoperatorsOwn", "--secret-key", "operators-own-test-key")
    text = "\n".join(lines)
    assert "operators-own-test-key" not in text
    assert "  export TENCENTCLOUD_SECRET_ID=AKIDoperatorsOwn" in lines
    assert any(
        line.startswith("  export TENCENTCLOUD_SECRET_KEY=") and "the key given with --secret-key" in line
        for line in lines
    )


def test_the_emulator_keeps_its_tasks_in_the_state_file_it_is_given(tmp_path):
    state = tmp_path / "kept" / "emulator.sqlite3"
    lines = _banner(tmp_path, "--state-file", str(state))
    assert any(str(state) in line for line in lines)
    assert state.is_file()
