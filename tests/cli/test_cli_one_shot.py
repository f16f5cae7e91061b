"""A one-shot command is a short process: the blocking driver, no event loop, a quick end."""

from __future__ import annotations

import json

from test_cli import rows, start_importing


def test_a_send_loads_no_event_loop_and_ends_with_its_row_complete(emulator, tmp_path):
    run, imported = start_importing(emulator, tmp_path, "one-shot", "--output", "json")
    assert "gme_tui.api.client" in imported  # the probe sees our modules...
    assert "asyncio" not in imported  # ...and no event loop
    # os._exit skipped the interpreter's teardown, not the output nor the history
    task = json.loads(run.stdout)["TaskId"]
    [row] = rows(tmp_path)
    assert (row.outcome, int(row.task_id)) == ("ok", task)
