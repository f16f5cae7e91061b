"""No failure vanishes in the console: whatever ends a worker, the operator sees what happened.

Driven through Pilot as an operator would, against the emulator or a loopback
server that holds its answer. The one fault injected by patching is an exception
from `GmeClient.call` that is not a GmeError: it stands for a bug of ours, which
no server can provoke on purpose.
"""

from __future__ import annotations

import threading

import pytest
from helpers import after_first_frame, started, until
from hostile_server import HostileServer
from textual.widgets import DataTable, Input, Static

from gme_tui.api.client import GmeClient
from gme_tui.api.errors import OutcomeKind
from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY
from gme_tui.history import History
from gme_tui.tui.screens.credentials import CredentialsScreen
from gme_tui.tui.screens.dialogs import ConfirmScreen
from gme_tui.tui.widgets.mode_choice import ModeChoice
from gme_tui.words import outcome_label

#: an exception's text that would break markup or the terminal if shown as it is
NASTY = "a bug of ours [bold]in[/] the \x1b[31mclient"


def text(app, selector: str) -> str:
    """What a widget of the current screen shows, as plain text (Rich tables included)."""
    import io

    from rich.console import Console

    content = app.screen.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    console = Console(width=200, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(content)
    return captured.get()


def shown(app) -> str:
    return text(app, "#response-title") + "\n" + text(app, "#response-body")


def notices(app) -> list[str]:
    """The notifications on screen, title and message, as the operator reads them."""
    return [toast.render().plain for toast in app.screen.query("Toast")]


async def start_record(pilot, room: str) -> None:
    """Fill the form, Ctrl+S, confirm: the send is on its way (its end is not waited for)."""
    app = pilot.app
    app.screen.query_one("#room-id", Input).value = room
    app.screen.query_one("#record-mode", ModeChoice).focus()
    await pilot.press("2")
    await pilot.press("ctrl+s")
    await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation", pilot)
    await pilot.press("enter")


async def send_over(pilot, room: str) -> None:
    """Until the send to `room` is over, however it ended: the panel shows it, the form is free."""
    screen = pilot.app.screen

    def over() -> bool:
        view = screen.response.view
        return (
            view is not None
            and view.room == room
            and view.kind is not OutcomeKind.PENDING
            and not screen.sending
            and not screen.form.busy
        )

    await until(over, f"the send to {room} to end", pilot)
    await pilot.pause()


def history_says(app, row_id: int) -> str:
    """The outcome column of a row in the history table, as shown."""
    return app.screen.query_one("#history-table", DataTable).get_cell(str(row_id), "outcome").plain


def row_of(app):
    view = app.screen.response.view
    assert view is not None and view.row_id is not None, "the panel names the history row"
    return app.history.get(view.row_id)


def raising_call(when: str):
    """`GmeClient.call` with a bug of ours: before anything is sent, or after the answer came."""
    real = GmeClient.call

    async def call(self, action, on_send=None, **kw):
        if when == "after the answer":
            await real(self, action, on_send=on_send, **kw)
        raise RuntimeError(NASTY)

    return call


# --- (a) a send that ends by an exception ------------------------------------------


@pytest.mark.parametrize(
    ("when", "kind", "heading"),
    [
        ("before sending", OutcomeKind.NOT_SENT, "Not sent"),
        ("after the answer", OutcomeKind.UNKNOWN, "Outcome unknown"),
    ],
)
async def test_a_bug_in_the_client_shows_the_outcome_and_the_next_send_goes(
    make_app, emulator, when, kind, heading
):
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        client = app.client
        client.call = raising_call(when).__get__(client)  # on this instance only
        await start_record(pilot, "buggy")
        await send_over(pilot, "buggy")
        assert "Pending" not in shown(app)
        assert f"StartRecord: {heading}" in shown(app)
        assert "RuntimeError: a bug of ours [bold]in[/] the \\u001b[31mclient" in shown(app), shown(app)
        assert "-pending" not in app.screen.response.classes
        # (the reconcile of the unknown start may say what it found beside it)
        (notice,) = [n for n in notices(app) if n.startswith("Send failed")]
        assert notice.startswith("Send failed\nRuntimeError: a bug of ours [bold]in[/] the \\u001b[31mclient")
        assert "Traceback" not in app.export_screenshot()
        row = row_of(app)
        assert row.outcome is kind and row.action == "StartRecord" and row.room_id == "buggy"
        assert history_says(app, row.id) == outcome_label(kind)

        del client.call  # mended: the next send goes as usual
        await start_record(pilot, "mended")
        await send_over(pilot, "mended")
        assert "StartRecord ok" in shown(app)
        assert row_of(app).outcome is OutcomeKind.OK
    assert started(emulator) == (2 if when == "after the answer" else 1)


async def test_a_history_that_refuses_the_row_says_not_sent_instead_of_pending(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        app.history._db.execute("PRAGMA query_only=ON")  # as on a file gone read-only under it
        await start_record(pilot, "unwritten")
        await send_over(pilot, "unwritten")
        assert "StartRecord: Not sent" in shown(app)
        assert "cannot write the history" in shown(app)
        assert any("Send failed" in notice and "HistoryUnavailable" in notice for notice in notices(app))
        assert app.screen.response.view.row_id is None and app.history.count() == 0
        assert started(emulator) == 0

        app.history._db.execute("PRAGMA query_only=OFF")
        await start_record(pilot, "written")
        await send_over(pilot, "written")
        assert "StartRecord ok" in shown(app)
    assert started(emulator) == 1


async def test_a_history_that_cannot_open_is_said_where_it_would_be_and_nothing_is_sent(
    make_app, emulator, tmp_path
):
    """The store opens after the first frame; where it cannot, its place says why, and a
    send is refused with the reason (no row, no request)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the history's folder should be")
    app = make_app(data_dir=blocker)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await after_first_frame(pilot)
        said = str(app.screen.query_one("#history-missing", Static).content)
        assert said.startswith(f"History unavailable: {blocker}") and said.endswith("Nothing can be sent.")
        assert not app.screen.query("#history-slot")
        app.screen.query_one("#room-id", Input).value = "lobby"
        app.screen.query_one("#record-mode", ModeChoice).focus()
        await pilot.press("2", "ctrl+s")
        await until(lambda: any("Not sent" in notice for notice in notices(app)), "the refusal", pilot)
        assert any("history is unavailable" in notice for notice in notices(app))
        assert not isinstance(app.screen, ConfirmScreen)
    assert started(emulator) == 0


# --- (b) the credentials check -----------------------------------------------------


def status(app) -> str:
    return text(app, "#credentials-status")


async def test_a_bug_in_the_credentials_check_says_it_could_not_check(make_app, emulator, monkeypatch):
    app = make_app(key=None, key_problem="no credentials")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("f5")
        await until(lambda: isinstance(app.screen, CredentialsScreen), "the credentials screen", pilot)
        await until(lambda: "no keyring backend" in status(app), "the keyring read to fail", pilot)
        app.screen.query_one("#secret-id", Input).value = DEMO_SECRET_ID
        app.screen.query_one("#secret-key", Input).value = DEMO_SECRET_KEY
        real = GmeClient.call
        monkeypatch.setattr(GmeClient, "call", raising_call("before sending"))
        await pilot.press("ctrl+k")
        await until(lambda: not status(app).startswith("Checking"), "the check to end", pilot)
        assert status(app).startswith("Could not check: RuntimeError: a bug of ours [bold]in[/]"), status(app)
        assert "-error" in app.screen.query_one("#credentials-status").classes
        assert any("Credentials check failed" in notice for notice in notices(app)), notices(app)
        (row,) = app.history.rows()
        assert row.action == "DescribeTaskInfo" and row.outcome is OutcomeKind.NOT_SENT

        monkeypatch.setattr(GmeClient, "call", real)
        await pilot.press("ctrl+k")
        await until(lambda: not status(app).startswith("Checking"), "the second check to end", pilot)
        assert status(app).startswith("Accepted"), status(app)
    assert started(emulator, "DescribeTaskInfo") == 1


# --- (c) a StartRecord interrupted after it reached the server ---------------------


@pytest.fixture
def holding_server():
    """A server that takes the request and holds its answer until the test is over."""
    release = threading.Event()
    with HostileServer(lambda conn: release.wait(30)) as server:
        yield server
        release.set()


async def test_a_cancelled_send_reads_as_unknown_in_the_panel_and_the_history(make_app, holding_server):
    app = make_app(endpoint=holding_server.url, timeout=30.0)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await start_record(pilot, "held")
        await until(lambda: holding_server.requests, "the request to reach the server", pilot)
        screen = app.screen
        assert "Pending" in shown(app)
        screen.workers.cancel_group(screen, "send")
        await send_over(pilot, "held")
        assert "StartRecord: Outcome unknown" in shown(app) and "cancelled" in shown(app)
        assert "F3" in shown(app)  # the check to run before retrying
        row = row_of(app)
        assert row.outcome is OutcomeKind.UNKNOWN and history_says(app, row.id) == "unknown"
        assert not notices(app)  # a cancel is no error
    # then only the reconcile's DescribeTaskInfo of the room, never a second StartRecord
    actions = [r.lower().split(b"x-tc-action: ")[1].split(b"\r\n")[0] for r in holding_server.requests]
    assert actions[0] == b"startrecord" and set(actions[1:]) <= {b"describetaskinfo"}


async def test_quitting_while_the_answer_is_held_leaves_an_unknown_row(make_app, holding_server, tmp_path):
    app = make_app(endpoint=holding_server.url, timeout=30.0)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await start_record(pilot, "quit")
        await until(lambda: holding_server.requests, "the request to reach the server", pilot)
        await pilot.press("ctrl+q")
    with History.in_dir(tmp_path / "data") as history:
        (row,) = history.rows()
    assert row.room_id == "quit" and row.outcome is OutcomeKind.UNKNOWN
