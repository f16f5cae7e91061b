"""Hostile text never reaches the terminal raw, nor is it ever read as markup.

An answer (from a loopback server that says whatever a test arms it with), a
settings file, a flag: whatever they hold, what the console draws holds no
escape sequence, no BEL, no C1 control and no bidi control, and "[/x]" is shown
as the four characters it is instead of crashing the console.

What is drawn is read from the screen's compositor: every line of the screen as
the driver would write it, toasts, header and dialogs included.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata

import pytest
from helpers import after_first_frame, send_confirmed, until, wait_idle
from hostile_server import HostileServer, http_answer
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import DataTable, Input, Static

from gme_tui.context import Context
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.safe_text import marked
from gme_tui.tui.app import GmeApp
from gme_tui.tui.screens.credentials import CredentialsScreen
from gme_tui.tui.screens.dialogs import ConfirmScreen, RawScreen
from gme_tui.tui.widgets.mode_choice import ModeChoice

#: what a terminal acts on instead of drawing: ESC, BEL, C1 (CSI 0x9b included), bidi controls
RAW = re.compile("[\x1b\x07\x80-\x9f\u202a-\u202e\u2066-\u2069]")

#: (Code, Message, RequestId) of a service error, and a piece of the Code as it must be drawn
ANSWERS = {
    "escapes": (
        "\x1b]0;PWNED\x07FailedOperation",
        "wiped\x1b[2J\x1b[H here\x9b31m",
        "req-\x1b]0;PWNED\x07",
        "\\u001b]0;PWNED\\u0007Failed",
    ),
    "bidi": ("Failed\u202eedoC", "\u2066hidden\u2069 \u202dtext", "req-\u202e1", "Failed\\u202eedoC"),
    "markup": ("[/]", "[/x] [bold]not bold[/bold] [link=x]", "[/req]", "[/]"),
    # a line break would draw a line the service never said
    "newline": ("Failed\nTaskId 4461", "one\nMeaning fake", "req\nTaskId 4461", "Failed\\u000aTaskId 4461"),
}


def service_error(code: str, message: str, request_id: str) -> bytes:
    body = {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}
    return http_answer(json.dumps(body).encode())


def ok(response: dict) -> bytes:
    return http_answer(json.dumps({"Response": {"RequestId": "req-ok", **response}}).encode())


def drawn(app) -> str:
    """Every line of the current screen as it is drawn."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def assert_clean(app, *visible: str) -> None:
    """Nothing raw is drawn, and what must be seen is (so the check reads real text)."""
    screen = drawn(app)
    raw = sorted({f"U+{ord(ch):04X}" for ch in RAW.findall(screen)})
    assert not raw, f"drawn raw: {raw}"
    for text in visible:
        assert text in screen, f"{text!r} is not drawn:\n{screen}"


#: the console's context, but for where it sends
CONTEXT = dict(profile="ops", key=DEMO_KEY, default_biz_id=str(DEMO_BIZ_ID), use_env_proxies=False)


@pytest.fixture
def make_app(no_keyring, tmp_path, settings_path):
    def make(endpoint: str, **overrides) -> GmeApp:
        return GmeApp(
            Context(**{**CONTEXT, "endpoint": endpoint, "data_dir": tmp_path / "data", **overrides})
        )

    return make


@contextlib.asynccontextmanager
async def console(make_app, reply: bytes, *, room: str | None = None, **overrides):
    """The console aimed at a server that answers `reply`, its first frame in; with `room`,
    a StartRecord on it sent, confirmed and answered."""
    with HostileServer(reply) as server:
        app = make_app(server.url, **overrides)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await after_first_frame(pilot)
            if room is not None:
                app.screen.query_one("#room-id", Input).value = room
                app.screen.query_one("#record-mode", ModeChoice).focus()
                await pilot.press("2")
                await send_confirmed(pilot)
            yield server, pilot


def outcome_cells(app) -> list[str]:
    table = app.screen.query_one("#history-table", DataTable)
    return [table.get_row_at(n)[4].plain for n in range(table.row_count)]


