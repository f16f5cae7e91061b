"""The console as an operator uses it: Pilot against the emulator over loopback."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import yaml
from helpers import after_first_frame, closed_port, send_confirmed, started, until, wait_idle
from textual.widgets import Input, Static

from gme_tui.api.fields import RecordMode
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY, DEMO_SECRET_KEY
from gme_tui.history import History
from gme_tui.tui.app import GmeApp
from gme_tui.tui.screens.copy import CopyScreen
from gme_tui.tui.screens.dialogs import ConfirmScreen, RawScreen
from gme_tui.tui.screens.help import HelpScreen
from gme_tui.tui.screens.modify import ModifyScreen
from gme_tui.tui.widgets.history_panel import HistoryPanel
from gme_tui.tui.widgets.key_bar import KeyBar
from gme_tui.tui.widgets.mode_choice import ModeChoice
from gme_tui.tui.widgets.request_form import FieldRow, IdList, RequestForm
from gme_tui.tui.widgets.response_panel import ResponsePanel

KEY = DEMO_KEY


async def fill(pilot, room: str = "lobby", mode: str = "2", allow: str = "", block: str = "") -> None:
    screen = pilot.app.screen
    screen.query_one("#room-id", Input).value = room
    choice = screen.query_one("#record-mode", ModeChoice)
    if mode:  # as an operator does: a digit on the focused field
        choice.focus()
        await pilot.press(mode)
    else:
        choice.value = None
    screen.query_one("#allow", IdList).text = allow
    screen.query_one("#block", IdList).text = block
    await pilot.pause()


def message(app, widget_id: str) -> FieldRow:
    """The field's row, which draws the line under it (its classes: -invalid, -warning)."""
    return app.screen.query_one(f"#{widget_id}-row", FieldRow)


def status_of(app) -> str:
    """The status line under the form's fields (the form draws it)."""
    return app.screen.query_one(RequestForm).status[0]


def text_of(widget: Static | FieldRow) -> str:
    """What a Static shows, as plain text (Rich tables included); a row's message."""
    import io

    from rich.console import Console

    if isinstance(widget, FieldRow):
        return widget.message

    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(content)
    return captured.get().rstrip("\n")


