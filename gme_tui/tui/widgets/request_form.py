"""The StartRecord (and ModifyRecordInfo) form: every keystroke checked by `api.fields`,
the one home of the rules.

The form only shows verdicts: which field is wrong and the rule it broke, the
warning for both lists, the count of IDs against the limit. It never decides
validity itself, and it never sends: the screen asks for `checked` and acts.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, TextArea

from ...api import fields
from ...api.actions import from_checked
from ...api.fields import RecordMode

MODE_OPTIONS = [(f"{int(mode)} {mode.words}", str(int(mode))) for mode in RecordMode]

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


def form_fields(action: str) -> list[tuple[str, str, str]]:
    return [_BIZ, _TARGET[action], *_REST]


class RequestForm(Widget, can_focus=False):
    """BizId, RoomId, RecordMode, allowlist and blocklist, validated as you type."""

    busy: reactive[bool] = reactive(False)
    relaxed: reactive[bool] = reactive(False)

    class Validated(Message):
        """The verdict changed; `checked` holds values, errors and warnings."""

        def __init__(self, checked: fields.Checked) -> None:
            super().__init__()
            self.checked = checked

    def __init__(self, *, action: str = START, biz_id: str = "", relaxed: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.action = action
        self.fields = form_fields(action)
        self.ids = {name: widget_id for name, widget_id, _help in self.fields}
        self.help = {name: help_text for name, _id, help_text in self.fields}
        self._initial_biz = biz_id
        self.set_reactive(RequestForm.relaxed, relaxed)
        self.checked = fields.Checked()

    def compose(self) -> ComposeResult:
        for name, widget_id, help_text in self.fields:
            with Horizontal(classes="field-row", id=f"{widget_id}-row"):
                yield Label(name, classes="field-label")
                if name == fields.RECORD_MODE:
                    yield Select(MODE_OPTIONS, prompt="choose 1, 2 or 3", id=widget_id, compact=True)
                elif name in (fields.ALLOW, fields.BLOCK):
                    yield TextArea(id=widget_id, soft_wrap=True, tab_behavior="focus",
                                   show_line_numbers=False, classes="id-list")
                else:
                    yield Input(value=self._initial_biz if name == fields.BIZ_ID else "",
                                placeholder=help_text, id=widget_id, compact=True)
                if name in (fields.ALLOW, fields.BLOCK):
                    yield Label(f"0/{fields.MAX_USER_IDS}", id=f"{widget_id}-count", classes="count")
            yield Static(help_text, id=f"{widget_id}-message", classes="field-message")
        with Vertical(id="send-bar"):
            yield Static("", id="send-status")

    def on_mount(self) -> None:
        self.border_title = self.action
        self.validate()

    # --- reading the fields ----------------------------------------------------

    def text(self, name: str) -> str:
        widget = self.query_one(f"#{self.ids[name]}")
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        if isinstance(widget, TextArea):
            return widget.text
        assert isinstance(widget, Input)
        return widget.value

    def to_action(self):
        """The validated request, or None while any field is invalid."""
        checked = self.validate()
        return from_checked(self.action, checked) if checked.ok else None

    def validate(self) -> fields.Checked:
        target = self.fields[1][0]
        checked = _CHECKS[self.action](
            self.text(fields.BIZ_ID), self.text(target), self.text(fields.RECORD_MODE),
            self.text(fields.ALLOW), self.text(fields.BLOCK), relaxed=self.relaxed,
        )
        self.checked = checked
        self._show(checked)
        self.post_message(self.Validated(checked))
        return checked

    def _show(self, checked: fields.Checked) -> None:
        warnings = {w.field: w for w in checked.warnings}
        for name, widget_id, _help in self.fields:
            message = self.query_one(f"#{widget_id}-message", Static)
            row = self.query_one(f"#{widget_id}-row")
            error = checked.errors.get(name)
            warning = warnings.get(name)
            row.set_class(error is not None, "-invalid")
            message.set_class(error is not None, "-error")
            message.set_class(error is None and warning is not None, "-warning")
            if error is not None:
                message.update(error.rule)
            elif warning is not None:
                message.update(f"warning: {warning.message}")
            else:
                message.update(self.help[name])
        for name in (fields.ALLOW, fields.BLOCK):
            count = len(fields.split_user_ids(self.text(name)))
            label = self.query_one(f"#{self.ids[name]}-count", Label)
            label.update(f"{count}/{fields.MAX_USER_IDS}")
            label.set_class(count > fields.MAX_USER_IDS, "-over")
        self._show_status()

    def _show_status(self) -> None:
        status = self.query_one("#send-status", Static)
        status.set_class(False, "-error", "-ready", "-busy")
        if self.busy:
            status.update("Sending… (a second send waits for this one)")
            status.add_class("-busy")
        elif self.checked.errors:
            # The rules themselves show under each field; this line says what blocks the send.
            names = [name for name, _id, _help in self.fields if name in self.checked.errors]
            status.update(f"Cannot send: fix {', '.join(names)}")
            status.add_class("-error")
        else:
            status.update(f"Ready: Ctrl+S sends {self.action}")
            status.add_class("-ready")

    # --- events ------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.validate()

    def on_select_changed(self, event: Select.Changed) -> None:
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
        """Fill the form from a request's parameters (a history row), then check it."""
        for name in (fields.BIZ_ID, fields.ROOM_ID, fields.TASK_ID):
            if name in params and name in self.ids:
                self.query_one(f"#{self.ids[name]}", Input).value = str(params[name])
        if set(params) <= {fields.BIZ_ID}:
            self.validate()
            return
        mode = params.get("RecordMode")
        select = self.query_one(f"#{self.ids[fields.RECORD_MODE]}", Select)
        if mode in (1, 2, 3):
            select.value = str(mode)
        else:
            select.clear()
        lists = params.get("SubscribeRecordUserIds") or {}
        self.query_one(f"#{self.ids[fields.ALLOW]}", TextArea).text = ", ".join(
            str(x) for x in lists.get("SubscribeUserIds") or ())
        self.query_one(f"#{self.ids[fields.BLOCK]}", TextArea).text = ", ".join(
            str(x) for x in lists.get("UnSubscribeUserIds") or ())
        self.validate()

    def focus_first_invalid(self) -> None:
        for name, widget_id, _help in self.fields:
            if name in self.checked.errors:
                self.query_one(f"#{widget_id}").focus()
                return
