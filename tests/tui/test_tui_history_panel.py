"""The history panel: what each row shows, lazy paging, the filter, its messages, live updates."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import until
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from gme_tui.history import History, Row
from gme_tui.tui.widgets import history_panel
from gme_tui.tui.widgets.history_panel import PAGE_SIZE, HistoryPanel

TCSS = Path(history_panel.__file__).with_suffix(".tcss")
BIG_TASK = 2**63 - 25  # far above 2**53: a float would change its last digits


class PanelApp(App[None]):
    CSS_PATH = TCSS

    def __init__(self, history: History) -> None:
        super().__init__()
        self.history = history
        self.messages: list[tuple[str, Row]] = []

    def compose(self) -> ComposeResult:
        yield HistoryPanel(self.history, id="history")

    def on_history_panel_selected(self, message: HistoryPanel.Selected) -> None:
        self.messages.append(("selected", message.row))

    def on_history_panel_load_requested(self, message: HistoryPanel.LoadRequested) -> None:
        self.messages.append(("load", message.row))


async def settle(pilot: Pilot) -> None:
    """Wait for the panel's page reads (threads) and the repaint after them."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def shown(app: App) -> list[list[str]]:
    table = app.query_one("#history-table", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def record(
    history: History, action: str = "StartRecord", room: str = "lobby", mode: int | None = 2, **finish: object
) -> int:
    params: dict[str, object] = {"BizId": 1400000001, "RoomId": room}
    if mode is not None:
        params["RecordMode"] = mode
    row_id = history.begin(action=action, profile="p", endpoint="http://e", region=None, params=params)
    if finish:
        history.finish(row_id, duration_ms=5.0, **finish)  # type: ignore[arg-type]
    return row_id


def fill(path: Path, count: int) -> None:
    """Many finished rows at once (one transaction), room-0 oldest, a second apart."""
    start = time.time() - count
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO requests (started_at, finished_at, action, profile, endpoint, params, room_id,"
            " record_mode, outcome, task_id, pid, host) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    start + i,
                    start + i,
                    "StartRecord",
                    "p",
                    "e",
                    f'{{"RoomId":"room-{i}"}}',
                    f"room-{i}",
                    2,
                    "ok",
                    str(10**18 + i),
                    1,
                    "h",
                )
                for i in range(count)
            ),
        )
    db.close()


@pytest.fixture
def history(tmp_path: Path):
    with History.in_dir(tmp_path) as store:
        yield store


async def test_rows_show_newest_first_with_exact_task_ids(history):
    record(history, "StartRecord", "first", 1, outcome="ok", task_id=BIG_TASK - 1)
    record(history, "ModifyRecordInfo", "second", 3, outcome="ok", task_id=BIG_TASK)
    record(
        history,
        "StopRecord",
        "third",
        None,
        outcome="service_error",
        error_code="ResourceNotFound.TaskNotFound",
        error_message="no such task",
    )
    app = PanelApp(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        rows = shown(app)
    assert [row[1:] for row in rows] == [
        ["StopRecord", "third", "", "ResourceNotFound.TaskNotFound", ""],
        ["ModifyRecordInfo", "second", "both", "ok", str(BIG_TASK)],
        ["StartRecord", "first", "single", "ok", str(BIG_TASK - 1)],
    ]
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", row[0]) for row in rows)  # today: the seconds


async def test_each_outcome_in_words_and_older_days_by_date(history, tmp_path):
    record(history, room="mixed-ok", outcome="ok", task_id=7)
    record(history, room="refused", outcome="not_sent")
    record(history, room="garbled", outcome="bad_answer")
    record(history, room="in-flight")  # pending, written by this live process
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    db = sqlite3.connect(history.path)
    with db:
        db.execute(
            "INSERT INTO requests (started_at, action, profile, endpoint, params, room_id, outcome,"
            " pid, pid_start, host) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                time.time() - 5,
                "StartRecord",
                "p",
                "e",
                "{}",
                "crashed",
                "pending",
                dead.pid,
                "1",
                socket.gethostname(),
            ),
        )
        db.execute(
            "INSERT INTO requests (started_at, finished_at, action, profile, endpoint, params,"
            " room_id, outcome, task_id, pid, host) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                time.time() - 3 * 86400,
                time.time(),
                "StartRecord",
                "p",
                "e",
                "{}",
                "old",
                "ok",
                "9",
                os.getpid(),
                "h",
            ),
        )
    db.close()
    app = PanelApp(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        outcomes = {row[2]: (row[0], row[4]) for row in shown(app)}
    assert outcomes["in-flight"][1] == "pending"
    assert outcomes["crashed"][1] == "unknown"
    assert outcomes["refused"][1] == "not sent"
    assert outcomes["garbled"][1] == "bad answer"
    assert outcomes["mixed-ok"][1] == "ok"
    assert re.fullmatch(r"\d\d-\d\d \d\d:\d\d", outcomes["old"][0])


def spy_on_pages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[float, int] | None, str]]:
    """Every page query, from any connection (the panel reads on one of its own)."""
    calls: list[tuple[tuple[float, int] | None, str]] = []
    page = History.page

    def spy(
        self: History, limit: int = 100, *, before: tuple[float, int] | None = None, text: str = "", **scope
    ) -> list[Row]:
        calls.append((before, text))
        return page(self, limit, before=before, text=text, **scope)

    monkeypatch.setattr(History, "page", spy)
    return calls


