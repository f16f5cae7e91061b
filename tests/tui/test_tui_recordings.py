"""The recordings view (Ctrl+R) as an operator uses it: Pilot against the emulator over loopback.

The recordings are real: started through `calls.send` with the app's own History
and client (as the form does), or by another process's History and client over
the same SQLite file. Only rows the emulator never served (another endpoint, a
hostile room, ten thousand old ones, the snapshots' fixed ones) are written with
SQL. The snapshots are in tests/tui/__snapshots__/test_tui_recordings/; accept a
deliberate change with

    .venv/bin/python -m pytest tests/tui/test_tui_recordings.py --snapshot-update
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterable

import pytest
from helpers import SHOWN_ENDPOINT, started, until, wait_idle

from gme_tui import tracking
from gme_tui.api.actions import StartRecord, StopRecord
from gme_tui.api.fields import RecordMode
from gme_tui.calls import send
from gme_tui.context import make_client
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.history import History
from gme_tui.recordings import State, duration_text
from gme_tui.tui.app import GmeApp
from gme_tui.tui.screens.recordings import (
    PAGE_SIZE,
    RecordingsScreen,
    StopConfirmScreen,
    started_text,
)

ELSEWHERE = "https://gme.tencentcloudapi.com"


# --- helpers -------------------------------------------------------------------------


async def start(app: GmeApp, *rooms: str, history: History | None = None, client=None) -> list[str]:
    """StartRecord of each room through `calls.send`, as the form sends it: the TaskIds."""
    tasks = []
    for room in rooms:
        outcome = await send(
            client or app.client,
            history or app.history,
            StartRecord(DEMO_BIZ_ID, room, RecordMode.MIXED),
            profile="ops",
        )
        assert outcome.result is not None, outcome.error
        tasks.append(str(outcome.result.task_id_value))
    return tasks


def insert(app: GmeApp, rows: Iterable[dict]) -> None:
    """Recordings written straight into the store (fast, and with what the emulator never serves)."""
    columns = ("endpoint", "profile", "biz_id", "task_id", "room_id", "record_mode", "state",
               "started_at", "updated_at", "stopped_at", "files")  # fmt: skip
    base = dict(profile="ops", biz_id=str(DEMO_BIZ_ID), record_mode=2, state="recording",
                started_at=time.time(), stopped_at=None, files=None)  # fmt: skip
    records = []
    for row in rows:
        full = {**base, **row}
        full.setdefault("updated_at", full["started_at"])
        records.append(tuple(full.get(c) for c in columns))
    assert app.history is not None
    db = sqlite3.connect(app.history.path)
    try:
        with db:
            db.executemany(
                f"INSERT INTO recordings ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                records,
            )
    finally:
        db.close()


async def open_view(pilot) -> RecordingsScreen:
    await pilot.app.push_screen(RecordingsScreen())
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, RecordingsScreen)
    return screen


def rows(screen: RecordingsScreen) -> list[dict[str, str]]:
    """The table as shown, row by row: column key -> plain text."""
    table = screen.table
    keys = [column.key.value for column in table.ordered_columns]
    return [
        dict(zip(keys, (str(cell) for cell in table.get_row_at(i)), strict=True))
        for i in range(table.row_count)
    ]


def row_of(screen: RecordingsScreen, task_id: str) -> dict[str, str]:
    found = [row for row in rows(screen) if row["task"] == task_id]
    assert len(found) == 1, (task_id, rows(screen))
    return found[0]


def where(screen: RecordingsScreen) -> str:
    return str(screen.query_one("#recordings-where").render())


def notices(app: GmeApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def select(pilot, screen: RecordingsScreen, task_id: str) -> None:
    screen.table.move_cursor(row=[row["task"] for row in rows(screen)].index(task_id))
    await pilot.pause()


def stopped(emulator) -> set[str]:
    return {str(task.task_id) for task in emulator.service.tasks() if task.stopped_at is not None}


# --- what it lists -------------------------------------------------------------------


async def test_lists_this_endpoints_recordings_newest_first_and_every_endpoints_on_a(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        first, second = await start(app, "lobby", "stage")
        insert(app, [dict(endpoint=ELSEWHERE, profile="prod", task_id="1234567890123456789", room_id="far")])
        screen = await open_view(pilot)
        shown = rows(screen)
        assert [row["task"] for row in shown] == [second, first]  # newest first, every digit
        assert shown[0] | {"started": "", "elapsed": ""} == dict(
            mark="",
            room="stage",
            task=second,
            mode="mixed",
            state="recording",
            started="",
            elapsed="",
            files="",
        )
        assert shown[0]["elapsed"].endswith("s")
        assert "Endpoint" not in [str(c.label) for c in screen.table.ordered_columns]
        assert where(screen) == f"Recordings of {app.config.destination} · 2 known"

        await pilot.press("a")
        shown = rows(screen)
        assert [row["task"] for row in shown] == ["1234567890123456789", second, first]
        assert (shown[0]["endpoint"], shown[0]["profile"]) == ("gme.tencentcloudapi.com", "prod")
        assert (shown[1]["endpoint"], shown[1]["profile"]) == (emulator.url.removeprefix("http://"), "ops")
        assert where(screen).startswith("Every endpoint's recordings · 3 known · actions go to ")
        await pilot.press("a")
        assert [row["task"] for row in rows(screen)] == [second, first]

        assert all(b.id and b.id.startswith("recordings.") for b in RecordingsScreen.BINDINGS)
        await pilot.press("escape")
        assert not isinstance(app.screen, RecordingsScreen)


async def test_it_refreshes_itself_from_other_processes_and_from_changes(make_app, emulator):
    """Another process stops a task and starts one (its own History and client): the timer's
    re-read shows both, the cursor stays on its recording; a refresh's changes show at once."""
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        lobby, stage = await start(app, "lobby", "stage")
        screen = await open_view(pilot)
        await select(pilot, screen, lobby)
        other = History(app.history.path)
        client = make_client(app.config, DEMO_KEY)
        try:
            outcome = await send(client, other, StopRecord(DEMO_BIZ_ID, int(lobby)), profile="ops")
            assert outcome.error is None
            (late,) = await start(app, "late", history=other, client=client)
            await until(lambda: row_of(screen, lobby)["state"] == "stopping", "the stop re-read", pilot)
            await until(lambda: len(rows(screen)) == 3, "the new recording", pilot)
            assert rows(screen)[0]["task"] == late  # at the top
            assert screen.selected is not None and screen.selected.task_id == lobby  # the cursor stayed
            assert "3 known" in where(screen)
        finally:
            await client.aclose()
            other.close()

        # The app's follower: a refresh round, its changes handed to the view.
        changes = []
        while not any(c.recording.task_id == lobby and c.recording.state is State.DONE for c in changes):
            for done in await tracking.refresh(app.client, app.history, profile="ops", interval=0):
                changes += done.changes
            await pilot.pause(0.05)
        screen.recordings_changed(changes)
        assert row_of(screen, lobby)["state"] == "done"
        assert screen.selected.task_id == lobby
        done = str(app.history.recordings_of_task(lobby)[0].id)
        assert screen.table.get_cell(done, "room").style.dim  # a final state is drawn dim
        assert not screen.table.get_cell(str(app.history.recordings_of_task(stage)[0].id), "room").style.dim


