"""Hostile text, flags and files at the headless layer: every one refused with a message
naming where it came from and the rule, bounded, never a crash and never the default."""

from __future__ import annotations

import pytest

from gme_tui.api.fields import QUOTE_MAX, FieldError, parse_biz_id, parse_user_ids, quote
from gme_tui.context import Flags, resolve
from gme_tui.options import parse_region, parse_timeout
from gme_tui.settings import Settings

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