async def test_one_page_on_open_and_more_as_the_cursor_or_scroll_nears_the_end(history, monkeypatch):
    fill(history.path, 5000)
    pages = spy_on_pages(monkeypatch)
    app = PanelApp(history)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.query_one("#history-table", DataTable)
        panel = app.query_one(HistoryPanel)
        assert table.row_count == PAGE_SIZE == panel.loaded_count
        assert pages == [(None, "")]  # one query, no count, no offset
        assert shown(app)[0][2] == "room-4999"

        table.focus()
        for _ in range(10):
            await pilot.press("pagedown")
            if table.row_count > PAGE_SIZE:
                break
        assert table.row_count == 2 * PAGE_SIZE
        assert table.cursor_row < PAGE_SIZE  # loaded ahead of the cursor, before it hit the end

        table.scroll_end(animate=False)
        await settle(pilot)
        await settle(pilot)
        assert 2 * PAGE_SIZE < table.row_count < 5000
        rooms = [row[2] for row in shown(app)]
    assert rooms == [f"room-{i}" for i in range(4999, 4999 - len(rooms), -1)]  # in order, no gaps, no repeats
    last_of_first_page = history.get(4901)  # room-4900, the 100th newest
    assert last_of_first_page is not None and last_of_first_page.room_id == "room-4900"
    assert pages[1] == ((last_of_first_page.started_at, 4901), "")  # keyset: after the last row read


async def test_the_filter_narrows_in_sqlite_and_escape_clears_it(history, monkeypatch):
    monkeypatch.setattr(history_panel, "DEBOUNCE", 1.0)  # keys from a slow machine still come well within it
    fill(history.path, 300)
    record(history, room="a_b", outcome="service_error", error_code="FailedOperation.TaskExist")
    record(history, room="axb", outcome="not_sent")
    calls = spy_on_pages(monkeypatch)
    app = PanelApp(history)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        search = app.query_one("#history-filter", Input)
        search.focus()
        calls.clear()
        await pilot.press(*"room-12")
        wanted = {"room-12", *(f"room-12{i}" for i in range(10))}
        await until(lambda: {row[2] for row in shown(app)} == wanted, "the filtered rows", pilot)
        await settle(pilot)
        assert len(calls) <= 2  # debounced: not one query per key

        await pilot.press("escape")
        await settle(pilot)
        assert search.value == ""
        assert len(shown(app)) == PAGE_SIZE

        for text, rooms in [
            ("a_b", {"a_b"}),
            ("TASKEXIST", {"a_b"}),
            ("not sent", {"axb"}),
            ("not_sent", {"axb"}),
            (str(10**18 + 29), {"room-29"}),
        ]:
            search.focus()
            search.value = text
            await pilot.press("enter")  # applies at once and moves to the table
            await settle(pilot)
            assert {row[2] for row in shown(app)} == rooms, text
        assert app.query_one("#history-table", DataTable).has_focus

        app.query_one(HistoryPanel).refresh_rows()  # e.g. after a send: the filter stays
        await settle(pilot)
        assert [row[2] for row in shown(app)] == ["room-29"]


async def test_filtered_reads_run_off_the_loop_and_a_superseded_one_is_dropped(history, monkeypatch):
    fill(history.path, 300)
    reads: list[tuple[str, bool]] = []
    page = History.page

    def slow_for_one_text(
        self: History, limit: int = 100, *, before: tuple[float, int] | None = None, text: str = "", **scope
    ) -> list[Row]:
        reads.append((text, threading.current_thread() is threading.main_thread()))
        if text == "room-2":
            time.sleep(0.3)  # a long scan, still running when the operator types on
        return page(self, limit, before=before, text=text, **scope)

    monkeypatch.setattr(History, "page", slow_for_one_text)
    app = PanelApp(history)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        search = app.query_one("#history-filter", Input)
        for text in ("room-2", "room-13"):
            search.focus()
            search.value = text
            await pilot.press("enter")
        await settle(pilot)
        assert {row[2] for row in shown(app)} == {"room-13", *(f"room-13{i}" for i in range(10))}
    assert reads == [("", True), ("room-2", False), ("room-13", False)]


