"""Where gme-tui keeps its files, how it reads one and how it writes one.

The one home of the config, data and themes folders and the settings path; of
reading a text file the operator may have written or broken (settings, themes,
tccli credentials), so that every such file fails with the same kind of
message; and of the atomic write, so that no file is ever left half written.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "gme-tui"
DATA_DIR_ENV = "GME_TUI_DATA_DIR"
CONFIG_ENV = "GME_TUI_CONFIG"
SETTINGS_FILE = "settings.yaml"
THEMES_FOLDER = "themes"
#: below the data folder: the demo's history never mixes with real rows
DEMO_FOLDER = "demo"


def data_dir(
    override: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """`--data-dir`, then `GME_TUI_DATA_DIR`, then the platform's user data folder."""
    if override:
        return Path(override).expanduser()
    env = (os.environ if environ is None else environ).get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def settings_path() -> Path:
    """`GME_TUI_CONFIG` (a file path) if set, else the platform's user config folder.

    Read on every call so that tests and subprocesses can point it elsewhere.
    """
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / SETTINGS_FILE


def config_dir() -> Path:
    """The folder holding the settings file."""
    return settings_path().parent


def bundled_themes_dir() -> Path:
    """`gme_tui/themes` inside an installed wheel, else the repository's `themes/`.

    The wheel force-includes the top-level `themes/` as `gme_tui/themes`; an
    editable install runs from the repository, where the folder sits beside the
    package.
    """
    import gme_tui

    package = Path(gme_tui.__file__).resolve().parent
    for candidate in (package / THEMES_FOLDER, package.parent / THEMES_FOLDER):
        if candidate.is_dir():
            return candidate
    return package / THEMES_FOLDER


def themes_dir() -> Path:
    """The operator's own themes: `themes/` beside the settings file."""
    return config_dir() / THEMES_FOLDER


class UnreadableFile(Exception):
    """A text file that is not there, cannot be read, or is not UTF-8; the message
    names the file and why. `missing` tells a file that simply is not there."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


#: no file the operator writes by hand (settings, a theme, tccli credentials) is anywhere near
READ_MAX = 1024 * 1024


def read_text(path: Path, what: str, limit: int = READ_MAX) -> str:
    """The file whole, as UTF-8 text, or `UnreadableFile`: `PATH: cannot read the WHAT
    (reason)` or `PATH:LINE: the WHAT is not UTF-8 text`.

    Only a regular file of at most `limit` bytes is read: a FIFO would hang the app and
    /dev/zero would fill its memory. The file is opened without blocking (a FIFO with no
    writer opens at once), checked with fstat, and read no further than `limit` + 1 bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise UnreadableFile(
            f"{path}: cannot read the {what} ({error.strerror or error})",
            missing=isinstance(error, FileNotFoundError),
        ) from None
    try:
        kind = _not_regular(os.fstat(fd).st_mode)
        if kind:
            raise UnreadableFile(f"{path}: cannot read the {what} (it must be a regular file, not {kind})")
        raw = _read_at_most(fd, limit + 1)
    except OSError as error:
        raise UnreadableFile(f"{path}: cannot read the {what} ({error.strerror or error})") from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        size = f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"
        raise UnreadableFile(f"{path}: cannot read the {what} (it must be at most {size}; it is larger)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UnreadableFile(f"{path}:{line}: the {what} is not UTF-8 text") from None


def _not_regular(mode: int) -> str | None:
    """What a file that is not a regular one is, in words; None for a regular file."""
    import stat

    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_atomically(target: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never a mix: a temporary file in the
    same folder is written, flushed to disk and renamed over the old one. A new file
    is private to the user (mode 0600, from `mkstemp`); an existing one keeps its mode."""
    import shutil  # only a write needs these: a one-shot command that only reads starts faster
    import tempfile

    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            shutil.copymode(target, temp)
        except FileNotFoundError:
            pass
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
