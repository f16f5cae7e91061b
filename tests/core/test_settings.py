"""The settings file: forgiving to read (a warning with the line, never a crash), atomic to write."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from gme_tui import paths
from gme_tui.api.fields import FieldError, parse_biz_id
from gme_tui.paths import CONFIG_ENV, config_dir, settings_path
from gme_tui.settings import (
    Settings,
    SettingsWriteError,
    load_settings,
    save_settings,
    update_settings,
)

DEFAULTS = Settings()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def biz_rule(text: str) -> str:
    try:
        parse_biz_id(text)
    except FieldError as error:
        return error.rule
    raise AssertionError(f"{text!r} is a valid BizId")


# --- reading ------------------------------------------------------------------


def test_defaults_are_the_documented_ones():
    assert DEFAULTS == Settings(
        theme="gme-dark", confirm_start=True, relaxed_user_ids=False, default_biz_id=None
    )


def test_a_missing_file_is_the_defaults_without_a_warning(tmp_path):
    assert load_settings(tmp_path / "nope" / "settings.yaml") == (DEFAULTS, [])


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "~\n", "null\n"])
def test_an_empty_file_is_the_defaults_without_a_warning(tmp_path, text):
    assert load_settings(write(tmp_path, text)) == (DEFAULTS, [])


def test_every_setting_is_read(tmp_path):
    path = write(
        tmp_path,
        "theme: gme-light\nconfirm_start: false\nrelaxed_user_ids: true\ndefault_biz_id: 1400000000\n"
        "recordings_refresh: 2.5\nbell_on_done: true\n",
    )
    expected = Settings(
        "gme-light",
        False,
        True,
        recordings_refresh=2.5,
        bell_on_done=True,
        default_biz_id=1400000000,
    )
    assert load_settings(path) == (expected, [])


def test_a_refresh_interval_out_of_range_is_warned_about(tmp_path):
    settings, warnings = load_settings(write(tmp_path, "recordings_refresh: 0.01\n"))
    assert settings.recordings_refresh == 5.0
    assert (
        len(warnings) == 1
        and "recordings_refresh must be a number of seconds from 0.5 to 3600" in warnings[0]
    )


# Each case: file text, line the warning must name, words it must hold, settings expected.
WARNING_CASES = {
    "invalid YAML": (
        "theme: gme-light\nconfirm_start: [true\n",
        3,
        ["not valid YAML", "flow sequence from line 2"],
        DEFAULTS,
    ),
    "bad indentation": ("theme: a\n  b: c\n", 2, ["not valid YAML", "mapping values"], DEFAULTS),
    "a list at the top": ("- theme\n- gme-light\n", 1, ["must be a mapping"], DEFAULTS),
    "a word at the top": ("\n\ngme-light\n", 3, ["must be a mapping"], DEFAULTS),
    "two documents": ("theme: a\n---\ntheme: b\n", 2, ["not valid YAML", "another document"], DEFAULTS),
    "a control character": (
        "theme: gme-light\nconfirm_start: tr\x07ue\n",
        2,
        ["not valid YAML", "special characters"],
        DEFAULTS,
    ),
    "unknown key": (
        "theme: gme-light\n\nthem: gme-dark\n",
        3,
        ["unknown key 'them'", "did you mean theme", "ignored"],
        Settings(theme="gme-light"),
    ),
    "key that is not text": (
        "theme: gme-light\n? [a, b]\n: 1\n",
        2,
        ["key must be plain text"],
        Settings(theme="gme-light"),
    ),
    "theme not text": (
        "confirm_start: false\ntheme: [a, b]\n",
        2,
        ["theme must be the name of a theme", "a list", "default 'gme-dark'"],
        Settings(confirm_start=False),
    ),
    "theme empty": ("theme:\n", 1, ["theme must be the name of a theme", "nothing"], DEFAULTS),
    "theme a number": ("theme: 12\n", 1, ["theme must be the name of a theme", "'12'"], DEFAULTS),
    "confirm_start not a bool": (
        "theme: gme-light\nconfirm_start: maybe\n",
        2,
        ["confirm_start must be true or false", "'maybe'", "default true"],
        Settings(theme="gme-light"),
    ),
    "relaxed_user_ids a number": (
        "relaxed_user_ids: 1\n",
        1,
        ["relaxed_user_ids must be true or false", "'1'", "default false"],
        DEFAULTS,
    ),
    "relaxed_user_ids a mapping": (
        "relaxed_user_ids:\n  on: true\n",
        2,
        ["relaxed_user_ids must be true or false", "a mapping"],
        DEFAULTS,
    ),
    "default_biz_id letters": (
        "theme: gme-light\ndefault_biz_id: abc\n",
        2,
        ["default_biz_id " + biz_rule("abc"), "default (none)"],
        Settings(theme="gme-light"),
    ),
    "default_biz_id zero": ("default_biz_id: 0\n", 1, ["default_biz_id " + biz_rule("0")], DEFAULTS),
    "default_biz_id over 2**64-1": (
        "default_biz_id: 18446744073709551616\n",
        1,
        ["default_biz_id " + biz_rule("18446744073709551616")],
        DEFAULTS,
    ),
    "default_biz_id hex": ("default_biz_id: 0x10\n", 1, ["default_biz_id " + biz_rule("0x10")], DEFAULTS),
    "default_biz_id float": ("default_biz_id: 1.4e9\n", 1, ["default_biz_id " + biz_rule("1.4e9")], DEFAULTS),
    "default_biz_id bool": ("default_biz_id: true\n", 1, ["default_biz_id " + biz_rule("true")], DEFAULTS),
    "default_biz_id negative": ("default_biz_id: -5\n", 1, ["default_biz_id " + biz_rule("-5")], DEFAULTS),
    "default_biz_id a list": (
        "default_biz_id:\n  - 1\n",
        2,
        ["default_biz_id must be a BizId", "a list"],
        DEFAULTS,
    ),
    "a bad date": (
        "default_biz_id: 2024-13-45\n",
        1,
        ["default_biz_id has a value YAML cannot read"],
        DEFAULTS,
    ),
    "a python tag": (
        "theme: !!python/name:os.system\n",
        1,
        ["theme has a value YAML cannot read", "python/name"],
        DEFAULTS,
    ),
    "a python tag on a list": (
        "theme: !!python/object/apply:os.system [echo hi]\n",
        1,
        ["theme must be the name of a theme", "a list"],
        DEFAULTS,
    ),
    "a key set twice": (
        "theme: gme-light\nconfirm_start: false\ntheme: gme-high-contrast\n",
        3,
        ["theme is set twice (also on line 1)", "later one is used"],
        Settings(theme="gme-high-contrast", confirm_start=False),
    ),
}


@pytest.mark.parametrize("case", list(WARNING_CASES))
def test_each_problem_is_one_warning_with_its_line_and_the_rest_still_applies(tmp_path, case):
    text, line, words, expected = WARNING_CASES[case]
    path = write(tmp_path, text)
    loaded, warnings = load_settings(path)
    assert loaded == expected
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"{path}:{line}: "), warnings[0]
    for word in words:
        assert word in warnings[0]


def test_several_problems_give_several_warnings_in_file_order(tmp_path):
    path = write(tmp_path, "theme: [x]\nconfirm_start: no\nrelaxed: yes\ndefault_biz_id: 12ab\n")
    loaded, warnings = load_settings(path)
    assert loaded == Settings(confirm_start=False)
    assert [w.split(": ")[0] for w in warnings] == [f"{path}:1", f"{path}:3", f"{path}:4"]
    assert "did you mean relaxed_user_ids" in warnings[1]


def test_a_file_that_is_not_utf8_names_the_line_of_the_bad_byte(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_bytes(b"theme: gme-light\n\ndefault_biz_id: caf\xe9\n")
    loaded, warnings = load_settings(path)
    assert loaded == DEFAULTS
    assert warnings == [f"{path}:3: the settings file is not UTF-8 text; using the default settings"]


def test_an_unreadable_path_is_a_warning_not_an_exception(tmp_path):
    folder = tmp_path / "settings.yaml"
    folder.mkdir()
    loaded, warnings = load_settings(folder)
    assert loaded == DEFAULTS
    assert len(warnings) == 1 and warnings[0].startswith(f"{folder}: cannot read the settings file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_a_warning(tmp_path):
    path = write(tmp_path, "theme: gme-light\n")
    path.chmod(0)
    loaded, warnings = load_settings(path)
    assert loaded == DEFAULTS and "cannot read the settings file" in warnings[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default_biz_id: 1400000000", 1400000000),
        ("default_biz_id: '1400000000'", 1400000000),
        ("default_biz_id: 18446744073709551615", 2**64 - 1),
        ("default_biz_id: 017", 17),  # YAML 1.1 would read octal 15: the text is what counts
        ("default_biz_id: null", None),
        ("default_biz_id:", None),
        ("default_biz_id: ''", None),
    ],
)
def test_default_biz_id_is_read_as_written(tmp_path, text, expected):
    assert load_settings(write(tmp_path, text + "\n")) == (Settings(default_biz_id=expected), [])


def test_yaml_words_for_booleans_are_accepted(tmp_path):
    loaded, warnings = load_settings(write(tmp_path, "confirm_start: no\nrelaxed_user_ids: on\n"))
    assert (loaded.confirm_start, loaded.relaxed_user_ids, warnings) == (False, True, [])


@hyp_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(
        st.sampled_from(
            list("theme:confirm_startdefault_biz_id 0129-[]{}\"'#!&*|>\n\t,?~.")
            + [
                "\x00",
                "é",
                "true",
                "null",
                "\n  ",
                "theme",
                "default_biz_id",
                "!!python/name:os.system",
                "&a",
                "*a",
                "---",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_any_text_gives_settings_and_warnings_never_an_exception(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    loaded, warnings = load_settings(path)
    assert isinstance(loaded, Settings)
    assert all(isinstance(w, str) and w.startswith(str(path)) for w in warnings)


# --- where the file lives --------------------------------------------------------


def test_gme_tui_config_names_the_file_and_its_folder(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere" / "my-settings.yaml"
    monkeypatch.setenv(CONFIG_ENV, str(target))
    assert settings_path() == target
    assert config_dir() == target.parent
    save_settings(Settings(theme="gme-light"))
    assert target.exists()
    assert load_settings() == (Settings(theme="gme-light"), [])


def test_without_gme_tui_config_the_platform_config_folder_is_used(monkeypatch):
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    from platformdirs import user_config_dir

    assert settings_path() == Path(user_config_dir("gme-tui", appauthor=False)) / "settings.yaml"
    assert config_dir() == settings_path().parent


def test_an_empty_gme_tui_config_counts_as_unset(monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, "")
    assert settings_path().name == "settings.yaml" and settings_path().parent.name == "gme-tui"


# --- writing ---------------------------------------------------------------------

theme_names = st.text(alphabet=st.sampled_from(list("abcXYZ019-_ :#'\"é")), min_size=1, max_size=20).filter(
    lambda s: s.strip() == s and s.strip()
) | st.sampled_from(["yes", "null", "123", "0x10", "~", "true"])
biz_ids = st.none() | st.integers(min_value=1, max_value=2**64 - 1)


@hyp_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.builds(
        Settings,
        theme=theme_names,
        confirm_start=st.booleans(),
        relaxed_user_ids=st.booleans(),
        default_biz_id=biz_ids,
    )
)
def test_save_then_load_gives_back_the_same_settings(tmp_path, saved):
    path = tmp_path / "round" / "settings.yaml"
    save_settings(saved, path)
    assert load_settings(path) == (saved, [])


def test_save_creates_folders_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "a" / "b" / "settings.yaml"
    save_settings(Settings(default_biz_id=1400000000), path)
    save_settings(Settings(theme="gme-light"), path)
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.yaml"]
    text = path.read_text()
    assert text.startswith("# gme-tui settings.")
    assert "theme: gme-light\n" in text and "default_biz_id: null\n" in text


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes")
def test_a_new_file_is_private_and_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "settings.yaml"
    save_settings(DEFAULTS, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    save_settings(Settings(theme="gme-light"), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failed_replace_keeps_the_old_file_and_removes_the_temporary_one(tmp_path, monkeypatch):
    path = write(tmp_path, "theme: gme-light\n")

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(paths.os, "replace", refuse)  # the atomic write lives in gme_tui.paths
    with pytest.raises(SettingsWriteError) as caught:
        save_settings(Settings(theme="gme-high-contrast"), path)
    assert str(caught.value) == f"cannot save settings to {path}: Permission denied"
    assert path.read_text() == "theme: gme-light\n"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.yaml"]


def test_a_folder_that_cannot_be_made_raises_an_oserror_naming_the_file(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be")
    path = blocker / "settings.yaml"
    with pytest.raises(OSError) as caught:
        save_settings(DEFAULTS, path)
    assert isinstance(caught.value, SettingsWriteError)
    assert str(caught.value).startswith(f"cannot save settings to {path}: ")
    assert caught.value.path == path


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_raises_an_oserror_and_changes_nothing(tmp_path):
    path = write(tmp_path, "theme: gme-light\n")
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(OSError, match=r"^cannot save settings to .*settings\.yaml: Permission denied$"):
            save_settings(DEFAULTS, path)
        assert path.read_text() == "theme: gme-light\n"
        assert [p.name for p in tmp_path.iterdir()] == ["settings.yaml"]
    finally:
        tmp_path.chmod(0o755)


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_a_symlinked_settings_file_stays_a_symlink(tmp_path):
    real = tmp_path / "dotfiles" / "gme-tui.yaml"
    real.parent.mkdir()
    real.write_text("theme: gme-light\n")
    link = tmp_path / "settings.yaml"
    link.symlink_to(real)
    save_settings(Settings(theme="gme-high-contrast"), link)
    assert link.is_symlink()
    assert load_settings(real) == (Settings(theme="gme-high-contrast"), [])


# --- update_settings ---------------------------------------------------------------


def test_update_changes_only_the_named_fields_and_saves(tmp_path):
    path = write(tmp_path, "theme: gme-light\nconfirm_start: false\n")
    new = update_settings(path, relaxed_user_ids=True, default_biz_id="1400000000")
    assert new == Settings(
        theme="gme-light", confirm_start=False, relaxed_user_ids=True, default_biz_id=1400000000
    )
    assert load_settings(path) == (new, [])


def test_update_creates_the_file(tmp_path):
    path = tmp_path / "new" / "settings.yaml"
    assert update_settings(path, theme="gme-high-contrast") == Settings(theme="gme-high-contrast")
    assert load_settings(path)[0].theme == "gme-high-contrast"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"theme": ""}, "theme must be the name of a theme"),
        ({"confirm_start": "yes"}, "confirm_start must be true or false"),
        ({"default_biz_id": "12ab"}, "default_biz_id " + biz_rule("12ab")),
        ({"default_biz_id": 0}, "default_biz_id " + biz_rule("0")),
        ({"default_biz_id": True}, "default_biz_id must be a BizId"),
    ],
)
def test_update_refuses_a_bad_value_before_writing(tmp_path, changes, message):
    path = tmp_path / "settings.yaml"
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        update_settings(path, **changes)
    assert not path.exists()


def test_update_refuses_an_unknown_setting(tmp_path):
    with pytest.raises(TypeError, match="unknown setting 'colour'"):
        update_settings(tmp_path / "settings.yaml", colour="red")


def test_update_backs_up_a_file_with_problems_before_dropping_them(tmp_path):
    original = "theme: gme-light\nconfirm_start: perhaps\nmy_note: keep me\n"
    path = write(tmp_path, original)
    new = update_settings(path, relaxed_user_ids=True)
    assert new == Settings(theme="gme-light", relaxed_user_ids=True)
    assert (tmp_path / "settings.yaml.bak").read_text() == original
    assert load_settings(path) == (new, [])


def test_update_of_a_clean_file_makes_no_backup(tmp_path):
    path = write(tmp_path, "theme: gme-light\n")
    update_settings(path, confirm_start=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.yaml"]


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.theme = "x"  # type: ignore[misc]


# --- layering ----------------------------------------------------------------------


def test_settings_never_load_textual():
    code = (
        "import sys, gme_tui.settings\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
