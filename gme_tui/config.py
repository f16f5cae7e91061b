"""Where gme-tui keeps its files.

Settings (YAML) arrive with the profiles issue; for now this is the one home of
the paths, so every part agrees on where the history lives.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "gme-tui"
DATA_DIR_ENV = "GME_TUI_DATA_DIR"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """`--data-dir`, then `GME_TUI_DATA_DIR`, then the platform's user data folder."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))
