#!/usr/bin/env python3
"""Time from process start to the first interactive frame: gme-tui's console against a minimal Textual app.

Each run is a fresh Python process. The parent notes the wall clock just before
it spawns the child; the child runs its app headless, notes the wall clock once
the screen the user types into has been painted, and prints it when the app is
gone (the minimal app exits there; gme-tui goes on to its history panel, see
below). A run's time
is the printed time minus the spawn time, so it covers the interpreter starting,
every import, building the app and its first frame. The two apps alternate
(ours, minimal, then minimal, ours, ...) so that a slow spell of the machine
hits both alike, after one untimed warm-up run each (it compiles the bytecode).

- gme-tui: the real `gme-tui --demo` path (`gme_tui.cli.main`: arguments,
  settings, the in-process emulator, themes, the history store, the app), with
  two changes made in the child only: the app runs headless, and the main
  screen's `on_mount` asks for a callback after its first refresh. That screen
  is the one the operator types into (BizId has the focus, the key bar shows
  the keys); the app's own `on_mount` comes before it is even composed.
  `--app env` times plain `gme-tui` instead: credentials from the environment
  (demo values) and the real https endpoint; nothing is sent.
  Three things come one frame later, by design, so they are not in that
  figure: the history panel (its table and first page), the themes other than
  the chosen one (for the palette), and in the demo the emulator starting to
  serve (its port is taken before the first frame). So that nothing hides
  there, the child also notes when the history panel is on screen, and the
  benchmark prints that figure too (not part of the ratio).
- minimal: `App` with one `Input`, focused, and the same callback from its
  `on_mount`.

Both children get a throwaway settings file, data folder and HOME, and none of
the caller's PYTHON*, TEXTUAL*, GME_TUI_* or TENCENTCLOUD_* variables. Prints
every run, both medians with min/max and the ratio gme-tui/minimal (target: at
most 1.5). Never asserts a time; a child that fails or does not reach its
screen stops the benchmark with what it printed.

    python3 dev.py bench startup [--runs 15] [--app demo|env]
    .venv/bin/python benchmarks/startup.py [--runs 15] [--app demo|env]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RUN_TIMEOUT, BenchmarkFailed, add_runs, scrubbed_env, spread

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUNS = 15
TARGET_RATIO = 1.5

_DROPPED_PREFIXES = ("PYTHON", "TEXTUAL", "GME_TUI_", "TENCENTCLOUD_", "XDG_")

#: Both children note the same thing: the wall clock in the first callback after the
#: first refresh of the screen that has the focus, with the focused widget's id as
#: proof, printed once the app is gone (Textual captures print() while it runs).
_REPORT = """
import time
_stamp = []
def _stamp_frame(app):
    _stamp.append((time.time(), app.focused.id if app.focused else None))
"""

GME_TUI = (
    _REPORT
    + """
import sys
from functools import partialmethod
from textual.app import App
from gme_tui import cli
from gme_tui.tui.app import GmeApp
from gme_tui.tui.screens.main import MainScreen

_mount = MainScreen.on_mount
_history = MainScreen._mount_history
_filled = []

def on_mount(self):
    _mount(self)
    self.call_after_refresh(_stamp_frame, self.app)

async def mount_history(self):
    await _history(self)
    self.call_after_refresh(_stamp_history, self.app)

def _stamp_history(app):
    _filled.append(time.time())
    app.exit()

MainScreen.on_mount = on_mount
MainScreen._mount_history = mount_history
GmeApp.run = partialmethod(App.run, headless=True)
code = cli.main(sys.argv[1:])
if code or not _stamp or not _filled:
    sys.exit(f"gme-tui exited {code} without reaching its main screen and history panel")
print(*_stamp[0], _filled[0])
"""
)

MINIMAL = (
    _REPORT
    + """
from textual.app import App
from textual.widgets import Input

