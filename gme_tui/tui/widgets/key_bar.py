"""The keys that can act now, at the bottom of a screen: one line, or two where one is too narrow.

Textual's Footer mounts a widget per key and rebuilds them all whenever the
bindings change, which is on every focus change, Tab included: about 11 ms at
start-up and on each Tab. This bar is one widget whose line is redrawn. As in
the Footer, a key that is there but cannot act is dim, a click presses a key,
the palette's key sits at the right end, and the theme's footer colours apply.

Order: the focused widget's own keys first (the history table's `l` and `/`),
then the screen's in the order it declares them, whatever has the focus (a
focused TextArea also binds F6 and F7, which would otherwise pull them ahead),
then the app's. Only whole keys are shown, never one cut in the middle. Where
one line cannot hold them all (80 columns after a send) the bar takes a second
line, so every key that can act stays in sight; only past two lines are keys
left out.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.cells import cell_len
from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Size
from textual.screen import ActiveBinding, Screen
from textual.widget import Widget

#: lines the bar may take; keys beyond them are left out whole
MAX_LINES = 2


class Key(NamedTuple):
    key: str
    display: str
    description: str
    enabled: bool
    #: the app's own (help, quit): kept in the bar, others left out first where it is full
    essential: bool = False


class KeyBar(Widget):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--disabled"}

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
        screen, app = self.screen, self.app
        declared = {
            binding.action: n for n, binding in enumerate(screen.BINDINGS) if isinstance(binding, Binding)
        }
        ranked: list[tuple[tuple[int, int], Key]] = []
        palette, seen = None, set()
        for n, (node, binding, enabled, _tooltip) in enumerate(self._in_force(screen)):
            key = Key(
                binding.key.split(",")[0],
                app.get_key_display(binding),
                binding.description,
                enabled,
                node is app,
            )
            # Hidden from lists, shown here as in the Footer; found by its action, for a keymap may move it.
            if binding.action in ("command_palette", "app.command_palette"):
                palette = key if app.ENABLE_COMMAND_PALETTE else None
            elif binding.show and binding.action not in seen:
                seen.add(binding.action)
                if node is screen:
                    rank = (1, declared.get(binding.action, len(declared) + n))
                else:
                    rank = (2 if node is app else 0, n)
                ranked.append((rank, key))
        keys = [key for _rank, key in sorted(ranked, key=lambda pair: pair[0])]
        if (keys, palette) != (self.keys, self.palette):
            lines = self._lines()
            self.keys, self.palette = keys, palette
            self.refresh(layout=self._lines() != lines)  # a new height needs a layout; a new line does not

    @staticmethod
    def _in_force(screen: Screen) -> list[ActiveBinding]:
        """The screen's active bindings; on a dialog, with the app's priority keys after them
        (F1, Ctrl+Q): they act past a dialog, though Textual lists only the dialog's own."""
        active = dict(screen.active_bindings)
        if screen.is_modal:
            app = screen.app
            for node, bindings in screen._binding_chain:
                if node is not app:
                    continue
                for key, binding in bindings:
                    if binding.priority and key not in active:
                        active[key] = ActiveBinding(app, binding, True, binding.tooltip)
        return list(active.values())

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(self._lines(width), self._beneath())

    def _beneath(self) -> int:
        """On a dialog, the height of the bar under it, so the dialog's keys cover those
        keys instead of showing beneath them (dimmed, but looking as if they acted)."""
        screen, stack = self.screen, self.app.screen_stack
        if not screen.is_modal or screen not in stack or stack.index(screen) == 0:
            return 0
        bars = stack[stack.index(screen) - 1].query(KeyBar)
        return bars.first().size.height if bars else 0

    def _lines(self, width: int | None = None, placed: list[tuple[int, int, Key]] | None = None) -> int:
        placed = self._layout(width) if placed is None else placed
        return 1 + max((row for row, _at, _key in placed), default=0)

    def _layout(self, width: int | None = None) -> list[tuple[int, int, Key]]:
        """Where each shown key goes, as (line, column): whole keys from the left while
        they fit, then on the next line; the palette's key at the first line's right end
        after a bar."""
        width = self.size.width if width is None else width
        keys = list(self.keys)
        while True:
            placed = self._place(keys, width)
            kept = {key for _row, _at, key in placed}
            missing = [key for key in keys if key.essential and key not in kept]
            others = [n for n, key in enumerate(keys) if not key.essential]
            if not missing or not others:
                return placed
            del keys[others[-1]]  # the last of the others makes room for the app's own

    def _place(self, keys: list[Key], width: int) -> list[tuple[int, int, Key]]:
        right = _width(self.palette) + 1 if self.palette is not None else 0
        placed, row, at = [], 0, 0
        for key in keys:
            if at + _width(key) > width - right and at:
                row, at = row + 1, 0
            if row >= MAX_LINES or _width(key) > width - right:
                break
            placed.append((row, at, key))
            at += _width(key)
        if self.palette is not None and width:
            placed.append((0, width - right + 1, self.palette))
        return placed

    def render(self) -> Content:
        key_style = self.get_visual_style("key-bar--key")
        description_style = self.get_visual_style("key-bar--description")
        disabled_style = self.get_visual_style("key-bar--disabled")
        placed = self._layout()
        lines = [Content("") for _ in range(self._lines(placed=placed))]
        for row, at, key in placed:
            line = lines[row]
            if key is self.palette:
                line = line.pad_right(max(0, at - 1 - line.cell_length)) + Content("│")
            shown = Content.assemble(
                (f" {key.display} ", key_style), (f"{key.description} ", description_style)
            )
            lines[row] = line + (shown if key.enabled else shown.stylize(disabled_style))
        return Content("\n").join(lines)

    def on_click(self, event: events.Click) -> None:
        """A click on a key presses it, as in the Footer."""
        for row, at, key in self._layout():
            if row == event.y and at <= event.x < at + _width(key):
                self.app.simulate_key(key.key)
                return


def _width(key: Key) -> int:
    return cell_len(f" {key.display} {key.description} ")
