"""The allowlist and blocklist as an operator sees them: every ID pasted or typed in
sight, one key to empty a list (issue 11, item 6)."""

from __future__ import annotations

import pytest
from helpers import until
from textual import events

from gme_tui.tui.widgets.request_form import FieldRow, IdList


def screen_lines(app) -> list[str]:
    """The terminal's rows as drawn, plain text."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def field_lines(app, widget_id: str) -> list[str]:
    """The rows of the screen where the field is drawn, cut to its columns."""
    region = app.screen.query_one(f"#{widget_id}").region
    rows = screen_lines(app)[region.y : region.bottom]
    return [row[region.x : region.right] for row in rows]


async def paste(pilot, text: str) -> None:
    """As a terminal pastes: one Paste event to the app, which hands it to the focus."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause()


def count(app, widget_id: str) -> str:
    return app.screen.query_one(f"#{widget_id}-row", FieldRow).count


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_pasted_column_of_ids_is_all_in_sight(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        field = app.screen.query_one("#allow", IdList)
        field.focus()
        await pilot.pause()
        await paste(pilot, "10001\n10002\n10003\n")
        await until(lambda: count(app, "allow") == "3/20", "the counter to say 3/20", pilot)
        assert field.text == "10001, 10002, 10003"  # no new line: nothing scrolls out of view
        shown = " ".join(field_lines(app, "allow"))
        for user_id in ("10001", "10002", "10003"):
            assert user_id in shown, (user_id, field_lines(app, "allow"))
        # the answer panel keeps its place on screen
        response = app.screen.query_one("#response")
        assert response.region.height >= 3 and response.region.bottom <= size[1]


async def test_a_long_list_wraps_and_the_field_grows_to_three_rows(make_app):
    app = make_app()
    ids = [str(10000 + n) for n in range(20)]
    async with app.run_test(size=(80, 24)) as pilot:
        field = app.screen.query_one("#block", IdList)
        field.focus()
        await paste(pilot, "\r\n".join(ids[:10]))
        await until(lambda: count(app, "block") == "10/20", "the counter to say 10/20", pilot)
        assert field.region.height == 2
        shown = " ".join(field_lines(app, "block"))
        assert all(user_id in shown for user_id in ids[:10]), field_lines(app, "block")
        await paste(pilot, "\n".join(ids[10:]))
        await until(lambda: count(app, "block") == "20/20", "the counter to say 20/20", pilot)
        assert field.region.height == 3  # and no more: the form must leave room below
        assert app.screen.query_one("#response").region.bottom <= 24


async def test_pasted_after_an_id_the_ids_stay_apart(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        field = app.screen.query_one("#allow", IdList)
        field.focus()
        await pilot.press("1", "0", "0", "0", "0")
        await paste(pilot, "10001\n10002")
        assert field.text == "10000, 10001, 10002"
        await pilot.press("enter", "7")  # Enter separates, as a pasted new line does
        assert field.text == "10000, 10001, 10002, 7"
        await until(lambda: count(app, "allow") == "4/20", "the counter to say 4/20", pilot)


async def test_one_key_clears_the_list_and_undo_brings_it_back(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        field = app.screen.query_one("#allow", IdList)
        field.focus()
        await paste(pilot, "10001\n10002\n10003")
        await until(lambda: count(app, "allow") == "3/20", "the counter to say 3/20", pilot)
        # the key is on the key bar while the list has the focus, with its words
        shown = [
            b for b in app.active_bindings.values() if b.binding.id == "form.clear_list" and b.binding.show
        ]
        assert shown and shown[0].binding.description
        assert "Clear list" in " ".join(screen_lines(app)[-2:])
        await pilot.press("ctrl+l")
        assert field.text == ""
        await until(lambda: count(app, "allow") == "0/20", "the counter to say 0/20", pilot)
        assert "10001" not in " ".join(field_lines(app, "allow"))
        await pilot.press("ctrl+z")
        assert field.text == "10001, 10002, 10003"
        await until(lambda: count(app, "allow") == "3/20", "the counter to say 3/20 again", pilot)
