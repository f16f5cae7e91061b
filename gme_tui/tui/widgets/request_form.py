"""The StartRecord (and ModifyRecordInfo) form: every keystroke checked by `api.fields`,
the one home of the rules.

The form only shows verdicts: which field is wrong and the rule it broke, the
warning for both lists, the count of IDs against the limit. It never decides
validity itself, and it never sends: the screen asks for `checked` and acts.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Self

from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Offset, Region, Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Input
from textual.widgets.input import Selection

from ...api import fields
from ...api.fields import RecordMode
from ...safe_text import marked
from ..shown import MarkedInput, content
from .mode_choice import ModeChoice

START = "StartRecord"
MODIFY = "ModifyRecordInfo"

#: the API's own names, in tab order, with a few words of help each
_BIZ = (fields.BIZ_ID, "biz-id", "application ID (AppID), digits")
_TARGET = {
    START: (fields.ROOM_ID, "room-id", "room to record, 1 to 127 characters"),
    MODIFY: (fields.TASK_ID, "task-id", "the recording task to change"),
}
_REST = [
    (fields.RECORD_MODE, "record-mode", "single: a file per user; mixed: one for the room"),
    (fields.ALLOW, "allow", "allowlist: record only these user IDs"),
    (fields.BLOCK, "block", "blocklist: record everyone but these"),
]
_CHECKS = {START: fields.check_start, MODIFY: fields.check_modify}


def _count(text: str) -> tuple[str, str]:
    """IDs in a list field against the limit, and whether they are over it."""
    count = len(fields.split_user_ids(text))
    return f"{count}/{fields.MAX_USER_IDS}", " -over" if count > fields.MAX_USER_IDS else ""


#: what stands between two IDs (`fields.split_user_ids` splits on commas and white space)
_GAP = " \t,"


class _StyledOnMount:
    """A class changed before the widget is in the DOM (Input's `compact`, its first
    validation, the form's first verdict) restyles it there and then, in Textual, and
    again as it mounts: only the second counts, so the first is left out."""

    def update_node_styles(self, animate: bool = True) -> None:
        if self.is_attached:  # type: ignore[attr-defined]
            super().update_node_styles(animate)  # type: ignore[misc]


class FieldInput(_StyledOnMount, MarkedInput):
    """An Input whose keystrokes repaint only itself, whose Ctrl+Z undoes, and whose value
    is drawn `marked`.

    Textual's Input sets its scrollable width on every change of its value, and that
    lays out the whole screen again: two widgets in a minimal app, the console's
    forty here, on every key typed. Nothing outside the field depends on that width
    (the field is as wide as the form gives it), so it is set without a layout."""

    BINDINGS = [Binding("ctrl+z", "undo", "Undo", show=False, id="form.undo")]

    #: values to go back to, newest last (Textual's Input keeps none: a prefilled BizId
    #: replaced by a stray key was lost)
    UNDO_DEPTH = 100
    _layout_free = False
    _undoing = False
    _before: str | None = None

    def _watch_value(self, value: str) -> None:
        if self._before is None:
            self._undo: list[str] = []
        elif value != self._before and not self._undoing:
            self._undo.append(self._before)
            del self._undo[: -self.UNDO_DEPTH]
        self._before = value
        self._layout_free = not self._value_lays_out(value)
        try:
            super()._watch_value(value)
        finally:
            self._layout_free = False

    def _value_lays_out(self, value: str) -> bool:
        """Whether this value can change the field's size, so the screen is laid out again."""
        return self.styles.auto_dimensions

    def action_undo(self) -> None:
        """Back to the value before the last change (each key typed is one step)."""
        if self._before is not None and self._undo:
            self._undoing = True
            try:
                self.value = self._undo.pop()
            finally:
                self._undoing = False
            self.cursor_position = len(self.value)

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        return super().refresh(
            *regions, repaint=repaint, layout=layout and not self._layout_free, recompose=recompose
        )


def wrap_starts(text: str, width: int) -> tuple[int, ...]:
    """Where each row of `text` starts, wrapped at `width` cells: after the last run of
    gaps that fits (", " stays whole at a row's end), else where the row is full."""
    starts = [0]
    cells = 0
    gap: int | None = None  # where the row may end: just after its last run of gaps
    for at, char in enumerate(text):
        size = get_character_cell_size(char)
        if cells + size > width and at > starts[-1]:
            cut = gap if gap is not None else at
            starts.append(cut)
            cells = cell_len(text[cut:at])
            gap = next((back + 1 for back in range(at - 1, cut - 1, -1) if _breaks_after(text, back)), None)
        cells += size
        if _breaks_after(text, at):
            gap = at + 1
    return tuple(starts)


def _breaks_after(text: str, at: int) -> bool:
    return text[at] in _GAP and (at + 1 == len(text) or text[at + 1] not in _GAP)


def _text_width(width: int) -> int:
    """The cells a list's text wraps in: all but the last column, which says whether
    rows are out of sight."""
    return max(1, width - 1)


class IdList(FieldInput):
    """A list of user IDs: one line of text, wrapped over the field's rows and drawn
    `marked`, as the other fields are (pasted or loaded text may hold anything).

    New lines never enter it: a field a few rows tall that scrolled to an empty last
    line showed nothing of a pasted column of IDs while its counter said 3/20. A
    pasted new line becomes ", ", and so does Enter; the line wraps and the field
    grows to three rows (app.tcss), so every ID is in sight at 80x24 too.

    An Input drawn over several rows, not Textual's TextArea: two of those, with their
    documents and styles, weighed on every start-up (benchmarks/startup.py)."""

    BINDINGS = [Binding("ctrl+l", "clear_list", "Clear list", id="form.clear_list")]

    #: the first row in sight, where the line takes more rows than the field shows
    _top = 0
    #: what the field's last column shows where rows are out of sight: above, below, both
    MORE = {(True, False): "▲", (False, True): "▼", (True, True): "↕"}

    def __init__(self, *, id: str, classes: str) -> None:
        # Not selected on focus: a key typed after Tab must not replace the whole list.
        super().__init__(id=id, classes=classes, compact=True, select_on_focus=False)

    @property
    def text(self) -> str:
        return self.value

    @text.setter
    def text(self, text: str) -> None:
        self.value = self._one_line(text, 0, len(self.value))
        self._top = 0  # a list loaded shows its first IDs

    def replace(self, text: str, start: int, end: int) -> None:
        """Every edit comes here (a key, a paste, Ctrl+V, Enter): new lines never enter."""
        start, end = sorted((start, end))
        super().replace(self._one_line(text, start, end), start, end)

    def action_clear_list(self) -> None:
        """An edit like any other: Ctrl+Z brings the list back."""
        if self.value:
            self.clear()

    # --- the rows ----------------------------------------------------------------

    def _starts(self, width: int) -> tuple[int, ...]:
        """The rows of the value and the cursor's cell after it, at this width."""
        key = (self.value, width)
        if self._wrapped is None or self._wrapped[0] != key:
            self._wrapped = (key, wrap_starts(marked(self.value) + " ", _text_width(width)))
        return self._wrapped[1]

    _wrapped: tuple[tuple[str, int], tuple[int, ...]] | None = None

    def _place(self, index: int) -> tuple[int, int]:
        """The row of a position in the value, and its cell in that row."""
        starts = self._starts(self.content_size.width)
        row = bisect_right(starts, index) - 1
        return row, cell_len(marked(self.value[starts[row] : index]))

    def _index_at(self, cell: int, row: int) -> int:
        """The position in the value drawn at this cell of this row (its end, past the last)."""
        starts = self._starts(self.content_size.width)
        row = max(0, min(row, len(starts) - 1))
        end = starts[row + 1] if row + 1 < len(starts) else len(self.value)
        at, cells = starts[row], 0
        shown = marked(self.value)
        while at < end and cells + get_character_cell_size(shown[at]) <= cell:
            cells += get_character_cell_size(shown[at])
            at += 1
        # a wrapped row's last cell is its gap: a click past it lands before the next row
        return at - 1 if at == end and end < len(self.value) and at > starts[row] else at

    def _value_lays_out(self, value: str) -> bool:
        return len(self._starts(self.content_size.width)) != self.content_size.height

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._starts(width))

    @property
    def content_width(self) -> int:
        return self.content_size.width  # wrapped, never scrolled sideways

    def _first_row(self) -> int:
        """The first row in sight. In focus, the cursor's row always is; out of focus the
        list stays where it was put (a list loaded shows its first IDs)."""
        height = max(1, self.content_size.height)
        rows = len(self._starts(self.content_size.width))
        top = self._top
        if self.has_focus:
            row, _cell = self._place(self.cursor_position)
            top = max(row - height + 1, min(top, row))
        # and no row is left empty below the last while an earlier one is out of sight
        self._top = max(0, min(top, rows - height))
        return self._top

    @property
    def cursor_screen_offset(self) -> Offset:
        x, y, _width, _height = self.content_region
        row, cell = self._place(self.cursor_position)
        return Offset(x + cell, y + row - self._first_row())

    def _watch_selection(self, selection: Selection) -> None:
        self.app.clear_selection()
        self.app.cursor_position = self.cursor_screen_offset

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        starts = self._starts(width)
        top = self._first_row()
        row = y + top
        if row >= len(starts):
            return Strip.blank(width, self.rich_style)
        line = self._whole_line()
        first = cell_len(marked(self.value[: starts[row]]))
        last = cell_len(marked(self.value[: starts[row + 1]])) if row + 1 < len(starts) else line.cell_length
        strip = line.crop(first, last).extend_cell_length(_text_width(width))
        # the last column says where rows are out of sight (a TextArea's scroll bar did)
        above = y == 0 and top > 0
        below = y == self.content_size.height - 1 and top + self.content_size.height < len(starts)
        more = Strip([Segment(self.MORE.get((above, below), " "))])
        return Strip.join([strip, more]).crop_extend(0, width, None).apply_style(self.rich_style)

    _drawn: tuple[object, Strip] | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn = None  # a class or the theme changed: the colours with it

    def _whole_line(self) -> Strip:
        """The value on one line, with the selection and the cursor, as Input draws it;
        drawn once for all the rows of a paint."""
        key = (self.value, self.selection, self.has_focus, self._cursor_visible)
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = (key, self._draw_line())
        return self._drawn[1]

    def _draw_line(self) -> Strip:
        text = self._value
        if self.has_focus:
            if not self.selection.is_empty:
                start, end = sorted(self.selection)
                text.stylize_before(self.get_component_rich_style("input--selection"), start, end)
            if self._cursor_visible:
                if self.cursor_at_end:
                    text.pad_right(1)
                cursor = self.cursor_position
                text.stylize(self.get_component_rich_style("input--cursor"), cursor, cursor + 1)
        options = self.app.console_options.update_width(text.cell_len + 1)
        return Strip(list(self.app.console.render(text, options)))

    # --- keys and the mouse ------------------------------------------------------------

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()  # Input's own would submit
            self.replace("\n", *self.selection)
        elif event.key in ("up", "down", "shift+up", "shift+down"):
            row, cell = self._place(self.cursor_position)
            to = row + (1 if event.key.endswith("down") else -1)
            if 0 <= to < len(self._starts(self.content_size.width)):
                event.stop()
                event.prevent_default()
                at = self._index_at(cell, to)
                # with Shift the selection grows from where it started, as Shift+Left does
                self.selection = Selection(self.selection.start if "shift" in event.key else at, at)

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()  # Input's own would keep the first line only
        if event.text:
            self.replace(event.text, *self.selection)

    async def _on_mouse_down(self, event: events.MouseDown) -> None:
        event.prevent_default()  # Input's own reads the column only
        self._pause_blink(visible=True)
        offset = event.get_content_offset_capture(self)
        self.selection = Selection.cursor(self._index_at(offset.x, offset.y + self._top))
        self._selecting = True
        self.capture_mouse()

    async def _on_mouse_move(self, event: events.MouseMove) -> None:
        if self._selecting:
            event.prevent_default()
            offset = event.get_content_offset_capture(self)
            self.selection = Selection(self.selection.start, self._index_at(offset.x, offset.y + self._top))

    def _one_line(self, text: str, start: int, end: int) -> str:
        """`text` with its lines joined by ", ", and a ", " where it would otherwise run
        into an ID beside it (pasted after 10000, 10001 must not become 1000010001)."""
        if "\n" not in text and "\r" not in text:
            return text  # one line goes in as it is
        joined = ", ".join(part for part in (line.strip(_GAP) for line in text.splitlines()) if part)
        before = self.value[:start][-1:]
        after = self.value[end:][:1]
        if not joined:  # Enter, or a paste of blank lines: at most a separator
            return ", " if before and before not in _GAP and (not after or after not in _GAP) else ""
        if before and before not in _GAP:
            joined = ", " + joined
        if after and after not in _GAP:
            joined += ", "
        return joined


