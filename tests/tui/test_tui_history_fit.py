"""The history's columns fit the panel: a long room ends in an ellipsis, Outcome and TaskId
stay in view at 120 columns with an error row, 80 columns show a compact set, and what
that set leaves out is in the answer panel for the highlighted row."""

from __future__ import annotations

from helpers import after_first_frame, until
from textual.widgets import DataTable

from gme_tui.history import History
from gme_tui.tui.widgets.history_panel import PRIORITY, fit_columns

TASK = 2**63 - 25
LONG_ROOM = "a-very-long-room-name-that-an-operator-pasted-from-a-ticket-0123456789"
NATURAL = {"time": 8, "action": 16, "room": len(LONG_ROOM), "mode": 6, "outcome": 29, "task": 20}


def test_fit_keeps_every_column_at_80_cells_and_caps_the_room():
    widths = fit_columns(78, NATURAL, tuple(NATURAL))
    assert set(widths) == set(NATURAL)
    assert widths["task"] == 20 and widths["time"] == 8 and widths["mode"] == 6  # whole, never cut
    assert sum(widths.values()) + 2 * len(widths) <= 78
    assert 6 <= widths["room"] <= 24


def test_fit_drops_the_least_needed_columns_first_and_always_keeps_the_time():
    assert list(fit_columns(38, NATURAL, tuple(NATURAL))) == ["time", "action", "room", "outcome"]
    assert list(fit_columns(5, NATURAL, tuple(NATURAL))) == ["time"]
    roomy = fit_columns(200, NATURAL, tuple(NATURAL))
    assert roomy["room"] == 24 and roomy["outcome"] == 29  # capped; whole
    assert list(PRIORITY[:4]) == ["time", "action", "room", "outcome"]


def _prefill(app) -> None:
    """A long room's recording and a Stop the service refused, in the console's own history."""
    with History.in_dir(app.config.data_dir) as history:
        where = dict(profile=app.config.profile, endpoint=app.config.scope, region=None)
        start = history.begin(
            action="StartRecord", params={"BizId": 1, "RoomId": LONG_ROOM, "RecordMode": 2}, **where
        )
        history.finish(
            start, outcome="ok", duration_ms=3.0, task_id=TASK, response={"TaskId": TASK, "RequestId": "r-1"}
        )
        stop = history.begin(action="StopRecord", params={"BizId": 1, "TaskId": TASK}, **where)
        history.finish(
            stop,
            outcome="service_error",
            duration_ms=3.0,
            error_code="ResourceNotFound.TaskNotFound",
            error_message="no such task",
            response={
                "Error": {"Code": "ResourceNotFound.TaskNotFound", "Message": "no"},
                "RequestId": "r-2",
            },
            request_id="r-2",
        )


def _labels(table: DataTable) -> list[str]:
    return [str(column.label) for column in table.ordered_columns]


def _fits(table: DataTable) -> bool:
    """Every column in view: the table is no wider than the room it has (no sideways scroll)."""
    return 0 < table.virtual_size.width <= table.scrollable_content_region.width


async def _both_rows(pilot) -> DataTable:
    await after_first_frame(pilot)
    table = pilot.app.screen.query_one("#history-table", DataTable)
    await until(lambda: table.row_count == 2 and _fits(table), "both rows, fitted", pilot)
    return table


async def test_at_120_outcome_and_task_id_stay_in_view_with_a_long_room_and_an_error_row(make_app):
    app = make_app()
    _prefill(app)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _both_rows(pilot)
        assert _labels(table) == ["Time", "Action", "RoomId", "Mode", "Outcome", "TaskId"]
        widths = {str(c.key.value): c.get_render_width(table) - 2 for c in table.ordered_columns}
        assert widths["task"] == len(str(TASK))  # whole, not "Ta"
        assert widths["room"] < len(LONG_ROOM)
        screen = app.export_screenshot()
        assert str(TASK) in screen  # the start's TaskId, drawn whole
        assert "ResourceNo" in screen  # the Stop's outcome, in view
        assert LONG_ROOM[:6] in screen and LONG_ROOM not in screen  # the room, cut with an ellipsis
        assert "…" in screen
        assert [str(cell) for cell in table.get_row_at(0)][3] == "mixed"  # the Stop says its recording's mode


async def test_at_80_a_compact_set_and_the_rest_in_the_answer_panel(make_app):
    app = make_app()
    _prefill(app)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _both_rows(pilot)
        assert _labels(table) == ["Time", "Action", "RoomId", "Outcome"]
        table.focus()
        await pilot.press("down")  # the start, whose TaskId the table no longer shows
        response = app.screen.query_one("#response")
        await until(lambda: str(TASK) in app.export_screenshot(), "the TaskId in the answer panel", pilot)
        assert response.view is not None and response.view.task_id == TASK
        await pilot.resize_terminal(120, 40)  # room again: every column back, the same row highlighted
        await until(lambda: "TaskId" in _labels(table) and _fits(table), "the columns back", pilot)
        assert table.cursor_row == 1
