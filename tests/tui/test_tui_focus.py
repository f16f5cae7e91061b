"""Where the focus starts: a BizId prefilled is kept (issue 11, item 8)."""

from __future__ import annotations

from textual.widgets import Input

from gme_tui.tui.widgets.request_form import RequestForm


async def test_with_a_default_biz_id_in_the_settings_typing_starts_in_the_room(make_app, settings_path):
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text("default_biz_id: 3400352518\n")
    app = make_app(default_biz_id=None)
    async with app.run_test(size=(80, 24)) as pilot:
        biz = app.screen.query_one("#biz-id", Input)
        assert biz.value == "3400352518"
        await pilot.press("l", "o", "b", "b", "y")
        assert app.screen.query_one("#room-id", Input).value == "lobby"
        assert biz.value == "3400352518"
        assert app.screen.query_one(RequestForm).status[0] == "Cannot send: fix RecordMode"


async def test_without_a_biz_id_typing_starts_in_the_biz_id(make_app, settings_path):
    app = make_app(default_biz_id=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1", "2")
        assert app.screen.query_one("#biz-id", Input).value == "12"
        assert app.screen.query_one("#room-id", Input).value == ""


async def test_shift_tab_back_to_the_prefilled_biz_id_and_undo_brings_it_back(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        biz = app.screen.query_one("#biz-id", Input)
        prefilled = biz.value
        assert prefilled
        await pilot.press("shift+tab")  # into BizId: its text is selected, as in any Input
        assert app.focused is biz
        await pilot.press("9")
        assert biz.value == "9"
        await pilot.press("ctrl+z")
        assert biz.value == prefilled
