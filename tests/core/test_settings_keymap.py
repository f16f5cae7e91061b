"""The settings file's `keymap:` section: binding ids to keys, each bad line told with its
number and left out, never an exception; saved back as the operator wrote it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from gme_tui.settings import check_keys, load_settings, update_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_entry_is_read_with_its_line_in_textual_s_spelling(tmp_path):
    path = write(
        tmp_path,
        "theme: gme-dark\nkeymap:\n  main.send: ctrl+t\n  app.help: 'f1, ?'\n  recordings.stop_marked: X\n",
    )
    settings, warnings = load_settings(path)
    assert warnings == []
    assert settings.keymap == {
        "main.send": ("ctrl+t", 3),
        "app.help": ("f1,question_mark", 4),  # as Textual names "?"
        "recordings.stop_marked": ("X", 5),  # a capital is its own key
    }


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ("main.send: 'ctrl+'", "keymap.main.send 'ctrl+' is not a key; the default key stays"),
        ("main.send: ctrl+foo", "keymap.main.send 'ctrl+foo': 'foo' is not a key"),
        ("main.send: hold+t", "keymap.main.send 'hold+t': a key's modifiers are ctrl, shift"),
        ("main.send: f5,f5", "keymap.main.send names the same key twice"),
        ("main.send: [ctrl+t]", "keymap.main.send must be a key such as f5 or ctrl+t"),
        ("main.send:", "keymap.main.send must be a key such as f5 or ctrl+t"),
        ("main.send: a,b,c,d,e", "keymap.main.send takes at most 4 keys (got 5)"),
        ("Send: ctrl+t", "keymap: 'Send' is not a binding id such as main.send; it is ignored"),
        ("[x]: ctrl+t", "keymap: a key that is not plain text is not a binding id"),
    ],
)
def test_a_bad_entry_is_a_warning_naming_its_line_and_the_others_still_apply(tmp_path, entry, said):
    path = write(tmp_path, f"keymap:\n  main.stop: f12\n  {entry}\n")
    settings, warnings = load_settings(path)
    assert settings.keymap == {"main.stop": ("f12", 2)}
    assert len(warnings) == 1
    assert warnings[0].startswith(f"{path}:3: ") and said in warnings[0]


def test_an_id_set_twice_is_told_and_the_later_one_is_used(tmp_path):
    path = write(tmp_path, "keymap:\n  main.send: ctrl+t\n  main.send: ctrl+y\n")
    settings, warnings = load_settings(path)
    assert settings.keymap == {"main.send": ("ctrl+y", 3)}
    assert warnings == [f"{path}:3: keymap.main.send is set twice (also on line 2); the later one is used"]


@pytest.mark.parametrize("body", ["keymap: ctrl+t", "keymap: [main.send]"])
def test_a_keymap_that_is_not_a_mapping_is_ignored_with_its_line(tmp_path, body):
    path = write(tmp_path, f"theme: gme-dark\n{body}\n")
    settings, warnings = load_settings(path)
    assert settings.keymap == {} and settings.theme == "gme-dark"
    assert warnings == [f"{path}:2: keymap must be a mapping of binding ids to keys; it is ignored"]


def test_an_empty_keymap_is_no_keymap_and_no_warning(tmp_path):
    assert load_settings(write(tmp_path, "keymap:\n")) == (load_settings(write(tmp_path, "")))


def test_a_change_saved_from_the_console_keeps_the_keymap_as_written(tmp_path):
    """Saving the theme (the palette does) once wrote each entry as a [keys, line] list,
    which read back as a bad entry: the remap was lost."""
    path = write(tmp_path, "keymap:\n  main.send: ctrl+t\n  app.help: f1,?\n")
    update_settings(path, theme="gme-light")
    assert "main.send: ctrl+t\n" in path.read_text()
    settings, warnings = load_settings(path)
    assert warnings == []
    assert settings.theme == "gme-light"
    assert {i: keys for i, (keys, _line) in settings.keymap.items()} == {
        "main.send": "ctrl+t",
        "app.help": "f1,question_mark",
    }


def test_without_a_keymap_the_saved_file_has_none(tmp_path):
    path = write(tmp_path, "theme: gme-dark\n")
    update_settings(path, confirm_start=False)
    assert "keymap" not in path.read_text()


@hyp_settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30))
def test_any_keys_text_is_checked_keys_or_a_value_error(tmp_path, text):
    try:
        keys = check_keys(text)
    except ValueError as error:
        assert str(error)
    else:
        assert keys and all(part and part == part.strip() for part in keys.split(","))


@hyp_settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_any_keymap_line_gives_settings_and_warnings_never_an_exception(tmp_path, text):
    path = write(tmp_path, "keymap:\n  main.send: " + text.replace("\n", " ") + "\n")
    settings, warnings = load_settings(path)
    assert isinstance(settings.keymap, dict)
