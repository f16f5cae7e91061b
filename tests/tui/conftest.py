"""Fixtures the console's tests share."""

from __future__ import annotations

import pytest

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
