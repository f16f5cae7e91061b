"""Small helpers that several test files share: `from helpers import ...`."""

from __future__ import annotations

import socket


def closed_port() -> int:
    """A loopback port nobody listens on (taken, then given back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ManualClock:
    """A clock moved by the test (an emulator's), starting on a whole second so steps are exact;
    emulators sharing one read the same time."""

    def __init__(self) -> None:
        import time

        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def started(emulator, action: str = "StartRecord") -> int:
    """How many requests of one action reached the emulator."""
    return sum(1 for name, _params, _headers in emulator.requests if name == action)


async def wait_idle(pilot) -> None:
    """Every worker done (a send, say), and the screen repainted."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def until_sync(check, what: str, timeout: float = 10.0):
    """`until` for a test with no event loop: `check()`'s first true value."""
    import time

    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s for {what}")
        time.sleep(0.02)
    return value


async def until(check, what: str, pilot=None, timeout: float = 10.0) -> None:
    """Run until `check()` is true (the app too, given its pilot): a wait on a condition,
    not a guess at a delay, so a slow machine takes longer instead of failing."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout} s for {what}")
        await (pilot.pause(0.02) if pilot is not None else asyncio.sleep(0.02))


async def after_first_frame(pilot) -> None:
    """Until what the console loads in the frame after its first is in: the other themes
    and the history, its panel with the first page read or the words that it is missing."""
    app = pilot.app

    def loaded() -> bool:
        if not app.themes_loaded:
            return False
        panels = app.screen.query("#history, #history-missing")
        return bool(panels) and panels.first().is_mounted

    await until(loaded, "the history panel and the other themes", pilot)
    await pilot.pause()


async def send_confirmed(pilot) -> None:
    """Ctrl+S on the form, the confirmation shown, Enter, the answer in."""
    from gme_tui.tui.screens.dialogs import ConfirmScreen

    await pilot.press("ctrl+s")
    await until(lambda: isinstance(pilot.app.screen, ConfirmScreen), "the confirmation", pilot)
    await pilot.press("enter")
    await wait_idle(pilot)


#: the endpoint the console's snapshots show (no request goes there: their apps have no key)
SHOWN_ENDPOINT = "http://127.0.0.1:8765"