#: the label's column; the field, its message and nothing else start after it
LABEL_WIDTH = 19
#: the counter's column at the right of a list field (a space, then "20/20")
COUNT_WIDTH = 6
#: blank cells each side of the status line
STATUS_PADDING = 1


def words_in(
    widget: Widget, words: Content, width: int, component: str, *, left: int, right: int = 0
) -> list[Strip]:
    """`words` wrapped in a widget's own lines, in the style of one of its component
    classes, with `left` and `right` blank cells beside them; none where they cannot fit."""
    if width <= left + right:
        return []
    style = widget.get_visual_style(component)
    lines = Visual.to_strips(widget, words, width - left - right, None, style, pad=True)
    blank = widget.visual_style.rich_style
    before = [Strip.blank(left, blank)] if left else []
    after = [Strip.blank(right, blank)] if right else []
    return [Strip.join([*before, line, *after]) for line in lines]


class FieldRow(_StyledOnMount, Widget):
    """One field of the form: its label, its counter and the line under it drawn by the
    row itself around the field, the one child.

    As widgets of their own (a label, a counter, a message and a container for each
    field) they were twenty-odd of the screen's forty: every one is styled at start-up
    and visited by every refresh. The row draws them where they were, with the same
    styles (its component classes), and lays the screen out again only when the
    message's number of lines changes."""

    COMPONENT_CLASSES = {"field-row--label", "field-row--count", "field-row--message"}

    DEFAULT_CSS = """
    FieldRow {
        layout: horizontal;
        height: auto;
    }
    """

    def __init__(self, label: str, field: Widget, *, counted: bool, id: str, classes: str) -> None:
        super().__init__(field, id=id, classes=classes)
        self.label = label
        self.field = field
        self.counted = counted
        self.message = ""
        self.count = ""
        self._lines: tuple[object, list[Strip]] | None = None
        self._message_cache: tuple[object, list[Strip]] | None = None

    def show(self, message: str, count: str) -> bool:
        """Draw these; whether anything changed. The screen is laid out again only when
        the message takes another number of lines."""
        if (message, count) == (self.message, self.count):
            return False
        before = self._message_height(self.size.width) if self.is_mounted else None
        self.message, self.count = message, count
        self._lines = None
        if before is None:
            return True
        self.refresh(layout=self._message_height(self.size.width) != before)
        return True

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines = self._message_cache = None  # a class or the theme changed: the colours with it

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return super().get_content_height(container, viewport, width) + self._message_height(width)

    def _message_height(self, width: int) -> int:
        return len(self._message_strips(width))

    def _message_strips(self, width: int) -> list[Strip]:
        # Asked for by each layout and each paint: kept until the words, the width or the
        # styles change.
        key = (self.message, width)
        if self._message_cache is not None and self._message_cache[0] == key:
            return self._message_cache[1]
        # a rule quotes what was typed: "[/x]" is no markup
        strips = words_in(self, content(self.message), width, "field-row--message", left=LABEL_WIDTH)
        self._message_cache = (key, strips)
        return strips

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        key = (self.size, self.field.outer_size.height, self.message, self.count)
        if self._lines is None or self._lines[0] != key:
            self._lines = (key, self._render_rows(width, self.field.outer_size.height))
        lines = self._lines[1]
        return lines[y] if y < len(lines) else Strip.blank(width, self.visual_style.rich_style)

    def _render_rows(self, width: int, field_height: int) -> list[Strip]:
        blank = self.visual_style.rich_style
        parts = Visual.to_strips(
            self, Content(self.label), LABEL_WIDTH, 1, self.get_visual_style("field-row--label"), pad=True
        )
        if self.counted and width > LABEL_WIDTH + COUNT_WIDTH:
            parts.append(Strip.blank(width - LABEL_WIDTH - COUNT_WIDTH + 1, blank))
            parts += Visual.to_strips(
                self,
                Content(self.count),
                COUNT_WIDTH - 1,
                1,
                self.get_visual_style("field-row--count"),
                pad=True,
            )
        first = Strip.join(parts).crop_extend(0, width, blank)
        rows = [first] + [Strip.blank(width, blank)] * max(0, field_height - 1)
        return rows + self._message_strips(width)


