"""Small modal screens: confirm an action, read raw JSON.

What they show names rooms, tasks, endpoints and answers: all drawn as plain
text (`shown`), never as markup, never with raw control characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..shown import content, lines
from ..widgets.key_bar import KeyBar


def _json(text: str):
    """Highlighted JSON; pygments loads when a dialog first opens, not at start-up. Cleaned,
    it is the same JSON (`clean`), with no character that a terminal acts on."""
    from rich.syntax import Syntax

    from ...safe_text import clean

    return Syntax(clean(text), "json", word_wrap=True, background_color="default")


class ConfirmScreen(ModalScreen[bool]):
    """Shows exactly what will happen; Enter confirms, Escape goes back."""

    BINDINGS = [
        Binding("enter", "confirm", "Confirm", priority=True, id="confirm.yes"),
        Binding("escape", "cancel", "Back", id="confirm.no"),
    ]

    def __init__(self, title: str, question: str | Sequence[str], body: str | None = None) -> None:
        """`question`: one line, or several (each kept to its own line)."""
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.question = question
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            question = [self.question] if isinstance(self.question, str) else self.question
            yield Static(lines(question), classes="dialog-question")
            if self.body is not None:
                with VerticalScroll(classes="dialog-body"):
                    yield Static(_json(self.body), id="confirm-body")
            yield Static("Enter confirms · Escape goes back", classes="dialog-hint")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(".dialog").border_title = content(self.title_text)

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class RawScreen(ModalScreen[None]):
    """JSON, syntax-highlighted: the raw response or the request as sent."""

    BINDINGS = [Binding("escape,q", "close", "Close", id="raw.close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog raw"):
            yield Static(_json(self.text), id="raw-json")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(".dialog").border_title = content(self.title_text)

    def action_close(self) -> None:
        self.dismiss(None)
