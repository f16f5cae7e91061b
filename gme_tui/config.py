"""Where gme-tui keeps its files, and how it reads one.

The one home of the data folder (history), and of reading a text file the
operator may have written or broken (settings, themes, tccli credentials), so
that every such file fails with the same kind of message.
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


class UnreadableFile(Exception):
    """A text file that is not there, cannot be read, or is not UTF-8; the message
    names the file and why. `missing` tells a file that simply is not there."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def read_text(path: Path, what: str) -> str:
    """The file whole, as UTF-8 text, or `UnreadableFile`: `PATH: cannot read the WHAT
    (reason)` or `PATH:LINE: the WHAT is not UTF-8 text`."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"{path}: cannot read the {what} ({error.strerror or error})",
                             missing=isinstance(error, FileNotFoundError)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UnreadableFile(f"{path}:{line}: the {what} is not UTF-8 text") from None
