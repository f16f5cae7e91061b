"""What happened to the last request (or the history row selected), and what to do next.

The panel starts idle; what renders an answer is imported with the first one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...api.errors import OutcomeKind
from ...safe_text import clean
from ...words import advice, check_by, heading, mode_label

if TYPE_CHECKING:
    from ..views import ResponseView

IDLE = "No request yet. Fill the form and press Ctrl+S to start a recording."


class ResponsePanel(VerticalScroll, can_focus=True):
    """Success, service error or transport failure, in the operator's words."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: ResponseView | None = None

    def compose(self) -> ComposeResult:
        yield Static(IDLE, id="response-title")
        yield Static("", id="task-id")
        yield Static("", id="response-body")

    def on_mount(self) -> None:
        self.border_title = "Response"
        self.query_one("#task-id").display = False

    def show(self, view: ResponseView) -> None:
        self.view = view
        title = self.query_one("#response-title", Static)
        task = self.query_one("#task-id", Static)
        body = self.query_one("#response-body", Static)
        state = _state_class(view.kind)  # one restyle at most, none when the state stays
        self.update_classes({name: name == state for name in ("-ok", "-error", "-unknown", "-pending")})
        title.update(_title(view))
        has_task = view.task_id is not None and view.kind is OutcomeKind.OK
        task.display = has_task
        if has_task:
            task.update(Text.assemble(("TaskId ", "bold"), (str(view.task_id), "bold reverse")))
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
    # The action and room may be read back from the store, the code is the service's.
    action = clean(view.action, one_line=True)
    room = clean(f" · room {view.room}", one_line=True) if view.room else ""
    if view.kind is OutcomeKind.OK:
        return Text.assemble((f"{action} ok", "bold"), room)
    if view.kind is OutcomeKind.SERVICE_ERROR:
        return Text.assemble(
            (f"{action} failed: ", "bold"), (clean(view.error_code or "", one_line=True), "bold"), room
        )
    return Text.assemble((f"{action}: {heading(view.kind)}", "bold"), room)


def _rows(pairs: list[tuple[str, object]]) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in pairs:
        # One line each: a line break in a value would draw a row of its own.
        table.add_row(name, value if isinstance(value, Text) else Text(clean(value, one_line=True)))
    return table


def _body(view: ResponseView) -> RenderableType:
    footer: list[tuple[str, object]] = []
    if view.request_id:
        footer.append(("RequestId", view.request_id))
    if view.duration_ms is not None:
        footer.append(("Duration", f"{view.duration_ms:.0f} ms"))
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
        return _with_warning(view, _rows(parts + footer))
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
    return _with_warning(view, _rows(parts + footer))


def _ok_body(view: ResponseView, footer: list[tuple[str, object]]) -> RenderableType:
    from ...api.actions import RecordInfoResult, TaskInfoResult, ids_text
    from ...api.fields import Subscription

    result = view.result()
    parts: list[tuple[str, object]] = []
    if isinstance(result, TaskInfoResult):
        sub = result.subscription or Subscription()
        parts += [
            ("RecordMode", mode_label(result.mode)),
            ("Allowlist", ids_text(sub.allow)),
            ("Blocklist", ids_text(sub.block)),
        ]
    elif view.action in ("StartRecord", "ModifyRecordInfo"):
        parts.append(("RecordMode", mode_label(view.params.get("RecordMode"))))
    if isinstance(result, RecordInfoResult):
        parts.append(("RecordMode", mode_label(result.mode)))
        table = Table(expand=True, show_edge=False, pad_edge=False)
        table.add_column("UserId", no_wrap=True)
        table.add_column("Status", no_wrap=True)
        table.add_column("FileName", overflow="fold")
        for record in result.records:
            # Strings here would be read as markup: a file name "[/x]" would raise.
            table.add_row(
                *(
                    Text(clean(cell, one_line=True))
                    for cell in (record.user_text, record.status_text, record.file_name)
                )
            )
        return _with_warning(view, Group(_rows(parts + footer), table))
    return _with_warning(view, _rows(parts + footer))


def _with_warning(view: ResponseView, renderable: RenderableType) -> RenderableType:
    if not view.history_error:
        return renderable
    return Group(renderable, Text(clean(f"warning: {view.history_error}", one_line=True), style="bold"))
