"""`gme-tui history` shows a row damaged by hand as damaged, under the row, never an internal error."""

from __future__ import annotations

import sqlite3

from test_cli import cli as cli  # the fixture (an explicit re-export: its name is used as a parameter)

from gme_tui.history import History


def test_history_text_marks_a_damaged_row_and_says_what_is_damaged(cli, tmp_path):
    with History.in_dir(tmp_path) as history:
        row = history.begin(
            action="StartRecord",
            profile="p",
            endpoint="http://e",
            region=None,
            params={"BizId": 1, "RoomId": "broken"},
        )
        history.finish(row, outcome="ok", duration_ms=1.0, task_id=9)
    db = sqlite3.connect(tmp_path / "history.sqlite3")
    with db:
        db.execute("UPDATE requests SET params='{not json', task_id='abc' WHERE id=?", (row,))
    db.close()
    code, out, err = cli("history")
    assert code == 0, err
    lines = out.splitlines()
    (shown,) = [line for line in lines if "broken" in line]
    assert "ok (damaged row)" in shown
    detail = lines[lines.index(shown) + 1]
    assert detail.strip().startswith("damaged:") and "params" in detail and "task_id" in detail
    assert "internal error" not in err
