#!/usr/bin/env python3
"""The rate limit shared across processes (`gme_tui.send_slots`): what it costs, what it buys.

1. Cost: one `gme-tui start` with the shared limiter (as shipped) against the same
   command with it taken out (the client's per-process limiter only), alternating,
   fresh processes; medians.
2. Rate: StartRecords sent all at once by one process (one async client, as a batch
   sends them), then by several processes sharing the slot file, against an emulator
   in this process that keeps each StartRecord's arrival time: the achieved rate past
   the first twenty (target: 19 or more per second), the most arrivals in any
   one-second window (at most 20), and RequestLimitExceeded (target: 0).
3. Gain: 6 processes released at once, each starting 10 rooms one after another
   through the command line's own send path (`gme_tui.cli.main`): RequestLimitExceeded
   and the most in a window, with the shared limiter and without (target: 0 with it).

Prints figures only; it never fails on a timing.

    python3 dev.py bench shared_limit [--runs N] [--rounds N] [--sends N]
    .venv/bin/python benchmarks/shared_limit.py [--runs N] [--rounds N] [--sends N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import RUN_TIMEOUT, BenchmarkFailed, add_runs, spread
from cli_vs_tccli import child_env

DEFAULT_RUNS = 15
PROCESSES = 6
EACH = 10
#: the sends of the rate part, and how many processes share them in its second run
SENDS = 200
SHARING = 4
LIMIT = 20

#: the child: gme-tui's own entry point; with "off" as its first argument, `make_client`
#: gets no shared limiter (a stand-in `gme_tui.send_slots` whose `for_folder` gives None,
#: so the client keeps its per-process one) and nothing else changes
_ENTRY = """
import sys
if sys.argv.pop(1) == "off":
    import types
    stand_in = types.ModuleType("gme_tui.send_slots")
    stand_in.for_folder = lambda folder: None
    sys.modules["gme_tui.send_slots"] = stand_in
sys.argv[0] = "gme-tui"
from gme_tui.__main__ import entry
entry()
"""

#: one of the processes started at once: ready, then on the word, its starts in turn
_BURST = _ENTRY.replace(
    "from gme_tui.__main__ import entry\nentry()",
    """import json
from gme_tui.cli import main
url, folder, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
print("ready", flush=True)
sys.stdin.readline()
codes = [
    main(["--endpoint", url, "--data-dir", folder, "start", "--biz-id", "1400089356",
          "--room-id", f"{name}-{n}", "--mode", "2", "--output", "json"])
    for n in range(count)
]
print(json.dumps(codes), flush=True)
""",
)


#: one sender of the rate part: ready, then on the word, all its starts at once through one
#: async client on the folder's shared limiter; prints the error code of each (null: ok)
_RATE = """
import asyncio, json, sys
from pathlib import Path
from gme_tui.api.actions import StartRecord
from gme_tui.api.client import GmeClient
from gme_tui.api.errors import GmeError, ServiceError
from gme_tui.api.fields import RecordMode
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.send_slots import for_folder
url, folder, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
limiter = for_folder(Path(folder))

async def run():
    async with GmeClient(DEMO_KEY, endpoint=url, limiter=limiter, use_env_proxies=False) as client:
        return await asyncio.gather(
            *(client.call(StartRecord(DEMO_BIZ_ID, f"{name}-{n}", RecordMode.MIXED)) for n in range(count)),
            return_exceptions=True,
        )

print("ready", flush=True)
sys.stdin.readline()
results = asyncio.run(run())
codes = [r.code if isinstance(r, ServiceError) else type(r).__name__ if isinstance(r, BaseException) else None
         for r in results]
