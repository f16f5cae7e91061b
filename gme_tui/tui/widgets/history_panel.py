"""The history panel: the requests in the store, newest first, read a page at a time.

Scoped: it shows the operator's own requests (not the console's credentials checks
nor the recordings' background refresh, `History.BACKGROUND`) to the endpoint it
is aimed at (`endpoint`, the console's `Context.scope`; `set_endpoint` re-aims it).
One key (`a`) shows every row of every endpoint instead, with the Endpoint and
Profile columns that then tell them apart, and back. The scope is part of every
query (`page`, `matches`), so the filter and live updates keep to it too.

The store can hold years of requests, so the panel never counts them and never
reads them all: it reads one page when it mounts and the next one when the cursor
or the scroll nears the end. Paging is keyset (`History.page`), so the hundredth
page costs what the first does, and the text filter runs in SQLite, paged the same way.

The columns are fitted to the table's width whenever it changes (`fit_columns`): a
narrow panel keeps what a row is (time, action, room, outcome) and the answer panel
shows the rest for the highlighted row; cut text ends in an ellipsis, a TaskId never.

Where the reads run: an unfiltered page walks the index and takes about a
millisecond however big the store, so it runs on the event loop (a thread hop
would cost more than the read, and the first page is in the table when the panel
mounts). A filtered page mostly asks the store's trigram index (a few milliseconds
at a million rows), but a needle under 3 characters, a store without the index, or
a broad needle whose matches are all old still make SQLite scan many rows (up to a
second at a million, see benchmarks/history_panel.py), and typing must not stall on it: those reads run in a thread, on a second connection of the
panel's own, one at a time; a read whose answer is no longer wanted (the filter
changed again) is interrupted and its rows dropped. `upsert` reads one row by
primary key, on the loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input
from textual.widgets.data_table import ColumnKey, RowKey
from textual.worker import Worker

from ...api.errors import OutcomeKind
from ...context import endpoint_host
from ...history import History, Row
from ...safe_text import clean
from ...words import mode_text, outcome_label
from ..shown import MarkedInput, content

#: rows per read; a screenful several times over, and well under a millisecond to fetch
PAGE_SIZE = 100
#: seconds the filter waits after the last key before querying
DEBOUNCE = 0.15
#: (label, column key), in the order shown
COLUMNS = (
    ("Time", "time"),
    ("Action", "action"),
    ("RoomId", "room"),
    ("Mode", "mode"),
    ("Outcome", "outcome"),
    ("TaskId", "task"),
)
#: the columns added after those while every endpoint's rows are shown
ALL_COLUMNS = (
    ("Endpoint", "endpoint"),
    ("Profile", "profile"),
)
#: key -> (fewest cells it is shown in, most it takes); None: always whole (a time, a
#: TaskId, a mode), shown at its width or not at all. The others end in an ellipsis.
_WIDTHS: dict[str, tuple[int, int] | None] = {
    "time": None,
    "action": (6, 18),
    "room": (6, 24),
    "outcome": (6, 32),
    "task": None,
    "mode": None,
    "endpoint": (8, 30),
    "profile": (4, 16),
}
#: which columns a narrow panel keeps first: what the row is (time, action, room, outcome);
#: what it leaves out the answer panel shows for the highlighted row (its TaskId, its mode)
PRIORITY = ("time", "action", "room", "outcome", "task", "mode", "endpoint", "profile")
#: cells of padding each side of a cell (DataTable's `cell_padding`)
_PADDING = 1


def fit_columns(width: int, natural: dict[str, int], keys: tuple[str, ...]) -> dict[str, int]:
    """The columns shown in `width` cells and the width of each: by `PRIORITY`, each that fits
    at its fewest cells is in (the time always), then the room left is shared out as water
    fills a vessel: the narrowest column that wants more gets the next cell, up to what its
    longest cell needs (`natural`) or its most. Pure, so that it is tested on its own."""
    shown: dict[str, int] = {}
    used = 0
    for key in sorted(keys, key=PRIORITY.index):
        bounds = _WIDTHS[key]
        least = natural.get(key, 1) if bounds is None else min(bounds[0], natural.get(key, 1))
        if not shown or used + least + 2 * _PADDING <= width:
            shown[key] = least
            used += least + 2 * _PADDING
    wants = {
        key: min(natural.get(key, 1), bounds[1])
        for key, bounds in _WIDTHS.items()
        if key in shown and bounds is not None
    }
    room = width - used
    while room > 0:
        growing = [key for key, most in wants.items() if shown[key] < most]
        if not growing:
            break
        key = min(growing, key=lambda k: (shown[k], PRIORITY.index(k)))
        shown[key] += 1
        room -= 1
    return shown


#: what the filter box says it looks in; the scope is said after it
FILTER_HINT = "filter: room, action, outcome, task id"
#: the scope's words while every endpoint's rows (and the console's own asks) are shown
EVERYWHERE = "all endpoints"
#: outcome -> component class that colours it (rules in history_panel.tcss)
_OUTCOME_CLASS = {
    OutcomeKind.OK: "history-panel--ok",
    OutcomeKind.PENDING: "history-panel--pending",
    OutcomeKind.UNKNOWN: "history-panel--unknown",
}
_ERROR_CLASS = "history-panel--error"


def time_text(started_at: float, today: dt.date | None = None) -> str:
    """Seconds matter for today's requests; older ones need the day instead."""
    when = dt.datetime.fromtimestamp(started_at)
    if when.date() == (today or dt.date.today()):
        return when.strftime("%H:%M:%S")
    return when.strftime("%m-%d %H:%M")


