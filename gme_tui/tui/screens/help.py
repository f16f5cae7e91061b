"""Every key of the screen it was opened from, in force now, one sentence each, grouped
(form, recording, history, app). Escape or q closes it."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from ...safe_text import clean
from ..keys import GROUPS, KEYS, keys_in_force
from ..widgets.key_bar import KeyBar


def keys_of(screen: Screen) -> dict[str, list[tuple[str, str]]]:
    """The keys bound on `screen`, its widgets and the app, by group: (keys, sentence),
    each binding id once with every key it has now."""
    nodes: list[DOMNode] = [screen, *screen.walk_children(with_self=False), screen.app]
    found: dict[str, list[str]] = {}
    for node in nodes:
        for key, binding in node._bindings:
            if node is screen.app and screen.is_modal and not binding.priority:
                continue  # a dialog keeps the app's keys out, but for its priority ones
            if binding.id in KEYS:
                keys = found.setdefault(binding.id, [])
                for shown in keys_in_force(node, key, binding):
                    if shown not in keys:
                        keys.append(shown)
    grouped: dict[str, list[tuple[str, str]]] = {group: [] for group in GROUPS}
    for binding_id, keys in found.items():
        group, sentence = KEYS[binding_id]
        grouped[group].append((" / ".join(keys), sentence))
    return {group: rows for group, rows in grouped.items() if rows}


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1", "close", "Close", id="help.close")]

    def __init__(self, screen: Screen, title: str) -> None:
        super().__init__(classes="dialog-screen")
        self.keys = keys_of(screen)
        self.title_text = title

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column()
        for group, rows in self.keys.items():
            table.add_row(Text(group, style="bold underline"), "")
            for keys, sentence in rows:
                table.add_row(Text(clean(keys, one_line=True)), Text(sentence))  # keys may come from settings
            table.add_row("", "")
        with VerticalScroll(classes="dialog raw", id="help"):
            yield Static(table, id="help-keys")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#help").border_title = self.title_text

    def action_close(self) -> None:
        self.dismiss(None)