def form_fields(action: str) -> list[tuple[str, str, str]]:
    return [_BIZ, _TARGET[action], *_REST]


class RequestForm(Widget, can_focus=False):
    """BizId, RoomId, RecordMode, allowlist and blocklist, validated as you type, and the
    status line under them (what a send would do now, or what blocks it), which the form
    draws itself in the style of its kind (one widget fewer, as `FieldRow`)."""

    COMPONENT_CLASSES = {"request-form--ready", "request-form--error", "request-form--busy"}

    busy: reactive[bool] = reactive(False)
    relaxed: reactive[bool] = reactive(False)

    def __init__(
        self, *, action: str = START, biz_id: str = "", relaxed: bool = False, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.action = action
        self.fields = form_fields(action)
        self.ids = {name: widget_id for name, widget_id, _help in self.fields}
        self.help = {name: help_text for name, _id, help_text in self.fields}
        self._initial_biz = biz_id
        self.set_reactive(RequestForm.relaxed, relaxed)
        self.checked = fields.Checked()
        self._rows: dict[str, FieldRow] = {}
        #: the status line: its words and kind ("-ready", "-error", "-busy"), and its lines
        self.status = ("", "")
        self._status_cache: tuple[object, list[Strip]] | None = None

    def compose(self) -> ComposeResult:
        # The first verdict is drawn as the widgets are made: a class changed after
        # mount restyles the whole form, which start-up pays for (benchmarks/startup.py).
        checked = self.checked = self._check(self._initial_biz, "", "", "", "")
        for name, widget_id, help_text in self.fields:
            field: Widget
            if name == fields.RECORD_MODE:
                field = ModeChoice(id=widget_id)
            elif name in (fields.ALLOW, fields.BLOCK):
                field = IdList(id=widget_id, classes="id-list")
            else:
                field = FieldInput(
                    value=self._initial_biz if name == fields.BIZ_ID else "",
                    placeholder=help_text,
                    id=widget_id,
                    compact=True,
                )
            counted = name in (fields.ALLOW, fields.BLOCK)
            text, kind = self._message(name, checked)
            count, over = _count("") if counted else ("", "")
            row = FieldRow(
                name,
                field,
                counted=counted,
                id=f"{widget_id}-row",
                classes=self._row_classes(kind, over),
            )
            row.show(text, count)
            self._rows[name] = row
            yield row
        self.status = self._status()

    def on_mount(self) -> None:
        self.border_title = self.action

    # --- reading the fields ----------------------------------------------------

    def text(self, name: str) -> str:
        widget = self._rows[name].field
        if isinstance(widget, ModeChoice):
            return "" if widget.value is None else str(int(widget.value))
        assert isinstance(widget, Input)
        return widget.value

    def to_action(self):
        """The validated request, or None while any field is invalid."""
        from ...api.actions import from_checked  # the first send pays for it, not start-up

        checked = self.validate()
        return from_checked(self.action, checked) if checked.ok else None

    def validate(self) -> fields.Checked:
        target = self.fields[1][0]
        self.checked = checked = self._check(
            self.text(fields.BIZ_ID),
            self.text(target),
            self.text(fields.RECORD_MODE),
            self.text(fields.ALLOW),
            self.text(fields.BLOCK),
        )
        for name, _id, _help in self.fields:
            row = self._rows[name]
            text, kind = self._message(name, checked)
            count, over = _count(self.text(name)) if row.counted else ("", "")
            row.set_classes(self._row_classes(kind, over))
            row.show(text, count)
        self._show_status()
        return checked

    @staticmethod
    def _row_classes(kind: str, over: str) -> str:
        """The row's classes: its field invalid (the label and the field in red), the
        message's kind, the counter over the limit."""
        invalid = " -invalid" if kind == "-error" else ""
        return f"field-row{invalid}{' -warning' if kind == '-warning' else ''}{over}"

    def _check(self, biz_id: str, target: str, mode: str, allow: str, block: str) -> fields.Checked:
        return _CHECKS[self.action](biz_id, target, mode, allow, block, relaxed=self.relaxed)

    def _message(self, name: str, checked: fields.Checked) -> tuple[str, str]:
        """The line under a field: the rule it breaks, the warning about it, or its help."""
        error = checked.errors.get(name)
        if error is not None:
            return error.rule, "-error"
        warning = next((w for w in checked.warnings if w.field == name), None)
        if warning is not None:
            return f"warning: {warning.message}", "-warning"
        mode = checked.values.get(name) if name == fields.RECORD_MODE else None
        return (mode.words if isinstance(mode, RecordMode) else self.help[name]), ""

    def _status(self) -> tuple[str, str]:
        """The send bar: what a send would do now, or what blocks it."""
        if self.busy:
            return "Sending… (a second send waits for this one)", "-busy"
        if self.checked.errors:
            # The rules themselves show under each field; this line says what blocks the send.
            names = [name for name, _id, _help in self.fields if name in self.checked.errors]
            return f"Cannot send: fix {', '.join(names)}", "-error"
        return f"Ready: Ctrl+S sends {self.action}", "-ready"

    def _show_status(self) -> None:
        """Drawn again only when its words or kind change (most keystrokes change neither);
        laid out again only when it takes another number of lines."""
        status = self._status()
        if status == self.status:
            return
        before = self._status_height(self.size.width)
        self.status, self._status_cache = status, None
        self.refresh(layout=self._status_height(self.size.width) != before)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return super().get_content_height(container, viewport, width) + self._status_height(width)

    def _status_height(self, width: int) -> int:
        return len(self._status_strips(width))

    def _status_strips(self, width: int) -> list[Strip]:
        key = (self.status, width)
        if self._status_cache is not None and self._status_cache[0] == key:
            return self._status_cache[1]
        text, kind = self.status
        strips = words_in(
            self, Content(text), width, f"request-form-{kind}", left=STATUS_PADDING, right=STATUS_PADDING
        )
        self._status_cache = (key, strips)
        return strips

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._status_cache = None  # the theme changed: the colours with it

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        strips = self._status_strips(width)
        at = y - (self.size.height - len(strips))  # the status is the last of the form's lines
        return strips[at] if 0 <= at < len(strips) else Strip.blank(width, self.visual_style.rich_style)

    # --- events ------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate()

    def on_mode_choice_changed(self, event: ModeChoice.Changed) -> None:
        event.stop()
        self.validate()

    def watch_busy(self, busy: bool) -> None:
        if self.is_mounted:
            self.set_class(busy, "-busy")
            self._show_status()

    def watch_relaxed(self) -> None:
        if self.is_mounted:
            self.validate()

    # --- writing the fields --------------------------------------------------------

    def load(self, params: dict[str, Any]) -> None:
        """Fill the form from a request's parameters (a history row), then check it once
        (each field set would otherwise post a change and check the form again)."""
        with self.prevent(Input.Changed, ModeChoice.Changed):
            self._fill(params)
        self.validate()

    def _fill(self, params: dict[str, Any]) -> None:
        for name in (fields.BIZ_ID, fields.ROOM_ID, fields.TASK_ID):
            if name in params and name in self.ids:
                self.query_one(f"#{self.ids[name]}", Input).value = str(params[name])
        if set(params) <= {fields.BIZ_ID}:
            return
        mode = params.get("RecordMode")
        self.query_one(f"#{self.ids[fields.RECORD_MODE]}", ModeChoice).value = (
            RecordMode(mode) if mode in (1, 2, 3) else None
        )
        lists = params.get(fields.SUBSCRIPTION) or {}
        for name in (fields.ALLOW, fields.BLOCK):
            self.query_one(f"#{self.ids[name]}", IdList).text = ", ".join(
                str(x) for x in lists.get(name) or ()
            )

    def focus_first_invalid(self) -> None:
        for name, widget_id, _help in self.fields:
            if name in self.checked.errors:
                self.query_one(f"#{widget_id}").focus()
                return
