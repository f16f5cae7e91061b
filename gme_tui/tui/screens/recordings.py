"""The recordings view (Ctrl+R), in the manner of k9s: every recording gme-tui knows, kept current.

One table, newest first: this endpoint's recordings, or every endpoint's (`a`).
The store can hold thousands, so the view reads a page when it opens and the next
one as the cursor or the scroll nears the end (keyset paging on `(started_at, id)`,
as the history panel does): opening costs the same with ten recordings or ten
thousand.

It keeps itself current in two ways, neither of which asks the service: the app's
follower hands it what each answer changed (`recordings_changed`), and a timer
re-reads the rows in sight from SQLite every second, so that what other processes
learned shows too (a few primary-key reads, on the loop). The cursor stays on
its recording through both.

Actions go only where a recording runs: one of another endpoint or profile is
refused with `Recording.elsewhere`, and every confirmation names the destination.
A stop is sent through `calls.send` (history row first) in a worker of the app's,
so that leaving the view never cancels a StopRecord on its way.

Every cell is read back from the store and drawn as plain text through `clean`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static
from textual.widgets.data_table import RowDoesNotExist

from ...api.errors import OutcomeKind
from ...context import endpoint_host
from ...recordings import Change, Recording, State, duration_text
from ...safe_text import clean
from ...words import heading, mode_text
from ..shown import content
from ..widgets.history_panel import time_text
from ..widgets.key_bar import KeyBar
from .dialogs import ConfirmScreen

if TYPE_CHECKING:
    from ...calls import Outcome
    from ..app import GmeApp

#: rows per read: a tall terminal's screenful and some; each row added costs the opening
PAGE_SIZE = 80
#: seconds between re-reads of the rows in sight (SQLite only, never the network)
TICK = 1.0
#: the newest rows each re-read looks at for recordings new to the table
NEWEST = 20
#: cells the room (and the endpoint and profile) take at most, the rest an ellipsis
ROOM_WIDTH = 16
ENDPOINT_WIDTH = 36
PROFILE_WIDTH = 16
#: recordings a stop of the marked lists by name; the rest are counted
LISTED = 15
#: the states a StopRecord can end: it records, or its start is unknown (and has a TaskId)
STOPPABLE = (State.RECORDING, State.UNKNOWN)
#: the mark shown in the first column
MARK = "●"

#: state -> the component class that colours it (rules in recordings.tcss)
_STATE_CLASS = {
    State.RECORDING: "recordings--recording",
    State.STARTING: "recordings--pending",
    State.UNKNOWN: "recordings--pending",
    State.STOPPING: "recordings--processing",
    State.WAITING: "recordings--processing",
    State.TRANSCODING: "recordings--processing",
    State.UPLOADING: "recordings--processing",
    State.UPLOADED: "recordings--processing",
    State.DONE: "recordings--done",
    State.NOT_STARTED: "recordings--failed",
    State.GONE: "recordings--failed",
}
_DIM = Style(dim=True)

#: (label, column key), in the order shown; every endpoint's view adds `_WHERE`
COLUMNS = (
    ("", "mark"),
    ("Room", "room"),
    ("TaskId", "task"),
    ("Mode", "mode"),
    ("State", "state"),
    ("Started", "started"),
    ("Elapsed", "elapsed"),
    ("Files", "files"),
)
_WHERE = (("Endpoint", "endpoint"), ("Profile", "profile"))


# --- words (no Textual) ----------------------------------------------------------


def started_text(started_at: float, today: dt.date) -> str:
    """As the history says a time (`time_text`), with the year before this one: a recording
    can run on, or be remembered, for longer than a request is looked at."""
    when = dt.datetime.fromtimestamp(started_at)
    if when.year != today.year:
        return when.strftime("%Y-%m-%d %H:%M")
    return time_text(started_at, today)


def elapsed_text(recording: Recording, now: float) -> str:
    return duration_text(recording.elapsed(now))


def task_words(recording: Recording) -> str:
    room = f" in room {clean(recording.room_id, one_line=True)}" if recording.room_id else ""
    if recording.task_id:
        return f"task {recording.task_id}{room}"
    return f"the recording{room}"


def why_not_stoppable(recording: Recording) -> str | None:
    """Why a StopRecord cannot end this recording (None: it can)."""
    if recording.state not in STOPPABLE:
        return f"{task_words(recording)} is {recording.state.words}: only a recording that records can be stopped"
    if not recording.task_id:
        return (
            f"{task_words(recording)} has no TaskId yet (its start is unknown): once a lookup of its room"
            " finds the task, it can be stopped"
        )
    return None


def listed(recordings: list[Recording], limit: int = LISTED) -> list[str]:
    """One line per recording (room and TaskId), at most `limit`, then how many more."""
    lines = [f"room {clean(r.room_id or '?', one_line=True)} · task {r.task_id}" for r in recordings[:limit]]
    if len(recordings) > limit:
        lines.append(f"and {len(recordings) - limit} more")
    return lines


# --- widgets -----------------------------------------------------------------------


class _Stamp(Text):
    """The Started cell, carrying its recording's place in the order, so a row can be sorted in."""

    def __init__(self, text: str, order: tuple[float, int], style: Style | str = "") -> None:
        super().__init__(text, style=style, end="", no_wrap=True)
        self.order = order


