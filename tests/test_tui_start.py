"""The app starts, shows where it sends and quits on Ctrl+Q (the full console is its own issue)."""

from __future__ import annotations

from textual.widgets import Static

from gme_tui.tui.app import GmeApp


async def test_the_app_starts_and_quits_on_ctrl_q():
    app = GmeApp(profile="ops", endpoint="https://gme.tencentcloudapi.com")
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.sub_title == "ops · https://gme.tencentcloudapi.com"
        assert not app.query("#demo-marker")
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_demo_mode_shows_a_marker():
    app = GmeApp(profile="demo", endpoint="http://127.0.0.1:1", demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        marker = app.query_one("#demo-marker", Static)
        assert "DEMO" in str(marker.render())
        await pilot.press("ctrl+q")