def test_elapsed_and_started_read_as_an_operator_says_them():
    assert [duration_text(s) for s in (0, 45, 724, 3 * 3600 + 7 * 60 + 5, 2 * 86400 + 5 * 3600)] == [
        "0s", "45s", "12m04s", "3h07m", "2d05h"
    ]  # fmt: skip
    today = dt.date(2025, 6, 2)
    at = dt.datetime(2025, 6, 2, 9, 5, 7).timestamp()
    assert started_text(at, today) == "09:05:07"
    assert started_text(at - 86_400, today) == "06-01 09:05"
    assert started_text(at - 366 * 86_400, today) == "2024-06-01 09:05"


# --- stopping ------------------------------------------------------------------------


async def test_stop_of_the_selected_names_the_destination_and_stops_the_task(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        lobby, stage = await start(app, "lobby", "stage")
        screen = await open_view(pilot)
        await select(pilot, screen, lobby)
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, StopConfirmScreen)
        assert f"Stop task {lobby} in room lobby?" in dialog.text
        assert f"Where: {app.config.destination}" in dialog.text
        assert "127.0.0.1" in app.config.destination and "profile ops" in app.config.destination
        await pilot.press("enter")
        await wait_idle(pilot)
        assert stopped(emulator) == {lobby}
        assert row_of(screen, lobby)["state"] == "stopping"
        assert row_of(screen, stage)["state"] == "recording"
        assert any(f"Stopped task {lobby} in room lobby" in notice for notice in notices(app))

        await pilot.press("s")  # stopping: nothing more to stop
        assert app.screen is screen
        assert started(emulator, "StopRecord") == 1
        assert any("only a recording that records can be stopped" in notice for notice in notices(app))


