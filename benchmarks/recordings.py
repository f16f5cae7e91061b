#!/usr/bin/env python3
"""The recordings view and its refresh: how fast it opens, what it costs the operator.

1. Open (a real terminal): a fresh `gme-tui` in tmux at 120x40, its history holding
   10,000 known recordings of its endpoint, then Ctrl+R: the time from the key to
   the view's first frame on the terminal, against the same with 10 recordings,
   alternating; medians (target: under 100 ms with 10,000). The same in-process
   (Pilot, headless) for comparison.
2. Cost to the operator: the console (Pilot) with 200 live recordings on the
   emulator, refreshed by its follower every 0.5 s (the shortest setting; every
   round asks about all 200, so the share of the rate limit it may take is always
   in use), against the same console whose 200 recordings are done (nothing to
   refresh); each sends StartRecords on fresh rooms, from Enter on the
   confirmation to the answer on screen, alternating; medians (target: less than
   100 ms longer with the refresh).

Prints figures only; it never fails on a timing.

    python3 dev.py bench recordings [--runs N]
    .venv/bin/python benchmarks/recordings.py [--runs N] [--skip-tmux]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import BenchmarkFailed, add_runs, spread

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY, DEMO_SECRET_ID, DEMO_SECRET_KEY, Emulator  # noqa: E402
from gme_tui.history import History  # noqa: E402
from gme_tui.recordings import State  # noqa: E402

DEFAULT_RUNS = 10
MANY = 10_000
FEW = 10
LIVE = 200
PROFILE = "bench"
#: what only the recordings view draws (its header), and what only the main screen draws
VIEW_MARK = "Recordings of"
MAIN_MARK = "StartRecord"


def fill(history: History, endpoint: str, count: int, state: State, tasks: list[int] | None = None) -> None:
    """`count` recordings straight into the table (what years of use leave), newest last."""
    now = time.time()
    rows = [
        (endpoint, PROFILE, str(DEMO_BIZ_ID), str(tasks[n] if tasks else 2**60 + n), f"room-{n:05d}", 2,
         state.value, now - count + n, now, now)
        for n in range(count)
    ]  # fmt: skip
    with history._write():  # noqa: SLF001 - a benchmark's own bulk load
        history._db.executemany(  # noqa: SLF001
            "INSERT INTO recordings (endpoint, profile, biz_id, task_id, room_id, record_mode, state,"
            " started_at, updated_at, checked_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


# --- 1. opening the view in a real terminal ------------------------------------------------


#: a tmux server of the benchmark's own, apart from any the user (or a test) runs
TMUX = ["tmux", "-L", f"gme-bench-{os.getpid()}"]


def _screen(name: str) -> str:
    return subprocess.run(
        [*TMUX, "capture-pane", "-p", "-t", name], capture_output=True, text=True, check=False
    ).stdout


def _new_session(name: str, command: list[str], env: dict[str, str]) -> None:
    """tmux sometimes says "server exited unexpectedly" as its server starts: tried again,
    each time with a server of its own."""
    for attempt in range(5):
        TMUX[-1] = f"gme-bench-{os.getpid()}-{time.monotonic_ns()}"
        made = subprocess.run(
            [*TMUX, "new-session", "-d", "-s", name, "-x", "120", "-y", "40", *command],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode == 0:
            return
        time.sleep(0.2 * (attempt + 1))
    raise BenchmarkFailed(f"tmux new-session failed: {made.stderr.strip()}")


def _wait_for(name: str, mark: str, timeout: float = 30.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if mark in _screen(name):
            return time.perf_counter()
    raise BenchmarkFailed(f"{mark!r} never appeared in tmux; last screen:\n{_screen(name)}")


def open_in_tmux(folder: Path, url: str) -> float:
    """Seconds from Ctrl+R to the view's header drawn, in a fresh console in tmux."""
    name = f"gme-bench-{os.getpid()}"
    env = {
        **os.environ,
        "TENCENTCLOUD_SECRET_ID": DEMO_SECRET_ID,
        "TENCENTCLOUD_SECRET_KEY": DEMO_SECRET_KEY,
        "GME_TUI_CONFIG": str(folder / "settings.yaml"),
        "GME_TUI_PROFILE": PROFILE,
    }
    command = [sys.executable, "-m", "gme_tui", "--endpoint", url, "--data-dir", str(folder / "data")]
    _new_session(name, command, env)
    try:
        _wait_for(name, MAIN_MARK)
        time.sleep(2.0)  # the console settles: history panel, themes, the view built ahead
        sent = time.perf_counter()
        subprocess.run([*TMUX, "send-keys", "-t", name, "C-r"], check=True)
        return _wait_for(name, VIEW_MARK) - sent
    finally:
        subprocess.run([*TMUX, "kill-server"], check=False, capture_output=True)


