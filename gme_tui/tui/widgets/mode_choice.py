"""RecordMode as three choices on one line: a digit picks one.

Faster to operate than a drop-down (one key, nothing to open) and one widget
where Textual's Select mounts five, a fifth of the console's start-up. The
line under the field (the form's) says what the chosen mode means.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from ...api.fields import RecordMode

_MODES = list(RecordMode)


def _label(mode: RecordMode) -> str:
    return f" {int(mode)} {mode.short} "


class ModeChoice(Widget, can_focus=True):
    """`1` `2` `3` pick a mode, ←/→ (or Space) step through them, Backspace or Delete
    clears; a click on a mode picks it."""

    BINDINGS = [
        *(Binding(str(int(mode)), f"pick({int(mode)})", show=False) for mode in _MODES),
        Binding("left", "step(-1)", show=False),
        Binding("right,space", "step(1)", show=False),
        Binding("backspace,delete", "clear", show=False),
    ]
    COMPONENT_CLASSES = {"mode-choice--chosen", "mode-choice--hint"}

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
        chosen = self.get_visual_style("mode-choice--chosen")
        parts = [
            Content(_label(mode)).stylize(chosen) if mode == self.value else Content(_label(mode))
            for mode in _MODES
        ]
        if self.value is None:
            parts.append(Content.styled(" press 1, 2 or 3", self.get_visual_style("mode-choice--hint")))
        return Content(" ").join(parts)

    def on_click(self, event: events.Click) -> None:
        """A click on a mode picks it (the line is laid out as `render` draws it)."""
        start = 0
        for mode in _MODES:
            end = start + len(_label(mode))
            if start <= event.x < end:
                self.value = mode
                return
            start = end + 1

    def watch_value(self, value: RecordMode | None) -> None:
        self.post_message(self.Changed(self, value))

    def action_pick(self, number: int) -> None:
        self.value = RecordMode(number)

    def action_step(self, by: int) -> None:
        at = _MODES.index(self.value) + by if self.value is not None else (0 if by > 0 else len(_MODES) - 1)
        self.value = _MODES[max(0, min(at, len(_MODES) - 1))]

    def action_clear(self) -> None:
        self.value = None
