"""Hostile text, flags and files at the headless layer: every one refused with a message
naming where it came from and the rule, bounded, never a crash and never the default."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gme_tui.api.fields import QUOTE_MAX, FieldError, parse_biz_id, parse_user_ids, quote
from gme_tui.api.signing import SigningKey
from gme_tui.context import Flags, resolve
from gme_tui.credentials import (
    SECRET_ID_ENV,
    SECRET_KEY_ENV,
    TOKEN_ENV,
    CredentialsMissing,
    KeyringStore,
    from_environment,
    read_tccli,
)
from gme_tui.options import parse_region, parse_timeout
from gme_tui.paths import READ_MAX, UnreadableFile, read_text
from gme_tui.settings import (
    MAX_WARNINGS,
    MAX_YAML_DEPTH,
    Settings,
    SettingsWriteError,
    load_settings,
    update_settings,
)

# --- quoting a bad value ------------------------------------------------------


def test_a_huge_bad_value_is_quoted_cut_and_its_length_said():
    with pytest.raises(FieldError) as caught:
        parse_biz_id("9" * 5000)
    rule = caught.value.rule
    assert "9" * QUOTE_MAX in rule and "9" * (QUOTE_MAX + 1) not in rule
    assert "5000 characters" in rule
    assert len(rule) < 250


def test_quote_escapes_control_and_invisible_characters():
    shown = quote("a\x1b[31m\u202eb\r\n")
    assert "\x1b" not in shown and "\u202e" not in shown and "\r" not in shown and "\n" not in shown
    assert quote("12", bare=True) == "12" and quote("12") == "'12'"
    assert quote("1\n2", bare=True) == repr("1\n2")  # bare only for plain digits


@pytest.mark.parametrize("text", ["0" + "1" * 4000, "x" * 4000, "1" * 4000])
def test_a_user_id_flood_is_never_echoed_whole(text):
    for relaxed in (False, True):
        with pytest.raises(FieldError) as caught:
            parse_user_ids(text, relaxed=relaxed)
        assert len(caught.value.rule) < 300, caught.value.rule


# --- region -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["ap\r\nX-Injected: 1", "ап", "", "AP-GUANGZHOU", "ap-" + "x" * 100, "ap guangzhou"]
)
def test_a_bad_region_is_refused_by_the_settings_rule(text):
    with pytest.raises(FieldError) as caught:
        parse_region(text, "--region")
    assert caught.value.field == "--region" and "region name" in caught.value.rule


def test_region_from_the_flag_or_the_environment_names_its_source():
    with pytest.raises(FieldError) as caught:
        resolve(Flags(region="ap\r\nX-Injected: 1"), Settings(), {})
    assert caught.value.field == "--region"
    assert "\r" not in str(caught.value) and "\\r\\n" in str(caught.value)
    with pytest.raises(FieldError) as caught:
        resolve(Flags(), Settings(), {"TENCENTCLOUD_REGION": "ап"})
    assert caught.value.field == "TENCENTCLOUD_REGION"
    assert resolve(Flags(), Settings(), {"TENCENTCLOUD_REGION": " ap-shanghai "}).region == "ap-shanghai"
    flag_wins = resolve(Flags(region="ap-beijing"), Settings(), {"TENCENTCLOUD_REGION": "ап"})
    assert flag_wins.region == "ap-beijing"


# --- empty is an error, never the default -----------------------------------------


@pytest.mark.parametrize(
    ("flag", "field"),
    [
        ("endpoint", "endpoint"),
        ("profile", "--profile"),
        ("data_dir", "--data-dir"),
        ("region", "--region"),
        ("timeout", "timeout"),
        ("biz_id", "--biz-id"),
    ],
)
@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_flag_is_an_error_naming_it(flag, field, empty):
    with pytest.raises(FieldError) as caught:
        resolve(Flags(**{flag: empty}), Settings(), {})
    assert caught.value.field == field and "empty" in caught.value.rule


def test_an_empty_environment_variable_counts_as_unset(tmp_path):
    env = {"GME_TUI_PROFILE": "", "TENCENTCLOUD_REGION": "", "GME_TUI_DATA_DIR": ""}
    ctx = resolve(Flags(data_dir=str(tmp_path)), Settings(), env)
    assert (ctx.profile, ctx.region, ctx.data_dir) == ("default", None, tmp_path)


def test_a_data_dir_with_a_control_character_is_refused():
    with pytest.raises(FieldError) as caught:
        resolve(Flags(data_dir="/tmp/a\x00b"), Settings(), {})
    assert caught.value.field == "--data-dir"
    with pytest.raises(FieldError) as caught:
        resolve(Flags(), Settings(), {"GME_TUI_DATA_DIR": "/tmp/a\nb"})
    assert caught.value.field == "GME_TUI_DATA_DIR"


def test_a_bad_profile_from_the_environment_names_the_variable():
    with pytest.raises(FieldError) as caught:
        resolve(Flags(), Settings(), {"GME_TUI_PROFILE": "bad name"})
    assert caught.value.field == "GME_TUI_PROFILE"


# --- timeout ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["1_0", "١٠", "１０", "1e1", "inf", "nan", "0x10", "+5", "-1", "1" * 100, "", "."]
)
def test_timeout_takes_ascii_decimal_only(text):
    with pytest.raises(FieldError) as caught:
        parse_timeout(text)
    assert caught.value.field == "timeout"


@pytest.mark.parametrize(
    ("text", "seconds"), [("10", 10.0), ("2.5", 2.5), (".5", 0.5), ("300", 300.0), (" 7 ", 7.0)]
)
def test_timeout_in_decimal_is_taken(text, seconds):
    assert parse_timeout(text) == seconds


# --- hostile files -------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def test_read_text_refuses_a_fifo_at_once_instead_of_hanging(fifo):
    with pytest.raises(UnreadableFile, match="must be a regular file, not a named pipe") as caught:
        read_text(fifo, "settings file")
    assert str(caught.value).startswith(f"{fifo}: cannot read the settings file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_read_text_refuses_a_device_without_reading_it():
    with pytest.raises(UnreadableFile, match="not a device"):
        read_text(Path("/dev/zero"), "theme file")


def test_read_text_reads_at_most_the_cap(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (READ_MAX + 1))
    with pytest.raises(UnreadableFile, match="at most 1 MiB"):
        read_text(path, "settings file")
    path.write_bytes(b"#" * READ_MAX)
    assert len(read_text(path, "settings file")) == READ_MAX


def test_settings_pointed_at_a_fifo_or_a_device_warn_and_go_on(fifo, tmp_path):
    for path in (fifo, Path("/dev/zero"), tmp_path / "link.yaml"):
        if path.name == "link.yaml":
            path.symlink_to("/dev/zero")
        settings, warnings = load_settings(path)
        assert settings == Settings()
        assert len(warnings) == 1 and str(path) in warnings[0] and "regular file" in warnings[0]


DEEP = {  # the text, and the line where it goes too deep
    "flow sequences": ("theme: " + "[" * 100_000, 2),
    "flow mappings": ("theme: " + "{a: " * 100_000, 2),
    "block sequences": (
        "theme:\n" + "".join(" " * n + "-\n" for n in range(0, 2 * 200, 2)),
        2 + MAX_YAML_DEPTH,
    ),
}


@pytest.mark.parametrize(("text", "line"), DEEP.values(), ids=DEEP.keys())
def test_deep_settings_warn_naming_the_limit_and_the_line(tmp_path, text, line):
    path = tmp_path / "settings.yaml"
    path.write_text(f"confirm_start: false\n{text}\n")
    settings, warnings = load_settings(path)
    assert settings == Settings()
    assert warnings == [
        f"{path}:{line}: not valid YAML (nested deeper than {MAX_YAML_DEPTH} levels); using the default settings"
    ]


def test_nesting_up_to_the_limit_is_read(tmp_path):
    path = tmp_path / "settings.yaml"
    inner = MAX_YAML_DEPTH - 1  # the top-level mapping is the first level
    path.write_text("theme: " + "[" * inner + "]" * inner + "\n")
    _, warnings = load_settings(path)
    assert warnings and "must be the name of a theme" in warnings[0]


def test_a_flood_of_bad_settings_is_told_in_a_bounded_number_of_lines(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text("".join(f"key{n}: 1\n" for n in range(500)))
    _, warnings = load_settings(path)
    assert len(warnings) == MAX_WARNINGS + 1
    assert warnings[-1] == f"{path}: {500 - MAX_WARNINGS} more problems like these are not listed"


# --- hostile keys ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret_id", "secret_key", "field", "words"),
    [
        ("AKIDx", "k" * 20_000_000, "SecretKey", "at most 256 characters (it has 20000000)"),
        ("AKIDx", "k" * 257, "SecretKey", "at most 256"),
        ("A" * 257, "k", "SecretId", "at most 256"),
        ("AKIDx", "key\x1b[2J", "SecretKey", "control"),
        ("AKID\x00", "k", "SecretId", "control"),
        ("AKIDx", "clé", "SecretKey", "non-ASCII"),
    ],
)
def test_a_huge_or_control_key_is_refused_before_the_keyring(secret_id, secret_key, field, words):
    with pytest.raises(FieldError) as caught:
        KeyringStore(timeout=0.01).set("p", SigningKey(secret_id, secret_key))
    assert caught.value.field == field and words in caught.value.rule
    assert len(str(caught.value)) < 200


def test_a_bad_key_in_the_environment_names_the_variable():
    for env, name in (
        ({SECRET_ID_ENV: "AKIDx", SECRET_KEY_ENV: "k" * 300}, SECRET_KEY_ENV),
        ({SECRET_ID_ENV: "AKID\x07x", SECRET_KEY_ENV: "k"}, SECRET_ID_ENV),
        ({SECRET_ID_ENV: "AKIDx", SECRET_KEY_ENV: "k", TOKEN_ENV: "t" * 9000}, TOKEN_ENV),
    ):
        with pytest.raises(FieldError) as caught:
            from_environment(env)
        assert caught.value.field == name
        with pytest.raises(FieldError):
            resolve(Flags(), Settings(), env)  # a command stops: exit 2, not a wrong key sent


def write_tccli(home: Path, text: str | None = None) -> Path:
    path = home / ".tccli" / "default.credential"
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (json.dumps({"secretId": "AKIDx", "secretKey": "k" * 5000}), "secretKey: must be at most 256"),
        (json.dumps({"secretId": "AKID\u202ex", "secretKey": "k"}), "secretId: contains"),
        ("[" * 100_000, "nested too deep"),
    ],
)
def test_a_hostile_tccli_file_is_refused_naming_it(tmp_path, content, words):
    path = write_tccli(tmp_path, content)
    with pytest.raises(CredentialsMissing) as caught:
        read_tccli(home=tmp_path)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_a_tccli_file_that_is_a_fifo_or_a_device_is_refused(tmp_path):
    path = write_tccli(tmp_path)
    os.mkfifo(path)
    with pytest.raises(CredentialsMissing, match="regular file"):
        read_tccli(home=tmp_path)
    path.unlink()
    path.symlink_to("/dev/zero")
    with pytest.raises(CredentialsMissing, match="regular file"):
        read_tccli(home=tmp_path)


def test_settings_pointed_at_a_device_or_a_fifo_are_never_copied_or_replaced(fifo, tmp_path):
    link = tmp_path / "settings.yaml"
    link.symlink_to("/dev/zero")
    for path, target in ((link, Path("/dev/zero")), (fifo, fifo)):
        with pytest.raises(SettingsWriteError, match="not a regular file; nothing was written"):
            update_settings(path, theme="gme-light")
        assert not path.with_name(path.name + ".bak").exists()
        assert not target.is_file()  # still the device or the pipe it was
