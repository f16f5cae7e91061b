"""The StartRecord (and ModifyRecordInfo) form: every keystroke checked by `api.fields`,
the one home of the rules.

The form only shows verdicts: which field is wrong and the rule it broke, the
warning for both lists, the count of IDs against the limit. It never decides
validity itself, and it never sends: the screen asks for `checked` and acts.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

from ...api import fields
from ...api.fields import RecordMode
from ...safe_text import marked
from ..shown import MARKED, content
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


class IdList(TextArea):
    """A list of user IDs, drawn `marked`: pasted or loaded text may hold anything."""

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        line.plain = marked(line.plain)  # as long as before: nothing moves
        return line


def form_fields(action: str) -> list[tuple[str, str, str]]:
    return [_BIZ, _TARGET[action], *_REST]


class RequestForm(Widget, can_focus=False):
    """BizId, RoomId, RecordMode, allowlist and blocklist, validated as you type."""

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

    def compose(self) -> ComposeResult:
        # The first verdict is drawn as the widgets are made: a class changed after
        # mount restyles the whole form, which start-up pays for (benchmarks/startup.py).
        checked = self.checked = self._check(self._initial_biz, "", "", "", "")
        for name, widget_id, help_text in self.fields:
            invalid = " -invalid" if name in checked.errors else ""
            with Horizontal(classes="field-row" + invalid, id=f"{widget_id}-row"):
                yield Label(name, classes="field-label")
                if name == fields.RECORD_MODE:
                    yield ModeChoice(id=widget_id)
                elif name in (fields.ALLOW, fields.BLOCK):
                    yield IdList(
                        id=widget_id,
                        soft_wrap=True,
                        tab_behavior="focus",
                        show_line_numbers=False,
                        classes="id-list",
                    )
                else:
                    yield Input(
                        value=self._initial_biz if name == fields.BIZ_ID else "",
                        placeholder=help_text,
                        id=widget_id,
                        compact=True,
                        highlighter=MARKED,
                    )
                if name in (fields.ALLOW, fields.BLOCK):
                    text, over = _count("")
                    yield Label(text, id=f"{widget_id}-count", classes="count" + over)
            text, kind = self._message(name, checked)
            yield Static(content(text), id=f"{widget_id}-message", classes="field-message " + kind)
        with Vertical(id="send-bar"):
            text, kind = self._status()
            yield Static(text, id="send-status", classes=kind)

    def on_mount(self) -> None:
        self.border_title = self.action

    # --- reading the fields ----------------------------------------------------

    def text(self, name: str) -> str:
        widget = self.query_one(f"#{self.ids[name]}")
        if isinstance(widget, ModeChoice):
            return "" if widget.value is None else str(int(widget.value))
        if isinstance(widget, TextArea):
            return widget.text
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
        for name, widget_id, _help in self.fields:
            self.query_one(f"#{widget_id}-row").set_class(name in checked.errors, "-invalid")
            text, kind = self._message(name, checked)
            message = self.query_one(f"#{widget_id}-message", Static)
            message.set_class(kind == "-error", "-error")
            message.set_class(kind == "-warning", "-warning")
            message.update(content(text))  # a rule quotes what was typed: "[/x]" is no markup
        for name in (fields.ALLOW, fields.BLOCK):
            text, over = _count(self.text(name))
            label = self.query_one(f"#{self.ids[name]}-count", Label)
            label.update(text)
            label.set_class(bool(over), "-over")
        self._show_status()
        return checked

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
        status = self.query_one("#send-status", Static)
        text, kind = self._status()
        status.set_classes(kind)
        status.update(text)

    # --- events ------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.validate()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
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
        with self.prevent(Input.Changed, TextArea.Changed, ModeChoice.Changed):
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
            self.query_one(f"#{self.ids[name]}", TextArea).text = ", ".join(
                str(x) for x in lists.get(name) or ()
            )

    def focus_first_invalid(self) -> None:
        for name, widget_id, _help in self.fields:
            if name in self.checked.errors:
                self.query_one(f"#{widget_id}").focus()
                return
