#!/usr/bin/env python3
"""Time from process start to the first frame: gme-tui's console against a minimal Textual app.

Measured where users are, by default: in a real terminal, tmux at 120x40 (a tmux
server of the benchmark's own, `tmux -L`). Each run opens a new tmux window whose
command notes the wall clock and then `exec`s the app (so the stamp is the
process start); the benchmark polls `capture-pane` until a text of the first
frame is on the terminal: for gme-tui the form's border title (StartRecord) and
the key bar's Quit, both; for the minimal app (one `Input`, focused) its
placeholder. The run's time is from the stamp to the poll that saw the text, so
it covers the interpreter starting, every import, building the app, its first
frame and the terminal drawing it. The two apps alternate (ours, minimal, then
minimal, ours, ...) so a slow spell hits both alike, after one untimed warm-up
run each; medians, and the ratio gme-tui/minimal against the target (at most
1.4).

`--where headless` times the same in-process instead (the earlier figure, kept
for comparison): each run a fresh Python process; the parent notes the wall
clock just before it spawns the child; the child runs its app headless and
notes the wall clock once the screen the user types into has been painted.

- gme-tui: the real `gme-tui --demo` path (in tmux the `gme-tui` script an operator
  runs, `python3 dev.py demo`; `gme_tui.cli.main`: arguments,
  settings, the in-process emulator, themes, the history store, the app). In
  the headless run the child also makes the app headless and hooks the main
  screen's `on_mount`, asking for a callback after its first refresh (the app's
  own `on_mount` comes before that screen is even composed).
  `--app env` times plain `gme-tui` instead: credentials from the environment
  (demo values) and the real https endpoint; nothing is sent.
  Three things come one frame later, by design, so they are not in that
  figure: the history panel (its table and first page), the themes other than
  the chosen one (for the palette), and in the demo the emulator starting to
  serve (its port is taken before the first frame). So that nothing hides
  there, the headless child also notes when the history panel is on screen,
  and the benchmark prints that figure too (not part of the ratio); in tmux,
  the time until the history panel's title is drawn.
- minimal: `App` with one `Input`, focused.

Both children get a throwaway settings file, data folder and HOME, and none of
the caller's PYTHON*, TEXTUAL*, GME_TUI_* or TENCENTCLOUD_* variables. Prints
every run, both medians with min/max and the ratio. Never asserts a time; a
child that fails or does not reach its screen stops the benchmark with what it
printed (or, in tmux, the last screen).

    python3 dev.py bench startup [--runs 15] [--app demo|env] [--where tmux|headless]
    .venv/bin/python benchmarks/startup.py [--runs 15] [--app demo|env] [--where tmux|headless]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import RUN_TIMEOUT, BenchmarkFailed, add_runs, scrubbed_env, spread

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RUNS = 15
#: gme-tui's median over the minimal app's, in tmux (issue 11) and headless (before it)
TARGET_RATIO = {"tmux": 1.4, "headless": 1.5}
SIZE = (120, 40)

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


# --- in a real terminal: tmux ------------------------------------------------------------

#: the minimal app of the tmux runs: one Input, focused, its placeholder the mark
MINIMAL_TTY = """
from textual.app import App
from textual.widgets import Input

class Minimal(App):
    def compose(self):
        yield Input(id="input", placeholder="minimal app ready")

    def on_mount(self):
        self.query_one(Input).focus()

Minimal().run()
"""
MINIMAL_MARKS = ("minimal app ready",)
#: the form's border title and the key bar's last key: the first frame is drawn when
#: both are on the terminal
GME_TUI_MARKS = ("StartRecord", "Quit")
#: the history table's column header: the frame after the first
HISTORY_MARK = "Outcome"

#: the child's first act: note the wall clock (ns), then become the app
_STAMP_AND_EXEC = 'date +%s%N > "$0"; exec "$@"'


class Tmux:
    """A tmux server of the benchmark's own (`-L`), one session at 120x40, a window a run."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.base = ["tmux", "-L", f"gme-startup-{os.getpid()}", "-f", os.devnull]
        made = self._run(
            "new-session", "-d", "-s", "bench", "-x", str(SIZE[0]), "-y", str(SIZE[1]), "sleep 1000000"
        )
        if made.returncode:
            raise BenchmarkFailed(f"tmux new-session failed: {made.stderr.strip()}")
        # every window at 120x40 (not "window-size manual": tmux 3.3a exits on it)
        self._run("set", "-g", "default-size", f"{SIZE[0]}x{SIZE[1]}")
        self._run("set", "-g", "remain-on-exit", "on")  # a child that fails leaves its screen
        self.terminal = self._run("show", "-gv", "default-terminal").stdout.strip() or "screen"
        self._n = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=False, env=self.env)

    def screen(self, window: str) -> str:
        return self._run("capture-pane", "-p", "-t", window).stdout

    def close(self) -> None:
        self._run("kill-server")

    def run(
        self, name: str, argv: list[str], marks: tuple[str, ...], later: str | None
    ) -> tuple[float, float | None]:
        """Seconds from the child's start to every mark on the terminal, and to `later`."""
        self._n += 1
        window = f"bench:run{self._n}"  # a name, never an index tmux may reuse
        stamp = Path(tempfile.mkstemp(prefix="gme-startup-stamp-")[1])
        env = {**self.env, "TERM": self.terminal}
        command = [
            "env",
            "-i",
            *(f"{k}={v}" for k, v in env.items()),
            "sh",
            "-c",
            _STAMP_AND_EXEC,
            str(stamp),
            *argv,
        ]
        try:
            made = self._run("new-window", "-d", "-t", "bench", "-n", f"run{self._n}", shlex.join(command))
            if made.returncode:
                raise BenchmarkFailed(f"{name}: tmux new-window failed: {made.stderr.strip()}")
            drawn = self._wait(name, window, lambda text: all(mark in text for mark in marks))
            filled = self._wait(name, window, lambda text: later in text) if later else None
            started = int(stamp.read_text().strip()) / 1e9
        finally:
            self._run("kill-window", "-t", window)
            stamp.unlink(missing_ok=True)
        return drawn - started, (filled - started if filled else None)

    def _wait(self, name: str, window: str, seen, timeout: float = RUN_TIMEOUT) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen(window)
            if seen(text):
                return time.time()
            time.sleep(0.002)  # a capture costs about as much: half the time for the apps
        raise BenchmarkFailed(
            f"{name}: its first frame never appeared in tmux; last screen:\n{self.screen(window)}"
        )