print(json.dumps({"codes": codes, "problem": limiter.problem}), flush=True)
"""


def most_in_a_second(arrivals: list[float]) -> int:
    times = sorted(arrivals)
    ends = iter(times)
    most, end, inside = 0, next(ends, None), 0
    for i, start in enumerate(times):  # two pointers: arrivals in [start, start + 1)
        while end is not None and end < start + 1.0:
            inside += 1
            end = next(ends, None)
        most = max(most, inside - i)
    return most


def rate_past_the_first(arrivals: list[float]) -> float:
    """Sends per second after the first window's twenty, which go at once by the rule."""
    times = sorted(arrivals)
    if len(times) <= LIMIT or times[-1] == times[LIMIT - 1]:
        return float("nan")
    return (len(times) - LIMIT) / (times[-1] - times[LIMIT - 1])


def released_at_once(
    script: str, argvs: list[list[str]], env: dict[str, str]
) -> tuple[list[str], float, float]:
    """Start every child, wait until each says ready, then give the word to all: what
    each printed last, and the wall clock (unix seconds) of the word and of the last exit."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, *argv],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    try:
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise BenchmarkFailed(f"a sender did not start:\n{child.stderr.read()}")
        word = time.time()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        said = [child.communicate(timeout=RUN_TIMEOUT * 4) for child in children]
        ended = time.time()
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (_out, err) in zip(children, said, strict=True):
        if child.returncode != 0:
            raise BenchmarkFailed(f"a sender exited {child.returncode}:\n{err.strip()}")
    return [out.strip().splitlines()[-1] for out, _err in said], word, ended


def rate_run(
    emulator: Any, url: str, folder: Path, env: dict[str, str], processes: int, sends: int, tag: str
) -> str:
    each = [sends // processes + (1 if n < sends % processes else 0) for n in range(processes)]
    argvs = [[url, str(folder), f"{tag}-p{n}", str(count)] for n, count in enumerate(each)]
    said, word, ended = released_at_once(_RATE, argvs, env)
    arrivals = [t for t in emulator.service.start_arrivals() if word <= t <= ended]
    results = [json.loads(line) for line in said]
    codes = [code for result in results for code in result["codes"]]
    problems = {result["problem"] for result in results} - {None}
    if len(arrivals) != sends:
        raise BenchmarkFailed(f"{len(arrivals)} arrivals at the emulator for {sends} sends")
    span = max(arrivals) - min(arrivals)
    line = (
        f"rate past the first {LIMIT} {rate_past_the_first(arrivals):5.2f}/s   "
        f"all in {span:5.2f} s   most in 1 s {most_in_a_second(arrivals):2d}   "
        f"RequestLimitExceeded {codes.count('RequestLimitExceeded'):3d}   "
        f"other failures {sum(1 for c in codes if c not in (None, 'RequestLimitExceeded')):3d}"
    )
    return line + (f"\n    slot file failed: {sorted(problems)}" if problems else "")


def one_start(mode: str, url: str, folder: Path, room: str, env: dict[str, str]) -> float:
    argv = [sys.executable, "-c", _ENTRY, mode, "--endpoint", url, "--data-dir", str(folder)]
    argv += ["start", "--biz-id", "1400089356", "--room-id", room, "--mode", "2", "--output", "json"]
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "TaskId" not in done.stdout:
        raise BenchmarkFailed(f"start ({mode}) exited {done.returncode}:\n{done.stderr.strip()}")
    return elapsed


def burst(emulator: Any, mode: str, url: str, folder: Path, env: dict[str, str], tag: str) -> str:
    """RequestLimitExceeded, ok, the most in a window and the time to the last exit of one burst."""
    argvs = [[mode, url, str(folder), f"{tag}-p{n}", str(EACH)] for n in range(PROCESSES)]
    said, word, ended = released_at_once(_BURST, argvs, env)
    codes = [code for line in said for code in json.loads(line)]
    arrivals = [t for t in emulator.service.start_arrivals() if word <= t <= ended]
    from gme_tui.history import History

    with History.in_dir(folder) as history:  # every start's row says how it ended
        limited = sum(1 for row in history.rows(limit=1000) if row.error_code == "RequestLimitExceeded")
    return (
        f"RequestLimitExceeded {limited:3d} of {PROCESSES * EACH}   ok {codes.count(0):3d}   "
        f"most in 1 s {most_in_a_second(arrivals):2d}   all done in {(ended - word) * 1000:7.1f} ms"
    )


def _first_reservation(folder: Path) -> str:
    """What the shared limiter itself costs a one-shot command: a new limiter's first
    `reserve()` (connect, WAL, the transaction) on the slot file the starts above left."""
    from gme_tui.send_slots import FILE_NAME, SharedLimiter

    took = []
    for _ in range(DEFAULT_RUNS):
        limiter = SharedLimiter(folder / FILE_NAME)
        started = time.perf_counter()
        ticket = limiter.reserve()
        took.append(time.perf_counter() - started)
        if ticket is not None:
            limiter.done_sync(ticket)
        limiter.close()
        time.sleep(0.07)  # at most 15 slots a second: none of them waits for the window
    return spread(took)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_runs(parser, DEFAULT_RUNS, "timed starts of each kind")
    parser.add_argument("--rounds", type=int, default=3, help="bursts of each kind (default 3)")
    parser.add_argument("--sends", type=int, default=SENDS, help=f"starts of each rate run (default {SENDS})")
    args = parser.parse_args(argv)
    from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY, Emulator

    try:
        with tempfile.TemporaryDirectory(prefix="gme-bench-") as tmp:
            work = Path(tmp)
            env = child_env(work, DEMO_SECRET_ID, DEMO_SECRET_KEY)
            env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
            # In this process, which only waits on its children: it keeps the arrival times.
            with Emulator() as emulator:
                return _bench(args, emulator, work, env)
    except BenchmarkFailed as error:
        print(f"\nshared_limit: benchmark aborted: {error}", file=sys.stderr)
        return 1


def _bench(args: argparse.Namespace, emulator: Any, work: Path, env: dict[str, str]) -> int:
    url, folder = emulator.url, work / "data"
    for mode in ("on", "off"):  # untimed: bytecode, the history and the slot file made
        one_start(mode, url, folder, f"warm-{mode}", env)
    times: dict[str, list[float]] = {"on": [], "off": []}
    for run in range(args.runs):
        order = ("on", "off") if run % 2 == 0 else ("off", "on")
        for mode in order:
            times[mode].append(one_start(mode, url, folder, f"{mode}-{run}", env))
    print(f"one `gme-tui start`, fresh processes, alternating ({args.runs} runs each):")
    print(f"  shared limiter     {spread(times['on'])}")
    print(f"  per-process only   {spread(times['off'])}")
    added = (statistics.median(times["on"]) - statistics.median(times["off"])) * 1000
    print(f"  added by the shared limiter: {added:+.1f} ms (median against median)")
    print(f"  a process's first reservation (opens the slot file), in-process: {_first_reservation(folder)}")
    time.sleep(1.5)  # the emulator's window empties (a benchmark, not a test)
    print(f"\n{args.sends} StartRecords released at once, arrivals at the emulator:")
    for processes in (1, SHARING):
        label = "one process     " if processes == 1 else f"{processes} processes     "
        line = rate_run(
            emulator, url, work / f"rate-{processes}", env, processes, args.sends, f"r{processes}"
        )
        print(f"  {label}  {line}")
        time.sleep(1.5)
    print(
        f"\n{PROCESSES} processes x {EACH} starts one after another, released at once"
        f" ({args.rounds} rounds each, alternating):"
    )
    for round_ in range(args.rounds):
        for mode in ("on", "off") if round_ % 2 == 0 else ("off", "on"):
            label = "shared limiter  " if mode == "on" else "per-process only"
            line = burst(emulator, mode, url, work / f"burst-{mode}-{round_}", env, f"{mode}{round_}")
            print(f"  {label}  {line}")
            time.sleep(1.5)  # as above: each burst starts on an empty window
    print(
        "\ntargets: 19 or more per second past the first 20, at most 20 in any 1 s window,"
        " 0 RequestLimitExceeded with the shared limiter"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
