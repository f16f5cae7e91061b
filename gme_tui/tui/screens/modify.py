"""Modify a running task: mode and lists, checked by the same form and rules as StartRecord."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from ...api.actions import ModifyRecordInfo
from ..widgets.key_bar import KeyBar
from ..widgets.request_form import MODIFY, RequestForm


class ModifyScreen(ModalScreen[ModifyRecordInfo | None]):
    BINDINGS = [
        Binding("ctrl+s", "submit", "Send ModifyRecordInfo", priority=True, id="modify.send"),
        Binding("escape", "cancel", "Back", id="modify.back"),
    ]

    def __init__(self, params: dict[str, Any], *, relaxed: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self.params = params
        self.relaxed = relaxed

    def compose(self) -> ComposeResult:
        yield RequestForm(action=MODIFY, relaxed=self.relaxed, id="modify-form")
        yield KeyBar()

    def on_mount(self) -> None:
        form = self.query_one(RequestForm)
        form.add_class("dialog")
        form.load(self.params)
        form.query_one("#record-mode").focus()

    def action_submit(self) -> None:
        form = self.query_one(RequestForm)
        action = form.to_action()
        if action is None:
            form.focus_first_invalid()
            self.app.bell()
            return
        self.dismiss(action)

    def action_cancel(self) -> None:
        self.dismiss(None)