async def test_typing_shows_and_clears_each_rule(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        biz = app.screen.query_one("#biz-id", Input)
        assert app.focused.id == "room-id"  # the BizId is prefilled: typing keeps it
        biz.focus()
        biz.value = ""
        await pilot.press("1", "2", "a")
        assert "decimal digits" in text_of(message(app, "biz-id"))
        assert "-invalid" in message(app, "biz-id").classes
        assert "Cannot send: fix BizId" in status_of(app)
        await pilot.press("backspace")
        assert "application ID" in text_of(message(app, "biz-id"))
        assert "-invalid" not in message(app, "biz-id").classes

        await fill(pilot, room=" padded", allow="9999")
        assert "blanks" in text_of(message(app, "room-id"))
        assert "greater than 10000" in text_of(message(app, "allow"))
        await fill(pilot, room="ok", allow="10001 10002, 10003")
        assert message(app, "allow").count == "3/20"
        assert "Ready" in status_of(app)


async def test_both_lists_warn_in_the_warning_colour_and_do_not_block(make_app, emulator):
    app = make_app(settings_path=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot, room="both", allow="10001", block="10002")
        block = message(app, "block")
        assert "warning" in text_of(block) and "-warning" in block.classes
        await send_confirmed(pilot)
    assert started(emulator) == 1


async def test_tab_moves_through_the_fields_in_order(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.screen.query_one("#biz-id").focus()
        await pilot.pause()
        order = []
        for _ in range(5):
            order.append(app.focused.id)
            await pilot.press("tab")
    assert order == ["biz-id", "room-id", "record-mode", "allow", "block"]


async def test_record_mode_is_one_key_and_says_what_it_means(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        choice = app.screen.query_one("#record-mode", ModeChoice)
        unfocused = choice.styles.background
        choice.focus()
        await pilot.pause()
        # It has no cursor: the focus must show even while the field is invalid.
        assert "is required" in text_of(message(app, "record-mode"))
        assert choice.styles.background != unfocused
        await pilot.press("3")
        assert choice.value is RecordMode.BOTH
        assert text_of(message(app, "record-mode")) == RecordMode.BOTH.words
        await pilot.press("left", "left", "left")  # stops at the first
        assert choice.value is RecordMode.SINGLE
        await pilot.press("right")
        assert choice.value is RecordMode.MIXED
        await pilot.press("space")
        assert choice.value is RecordMode.BOTH
        await pilot.press("backspace")
        assert choice.value is None
        assert "-invalid" in message(app, "record-mode").classes
        await pilot.press("left")  # from nothing: the last
        assert choice.value is RecordMode.BOTH
        await pilot.press("delete")
        assert choice.value is None
        await pilot.press("9")  # not a mode: nothing changes
        assert choice.value is None
        await pilot.click(choice, offset=(choice.render().plain.index("2 mixed"), 0))
        assert choice.value is RecordMode.MIXED
        assert status_of(app) == "Cannot send: fix RoomId"


def keys_shown(app) -> str:
    return app.screen.query_one(KeyBar).render().plain


async def test_the_key_bar_shows_what_can_act_now_and_a_click_presses_it(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        shown = keys_shown(app)
        assert "^s Send" in shown and "f3 Task" in shown and shown.rstrip().endswith("│ ^p palette")
        assert "Stop" not in shown and "Raw" not in shown  # no task, no response yet
        await fill(pilot, room="keys", mode="2")
        await send_confirmed(pilot)
        shown = keys_shown(app)
        assert "f2 Stop" in shown and "f7 Copy" in shown
        app.screen.query_one("#allow", IdList).focus()  # a list field of its own keys must not hide F6 and F7
        await pilot.pause()
        assert " ^s Send  f2 Stop  f3 Task" in keys_shown(app)  # the screen's order, still
        app.screen.query_one("#history-table").focus()  # the focused widget's own keys come first
        await pilot.pause()
        assert keys_shown(app).startswith(" l Load into form  / Filter  a All  ^s Send")
        # " l Load ... ^s Send  f2 Stop  f3 Task ...": a click on "f3" runs DescribeTaskInfo for the room.
        shown = keys_shown(app)
        await pilot.click(app.screen.query_one(KeyBar), offset=(shown.index("f3") + 1, 0))
        await wait_idle(pilot)
        assert started(emulator, "DescribeTaskInfo") == 1


@pytest.mark.parametrize("width", [80, 100])
async def test_the_key_bar_takes_a_second_line_rather_than_leave_keys_out(make_app, width):
    app = make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await fill(pilot, room="narrow", mode="2")
        bar = app.screen.query_one(KeyBar)
        assert bar.size.height == 1  # before a send, one line holds them all
        await send_confirmed(pilot)
        await pilot.pause()
        lines = keys_shown(app).split("\n")
        assert bar.size.height == len(lines) == 2  # after a send they need two
        assert len(lines[0]) == width
        assert lines[0].endswith("│ ^p palette ")  # the palette's key stays at the first line's end
        whole = [f" {key.display} {key.description} " for key in bar.keys]
        first = lines[0][: lines[0].index("│")].rstrip() + " "
        # Every key, whole and in order: none cut in the middle, none left out.
        assert first + lines[1].rstrip() + " " == "".join(whole)
        assert first in ["".join(whole[:k]) for k in range(1, len(whole))]
        assert " ^q Quit " in lines[1] and " f1 Help " in lines[1]  # the app's own always in sight
        # A dialog's one-line bar covers both lines of the bar beneath it.
        await pilot.press("f2")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the Stop confirmation", pilot)
        assert app.screen.query_one(KeyBar).size.height == 2
        assert "Confirm" in keys_shown(app)
        assert ">Copy" not in app.export_screenshot()  # no key of the screen beneath shows through
        await pilot.press("escape")
        await pilot.pause()
        # A click on the second line presses the key under it.
        await pilot.click(bar, offset=(lines[1].index("f1") + 1, 1))
        await wait_idle(pilot)
        assert isinstance(app.screen, HelpScreen)


def test_the_key_bar_leaves_out_whole_keys_past_two_lines():
    from gme_tui.tui.widgets.key_bar import Key

    bar = KeyBar()
    bar.keys = [Key(f"f{n}", f"f{n}", "Action", True) for n in range(1, 10)]  # 11 cells each
    bar.palette = Key("ctrl+p", "^p", "palette", True)  # 12, and 1 for the bar before it
    placed = bar._layout(width=40)
    assert [(row, at, key.key) for row, at, key in placed] == [
        (0, 0, "f1"),
        (0, 11, "f2"),
        (1, 0, "f3"),
        (1, 11, "f4"),
        (0, 28, "ctrl+p"),
    ]
    assert bar._lines(40) == 2
    assert bar._lines(200) == 1


async def test_an_invalid_form_cannot_be_sent(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot, room="")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.focused.id == "room-id"  # the first invalid field
    assert emulator.requests == []


async def test_a_send_shows_the_exact_task_id_after_confirming_the_exact_body(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await fill(pilot, room="lobby", mode="1", allow="10001")
        await pilot.press("ctrl+s")
        await pilot.pause()
        body = app.screen.body
        assert '{"BizId":1400089356,"RoomId":"lobby","RecordMode":1,' in body
        await pilot.press("enter")
        await wait_idle(pilot)
        (task,) = emulator.service.tasks()
        shown = text_of(app.screen.query_one("#task-id", Static))
        assert shown == f"TaskId {task.task_id}"
        assert app.screen.query_one("#task-id").region.width >= len(shown)  # whole, on one line
        app.screen.query_one("#allow", IdList).focus()  # F7 acts from a list field too
        await pilot.press("f7")  # the copy menu, its first choice the TaskId
        await until(lambda: isinstance(app.screen, CopyScreen), "the copy menu", pilot)
        await pilot.press("enter")
        assert app.clipboard == str(task.task_id)


async def test_escape_in_the_confirmation_sends_nothing(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
    assert emulator.requests == []


async def test_the_confirmation_can_be_turned_off_and_stays_off(make_app, emulator, settings_path):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.set_confirm_start(False)
        await fill(pilot, room="fast")
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
        assert started(emulator) == 1
    assert yaml.safe_load(settings_path.read_text())["confirm_start"] is False


async def test_a_service_error_shows_code_message_and_next_step(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot, room="twice")
        await send_confirmed(pilot)
        await send_confirmed(pilot)
        panel = app.screen.query_one(ResponsePanel)
        assert "-error" in panel.classes
        text = text_of(app.screen.query_one("#response-title", Static)) + text_of(
            app.screen.query_one("#response-body", Static)
        )
    assert "ResourceInUse.TaskInUse" in text
    assert "already recording this room" in text and "DescribeTaskInfo" in text


async def test_outcome_unknown_offers_describe_task_on_one_key(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot, room="lost")
        emulator.faults.set("drop", count=1)
        await send_confirmed(pilot)
        body = text_of(app.screen.query_one("#response-body", Static))
        assert "Outcome unknown" in text_of(app.screen.query_one("#response-title", Static))
        assert "F3" in body and "lost" in body
        await pilot.press("f3")
        await wait_idle(pilot)
        (task,) = emulator.service.tasks()
        assert text_of(app.screen.query_one("#task-id", Static)) == f"TaskId {task.task_id}"


@pytest.mark.parametrize(("fault", "title"), [("http502", "Bad answer"), ("nonjson", "Bad answer")])
async def test_garbage_answers_are_shown_as_bad_answers(make_app, emulator, fault, title):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot, room=f"r-{fault}")
        emulator.faults.set(fault, count=1)
        await send_confirmed(pilot)
        assert title in text_of(app.screen.query_one("#response-title", Static))


async def test_a_closed_port_is_not_sent(make_app):
    app = make_app(endpoint=f"http://127.0.0.1:{closed_port()}", timeout=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot)
        await send_confirmed(pilot)
        assert "Not sent" in text_of(app.screen.query_one("#response-title", Static))
        assert "safe to retry" in text_of(app.screen.query_one("#response-body", Static))


async def test_a_second_send_waits_while_one_is_in_flight(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.set_confirm_start(False)
        await fill(pilot, room="slow")
        emulator.faults.set("delay", seconds=2.0, count=1)  # in flight long after a slow machine sees it
        await pilot.press("ctrl+s")
        await until(lambda: "Sending" in status_of(app), "the form to say it is sending", pilot)
        await pilot.press("ctrl+s")
        await wait_idle(pilot)
    assert started(emulator) == 1


async def test_history_survives_a_restart_and_loads_back_into_the_form(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot, room="kept", mode="3", allow="10001, 10002")
        await send_confirmed(pilot)
    again = make_app()
    async with again.run_test(size=(100, 30)) as pilot:
        await after_first_frame(pilot)  # the history comes in the frame after the form's
        panel = again.screen.query_one(HistoryPanel)
        row = panel.selected_row
        assert row is not None and row.room_id == "kept" and row.outcome == "ok"
        await fill(pilot, room="other", mode="1")
        panel.query_one("#history-table").focus()
        await pilot.press("l")
        await pilot.pause()
        assert again.screen.query_one("#room-id", Input).value == "kept"
        assert again.screen.query_one("#record-mode", ModeChoice).value == RecordMode.BOTH
        assert again.screen.query_one("#allow", IdList).text == "10001, 10002"


async def test_stop_describe_and_modify_the_task_just_started(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot, room="follow", mode="1")
        await send_confirmed(pilot)
        (task,) = emulator.service.tasks()

        await pilot.press("f6")  # a DescribeTaskInfo first, then the dialog on what it found
        await until(lambda: isinstance(app.screen, ModifyScreen), "the Modify dialog", pilot)
        app.screen.query_one("#allow", IdList).text = "123"  # invalid: not above 10000
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ModifyScreen)  # refused while invalid
        app.screen.query_one("#allow", IdList).text = "10007"
        app.screen.query_one("#record-mode", ModeChoice).focus()
        await pilot.press("2")
        await pilot.press("ctrl+s")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the Modify confirmation", pilot)
        question = text_of(app.screen.query_one(".dialog-question", Static))
        assert "RecordMode: 1 (single" in question and "→ 2 (mixed" in question
        assert "SubscribeUserIds: + 10007" in question and app.config.destination in question
        await pilot.press("enter")
        await wait_idle(pilot)
        info = emulator.service.tasks()[0]
        assert (info.mode, info.subscription) == (2, {"SubscribeUserIds": ["10007"]})

        await pilot.press("f4")
        await wait_idle(pilot)
        body = text_of(app.screen.query_one("#response-body", Static))
        assert "0 (mixed)" in body and "recording" in body

        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert str(task.task_id) in text_of(app.screen.query_one(".dialog-question", Static))
        await pilot.press("enter")
        await wait_idle(pilot)
        assert "StopRecord ok" in text_of(app.screen.query_one("#response-title", Static))
        assert emulator.service.tasks()[0].stopped_at is not None


async def test_raw_response_and_request_are_one_key_away(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot, room="raw")
        await send_confirmed(pilot)
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, RawScreen)
        assert '"TaskId"' in app.screen.text
        await pilot.press("escape")
        await pilot.press("f9")
        await pilot.pause()
        assert "Signature=<redacted>" in app.screen.text
        assert DEMO_SECRET_KEY not in app.screen.text


async def test_the_palette_offers_follow_ups_once_there_is_a_task(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        names = [name for name, _h, _c in app.screen.palette_commands()]
        assert not any(name.startswith("Stop task") for name in names)
        await fill(pilot, room="palette")
        await send_confirmed(pilot)
        names = [name for name, _h, _c in app.screen.palette_commands()]
        assert any(name.startswith("Stop task") for name in names)
        assert any(name.startswith("Modify task") for name in names)


async def test_demo_mode_shows_a_marker_and_prefills_bizid(make_app):
    app = make_app(demo=True)
    async with app.run_test(size=(80, 24)):
        assert "DEMO" in text_of(app.screen.query_one("#demo-marker", Static))
        assert app.screen.query_one("#biz-id", Input).value == str(DEMO_BIZ_ID)


@pytest.mark.parametrize("theme", ["gme-dark", "gme-light"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_first_frame_needs_no_restyle(make_app, settings_path, theme, size):
    """The main screen skips the restyle Textual does on a screen's first resume, because
    every widget was just styled as it mounted: restyling all of it must change nothing."""
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(f"theme: {theme}\n")
    app = make_app(demo=True)
    async with app.run_test(size=size) as pilot:
        await after_first_frame(pilot)
        for widget in app.screen.query("Input"):
            widget.cursor_blink = False
        await pilot.pause()
        assert app.theme == theme
        nodes = list(app.screen.walk_children(with_self=True))
        before = [node.styles.css for node in nodes], app.export_screenshot()
        app.screen.update_node_styles(animate=False)
        await pilot.pause()
        after = [node.styles.css for node in nodes], app.export_screenshot()
    assert before[0] == after[0]
    assert before[1] == after[1]


async def test_the_theme_choice_persists(make_app, settings_path):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await after_first_frame(pilot)  # the other themes register right after the first frame
        assert app.theme == "gme-dark"
        app.theme = "gme-light"
        await pilot.pause()
    assert yaml.safe_load(settings_path.read_text())["theme"] == "gme-light"
    again = make_app()
    async with again.run_test(size=(80, 24)):
        assert again.theme == "gme-light"


async def test_a_broken_theme_file_warns_and_the_app_starts(make_app, settings_path):
    themes = settings_path.parent / "themes"
    themes.mkdir(parents=True)
    (themes / "broken.yaml").write_text("name: broken\nprimary: [not, a, colour\n")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await after_first_frame(pilot)
        assert app.theme == "gme-dark"
        assert any("broken.yaml" in warning for warning in app.theme_warnings)


async def test_no_credentials_say_so_and_send_nothing(make_app, emulator):
    app = make_app(key=None, key_problem="No credentials: set TENCENTCLOUD_SECRET_ID")
    async with app.run_test(size=(100, 30)) as pilot:
        await fill(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
    assert emulator.requests == []


def test_no_secret_reaches_the_app_files(make_app, tmp_path):
    import asyncio

    async def session():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await fill(pilot, room="secret")
            await send_confirmed(pilot)
            await pilot.press("f8")

    asyncio.run(session())
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert DEMO_SECRET_KEY.encode() not in path.read_bytes(), path
    assert History.in_dir(tmp_path / "data").count() == 1


async def test_the_settings_default_bizid_and_relaxed_ids_apply(make_app, settings_path):
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text("default_biz_id: 3400352518\nrelaxed_user_ids: true\n")
    app = make_app(default_biz_id="")
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.screen.query_one("#biz-id", Input).value == "3400352518"
        await fill(pilot, allow="player-one")
        assert "-invalid" not in message(app, "allow").classes  # a string OpenID passes when relaxed


def test_the_app_reads_the_settings_file_once_and_shows_its_warnings_itself(
    settings_path, tmp_path, capsys, monkeypatch
):
    from gme_tui.cli.main import context_for
    from gme_tui.cli.parser import build_parser

    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text("colour: red\n")
    monkeypatch.setenv("GME_TUI_DATA_DIR", str(tmp_path / "data"))
    ctx, warnings = context_for(build_parser().parse_args(["--demo"]))
    assert capsys.readouterr().err == ""  # not printed under the app
    app = GmeApp(ctx, warnings)
    assert app.setting_warnings == warnings
    assert any("unknown key 'colour'" in w for w in app.setting_warnings)


def test_the_demo_serves_right_after_the_first_frame_and_a_send_goes_through(
    settings_path, tmp_path, monkeypatch
):
    """`gme-tui --demo` as the command line runs it: the emulator's port is taken before the
    app starts (the header names it) and it serves once the first frame is up."""
    from gme_tui import cli
    from gme_tui.tui import app as app_module

    monkeypatch.setenv("GME_TUI_DATA_DIR", str(tmp_path / "data"))
    seen: dict[str, object] = {}

    async def drive(app: GmeApp) -> None:
        port = urlsplit(app.config.endpoint).port
        seen["port"] = port
        seen["port in header"] = bool(port) and f"127.0.0.1:{port}" in app.sub_title
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: "emulator" in seen, "the emulator to serve", pilot)
            emulator = seen["emulator"]
            seen["its port"] = emulator.port
            await fill(pilot, room="demo-room", mode="1")
            await send_confirmed(pilot)
            seen["task"] = app.screen.response.view.task_id
            seen["served"] = emulator.service.tasks()

    def run_in_test(ctx, warnings, serve_demo) -> int:
        import asyncio

        def serve():
            # made when it serves (after the first frame), on the port the header names
            seen["emulator"] = serve_demo()
            return seen["emulator"]

        asyncio.run(drive(GmeApp(ctx, warnings, serve)))
        return 0

    monkeypatch.setattr(app_module, "run_app", run_in_test)
    assert cli.main(["--demo"]) == 0
    assert seen["port in header"] is True and seen["its port"] == seen["port"]
    with socket.create_server(("127.0.0.1", seen["port"])):  # given back when the app ended
        pass
    (task,) = seen["served"]
    assert task.task_id == seen["task"] and task.room_id == "demo-room"
