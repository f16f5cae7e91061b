"""Modify a running task as a diff: the form opens on the task's mode and lists as last
known, and what will change is shown and confirmed before ModifyRecordInfo goes out.

ModifyRecordInfo replaces the mode and both lists: a list left out of it is emptied.
So the form never opens empty, and the confirmation says in words which list a
send would empty.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from ...api.actions import ModifyRecordInfo, encode_body
from ..widgets.key_bar import KeyBar
from ..widgets.request_form import MODIFY, RequestForm


class ModifyScreen(ModalScreen[ModifyRecordInfo | None]):
    BINDINGS = [
        Binding("ctrl+s", "submit", "Review and send", priority=True, id="modify.send"),
        Binding("escape", "cancel", "Back", id="modify.back"),
    ]

    def __init__(
        self,
        params: dict[str, Any],
        mode: int | None,
        allow: tuple[str, ...],
        block: tuple[str, ...],
        destination: str,
        *,
        relaxed: bool = False,
    ) -> None:
        """`params`: what the form opens with; `mode`, `allow`, `block`: the task as last
        known, what the diff is taken against; `destination`: where it goes, in words."""
        super().__init__(classes="dialog-screen")
        self.params = params
        self.before = (mode, allow, block)
        self.destination = destination
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
        from ...recordings import modify_diff
        from .dialogs import ConfirmScreen

        form = self.query_one(RequestForm)
        action = form.to_action()
        if not isinstance(action, ModifyRecordInfo):
            form.focus_first_invalid()
            self.app.bell()
            return
        self.app.push_screen(
            ConfirmScreen(
                "Send ModifyRecordInfo?",
                [
                    f"Task {action.task_id}: the mode and both lists are replaced.",
                    *(f"  {line}" for line in modify_diff(*self.before, action)),
                    f"To {self.destination}",
                ],
                encode_body(action.params()).decode("utf-8"),
            ),
            lambda yes: self._sent(action) if yes else None,
        )

    def _sent(self, action: ModifyRecordInfo) -> None:
        self.dismiss(action)

    def action_cancel(self) -> None:
        self.dismiss(None)
