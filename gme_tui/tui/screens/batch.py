"""The batch screen (Ctrl+N, or "Start a batch of rooms" in the palette): many rooms at once.

The rooms come from a CSV or YAML file (its path, Enter reads it) or are pasted:
CSV with a RoomId header, YAML, or one RoomId per line with the default mode
beside. Every line is checked as it changes by `batch.source`, the one home of the
rules (`api.fields`), and the preview shows each line with its errors; Start stays
off while there is one. A confirmation names the count, the profile and the
endpoint; then the batch and its whole plan are written to the history and
`batch.run.Runner` sends the rooms at the service's full rate, as `gme-tui batch
start` does. Each room's row in the table moves as its answer comes; F2 stops
taking rooms (those on their way finish, those sent are kept). Afterwards "stop all
of this batch" is one action: a stop batch of the TaskIds the batch recorded.

The screen is installed once and kept (`MainScreen.action_batch`), so that leaving
it never cancels a run, and coming back shows it. Every answer already updates the
history's recordings table; the rooms answered are handed to the app
(`recordings_moved`) so the recordings view shows them at once. Everything read
from a file, a paste or the store is drawn as plain text through `clean`.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, ProgressBar, Static, TextArea

from ...api import fields
from ...batch import source as batch_source
from ...batch.run import (
    FAILED,
    OK,
    TO_SEND,
    UNKNOWN,
    RoomState,
    Runner,
    Summary,
    elsewhere,
    new_stop_batch,
    planned_fields,
    room_states,
    stop_plan,
)
from ...safe_text import clean, failure_text, marked
from ...words import mode_text
from ..shown import MarkedInput, content, lines, markup
from ..widgets.key_bar import KeyBar
from .dialogs import ConfirmScreen

if TYPE_CHECKING:
    from textual.worker import Worker

    from ...batch.record import Batch as BatchRecord
    from ...context import Context
    from ..app import GmeApp

#: seconds of quiet after an edit before the rooms are checked again (a paste is one edit)
CHECK_AFTER = 0.15
#: cells a room and the lists take in the tables, the rest an ellipsis
ROOM_WIDTH = 24
LISTS_WIDTH = 24
NOTE_WIDTH = 60
#: problems the message line names in full; the rest are in the table
NAMED = 1
EMPTY = "No rooms yet: paste them above, or name a file and press Enter."
#: the name a pasted source is recorded under
PASTED = "pasted in the console"

#: state -> the component class that colours it (rules in batch.tcss)
_STATE_CLASS = {
    OK: "batch--ok",
    FAILED: "batch--failed",
    UNKNOWN: "batch--unknown",
    TO_SEND: "batch--waiting",
}
_BAD = "batch--bad"
_LINE_END = re.compile(r"\r\n|\r|\n")

PREVIEW_COLUMNS = (
    ("Line", "line"),
    ("Room", "room"),
    ("Mode", "mode"),
    ("Lists", "lists"),
    ("Check", "check"),
)
RUN_COLUMNS = (("Line", "line"), ("Room", "room"), ("State", "state"), ("TaskId", "task"), ("Note", "note"))


# --- reading what was pasted (no Textual) --------------------------------------------


def read_pasted(text: str) -> tuple[batch_source.Rows, str]:
    """Pasted rooms, and how they were read: a CSV with its header or YAML read as a file is (`read_source`), else one
    RoomId per line, each line taken whole (a comma or a quote in it included) and numbered
    as the text area numbers it. The lines become a CSV of one quoted column, so the same
    bounds apply (size, NUL, count)."""
    first = next((line for line in _LINE_END.split(text) if line.strip()), "")
    head = first.lstrip("\ufeff").lstrip()
    if head[:1] in ("-", "[", "#", "%") or fields.ROOM_ID in (cell.strip() for cell in head.split(",")):
        rows = batch_source.read_source(text, "-")
        return rows, f"pasted {rows.format.upper()}"
    quoted = "\n".join('"' + line.replace('"', '""') + '"' for line in _LINE_END.split(text))
    rows = batch_source.read_source(f"{fields.ROOM_ID}\n{quoted}", "pasted.csv")

    def back(line: int | None) -> int | None:  # the header this adds is line 1
        return line - 1 if line is not None and line > 1 else line

    shifted = batch_source.Rows(
        "csv",
        tuple((line - 1, cells) for line, cells in rows.rows),
        tuple(replace(problem, line=back(problem.line)) for problem in rows.problems),
    )
    return shifted, "one RoomId per line"


def _cell(text: object, width: int | None = None, style: Style | str = "") -> Text:
    shown = Text(clean(text, one_line=True), style=style, end="", no_wrap=True)
    if width is not None:
        shown.truncate(width, overflow="ellipsis")
    return shown


def _mode_shown(text: str) -> str:
    """A mode as `fields` reads it (`mixed`), or as written where it cannot (its error says why)."""
    try:
        return mode_text(fields.parse_record_mode(text))
    except fields.FieldError:
        return text


def _lists_text(allow: object, block: object) -> str:
    parts = []
    if allow:
        parts.append("allow " + (" ".join(allow) if isinstance(allow, tuple | list) else str(allow)))
    if block:
        parts.append("block " + (" ".join(block) if isinstance(block, tuple | list) else str(block)))
    return "; ".join(parts)


def counts_text(seen: dict[str, int], rate: float | None = None) -> str:
    said = f"ok {seen.get(OK, 0)} · failed {seen.get(FAILED, 0)} · unknown {seen.get(UNKNOWN, 0)}"
    return said + (f" · {rate:.1f}/s" if rate is not None else "")


def summary_text(summary: Summary) -> list[str]:
    """What the run came to, for the line above the table: counts, time and rate, what next."""
    batch, seen = summary.batch, summary.counts
    said = [
        f"Batch {batch.id} ({batch.kind}) {'stopped' if summary.stopped else 'done'}: "
        f"{counts_text(seen)} · not sent {seen[TO_SEND]} · {summary.sent} requests in "
        f"{summary.elapsed:.1f} s, {summary.rate:.1f}/s · RequestLimitExceeded {summary.limited}"
    ]
    if summary.failed:
        first = summary.failed[0]
        said.append(f"line {first.line} {first.room}: {first.code or first.outcome}: {first.next_step or ''}")
    return said


def _elsewhere(batch: BatchRecord, config: Context) -> str | None:
    """`batch.run.elsewhere` from the console's profile, in its words (None: it may act here)."""
    refused = elsewhere(batch, config.scope, config.profile, config.region)
    return (
        None
        if refused is None
        else f"{refused[0].upper()}{refused[1:]}: switch back to that profile to act on it."
    )