def _cut(text: str, style: Style | str = "") -> Text:
    """A cell that ends in an ellipsis where its column is narrower (never wraps)."""
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def endpoint_text(endpoint: str) -> str:
    """An endpoint as the panel names it (`context.endpoint_host`), safe to show."""
    return clean(endpoint_host(endpoint), one_line=True)


def _read(
    reader: History | None,
    path: Path,
    before: tuple[float, int] | None,
    text: str,
    endpoint: str | None,
    own: bool,
) -> tuple[History, list[Row]]:
    """One page, in a worker thread; the reader is opened here too (opening may wait on a lock)."""
    reader = reader or History(path)
    return reader, reader.page(PAGE_SIZE, before=before, text=text, endpoint=endpoint, own=own)


class _Stamp(Text):
    """The Time cell, carrying its row's place in the order, so a new row can be sorted in."""

    def __init__(self, text: str, order: tuple[float, int]) -> None:
        super().__init__(text, end="", no_wrap=True)
        self.order = order


class _Rows(DataTable):
    """The table, telling its panel when its size changes: the columns are fitted to it."""

    class Resized(Message):
        pass

    def on_resize(self) -> None:
        self.post_message(self.Resized())


class HistoryFilter(MarkedInput):
    """The filter box; Escape empties it, or passes on to the screen when it is empty;
    Down goes on into the rows it found."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_filter", "Clear filter", id="history.clear_filter"),
        Binding("down", "to_rows", "To the rows", id="history.to_rows", show=False),
    ]

    def action_to_rows(self) -> None:
        self.screen.focus_next()  # the table, which follows the filter

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.value)
        return super().check_action(action, parameters)

    def action_clear_filter(self) -> None:
        self.value = ""


class HistoryPanel(Widget):
    """The history store as a table; the screen decides what selecting and loading a row mean.

    `endpoint`: the endpoint whose rows are shown (the history's `endpoint` column, as
    `Context.scope` names it); None: every endpoint's, still only the operator's own.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "load_row", "Load into form", id="history.load"),
        Binding("slash", "focus_filter", "Filter", id="history.filter"),
        Binding("a", "toggle_all", "All", id="history.all"),
        # From the rows: the filter cleared there too (the filter box's own Escape acts first).
        Binding("escape", "clear_filter", "Clear filter", id="history.rows_clear_filter"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {*_OUTCOME_CLASS.values(), _ERROR_CLASS}

    class _RowMessage(Message):
        def __init__(self, panel: HistoryPanel, row: Row) -> None:
            super().__init__()
            self.panel = panel
            self.row = row

        @property
        def control(self) -> HistoryPanel:
            return self.panel

    class Selected(_RowMessage):
        """The highlighted row changed, or Enter was pressed on it."""

    class LoadRequested(_RowMessage):
        """The operator wants this row's parameters back in the request form."""

    def __init__(
        self,
        history: History,
        *,
        endpoint: str | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._history = history
        self._endpoint = endpoint
        #: every endpoint's rows and every row (the `a` key), not the scope's
        self._everything = False
        self._rows: dict[int, Row] = {}
        #: (started_at, id) of the last row paged in; the next page starts after it
        self._after: tuple[float, int] | None = None
        self._exhausted = False
        self._loading = False
        #: bumped on every reload, so a read begun for an older one is dropped
        self._generation = 0
        #: the panel's own connection for page reads, used by one thread at a time
        self._reader: History | None = None
        self._reading = asyncio.Lock()
        self._closed = False
        self._filter = ""
        self._debounce: Timer | None = None
        #: the row last announced with Selected, so a reload does not announce it again
        self._announced: int | None = None
        self._styles: dict[str, Style] = {}
        #: key -> cells its longest cell (or its label) takes, over the rows read
        self._natural: dict[str, int] = {}
        #: key -> width, of the columns the table has now (`fit_columns`)
        self._fitted: dict[str, int] = {}

    # --- public ---------------------------------------------------------------

    @property
    def selected_row(self) -> Row | None:
        table = self._table
        if not table.row_count:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self._row_for(row_key)

    @property
    def endpoint(self) -> str | None:
        """The endpoint the panel is aimed at (whether or not every endpoint is shown)."""
        return self._endpoint

    @property
    def showing_all(self) -> bool:
        """Every endpoint's rows and every row (`a`), not only the operator's own to `endpoint`."""
        return self._everything

    @property
    def scope_text(self) -> str:
        """What the panel shows, in words: the endpoint's host, or `EVERYWHERE`."""
        if self._everything:
            return EVERYWHERE
        return endpoint_text(self._endpoint) if self._endpoint is not None else ""

    def set_endpoint(self, endpoint: str | None) -> None:
        """Aim the panel at another endpoint (a profile switched to another) and read again."""
        self._endpoint = endpoint
        if self.is_mounted:
            self._show_scope()
            self.refresh_rows()

    def show_all(self, everything: bool) -> None:
        """Every endpoint's rows and every row (True), or the scope's own again (False)."""
        if everything == self._everything:
            return
        self._everything = everything
        if self.is_mounted:
            self._add_columns()
            self._show_scope()
            self.refresh_rows()

    @property
    def loaded_count(self) -> int:
        """Rows read so far (not the size of the store, which the panel never asks)."""
        return len(self._rows)

    def refresh_rows(self) -> None:
        """Read again from the newest row, keeping the filter."""
        self._generation += 1
        if self._reading.locked() and self._reader is not None:
            self._reader.interrupt()  # its answer is for a reload no longer wanted
        self._rows.clear()
        self._after = None
        self._exhausted = False
        self._loading = False
        self._table.clear()
        self._natural = {}
        self._load_page()
        self.refresh_bindings()

    def upsert(self, row_id: int) -> None:
        """Show the store's current state of one row: in place if shown, sorted in if new.

        Called when a request starts (its pending row) and when it ends. The
        highlighted row stays highlighted, so an upsert never announces Selected.
        """
        table = self._table
        row = self._history.get(row_id)
        endpoint, own = self._scope
        wanted = row is not None and (
            (not self._filter and endpoint is None and not own)
            or self._history.matches(row_id, self._filter, endpoint=endpoint, own=own)
        )
        if row_id in self._rows:
            if not wanted:
                del self._rows[row_id]
                table.remove_row(str(row_id))
                return
            assert row is not None
            self._rows[row_id] = row
            for column, cell in zip(self._fitted, self._cells(row), strict=True):
                table.update_cell(str(row_id), column, cell)
            self._measure([row])
            return
        if row is None or not wanted:
            return
        if not self._exhausted and self._after is not None and (row.started_at, row.id) < self._after:
            return  # beyond the rows read so far: paging will bring it in its turn
        self._rows[row_id] = row
        self._table.add_row(*self._cells(row), key=str(row_id))
        self._sort()
        self._measure([row])
        self.refresh_bindings()

    # --- building ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HistoryFilter(placeholder=self._placeholder(), id="history-filter")
        yield _Rows(id="history-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self._add_columns()
        self._show_scope()
        self.watch(self._table, "scroll_y", self._load_if_near_end, init=False)
        self.refresh_rows()

    @property
    def _columns(self) -> tuple[tuple[str, str], ...]:
        return COLUMNS + ALL_COLUMNS if self._everything else COLUMNS

    @property
    def _scope(self) -> tuple[str | None, bool]:
        """(endpoint, own) as `History.page` and `History.matches` take them."""
        return (None, False) if self._everything else (self._endpoint, True)

    def _add_columns(self) -> None:
        """The columns that fit the table's width now, and the rows read again into them."""
        labels = {key: label for label, key in self._columns}
        natural = {key: max(self._natural.get(key, 0), len(label)) for label, key in self._columns}
        width = self._table.scrollable_content_region.width or self._table.size.width
        fitted = fit_columns(width, natural, tuple(labels)) if width else {k: natural[k] for k in labels}
        table = self._table
        if set(fitted) == set(self._fitted) and table.columns:
            # The same columns: only their widths (DataTable has no public call for that).
            for key, cells in fitted.items():
                column = table.columns[ColumnKey(key)]
                column.width, column.auto_width = cells, False
            if fitted != self._fitted:
                self._fitted = {key: fitted[key] for key in self._fitted}  # in the table's order
                table._require_update_dimensions = True
                table.refresh()
            return
        highlighted = self.selected_row
        table.clear(columns=True)
        self._fitted = {key: fitted[key] for key in labels if key in fitted}  # shown in their order
        for key, cells in self._fitted.items():
            table.add_column(labels[key], key=key, width=cells)
        rows = sorted(self._rows.values(), key=lambda row: (row.started_at, row.id), reverse=True)
        for row in rows:
            table.add_row(*self._cells(row), key=str(row.id))
        if highlighted is not None and str(highlighted.id) in table.rows:
            table.move_cursor(row=table.get_row_index(str(highlighted.id)), scroll=False)

    def _measure(self, rows: list[Row]) -> None:
        """Note how wide the rows' cells are; fit the columns again if one grew."""
        grew = False
        for row in rows:
            for key, cell in self._all_cells(row).items():
                if cell.cell_len > self._natural.get(key, 0):
                    self._natural[key] = cell.cell_len
                    grew = True
        if grew:
            self._add_columns()

    @on(_Rows.Resized)
    def _resized(self, event: _Rows.Resized) -> None:
        event.stop()
        self._add_columns()

    def _placeholder(self) -> str:
        scope = self.scope_text
        return f"{FILTER_HINT} · {scope}" if scope else FILTER_HINT

    def _show_scope(self) -> None:
        """The filter box (and the border title, where a stylesheet gives the panel a border)
        say which rows are shown."""
        self.query_one(HistoryFilter).placeholder = self._placeholder()
        self.border_title = content(self.scope_text) if self.scope_text else None

    def on_unmount(self) -> None:
        self._generation += 1
        self._closed = True
        if self._reader is not None:
            if self._reading.locked():
                self._reader.interrupt()  # the reading thread drops it when done
            else:
                self._reader.close()
            self._reader = None

    @property
    def _table(self) -> DataTable:
        return self.query_one("#history-table", DataTable)

    def _load_page(self) -> None:
        if self._exhausted or self._loading:
            return
        if self._filter:
            self._loading = True
            self.run_worker(
                self._read_page(self._generation, self._after, self._filter, *self._scope),
                name="History read",
                group="history-read",
                exit_on_error=False,
            )
            return
        endpoint, own = self._scope
        try:
            # Scoped, it walks `requests_here` (endpoint, time) as the whole store walks
            # `requests_started`; the console's own asks are skipped on the way.
            rows = self._history.page(PAGE_SIZE, before=self._after, endpoint=endpoint, own=own)
        except sqlite3.Error as error:
            self._read_failed(error)
            return
        self._add_page(rows)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        sink = getattr(self.app, "on_worker_state_changed", None)  # the app's one sink, where it has one
        if sink is not None:
            sink(event)

    def worker_ended(self, worker: Worker) -> None:
        """A page read ended by a fault the reader did not expect (the sink named it): the
        panel is not left loading, and a refresh tries again."""
        if worker.group == "history-read":
            self._loading = False
            self._exhausted = True

    def _read_failed(self, error: sqlite3.Error) -> None:
        self._loading = False
        self._exhausted = True  # refresh_rows tries again
        self.notify(f"The history could not be read: {error}", title="History", severity="error")

    async def _read_page(
        self,
        generation: int,
        before: tuple[float, int] | None,
        text: str,
        endpoint: str | None,
        own: bool,
    ) -> None:
        async with self._reading:
            if generation != self._generation:
                return
            try:
                reader, rows = await asyncio.to_thread(
                    _read, self._reader, self._history.path, before, text, endpoint, own
                )
            except sqlite3.Error as error:
                if generation == self._generation:  # not the interrupt of a stale read
                    self._read_failed(error)
                return
            if self._closed:
                reader.close()
                return
            self._reader = reader
        if generation == self._generation:
            self._add_page(rows)

    def _add_page(self, rows: list[Row]) -> None:
        self._loading = False
        self._exhausted = len(rows) < PAGE_SIZE
        if rows:
            self._after = (rows[-1].started_at, rows[-1].id)
        table = self._table
        had = table.row_count
        for row in rows:
            if row.id not in self._rows:  # an upsert may have shown it already
                self._rows[row.id] = row
                table.add_row(*self._cells(row), key=str(row.id))
        self._measure(rows)
        if had and table.row_count > had and self._order(had - 1) < self._order(had):
            self._sort()  # a row upserted while the first page was on its way is older than some of it
        self.refresh_bindings()
        self.call_after_refresh(self._load_if_near_end)  # a very tall screen may want more

    def _load_if_near_end(self) -> None:
        """Read the next page once fewer than a screenful of unread rows lie below."""
        table = self._table
        if self._exhausted or self._loading or not table.row_count:
            return
        height = table.scrollable_content_region.height
        bottom = max(table.cursor_row, int(table.scroll_y) + height)
        if bottom >= table.row_count - max(PAGE_SIZE // 5, height):
            self._load_page()

    def _order(self, index: int) -> tuple[float, int]:
        stamp = self._table.get_cell_at(Coordinate(index, 0))
        return stamp.order if isinstance(stamp, _Stamp) else (0.0, 0)

    def _sort(self) -> None:
        """Newest first again, the highlighted row still highlighted (so no Selected is announced)."""
        table = self._table
        highlighted = self.selected_row
        table.sort("time", key=lambda stamp: stamp.order, reverse=True)
        if highlighted is not None:
            table.move_cursor(row=table.get_row_index(str(highlighted.id)), scroll=False)

    def _cells(self, row: Row) -> tuple[Text, ...]:
        """The row's cells of the columns shown, in their order."""
        cells = self._all_cells(row)
        return tuple(cells[key] for key in self._fitted)

    def _all_cells(self, row: Row) -> dict[str, Text]:
        today = dt.date.today()
        cells = {
            "time": _Stamp(time_text(row.started_at, today), (row.started_at, row.id)),
            # Every cell is read back from the store; the outcome's code came from the service.
            "action": _cut(clean(row.action, one_line=True)),
            "room": _cut(clean(row.room_id or "", one_line=True)),
            "mode": Text(clean(mode_text(row.record_mode), one_line=True), no_wrap=True),
            "outcome": self._outcome_cell(row),
            "task": Text(clean(row.task_id or "", one_line=True), no_wrap=True),  # text: every digit exact
        }
        if self._everything:
            cells["endpoint"] = _cut(endpoint_text(row.endpoint))
            cells["profile"] = _cut(clean(row.profile, one_line=True))
        return cells

    def _outcome_cell(self, row: Row) -> Text:
        if not self._styles:
            self._styles = self._read_styles()
        style = self._styles[_OUTCOME_CLASS.get(row.outcome, _ERROR_CLASS)]
        return _cut(
            clean(outcome_label(row.outcome, row.error_code, damaged=bool(row.damaged)), one_line=True),
            style=style,
        )

    def _read_styles(self) -> dict[str, Style]:
        return {name: self.get_component_rich_style(name, partial=True) for name in self.COMPONENT_CLASSES}

    def notify_style_update(self) -> None:
        """Outcome colours come from the theme: recolour the rows read when it changes."""
        super().notify_style_update()
        if self._styles and self.is_mounted:
            # The stylesheet updates component classes just after this call.
            self.call_later(self._recolour)

    def _recolour(self) -> None:
        styles = self._read_styles()
        if styles != self._styles:
            self._styles = styles
            table = self._table
            if "outcome" not in self._fitted:
                return
            for row in self._rows.values():
                table.update_cell(str(row.id), "outcome", self._outcome_cell(row))

    def _row_for(self, row_key: RowKey) -> Row | None:
        try:
            return self._rows.get(int(row_key.value or ""))
        except ValueError:
            return None

    # --- events -----------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.cursor_row != self._table.cursor_row:
            return  # the cursor has moved on since (the columns were fitted again)
        row = self._row_for(event.row_key)
        if row is not None and row.id != self._announced:
            self._announced = row.id
            self.post_message(self.Selected(self, row))
        self._load_if_near_end()

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self._row_for(event.row_key)
        if row is not None:
            self._announced = row.id
            self.post_message(self.Selected(self, row))

    @on(Input.Changed, "#history-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        event.input.refresh_bindings()  # Escape shows only while there is text to clear
        if self._debounce is not None:
            self._debounce.stop()
        if event.value.strip():
            self._debounce = self.set_timer(DEBOUNCE, self._apply_filter)
        else:
            self._apply_filter()  # clearing needs no pause: it is one key, not typing

    @on(Input.Submitted, "#history-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._debounce is not None:
            self._debounce.stop()
        self._apply_filter()
        self._table.focus()

    def _apply_filter(self) -> None:
        text = self.query_one(HistoryFilter).value.strip()
        if text != self._filter:
            self._filter = text
            self.refresh_rows()

    # --- actions ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":  # an empty filter: Escape passes on
            return bool(self.query_one(HistoryFilter).value)
        if action in ("load_row", "focus_filter", "toggle_all") and self.query_one(HistoryFilter).has_focus:
            return False  # the keys type into the filter there
        if action == "load_row" and not self._table.row_count:
            return None
        return True

    def action_load_row(self) -> None:
        row = self.selected_row
        if row is not None:
            self.post_message(self.LoadRequested(self, row))

    def action_focus_filter(self) -> None:
        self.query_one(HistoryFilter).focus()

    def action_clear_filter(self) -> None:
        self.query_one(HistoryFilter).value = ""

    def action_toggle_all(self) -> None:
        self.show_all(not self._everything)
