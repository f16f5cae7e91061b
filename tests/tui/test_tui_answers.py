"""Answers said the same way, with the room they need: task and room on every answer, the
RequestId whole from 100 columns, a panel maximised and given back, the copy menu's
choices (its command lines run as they are), the confirmation's two bodies, the header."""

from __future__ import annotations

import json
import shlex

import pytest
from helpers import after_first_frame, send_confirmed, until, wait_idle
from test_tui_app import fill, text_of
from textual.widgets import OptionList, Static

from gme_tui.api.actions import encode_body
from gme_tui.cli import main
from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from gme_tui.tui.screens.copy import CopyScreen
from gme_tui.tui.screens.dialogs import ConfirmScreen
from gme_tui.tui.widgets.response_panel import ResponsePanel


def shown(app) -> str:
    """What the answer panel says, laid out at its own width."""
    import io

    from rich.console import Console

    panel = app.screen.query_one(ResponsePanel)
    console = Console(width=panel.content_region.width, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        for widget in panel.query(Static):
            if widget.display:
                console.print(widget.content)
    return captured.get()


async def start(pilot, room: str = "lobby") -> int:
    await fill(pilot, room=room, mode="2")
    await send_confirmed(pilot)
    task = pilot.app.screen.target.task_id
    assert task is not None
    return task


async def confirm(pilot, key: str) -> None:
    await pilot.press(key)
    await until(lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation", pilot)
    await pilot.press("enter")
    await wait_idle(pilot)


async def test_a_live_stop_names_its_task_and_room_as_its_history_row_does(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        task = await start(pilot, room="match-7")
        await confirm(pilot, "f2")
        live = shown(app)
        assert "StopRecord ok" in live
        assert f"TaskId {task}" in live
        assert "RoomId     match-7" in live
        # The same row selected from the history says the same, RequestId and all.
        view = app.screen.response.view
        from gme_tui.tui.views import view_from_row

        app.screen.response.show(view_from_row(app.history.get(view.row_id)))
        await pilot.pause()
        assert shown(app).replace(shown(app).split("Duration")[-1], "") == live.replace(
            live.split("Duration")[-1], ""
        )


async def test_describe_record_shows_room_mode_and_when_each_file_began(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        await start(pilot, room="match-8")
        await pilot.press("f4")
        await wait_idle(pilot)
        said = shown(app)
        assert "DescribeRecordInfo ok" in said
        assert "RoomId     match-8" in said
        assert "RecordMode 2 (mixed" in said
        assert "began 20" in said and "UTC" in said  # a narrow panel: two lines a file
        assert "_mix_" in said  # the file name whole on its own line


@pytest.mark.parametrize("width", [100, 120, 200])
async def test_request_id_and_task_id_fit_whole_on_one_line_from_100_columns(make_app, width):
    app = make_app()
    async with app.run_test(size=(width, 40)) as pilot:
        await after_first_frame(pilot)
        task = await start(pilot)
        view = app.screen.response.view
        body = text_of(app.screen.query_one("#response-body", Static))
        lines = body.splitlines()
        assert any(line.startswith("RequestId  ") and view.request_id in line for line in lines)
        panel = app.screen.query_one(ResponsePanel)
        inner = panel.content_region.width
        assert len(f"RequestId  {view.request_id}") <= inner
        assert len(f"TaskId {task}") <= inner


async def test_f11_maximises_the_focused_panel_and_gives_it_back(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await after_first_frame(pilot)
        await start(pilot)
        panel = app.screen.query_one(ResponsePanel)
        before = panel.region
        await pilot.press("f11")  # from the form: the answer
        await pilot.pause()
        assert app.screen.maximized is panel
        assert panel.region.width == 80 and panel.region.height > before.height
        assert app.focused is panel
        assert "RequestId" in shown(app)
        await pilot.press("f11")
        await pilot.pause()
        assert app.screen.maximized is None
        assert panel.region == before
        # The history, when it has the focus; Escape gives the room back too.
        app.screen.query_one("#history-table").focus()
        await pilot.press("f11")
        await pilot.pause()
        assert app.screen.maximized is app.screen.query_one("#history")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.maximized is None


async def test_the_copy_menu_offers_ids_files_raw_answer_and_command_lines_that_run(
    make_app, emulator, monkeypatch, capsys
):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        task = await start(pilot)
        await pilot.press("f4")
        await wait_idle(pilot)
        await pilot.press("f7")
        await until(lambda: isinstance(app.screen, CopyScreen), "the copy menu", pilot)
        choices = dict(app.screen.choices)
        view = app.screen_stack[-2].response.view
        assert choices["TaskId"] == str(task)
        assert choices["RequestId"] == view.request_id
        (file_name,) = [text for what, text in choices.items() if what.startswith("File of user")]
        assert str(task) in file_name and file_name.endswith(".mp3")
        assert json.loads(choices["The raw answer (JSON)"]) == {"Response": view.response}
        options = app.screen.query_one(OptionList)
        assert options.option_count == len(choices)
        # Each prompt keeps to one line, whatever the length of what it copies.
        assert all("\n" not in str(options.get_option_at_index(i).prompt) for i in range(len(choices)))
        options.highlighted = list(choices).index("gme-tui command line")
        await pilot.press("enter")
        await pilot.pause()
        line = app.clipboard
        assert line == choices["gme-tui command line"]
        tccli = shlex.split(choices["tccli command line"])
    # The gme-tui line runs as it is, against the same endpoint, and describes the same task.
    words = shlex.split(line)
    assert words[0] == "gme-tui" and words[words.index("--endpoint") + 1] == emulator.url
    assert "--profile" in words and words[words.index("--profile") + 1] == "ops"
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY)
    capsys.readouterr()
    assert main(words[1:]) == 0
    out = capsys.readouterr().out
    assert f"TaskId      {task}" in out and "RoomId      lobby" in out
    # tccli's: the action, where, and each parameter as the request had it.
    assert tccli[:3] == ["tccli", "gme", "DescribeRecordInfo"]
    assert tccli[tccli.index("--endpoint") + 1] == emulator.url
    assert tccli[tccli.index("--TaskId") + 1] == str(task)


async def test_the_confirmation_shows_the_body_pretty_and_the_exact_bytes_one_key_away(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await after_first_frame(pilot)
        await fill(pilot, room="lobby", mode="1", allow="10001 10002")
        await pilot.press("ctrl+s")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation", pilot)
        dialog = app.screen
        action = app.screen_stack[-2].form.to_action()
        exact = encode_body(action.params()).decode()
        assert dialog.body == exact
        pretty = text_of(dialog.query_one("#confirm-body", Static))
        assert '"RoomId": "lobby",' in pretty.splitlines()[2]  # one key a line, indented
        assert json.loads(pretty) == json.loads(exact)
        await pilot.press("b")
        await pilot.pause()
        as_sent = text_of(dialog.query_one("#confirm-body", Static))
        assert "".join(as_sent.splitlines()) == exact  # folded at the edge, nothing else
        assert f"exactly these {len(exact.encode())} bytes" in text_of(
            dialog.query_one("#confirm-body-label")
        )
        await pilot.press("b")
        await pilot.pause()
        assert text_of(dialog.query_one("#confirm-body", Static)) == pretty


@pytest.mark.parametrize("width", [60, 80, 120])
async def test_the_header_never_cuts_the_host_and_port(make_app, emulator, width):
    app = make_app(profile="a-long-profile-name-for-the-production-tenant")
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        host = emulator.url.split("://", 1)[1]
        title = app.screen.query_one("HeaderTitle")
        drawn = text_of(title)
        assert host in drawn
        assert len(drawn) <= width - 18


def test_where_shortens_the_rest_first():
    from gme_tui.tui.where import Where

    where = Where("ops", "keyring", "https://gme.example.com:8443", "ap-guangzhou")
    assert where.fit(200) == "ops · keyring · https://gme.example.com:8443 · ap-guangzhou"
    assert where.fit(45) == "ops · https://gme.example.com:8443"
    assert where.fit(26) == "ops · gme.example.com:8443"
    long = Where("production-tenant-one", "keyring", "https://gme.example.com:8443")
    assert long.fit(30) == "produc… · gme.example.com:8443"  # 30 columns
    assert long.fit(5).endswith(" · gme.example.com:8443")  # the host and port whatever is left
    odd = Where("ops", "keyring", "http://user:secret@127.0.0.1:9")
    assert "secret" not in odd.fit(200) and "127.0.0.1:9" in odd.fit(200)
