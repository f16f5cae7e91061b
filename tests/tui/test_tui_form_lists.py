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


def focus_list(app, widget_id: str) -> IdList:
    field = app.screen.query_one(f"#{widget_id}", IdList)
    field.focus()
    return field


def count(app, widget_id: str) -> str:
    return app.screen.query_one(f"#{widget_id}-row", FieldRow).count


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_pasted_column_of_ids_is_all_in_sight(make_app, size):
    app = make_app()
    async with app.run_test(size=size) as pilot:
        field = focus_list(app, "allow")
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
        field = focus_list(app, "block")
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
        field = focus_list(app, "allow")
        await pilot.press("1", "0", "0", "0", "0")
        await paste(pilot, "10001\n10002")
        assert field.text == "10000, 10001, 10002"
        await pilot.press("enter", "7")  # Enter separates, as a pasted new line does
        assert field.text == "10000, 10001, 10002, 7"
        await until(lambda: count(app, "allow") == "4/20", "the counter to say 4/20", pilot)


async def test_one_key_clears_the_list_and_undo_brings_it_back(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        field = focus_list(app, "allow")
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


def test_a_list_wraps_after_a_gap_or_where_a_row_is_full():
    from gme_tui.tui.widgets.request_form import wrap_starts

    assert wrap_starts("10001, 10002 ", 20) == (0,)
    assert wrap_starts("10001, 10002, 10003 ", 14) == (0, 14)  # after "10002, "
    assert wrap_starts("10001, 10002, 10003 ", 13) == (0, 7)  # ", " is never split over two rows
    assert wrap_starts("10001,10002,10003", 12) == (0, 12)  # commas alone are gaps too
    assert wrap_starts("abcdefghij", 4) == (0, 4, 8)  # one ID longer than a row is cut
    assert wrap_starts("ab, 漢字漢字", 5) == (0, 4, 6)  # a wide character is never split
    assert wrap_starts("", 5) == (0,)


async def test_the_cursor_goes_up_and_down_the_rows_and_a_click_lands_where_it_points(make_app):
    app = make_app()
    ids = ", ".join(str(10000 + n) for n in range(12))
    async with app.run_test(size=(80, 24)) as pilot:
        field = focus_list(app, "allow")
        await paste(pilot, ids)
        await until(lambda: field.region.height == 2, "the list to take two rows", pilot)
        rows = field_lines(app, "allow")
        assert field.cursor_position == len(ids)  # at the end, on the second row
        second = rows[1].strip()
        assert ids.endswith(second)
        await pilot.press("up")
        assert field.cursor_screen_offset.y == field.content_region.y  # on the first row
        await pilot.press("down")
        assert field.cursor_screen_offset.y == field.content_region.y + 1
        # a click on the second row's first ID puts the cursor before it
        x, y = field.content_region.x, field.content_region.y + 1
        await pilot.click(offset=(x, y))
        assert ids[field.cursor_position :].startswith(second.split(",")[0])
        await pilot.press("9")
        assert field.text.count("9" + second.split(",")[0]) == 1


async def test_a_key_typed_after_tab_goes_after_the_list_not_over_it(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        field = app.screen.query_one("#allow", IdList)
        field.text = "10001\n10002"  # loaded as a history row would load it
        assert field.text == "10001, 10002"
        app.screen.query_one("#record-mode").focus()
        await pilot.press("tab")
        assert app.focused is field
        await pilot.press(",", "1", "0", "0", "0", "3")
        assert field.text == "10001, 10002,10003"
        await until(lambda: count(app, "allow") == "3/20", "the counter to say 3/20", pilot)


async def test_control_characters_pasted_into_a_list_are_drawn_marked(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        focus_list(app, "allow")
        await paste(pilot, "10001\x1b[31m")
        await pilot.pause()
        shown = "".join(field_lines(app, "allow"))
        assert "\x1b" not in shown and "10001" in shown and "[31m" in shown


async def test_a_list_pasted_from_the_apps_clipboard_is_joined_too_and_nothing_draws_raw(make_app):
    """Ctrl+V pastes the console's own clipboard (what F7 copied), not the terminal's."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.copy_to_clipboard("10001\n10002\r\n10003")
        focus_list(app, "allow")
        await pilot.press("ctrl+v")
        field = app.screen.query_one("#allow", IdList)
        assert field.text == "10001, 10002, 10003"
        await until(lambda: count(app, "allow") == "3/20", "the counter to say 3/20", pilot)
        # a field of one line draws a new line as a mark, never as a line of its own
        app.screen.query_one("#room-id").focus()
        await pilot.press("ctrl+v")
        await pilot.pause()
        rows = screen_lines(app)
        assert all("\n" not in row and "\r" not in row for row in rows)
        assert any("10001␊10002␍␊10003" in row for row in rows), rows


async def test_a_loaded_list_longer_than_the_field_shows_its_first_ids_and_says_there_are_more(make_app):
    app = make_app()
    ids = ", ".join(str(10001 + n) for n in range(20))
    async with app.run_test(size=(60, 24)) as pilot:
        field = app.screen.query_one("#allow", IdList)
        field.text = ids  # as a history row or the Modify dialog loads it
        await until(lambda: count(app, "allow") == "20/20", "the counter to say 20/20", pilot)
        await pilot.pause()
        rows = field_lines(app, "allow")
        assert field.region.height == 3 and "10001" in rows[0]  # its first IDs
        assert rows[-1].rstrip().endswith("▼") and not rows[0].rstrip().endswith("▲")  # more below
        field.focus()  # the cursor, at the end, is brought into sight
        await pilot.press("end")
        await pilot.pause()
        rows = field_lines(app, "allow")
        assert "10020" in rows[-1] and rows[0].rstrip().endswith("▲")  # more above
        assert "▼" not in " ".join(rows)


@pytest.mark.parametrize("keys", [["home", *["shift+right"] * 5], ["end", *["shift+left"] * 5]])
async def test_enter_over_a_selection_replaces_it_whichever_way_it_was_made(make_app, keys):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        field = focus_list(app, "allow")
        field.text = "10001 10002"
        if keys[0] == "home":
            keys = ["end", *["shift+left"] * 5]  # the last ID, selected from the right ...
            await pilot.press(*keys)
        else:
            await pilot.press("end", *["left"] * 5, *["shift+right"] * 5)  # ... and from the left
        await pilot.press("enter")
        assert field.text == "10001 "


async def test_shift_and_up_or_down_select_across_the_rows(make_app):
    app = make_app()
    ids = ", ".join(str(10001 + n) for n in range(12))
    async with app.run_test(size=(80, 24)) as pilot:
        field = focus_list(app, "allow")
        field.text = ids
        await until(lambda: field.region.height == 2, "the list to take two rows", pilot)
        await pilot.press("home", "shift+down")
        start, end = field.selection
        assert start == 0 and end > 0 and field.selected_text == ids[:end]
        await pilot.press("shift+up")
        assert field.selection == (0, 0)
