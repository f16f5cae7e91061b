"""RecordMode as three choices on one line: a digit picks one.

Faster to operate than a drop-down (one key, nothing to open) and one widget
where Textual's Select mounts five, a fifth of the console's start-up.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from ...api.fields import RecordMode

_MODES = list(RecordMode)


class ModeChoice(Widget, can_focus=True):
    """`1` `2` `3` pick a mode, ←/→ step through them, Backspace clears; a click picks too."""

    BINDINGS = [
        *(Binding(str(int(mode)), f"pick({int(mode)})", show=False) for mode in _MODES),
        Binding("left", "step(-1)", show=False),
        Binding("right,space", "step(1)", show=False),
        Binding("backspace,delete", "clear", show=False),
    ]

    value: reactive[RecordMode | None] = reactive(None, init=False)

    class Changed(Message):
        def __init__(self, choice: ModeChoice, value: RecordMode | None) -> None:
            super().__init__()
            self.choice = choice
            self.value = value

        @property
        def control(self) -> ModeChoice:
            return self.choice

    def render(self) -> Content:
        parts = []
        for mode in _MODES:
            style = "bold reverse " if mode == self.value else ""
            parts.append(f"[{style}@click=pick({int(mode)})] {int(mode)} {mode.short} [/]")
        if self.value is None:
            parts.append("[dim] press 1, 2 or 3[/]")
        return Content.from_markup(" ".join(parts))

    def watch_value(self, value: RecordMode | None) -> None:
        self.post_message(self.Changed(self, value))

    def action_pick(self, number: int) -> None:
        self.value = RecordMode(number)

    def action_step(self, by: int) -> None:
        at = _MODES.index(self.value) + by if self.value is not None else (0 if by > 0 else len(_MODES) - 1)
        self.value = _MODES[max(0, min(at, len(_MODES) - 1))]

    def action_clear(self) -> None:
        self.value = None
