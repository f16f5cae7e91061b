"""The main screen's header (TitleBar) does what Textual's Header does with one widget
fewer per part: the icon lights with its tooltip and opens the palette, a click on the
title makes the header tall, the title names the app and where it acts."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Header

from gme_tui.tui.widgets.title_bar import ICON_WIDTH, PALETTE_TOOLTIP, TitleBar


def header_text(app) -> str:
    return "".join(segment.text for segment in app.screen._compositor.render_strips()[0])


async def test_the_header_draws_icon_title_and_clock_space_in_one_widget(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(TitleBar)
        assert isinstance(bar, Header) and len(bar.children) == 1  # the title alone
        line = header_text(app)
        assert line.startswith(" ⭘      ")
        title = line[ICON_WIDTH:-10]
        assert title.strip().startswith("gme-tui — ops · ")
        assert abs(len(title) - len(title.lstrip()) - (len(title) - len(title.rstrip()))) <= 1  # centred
        assert line[-10:] == " " * 10  # the clock's space


async def test_the_icon_lights_under_the_mouse_and_a_click_opens_the_palette(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(TitleBar)
        await pilot.hover(TitleBar, offset=(2, 0))
        assert bar._icon_lit and bar.tooltip == PALETTE_TOOLTIP
        await pilot.hover(TitleBar, offset=(ICON_WIDTH + 20, 0))
        assert not bar._icon_lit and bar.tooltip is None
        await pilot.click(TitleBar, offset=(2, 0))
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        assert not bar.has_class("-tall")


async def test_a_click_on_the_title_makes_the_header_tall_and_back(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        bar = app.screen.query_one(TitleBar)
        await pilot.click(TitleBar, offset=(40, 0))
        await pilot.pause()
        assert bar.has_class("-tall") and bar.size.height == 3
        await pilot.click(TitleBar, offset=(40, 0))
        await pilot.pause()
        assert not bar.has_class("-tall") and bar.size.height == 1