def open_headless(folder: Path, url: str) -> float:
    """Seconds from Ctrl+R to the view's first frame, in-process (Pilot)."""
    from gme_tui.context import Context
    from gme_tui.tui.app import GmeApp
    from gme_tui.tui.screens.recordings import RecordingsScreen

    app = GmeApp(Context(profile=PROFILE, endpoint=url, data_dir=folder / "data", key=DEMO_KEY))

    async def run() -> float:
        async with app.run_test(size=(120, 40)) as pilot:
            await asyncio.sleep(2.0)  # as in tmux: the console settles first
            started = time.perf_counter()
            await pilot.press("ctrl+r")
            while not isinstance(app.screen, RecordingsScreen):
                await asyncio.sleep(0)
            await pilot.pause()  # its first frame
            return time.perf_counter() - started

    return asyncio.run(run())


def bench_open(runs: int, tmux: bool) -> None:
    print(f"1. Opening the recordings view: {MANY:,} known recordings against {FEW}")
    with Emulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        folders = {}
        for count in (MANY, FEW):
            folder = folders[count] = Path(tmp) / str(count)
            with History.in_dir(folder / "data") as history:
                fill(history, emulator.url, count, State.DONE)
        ways = [("headless (Pilot)", open_headless)]
        if tmux:
            ways.insert(0, ("tmux 120x40, fresh process", open_in_tmux))
        for label, way in ways:
            seen: dict[int, list[float]] = {MANY: [], FEW: []}
            for _ in range(runs):
                for count in (MANY, FEW):  # alternating
                    seen[count].append(way(folders[count], emulator.url))
            many, few = (statistics.median(seen[c]) for c in (MANY, FEW))
            print(f"   {label}")
            print(f"     {MANY:>6,} recordings  {spread(seen[MANY])}")
            print(f"     {FEW:>6,} recordings  {spread(seen[FEW])}")
            print(
                f"     ratio {many / few:.2f}; {MANY:,} recordings open in {many * 1000:.0f} ms (target < 100 ms)"
            )


# --- 2. what the refresh costs the operator -------------------------------------------------


def live_tasks(emulator: Emulator, count: int) -> list[int]:
    """`count` tasks running on the emulator, started on the service itself (its own
    20-per-second limit is lifted for the set-up, not for the measurement)."""
    from gme_tui.emulator.state import RateLimiter

    service = emulator.service
    limit, service._start_limit = service._start_limit, RateLimiter(limit=10**9)  # noqa: SLF001
    try:
        body = [
            json.dumps({"BizId": DEMO_BIZ_ID, "RoomId": f"live-{n:03d}", "RecordMode": 2})
            for n in range(count)
        ]
        return [service.call("StartRecord", b.encode())["TaskId"] for b in body]
    finally:
        service._start_limit = limit  # noqa: SLF001


