"""The batch screen (Ctrl+N) as an operator uses it: Pilot against the emulator over loopback.

Rooms are pasted (or read from a file), checked line by line, started after a
confirmation, stopped mid-way, and stopped all at once afterwards; the emulator
counts what reached it. The snapshots are in
tests/tui/__snapshots__/test_tui_batch/; accept a deliberate change with

    .venv/bin/python -m pytest tests/tui/test_tui_batch.py --snapshot-update
"""

from __future__ import annotations

from collections import Counter

import pytest
from helpers import started, until
from textual.widgets import Input, TextArea

from gme_tui.emulator.faults import make_fault
from gme_tui.tui.screens.batch import BatchScreen, read_pasted
from gme_tui.tui.screens.dialogs import ConfirmScreen
from gme_tui.tui.screens.recordings import RecordingsScreen

# --- helpers -------------------------------------------------------------------------


async def open_batch(pilot) -> BatchScreen:
    """Ctrl+N on the main screen, as an operator opens it."""
    await until(lambda: pilot.app.screen.is_mounted, "the main screen", pilot)
    await pilot.press("ctrl+n")
    await until(lambda: isinstance(pilot.app.screen, BatchScreen), "the batch screen", pilot)
    screen = pilot.app.screen
    assert isinstance(screen, BatchScreen)
    return screen


async def paste(pilot, screen: BatchScreen, text: str, mode: str = "") -> None:
    """The rooms into the text area and the default mode typed; until the preview is drawn."""
    screen.checked = None  # what the last paste found: the wait is for this one's
    screen.query_one("#batch-mode", Input).value = mode
    screen.query_one("#batch-rooms", TextArea).text = text
    await until(lambda: screen.checked is not None and screen._timer is None, "the check", pilot)
    await pilot.pause()


def preview(screen: BatchScreen) -> list[dict[str, str]]:
    """The table as shown, row by row: column key -> plain text."""
    table = screen.table
    keys = [column.key.value for column in table.ordered_columns]
    return [
        dict(zip(keys, (str(cell) for cell in table.get_row_at(i)), strict=True))
        for i in range(table.row_count)
    ]


def message(screen: BatchScreen) -> str:
    return str(screen.query_one("#batch-message").render())


def rooms(n: int, prefix: str = "match") -> str:
    return "\n".join(f"{prefix}-{i:03}" for i in range(1, n + 1))