def gme_tui_command() -> list[str]:
    """What an operator runs: the `gme-tui` script beside this interpreter (`python3 dev.py
    demo` runs it), not `python -m gme_tui`, which pays for runpy besides."""
    script = Path(sys.executable).parent / "gme-tui"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gme_tui"]


def measure_tmux(
    label: str, ours_argv: list[str], env: dict[str, str], runs: int
) -> tuple[list[float], list[float], list[float]]:
    if shutil.which("tmux") is None:
        raise BenchmarkFailed("tmux is not installed (or run with --where headless)")
    tmux = Tmux(env)
    contenders = [
        (label, ours_argv, GME_TUI_MARKS, HISTORY_MARK),
        ("minimal Textual app", [sys.executable, "-c", MINIMAL_TTY], MINIMAL_MARKS, None),
    ]
    times: dict[str, list[float]] = {name: [] for name, *_rest in contenders}
    filled: list[float] = []
    try:
        for name, argv, marks, later in contenders:
            tmux.run(name, argv, marks, later)  # warm-up: bytecode, the history file, disk caches
        for n in range(runs):
            order = contenders if n % 2 == 0 else contenders[::-1]
            line = []
            for name, argv, marks, later in order:
                took, history = tmux.run(name, argv, marks, later)
                times[name].append(took)
                line.append(f"{name} {took * 1000:6.1f} ms")
                if history is not None:
                    filled.append(history)
            print(f"  run {n + 1:2}: " + "   ".join(line))
    finally:
        tmux.close()
    return times[label], times["minimal Textual app"], filled


def measure_headless(
    label: str, ours_args: list[str], env: dict[str, str], runs: int
) -> tuple[list[float], list[float], list[float]]:
    contenders = [
        (
            label,
            [sys.executable, "-c", GME_TUI, *ours_args],
            "room-id" if "--demo" in ours_args else "biz-id",
        ),
        ("minimal Textual app", [sys.executable, "-c", MINIMAL], "input"),
    ]
    times: dict[str, list[float]] = {name: [] for name, _a, _f in contenders}
    filled: list[float] = []
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
    return times[label], times["minimal Textual app"], filled


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_runs(parser, DEFAULT_RUNS)
    parser.add_argument(
        "--app",
        choices=("demo", "env"),
        default="demo",
        help="demo: `gme-tui --demo` (default); env: `gme-tui` with credentials from the environment",
    )
    parser.add_argument(
        "--where",
        choices=("tmux", "headless"),
        default="tmux",
        help=f"tmux: a real terminal, tmux at {SIZE[0]}x{SIZE[1]} (default); headless: in-process, no terminal",
    )
    args = parser.parse_args()
    runs = args.runs
    ours_args = ["--demo"] if args.app == "demo" else []
    label = "gme-tui --demo" if args.app == "demo" else "gme-tui"
    where = f"tmux {SIZE[0]}x{SIZE[1]}" if args.where == "tmux" else "headless"
    with tempfile.TemporaryDirectory(prefix="gme-tui-startup-") as tmp:
        folder = Path(tmp)
        (folder / "home").mkdir()
        env = child_env(folder, args.app)
        print(
            f"python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} cores; {where}; {runs} runs each after one warm-up, alternating"
        )
        try:
            if args.where == "tmux":
                ours, minimal, filled = measure_tmux(label, [*gme_tui_command(), *ours_args], env, runs)
            else:
                ours, minimal, filled = measure_headless(label, ours_args, env, runs)
        except BenchmarkFailed as error:
            print(f"startup: {error}", file=sys.stderr)
            return 1
    frame = "first frame on the terminal" if args.where == "tmux" else "first interactive frame"
    print(f"\nprocess start to the {frame} ({where}), {runs} runs each:")
    print(f"  {label:<22} {spread(ours)}")
    print(f"  {'minimal Textual app':<22} {spread(minimal)}")
    ratio = statistics.median(ours) / statistics.median(minimal)
    target = TARGET_RATIO[args.where]
    verdict = "met" if ratio <= target else "NOT met"
    print(f"  ratio {ratio:.2f} (target: at most {target}; {verdict})")
    print("\nprocess start to the history panel on screen (a frame later, not in the ratio):")
    print(f"  {label:<22} {spread(filled)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