def operator_waits(folder: Path, url: str, starts: int, tag: str) -> tuple[list[float], list[float]]:
    """Seconds from Enter on each StartRecord's confirmation to its answer on screen, and
    each one's own time in `calls.send` (its history row's duration: slot, request, answer)."""
    from textual.widgets import Input, Static

    from gme_tui.context import Context
    from gme_tui.tui.app import GmeApp
    from gme_tui.tui.screens.dialogs import ConfirmScreen
    from gme_tui.tui.widgets.mode_choice import ModeChoice

    app = GmeApp(
        Context(
            profile=PROFILE,
            endpoint=url,
            data_dir=folder / "data",
            key=DEMO_KEY,
            default_biz_id=str(DEMO_BIZ_ID),
            settings_path=folder / "settings.yaml",
        )  # fmt: skip
    )
    waits: list[float] = []

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await asyncio.sleep(1.5)  # the follower's first rounds are under way
            screen = app.screen
            for n in range(starts):
                screen.query_one("#room-id", Input).value = f"op-{tag}-{n}"
                screen.query_one("#record-mode", ModeChoice).focus()
                await pilot.press("2")
                await pilot.press("ctrl+s")
                while not isinstance(app.screen, ConfirmScreen):
                    await pilot.pause()
                title = screen.query_one("#response-title", Static)
                sent = time.perf_counter()
                await pilot.press("enter")
                while not (
                    not screen.sending and "StartRecord" in str(title.content) and "ok" in str(title.content)
                ):
                    await asyncio.sleep(0.001)
                waits.append(time.perf_counter() - sent)
                await asyncio.sleep(0.3)  # the operator reads the answer; the refresh goes on

    asyncio.run(run())
    with History.in_dir(folder / "data") as history:
        own = [
            r.duration_ms / 1000
            for r in history.rows(limit=100)
            if r.action == "StartRecord" and r.duration_ms
        ]
    return waits, own


def bench_refresh(runs: int) -> None:
    print(f"2. An operator's StartRecord with {LIVE} live recordings refreshing, against none")
    seen: dict[str, list[float]] = {"refreshing": [], "none": []}
    sends: dict[str, list[float]] = {"refreshing": [], "none": []}
    asked: list[int] = []
    with Emulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        tasks = live_tasks(emulator, LIVE)
        for run in range(runs):
            for kind in ("refreshing", "none"):  # alternating
                folder = Path(tmp) / f"{kind}-{run}"
                (folder).mkdir(parents=True)
                (folder / "settings.yaml").write_text("recordings_refresh: 0.5\nconfirm_start: true\n")
                with History.in_dir(folder / "data") as history:
                    fill(
                        history,
                        emulator.url,
                        LIVE,
                        State.RECORDING if kind == "refreshing" else State.DONE,
                        tasks,
                    )
                before = len(emulator.requests)
                waits, own = operator_waits(folder, emulator.url, 3, f"{kind}{run}")
                seen[kind] += waits
                sends[kind] += own
                if kind == "refreshing":
                    asked.append(
                        sum(1 for name, _p, _h in emulator.requests[before:] if name == "DescribeTaskInfo")
                    )
                for task in emulator.service.tasks():  # the operator's own starts end, the live ones stay
                    if task.room_id.startswith("op-") and task.stopped_at is None:
                        emulator.service.call(
                            "StopRecord", json.dumps({"BizId": DEMO_BIZ_ID, "TaskId": task.task_id}).encode()
                        )
    refreshing, none = (statistics.median(seen[k]) for k in ("refreshing", "none"))
    print("   Enter on the confirmation to the answer on screen:")
    print(f"     with the refresh  {spread(seen['refreshing'])}")
    print(f"     without           {spread(seen['none'])}")
    print("   the StartRecord's own time in calls.send (send slot, request, answer):")
    print(f"     with the refresh  {spread(sends['refreshing'])}")
    print(f"     without           {spread(sends['none'])}")
    print(f"   DescribeTaskInfo asked by the follower per console run: median {statistics.median(asked):.0f}")
    print(
        f"   the refresh adds {1000 * (refreshing - none):+.1f} ms to an operator's StartRecord (target < 100 ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_runs(parser, DEFAULT_RUNS)
    parser.add_argument("--skip-tmux", action="store_true", help="only the headless open (no tmux here)")
    parser.add_argument("--only", choices=["open", "refresh"], help="one of the two measurements")
    args = parser.parse_args()
    tmux = not args.skip_tmux
    if tmux and shutil.which("tmux") is None:
        print("tmux is not installed: measuring headless only (apt-get install tmux)", file=sys.stderr)
        tmux = False
    try:
        if args.only != "refresh":
            bench_open(args.runs, tmux)
        if args.only != "open":
            bench_refresh(args.runs)
    except BenchmarkFailed as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
