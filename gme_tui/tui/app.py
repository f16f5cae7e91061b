"""The console app. For now a start screen: the form arrives with the TUI issue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.widgets import Footer, Header, Static

if TYPE_CHECKING:
    from ..cli import Context


WELCOME = (
    "gme-tui\n\nThe recording form arrives soon. Meanwhile the command line works:\n"
    "  gme-tui --demo start --room-id lobby --mode mixed\n\nCtrl+Q quits."
)


class GmeApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "gme-tui"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="quit")]

    def __init__(self, *, profile: str, endpoint: str, demo: bool = False) -> None:
        super().__init__()
        self.profile = profile
        self.endpoint = endpoint
        self.demo = demo
        self.sub_title = f"{profile} · {endpoint}"

    def compose(self) -> ComposeResult:
        yield Header()
        if self.demo:
            yield Static("DEMO: local emulator, demo credentials", id="demo-marker")
        with Container(id="body"):
            yield Static(WELCOME, id="welcome")
        yield Footer()


def run_app(ctx: Context) -> int:
    app = GmeApp(profile="demo" if ctx.demo else ctx.args.profile, endpoint=ctx.endpoint,
                 demo=ctx.demo is not None)
    app.run()
    return app.return_code or 0