async def confirm(pilot) -> ConfirmScreen:
    await until(lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation", pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmScreen)
    return dialog


def said(dialog: ConfirmScreen) -> str:
    question = [dialog.question] if isinstance(dialog.question, str) else list(dialog.question)
    return "\n".join([dialog.title_text, *question])


async def start(pilot, screen: BatchScreen, text: str, mode: str = "2") -> None:
    """Paste, Ctrl+S, Enter on the confirmation; until the run has begun."""
    await paste(pilot, screen, text, mode)
    await pilot.press("ctrl+s")
    await confirm(pilot)
    await pilot.press("enter")
    await until(lambda: screen.running is not None or screen.summary is not None, "the run", pilot)


async def run_batch(pilot, screen: BatchScreen, text: str, mode: str = "2") -> None:
    """`start`, then until the run is over."""
    await start(pilot, screen, text, mode)
    await until(lambda: screen.summary is not None, "the end of the run", pilot, timeout=30)


def starts(emulator) -> Counter:
    return Counter(params["RoomId"] for name, params, _ in emulator.requests if name == "StartRecord")


# --- reading and checking ---------------------------------------------------------------


def test_pasted_lines_keep_their_numbers_and_are_taken_whole():
    rows, how = read_pasted('lobby\n\nstage, "2"\r\n room\n')
    assert how == "one RoomId per line"
    assert [(line, cells["RoomId"]) for line, cells in rows.rows] == [
        (1, "lobby"),
        (3, 'stage, "2"'),
        (4, " room"),
    ]
    rows, how = read_pasted("RoomId,RecordMode\nlobby,2\n")
    assert how == "pasted CSV" and rows.rows == ((2, {"RoomId": "lobby", "RecordMode": "2"}),)
    rows, how = read_pasted("- RoomId: lobby\n  RecordMode: 1\n")
    assert how == "pasted YAML" and rows.rows[0][1]["RoomId"] == "lobby"


async def test_three_pasted_rooms_show_three_checked_lines(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await paste(pilot, screen, "lobby\nstage\nstudio\n", mode="2")
        shown = preview(screen)
        assert [(row["line"], row["room"], row["mode"], row["check"]) for row in shown] == [
            ("1", "lobby", "mixed", "✓"),
            ("2", "stage", "mixed", "✓"),
            ("3", "studio", "mixed", "✓"),
        ]
        assert "3 rooms ready" in message(screen)
        assert screen.check_action("start", ()) is True
    assert emulator.requests == []


async def test_a_bad_line_is_marked_and_start_is_refused_with_nothing_sent(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await paste(pilot, screen, "RoomId,RecordMode\nlobby,2\n stage,2\nstudio,9\nlobby,1\n")
        shown = {row["line"]: row["check"] for row in preview(screen)}
        assert shown["2"] == "✓"
        assert shown["3"].startswith("✗ RoomId: must not start or end with blanks")
        assert shown["4"].startswith("✗ RecordMode: must be 1, 2, 3")
        assert shown["5"].startswith("✗ RoomId: 'lobby' is already at line 2")
        assert "3 problems: Start is off" in message(screen)
        assert screen.check_action("start", ()) is None  # dim in the key bar
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen  # no confirmation
        screen.action_start()  # from the palette too: refused, said
        await pilot.pause()
        assert app.screen is screen
        assert any("Fix the lines marked" in n.message for n in app._notifications)
    assert emulator.requests == []


async def test_a_file_is_read_by_its_path(make_app, emulator, tmp_path):
    source = tmp_path / "event.yaml"
    source.write_text("- RoomId: hall-1\n  RecordMode: 3\n- RoomId: hall-2\n  RecordMode: 1\n")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        screen.query_one("#batch-path", Input).focus()
        screen.query_one("#batch-path", Input).value = str(source)
        await pilot.press("enter")
        await until(lambda: screen.checked is not None, "the file checked", pilot)
        assert [(row["line"], row["room"], row["mode"]) for row in preview(screen)] == [
            ("1", "hall-1", "both"),
            ("3", "hall-2", "single"),
        ]
        assert f"YAML file {source}" in message(screen)
        screen.query_one("#batch-path", Input).value = str(tmp_path / "missing.csv")
        await pilot.press("enter")
        await pilot.pause()
        assert "Cannot read" in message(screen)
    assert emulator.requests == []


# --- running ---------------------------------------------------------------------------


async def test_twenty_rooms_start_once_each_and_show_in_the_recordings_view(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await paste(pilot, screen, rooms(20), mode="2")
        await pilot.press("ctrl+s")
        dialog = await confirm(pilot)
        words = said(dialog)
        assert "Start 20 rooms?" in words and "profile ops" in words and "127.0.0.1" in words
        await pilot.press("enter")
        await until(lambda: screen.summary is not None, "the end of the run", pilot, timeout=30)
        summary = screen.summary
        assert summary is not None and summary.counts["ok"] == 20 and not summary.stopped
        progress = screen.query_one("#batch-progress")
        assert (progress.progress, progress.total) == (20, 20)
        assert "ok 20 · failed 0 · unknown 0" in str(screen.query_one("#batch-counts").render())
        assert {row["state"] for row in preview(screen)} == {"ok"}
        assert all(row["task"].isdigit() for row in preview(screen))
        assert starts(emulator) == Counter(f"match-{i:03}" for i in range(1, 21))
        # The recordings view: every room of the batch, without a request of its own.
        asked = len(emulator.requests)
        await pilot.press("ctrl+r")
        await until(lambda: isinstance(app.screen, RecordingsScreen), "the recordings view", pilot)
        view = app.screen
        assert isinstance(view, RecordingsScreen)
        tasks = {str(s.task_id) for s in summary.states}
        await until(lambda: shown_tasks(view) == tasks, "the batch's 20 recordings", pilot)
        assert started(emulator) == 20 and len(emulator.requests) >= asked


def shown_tasks(view: RecordingsScreen) -> set[str | None]:
    return {recording.task_id for recording in view._shown.values()}


async def test_the_recordings_view_fills_while_the_batch_runs(make_app, emulator):
    """The run goes on behind the recordings view (the batch screen is kept), and each room
    answered reaches the view through the app as it comes."""
    # One room answers 5 s late, so that the run is surely going on when the view opens.
    emulator.faults.add(make_fault("delay", count=1, seconds=5.0, action="StartRecord"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await start(pilot, screen, rooms(45, "big"))
        await pilot.press("ctrl+r")
        await until(lambda: isinstance(app.screen, RecordingsScreen), "the recordings view", pilot)
        view = app.screen
        assert isinstance(view, RecordingsScreen)
        assert screen.running is not None  # the late room is still on its way
        await until(lambda: screen.summary is not None, "the end of the run", pilot, timeout=30)
        assert screen.summary is not None and screen.summary.counts["ok"] == 45
        tasks = {str(s.task_id) for s in screen.summary.states}
        await until(lambda: shown_tasks(view) == tasks, "the batch's 45 recordings", pilot)


async def test_stop_mid_way_keeps_the_rooms_sent_sends_no_more_and_resumes(make_app, emulator):
    # Every start answers a second late: the run lasts seconds, so the stop surely comes mid-way.
    emulator.faults.add(make_fault("delay", seconds=1.0, action="StartRecord"))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await start(pilot, screen, rooms(60, "long"), mode="1")
        # The first twenty go at once, the next only a second after their answers.
        await until(lambda: sum(s.state == "ok" for s in screen.states.values()) >= 5, "some rooms ok", pilot)
        await pilot.press("f2")
        await until(lambda: screen.summary is not None, "the run to stop", pilot, timeout=30)
        summary = screen.summary
        assert summary is not None and summary.stopped
        sent = starts(emulator)
        assert set(sent.values()) == {1}
        assert 5 <= sum(sent.values()) < 60
        assert summary.counts["ok"] == sum(sent.values())
        assert summary.counts["to send"] == 60 - sum(sent.values())
        assert "stopped" in message(screen)
        assert screen.query_one("#batch-rooms", TextArea).disabled is False
        # Resumed: only the rooms never sent go, each once.
        assert screen.check_action("resume", ()) is True
        await pilot.press("f4")
        await until(lambda: screen.summary is not None and not screen.summary.stopped, "the resume", pilot)
        assert screen.summary is not None and screen.summary.counts["ok"] == 60
        assert screen.summary.batch.id == summary.batch.id
        assert starts(emulator) == Counter(f"long-{i:03}" for i in range(1, 61))
        assert not screen.check_action("resume", ())  # left out of the key bar


async def test_unknown_rooms_are_shown_and_looked_up_on_resume_never_sent_twice(
    make_app, emulator, monkeypatch
):
    """A StartRecord cut short by the timeout may still be acted on (here 1.5 s late): the
    lookups (the resume's, and the app's follower's) wait until the service cannot be acting."""

    monkeypatch.setattr("gme_tui.tracking.SETTLE_AFTER", 2.0)
    emulator.faults.add(make_fault("delay", count=2, seconds=1.5, action="StartRecord"))
    app = make_app(timeout=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await run_batch(pilot, screen, rooms(8, "slow"))
        summary = screen.summary
        assert summary is not None and (summary.counts["unknown"], summary.counts["ok"]) == (2, 6)
        unknown = {row["room"] for row in preview(screen) if row["state"] == "unknown"}
        assert len(unknown) == 2
        assert "resumes it" in message(screen)
        emulator.faults.clear()
        await until(lambda: len(emulator.service.tasks()) == 8, "the delayed starts applied", pilot)
        await pilot.press("f4")
        await until(
            lambda: screen.summary is not None and screen.summary.counts["ok"] == 8, "the resume", pilot
        )
        assert set(starts(emulator).values()) == {1}  # the two were looked up, not sent again
        asked = [p["RoomId"] for name, p, _ in emulator.requests if name == "DescribeTaskInfo"]
        assert unknown <= set(asked)


async def test_stop_all_of_this_batch_stops_exactly_its_tasks(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_batch(pilot)
        await run_batch(pilot, screen, rooms(5, "show"))
        summary = screen.summary
        assert summary is not None
        tasks = {s.task_id for s in summary.states}
        assert len(tasks) == 5 and None not in tasks
        assert screen.check_action("stop_all", ()) is True
        await pilot.press("f3")
        dialog = await confirm(pilot)
        words = said(dialog)
        assert "Stop 5 recordings?" in words and "profile ops" in words and "127.0.0.1" in words
        await pilot.press("enter")
        await until(
            lambda: screen.summary is not None and screen.summary.batch.kind == "stop",
            "the stop batch",
            pilot,
        )
        stopped = [params["TaskId"] for name, params, _ in emulator.requests if name == "StopRecord"]
        assert sorted(stopped) == sorted(tasks)
        assert screen.summary.counts["ok"] == 5
        assert not screen.check_action("stop_all", ())  # once
        assert app.history is not None
        kinds = [(b.kind, b.source) for b in app.history.batches()]
        assert kinds[0] == ("stop", f"batch {summary.batch.id}") and kinds[1][0] == "start"


async def test_the_palette_offers_the_batch_screen(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await until(lambda: app.screen.is_mounted, "the main screen", pilot)
        names = [name for name, _help, _callback in app.screen.palette_commands()]
        assert "Start a batch of rooms" in names
        dict((n, c) for n, _h, c in app.screen.palette_commands())["Start a batch of rooms"]()
        await until(lambda: isinstance(app.screen, BatchScreen), "the batch screen", pilot)
        first = app.screen
        await pilot.press("escape")
        await pilot.press("ctrl+n")
        await until(lambda: isinstance(app.screen, BatchScreen), "the batch screen again", pilot)
        assert app.screen is first  # kept: a run goes on while the operator is elsewhere


# --- snapshots -------------------------------------------------------------------------


async def batch_preview(pilot) -> None:
    screen = await open_batch(pilot)
    for widget in screen.query(Input):
        widget.cursor_blink = False
    screen.query_one("#batch-rooms", TextArea).cursor_blink = False
    text = "RoomId,RecordMode,SubscribeUserIds\nlobby,2,\nstage,1,10001;10002\n bad,2,\nstudio,,\n"
    await paste(pilot, screen, text, mode="mixed")
    pilot.app.clear_notifications()  # the main screen's "no credentials"
    await pilot.pause()


@pytest.mark.parametrize("size", [pytest.param(s, id=f"{s[0]}x{s[1]}") for s in ((80, 24), (120, 40))])
def test_snapshot(snap_compare, snapshot_app, size):
    """A pasted CSV checked: the good lines with their mode and lists, the bad one marked."""
    assert snap_compare(snapshot_app(), terminal_size=size, run_before=batch_preview)
