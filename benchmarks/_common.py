"""What the benchmark scripts share: the runs option, failures, figures, a child's environment."""

from __future__ import annotations

import argparse
import os
import statistics

#: fewer runs than this make a median too easy to move
MIN_RUNS = 10
#: a child process that has not finished by then is stuck
RUN_TIMEOUT = 60.0


class BenchmarkFailed(Exception):
    """Something the benchmark needs did not work; the message says what."""


def add_runs(parser: argparse.ArgumentParser, default: int, what: str = "timed runs of each") -> None:
    """`--runs N`, at least MIN_RUNS (argparse refuses fewer, naming the rule)."""

    def runs(text: str) -> int:
        value = int(text)
        if value < MIN_RUNS:
            raise argparse.ArgumentTypeError(f"must be at least {MIN_RUNS} (got {value})")
        return value

    parser.add_argument(
        "--runs", type=runs, default=default, help=f"{what} (at least {MIN_RUNS}; default {default})"
    )


def spread(seconds: list[float]) -> str:
    """`median 282.3 ms   min 275.0   max 328.1`."""
    ms = [s * 1000 for s in seconds]
    return f"median {statistics.median(ms):7.1f} ms   min {min(ms):7.1f}   max {max(ms):7.1f}"


def scrubbed_env(prefixes: tuple[str, ...], names: frozenset[str] = frozenset()) -> dict[str, str]:
    """This process's environment without the variables that would change what a child
    does or reads (matched by upper-case prefix, or by lower-case name)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(prefixes) and key.lower() not in names
    }
