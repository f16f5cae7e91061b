#!/usr/bin/env python3
"""Wall-clock time of one StartRecord from the shell: `gme-tui start` against `tccli gme StartRecord`.

Both commands go to the same local emulator (`gme-tui emulator`, started here on
a free loopback port and stopped at the end), alternating ours, theirs, ours,
theirs ... Each run is a fresh process, timed from spawn to exit. Every run must
exit 0 and print a TaskId, so an error path is never timed: the first run that
does not stops the benchmark with what it printed.

tccli (PyPI package `tccli`, the official Tencent Cloud command line) is not a
project dependency: it lives in its own environment, `.bench-venv/` at the repo
root, installed there with pip on first use.

Prints figures only (medians, min/max, the ratio ours/tccli and whether the
target, ours at most 0.35 of tccli's, is met); it never fails on a timing.

    python3 dev.py bench cli_vs_tccli [--runs N]
    .venv/bin/python benchmarks/cli_vs_tccli.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _common import RUN_TIMEOUT, BenchmarkFailed, add_runs, scrubbed_env, spread

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = "Scripts" if os.name == "nt" else "bin"
EXE = ".exe" if os.name == "nt" else ""
BENCH_VENV = ROOT / ".bench-venv"
BENCH_PYTHON = BENCH_VENV / BIN_DIR / f"python{EXE}"
TCCLI = BENCH_VENV / BIN_DIR / f"tccli{EXE}"

DEFAULT_RUNS = 15
TARGET_RATIO = 0.35
HEALTH_TIMEOUT = 15.0

#: variables of the caller's shell that would change what the children do or read:
#: proxies (a loopback call must not go through one), other credentials and
#: profiles, the user's config folders, and Python switches (PYTHONDONTWRITEBYTECODE
#: would make every run compile its imports again).
_DROPPED_PREFIXES = ("PYTHON", "TENCENTCLOUD_", "TCCLI_", "GME_TUI_", "XDG_", "TKE_")
_DROPPED_NAMES = frozenset(
    {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "requests_ca_bundle", "curl_ca_bundle"}
)


def _project_bin(name: str) -> Path:
    """An executable of the project environment: the one this script runs in, else `.venv`."""
    here = Path(sys.executable).parent / f"{name}{EXE}"
    if here.exists():
        return here
    venv = Path(os.environ.get("GME_TUI_VENV", ROOT / ".venv"))
    return venv / BIN_DIR / f"{name}{EXE}"


# --- tccli in .bench-venv --------------------------------------------------


def _bench_version(package: str) -> str | None:
    """The version of `package` installed in .bench-venv, or None."""
    if not BENCH_PYTHON.exists():
        return None
    probe = subprocess.run(
        [
            str(BENCH_PYTHON),
            "-c",
            "import importlib.metadata as m, sys\n"
            "try: print(m.version(sys.argv[1]))\n"
            "except m.PackageNotFoundError: pass",
            package,
        ],
        capture_output=True,
        text=True,
    )
    version = probe.stdout.strip()
    return version if probe.returncode == 0 and version else None


def _make_bench_venv() -> list[str]:
    """Create .bench-venv; the pip command that installs into it."""
    print(f"creating {BENCH_VENV} ...", flush=True)
    made = subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], capture_output=True, text=True)
    if made.returncode == 0:
        return [str(BENCH_PYTHON), "-m", "pip"]
    # No ensurepip (Debian without python3-venv): an environment without pip,
    # filled by this environment's pip (pip >= 22.3 has --python).
    made = subprocess.run(
        [sys.executable, "-m", "venv", "--clear", "--without-pip", str(BENCH_VENV)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        raise BenchmarkFailed(f"cannot create {BENCH_VENV}:\n{made.stderr.strip()}")
    return [sys.executable, "-m", "pip", "--python", str(BENCH_PYTHON)]


def ensure_tccli() -> str:
    """tccli installed in .bench-venv (pip install on first use); prints where it came from."""
    version = _bench_version("tccli")
    if version is not None and TCCLI.exists():
        print(
            f"tccli {version}: already in {BENCH_VENV} (installed there earlier by pip; delete .bench-venv to reinstall)"
        )
    else:
        if (
            BENCH_PYTHON.exists()
            and subprocess.run([str(BENCH_PYTHON), "-m", "pip", "--version"], capture_output=True).returncode
            == 0
        ):
            pip = [str(BENCH_PYTHON), "-m", "pip"]
        else:
            pip = _make_bench_venv()
        print("installing tccli into .bench-venv with pip (a minute or so) ...", flush=True)
        installed = subprocess.run(
            [*pip, "install", "--disable-pip-version-check", "tccli"], capture_output=True, text=True
        )
        if installed.returncode != 0:
            raise BenchmarkFailed(
                f"`pip install tccli` into {BENCH_VENV} failed "
                f"(exit {installed.returncode}):\n{_tail(installed.stdout + installed.stderr)}"
            )
        version = _bench_version("tccli")
        if version is None or not TCCLI.exists():
            raise BenchmarkFailed(f"pip reported success but {TCCLI} is missing")
        # pip's own lines about tccli itself (not its dependencies): index, file, size
        origin = [
            line.strip()
            for line in installed.stdout.splitlines()
            if "tccli" in line.lower()
            and "(from " not in line
            and not line.startswith("Installing collected")
        ]
        print(f"tccli {version}: installed now into {BENCH_VENV} by `pip install tccli`")
        for line in origin:
            print(f"  pip: {line}")
    sdk = _bench_version("tencentcloud-sdk-python") or _bench_version("tencentcloud-sdk-python-common")
    print(f"  executable {TCCLI}; tencentcloud-sdk-python {sdk or '?'}")
    return version


# --- the emulator ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_emulator/health", timeout=1) as answer:
            return answer.status == 200 and json.load(answer).get("ok") is True
    except (OSError, ValueError):
        return False


@dataclass
class RunningEmulator:
    process: subprocess.Popen[str]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: the emulator closes its socket and exits 0
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_emulator(gme_tui: Path, env: dict[str, str], workdir: Path) -> RunningEmulator:
    """`gme-tui emulator` on a free loopback port, once its health endpoint answers."""
    last_error = ""
    for attempt in range(3):  # a free port can be taken between the probe and the bind
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = workdir / f"emulator-{attempt}.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [str(gme_tui), "emulator", "--host", "127.0.0.1", "--port", str(port)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
            )
        emulator = RunningEmulator(process, url, log)
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if _healthy(url):
                return emulator
            time.sleep(0.05)
        emulator.stop()
        last_error = log.read_text(errors="replace").strip() or f"exit status {process.returncode}"
    raise BenchmarkFailed(f"the emulator did not become healthy:\n{_tail(last_error)}")


# --- one run ---------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    name: str
    argv: Callable[[str], list[str]]  # the command for a room ID


def _task_id(stdout: str) -> int | None:
    """The TaskId in a command's JSON output (`{"TaskId": ..., "RequestId": ...}`), or None."""
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    task = data.get("TaskId")
    if isinstance(task, bool):
        return None
    if isinstance(task, str) and task.isascii() and task.isdigit():
        task = int(task)
    return task if isinstance(task, int) and task > 0 else None


