"""After an outcome unknown, the "Check with:" command looks where the request went.

A hint without the global options that aimed the request (`--profile`, `--endpoint`,
`--region`, `--data-dir`, `--demo`) would check the default place, the real service.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from gme_tui.cli import main
from gme_tui.context import Flags, aimed_command, resolve
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_SECRET_ID, DEMO_SECRET_KEY
from gme_tui.settings import Settings

BIZ = str(DEMO_BIZ_ID)


def _check_line(err: str) -> str:
    [line] = [line for line in err.splitlines() if "Check with:" in line]
    return line.split("Check with:", 1)[1].strip()


def test_the_check_after_an_unknown_outcome_goes_where_the_start_went(
    no_keyring, emulator, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY)
    monkeypatch.delenv("TENCENTCLOUD_REGION", raising=False)
    monkeypatch.delenv("GME_TUI_PROFILE", raising=False)
    monkeypatch.setenv("GME_TUI_CONFIG", str(tmp_path / "config" / "settings.yaml"))
    folder = tmp_path / "data dir $HOME"  # a blank and a `$`: the hint must quote them
    where = ["--profile", "staging", "--endpoint", emulator.url, "--region", "ap-guangzhou"]
    where += ["--data-dir", str(folder)]
    emulator.faults.set("drop", count=1)  # the service acts, the answer never comes

    code = main([*where, "start", "--biz-id", BIZ, "--room-id", "lost room", "--mode", "2"])
    err = capsys.readouterr().err
    assert code == 5, err
    words = shlex.split(_check_line(err))
    assert words == [
        "gme-tui",
        *where,
        "describe-task",
        "--biz-id",
        BIZ,
        "--room-id",
        "lost room",
    ]
    # Run the check as printed: it reaches the same emulator and finds the task started.
    code = main(words[1:])
    out = capsys.readouterr().out
    assert code == 0 and "TaskId" in out
    [task] = emulator.service.tasks()
    assert str(task.task_id) in out


def _ctx(flags: Flags, settings: Settings | None = None):
    return resolve(flags, settings or Settings(), environ={})


def test_a_bare_context_needs_no_options(tmp_path):
    assert aimed_command(_ctx(Flags())) == "gme-tui"


def test_a_profile_from_the_settings_file_is_named_with_its_endpoint(tmp_path):
    settings = Settings(profile="staging", profiles={"staging": {"endpoint": "http://127.0.0.1:8765"}})
    words = shlex.split(aimed_command(_ctx(Flags(data_dir=str(tmp_path)), settings)))
    assert words == [
        "gme-tui",
        "--profile",
        "staging",
        "--endpoint",
        "http://127.0.0.1:8765",
        "--data-dir",
        str(tmp_path),
    ]


def test_the_demo_is_named_not_its_emulator_that_is_gone(tmp_path):
    ctx = _ctx(Flags(demo=True, data_dir=str(tmp_path))).pinned_to("http://127.0.0.1:40555", environ={})
    words = shlex.split(aimed_command(ctx))
    assert words == ["gme-tui", "--demo", "--data-dir", str(Path(tmp_path))]
