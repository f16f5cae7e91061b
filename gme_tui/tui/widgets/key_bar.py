"""The keys that can act now, on one line at the bottom of a screen.

Textual's Footer mounts a widget per key and rebuilds them all whenever the
bindings change, which is on every focus change, Tab included: about 11 ms at
start-up and on each Tab. This bar is one widget whose line is redrawn. As in
the Footer, a key that is there but cannot act is dim, and a click presses it.
"""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding
from textual.content import Content
from textual.widget import Widget


class Key(NamedTuple):
    key: str
    display: str
    description: str
    enabled: bool


class KeyBar(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key"}

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[Key] = []
        self.palette: Key | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object = None) -> None:
        ranked: list[tuple[tuple[int, int], Key]] = []
        palette, seen = None, set()
        # The screen's own keys first, in the order it declares them, whatever has the
        # focus (a focused TextArea also binds F6 and F7, which would move them ahead).
        declared = {binding.action: n for n, binding in enumerate(self.screen.BINDINGS)
                    if isinstance(binding, Binding)}
        for n, (_node, binding, enabled, _tooltip) in enumerate(self.screen.active_bindings.values()):
            key = Key(binding.key.split(",")[0], self.app.get_key_display(binding), binding.description, enabled)
            if binding.key == self.app.COMMAND_PALETTE_BINDING:  # hidden from lists, shown here as in the Footer
                palette = key if self.app.ENABLE_COMMAND_PALETTE else None
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)
                rank = (0, declared[binding.action]) if binding.action in declared else (1, n)
                ranked.append((rank, key))
        keys = [key for _rank, key in sorted(ranked, key=lambda pair: pair[0])]
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def render(self) -> Content:
        """The keys from the left, the palette's key at the right end, always shown."""
        key_style = self.get_visual_style("key-bar--key")

        def show(key: Key) -> Content:
            shown = Content.assemble((f" {key.display} ", key_style), f"{key.description} ")
            shown = shown.stylize(f"@click=app.simulate_key({key.key!r})")
            return shown if key.enabled else shown.stylize("dim")

        line = Content("").join(show(key) for key in self.keys)
        if self.palette is None:
            return line
        right = Content.assemble("│", show(self.palette))
        room = max(0, self.size.width - right.cell_length)
        return Content.assemble(line.truncate(room, pad=True), right)
