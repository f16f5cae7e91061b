"""Fixtures the console's tests share."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from helpers import SHOWN_ENDPOINT

from gme_tui.context import Context
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.tui.app import GmeApp


@pytest.fixture
def make_app(no_keyring, emulator, tmp_path, settings_path):
    """The console against the emulator with the demo key, its history in tmp; keyword
    arguments override the context's values."""

    def make(**overrides) -> GmeApp:
        config = dict(
            profile="ops",
            endpoint=emulator.url,
            data_dir=tmp_path / "data",
            key=DEMO_KEY,
            default_biz_id=str(DEMO_BIZ_ID),
            use_env_proxies=False,
        )
        config.update(overrides)
        return GmeApp(Context(**config))

    return make


@pytest.fixture
def snapshot_app(tmp_path, monkeypatch) -> Callable[[], GmeApp]:
    """An app at a fixed endpoint, with its own settings (a fixed theme). No key, so there is
    no client: nothing is sent, and nothing answered moves the picture."""
    settings = tmp_path / "config" / "settings.yaml"
    settings.parent.mkdir()
    settings.write_text("theme: gme-dark\n")
    monkeypatch.setenv("GME_TUI_CONFIG", str(settings))  # also keeps the user's own themes out
    monkeypatch.delenv("NO_COLOR", raising=False)  # read when the app is built; it greys everything

    def make() -> GmeApp:
        return GmeApp(
            Context(
                profile="ops",
                endpoint=SHOWN_ENDPOINT,
                data_dir=tmp_path / "data",
                key=None,
                key_problem="no credentials in the snapshots",
                default_biz_id=str(DEMO_BIZ_ID),
                use_env_proxies=False,
            )
        )

    return make