class RecordingsTable(DataTable):
    """The table, with the state colours as component classes, so that themes recolour them."""

    COMPONENT_CLASSES: ClassVar[set[str]] = DataTable.COMPONENT_CLASSES | set(_STATE_CLASS.values())

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.state_styles: dict[str, Style] = {}
        self.on_restyle: Callable[[], None] | None = None

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """A body cell, which is always one line of plain `Text` here, made straight into its
        segments: what DataTable's own way (Rich's Padding and Styled, through the console)
        draws, at a tenth of its cost, which is most of what the view's opening costs."""
        cell = None
        if row_index >= 0 and column_index >= 0 and self.cell_padding == 1:
            row_key = self._row_locations.get_key(row_index)
            column_key = self._column_locations.get_key(column_index)
            key: Any = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor,
                        self._update_count, self._pseudo_class_state)  # fmt: skip
            cached = self._cell_render_cache.get(key)
            if cached is not None:
                return cached
            cell = self._get_row_renderables(row_index).cells[column_index]
        if (
            not isinstance(cell, Text)
            or cell.spans
            or "\n" in cell.plain
            or width < 2
            or cell.justify not in (None, "default", "left", "right")
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            row_index < self.fixed_rows or column_index < self.fixed_columns,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        inner, text = width - 2, cell.plain
        padding = pre + post_style
        own = (
            pre
            + (cell.style if isinstance(cell.style, Style) else Style.parse(cell.style or "none"))
            + post_style
        )
        fill = inner - cell_len(text)
        # As Rich lays a line out: a justified text's fill takes the text's style, the rest
        # of the cell (an unjustified text's) the cell's.
        if fill <= 0:
            body = [Segment(set_cell_size(text, inner), own)]
        elif cell.justify == "right":
            body = [Segment(" " * fill + text, own)]
        elif cell.justify == "left":
            body = [Segment(text + " " * fill, own)]
        else:
            body = [Segment(text, own), Segment(" " * fill, padding)]
        lines = [[Segment(" ", padding), *body, Segment(" ", padding)]]
        self._cell_render_cache[key] = lines
        return lines

    def state_style(self, state: State) -> Style:
        if not self.state_styles:
            self.state_styles = self._read_styles()
        return self.state_styles[_STATE_CLASS[state]]

    def _read_styles(self) -> dict[str, Style]:
        return {
            name: self.get_component_rich_style(name, partial=True) for name in set(_STATE_CLASS.values())
        }

    def notify_style_update(self) -> None:
        """A new theme: the states' colours change, so the rows read are drawn again."""
        super().notify_style_update()
        if self.state_styles and self.is_mounted:
            self.call_later(self._recolour)  # the stylesheet updates component classes just after

    def _recolour(self) -> None:
        styles = self._read_styles()
        if styles != self.state_styles:
            self.state_styles = styles
            if self.on_restyle is not None:
                self.on_restyle()


class StopConfirmScreen(ConfirmScreen):
    """A ConfirmScreen whose body is plain lines (recordings, the destination), not JSON."""

    def __init__(self, title: str, question: str, lines: list[str]) -> None:
        super().__init__(title, question)
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(content(self.question), classes="dialog-question")
            with VerticalScroll(classes="dialog-body"):
                yield Static(
                    Text("\n".join(clean(line, one_line=True) for line in self.lines)), id="stop-list"
                )
            yield Static("Enter confirms · Escape goes back", classes="dialog-hint")
        yield KeyBar()

    @property
    def text(self) -> str:
        """Everything the dialog says, as plain text."""
        question = [self.question] if isinstance(self.question, str) else list(self.question)
        return "\n".join([self.title_text, *question, *self.lines])


# --- the screen --------------------------------------------------------------------


class RecordingsScreen(Screen[None]):
    app: GmeApp

    # Read by the app when it builds the view ahead (`GmeApp._build_recordings_view`): a
    # screen's CSS is parsed and the whole app restyled as it is first pushed, which would
    # cost the view its opening; and the app's own CSS would cost the start-up.
    CSS_PATH = "recordings.tcss"
    BINDINGS = [
        Binding("s", "stop", "Stop", id="recordings.stop"),
        Binding("space", "mark", "Mark", id="recordings.mark"),
        Binding("S", "stop_marked", "Stop marked", id="recordings.stop_marked"),
        Binding("d", "describe", "Describe", id="recordings.describe"),
        Binding("m", "modify", "Modify", id="recordings.modify"),
        Binding("c", "copy_task_id", "Copy", id="recordings.copy_task_id"),
        Binding("a", "toggle_all", "All", id="recordings.toggle_all"),
        Binding("escape,q", "back", "Back", id="recordings.back"),
    ]

    #: the clock elapsed times and "today" are read from (a test freezes it)
    clock: ClassVar[Callable[[], float]] = staticmethod(time.time)

    def __init__(self) -> None:
        super().__init__()
        #: every endpoint's recordings, or this endpoint's only
        self.show_all = False
        #: the recordings in the table, by id, as last read
        self._shown: dict[int, Recording] = {}
        #: what each row's Elapsed cell says, so a re-read redraws only what changed
        self._elapsed: dict[int, str] = {}
        self.marked: set[int] = set()
        self._after: tuple[float, int] | None = None
        self._exhausted = False
        self._stopping = False
        self._where = ""
        #: the endpoint whose recordings the table was read for
        self._loaded_for: str | None = None

    # --- building -----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="recordings-where")
        if self.app.history is None:
            yield Static(
                content(f"History unavailable: {self.app.history_problem}. No recording is known."),
                id="recordings-missing",
            )
        yield RecordingsTable(id="recordings-table")
        yield Static(
            "No recording known here yet: a StartRecord sent from gme-tui, or an answer about a task, adds one.",
            id="recordings-empty",
        )
        yield KeyBar()

    def on_screen_resume(self) -> None:
        """Shown (the app builds the view ahead and keeps it): the rows as the store has them
        now; all of them again if what it shows is another endpoint's since (a profile switch)."""
        if self._loaded_for != self.endpoint:
            self._reload()
        else:
            self.reread()

    def on_mount(self) -> None:
        table = self.table
        table.on_restyle = self._redraw
        self._columns()
        self.watch(table, "scroll_y", self._load_if_near_end, init=False)
        self._reload()
        table.focus()
        self.set_interval(TICK, self.reread, name="recordings re-read")

    @property
    def table(self) -> RecordingsTable:
        return self.query_one("#recordings-table", RecordingsTable)

    @property
    def endpoint(self) -> str | None:
        """The endpoint whose recordings are shown (None: every endpoint's)."""
        return None if self.show_all else self.app.config.scope

    def _columns(self) -> None:
        table = self.table
        for label, key in COLUMNS + (_WHERE if self.show_all else ()):
            # The mark's column keeps its width while nothing is marked (a mark never widens it).
            table.add_column(label, key=key, width=len(MARK) if key == "mark" else None)

    def _reload(self) -> None:
        """From the newest again (the view changed what it shows), the cursor kept on its recording."""
        selected = self.selected
        self._loaded_for = self.endpoint
        self._shown.clear()
        self._elapsed.clear()
        self._after, self._exhausted = None, False
        self.table.clear()
        self._load_page()
        if selected is not None:
            self._move_to(selected.id)
        self._show_where()

    # --- reading ------------------------------------------------------------------

    def _load_page(self) -> None:
        history = self.app.history
        if history is None or self._exhausted:
            return
        try:
            found = history.recordings(endpoint=self.endpoint, limit=PAGE_SIZE, before=self._after)
        except sqlite3.Error as error:
            self._exhausted = True  # `a` (a reload) tries again
            self.notify(f"The recordings could not be read: {error}", title="Recordings", severity="error")
            return
        self._exhausted = len(found) < PAGE_SIZE
        if found:
            self._after = (found[-1].started_at, found[-1].id)
        table = self.table
        had = table.row_count
        now = type(self).clock()
        today = dt.date.fromtimestamp(now)
        for recording in found:
            if recording.id not in self._shown:  # a change may have shown it already
                self._add(recording, now, today)
        if had and table.row_count > had and self._order(had - 1) < self._order(had):
            self._sort()  # a recording shown by a change is older than some of this page
        self._shown_changed()
        self.call_after_refresh(self._load_if_near_end)  # a very tall screen may want more

    def _load_if_near_end(self) -> None:
        """Read the next page once fewer than half a screenful of unread rows lie below (more,
        and the opening would read a second page, and draw every row twice)."""
        table = self.table
        if self._exhausted or not table.row_count:
            return
        height = table.scrollable_content_region.height
        bottom = max(table.cursor_row, int(table.scroll_y) + height)
        if bottom >= table.row_count - max(PAGE_SIZE // 5, height // 2):
            self._load_page()

    def reread(self) -> None:
        """The timer's: the rows in sight (and the cursor's) as the store has them now, and any
        recording newer than the table's; no request leaves, so this costs a few reads."""
        history = self.app.history
        if history is None or not self.is_mounted or self.app.screen is not self:
            return  # out of sight: read again when back (the next tick)
        try:
            fresh = [(i, history.recording(i)) for i in self._in_sight()]
            newest = history.recordings(endpoint=self.endpoint, limit=NEWEST)
        except sqlite3.Error:
            return  # busy or broken for a moment: the next tick tries again
        now = type(self).clock()
        today = dt.date.fromtimestamp(now)
        added = False
        for recording_id, recording in fresh:
            if recording is None:
                self._remove(recording_id)  # merged into another (`recordings.started`)
            else:
                self._update(recording, now, today)
        for recording in newest:
            if recording.id not in self._shown and self._within(recording):
                self._add(recording, now, today)
                added = True
        if added:
            self._sort()
        self._shown_changed()

    def recordings_changed(self, changes: Iterable[Change]) -> None:
        """What answers changed (the app's follower, a stop of this view's): each row in place,
        a recording new to the table sorted in (at the top: it is the newest)."""
        if not self.is_mounted:
            return
        now = type(self).clock()
        today = dt.date.fromtimestamp(now)
        added = False
        for change in changes:
            recording = change.recording
            if recording.id in self._shown:
                self._update(recording, now, today)
            elif (self.show_all or recording.endpoint == self.app.config.scope) and self._within(recording):
                self._add(recording, now, today)
                added = True
        if added:
            self._sort()
        self._shown_changed()

    def _within(self, recording: Recording) -> bool:
        """Is it among the rows read so far? One older than them waits for its page."""
        return self._exhausted or self._after is None or (recording.started_at, recording.id) > self._after

    def _in_sight(self) -> list[int]:
        table = self.table
        if not table.row_count:
            return []
        top = int(table.scroll_y)
        rows = table.ordered_rows
        indexes = set(range(top, min(len(rows), top + table.scrollable_content_region.height + 1)))
        indexes.add(min(table.cursor_row, len(rows) - 1))
        return [int(rows[i].key.value or 0) for i in sorted(indexes) if i >= 0]

    # --- rows ---------------------------------------------------------------------

    def _cells(self, recording: Recording, now: float, today: dt.date) -> list[Text]:
        dim = _DIM if recording.state.final else Style()

        def cell(text: str, width: int | None = None, justify: str = "left") -> Text:
            shown = Text(clean(text, one_line=True), style=dim, end="", no_wrap=True, justify=justify)  # type: ignore[arg-type]
            if width is not None:
                shown.truncate(width, overflow="ellipsis")
            return shown

        state = recording.state.words + (" (damaged row)" if recording.damaged else "")
        cells = [
            cell(MARK if recording.id in self.marked else ""),
            cell(recording.room_id or "", ROOM_WIDTH),
            cell(recording.task_id or "-"),  # stored as text: every digit exact, never cut
            cell(mode_text(recording.record_mode)),
            Text(state, style=self.table.state_style(recording.state) + dim, end="", no_wrap=True),
            _Stamp(started_text(recording.started_at, today), (recording.started_at, recording.id), dim),
            cell(self._elapsed.setdefault(recording.id, elapsed_text(recording, now))),
            cell(str(len(recording.files)) if recording.files else "", justify="right"),
        ]
        if self.show_all:
            cells += [
                cell(endpoint_host(recording.endpoint), ENDPOINT_WIDTH),
                cell(recording.profile, PROFILE_WIDTH),
            ]
        return cells

    def _add(self, recording: Recording, now: float, today: dt.date) -> None:
        self._shown[recording.id] = recording
        self._elapsed.pop(recording.id, None)
        self.table.add_row(*self._cells(recording, now, today), key=str(recording.id))

    def _update(self, recording: Recording, now: float, today: dt.date) -> None:
        """One row as the store has it now: every cell if the recording changed, else only
        its Elapsed (which moves while it records)."""
        table, key = self.table, str(recording.id)
        if recording.id not in self._shown:
            return
        if recording != self._shown[recording.id]:
            self._shown[recording.id] = recording
            self._elapsed.pop(recording.id, None)
            columns = COLUMNS + (_WHERE if self.show_all else ())
            for (_, column), value in zip(columns, self._cells(recording, now, today), strict=True):
                table.update_cell(key, column, value, update_width=True)
            return
        elapsed = elapsed_text(recording, now)
        if elapsed != self._elapsed.get(recording.id):
            self._elapsed[recording.id] = elapsed
            dim = _DIM if recording.state.final else Style()
            table.update_cell(
                key, "elapsed", Text(elapsed, style=dim, end="", no_wrap=True), update_width=True
            )

    def _remove(self, recording_id: int) -> None:
        if self._shown.pop(recording_id, None) is not None:
            self._elapsed.pop(recording_id, None)
            self.marked.discard(recording_id)
            self.table.remove_row(str(recording_id))

    def _redraw(self) -> None:
        """Every row read, drawn again (new theme colours)."""
        now = type(self).clock()
        today = dt.date.fromtimestamp(now)
        for recording in list(self._shown.values()):
            self._shown[recording.id] = None  # type: ignore[assignment]  # differs: every cell redrawn
            self._update(recording, now, today)

    def _order(self, index: int) -> tuple[float, int]:
        stamp = self.table.get_cell_at(Coordinate(index, COLUMNS.index(("Started", "started"))))
        return stamp.order if isinstance(stamp, _Stamp) else (0.0, 0)

    def _sort(self) -> None:
        """Newest first again, the cursor still on its recording."""
        selected = self.selected
        self.table.sort("started", key=lambda stamp: stamp.order, reverse=True)
        if selected is not None:
            self._move_to(selected.id)

    def _move_to(self, recording_id: int) -> None:
        try:
            index = self.table.get_row_index(str(recording_id))
        except RowDoesNotExist:
            return
        self.table.move_cursor(row=index, scroll=False)

    def _shown_changed(self) -> None:
        self.query_one("#recordings-empty").display = (
            self.app.history is not None and not self.table.row_count
        )
        self._show_where()
        self.refresh_bindings()

    def _show_where(self) -> None:
        """The line above the table: which recordings, how many, and where actions go."""
        history, config = self.app.history, self.app.config
        try:
            count = history.count_recordings(self.endpoint) if history is not None else 0
        except sqlite3.Error:
            count = len(self._shown)
        known = f"{count:,} known" + (f" · {len(self.marked)} marked" if self.marked else "")
        if self.show_all:
            where = f"Every endpoint's recordings · {known} · actions go to {config.destination}"
        else:
            where = f"Recordings of {config.destination} · {known}"
        if where != self._where:
            self._where = where
            line = self.query_one("#recordings-where", Static)
            line.update(content(where))
            line.set_class(self.show_all, "-all")

    @property
    def selected(self) -> Recording | None:
        if not self.is_mounted:
            return None
        table = self.table
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        try:
            return self._shown.get(int(row_key.value or ""))
        except ValueError:
            return None

    @on(DataTable.RowHighlighted, "#recordings-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._load_if_near_end()

    # --- actions ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A key that cannot act now is shown dim: there is no row, or nothing is marked."""
        if not self.is_mounted:
            return True
        if action in ("stop", "mark", "describe", "modify", "copy_task_id"):
            return True if self.table.row_count else None
        if action == "stop_marked":
            return True if self.marked else None
        return True

    def _fresh(self, recording: Recording | None) -> Recording | None:
        """The recording as the store has it now (an answer may have moved it since it was drawn)."""
        history = self.app.history
        if recording is None or history is None:
            return recording
        try:
            return history.recording(recording.id)
        except sqlite3.Error:
            return recording

    def _refuse(self, message: str, title: str) -> None:
        self.notify(message, title=title, severity="warning")
        self.app.bell()

    def _here(self, recording: Recording, title: str) -> bool:
        """Is this recording of the console's endpoint and profile? If not, say where it runs."""
        config = self.app.config
        elsewhere = recording.elsewhere(config.scope, config.profile)
        if elsewhere is not None:
            self._refuse(elsewhere, title)
        return elsewhere is None

    def _cannot_send(self) -> str | None:
        app = self.app
        if self._stopping:
            return "A stop is on its way; wait for its answer."
        return app.cannot_send(": nothing can be stopped")

    def action_stop(self) -> None:
        recording = self._fresh(self.selected)
        title = "Not stopped"
        if recording is None:
            self._refuse("No recording selected.", title)
            return
        if not self._here(recording, title):
            return
        reason = why_not_stoppable(recording) or self._cannot_send()
        if reason:
            self._refuse(reason, title)
            return
        self.app.push_screen(
            StopConfirmScreen(
                "Stop recording?",
                f"Stop {task_words(recording)}? The recording ends now.",
                [*listed([recording]), "", f"Where: {self.app.config.destination}"],
            ),
            lambda yes: self._stop([recording]) if yes else None,
        )

    def action_stop_marked(self) -> None:
        title = "Not stopped"
        marked = [r for r in (self._fresh(self._shown.get(i)) for i in self.marked) if r is not None]
        marked.sort(key=lambda r: (r.started_at, r.id), reverse=True)
        if not marked:
            self._refuse("Nothing is marked: Space marks the selected recording.", title)
            return
        config = self.app.config
        offered: list[tuple[Recording, str | None]] = []
        left_out: list[tuple[Recording, str | None]] = []
        for recording in marked:
            reason = recording.elsewhere(config.scope, config.profile) or why_not_stoppable(recording)
            (left_out if reason else offered).append((recording, reason))
        if not offered:
            reason = left_out[0][1] or ""
            more = (
                f" (and {len(left_out) - 1} more marked that cannot be stopped)" if len(left_out) > 1 else ""
            )
            self._refuse(reason + more, title)
            return
        cannot = self._cannot_send()
        if cannot:
            self._refuse(cannot, title)
            return
        targets = [recording for recording, _ in offered]
        lines = [*listed(targets), "", f"Where: {config.destination}"]
        if left_out:
            lines += ["", f"Left out: {len(left_out)} marked that cannot be stopped from here, such as"]
            lines.append(left_out[0][1] or "")
        count = len(targets)
        self.app.push_screen(
            StopConfirmScreen(
                f"Stop {count} recording{'s' if count > 1 else ''}?",
                f"Stop {'these ' + str(count) + ' recordings' if count > 1 else 'this recording'}? "
                "Each ends now, one StopRecord after the other.",
                lines,
            ),
            lambda yes: self._stop(targets) if yes else None,
        )

    def _stop(self, targets: list[Recording]) -> None:
        cannot = self._cannot_send()  # the credentials or the history may have gone meanwhile
        if cannot:
            self._refuse(cannot, "Not stopped")
            return
        self._stopping = True
        for recording in targets:  # as in k9s: an action taken on the marked ends their marks
            if recording.id in self.marked:
                self._toggle_mark(recording)
        self._show_where()
        self.refresh_bindings()
        # The app's worker: leaving the view must not cancel a StopRecord on its way.
        self.app.run_worker(
            self._stop_all(targets), name="StopRecord", group="recordings-stop", exit_on_error=False
        )

    async def _stop_all(self, targets: list[Recording]) -> None:
        """One StopRecord each, in turn, through the history; each row updated as its answer comes."""
        from ...api.actions import StopRecord
        from ...calls import send

        app = self.app
        client, history, profile = app.client, app.history, app.config.profile
        assert client is not None and history is not None, "_stop refuses without them"
        outcomes: list[tuple[Recording, Outcome]] = []
        try:
            for recording in targets:
                assert recording.task_id is not None, "why_not_stoppable refuses without one"
                action = StopRecord(int(recording.biz_id), int(recording.task_id))
                outcome = await send(client, history, action, profile=profile)
                outcomes.append((recording, outcome))
                answered = getattr(app, "answered", None)
                if answered is not None:
                    answered(outcome)  # to every screen, this one too (`recordings_changed`)
                elif self.is_attached:
                    self.recordings_changed(outcome.changes)
        finally:
            self._stopping = False
            if self.is_attached:
                self.refresh_bindings()
        self._say(outcomes)

    def _say(self, outcomes: list[tuple[Recording, Outcome]]) -> None:
        """One notification for the whole stop: what was stopped, what failed and why."""
        failed = [
            f"{task_words(r)}: {heading(o.kind)}" + (f": {o.error}" if o.error else "")
            for r, o in outcomes
            if o.kind is not OutcomeKind.OK
        ]
        if len(outcomes) == 1:
            said = failed or [f"Stopped {task_words(outcomes[0][0])}; its files are on their way to storage."]
        else:
            said = [f"Stopped {len(outcomes) - len(failed)} of {len(outcomes)}.", *failed[:5]]
            if len(failed) > 5:
                said.append(f"and {len(failed) - 5} more")
        said += [o.history_error for _r, o in outcomes if o.history_error]
        self.app.notify(
            "\n".join(said),
            title="StopRecord",
            severity="error" if failed else "information",
            timeout=10 if failed else None,
        )

    def action_mark(self) -> None:
        """Space marks or unmarks the selected recording, then moves down, so a run is marked key by key."""
        recording = self.selected
        if recording is None:
            return
        self._toggle_mark(recording)
        self.table.action_cursor_down()
        self._show_where()
        self.refresh_bindings()

    def _toggle_mark(self, recording: Recording) -> None:
        self.marked.symmetric_difference_update({recording.id})
        if recording.id in self._shown:
            dim = _DIM if recording.state.final else Style()
            mark = Text(MARK if recording.id in self.marked else "", style=dim, end="")
            self.table.update_cell(str(recording.id), "mark", mark)

    def action_describe(self) -> None:
        self._follow_up("describe")

    def action_modify(self) -> None:
        self._follow_up("modify")

    def _follow_up(self, verb: str) -> None:
        """Hand the recording to the main screen, which aims its follow-up actions at it."""
        from .main import MainScreen

        title = "Not described" if verb == "describe" else "Not modified"
        recording = self._fresh(self.selected)
        if recording is None:
            self._refuse("No recording selected.", title)
            return
        if not self._here(recording, title):
            return
        if not recording.task_id:
            self._refuse(f"{task_words(recording)} has no TaskId yet (its start is unknown).", title)
            return
        if verb == "modify" and recording.state not in STOPPABLE:
            self._refuse(
                f"{task_words(recording)} is {recording.state.words}: only a recording that records can be modified.",
                title,
            )
            return
        main = next((s for s in reversed(self.app.screen_stack) if isinstance(s, MainScreen)), None)
        follow_up = getattr(main, "follow_up", None)
        if follow_up is None:
            self._refuse("The main screen is not there to act on it.", title)
            return
        self.app.pop_screen()
        self.app.call_later(follow_up, verb, recording)

    def action_copy_task_id(self) -> None:
        recording = self.selected
        if recording is None or not recording.task_id:
            self._refuse("No TaskId to copy.", "Not copied")
            return
        self.app.copy_to_clipboard(recording.task_id)
        self.notify(f"TaskId {recording.task_id} copied to the clipboard.")

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        selected = self.selected
        table = self.table
        table.clear(columns=True)
        self._columns()
        self._reload()
        if selected is not None:
            self._move_to(selected.id)

    def action_back(self) -> None:
        self.app.pop_screen()