# --- widgets ---------------------------------------------------------------------------


class RoomsText(TextArea):
    """The pasted rooms, drawn `marked`: a paste may hold anything."""

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        line.plain = marked(line.plain)  # as long as before: nothing moves
        return line


class BatchTable(DataTable):
    """The preview, then the run; state colours as component classes, so themes recolour them."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | {*_STATE_CLASS.values(), _BAD}

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def style_of(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)


# --- the screen -------------------------------------------------------------------------


class BatchScreen(Screen[None]):
    app: GmeApp

    CSS_PATH = "batch.tcss"
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", priority=True, id="batch.start"),
        Binding("f2", "stop_run", "Stop", priority=True, id="batch.stop"),
        Binding("f3", "stop_all", "Stop all", priority=True, id="batch.stop_all"),
        Binding("f4", "resume", "Resume", priority=True, id="batch.resume"),
        Binding("ctrl+r", "recordings", "Recordings", priority=True, id="batch.recordings", show=False),
        Binding("escape", "back", "Back", id="batch.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: the rooms as last checked: ready to start, or why not
        self.checked: batch_source.Batch | batch_source.Rejected | None = None
        #: the file read (its name and bytes); None: the rooms are the pasted ones
        self._file: tuple[str, bytes] | None = None
        self._timer: object = None
        #: how the rooms were read, in words
        self._how = ""
        #: the run: its batch, stop event and runner while it goes
        self.running: BatchRecord | None = None
        self._stop: asyncio.Event | None = None
        self._runner: Runner | None = None
        self._started_at = 0.0
        self.states: dict[str, RoomState] = {}
        self.summary: Summary | None = None
        #: the last start batch run here, what "stop all of this batch" stops; and whether it was
        self.last_start: BatchRecord | None = None
        self._stopped_all = False

    # --- building -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="batch-where")
        with Horizontal(id="batch-inputs"):
            yield MarkedInput(self.app.default_biz_id, id="batch-biz")
            yield MarkedInput(placeholder="1, 2 or 3", id="batch-mode")
            yield MarkedInput(placeholder="a .csv or .yaml file; Enter reads it", id="batch-path")
        yield RoomsText(
            id="batch-rooms",
            placeholder="Paste rooms: CSV with a RoomId header, YAML, or one RoomId per line",
        )
        yield Static(id="batch-message")
        yield BatchTable(id="batch-table")
        with Horizontal(id="batch-progress-row"):
            yield ProgressBar(id="batch-progress", show_eta=True)
            yield Static(id="batch-counts")
        yield KeyBar()

    def on_mount(self) -> None:
        for widget_id, title in (
            ("#batch-biz", "BizId"),
            ("#batch-mode", "Mode"),
            ("#batch-path", "File"),
            ("#batch-rooms", "Rooms"),
        ):
            self.query_one(widget_id).border_title = title
        self._preview_columns()
        self._show_where()
        self._say([EMPTY])
        self.query_one("#batch-progress-row").display = False
        self.query_one("#batch-rooms").focus()

    def on_screen_resume(self) -> None:
        self._show_where()  # the profile may have changed meanwhile
        self.refresh_bindings()

    @property
    def table(self) -> BatchTable:
        return self.query_one("#batch-table", BatchTable)

    def _show_where(self) -> None:
        config = self.app.config
        self.query_one("#batch-where", Static).update(content(f"Batch of rooms · To {config.destination}"))

    def _say(self, said: list[str], bad: bool = False) -> None:
        message = self.query_one("#batch-message", Static)
        message.update(lines(said))
        message.set_class(bad, "-bad")

    # --- checking -------------------------------------------------------------------

    @on(TextArea.Changed, "#batch-rooms")
    def _rooms_changed(self) -> None:
        self._file = None  # the pasted rooms are the source now
        self._check_soon()

    @on(Input.Changed, "#batch-mode")
    @on(Input.Changed, "#batch-biz")
    def _defaults_changed(self) -> None:
        self._check_soon()

    @on(Input.Submitted, "#batch-path")
    def _read_file(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not name:
            return
        try:
            with open(os.path.expanduser(name), "rb") as file:
                data = file.read(batch_source.MAX_SOURCE_BYTES + 1)
        except OSError as error:
            self._say([f"Cannot read {name}: {error.strerror or error}"], bad=True)
            self.app.bell()
            return
        self._file = (name, data)
        self._check()

    def _check_soon(self) -> None:
        if self.running is not None:
            return
        timer = self._timer
        if timer is not None:
            timer.stop()  # type: ignore[attr-defined]
        self._timer = self.set_timer(CHECK_AFTER, self._check)

    def _check(self) -> None:
        """The rooms checked again, and the preview drawn from what was found."""
        self._timer = None
        if self.running is not None:
            return
        if self._file is not None:
            name, data = self._file
            rows = batch_source.read_source(data, name)
            self._how = f"{rows.format.upper()} file {name}"
        else:
            text = self.query_one("#batch-rooms", TextArea).text
            if not text.strip():
                self.checked = None
                self.table.clear()
                self._say([EMPTY])
                self.refresh_bindings()
                return
            rows, self._how = read_pasted(text)
        defaults = batch_source.Defaults(
            mode=self.query_one("#batch-mode", Input).value,
            relaxed=self.app.settings.relaxed_user_ids,
        )
        self.checked = batch_source.start_batch(rows, defaults)
        self._preview(rows, self.checked, defaults.mode)
        self.refresh_bindings()

    def _biz(self) -> int | str:
        """The BizId, or what is wrong with it."""
        try:
            return fields.parse_biz_id(self.query_one("#batch-biz", Input).value)
        except fields.FieldError as error:
            return f"{error.field}: {error.rule}"

    def _preview_columns(self) -> None:
        table = self.table
        table.clear(columns=True)
        for label, key in PREVIEW_COLUMNS:
            table.add_column(label, key=key)

    def _preview(
        self, rows: batch_source.Rows, checked: batch_source.Batch | batch_source.Rejected, mode: str
    ) -> None:
        self._preview_columns()
        table = self.table
        bad = table.style_of(_BAD)
        good = table.style_of(_STATE_CLASS[OK])
        problems: dict[int | None, list[batch_source.Problem]] = {}
        if isinstance(checked, batch_source.Rejected):
            for problem in checked.errors:
                problems.setdefault(problem.line, []).append(problem)
        rooms = {room.line: room for room in checked.rooms} if isinstance(checked, batch_source.Batch) else {}
        seen = set()
        entries: list[tuple[int, list[Text]]] = []
        for line, cells in rows.rows:
            seen.add(line)
            room = rooms.get(line)
            if room is not None:
                sub = room.subscription
                shown_mode, lists = mode_text(room.mode), _lists_text(sub and sub.allow, sub and sub.block)
            else:
                shown_mode = _mode_shown(cells.get(fields.RECORD_MODE, "").strip() or mode.strip())
                lists = _lists_text(cells.get(fields.ALLOW, "").strip(), cells.get(fields.BLOCK, "").strip())
            room_id = cells.get(fields.ROOM_ID, "")
            entries.append(
                (
                    line,
                    [_cell(line), _cell(room_id, ROOM_WIDTH), _cell(shown_mode), _cell(lists, LISTS_WIDTH)],
                )
            )
        for where in problems:  # a line that gave no row (unreadable, not a mapping)
            if where is not None and where not in seen:
                entries.append((where, [_cell(where), _cell(""), _cell(""), _cell("")]))
        for line, shown in entries:
            wrong = problems.get(line, [])
            said = "; ".join(f"{p.field}: {p.rule}" if p.field else p.rule for p in wrong)
            shown.append(_cell("✗ " + said, style=bad) if wrong else _cell("✓", style=good))
        entries.sort(key=lambda entry: entry[0])
        table.add_rows(cells for _line, cells in entries)
        ready = isinstance(checked, batch_source.Batch) and isinstance(self._biz(), int)
        self._say(self._verdict(rows, checked), bad=not ready)

    def _verdict(
        self, rows: batch_source.Rows, checked: batch_source.Batch | batch_source.Rejected
    ) -> list[str]:
        count = len(rows.rows)
        read = f"{count} {'line' if count == 1 else 'lines'} read ({self._how})"
        biz = self._biz()
        said = [biz] if isinstance(biz, str) else []
        if isinstance(checked, batch_source.Rejected):
            total = checked.total
            return [
                f"{read} · {total} {'problem' if total == 1 else 'problems'}: Start is off until "
                f"{'it is' if total == 1 else 'they are'} fixed",
                *said,
                *(str(problem) for problem in checked.errors[:NAMED]),
            ]
        if said:
            return [
                f"{read} · {len(checked.rooms)} rooms checked: Start is off until the BizId is right",
                *said,
            ]
        key = self._key("batch.start")
        said = [f"{read} · {len(checked.rooms)} rooms ready: {key} starts them (after a confirmation)"]
        return said + [f"warning: {warning}" for warning in checked.warnings[:NAMED]]

    # --- starting --------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The key bar shows what can act now: Start dim while the rooms are not ready, the
        run's keys only where they can act (so the bar holds one line at 80 columns)."""
        if action == "start":
            ready = isinstance(self.checked, batch_source.Batch) and isinstance(self._biz(), int)
            return True if self.running is None and ready else None
        if action == "stop_run":
            return self.running is not None and not self._stopping
        if action == "stop_all":
            return self._can_stop_all()
        if action == "resume":
            return self._to_resume() is not None
        return True

    @property
    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _cannot_send(self) -> str | None:
        app = self.app
        if self.running is not None:
            return f"A batch is running; wait for it, or stop it ({self._key('batch.stop')})."
        return app.cannot_send()

    def _refuse(self, reason: str, title: str = "Not started") -> None:
        self.notify(reason, title=title, severity="warning")
        self.app.bell()

    def action_start(self) -> None:
        checked = self.checked
        if not isinstance(checked, batch_source.Batch):
            self._refuse("Fix the lines marked in the preview first: nothing is sent while one is wrong.")
            return
        biz = self._biz()
        if isinstance(biz, str):
            self._refuse(biz)
            return
        cannot = self._cannot_send()
        if cannot:
            self._refuse(cannot)
            return
        count = len(checked.rooms)
        question = [
            f"Start recording in {count} {'room' if count == 1 else 'rooms'}: one StartRecord each, "
            f"BizId {biz}, at the service's full rate.",
            *[f"warning: {warning}" for warning in checked.warnings[:3]],
            f"To {self.app.config.destination}",
        ]
        self.app.push_screen(
            ConfirmScreen(f"Start {count} {'room' if count == 1 else 'rooms'}?", question),
            lambda yes: self._start(checked, biz) if yes else None,
        )

    def _start(self, checked: batch_source.Batch, biz: int) -> None:
        cannot = self._cannot_send()  # the credentials or the history may have gone meanwhile
        if cannot:
            self._refuse(cannot)
            return
        history, config = self.app.history, self.app.config
        assert history is not None, "_cannot_send refuses without it"
        plan = [
            (room.line, room.room, planned_fields(room.mode, room.subscription)) for room in checked.rooms
        ]
        source = self._file[0] if self._file else PASTED
        try:
            batch_id = history.new_batch(
                kind="start", source=source, endpoint=config.scope, profile=config.profile,
                region=config.region, biz_id=biz, rooms=plan, relaxed=self.app.settings.relaxed_user_ids,
            )  # fmt: skip
            batch = history.batch(batch_id)
        except sqlite3.Error as error:
            self._refuse(f"The batch could not be written to the history ({error}); nothing was sent.")
            return
        assert batch is not None, "just written"
        self.last_start, self._stopped_all = batch, False
        self._go(batch)

    # --- the run ---------------------------------------------------------------------

    def _go(self, batch: BatchRecord) -> None:
        history = self.app.history
        assert history is not None
        self.running, self.summary = batch, None
        self._stop = asyncio.Event()
        self._started_at = time.monotonic()
        states = room_states(history, batch)
        self.states = {state.room: state for state in states}
        table = self.table
        table.clear(columns=True)
        for label, key in RUN_COLUMNS:
            table.add_column(label, key=key)
        for state in states:
            table.add_row(*self._run_cells(state), key=state.room)
        progress = self.query_one("#batch-progress", ProgressBar)
        progress.update(total=len(states), progress=0)
        self.query_one("#batch-progress-row").display = True
        for widget in self.query("#batch-inputs Input, #batch-rooms"):
            widget.disabled = True
        self._show_progress()
        verb = "Starting" if batch.kind == "start" else "Stopping"
        self._say(
            [
                f"{verb} batch {batch.id}: {len(states)} rooms · {self._key('batch.stop')} stops taking rooms"
                " (those sent are kept)"
            ]
        )
        self.refresh_bindings()
        self._run(batch)

    def _run_cells(self, state: RoomState) -> list[Text]:
        table = self.table
        style = table.style_of(_STATE_CLASS.get(state.state, _STATE_CLASS[TO_SEND]))
        note = " ".join(part for part in (state.code or "", state.note, state.next_step or "") if part)
        return [
            _cell(state.line),
            _cell(state.room, ROOM_WIDTH),
            _cell(state.state, style=style),
            _cell(state.task_id if state.task_id is not None else ""),  # an int: every digit exact
            _cell(note, NOTE_WIDTH),
        ]

    @work(group="batch", exit_on_error=False, name="Batch")
    async def _run(self, batch: BatchRecord) -> None:
        app = self.app
        assert app.history is not None and app.client is not None, "_cannot_send refuses without them"
        self._runner = Runner(
            app.client, app.history, batch, on_room=self._room, on_wait=self._wait, stop=self._stop
        )
        summary = await self._runner.run()
        self._ended(summary)

    def _room(self, state: RoomState) -> None:
        """The runner's word on one room (on the app's loop): its row, the counts, and the
        recordings view (the answer updated the store; the view is told at once)."""
        self._update_row(state)
        self._show_progress()
        self._tell_recordings(state)

    def _update_row(self, state: RoomState) -> None:
        if self.states.get(state.room) == state:
            return
        self.states[state.room] = state
        if state.room not in self.table.rows:
            return  # the table was rebuilt since: the store has it
        for (_, key), cell in zip(RUN_COLUMNS, self._run_cells(state), strict=True):
            self.table.update_cell(state.room, key, cell, update_width=True)

    def _tell_recordings(self, state: RoomState) -> None:
        from ...recordings import Change

        history, batch = self.app.history, self.running
        if state.task_id is None or history is None or batch is None:
            return
        try:
            found = history.recordings_of_task(state.task_id)
        except sqlite3.Error:
            return
        changes = [
            Change(recording, recording.state)  # made known, not moved: no "done" notice
            for recording in found
            if (recording.endpoint, recording.profile) == (batch.endpoint, batch.profile)
        ]
        if changes:
            self.app.recordings_moved(changes)

    def _wait(self, words: str) -> None:
        self._say([words])

    def _show_progress(self) -> None:
        seen = dict.fromkeys(_STATE_CLASS, 0)
        for state in self.states.values():
            seen[state.state] = seen.get(state.state, 0) + 1
        done = len(self.states) - seen[TO_SEND]
        self.query_one("#batch-progress", ProgressBar).update(progress=done)
        runner = self._runner
        elapsed = time.monotonic() - self._started_at
        rate = runner.sent / elapsed if runner is not None and elapsed > 0 and self.running else None
        self.query_one("#batch-counts", Static).update(content(counts_text(seen, rate)))

    def _ended(self, summary: Summary | None, cause: str | None = None) -> None:
        batch = self.running
        self.running, self._runner = None, None
        for widget in self.query("#batch-inputs Input, #batch-rooms"):
            widget.disabled = False
        history = self.app.history
        if summary is None and batch is not None and history is not None:
            try:
                summary = Summary(
                    batch, room_states(history, batch), time.monotonic() - self._started_at, stopped=True
                )
            except sqlite3.Error:
                summary = None
        self.summary = summary
        if summary is not None:
            for state in summary.states:
                self._update_row(state)
        said = summary_text(summary) if summary is not None else []
        if cause:
            said.insert(0, f"The run ended early: {cause}. What was sent is in the history.")
        if summary is not None and summary.batch.kind == "stop":
            self._stopped_all = True
        if self._to_resume() is not None:
            said.append(f"{self._key('batch.resume')} resumes it: only the rooms not ok yet are sent")
        if self._can_stop_all():
            said.append(
                f"{self._key('batch.stop_all')} stops every recording this batch started (after a confirmation)"
            )
        self._say(said, bad=bool(cause) or (summary is not None and summary.counts[OK] < len(summary.states)))
        self._show_progress()
        self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.on_worker_state_changed(event)  # to the app's one sink: the message does not bubble

    def worker_ended(self, worker: Worker) -> None:
        """The run ended by an exception or a cancel (the app's sink said so): the screen is
        free again, and shows where each room stands in the store."""
        from textual.worker import WorkerState

        if worker.group == "batch" and self.running is not None:
            self._ended(
                None, failure_text(worker.error) if worker.state is WorkerState.ERROR else "cancelled"
            )

    def action_stop_run(self) -> None:
        if self.running is None or self._stop is None:
            self._refuse("No batch is running.", "Nothing to stop")
            return
        self._stop.set()
        self._say(["Stopping: no more rooms are sent; those on their way finish, those sent are kept."])
        self.refresh_bindings()

    def _to_resume(self) -> BatchRecord | None:
        """The last start batch, if a room of it is not ok yet and nothing runs (None: else)."""
        batch, summary = self.last_start, self.summary
        if batch is None or self.running is not None or self._stopped_all or summary is None:
            return None
        if summary.batch.id != batch.id or summary.counts[OK] == len(summary.states):
            return None
        return batch

    def action_resume(self) -> None:
        """The batch again from the store, as `batch start --resume` does: rooms ok are left
        alone, an unknown one is looked up before anything is sent, the rest are sent."""
        batch = self._to_resume()
        cannot = self._cannot_send()
        if batch is None or cannot:
            self._refuse(cannot or "No batch here has rooms left to start.", "Not resumed")
            return
        refused = _elsewhere(batch, self.app.config)
        if refused is not None:
            self._refuse(refused, "Not resumed")
            return
        self._go(batch)

    # --- stop all of this batch --------------------------------------------------------

    def _can_stop_all(self) -> bool:
        """From the last run's summary, in memory: the key bar asks on every refresh."""
        summary, batch = self.summary, self.last_start
        if summary is None or batch is None or summary.batch.id != batch.id:
            return False
        recorded = any(s.state == OK and s.task_id is not None for s in summary.states)
        return recorded and self.running is None and not self._stopped_all

    def _stop_all_plan(self) -> list[tuple[int, str, dict]]:
        """The TaskIds the last start batch recorded, as a stop batch's plan (empty: none, or
        a run is going, or they were stopped)."""
        batch, history = self.last_start, self.app.history
        if batch is None or history is None or self.running is not None or self._stopped_all:
            return []
        try:
            return stop_plan(history, batch)
        except sqlite3.Error:
            return []

    def action_stop_all(self) -> None:
        title = "Not stopped"
        batch, plan = self.last_start, self._stop_all_plan()
        if batch is None or not plan:
            self._refuse("No batch here has recorded a task to stop.", title)
            return
        config = self.app.config
        refused = _elsewhere(batch, config)
        if refused is not None:
            self._refuse(refused, title)
            return
        cannot = self._cannot_send()
        if cannot:
            self._refuse(cannot, title)
            return
        count = len(plan)
        self.app.push_screen(
            ConfirmScreen(
                f"Stop {count} {'recording' if count == 1 else 'recordings'}?",
                [
                    f"Stop every recording batch {batch.id} started: {count} StopRecord, one per TaskId "
                    f"it recorded. Each recording ends now.",
                    f"To {config.destination}",
                ],
            ),
            lambda yes: self._stop_all(batch, plan) if yes else None,
        )

    def _stop_all(self, started: BatchRecord, plan: list[tuple[int, str, dict]]) -> None:
        cannot = self._cannot_send()
        if cannot:
            self._refuse(cannot, "Not stopped")
            return
        history = self.app.history
        assert history is not None
        try:
            batch = new_stop_batch(history, started, plan)
        except sqlite3.Error as error:
            self._refuse(f"The stop batch could not be written ({error}); nothing was sent.", "Not stopped")
            return
        self._stopped_all = True
        self._go(batch)

    # --- elsewhere -------------------------------------------------------------------

    def action_recordings(self) -> None:
        self.app.show_recordings()

    def action_back(self) -> None:
        if self.running is not None:
            from ..keys import key_in_force

            again = key_in_force(self.app.screen_stack, "main.batch")
            self.notify(f"The batch runs on; {again} on the main screen shows it again.", title="Batch")
        self.app.pop_screen()

    def _key(self, binding_id: str) -> str:
        from ..keys import key_in_force

        return key_in_force((self, self.app), binding_id)

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        def key(binding_id: str) -> str:
            return markup(self._key(binding_id))

        commands: list[tuple[str, str, Callable[[], object]]] = []
        if self.check_action("start", ()):
            commands.append(
                ("Start the batch", f"after a confirmation ({key('batch.start')})", self.action_start)
            )
        if self.check_action("stop_run", ()):
            commands.append(
                ("Stop the run", f"rooms sent are kept ({key('batch.stop')})", self.action_stop_run)
            )
        if self.check_action("resume", ()):
            commands.append(
                ("Resume the batch", f"only the rooms not ok yet ({key('batch.resume')})", self.action_resume)
            )
        if self.check_action("stop_all", ()):
            commands.append(
                ("Stop all of this batch", f"StopRecord for each task it started ({key('batch.stop_all')})",
                 self.action_stop_all)
            )  # fmt: skip
        commands += [
            (
                "Recordings",
                f"every recording of this endpoint ({key('batch.recordings')})",
                self.action_recordings,
            ),
            ("Back to the main screen", f"a run goes on ({key('batch.back')})", self.action_back),
        ]
        return commands
