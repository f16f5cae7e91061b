"""A one-shot command is a short process: the blocking driver, no event loop, a quick end."""

from __future__ import annotations

import json
import subprocess
import sys

from test_cli import BIZ, _subprocess_env, rows

from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY


def test_a_send_loads_no_event_loop_and_ends_with_its_row_complete(emulator, tmp_path):
    env = _subprocess_env(tmp_path) | {
        "TENCENTCLOUD_SECRET_ID": DEMO_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEMO_SECRET_KEY,
    }
    run = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "gme_tui",
            "--endpoint",
            emulator.url,
            "start",
            "--biz-id",
            BIZ,
            "--room-id",
            "one-shot",
            "--mode",
            "1",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "|" in line}
    assert "gme_tui.api.client" in imported  # the probe sees our modules...
    assert "asyncio" not in imported  # ...and no event loop
    # os._exit skipped the interpreter's teardown, not the output nor the history
    task = json.loads(run.stdout)["TaskId"]
    [row] = rows(tmp_path)
    assert (row.outcome, int(row.task_id)) == ("ok", task)
