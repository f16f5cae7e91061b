"""F1 (and ? where no text field has the focus) shows every key of the screen with one
sentence each; the settings' keymap remaps keys, shown in force in the help, the key bar
and the palette; an unknown id, a bad key or a clash is a warning naming the line."""

from __future__ import annotations

import pytest
from helpers import after_first_frame, until
from test_tui_app import keys_shown, text_of

from gme_tui.tui.keys import GROUPS, KEYS
from gme_tui.tui.screens.dialogs import ConfirmScreen
from gme_tui.tui.screens.help import HelpScreen


def help_text(app) -> str:
    return text_of(app.screen.query_one("#help-keys"))


@pytest.mark.parametrize("close", ["escape", "q", "f1"])
async def test_f1_shows_every_key_of_the_main_screen_grouped_with_a_sentence(make_app, close):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        await pilot.press("f1")
        await until(lambda: isinstance(app.screen, HelpScreen), "the help", pilot)
        shown = help_text(app)
        for group in GROUPS:
            assert group in shown
        for binding_id in (
            "main.send",
            "main.stop",
            "main.copy",
            "main.maximize",
            "app.quit",
            "main.recordings",
        ):
            assert KEYS[binding_id][1] in shown
        assert "^s" in shown and "f11" in shown and "f1 / ?" in shown
        await pilot.press(close)
        await until(lambda: not isinstance(app.screen, HelpScreen), "the help closed", pilot)


async def test_question_mark_opens_the_help_only_where_no_text_field_has_the_focus(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        assert app.focused.id == "room-id"
        await pilot.press("question_mark")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.focused.value.endswith("?")  # typed, not taken
        app.screen.query_one("#history-table").focus()
        await pilot.pause()
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen), "the help", pilot)
        assert "Load the selected row's request into the form." in help_text(app)  # the table's keys too


async def test_the_palette_offers_our_help_not_textual_s_keys_panel(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Help" in titles and "Keys" not in titles


async def test_a_remapped_key_acts_and_shows_in_the_help_key_bar_and_palette(make_app, settings_path):
    settings_path.parent.mkdir(parents=True)
    settings_path.write_text(
        "theme: gme-dark\nkeymap:\n  main.send: ctrl+t\n  main.nope: f12\n  main.stop: 'ctrl+'\n"
    )
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        await until(lambda: app.keymap_checked, "the keymap checked", pilot)
        warnings = "\n".join(app.setting_warnings + app.keymap_warnings)
        assert f"{settings_path}:4: keymap: no binding has the id main.nope" in warnings
        assert f"{settings_path}:5: keymap.main.stop 'ctrl+' is not a key" in warnings
        assert "^t Send" in keys_shown(app) and "^s Send" not in keys_shown(app)
        (send,) = [c for c in app.screen.palette_commands() if c[0] == "Send StartRecord"]
        assert "(^t)" in send[1]
        app.screen.query_one("#room-id").value = "remapped"
        app.screen.query_one("#record-mode").focus()
        await pilot.press("2", "ctrl+t")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation from ctrl+t", pilot)
        await pilot.press("escape")
        await pilot.press("f1")
        await until(lambda: isinstance(app.screen, HelpScreen), "the help", pilot)
        assert "^t" in help_text(app)


def test_every_binding_of_the_console_has_a_sentence():
    """A new binding needs its entry in tui/keys.py, or the help would leave it out."""
    from textual.binding import Binding

    from gme_tui.tui.app import GmeApp
    from gme_tui.tui.screens import copy, credentials, dialogs, help, main, modify, profiles, recordings
    from gme_tui.tui.widgets import history_panel

    classes = [
        GmeApp,
        main.MainScreen,
        copy.CopyScreen,
        credentials.CredentialsScreen,
        dialogs.ConfirmScreen,
        dialogs.RawScreen,
        help.HelpScreen,
        modify.ModifyScreen,
        profiles.ProfileScreen,
        recordings.RecordingsScreen,
        history_panel.HistoryPanel,
        history_panel.HistoryFilter,
    ]
    ids = {b.id for cls in classes for b in cls.BINDINGS if isinstance(b, Binding)}
    assert None not in ids
    assert ids - set(KEYS) == set()