@pytest.mark.parametrize("kind", list(ANSWERS))
async def test_a_hostile_service_error_is_drawn_escaped_now_and_on_the_next_start(make_app, kind):
    code, message, request_id, seen = ANSWERS[kind]
    async with console(make_app, service_error(code, message, request_id), room="room-1") as (server, pilot):
        app = pilot.app
        await until(lambda: outcome_cells(app), "the history row", pilot)
        assert_clean(app, "StartRecord failed: ", seen)
        assert not [cell for cell in outcome_cells(app) if RAW.search(cell)]
        assert app.screen.query_one("#response").view.error_code == code  # kept as it came
        url = server.url
    # The next start reads the row back from the store and shows it again.
    again = make_app(url)
    async with again.run_test(size=(100, 30), notifications=True) as pilot:
        await after_first_frame(pilot)
        await until(lambda: again.screen.query_one("#response").view is not None, "the row shown", pilot)
        assert_clean(again, "StartRecord failed: ", seen)


async def test_a_hostile_request_id_and_file_name_of_a_success_are_drawn_escaped(make_app):
    answer = ok({"TaskId": 4461, "RequestId": "req-\x1b]0;PWNED\x07"})
    async with console(make_app, answer, room="room-1") as (server, pilot):
        assert_clean(pilot.app, "StartRecord ok", "req-\\u001b]0;PWNED\\u0007")
        # A file name would be read as markup in the records table: "[/x]" would raise.
        record = {"UserId": "0", "FileName": "[/x]\x1b[2J\u202e.mp3", "RecordBeginTime": 0, "RecordStatus": 2}
        server.reply = ok({"TaskId": 4461, "RoomId": "room-1", "RecordMode": 2, "RecordInfo": [record]})
        await pilot.press("f4")
        await wait_idle(pilot)
        assert_clean(pilot.app, "DescribeRecordInfo ok", "[/x]\\u001b[2J")
        await pilot.press("f8")  # the raw answer: the same JSON, escaped
        await until(lambda: isinstance(pilot.app.screen, RawScreen), "the raw answer", pilot)
        await pilot.pause()
        assert_clean(pilot.app, "raw response", '"FileName": "[/x]\\u001b[2J\\u202e.mp3"')


async def test_stop_on_a_room_named_like_markup_asks_for_confirmation(make_app):
    async with console(make_app, ok({"TaskId": 4461}), room="[/x]") as (_server, pilot):
        await pilot.press("f2")
        await until(lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation", pilot)
        await pilot.pause()
        assert_clean(pilot.app, "Stop task 4461 in room [/x]?")


async def test_the_palette_offers_a_history_row_whose_room_looks_like_markup(make_app):
    from textual.command import CommandPalette

    async with console(make_app, ok({"TaskId": 4461}), room="[/x]") as (_server, pilot):
        app = pilot.app
        await until(lambda: outcome_cells(app), "the history row", pilot)
        await pilot.press("ctrl+p")
        await until(lambda: isinstance(app.screen, CommandPalette), "the palette", pilot)
        await pilot.press(*"load")
        await until(lambda: "(l)" in drawn(app), "the palette's commands", pilot)
        assert_clean(app, "StartRecord [/x] (l)")


@pytest.mark.parametrize(("key", "seen"), [('"[/x]"', "[/x]"), ('"\\e]0;PWNED\\a"', "PWNED")])
async def test_a_hostile_settings_key_is_warned_about_literally(make_app, settings_path, key, seen):
    settings_path.parent.mkdir(parents=True)
    settings_path.write_text(f"{key}: 1\n", encoding="utf-8")
    async with console(make_app, b"") as (_server, pilot):
        await until(lambda: pilot.app.screen.query("Toast"), "the settings warning", pilot)
        await pilot.pause()
        assert_clean(pilot.app, seen)
        # the toast wraps where the (machine-dependent) settings path puts it
        toast = " ".join(
            line.split("\u258c", 1)[1].strip() for line in drawn(pilot.app).splitlines() if "\u258c" in line
        )
        assert "unknown key" in toast, toast


def status(app) -> str:
    return str(app.screen.query_one("#credentials-status", Static).content)


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("[/]", "it answered [/], which is fine"),
        ("AuthFailure.\x1b]0;PWNED\x07", "Rejected: AuthFailure.\\u001b]0;PWNED\\u0007"),
        ("Failed\u202eedoC", "it answered Failed\\u202eedoC"),
    ],
)
async def test_the_credentials_check_ends_with_a_status_whatever_the_code(make_app, code, said):
    async with console(make_app, service_error(code, "m", "r")) as (_server, pilot):
        app = pilot.app
        await pilot.press("f5")
        await until(lambda: isinstance(app.screen, CredentialsScreen), "the credentials screen", pilot)
        await pilot.press("ctrl+k")
        await until(lambda: not status(app).startswith("Checking"), "the check's end", pilot)
        await wait_idle(pilot)
        assert said in status(app)
        assert_clean(app, said[:30])


