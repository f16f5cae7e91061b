"""The main screen's header: Textual's `Header`, with its icon and its clock space drawn
by the header itself instead of by two widgets of their own.

Every widget of the main screen is styled as the console starts and visited on every
refresh and keystroke; these two only ever drew a glyph and a blank. The title stays
Textual's `HeaderTitle`, kept up to date by `Header` as before. What the operator
sees and can do is the same: the icon at the left (lit under the mouse, with its
tooltip, a click opens the command palette), the title centred between the icon and
the clock's space, a click elsewhere makes the header tall.
"""

from __future__ import annotations

from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.strip import Strip
from textual.widgets import Header
from textual.widgets._header import HeaderTitle

#: the icon's column (a padding cell each side of the glyph, as Textual's HeaderIcon)
ICON_WIDTH = 8
#: the clock's space at the right, as Textual's HeaderClockSpace
CLOCK_WIDTH = 10
PALETTE_TOOLTIP = "Open the command palette"


class TitleBar(Header):
    """One widget and a title where Textual's header has four."""

    COMPONENT_CLASSES = {"title-bar--icon-hover"}

    DEFAULT_CSS = f"""
    TitleBar > HeaderTitle {{
        width: 1fr;
        margin: 0 {CLOCK_WIDTH} 0 {ICON_WIDTH};
    }}
    TitleBar > .title-bar--icon-hover {{
        background: $foreground 10%;
    }}
    """

    _icon_lit = False

    def compose(self) -> ComposeResult:
        yield HeaderTitle()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.visual_style.rich_style
        icon_style = self.get_component_rich_style("title-bar--icon-hover") if self._icon_lit else base
        glyph = self.icon if y == (self.size.height - 1) // 2 else ""  # content-align: left middle
        icon = f" {glyph}".ljust(ICON_WIDTH)[:ICON_WIDTH]
        return Strip([Segment(icon, icon_style), Segment(" " * max(0, width - ICON_WIDTH), base)]).crop(
            0, width
        )

    def _on_icon(self, event: events.MouseEvent) -> bool:
        return event.screen_x - self.region.x < ICON_WIDTH

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._light_icon(self._on_icon(event))

    def on_leave(self, event: events.Leave) -> None:
        self._light_icon(False)

    def _light_icon(self, lit: bool) -> None:
        lit = lit and self.app.ENABLE_COMMAND_PALETTE  # Textual disables the icon without one
        if lit != self._icon_lit:
            self._icon_lit = lit
            self.tooltip = PALETTE_TOOLTIP if lit else None
            self.refresh()

    async def _on_click(self, event: events.Click) -> None:  # type: ignore[override]
        """On the icon, the palette (and not Header's own handler, which makes it tall)."""
        if self._on_icon(event):
            event.stop()
            event.prevent_default()
            if self.app.ENABLE_COMMAND_PALETTE:
                await self.run_action("app.command_palette")
