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


def _pretty(text: str) -> str:
    """JSON indented for reading, the same values (64-bit integers exact); as it is if it
    is not JSON."""
    import json

    try:
        return json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    except ValueError:
        return text


class ConfirmScreen(ModalScreen[bool]):
    """Shows exactly what will happen; Enter confirms, Escape goes back. A body shows
    pretty-printed (no line cut mid-token); `b` shows the exact bytes that are signed."""

    BINDINGS = [
        Binding("enter", "confirm", "Confirm", priority=True, id="confirm.yes"),
        Binding("escape", "cancel", "Back", id="confirm.no"),
        Binding("b", "toggle_bytes", "Exact bytes", id="confirm.bytes"),
    ]

    def __init__(self, title: str, question: str | Sequence[str], body: str | None = None) -> None:
        """`question`: one line, or several (each kept to its own line); `body`: the exact
        JSON text that will be signed and sent."""
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.question = question
        self.body = body
        self.exact = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.body is not None if action == "toggle_bytes" else True

    def _shown_body(self):
        assert self.body is not None, "only a dialog with a body shows one"
        if self.exact:
            from rich.text import Text

            from ...safe_text import clean

            # As it goes out: one line, folded at the edge where it must be.
            return Text(clean(self.body), overflow="fold")
        return _json(_pretty(self.body))

    def _label(self) -> str:
        if self.exact and self.body is not None:
            return f"Signed and sent: exactly these {len(self.body.encode())} bytes"
        return "Signed and sent: this body (pretty-printed; Exact bytes shows it as sent)"

    def action_toggle_bytes(self) -> None:
        self.exact = not self.exact
        self.query_one("#confirm-body", Static).update(self._shown_body())
        self.query_one("#confirm-body-label", Static).update(self._label())

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            question = [self.question] if isinstance(self.question, str) else self.question
            yield Static(lines(question), classes="dialog-question")
            if self.body is not None:
                yield Static(self._label(), id="confirm-body-label")
                with VerticalScroll(classes="dialog-body"):
                    yield Static(self._shown_body(), id="confirm-body")
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
