"""Small helpers that several test files share: `from helpers import ...`."""

from __future__ import annotations

import socket


def closed_port() -> int:
    """A loopback port nobody listens on (taken, then given back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def started(emulator, action: str = "StartRecord") -> int:
    """How many requests of one action reached the emulator."""
    return sum(1 for name, _params, _headers in emulator.requests if name == action)


async def wait_idle(pilot) -> None:
    """Every worker done (a send, say), and the screen repainted."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


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


async def send_confirmed(pilot) -> None:
    """Ctrl+S on the form, the confirmation shown, Enter, the answer in."""
    from gme_tui.tui.screens.dialogs import ConfirmScreen

    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await pilot.press("enter")
    await wait_idle(pilot)