async def test_selected_and_load_requested_carry_the_row(history):
    older = record(history, room="older", mode=1, outcome="ok", task_id=BIG_TASK)
    newer = record(history, room="newer", mode=3, outcome="ok", task_id=5)
    app = PanelApp(history)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        panel = app.query_one(HistoryPanel)
        assert [(kind, row.id) for kind, row in app.messages] == [("selected", newer)]
        app.query_one("#history-table", DataTable).focus()
        await pilot.press("down")
        await pilot.press("enter")
        await pilot.press("l")
        await settle(pilot)
        assert [(kind, row.id) for kind, row in app.messages[1:]] == [
            ("selected", older),
            ("selected", older),
            ("load", older),
        ]
        loaded = app.messages[-1][1]
        assert loaded.params == {"BizId": 1400000001, "RoomId": "older", "RecordMode": 1}
        assert loaded.task_id == str(BIG_TASK)
        assert panel.selected_row == loaded

        app.query_one("#history-filter", Input).focus()
        await pilot.press("l")  # types into the filter, loads nothing
        await settle(pilot)
        assert app.query_one("#history-filter", Input).value == "l"
        assert [kind for kind, _ in app.messages].count("load") == 1


async def test_upsert_shows_a_new_pending_row_then_completes_it_in_place(history):
    record(history, room="before", outcome="ok", task_id=1)
    app = PanelApp(history)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        panel = app.query_one(HistoryPanel)
        row_id = record(history, room="live")
        panel.upsert(row_id)
        await settle(pilot)
        assert [row[2:5] for row in shown(app)] == [["live", "mixed", "pending"], ["before", "mixed", "ok"]]
        assert (
            panel.selected_row is not None and panel.selected_row.room_id == "before"
        )  # cursor kept its row
        assert len(app.messages) == 1  # and nothing new was announced

        history.finish(row_id, outcome="ok", duration_ms=9, task_id=BIG_TASK)
        panel.upsert(row_id)
        await settle(pilot)
        assert [row[2:] for row in shown(app)] == [
            ["live", "mixed", "ok", str(BIG_TASK)],
            ["before", "mixed", "ok", "1"],
        ]


async def test_history_survives_reopening(tmp_path):
    with History.in_dir(tmp_path) as first:
        record(first, room="kept", outcome="ok", task_id=BIG_TASK)
        record(first, room="also-kept", outcome="service_error", error_code="InvalidParameter")
    with History.in_dir(tmp_path) as again:
        app = PanelApp(again)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            rows = shown(app)
    assert [row[2:] for row in rows] == [
        ["also-kept", "mixed", "InvalidParameter", ""],
        ["kept", "mixed", "ok", str(BIG_TASK)],
    ]


async def test_outcome_colours_follow_the_theme(history):
    record(history, room="fine", outcome="ok", task_id=1)
    record(history, room="failed", outcome="service_error", error_code="InvalidParameter")
    app = PanelApp(history)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.query_one("#history-table", DataTable)

        def colours() -> list[str]:
            return [str(table.get_row_at(i)[4].style) for i in range(2)]

        before = colours()
        assert before[0] != before[1]  # an error does not look like a success
        app.theme = "gruvbox" if app.theme != "gruvbox" else "nord"
        await settle(pilot)
        await settle(pilot)
        assert colours() != before


async def test_a_damaged_row_says_so_in_its_outcome(history):
    """A row whose stored values another program broke shows what is left, marked, so that its
    empty cells are not taken for what was sent."""
    record(history, room="sound", outcome="ok", task_id=7)
    broken = record(history, room="broken", outcome="ok", task_id=8)
    db = sqlite3.connect(history.path)
    with db:
        db.execute("UPDATE requests SET params='{not json', task_id='abc' WHERE id=?", (broken,))
    db.close()
    app = PanelApp(history)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        outcomes = {row[2]: row[4] for row in shown(app)}
    assert outcomes["sound"] == "ok"
    assert outcomes["broken"] == "ok (damaged row)"


class EscapeApp(PanelApp):
    """An app whose own Escape says when a key got past the panel."""

    BINDINGS = [("escape", "escaped", "Back")]

    def __init__(self, history: History) -> None:
        super().__init__(history)
        self.escaped = 0

    def action_escaped(self) -> None:
        self.escaped += 1


async def test_down_from_the_filter_then_escape_clears_it_and_a_second_escape_passes_on(history):
    for room in ("alpha", "beta", "alpine"):
        record(history, room=room, outcome="ok", task_id=1)
    app = EscapeApp(history)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        table = app.query_one("#history-table", DataTable)
        await pilot.click("#history-table")
        await pilot.press("slash", *"alp")
        await until(lambda: table.row_count == 2, "the two rooms that match", pilot)
        await pilot.press("down")
        assert app.focused is table
        await pilot.press("down")  # and on within the rows
        assert table.cursor_row == 1
        await pilot.press("escape")
        await until(lambda: table.row_count == 3, "every row again", pilot)
        assert app.query_one("#history-filter", Input).value == ""
        assert app.escaped == 0 and app.focused is table
        await pilot.press("escape")  # no filter now: what Escape did before
        await until(lambda: app.escaped == 1, "the app's own Escape", pilot)
