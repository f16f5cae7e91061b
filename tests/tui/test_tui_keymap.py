"""The settings' keymap as an operator uses it: a remapped key acts (and the old one no
longer does), the key bar, the help and the palette show it; an unknown id and a key
that another binding already has are warnings naming the line, and that entry is left
out so every key does one thing. The key bar keeps the help and Quit in sight."""

from __future__ import annotations

import pytest
from helpers import after_first_frame, send_confirmed, started, until
from test_tui_app import fill, keys_shown, text_of

from gme_tui.tui.keys import KEYS, checked_keymap, default_keys
from gme_tui.tui.screens.dialogs import ConfirmScreen
from gme_tui.tui.screens.help import HelpScreen
from gme_tui.tui.screens.profiles import ProfileScreen
from gme_tui.tui.widgets.key_bar import KeyBar


@pytest.fixture
def keymap(settings_path):
    def write(*entries: str) -> None:
        settings_path.parent.mkdir(parents=True, exist_ok=True)
        settings_path.write_text("theme: gme-dark\nkeymap:\n" + "".join(f"  {e}\n" for e in entries))

    return write


def help_row(app, sentence: str) -> str:
    """The help's line that holds `sentence`."""
    (line,) = [line for line in text_of(app.screen.query_one("#help-keys")).splitlines() if sentence in line]
    return line


async def test_ctrl_t_sends_once_remapped_and_ctrl_s_no_longer_does(make_app, keymap, emulator):
    keymap("main.send: ctrl+t")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(pilot)
        assert app.keymap_warnings == app.setting_warnings == []
        assert "^t Send" in keys_shown(app) and "^s" not in keys_shown(app)
        await fill(pilot, room="remapped", mode="2")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("ctrl+t")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation from ctrl+t", pilot)
        await pilot.press("enter")
        await until(lambda: started(emulator) == 1, "the StartRecord sent", pilot)
        await pilot.press("f1")
        await until(lambda: isinstance(app.screen, HelpScreen), "the help", pilot)
        row = help_row(app, KEYS["main.send"][1])
        assert row.split()[0] == "^t"
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, HelpScreen), "the help closed", pilot)
        (send,) = [hint for title, hint, _ in app.screen.palette_commands() if title == "Send StartRecord"]
        assert send.endswith("(^t)")


async def test_the_help_itself_can_move_and_the_palette_names_its_key(make_app, keymap):
    keymap("app.help: f12")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await checked(pilot)
        assert "f12 Help" in keys_shown(app) and "f1 " not in keys_shown(app)
        (hint,) = [c.help for c in app.get_system_commands(app.screen) if c.title == "Help"]
        assert hint.endswith("(f12)")
        await pilot.press("f1")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f12")
        await until(lambda: isinstance(app.screen, HelpScreen), "the help from f12", pilot)
        assert help_row(app, KEYS["app.help"][1]).split()[0] == "f12"
        await pilot.press("q")
        await until(lambda: not isinstance(app.screen, HelpScreen), "the help closed by q", pilot)


async def test_the_palette_key_can_move_and_the_bar_keeps_it_at_its_end(make_app, keymap):
    from textual.command import CommandPalette

    keymap("app.palette: f10")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(pilot)
        assert app.keymap_warnings == app.setting_warnings == []
        assert keys_shown(app).rstrip().endswith("│ f10 palette")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        await pilot.press("f10")
        await until(lambda: isinstance(app.screen, CommandPalette), "the palette from f10", pilot)


async def test_the_help_of_a_dialog_lists_only_what_acts_there(make_app):
    """In a dialog the app's ? does not act (only its priority keys reach past a dialog)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(pilot)
        await fill(pilot, room="dialog-help", mode="2")
        await pilot.press("ctrl+s")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation", pilot)
        await pilot.pause()
        shown = keys_shown(app)  # the dialog's keys, then the app's that act past it
        assert shown.index("Confirm") < shown.index("f1 Help") and "^q Quit" in shown
        await pilot.press("f1")
        await until(lambda: isinstance(app.screen, HelpScreen), "the help of the confirmation", pilot)
        assert app.screen.query_one("#help").border_title == "Keys of this screen"
        assert help_row(app, KEYS["confirm.yes"][1]).split()[0] == "⏎"
        assert help_row(app, KEYS["app.help"][1]).split()[:2] == ["f1", "This"]
        assert KEYS["main.send"][1] not in text_of(app.screen.query_one("#help-keys"))
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "back at the confirmation", pilot)


async def test_a_bracket_key_shows_as_itself_in_the_palette(make_app, keymap):
    """The palette's help lines are markup: a key such as [ must not open a tag."""
    keymap("main.send: '['", "app.help: ']'")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(pilot)
        assert app.keymap_warnings == app.setting_warnings == []
        await pilot.press("ctrl+p")
        await pilot.press(*"send")
        await until(lambda: "Send StartRecord" in palette_text(app), "the palette's hit", pilot)
        assert "check the form and send it ([)" in palette_text(app)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.press(*"help")
        await until(lambda: "one sentence each (])" in palette_text(app), "the help's hit", pilot)


def palette_text(app) -> str:
    from textual.command import CommandList

    lists = app.screen.query(CommandList)
    if not lists:
        return ""
    options = lists.first()
    return "\n".join(str(options.get_option_at_index(i).prompt) for i in range(options.option_count))


async def checked(pilot) -> None:
    """Until the keymap is checked, just after the first frame."""
    await after_first_frame(pilot)
    await until(lambda: pilot.app.keymap_checked, "the keymap checked", pilot)


