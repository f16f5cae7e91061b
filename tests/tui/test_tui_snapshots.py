"""Snapshots of the main screen (pytest-textual-snapshot): empty, invalid, success, service
error; the help and the confirmation.

Each state at 80x24 (the smallest terminal the console promises to fit) and at
120x40. The requests are real: StartRecord goes to the emulator over loopback,
as in test_tui_app.py. The SVGs are in tests/tui/__snapshots__/test_tui_snapshots/;
after a deliberate change to the screen, look at the new ones and accept them with

    .venv/bin/python -m pytest tests/tui/test_tui_snapshots.py --snapshot-update

Only the test normalises what changes from run to run (the product is not
seeded for tests): the endpoint's port in the header, the TaskId and RequestId
the emulator draws at random, the measured duration, and the history's times,
which come from the clock. Everything else on screen is what the operator sees.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import SHOWN_ENDPOINT, after_first_frame, send_confirmed, until
from textual.pilot import Pilot
from textual.widgets import Input, Static

from gme_tui.api.fields import RecordMode
from gme_tui.context import Context
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.tui.app import GmeApp
from gme_tui.tui.widgets.history_panel import HistoryFilter, HistoryPanel
from gme_tui.tui.widgets.mode_choice import ModeChoice
from gme_tui.tui.widgets.request_form import IdList

KEY = DEMO_KEY
SIZES = [pytest.param(size, id=f"{size[0]}x{size[1]}") for size in ((80, 24), (120, 40), (200, 50))]

#: what the header shows for the endpoint: the emulator's port is free-chosen each run
#: stand-ins for what the emulator and the clock make up on every run (19 digits, like real TaskIds)
TASK_ID = 446192236330927912
REQUEST_IDS = ("6f1c2d3e-0000-4000-8000-000000000001", "6f1c2d3e-0000-4000-8000-000000000002")
DURATION_MS = 42.0
#: the history's first row; later rows a minute apart (local time, so the column reads the same anywhere)
FIRST_STARTED = dt.datetime(2025, 6, 2, 9, 30, 0).timestamp()


@pytest.fixture
def make_app(emulator, tmp_path, monkeypatch) -> Callable[[], GmeApp]:
    """The app against the emulator, with its own settings (fixed theme) and history in tmp."""
    settings = tmp_path / "config" / "settings.yaml"
    settings.parent.mkdir()
    settings.write_text("theme: gme-dark\nconfirm_start: true\n")
    monkeypatch.setenv("GME_TUI_CONFIG", str(settings))  # also keeps the user's own themes out
    monkeypatch.delenv("NO_COLOR", raising=False)  # read when the app is built; it greys everything

    def make() -> GmeApp:
        app = GmeApp(
            Context(
                profile="ops",
                endpoint=emulator.url,
                data_dir=tmp_path / "data",
                key=KEY,
                key_source="environment",
                default_biz_id=str(DEMO_BIZ_ID),
                use_env_proxies=False,
            )
        )
        assert app.sub_title == f"ops · environment · {emulator.url}"
        return app

    return make


async def steady(pilot: Pilot) -> None:
    """What every snapshot needs before anything else: a fixed header and no blinking.

    The header names the endpoint, whose port the emulator picks afresh each run;
    only the port is replaced. A blinking cursor would be on or off depending on
    when the picture is taken, so it is made solid (as Harlequin's tests do).
    """
    app = pilot.app
    await after_first_frame(pilot)  # the history panel is in every picture
    assert app.theme == "gme-dark"
    app.sub_title = app.sub_title.replace(app.config.endpoint, SHOWN_ENDPOINT)
    shown_host, host = (url.split("://", 1)[1] for url in (SHOWN_ENDPOINT, app.config.endpoint))
    for widget in app.screen.query(HistoryFilter):  # its placeholder names the endpoint's host
        widget.placeholder = widget.placeholder.replace(host, shown_host)
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    await pilot.pause()


async def fill(pilot: Pilot, room: str, mode: str, allow: str = "") -> None:
    screen = pilot.app.screen
    screen.query_one("#room-id", Input).value = room
    screen.query_one("#record-mode", ModeChoice).value = RecordMode(int(mode))
    screen.query_one("#allow", IdList).text = allow
    await pilot.pause()


async def normalise_volatile(pilot: Pilot) -> None:
    """Replace, after the real send, what differs on every run; nothing in the product is seeded.

    The emulator draws TaskIds at random (above 2**53 on purpose) and RequestIds
    are UUIDs; durations and the history's times come from the clock. The rows in
    the history store are rewritten and the panel re-read, so the history shows
    them as it would any stored row; then the response panel shows its own view
    again with fixed values. The rest of each view (action, room, outcome, error
    code and message) is left exactly as the real request produced it.
    """
    app = pilot.app
    screen = app.screen
    assert app.history is not None
    view = screen.response.view  # the answer shown, before the panel is read again
    assert view is not None
    app.clear_notifications()  # what they say names the TaskId the emulator drew
    db = sqlite3.connect(Path(app.history.path))
    try:
        with db:
            ids = [row_id for (row_id,) in db.execute("SELECT id FROM requests ORDER BY id")]
            for n, row_id in enumerate(ids):
                started = FIRST_STARTED + 60 * n
                db.execute(
                    "UPDATE requests SET started_at=?, finished_at=?, duration_ms=?, request_id=?,"
                    " task_id=CASE WHEN task_id IS NULL THEN NULL ELSE ? END WHERE id=?",
                    (
                        started,
                        started + DURATION_MS / 1000,
                        DURATION_MS,
                        REQUEST_IDS[n % len(REQUEST_IDS)],
                        str(TASK_ID),
                        row_id,
                    ),
                )
    finally:
        db.close()
    screen.query_one(HistoryPanel).refresh_rows()
    await pilot.pause()
    screen.response.show(
        replace(
            view,
            task_id=TASK_ID if view.task_id is not None else None,
            request_id=REQUEST_IDS[ids.index(view.row_id) % len(REQUEST_IDS)] if view.request_id else None,
            duration_ms=DURATION_MS,
        )
    )
    await pilot.pause()


async def empty(pilot: Pilot) -> None:
    await steady(pilot)


async def invalid(pilot: Pilot) -> None:
    await steady(pilot)
    await fill(pilot, room=" lobby", mode="1", allow="10001, 9999")
    pilot.app.screen.query_one("#biz-id", Input).value = ""
    await pilot.press("1", "2", "a")  # typed, so the focus and the cursor are where an operator's are
    await pilot.pause()
    errors = pilot.app.screen.form.checked.errors
    assert set(errors) == {"BizId", "RoomId", "SubscribeUserIds"}, errors


async def success(pilot: Pilot) -> None:
    await steady(pilot)
    await fill(pilot, room="lobby", mode="2", allow="10001, 10002")
    await send_confirmed(pilot)
    assert pilot.app.screen.response.view.kind == "ok"
    await normalise_volatile(pilot)


async def service_error(pilot: Pilot) -> None:
    await steady(pilot)
    await fill(pilot, room="lobby", mode="2", allow="10001, 10002")
    await send_confirmed(pilot)
    await send_confirmed(pilot)  # the same room again: the service has one running task per room
    view = pilot.app.screen.response.view
    assert (view.kind, view.error_code) == ("service_error", "ResourceInUse.TaskInUse")
    await normalise_volatile(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_empty(snap_compare, make_app, size):
    """A fresh form: BizId prefilled, RoomId focused, RecordMode still to fill."""
    assert snap_compare(make_app(), terminal_size=size, run_before=empty)


@pytest.mark.parametrize("size", SIZES)
def test_invalid(snap_compare, make_app, size):
    """BizId 12a, RoomId with a leading blank, user ID 9999: each marked, each rule named, sending blocked."""
    assert snap_compare(make_app(), terminal_size=size, run_before=invalid)


@pytest.mark.parametrize("size", SIZES)
def test_success(snap_compare, make_app, size):
    """StartRecord confirmed and accepted: the TaskId whole on one line, the row in the history."""
    assert snap_compare(make_app(), terminal_size=size, run_before=success)


@pytest.mark.parametrize("size", SIZES)
def test_service_error(snap_compare, make_app, size):
    """A second StartRecord on the same room: ResourceInUse.TaskInUse, its meaning and next step."""
    assert snap_compare(make_app(), terminal_size=size, run_before=service_error)


async def help_screen(pilot: Pilot) -> None:
    await steady(pilot)
    await pilot.press("f1")
    await pilot.pause()


async def confirmation(pilot: Pilot) -> None:
    from textual.content import Content

    from gme_tui.tui.screens.dialogs import ConfirmScreen

    await steady(pilot)
    await fill(pilot, room="lobby", mode="2", allow="10001, 10002")
    await pilot.press("ctrl+s")
    await until(lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation", pilot)
    shown_host, host = (url.split("://", 1)[1] for url in (SHOWN_ENDPOINT, pilot.app.config.endpoint))
    question = pilot.app.screen.query_one(".dialog-question", Static)
    question.update(Content(str(question.content).replace(host, shown_host)))  # the emulator's port
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, make_app, size):
    """F1: every key of the main screen in force, one sentence each, grouped."""
    assert snap_compare(make_app(), terminal_size=size, run_before=help_screen)


@pytest.mark.parametrize("size", SIZES)
def test_confirmation(snap_compare, make_app, size):
    """Ctrl+S: where it goes, and the body pretty-printed (b shows the exact bytes)."""
    assert snap_compare(make_app(), terminal_size=size, run_before=confirmation)
