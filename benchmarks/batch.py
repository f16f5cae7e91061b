#!/usr/bin/env python3
"""200 rooms started from the shell: `gme-tui batch start` against a shell loop of
`tccli gme StartRecord` and one of `gme-tui start`, all against the emulator.

Each way gets an emulator of its own (in this process, on a free loopback port), so
that what the emulator saw is that way's alone: every StartRecord's arrival time at
its rate limit, and which were admitted. Printed for each: the wall time from the
first spawn to the last exit, the achieved rate (rooms started per second), the most
StartRecords that arrived in any one-second window, and how many the emulator
refused with RequestLimitExceeded. The ways alternate run by run; medians over
`--runs` (default 1: a tccli loop of 200 rooms takes minutes).

The target (issue 12): the batch starts 200 rooms in at most 10.6 s (19 per second
sustained) with no RequestLimitExceeded. Prints figures; asserts nothing about time
(it does check that every room was started exactly once).

tccli lives in its own environment (`.bench-venv/`, see cli_vs_tccli.py); `--no-tccli`
leaves it out.

    .venv/bin/python benchmarks/batch.py [--rooms 200] [--runs 1] [--no-tccli]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from _common import BenchmarkFailed
from cli_vs_tccli import TCCLI, _project_bin, child_env, ensure_tccli

from gme_tui.emulator import DEMO_BIZ_ID, DEMO_SECRET_ID, DEMO_SECRET_KEY, Emulator

TARGET_SECONDS = 10.6
LIMIT = 20


@dataclass(frozen=True)
class Seen:
    seconds: float
    started: int
    arrivals: int
    busiest: int

    @property
    def refused(self) -> int:
        """StartRecords that arrived but started nothing: the emulator refused them for the rate."""
        return self.arrivals - self.started

    @property
    def rate(self) -> float:
        return self.started / self.seconds


def _busiest(arrivals: list[float]) -> int:
    """The most arrivals in any window of one second (each arrival opens one)."""
    most, end = 0, 0
    for start, first in enumerate(arrivals):
        while end < len(arrivals) and arrivals[end] < first + 1.0:
            end += 1
        most = max(most, end - start)
    return most


def _commands(way: str, url: str, rooms: list[str], data_dir: Path) -> list[list[str]]:
    gme_tui = str(_project_bin("gme-tui"))
    common = [gme_tui, "--endpoint", url, "--data-dir", str(data_dir)]
    if way == "gme-tui batch":
        pattern = f"{rooms[0].rsplit('-', 1)[0]}-{{001..{len(rooms):03}}}"
        return [
            [*common, "batch", "start", "--biz-id", str(DEMO_BIZ_ID), "--rooms", pattern, "--mode", "1",
             "--output", "json"]
        ]  # fmt: skip
    if way == "gme-tui start loop":
        return [
            [
                *common,
                "start",
                "--biz-id",
                str(DEMO_BIZ_ID),
                "--room-id",
                room,
                "--mode",
                "1",
                "--output",
                "json",
            ]
            for room in rooms
        ]
    return [
        [str(TCCLI), "gme", "StartRecord", "--endpoint", url, "--BizId", str(DEMO_BIZ_ID), "--RoomId", room,
         "--RecordMode", "1", "--output", "json"]
        for room in rooms
    ]  # fmt: skip


def measure(way: str, count: int, tmp: Path, run: int, env: dict[str, str]) -> Seen:
    rooms = [f"{way.split()[0]}-{run}-{i:03}" for i in range(1, count + 1)]
    data_dir = tmp / f"data-{way.replace(' ', '-')}-{run}"
    with Emulator() as emulator:
        commands = _commands(way, emulator.url, rooms, data_dir)
        started = time.perf_counter()
        for argv in commands:  # one after the other, as a shell loop runs them
            done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if done.returncode not in (0, 3):  # 3: a service error (a refused room, counted below)
                raise BenchmarkFailed(
                    f"{way}: exit {done.returncode}\n  {shlex.join(argv)}\n  {done.stderr.strip()[-2000:]}"
                )
        seconds = time.perf_counter() - started
        arrivals = emulator.service.start_arrivals()
        tasks = Counter(task.room_id for task in emulator.service.tasks())
    if way == "gme-tui batch" and (set(tasks) != set(rooms) or set(tasks.values()) != {1}):
        raise BenchmarkFailed(f"{way}: not every room started exactly once ({len(tasks)} of {count})")
    return Seen(seconds, sum(tasks.values()), len(arrivals), _busiest(arrivals))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=200, help="rooms each way starts (default %(default)s)")
    parser.add_argument(
        "--runs", type=int, default=1, help="runs of each way, alternating (default %(default)s)"
    )
    parser.add_argument("--no-tccli", action="store_true", help="leave the tccli loop out")
    args = parser.parse_args()
    ways = ["gme-tui batch", "gme-tui start loop"]
    if not args.no_tccli:
        print(f"tccli {ensure_tccli()} ({TCCLI})")
        ways.insert(1, "tccli loop")
    seen: dict[str, list[Seen]] = {way: [] for way in ways}
    with tempfile.TemporaryDirectory(prefix="gme-bench-batch-") as folder:
        tmp = Path(folder)
        home = tmp / "home"
        home.mkdir()
        env = child_env(home, DEMO_SECRET_ID, DEMO_SECRET_KEY)
        # One untimed room each first: the children's bytecode is cached in a throwaway tree
        # (as cli_vs_tccli does), so that no timed run pays for compiling it.
        for way in ways:
            measure(way, 1, tmp, 0, env)
        print(f"{args.rooms} rooms each way, {args.runs} run(s), ways alternating; emulator in this process")
        for run in range(1, args.runs + 1):
            for way in ways:
                figures = measure(way, args.rooms, tmp, run, env)
                seen[way].append(figures)
                print(
                    f"  run {run} {way:<20} {figures.seconds:7.2f} s  {figures.rate:5.1f} rooms/s"
                    f"  busiest second {figures.busiest:>3}  RequestLimitExceeded {figures.refused}",
                    flush=True,
                )
    print(f"\nmedians over {args.runs} run(s):")
    print(f"  {'way':<20} {'time':>9} {'rate':>12} {'busiest 1 s':>12} {'refused':>8}")
    for way in ways:
        runs = seen[way]
        seconds = statistics.median(s.seconds for s in runs)
        print(
            f"  {way:<20} {seconds:7.2f} s {statistics.median(s.rate for s in runs):7.1f} /s"
            f" {max(s.busiest for s in runs):>12} {max(s.refused for s in runs):>8}"
        )
    batch = statistics.median(s.seconds for s in seen["gme-tui batch"])
    refused = max(s.refused for s in seen["gme-tui batch"])
    for way in ways[1:]:
        other = statistics.median(s.seconds for s in seen[way])
        print(f"  {way} takes {other / batch:.1f} times as long as the batch")
    verdict = "met" if batch * 200 / args.rooms <= TARGET_SECONDS and refused == 0 else "NOT met"
    print(
        f"target: {args.rooms} rooms in at most {TARGET_SECONDS * args.rooms / 200:.1f} s with 0 RequestLimitExceeded:"
        f" {verdict} ({batch:.2f} s, {refused} refused)"
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkFailed as error:
        print(f"batch: benchmark aborted: {error}", file=sys.stderr)
        sys.exit(1)