async def test_an_unknown_id_and_a_taken_key_are_warnings_naming_the_line(make_app, keymap, settings_path):
    keymap("main.sned: ctrl+t", "main.stop: ctrl+o", "recordings.stop: tab")
    app = make_app()
    toasts: list[str] = []
    notify = app.notify
    app.notify = lambda message, **kw: (toasts.append(message), notify(message, **kw))[-1]
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(pilot)
        assert app.setting_warnings == []
        assert app.keymap_warnings == [
            f"{settings_path}:3: keymap: no binding has the id main.sned (did you mean main.send?); it is ignored",
            f"{settings_path}:4: keymap.main.stop: ctrl+o already belongs to main.switch_profile; main.stop keeps f2",
            f"{settings_path}:5: keymap.recordings.stop: tab is Textual's own (moves the focus); recordings.stop keeps s",
        ]
        await until(lambda: set(app.keymap_warnings) <= set(toasts), "the warnings told", pilot)
        await pilot.press("ctrl+o")  # still the profile's, as before
        await until(lambda: isinstance(app.screen, ProfileScreen), "the profile dialog", pilot)


async def test_two_bindings_may_swap_their_keys(make_app, keymap):
    keymap("main.send: ctrl+o", "main.switch_profile: ctrl+s")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(pilot)
        assert app.keymap_warnings == app.setting_warnings == []
        assert "^o Send" in keys_shown(app) and "^s Profile" in keys_shown(app)
        await pilot.press("ctrl+s")
        await until(lambda: isinstance(app.screen, ProfileScreen), "the profile dialog from ctrl+s", pilot)


async def test_a_remapped_key_of_the_history_acts_in_the_table(make_app, keymap):
    keymap("history.load: L")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        await fill(pilot, room="from-history", mode="2")
        await send_confirmed(pilot)
        await fill(pilot, room="typed-over", mode="2")
        app.screen.query_one("#history-table").focus()
        await pilot.pause()
        assert "L Load into form" in keys_shown(app)
        await pilot.press("l")
        await pilot.pause()
        assert app.screen.query_one("#room-id").value == "typed-over"
        await pilot.press("L")
        await until(lambda: app.screen.query_one("#room-id").value == "from-history", "the row loaded", pilot)


def test_of_two_entries_taking_one_key_the_later_line_is_left_out():
    defaults = {"main.send": ["ctrl+s"], "main.stop": ["f2"], "main.modify": ["f6"]}
    applied, warnings = checked_keymap(
        {"main.stop": ("ctrl+y", 3), "main.modify": ("ctrl+y", 7)}, "settings.yaml", defaults
    )
    assert applied == {"main.stop": "ctrl+y"}
    assert warnings == [
        "settings.yaml:7: keymap.main.modify: ctrl+y already belongs to main.stop; main.modify keeps f6"
    ]


def test_a_key_left_out_gives_back_a_default_that_is_checked_in_turn():
    """main.send leaves ctrl+s for ctrl+o, but main.switch_profile cannot have ctrl+y: it
    keeps ctrl+o, which main.send then cannot have either."""
    defaults = {"main.send": ["ctrl+s"], "main.switch_profile": ["ctrl+o"], "main.stop": ["ctrl+y"]}
    applied, warnings = checked_keymap(
        {"main.send": ("ctrl+o", 3), "main.switch_profile": ("ctrl+y", 4)}, "f", defaults
    )
    assert applied == {}
    assert [w.split(":")[1] for w in warnings] == ["3", "4"]


def test_keys_of_screens_never_in_force_together_do_not_clash():
    """The recordings view's s and the form's Ctrl+L act on different screens."""
    applied, warnings = checked_keymap({"recordings.stop": ("ctrl+l", 2)}, "f")
    assert applied == {"recordings.stop": "ctrl+l"} and warnings == []


def test_every_binding_of_the_console_has_an_id_and_a_sentence():
    """Read from every class of gme_tui.tui: a new binding needs its Binding line and its
    entry in tui/keys.py, nothing else."""
    assert set(default_keys()) <= set(KEYS)


# --- the key bar ---------------------------------------------------------------------


async def test_the_key_bar_is_one_line_at_120_with_help_and_quit(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await after_first_frame(pilot)
        await fill(pilot, room="bar", mode="2")
        await send_confirmed(pilot)  # every follow-up key can act now
        bar = app.screen.query_one(KeyBar)
        assert bar.size.height == 1
        shown = keys_shown(app)
        assert "f1 Help" in shown and "^q Quit" in shown and "f5 Creds" in shown


async def test_at_80_with_the_history_focused_help_and_quit_stay_in_sight(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await after_first_frame(pilot)
        await fill(pilot, room="narrow", mode="2")
        await send_confirmed(pilot)
        app.screen.query_one("#history-table").focus()
        await pilot.pause()
        shown = keys_shown(app)
        assert "l Load into form" in shown  # the focused table's own keys first
        assert "f1 Help" in shown and "^q Quit" in shown


async def test_the_profile_dialog_shows_enter_with_its_word(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await after_first_frame(pilot)
        await pilot.press("ctrl+o")
        await until(lambda: isinstance(app.screen, ProfileScreen), "the profile dialog", pilot)
        shown = keys_shown(app)
        assert "enter Switch" in shown.replace("⏎", "enter") and "esc Back" in shown
        await pilot.press("tab")  # to the name box: Enter takes the name typed there
        await until(lambda: app.screen.query_one("#profile-name").has_focus, "the name box", pilot)
        await pilot.press(*"staging", "enter")
        await until(lambda: app.config.profile == "staging", "the typed profile", pilot)
        await pilot.press("ctrl+o")
        await until(lambda: isinstance(app.screen, ProfileScreen), "the profile dialog again", pilot)
        await pilot.press("down", "enter")  # the list: Enter takes the highlighted one
        await until(lambda: app.config.profile != "staging", "the highlighted profile", pilot)