async def test_what_is_pasted_into_the_credentials_is_drawn_marked_and_the_cursor_stays_on_it(make_app):
    async with console(make_app, b"") as (_server, pilot):
        app = pilot.app
        await pilot.press("f5")
        await until(lambda: isinstance(app.screen, CredentialsScreen), "the credentials screen", pilot)
        field = app.screen.query_one("#secret-id", Input)
        field.focus()
        app.copy_to_clipboard("AKID\r\x07\x1b[2Jx")  # the app's own clipboard: Ctrl+V takes it whole
        await pilot.press("ctrl+v")
        await until(lambda: field.value == "AKID\r\x07\x1b[2Jx", "the paste", pilot)
        await pilot.pause()
        assert_clean(app, "AKID␍␇␛[2Jx")
        # one cell a character: the cursor sits where it would after as many letters
        marked_at = field.cursor_screen_offset.x
        field.value = "A" * len(field.value)
        field.cursor_position = len(field.value)
        assert marked_at == field.cursor_screen_offset.x


async def test_the_header_shows_a_hostile_profile_and_region_escaped(make_app):
    async with console(make_app, b"", profile="\u202e\x1b[2J", region="\x9b") as (_server, pilot):
        assert_clean(pilot.app, "\\u202e\\u001b[2J · ", " · \\u009b")


async def test_a_stored_row_with_raw_controls_loads_into_the_form_marked(make_app, tmp_path):
    from gme_tui.api.errors import OutcomeKind
    from gme_tui.history import History

    # As a damaged or older store could hold it: the room and a list with raw controls.
    params = {"BizId": DEMO_BIZ_ID, "RoomId": "r\x1b]0;PWNED\x07", "RecordMode": 1}
    params["SubscribeRecordUserIds"] = {"SubscribeUserIds": ["\u202e1001\x1b[2J"]}
    with History.in_dir(tmp_path / "data") as history:
        row = history.begin(action="StartRecord", profile="ops", endpoint="x", region=None, params=params)
        history.finish(row, outcome=OutcomeKind.OK, duration_ms=1.0)
    async with console(make_app, b"") as (_server, pilot):
        app = pilot.app
        await until(lambda: app.screen.query("#history-table"), "the history panel", pilot)
        app.screen.query_one("#history-table").focus()
        await pilot.press("a")  # the row was written for another endpoint: every endpoint's rows
        await until(lambda: outcome_cells(app), "the history row", pilot)
        await pilot.press("l")
        await until(lambda: app.screen.query_one("#room-id", Input).value, "the row loaded", pilot)
        await pilot.pause()
        assert app.screen.query_one("#room-id", Input).value == "r\x1b]0;PWNED\x07"  # as stored
        # the BEL too, which Rich would drop by itself and the cursor land a cell off
        assert_clean(app, "r␛]0;PWNED␇", "�1001␛[2J", "r\\u001b]0;PWNED\\u0007")


@given(st.text())
def test_marked_text_keeps_its_length_and_holds_nothing_raw(text):
    shown = marked(text)
    assert len(shown) == len(text)  # a cursor in the field still counts the same characters
    assert not [ch for ch in shown if unicodedata.category(ch) in ("Cc", "Cf", "Cs")]  # a new line neither


async def test_toasts_are_plain_text_textuals_own_hint_included(make_app):
    async with console(make_app, b"") as (_server, pilot):
        app = pilot.app
        app.screen.query_one("#room-id").notify("[b]not bold[/b] [@click=app.quit]not a link[/]")
        app.screen.query_one("#record-mode").focus()  # where Ctrl+C copies nothing
        await pilot.press("ctrl+c")  # Textual's "Press [b]ctrl+q[/b] to quit", which is markup
        await until(lambda: len(app.screen.query("Toast")) == 2, "both toasts", pilot)
        await pilot.pause()
        assert_clean(app, "[b]not bold[/b] [@click=app.quit]not a link[/]", "Press ctrl+q to quit")


@given(st.text(alphabet=st.sampled_from("[]\\/=@$#:ab x")) | st.text())
def test_escaped_for_markup_reads_back_as_the_text(text):
    from textual.content import Content

    from gme_tui.safe_text import clean
    from gme_tui.tui.shown import markup

    assert Content.from_markup(markup(text)).plain == clean(text, one_line=True)