class Minimal(App):
    def compose(self):
        yield Input(id="input")

    def on_mount(self):
        self.query_one(Input).focus()
        self.call_after_refresh(self._done)

    def _done(self):
        _stamp_frame(self)
        self.exit()

Minimal().run(headless=True)
print(*_stamp[0])
"""
)


def child_env(folder: Path, app: str) -> dict[str, str]:
    env = scrubbed_env(_DROPPED_PREFIXES)
    env.update(
        HOME=str(folder / "home"),
        GME_TUI_CONFIG=str(folder / "config" / "settings.yaml"),
        GME_TUI_DATA_DIR=str(folder / "data"),
    )
    if app == "env":
        from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY

        env.update(TENCENTCLOUD_SECRET_ID=DEMO_SECRET_ID, TENCENTCLOUD_SECRET_KEY=DEMO_SECRET_KEY)
    return env


def run_once(
    name: str, argv: list[str], env: dict[str, str], expected_focus: str
) -> tuple[float, float | None]:
    """Seconds from just before the spawn to the first interactive frame, and to the
    history panel on screen (gme-tui only)."""
    spawned = time.time()
    child = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
        text=True,
    )
    try:
        out, err = child.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise BenchmarkFailed(f"{name}: no frame within {RUN_TIMEOUT:.0f} s") from None
    words = out.split()
    if child.returncode != 0 or len(words) not in (2, 3):
        raise BenchmarkFailed(f"{name}: exit {child.returncode}\nstdout: {out}\nstderr: {err}")
    if words[1] != expected_focus:
        raise BenchmarkFailed(
            f"{name}: focus was on {words[1]!r}, not {expected_focus!r}, at the first frame"
        )
    return float(words[0]) - spawned, (float(words[2]) - spawned if len(words) == 3 else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_runs(parser, DEFAULT_RUNS)
    parser.add_argument(
        "--app",
        choices=("demo", "env"),
        default="demo",
        help="demo: `gme-tui --demo` (default); env: `gme-tui` with credentials from the environment",
    )
    args = parser.parse_args()
    runs = args.runs
    ours_args = ["--demo"] if args.app == "demo" else []
    label = "gme-tui --demo" if args.app == "demo" else "gme-tui"
    with tempfile.TemporaryDirectory(prefix="gme-tui-startup-") as tmp:
        folder = Path(tmp)
        (folder / "home").mkdir()
        env = child_env(folder, args.app)
        contenders = [
            (label, [sys.executable, "-c", GME_TUI, *ours_args], "biz-id"),
            ("minimal Textual app", [sys.executable, "-c", MINIMAL], "input"),
        ]
        times: dict[str, list[float]] = {name: [] for name, _a, _f in contenders}
        filled: list[float] = []
        print(
            f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} cores; {runs} runs each after one warm-up, alternating"
        )
        try:
            for name, argv, focus in contenders:
                run_once(name, argv, env, focus)  # warm-up: bytecode, the history file, disk caches
            for n in range(runs):
                order = contenders if n % 2 == 0 else contenders[::-1]
                line = []
                for name, argv, focus in order:
                    took, history = run_once(name, argv, env, focus)
                    times[name].append(took)
                    line.append(f"{name} {took * 1000:6.1f} ms")
                    if history is not None:
                        filled.append(history)
                print(f"  run {n + 1:2}: " + "   ".join(line))
        except BenchmarkFailed as error:
            print(f"startup: {error}", file=sys.stderr)
            return 1
    ours, minimal = (times[name] for name, _a, _f in contenders)
    print(f"\nprocess start to first interactive frame, {runs} runs each:")
    print(f"  {label:<22} {spread(ours)}")
    print(f"  {'minimal Textual app':<22} {spread(minimal)}")
    ratio = statistics.median(ours) / statistics.median(minimal)
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"  ratio {ratio:.2f} (target: at most {TARGET_RATIO}; {verdict})")
    print("\nprocess start to the history panel on screen (a frame later, not in the ratio):")
    print(f"  {label:<22} {spread(filled)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
