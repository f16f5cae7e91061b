"""The history panel keeps to its scope: one endpoint's rows, the operator's own; `a` shows all.

Real parts: a History on disk with rows of two endpoints (and the console's own asks),
the panel in a Textual app driven by Pilot, every wait on a condition.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers import until
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input

from gme_tui import recordings
from gme_tui.history import History, Row
from gme_tui.tui.widgets import history_panel
from gme_tui.tui.widgets.history_panel import EVERYWHERE, HistoryPanel, endpoint_text

TCSS = Path(history_panel.__file__).with_suffix(".tcss")
HERE = "http://127.0.0.1:18001"
THERE = "https://gme.tencentcloudapi.com"
DEMO = "demo"


class ScopedApp(App[None]):
    CSS_PATH = TCSS

    def __init__(self, history: History, endpoint: str | None) -> None:
        super().__init__()
        self.history = history
        self.endpoint = endpoint
        self.selected: list[Row] = []

    def compose(self) -> ComposeResult:
        yield HistoryPanel(self.history, endpoint=self.endpoint, id="history")

    def on_history_panel_selected(self, message: HistoryPanel.Selected) -> None:
        self.selected.append(message.row)


def write(
    history: History,
    endpoint: str,
    room: str,
    *,
    profile: str = "ops",
    action: str = "StartRecord",
    purpose: str | None = None,
    task_id: int | None = None,
) -> int:
    """A finished row, as `calls.send` writes it: begun, then answered."""
    params: dict[str, object] = {"BizId": 1400000001, "RoomId": room, "RecordMode": 2}
    row_id = history.begin(
        action=action, profile=profile, endpoint=endpoint, region=None, params=params, purpose=purpose
    )
    history.finish(row_id, outcome="ok", duration_ms=3.0, task_id=task_id)
    return row_id


def table(app: App) -> DataTable:
    return app.query_one("#history-table", DataTable)


def headers(app: App) -> list[str]:
    return [str(column.label) for column in table(app).columns.values()]


def rooms(app: App) -> set[str]:
    shown = table(app)
    return {str(shown.get_row_at(i)[2]) for i in range(shown.row_count)}


def rows(app: App) -> list[list[str]]:
    shown = table(app)
    return [[str(cell) for cell in shown.get_row_at(i)] for i in range(shown.row_count)]


async def shows(pilot, wanted: set[str], what: str) -> None:
    await until(lambda: rooms(pilot.app) == wanted, what, pilot)


@pytest.fixture
def history(tmp_path: Path):
    with History.in_dir(tmp_path) as store:
        yield store


@pytest.fixture
def two_endpoints(history: History) -> History:
    """Rooms `here-*` at HERE (profile ops), `there-*` at THERE (profile prod), `demo-1` in the demo."""
    write(history, HERE, "here-1", task_id=11)
    write(history, THERE, "there-1", profile="prod", task_id=21)
    write(history, HERE, "here-2", task_id=12)
    write(history, DEMO, "demo-1", profile="default", task_id=31)
    write(history, THERE, "there-2", profile="prod", task_id=22)
    return history


def test_endpoint_text_is_the_host_and_port_or_the_name():
    assert endpoint_text(HERE) == "127.0.0.1:18001"
    assert endpoint_text(THERE) == "gme.tencentcloudapi.com"
    assert endpoint_text("https://user:pw@example.com:8443/path") == "example.com:8443"
    assert endpoint_text(DEMO) == "demo"


async def test_a_scoped_panel_shows_its_endpoint_and_a_shows_every_one(two_endpoints):
    app = ScopedApp(two_endpoints, HERE)
    async with app.run_test(size=(160, 30)) as pilot:
        panel = app.query_one(HistoryPanel)
        search = app.query_one("#history-filter", Input)
        await shows(pilot, {"here-1", "here-2"}, "this endpoint's rows")
        assert headers(app) == ["Time", "Action", "RoomId", "Mode", "Outcome", "TaskId"]
        assert not panel.showing_all
        assert search.placeholder.endswith("· 127.0.0.1:18001")
        assert "127.0.0.1:18001" in str(panel.border_title)

        table(app).focus()
        await pilot.press("a")
        await shows(pilot, {"here-1", "here-2", "there-1", "there-2", "demo-1"}, "every endpoint's rows")
        assert panel.showing_all
        assert headers(app) == [
            "Time",
            "Action",
            "RoomId",
            "Mode",
            "Outcome",
            "TaskId",
            "Endpoint",
            "Profile",
        ]
        where = {row[2]: (row[5], row[6], row[7]) for row in rows(app)}
        assert where == {
            "here-1": ("11", "127.0.0.1:18001", "ops"),
            "here-2": ("12", "127.0.0.1:18001", "ops"),
            "there-1": ("21", "gme.tencentcloudapi.com", "prod"),
            "there-2": ("22", "gme.tencentcloudapi.com", "prod"),
            "demo-1": ("31", "demo", "default"),
        }
        assert [row[2] for row in rows(app)] == [
            "there-2",
            "demo-1",
            "here-2",
            "there-1",
            "here-1",
        ]  # newest first
        assert search.placeholder.endswith(f"· {EVERYWHERE}")
        assert EVERYWHERE in str(panel.border_title)

        await pilot.press("a")
        await shows(pilot, {"here-1", "here-2"}, "this endpoint's rows again")
        assert not panel.showing_all
        assert len(headers(app)) == 6
        assert search.placeholder.endswith("· 127.0.0.1:18001")


async def test_the_demo_scope_is_named_demo(two_endpoints):
    app = ScopedApp(two_endpoints, DEMO)
    async with app.run_test(size=(120, 30)) as pilot:
        await shows(pilot, {"demo-1"}, "the demo's rows")
        assert app.query_one("#history-filter", Input).placeholder.endswith("· demo")


async def test_the_consoles_own_asks_are_hidden_in_scope_and_shown_with_a(history):
    write(history, HERE, "mine", task_id=1)
    write(history, HERE, "checked", action="DescribeTaskInfo", purpose=recordings.CHECK)
    write(history, HERE, "refreshed", action="DescribeRecordInfo", purpose=recordings.REFRESH)
    app = ScopedApp(history, HERE)
    async with app.run_test(size=(160, 30)) as pilot:
        await shows(pilot, {"mine"}, "only the operator's own row")
        # never the credentials check first
        await until(lambda: [row.room_id for row in app.selected] == ["mine"], "the own row announced", pilot)

        table(app).focus()
        await pilot.press("a")
        await shows(pilot, {"mine", "checked", "refreshed"}, "every row")
        await pilot.press("a")
        await shows(pilot, {"mine"}, "the operator's own again")


async def test_with_no_endpoint_every_endpoint_but_only_the_operators_own(two_endpoints):
    write(two_endpoints, HERE, "checked", action="DescribeTaskInfo", purpose=recordings.CHECK)
    app = ScopedApp(two_endpoints, None)
    async with app.run_test(size=(120, 30)) as pilot:
        await shows(pilot, {"here-1", "here-2", "there-1", "there-2", "demo-1"}, "every endpoint's own rows")
        assert len(headers(app)) == 6
        assert app.query_one("#history-filter", Input).placeholder == history_panel.FILTER_HINT


async def test_upsert_keeps_to_the_scope(two_endpoints):
    history = two_endpoints
    app = ScopedApp(history, HERE)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.query_one(HistoryPanel)
        await shows(pilot, {"here-1", "here-2"}, "this endpoint's rows")
        before = rows(app)

        for row_id in (
            write(history, THERE, "there-live", profile="prod"),
            write(history, DEMO, "demo-live", profile="default"),
            write(history, HERE, "check-live", action="DescribeTaskInfo", purpose=recordings.CHECK),
            write(history, HERE, "refresh-live", action="DescribeRecordInfo", purpose=recordings.REFRESH),
        ):
            panel.upsert(row_id)
        await pilot.pause()
        assert rows(app) == before  # nothing of another endpoint, nor the console's own asks

        mine = write(history, HERE, "here-live")
        panel.upsert(mine)
        await shows(pilot, {"here-1", "here-2", "here-live"}, "this endpoint's new row")
        assert rows(app)[0][2] == "here-live"

        table(app).focus()
        await pilot.press("a")
        await until(lambda: "there-live" in rooms(app), "every row once all are shown", pilot)
        late = write(history, THERE, "there-later", profile="prod")
        panel.upsert(late)
        await until(
            lambda: "there-later" in rooms(app), "another endpoint's upsert once all are shown", pilot
        )
        assert {row[2]: row[6] for row in rows(app)}["there-later"] == "gme.tencentcloudapi.com"


async def test_the_filter_keeps_to_the_scope(history, monkeypatch):
    monkeypatch.setattr(history_panel, "DEBOUNCE", 0.0)
    write(history, HERE, "lobby-here")
    write(history, THERE, "lobby-there", profile="prod")
    write(history, HERE, "lobby-check", action="DescribeTaskInfo", purpose=recordings.CHECK)
    write(history, HERE, "hall-here")
    app = ScopedApp(history, HERE)
    async with app.run_test(size=(160, 30)) as pilot:
        await shows(pilot, {"lobby-here", "hall-here"}, "this endpoint's own rows")
        search = app.query_one("#history-filter", Input)
        search.focus()
        await pilot.press(*"lobby", "enter")  # "a" is not in it; Enter moves to the table
        await shows(pilot, {"lobby-here"}, "the filter within the scope")

        await pilot.press("a")
        await shows(pilot, {"lobby-here", "lobby-there", "lobby-check"}, "the filter over every row")
        await pilot.press("a")
        await shows(pilot, {"lobby-here"}, "the filter within the scope again")
        assert search.value == "lobby"


async def test_a_typed_into_the_filter_is_a_letter_not_the_toggle(two_endpoints):
    app = ScopedApp(two_endpoints, HERE)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.query_one(HistoryPanel)
        await shows(pilot, {"here-1", "here-2"}, "this endpoint's rows")
        app.query_one("#history-filter", Input).focus()
        await pilot.press("h", "a")
        await until(lambda: app.query_one("#history-filter", Input).value == "ha", "the typed text", pilot)
        assert not panel.showing_all


async def test_set_endpoint_re_aims_the_panel(two_endpoints):
    history = two_endpoints
    app = ScopedApp(history, HERE)
    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.query_one(HistoryPanel)
        search = app.query_one("#history-filter", Input)
        await shows(pilot, {"here-1", "here-2"}, "this endpoint's rows")

        panel.set_endpoint(THERE)
        await shows(pilot, {"there-1", "there-2"}, "the other endpoint's rows")
        assert panel.endpoint == THERE
        assert search.placeholder.endswith("· gme.tencentcloudapi.com")
        await until(lambda: app.selected[-1].room_id == "there-2", "its newest row announced", pilot)
        panel.upsert(write(history, HERE, "here-late"))
        await pilot.pause()
        assert rooms(app) == {"there-1", "there-2"}

        table(app).focus()
        await pilot.press("a")
        await until(lambda: panel.showing_all and "here-late" in rooms(app), "every row", pilot)
        panel.set_endpoint(DEMO)  # still every row, aimed at the demo for when `a` is pressed again
        await pilot.press("a")
        await shows(pilot, {"demo-1"}, "the demo's rows")


async def test_a_row_a_reconcile_settled_shows_its_outcome(history):
    started = write(history, HERE, "settled")
    db = sqlite3.connect(history.path)
    with db:
        db.execute(
            "UPDATE requests SET outcome='not_started', note=? WHERE id=?",
            ("reconciled: DescribeTaskInfo (row 9) found no task of it", started),
        )
    db.close()
    app = ScopedApp(history, HERE)
    async with app.run_test(size=(120, 30)) as pilot:
        await shows(pilot, {"settled"}, "the settled row")
        assert rows(app)[0][4] == "not started"
        await until(lambda: app.selected, "the row announced", pilot)
        assert app.selected[0].note == "reconciled: DescribeTaskInfo (row 9) found no task of it"