async def test_escape_on_the_confirmation_sends_nothing(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await start(app, "lobby")
        screen = await open_view(pilot)
        await pilot.press("s")
        assert isinstance(app.screen, StopConfirmScreen)
        await pilot.press("escape")
        assert app.screen is screen
        await wait_idle(pilot)
    assert started(emulator, "StopRecord") == 0


async def test_two_marked_stop_after_one_confirmation_listing_both(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        one, two, three = await start(app, "one", "two", "three")
        screen = await open_view(pilot)
        assert [row["task"] for row in rows(screen)] == [three, two, one]
        await pilot.press("space", "space")  # a mark moves the cursor down: three and two
        assert [row["mark"] for row in rows(screen)] == ["●", "●", ""]
        assert "2 marked" in where(screen)
        await pilot.press("S")
        dialog = app.screen
        assert isinstance(dialog, StopConfirmScreen)
        assert dialog.title_text == "Stop 2 recordings?"
        assert f"room three · task {three}" in dialog.lines and f"room two · task {two}" in dialog.lines
        assert f"Where: {app.config.destination}" in dialog.lines
        assert one not in dialog.text
        await pilot.press("enter")
        await wait_idle(pilot)
        assert stopped(emulator) == {three, two}
        assert started(emulator, "StopRecord") == 2
        assert [row["state"] for row in rows(screen)] == ["stopping", "stopping", "recording"]
        assert [row["mark"] for row in rows(screen)] == ["", "", ""]  # the marks are spent
        assert any("Stopped 2 of 2" in notice for notice in notices(app))


async def test_a_long_list_is_cut_at_fifteen(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await start(app, *(f"room-{n:02d}" for n in range(18)))
        screen = await open_view(pilot)
        for _ in range(18):
            await pilot.press("space")
        await pilot.press("S")
        dialog = app.screen
        assert isinstance(dialog, StopConfirmScreen)
        assert dialog.lines[15] == "and 3 more"
        assert sum(line.startswith("room room-") for line in dialog.lines) == 15
        await pilot.press("escape")
        assert app.screen is screen


async def test_a_recording_of_another_endpoint_is_refused_and_nothing_sent(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        insert(
            app,
            [
                dict(endpoint=ELSEWHERE, task_id="1234567890123456789", room_id="far"),
                dict(endpoint=emulator.url, profile="other", task_id="1234567890123456788", room_id="near"),
            ],
        )
        screen = await open_view(pilot)
        await pilot.press("a")
        await select(pilot, screen, "1234567890123456789")
        await pilot.press("s")
        assert app.screen is screen
        recording = app.history.recordings_of_task("1234567890123456789")[0]
        assert any(recording.elsewhere(app.config.scope, "ops") in notice for notice in notices(app))
        screen.table.move_cursor(row=0)
        await pilot.press("space", "space")  # both marked: another endpoint, another profile
        assert len(screen.marked) == 2
        await pilot.press("S")
        assert app.screen is screen
        assert any("with profile other" in notice for notice in notices(app))
        for key in ("d", "m"):
            await pilot.press(key)
            assert app.screen is screen
        await wait_idle(pilot)
    assert emulator.requests == []


async def test_without_credentials_a_stop_is_refused(make_app, emulator):
    app = make_app(key=None)
    async with app.run_test(size=(120, 30)) as pilot:
        assert app.client is None
        insert(app, [dict(endpoint=emulator.url, task_id="1234567890123456789", room_id="lobby")])
        screen = await open_view(pilot)
        await pilot.press("s")
        assert app.screen is screen
        assert any("No credentials for this profile" in notice for notice in notices(app))
    assert emulator.requests == []


async def test_describe_and_modify_hand_the_recording_to_the_main_screen(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        (lobby,) = await start(app, "lobby")
        main = app.screen
        asked: list[tuple[str, str | None]] = []
        main.follow_up = lambda verb, recording: asked.append((verb, recording.task_id))
        for key in ("d", "m"):
            await open_view(pilot)
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is main
        assert asked == [("describe", lobby), ("modify", lobby)]

        await open_view(pilot)
        await pilot.press("c")
        assert app.clipboard == lobby


# --- what it draws -------------------------------------------------------------------


async def test_a_hostile_room_is_drawn_inert(make_app, emulator):
    app = make_app()
    room = "\x1b[31m[bold]evil[/bold]\x07\u202e"
    async with app.run_test(size=(120, 30)) as pilot:
        await start(app, room)  # the service takes any text for a room
        screen = await open_view(pilot)
        cell = screen.table.get_cell("1", "room")
        assert cell.plain.startswith("\\u001b[31m[bold")  # escaped, markup as text
        assert cell.plain.endswith("…") and len(cell.plain) <= 16
        assert not cell.spans
        assert "\x1b" not in "".join(str(c) for c in screen.table.get_row_at(0))
        await pilot.press("s")
        dialog = app.screen
        assert isinstance(dialog, StopConfirmScreen), notices(app)
        assert "\x1b" not in dialog.text and "\\u001b[31m[bold]evil[/bold]\\u0007\\u202e" in dialog.text
        assert "[bold]" in str(dialog.query_one("#stop-list").render())  # drawn as text, not as bold
        await pilot.press("escape")
    assert started(emulator, "StopRecord") == 0


async def test_ten_thousand_recordings_open_with_the_first_page(make_app, emulator):
    app = make_app()
    now = time.time()
    async with app.run_test(size=(120, 30)) as pilot:
        insert(
            app,
            (
                # final states: none is due for the app's follower, so no request leaves
                dict(
                    endpoint=emulator.url,
                    task_id=str(10**18 + n),
                    room_id=f"room-{n}",
                    started_at=now - n,
                    state=("done", "gone", "not_started")[n % 3],
                )  # fmt: skip
                for n in range(10_000)
            ),
        )
        begun = time.perf_counter()
        screen = await open_view(pilot)
        took = time.perf_counter() - begun
        print(f"recordings view with 10,000 known: {took * 1000:.0f} ms to the first frame")
        # One page read and drawn, not ten thousand rows: the time is printed, not asserted (a
        # loaded machine takes several times the 100 ms target); only a view that read them all
        # would take this long.
        assert took < 5.0
        assert screen.table.row_count == PAGE_SIZE
        assert rows(screen)[0]["task"] == str(10**18)
        assert "10,000 known" in where(screen)
        await pilot.press("ctrl+end")  # to the last row read: the next page comes in
        await until(lambda: screen.table.row_count == 2 * PAGE_SIZE, "the second page", pilot)
        assert len({row["task"] for row in rows(screen)}) == 2 * PAGE_SIZE


# --- snapshots -----------------------------------------------------------------------

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
#: the frozen "now" of the view (local time, so the columns read the same anywhere)
NOW = dt.datetime(2025, 6, 2, 10, 0, 0).timestamp()


@pytest.fixture
def snapshot_app(snapshot_app, monkeypatch) -> Callable[[], GmeApp]:
    """The shared snapshot app (no key: the app's follower asks nothing), the view's clock
    frozen. The rows are written with SQL."""
    monkeypatch.setattr(RecordingsScreen, "clock", staticmethod(lambda: NOW))
    return snapshot_app


def fixed_rows() -> list[dict]:
    at = dt.datetime(2025, 6, 2, 9, 0, 0).timestamp()
    files = '["a.mp3", "b.mp3", "c.mp3"]'
    return [
        dict(room_id="lobby", task_id="4461922363309279121", started_at=at + 3000),
        dict(room_id="a-room-with-a-very-long-name-indeed", task_id="4461922363309279122", record_mode=3,
             started_at=at + 2400, state="transcoding", stopped_at=at + 2700),
        dict(room_id="stage", task_id="4461922363309279123", record_mode=1, started_at=at + 600,
             state="done", stopped_at=at + 1324, files=files),
        dict(room_id="studio", task_id=None, started_at=at + 300, state="unknown"),
        dict(room_id="yesterday", task_id="4461922363309279124", started_at=at - 86_400, state="gone"),
        dict(endpoint=ELSEWHERE, profile="prod", room_id="far", task_id="4461922363309279125",
             started_at=at + 1800),
    ]  # fmt: skip


async def recordings_view(pilot) -> None:
    app = pilot.app
    insert(app, [{"endpoint": SHOWN_ENDPOINT, **row} for row in fixed_rows()])
    screen = await open_view(pilot)
    await pilot.press("down", "space")  # one marked, the cursor on the row below it
    assert len(rows(screen)) == 5
    app.clear_notifications()  # the main screen's "no credentials"
    await pilot.pause()


async def every_endpoint(pilot) -> None:
    await recordings_view(pilot)
    await pilot.press("a")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_snapshot(snap_compare, snapshot_app, size):
    """This endpoint's five: each state in its colour, the final ones dim, the TaskId whole."""
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=recordings_view)


def test_snapshot_every_endpoint(snap_compare, snapshot_app):
    """`a`: the endpoint and profile columns, and the header saying where actions go."""
    assert snap_compare(snapshot_app(), terminal_size=(120, 40), run_before=every_endpoint)


async def test_the_quick_cell_drawing_draws_what_the_table_would(snapshot_app):
    """RecordingsTable draws its cells itself (the view's opening is mostly cell drawing):
    segment for segment what DataTable draws, for every kind of cell, the cursor's too."""
    from textual.widgets import DataTable

    app = snapshot_app()
    async with app.run_test(size=(120, 40)) as pilot:
        wide = dict(room_id="房间-a-very-long-room-name", task_id="4461922363309279126", files='["x"]')
        insert(app, [{"endpoint": SHOWN_ENDPOINT, **row} for row in [*fixed_rows(), wide]])
        screen = await open_view(pilot)
        await pilot.press("down", "space")
        table = screen.table
        base = table.rich_style
        for row in range(table.row_count):
            for column, width in enumerate(c.get_render_width(table) for c in table.ordered_columns):
                for cursor in (False, True):
                    table._cell_render_cache.clear()
                    ours = table._render_cell(row, column, base, width, cursor)
                    table._cell_render_cache.clear()
                    theirs = DataTable._render_cell(table, row, column, base, width, cursor)
                    assert ours == theirs, (row, column, cursor)
