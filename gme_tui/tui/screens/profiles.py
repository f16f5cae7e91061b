"""Choose a profile: the ones in the settings file and the keyring, or a new name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.worker import Worker

from ..shown import MarkedInput, content
from ..widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from ..app import GmeApp


class ProfileScreen(ModalScreen[str | None]):
    app: GmeApp

    BINDINGS = [
        # Priority: the list and the name box would take Enter themselves, out of the key bar.
        Binding("enter", "pick", "Switch", priority=True, id="profiles.pick"),
        Binding("escape", "close", "Back", id="profiles.close"),
    ]

    def __init__(self, current: str) -> None:
        super().__init__(classes="dialog-screen")
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="profiles"):
            yield Static("Enter picks a profile; or type a new name below.", classes="dialog-question")
            yield OptionList(id="profile-list")
            yield MarkedInput(
                placeholder="new profile name, then Enter",
                id="profile-name",
                compact=True,
            )
            yield Static("", id="profile-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#profiles").border_title = "Switch profile"
        self._fill(sorted(set(self.app.all_settings.profiles) | {self.current, "default"}))
        self.query_one("#profile-list").focus()
        self._from_keyring()

    def _fill(self, names: list[str]) -> None:
        options = self.query_one("#profile-list", OptionList)
        options.clear_options()
        # Names from the settings file and the keyring: plain text, never markup.
        options.add_options(
            [content(f"{name}{'  (current)' if name == self.current else ''}") for name in names]
        )
        self.names = names

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.on_worker_state_changed(event)  # to the app's one sink: the message does not bubble

    @work(thread=True, exit_on_error=False, name="Keyring profiles")
    def _from_keyring(self) -> None:
        from ...credentials import KEYRING_ERRORS, KeyringStore

        try:
            stored = KeyringStore().list_profiles()
        except KEYRING_ERRORS as error:
            self.app.call_from_thread(
                self.query_one("#profile-status", Static).update, content(f"Keyring: {error}")
            )
            return
        merged = sorted(set(self.names) | set(stored))
        if merged != self.names:
            self.app.call_from_thread(self._fill, merged)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._pick_typed(event.value)

    def _pick_typed(self, typed: str) -> None:
        from ...api.fields import FieldError
        from ...credentials import check_profile

        try:
            name = check_profile(typed.strip())
        except FieldError as error:
            self.query_one("#profile-status", Static).update(content(error))
            return
        self.dismiss(name)

    def action_pick(self) -> None:
        """Enter: the name typed where the name box has the focus, else the highlighted profile."""
        typed = self.query_one("#profile-name", Input)
        if typed.has_focus:
            self._pick_typed(typed.value)
            return
        options = self.query_one("#profile-list", OptionList)
        if options.highlighted is not None:
            self.dismiss(self.names[options.highlighted])

    def action_close(self) -> None:
        self.dismiss(None)
