"""The work one keystroke in the form costs, against a minimal Textual app with two
Inputs, both in this process.

The operator's hot path is Tab between fields and typing into them. Each
keystroke is sent with `pilot.press` and followed by `pilot.pause()`, which
returns once the screen is idle again (handled and repainted), headless at
100x30: Tab from BizId to RoomId, one character typed into RoomId (validated on
the keystroke), Shift+Tab back. Tab selects the field's text, so the character
typed replaces it: rounds alternate "x" and "y" so that every keystroke changes
the value (a key that left it the same would never run the validation). What is
measured is the CPU time the process spends on it (`time.process_time`): the
wall clock of a Pilot keystroke is mostly Pilot's own waiting, the same for any
app. Median of `--runs` rounds after one untimed round; prints figures and
ratios, asserts nothing about time.

    .venv/bin/python benchmarks/keystrokes.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from _common import add_runs
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

from gme_tui.context import Context
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.tui.app import GmeApp

SIZE = (100, 30)
#: a typed key that changes the value, gme-tui's CPU over the minimal app's (issue 11)
TARGET_RATIO = 2.0


class Minimal(App):
    def compose(self):
        yield Input(id="first")
        yield Input(id="second")


async def timed(pilot: Pilot, *keys: str) -> float:
    started = time.process_time()
    await pilot.press(*keys)
    await pilot.pause()
    return time.process_time() - started


async def measure(app: App, first: str, second: str, runs: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"Tab": [], "Shift+Tab": [], "type a character": []}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)  # everything after the first frame is in, too
        app.screen.query_one(f"#{first}").focus()
        await pilot.pause()
        for n in range(runs + 1):
            tab = await timed(pilot, "tab")
            assert app.focused is not None and app.focused.id == second, app.focused
            key = "xy"[n % 2]  # a new value each round, or nothing would be checked
            typed = await timed(pilot, key)
            assert app.screen.query_one(f"#{second}", Input).value == key
            back = await timed(pilot, "shift+tab")
            assert app.focused is not None and app.focused.id == first, app.focused
            if n:  # the first round warms caches
                figures["Tab"].append(tab)
                figures["type a character"].append(typed)
                figures["Shift+Tab"].append(back)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_runs(parser, 30, "rounds of the three keystrokes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gme-tui-keys-") as tmp:
        config = Context(
            profile="bench",
            endpoint="http://127.0.0.1:9",
            data_dir=Path(tmp),
            key=DEMO_KEY,
            key_source="demo credentials",
            demo=True,
            default_biz_id=str(DEMO_BIZ_ID),
            settings_path=Path(tmp) / "settings.yaml",
        )
        ours = asyncio.run(measure(GmeApp(config), "biz-id", "room-id", args.runs))
    minimal = asyncio.run(measure(Minimal(), "first", "second", args.runs))
    print(
        f"CPU time of one keystroke, handled and repainted, headless {SIZE[0]}x{SIZE[1]}, "
        f"median of {args.runs}:"
    )
    for what in ours:
        a, b = statistics.median(ours[what]) * 1000, statistics.median(minimal[what]) * 1000
        print(f"  {what:<18} gme-tui {a:6.1f} ms   minimal two-Input app {b:6.1f} ms   ratio {a / b:4.2f}")
    typed = statistics.median(ours["type a character"]) / statistics.median(minimal["type a character"])
    verdict = "met" if typed <= TARGET_RATIO else "NOT met"
    print(f"  a typed key: ratio {typed:.2f} (target: at most {TARGET_RATIO}; {verdict})")


if __name__ == "__main__":
    main()
