"""Credentials and profiles in the app, against a real Secret Service and the emulator."""

from __future__ import annotations

import uuid

import pytest
from textual.widgets import Input, OptionList, Static

from gme_tui.context import Context
from gme_tui.credentials import KeyringStore
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY, DEMO_SECRET_ID, DEMO_SECRET_KEY
from gme_tui.tui.app import GmeApp
from gme_tui.tui.screens.credentials import CredentialsScreen
from gme_tui.tui.screens.dialogs import ConfirmScreen
from gme_tui.tui.screens.profiles import ProfileScreen


@pytest.fixture
def profile() -> str:
    return f"app-{uuid.uuid4().hex[:8]}"


def app_for(emulator, tmp_path, profile, **overrides) -> GmeApp:
    config = dict(
        profile=profile,
        endpoint=emulator.url,
        data_dir=tmp_path / "data",
        from_keyring=True,
        default_biz_id=str(DEMO_BIZ_ID),
        use_env_proxies=False,
    )
    config.update(overrides)
    return GmeApp(Context(**config))


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for screen in pilot.app.screen_stack:
        await screen.workers.wait_for_complete() if hasattr(screen, "workers") else None
    await pilot.pause()


def status(app) -> str:
    return str(app.screen.query_one("#credentials-status", Static).content)


async def test_store_check_and_delete_credentials_from_the_app(
    keyring_in_process, emulator, tmp_path, settings_path, profile
):
    app = app_for(emulator, tmp_path, profile)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.config.key is None and "keyring" not in app.sub_title  # nothing stored yet
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, CredentialsScreen)
        app.screen.query_one("#secret-id", Input).value = DEMO_SECRET_ID
        app.screen.query_one("#secret-key", Input).value = "wrong-key-for-the-check"
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert "Rejected: AuthFailure.SignatureFailure" in status(app)

        app.screen.query_one("#secret-key", Input).value = DEMO_SECRET_KEY
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert status(app).startswith("Accepted")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Saved in the keyring" in status(app)
        assert DEMO_SECRET_KEY not in status(app)
        assert KeyringStore().get(profile) == DEMO_KEY
        assert app.config.key_source == f"keyring (profile {profile})"
        assert profile in app.sub_title and "keyring" in app.sub_title

        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert KeyringStore().get(profile) is None
        assert app.config.key is None


async def test_the_app_loads_the_profiles_key_from_the_keyring_at_start(
    keyring_in_process, emulator, tmp_path, settings_path, profile
):
    KeyringStore().set(profile, DEMO_KEY)
    app = app_for(emulator, tmp_path, profile)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.config.key == DEMO_KEY
        assert f"keyring (profile {profile})" in app.sub_title


async def test_a_missing_keyring_is_a_message_not_a_crash(
    no_keyring, emulator, tmp_path, settings_path, monkeypatch, profile
):
    for name in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = app_for(emulator, tmp_path, profile)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.config.key is None
        assert "no keyring backend" in (app.config.key_problem or "")
        assert "TENCENTCLOUD_SECRET_KEY" in app.config.key_problem
        await pilot.press("ctrl+s")  # sending is refused with the reason; nothing goes out
        await pilot.pause()
    assert emulator.requests == []


async def test_switching_profile_changes_settings_and_credentials_in_place(
    keyring_in_process, emulator, tmp_path, settings_path, profile
):
    other = profile + "-b"
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(
        f"profiles:\n  {other}:\n    default_biz_id: 3400352518\n"
        f"    endpoint: {emulator.url}\n    relaxed_user_ids: true\n"
    )
    KeyringStore().set(other, DEMO_KEY)
    app = app_for(emulator, tmp_path, profile)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        names = app.screen.names
        assert other in names
        options = app.screen.query_one("#profile-list", OptionList)
        options.highlighted = names.index(other)
        await pilot.press("enter")
        await settle(pilot)
        assert app.config.profile == other
        assert app.screen.query_one("#biz-id", Input).value == "3400352518"
        assert app.screen.form.relaxed is True
        assert app.config.key == DEMO_KEY
        assert other in app.sub_title


async def test_a_profile_switch_in_the_demo_never_points_it_at_the_cloud(
    keyring_in_process, emulator, tmp_path, settings_path, profile, monkeypatch
):
    """The demo's endpoint, credentials and BizId stay; the profile's other settings apply."""
    from gme_tui.cli.main import context_for
    from gme_tui.cli.parser import build_parser

    other = profile + "-c"
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(
        f"profiles:\n  {other}:\n    default_biz_id: 3400352518\n"
        "    endpoint: https://gme.tencentcloudapi.com\n    relaxed_user_ids: true\n"
    )
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDreal0000000000000000000000000000")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "a-real-looking-key")
    ctx, warnings = context_for(build_parser().parse_args(["--demo", "--data-dir", str(tmp_path / "data")]))
    app = GmeApp(ctx.pinned_to(emulator.url), warnings)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.switch_profile(other)
        await settle(pilot)
        assert app.config.profile == other and app.screen.form.relaxed is True
        assert app.config.endpoint == emulator.url
        assert app.config.key == DEMO_KEY and app.config.key_source == "demo credentials"
        assert app.screen.query_one("#biz-id", Input).value == str(DEMO_BIZ_ID)
        assert "DEMO" in app.sub_title and "gme.tencentcloudapi.com" not in app.sub_title


async def test_a_bad_keyring_timeout_is_said_not_waited_on(
    keyring_in_process, emulator, tmp_path, settings_path, profile, monkeypatch
):
    monkeypatch.setenv("GME_TUI_KEYRING_TIMEOUT", "soon")
    app = app_for(emulator, tmp_path, profile)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.config.from_keyring is False  # not "looking in the keyring…" forever
        assert "GME_TUI_KEYRING_TIMEOUT" in (app.config.key_problem or "")
        await pilot.press("f5")
        await settle(pilot)
        assert "GME_TUI_KEYRING_TIMEOUT" in status(app)
