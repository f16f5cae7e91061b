"""Shared fixtures. Each section belongs to one part of the project; add new ones as new sections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY, Emulator

# --- emulator ---------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started GME emulator on a free loopback port with the demo credentials.

    RecordStatus moves one step every 0.2 s after a stop; stopped after the test.
    """
    with Emulator(credentials={DEMO_SECRET_ID: DEMO_SECRET_KEY}, status_step=0.2) as emu:
        yield emu


# --- end of emulator ----------------------------------------------------------
