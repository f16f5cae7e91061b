#!/usr/bin/env python3
"""The rate limit shared across processes (`gme_tui.send_slots`): what it costs, what it buys.

1. Cost: one `gme-tui start` with the shared limiter (as shipped) against the same
   command with it taken out (the client's per-process limiter only), alternating,
   fresh processes, against one `gme-tui emulator`; medians.
2. Gain: 6 processes released at once, each starting 10 rooms one after another
   through the command line's own send path (`gme_tui.cli.main`), against the same
   emulator (which enforces 20 per second): how many of the 60 got
   RequestLimitExceeded, with the shared limiter and without (target: 0 with it).

Prints figures only; it never fails on a timing.

    python3 dev.py bench shared_limit [--runs N] [--rounds N]
    .venv/bin/python benchmarks/shared_limit.py [--runs N] [--rounds N]
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

from _common import RUN_TIMEOUT, BenchmarkFailed, add_runs, spread
from cli_vs_tccli import _project_bin, child_env, start_emulator

DEFAULT_RUNS = 15
PROCESSES = 6
EACH = 10

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


def one_start(mode: str, url: str, folder: Path, room: str, env: dict[str, str]) -> float:
    argv = [sys.executable, "-c", _ENTRY, mode, "--endpoint", url, "--data-dir", str(folder)]
    argv += ["start", "--biz-id", "1400089356", "--room-id", room, "--mode", "2", "--output", "json"]
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or "TaskId" not in done.stdout:
        raise BenchmarkFailed(f"start ({mode}) exited {done.returncode}:\n{done.stderr.strip()}")
    return elapsed


def burst(mode: str, url: str, folder: Path, env: dict[str, str], tag: str) -> tuple[int, int, float]:
    """(RequestLimitExceeded, ok, seconds from the word to the last exit) of one burst."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _BURST, mode, url, str(folder), f"{tag}-p{n}", str(EACH)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    try:
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise BenchmarkFailed(f"a burst process did not start:\n{child.stderr.read()}")
        started = time.perf_counter()
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        said = [child.communicate(timeout=RUN_TIMEOUT) for child in children]
        elapsed = time.perf_counter() - started
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    codes = [code for out, _err in said for code in json.loads(out.strip().splitlines()[-1])]
    from gme_tui.history import History

    with History.in_dir(folder) as history:  # every start's row says how it ended
        limited = sum(1 for row in history.rows(limit=1000) if row.error_code == "RequestLimitExceeded")
    return limited, codes.count(0), elapsed


def _first_reservation(folder: Path) -> str:
    """What the shared limiter itself costs a one-shot command: a new limiter's first
    `reserve()` (connect, WAL, the transaction) on the slot file the starts above left."""
    from gme_tui.send_slots import FILE_NAME, SharedLimiter

    took = []
    for _ in range(DEFAULT_RUNS):
        limiter = SharedLimiter(folder / FILE_NAME)
        started = time.perf_counter()
        limiter.reserve()
        took.append(time.perf_counter() - started)
        limiter.close()
        time.sleep(0.07)  # at most 15 slots a second: none of them waits for the window
    return spread(took)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_runs(parser, DEFAULT_RUNS, "timed starts of each kind")
    parser.add_argument("--rounds", type=int, default=3, help="bursts of each kind (default 3)")
    args = parser.parse_args(argv)
    gme_tui = _project_bin("gme-tui")
    from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY

    try:
        with tempfile.TemporaryDirectory(prefix="gme-bench-") as tmp:
            work = Path(tmp)
            env = child_env(work, DEMO_SECRET_ID, DEMO_SECRET_KEY)
            env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
            emulator = start_emulator(gme_tui, env, work)
            try:
                return _bench(args, emulator.url, work, env)
            finally:
                emulator.stop()
    except BenchmarkFailed as error:
        print(f"\nshared_limit: benchmark aborted: {error}", file=sys.stderr)
        return 1


def _bench(args: argparse.Namespace, url: str, work: Path, env: dict[str, str]) -> int:
    folder = work / "data"
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
    time.sleep(1.5)  # the emulator's window empties before the bursts (a benchmark, not a test)
    print(
        f"\n{PROCESSES} processes x {EACH} starts released at once ({args.rounds} rounds each, alternating):"
    )
    for round_ in range(args.rounds):
        for mode in ("on", "off") if round_ % 2 == 0 else ("off", "on"):
            limited, ok, elapsed = burst(mode, url, work / f"burst-{mode}-{round_}", env, f"{mode}{round_}")
            label = "shared limiter  " if mode == "on" else "per-process only"
            print(
                f"  {label}  RequestLimitExceeded {limited:3d} of {PROCESSES * EACH}   "
                f"ok {ok:3d}   all done in {elapsed * 1000:7.1f} ms"
            )
            time.sleep(1.5)  # as above: each burst starts on an empty window
    print("\ntarget: 0 RequestLimitExceeded with the shared limiter")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
