"""What happened to the last request (or the history row selected), and what to do next.

The panel starts idle; what renders an answer is imported with the first one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...api.errors import OutcomeKind
from ...safe_text import clean
from ...words import advice, check_by, heading

if TYPE_CHECKING:
    from ..views import ResponseView

IDLE = "No request yet. Fill the form and press Ctrl+S to start a recording."


class ResponsePanel(VerticalScroll, can_focus=True):
    """Success, service error or transport failure, in the operator's words."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: ResponseView | None = None

    def compose(self) -> ComposeResult:
        # The TaskId's own line (`#task-id`) comes with the first answer that has one: the
        # idle panel needs none, and each widget at start-up is styled and laid out.
        yield Static(IDLE, id="response-title")
        yield Static("", id="response-body")

    def on_mount(self) -> None:
        self.border_title = "Response"

    def show(self, view: ResponseView) -> None:
        self.view = view
        title = self.query_one("#response-title", Static)
        body = self.query_one("#response-body", Static)
        state = _state_class(view.kind)  # one restyle at most, none when the state stays
        self.update_classes({name: name == state for name in ("-ok", "-error", "-unknown", "-pending")})
        title.update(_title(view))
        has_task = view.task_id is not None and view.kind is OutcomeKind.OK
        task = self.query_one_optional("#task-id", Static)
        if has_task:
            line = Text.assemble(("TaskId ", "bold"), (str(view.task_id), "bold reverse"))
            if task is None:
                self.mount(Static(line, id="task-id"), after=title)
            else:
                task.update(line)
        if task is not None:
            task.display = has_task
        body.update(_body(view))
        self.scroll_home(animate=False)


def _state_class(kind: OutcomeKind) -> str:
    if kind is OutcomeKind.OK:
        return "-ok"
    if kind.may_have_acted:
        return "-unknown"
    if kind is OutcomeKind.PENDING:
        return "-pending"
    return "-error"


def _title(view: ResponseView) -> Text:
    # The action may be read back from the store, the code is the service's. The room and
    # task are rows of the body, as on the command line.
    action = clean(view.action, one_line=True)
    if view.kind is OutcomeKind.OK:
        return Text(f"{action} ok", "bold")
    if view.kind is OutcomeKind.SERVICE_ERROR:
        return Text.assemble(
            (f"{action} failed: ", "bold"), (clean(view.error_code or "", one_line=True), "bold")
        )
    return Text(f"{action}: {heading(view.kind)}", "bold")


def _rows(pairs: list[tuple[str, object]]) -> Table:
    from ...answers import LABEL_WIDTH

    # One label width for every answer (the command line's too), not the longest label of each.
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True, width=LABEL_WIDTH - 1)
    table.add_column(overflow="fold")
    for name, value in pairs:
        # One line each: a line break in a value would draw a row of its own.
        table.add_row(name, value if isinstance(value, Text) else Text(clean(value, one_line=True)))
    return table


def _body(view: ResponseView) -> RenderableType:
    from ...answers import footer_rows

    footer: list[tuple[str, object]] = list(footer_rows(view.request_id, view.duration_ms))
    if view.kind is OutcomeKind.OK:
        return _ok_body(view, footer)
    if view.kind is OutcomeKind.SERVICE_ERROR:
        from ...api.errors import explain

        entry = explain(view.error_code or "")
        parts: list[tuple[str, object]] = [
            ("Message", view.error_message or "-"),
            ("Meaning", entry.meaning),
            ("Next", entry.next_step),
        ]
        return _with_warning(view, _rows(_task_and_room(view) + parts + footer))
    parts = [("What", view.detail or heading(view.kind))]
    said = advice(view.kind, view.action, idempotent=view.idempotent)
    if said:
        parts.append(("Advice", said))
    by = check_by(view.kind, idempotent=view.idempotent, room=view.room)
    if by == "room":
        parts.append(
            (
                "Check",
                Text.assemble(
                    "press ",
                    ("F3", "bold"),
                    clean(f" to run DescribeTaskInfo for room {view.room}", one_line=True),
                ),
            )
        )
    elif by == "task":
        parts.append(("Check", Text.assemble("press ", ("F4", "bold"), " to describe the recording")))
    return _with_warning(view, _rows(_task_and_room(view) + parts + footer))


def _task_and_room(view: ResponseView) -> list[tuple[str, object]]:
    """What a failed request was about, as the rows of a success name it."""
    rows: list[tuple[str, object]] = []
    if view.task_id is not None:
        rows.append(("TaskId", str(view.task_id)))
    if view.room:
        rows.append(("RoomId", view.room))
    return rows


def _ok_body(view: ResponseView, footer: list[tuple[str, object]]) -> RenderableType:
    from ...answers import file_rows, ok_rows
    from ...api.actions import RecordInfoResult

    result = view.result()
    # The TaskId has its own line above (`#task-id`).
    parts: list[tuple[str, object]] = list(
        ok_rows(view.action, view.params, result, task_id=None, room=view.room)
    )
    if isinstance(result, RecordInfoResult):
        files = [tuple(clean(cell, one_line=True) for cell in cells) for cells in file_rows(result)]
        return _with_warning(view, Group(_rows(parts + footer), _Files(files)))
    return _with_warning(view, _rows(parts + footer))


def _with_warning(view: ResponseView, renderable: RenderableType) -> RenderableType:
    if not view.history_error:
        return renderable
    return Group(renderable, Text(clean(f"warning: {view.history_error}", one_line=True), style="bold"))


class _Files:
    """A recording's files: a table where the panel is wide, else two lines a file (its
    user, status and start; then its name whole), so that no name folds into a column of
    a few characters."""

    TABLE_FROM = 90

    def __init__(self, files: list[tuple[str, ...]]) -> None:
        self.files = files  # cleaned

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from ...answers import FILE_HEADERS

        if options.max_width >= self.TABLE_FROM:
            table = Table(expand=True, show_edge=False, pad_edge=False)
            for header in FILE_HEADERS[:-1]:
                table.add_column(header, no_wrap=True)
            table.add_column(FILE_HEADERS[-1], overflow="fold")
            for cells in self.files:
                table.add_row(*(Text(cell) for cell in cells))  # never markup: "[/x]" would raise
            yield table
            return
        yield Text(f"Files ({len(self.files)})", style="bold")
        for user, status, began, name in self.files:
            yield Text(f"{user} · {status} · began {began} UTC")
            yield Text(f"  {name}", overflow="fold")
