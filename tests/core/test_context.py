"""One resolver for where and as whom: the command line and a console profile switch agree."""

from __future__ import annotations

import dataclasses

import pytest

from gme_tui.cli.main import context_for
from gme_tui.cli.parser import build_parser
from gme_tui.context import Context, Flags, resolve
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.settings import Settings
from gme_tui.tui.app import GmeApp

SETTINGS = """\
region: ap-guangzhou
profiles:
  other:
    endpoint: http://127.0.0.1:8765
    language: en-US
    default_biz_id: 3400352518
    relaxed_user_ids: true
  regional:
    region: ap-beijing
"""
PINNED = "http://127.0.0.1:9"  # the demo's emulator, as --demo pins it

#: (what is given: arguments, environment), and the profile the operator switches to
CASES = {
    "TENCENTCLOUD_REGION survives a switch": ([], {"TENCENTCLOUD_REGION": "ap-shanghai"}, "other"),
    "--region wins over the environment and the profile": (
        ["--region", "ap-singapore"],
        {"TENCENTCLOUD_REGION": "ap-shanghai"},
        "regional",
    ),
    "the profile's own endpoint, language, BizId and ID mode": ([], {}, "other"),
    "the profile's own region over the shared one": ([], {}, "regional"),
    "--endpoint and --language stay fixed": (
        ["--endpoint", "http://127.0.0.1:7", "--language", "zh-CN"],
        {},
        "other",
    ),
    "a key in the environment": (
        [],
        {"TENCENTCLOUD_SECRET_ID": "AKIDenv", "TENCENTCLOUD_SECRET_KEY": "k"},
        "other",
    ),
    "GME_TUI_PROFILE names the first profile": ([], {"GME_TUI_PROFILE": "regional"}, "other"),
    "--timeout and --data-dir": (["--timeout", "3.5", "--data-dir", "{tmp}/elsewhere"], {}, "other"),
    "the demo keeps its emulator, key and BizId": (
        ["--demo"],
        {"TENCENTCLOUD_SECRET_ID": "AKIDreal", "TENCENTCLOUD_SECRET_KEY": "real"},
        "other",
    ),
}

ENV_NAMES = (
    "TENCENTCLOUD_REGION",
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_SESSION_TOKEN",
    "GME_TUI_PROFILE",
)


def _resolved(ctx: Context) -> dict[str, object]:
    """Every resolved value; the flags themselves differ (one names the profile)."""
    values = dataclasses.asdict(ctx)
    values.pop("flags")
    return values


@pytest.fixture
def given(settings_path, tmp_path, monkeypatch):
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(SETTINGS)
    monkeypatch.setenv("GME_TUI_DATA_DIR", str(tmp_path / "data"))

    def apply(argv: list[str], environ: dict[str, str]) -> list[str]:
        for name in ENV_NAMES:
            monkeypatch.delenv(name, raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return [arg.replace("{tmp}", str(tmp_path)) for arg in argv]

    return apply


def _from_command_line(argv: list[str]) -> Context:
    ctx, warnings = context_for(build_parser().parse_args(argv))
    assert warnings == []
    return ctx.pinned_to(PINNED) if ctx.demo else ctx


@pytest.mark.parametrize(("argv", "environ", "target"), CASES.values(), ids=CASES.keys())
async def test_the_command_line_and_a_console_switch_resolve_alike(given, no_keyring, argv, environ, target):
    argv = given(argv, environ)
    expected = _from_command_line(["--profile", target, *argv])
    app = GmeApp(_from_command_line(argv))
    async with app.run_test(size=(100, 30)):
        app.switch_profile(target)  # as Ctrl+O does; the keyring lookup, if any, comes later
        switched = app.config
    assert _resolved(switched) == _resolved(expected)
    assert switched.profile == target


def test_the_region_from_the_environment_is_kept_by_the_resolver():
    settings = Settings(profiles={"other": {}})
    env = {"TENCENTCLOUD_REGION": "ap-shanghai"}
    first = resolve(Flags(), settings, env)
    assert first.region == "ap-shanghai"
    assert first.for_profile("other", env).region == "ap-shanghai"


def test_what_the_command_line_fixed_stays_fixed():
    settings = Settings(profiles={"other": {"endpoint": "https://gme.tencentcloudapi.com", "region": "ap-x"}})
    ctx = resolve(Flags(endpoint="http://127.0.0.1:7", region="ap-y"), settings, {})
    assert ctx.fixed == ("endpoint", "region")
    other = ctx.for_profile("other", {})
    assert (other.endpoint, other.region) == ("http://127.0.0.1:7", "ap-y")


def test_the_demo_never_takes_a_profile_s_endpoint_or_key():
    settings = Settings(
        profiles={"prod": {"endpoint": "https://gme.tencentcloudapi.com", "default_biz_id": 3400352518}}
    )
    env = {"TENCENTCLOUD_SECRET_ID": "AKIDreal", "TENCENTCLOUD_SECRET_KEY": "real"}
    ctx = resolve(Flags(demo=True), settings, env).pinned_to(PINNED, env)
    prod = ctx.for_profile("prod", env)
    assert (prod.endpoint, prod.key, prod.default_biz_id) == (PINNED, DEMO_KEY, str(DEMO_BIZ_ID))
    assert prod.key_source == "demo credentials" and not prod.use_env_proxies
    assert prod.data_dir.name == "demo"


def test_a_key_comes_from_the_environment_or_is_left_to_the_keyring():
    with_key = resolve(
        Flags(), Settings(), {"TENCENTCLOUD_SECRET_ID": "AKID", "TENCENTCLOUD_SECRET_KEY": "k"}
    )
    assert with_key.key is not None and with_key.key_source == "environment" and not with_key.from_keyring
    without = resolve(Flags(), Settings(), {})
    assert without.key is None and without.from_keyring


def test_a_bad_flag_names_the_option():
    from gme_tui.api.fields import FieldError

    with pytest.raises(FieldError) as caught:
        resolve(Flags(profile="bad name"), Settings(), {})
    assert caught.value.field == "--profile"
    with pytest.raises(FieldError) as caught:
        resolve(Flags(timeout="0"), Settings(), {})
    assert caught.value.field == "timeout"
