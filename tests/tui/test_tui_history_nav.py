"""History navigation: Down from the filter box into the rows; Escape in the rows empties
the filter (and, with no filter, passes on). Focus starts in RoomId when BizId is prefilled."""

from __future__ import annotations

from helpers import after_first_frame, send_confirmed, until
from test_tui_app import fill
from textual.widgets import DataTable, Input


async def test_down_from_the_filter_goes_into_the_rows_and_escape_there_clears_it(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        for room in ("alpha", "beta"):
            await fill(pilot, room=room, mode="2")
            await send_confirmed(pilot)
        table = app.screen.query_one("#history-table", DataTable)
        await until(lambda: table.row_count == 2, "both rows", pilot)
        await pilot.press("ctrl+f", *"alp")
        await until(lambda: table.row_count == 1, "the filtered row", pilot)
        await pilot.press("down")
        await pilot.pause()
        assert app.focused is table
        await pilot.press("escape")
        filter_box = app.screen.query_one("#history-filter", Input)
        await until(lambda: filter_box.value == "" and table.row_count == 2, "the filter cleared", pilot)
        assert app.focused is table  # still in the rows


async def test_focus_starts_in_room_id_when_biz_id_is_prefilled_and_the_first_key_keeps_it(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        biz = app.screen.query_one("#biz-id", Input)
        assert biz.value  # the profile's default_biz_id
        before = biz.value
        await pilot.press("r")
        assert app.focused.id == "room-id" and app.focused.value == "r"
        assert biz.value == before


async def test_focus_starts_in_biz_id_when_it_is_empty(make_app):
    app = make_app(default_biz_id=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused.id == "biz-id"