def timed_run(tool: Tool, room: str, env: dict[str, str], label: str) -> float:
    """One fresh process, spawn to exit, in seconds; raises BenchmarkFailed unless exit 0 with a TaskId."""
    argv = tool.argv(room)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkFailed(
            f"{tool.name} {label}: no exit after {RUN_TIMEOUT:.0f} s\n  command: {_shell(argv)}"
        ) from None
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or _task_id(done.stdout) is None:
        why = (
            f"exit status {done.returncode}" if done.returncode != 0 else "exit 0 but no TaskId in its output"
        )
        raise BenchmarkFailed(
            f"{tool.name} {label} failed ({why}); nothing more is timed.\n"
            f"  command: {_shell(argv)}\n"
            f"  stdout:  {_block(done.stdout)}\n"
            f"  stderr:  {_block(done.stderr)}"
        )
    return elapsed


# --- output ----------------------------------------------------------------


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _block(text: str) -> str:
    """The tail of a child's output, its lines indented under the label."""
    return _tail(text).replace("\n", "\n           ") or "(empty)"


def _shell(argv: list[str]) -> str:
    return " ".join(shlex.quote(str(part)) for part in argv)


def summary(name: str, times: list[float]) -> str:
    return f"{name:<8} {spread(times)}   ({len(times)} runs)"


# --- main ------------------------------------------------------------------


