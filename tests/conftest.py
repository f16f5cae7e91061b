"""Shared fixtures. Each section belongs to one part of the project; add new ones as new sections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gme_tui.emulator import Emulator

# --- emulator ---------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started GME emulator on a free loopback port with the demo credentials.

    RecordStatus moves one step every 0.2 s after a stop; stopped after the test.
    """
    with Emulator(status_step=0.2) as emu:  # it accepts the demo key
        yield emu


@pytest.fixture(autouse=True)
def reconcile_at_once(monkeypatch):
    """An unknown start is looked up as soon as it is unknown: the emulator acts at once (or,
    with a delay fault, when the test says), where the real service may act later."""
    monkeypatch.setattr("gme_tui.tracking.SETTLE_AFTER", 0.0)


# --- end of emulator ----------------------------------------------------------

# --- app settings -------------------------------------------------------------


@pytest.fixture
def settings_path(tmp_path, monkeypatch) -> Path:
    """The settings file the app and the CLI read and write (not there yet), in tmp."""
    path = tmp_path / "config" / "settings.yaml"
    monkeypatch.setenv("GME_TUI_CONFIG", str(path))
    return path


# --- end of app settings --------------------------------------------------------

# --- keyring: a private Secret Service (tests/keyring_service.py) ---------------
# Fixtures: secret_service (shared, session), private_secret_service (per test, to
# lock or kill), no_keyring (no backend, as PYTHON_KEYRING_BACKEND=fail gives at start),
# keyring_in_process (aims this process's python keyring at the shared
# one). Where dbus-daemon or gnome-keyring-daemon is missing they skip with the reason.

from keyring_service import (  # noqa: E402, F401
    keyring_in_process,
    no_keyring,
    private_secret_service,
    secret_service,
)

# --- end of keyring -------------------------------------------------------------