def child_env(home: Path, secret_id: str, secret_key: str) -> dict[str, str]:
    env = scrubbed_env(_DROPPED_PREFIXES, _DROPPED_NAMES)
    env.update(
        {
            "HOME": str(home),  # tccli reads and writes ~/.tccli; neither tool sees the user's files
            "USERPROFILE": str(home),
            "TENCENTCLOUD_SECRET_ID": secret_id,
            "TENCENTCLOUD_SECRET_KEY": secret_key,
            # bytecode is cached (as on a normal machine) but in a throwaway tree, not in the venvs or sources
            "PYTHONPYCACHEPREFIX": str(home / "pycache"),
        }
    )
    return env


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_runs(parser, DEFAULT_RUNS, "timed runs of each command")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    gme_tui = _project_bin("gme-tui")
    if not gme_tui.exists():
        print(f"cli_vs_tccli: {gme_tui} is missing; run `python3 dev.py bench cli_vs_tccli`", file=sys.stderr)
        return 1
    try:
        from gme_tui import __version__ as our_version
        from gme_tui.emulator import DEMO_BIZ_ID, DEMO_SECRET_ID, DEMO_SECRET_KEY
    except ImportError:
        print("cli_vs_tccli: run this with the project's Python (.venv/bin/python)", file=sys.stderr)
        return 1

    try:
        tccli_version = ensure_tccli()
        with tempfile.TemporaryDirectory(prefix="gme-bench-") as tmp:
            return _bench(
                args.runs,
                gme_tui,
                our_version,
                tccli_version,
                Path(tmp),
                DEMO_SECRET_ID,
                DEMO_SECRET_KEY,
                DEMO_BIZ_ID,
            )
    except BenchmarkFailed as error:
        print(f"\ncli_vs_tccli: benchmark aborted: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ncli_vs_tccli: interrupted", file=sys.stderr)
        return 130


def _bench(
    runs: int,
    gme_tui: Path,
    our_version: str,
    tccli_version: str,
    tmp: Path,
    secret_id: str,
    secret_key: str,
    biz_id: int,
) -> int:
    home = tmp / "home"
    data_dir = tmp / "gme-tui-data"
    home.mkdir()
    data_dir.mkdir()
    env = child_env(home, secret_id, secret_key)
    emulator = start_emulator(gme_tui, env, tmp)
    try:
        url = emulator.url
        ours = Tool(
            "gme-tui",
            lambda room: [
                str(gme_tui),
                "--endpoint",
                url,
                "--data-dir",
                str(data_dir),
                "start",
                "--biz-id",
                str(biz_id),
                "--room-id",
                room,
                "--mode",
                "1",
                "--output",
                "json",
            ],
        )
        # tccli has no http/https switch: an --endpoint with a scheme is used as the URL as it is
        # (the SDK adds https:// only to a bare host), so http://127.0.0.1:PORT reaches the emulator.
        theirs = Tool(
            "tccli",
            lambda room: [
                str(TCCLI),
                "gme",
                "StartRecord",
                "--endpoint",
                url,
                "--BizId",
                str(biz_id),
                "--RoomId",
                room,
                "--RecordMode",
                "1",
                "--output",
                "json",
            ],
        )

        print(f"\ngme-tui {our_version} ({gme_tui})")
        print(f"tccli   {tccli_version} ({TCCLI})")
        print(
            f"emulator {url}; Python {platform.python_version()} on {platform.system()} {platform.machine()}"
        )
        print(
            f"commands (ROOM is new for every run):\n  {_shell(ours.argv('ROOM'))}\n  {_shell(theirs.argv('ROOM'))}"
        )

        tag = f"bench-{os.getpid()}-{int(time.time())}"
        # One untimed run each first: fills the bytecode cache and lets tccli write its
        # first-run ~/.tccli/default.configure, so the timed runs are all steady-state.
        for tool in (ours, theirs):
            timed_run(tool, f"{tag}-{tool.name}-warmup", env, "warm-up run")
        print(f"\nwarm-up: one untimed run each, both ok. Timed runs, alternating ({runs} each):")
        print(f"{'run':>4}  {'gme-tui':>10}  {'tccli':>10}")
        times: dict[str, list[float]] = {ours.name: [], theirs.name: []}
        for i in range(1, runs + 1):
            row = []
            for tool in (ours, theirs):
                elapsed = timed_run(tool, f"{tag}-{tool.name}-{i}", env, f"run {i}")
                times[tool.name].append(elapsed)
                row.append(f"{elapsed * 1000:7.1f} ms")
            print(f"{i:>4}  {row[0]:>10}  {row[1]:>10}", flush=True)
    finally:
        emulator.stop()

    ours_median = statistics.median(times[ours.name])
    theirs_median = statistics.median(times[theirs.name])
    ratio = ours_median / theirs_median
    print()
    print(summary(ours.name, times[ours.name]))
    print(summary(theirs.name, times[theirs.name]))
    print(
        f"ratio gme-tui/tccli (medians): {ratio:.2f}  (tccli takes {theirs_median / ours_median:.2f}x as long)"
    )
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    print(f"target, gme-tui at most {TARGET_RATIO:.0%} of tccli's median: {verdict}")
    print("every timed run exited 0 and printed a TaskId")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
