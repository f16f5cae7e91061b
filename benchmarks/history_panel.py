"""How long the history panel takes to open on a store of 100,000 requests.

The panel reads one page and never counts the store, so opening it on a huge
store should cost what opening it on a store of one page does; the empty store is
the floor (a table with nothing to draw). All in one process: from mounting the
panel (headless, 120x40, inside `App.run_test()`) to the first repaint that shows
its rows, the three stores in turn, one untimed warm-up round, median of `--runs`.

Then a filter that matches only the oldest row (SQLite scans all 100,000): how
long until that row shows, and the longest the event loop went without a turn
meanwhile (the panel runs filtered reads in a thread so that typing never waits
on a scan). Last, the store's queries alone: the first page, a page deep in the
store (keyset against OFFSET), filters, and count(*) for scale.

Then the filter at `--filter-rows` (default 1,000,000; 0 skips it) in a store of its
own, filled once as version 3 (no text index) and opened, so that the migration
builds the FTS5 trigram index from its rows (timed): each of several filters,
`History.page` in the console's scope, through the index and through LIKE alone (the
reference, what a SQLite without FTS5 does), alternating in the same run; medians
of `--filter-runs`, the median over the filters against the target (at most 50 ms).

Prints figures; asserts nothing about time (it does check that the rows it timed
really were on screen, and that the index and LIKE found the same rows).

    .venv/bin/python benchmarks/history_panel.py [--runs 15] [--rows 100000] [--filter-rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import add_runs
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from gme_tui import history as store
from gme_tui.history import History
from gme_tui.tui.widgets import history_panel
from gme_tui.tui.widgets.history_panel import PAGE_SIZE, HistoryPanel

OUTCOMES = ("ok", "ok", "ok", "service_error", "not_sent", "bad_answer", "unknown")


def fill(path: Path, count: int) -> float:
    """`count` varied, realistic rows in one transaction; returns the seconds it took."""
    started = time.perf_counter()
    base = time.time() - count
    rows = []
    for i in range(count):
        outcome = OUTCOMES[i % len(OUTCOMES)]
        task = 2**62 + i if outcome == "ok" else None
        params = {"BizId": 1400000001, "RoomId": f"room-{i}", "RecordMode": 1 + i % 3}
        response = (
            {"TaskId": task, "RequestId": f"req-{i}"}
            if outcome == "ok"
            else {
                "Error": {"Code": "FailedOperation.TaskExist", "Message": "exists"},
                "RequestId": f"req-{i}",
            }
            if outcome == "service_error"
            else None
        )
        rows.append(
            (
                base + i,
                base + i + 0.05,
                "StartRecord",
                "default",
                "https://gme.tencentcloudapi.com",
                "ap-guangzhou",
                json.dumps(params),
                "1400000001",
                f"room-{i}",
                1 + i % 3,
                outcome,
                "FailedOperation.TaskExist" if outcome == "service_error" else None,
                json.dumps(response) if response else None,
                f"req-{i}",
                str(task) if task else None,
                50.0,
                1,
                "bench-host",
            )
        )
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO requests (started_at, finished_at, action, profile, endpoint, region, params, biz_id,"
            " room_id, record_mode, outcome, error_code, response, request_id, task_id, duration_ms, pid, host)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    db.close()
    return time.perf_counter() - started


class BenchApp(App[None]):
    """An empty app the panel is mounted into and removed from, run after run."""

    CSS_PATH = Path(history_panel.__file__).with_suffix(".tcss")


async def painted(widget: DataTable) -> None:
    done = asyncio.Event()
    widget.call_after_refresh(done.set)
    await done.wait()


async def open_once(app: App, history: History) -> tuple[float, str]:
    """Seconds from mount to the first repaint after the rows arrived, and what was on screen."""
    started = time.perf_counter()
    panel = HistoryPanel(history)
    await app.mount(panel)
    await app.workers.wait_for_complete()  # none for an unfiltered page (read on the loop), but be sure
    await painted(panel.query_one(DataTable))
    return time.perf_counter() - started, app.export_screenshot()


async def open_times(pilot: Pilot, stores: list[tuple[History, int]], runs: int) -> list[list[float]]:
    times: list[list[float]] = [[] for _ in stores]
    for run in range(runs + 1):  # run 0 warms up
        for (history, size), seconds in zip(stores, times, strict=True):
            took, on_screen = await open_once(pilot.app, history)
            table = pilot.app.query_one("#history-table", DataTable)
            if table.row_count != min(size, PAGE_SIZE):
                raise SystemExit(f"{size} rows stored, the panel read {table.row_count} on open")
            if size and f"room-{size - 1}" not in on_screen:
                raise SystemExit("the newest row was not on screen when the clock stopped")
            if run:
                seconds.append(took)
            await pilot.app.query_one(HistoryPanel).remove()
            await pilot.pause()
    return times


async def tick(gaps: list[float], stop: asyncio.Event) -> None:
    """Take a turn on the event loop every millisecond and note how long each wait really was."""
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


async def filter_times(pilot: Pilot, history: History, runs: int) -> tuple[list[float], list[float]]:
    """Per run: seconds until a full-scan filter's result shows, and the longest event-loop stall."""
    app = pilot.app
    await app.mount(HistoryPanel(history))
    await pilot.pause()
    search = app.query_one("#history-filter", Input)
    table = app.query_one("#history-table", DataTable)
    results: list[float] = []
    stalls: list[float] = []
    for run in range(runs + 1):
        gaps: list[float] = []
        stop = asyncio.Event()
        ticker = asyncio.create_task(tick(gaps, stop))
        search.value = "room-0"  # only the oldest row: SQLite reads the whole index to find it
        await pilot.pause()  # the edit is in; its debounce timer is running
        started = time.perf_counter()
        await search.action_submit()  # what Enter does: apply now
        # The read may already have started (the debounce can fire during the pause on a
        # busy machine), so wait for its result on screen, with a deadline, not for a worker.
        deadline = time.perf_counter() + 30
        while not (table.row_count == 1 and [str(c) for c in table.get_row_at(0)][2:3] == ["room-0"]):
            if time.perf_counter() > deadline:
                raise SystemExit("the filtered row did not show within 30 s")
            await asyncio.sleep(0.0005)
        await app.workers.wait_for_complete()
        await painted(table)
        took = time.perf_counter() - started
        stop.set()
        await ticker
        if [str(cell) for cell in table.get_row_at(0)][2:3] != ["room-0"] or table.row_count != 1:
            raise SystemExit("the filter's one row was not in the table when the clock stopped")
        if run:
            results.append(took)
            stalls.append(max(gaps))
        search.value = ""  # back to the unfiltered first page for the next run
        await pilot.pause()
    await app.query_one(HistoryPanel).remove()
    return results, stalls


async def measure(
    stores: list[tuple[History, int]], runs: int
) -> tuple[list[list[float]], list[float], list[float]]:
    app = BenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        opens = await open_times(pilot, stores, runs)
        results, stalls = await filter_times(pilot, stores[0][0], runs)
    return opens, results, stalls


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms  ({min(values) * 1000:.1f}-{max(values) * 1000:.1f})"


def median_ms(call: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


#: the filters timed at a million rows: what they find, from one row to the whole store
FILTERS = (
    ("room-0", "the oldest row only"),
    ("no-such-room", "nothing"),
    ("req-123456", "one row, by RequestId"),
    ("room-12345", "11 rooms"),
    ("room-9", "a ninth of the rows, the newest among them"),
    ("TaskExist", "a seventh, spread everywhere"),
    ("bad answer", "a seventh, in words"),
    ("room-1", "a ninth, none among the newest 80%"),
)
#: the issue's target for a filter's page at a million rows
TARGET_MS = 50.0
SCOPE = {"endpoint": "https://gme.tencentcloudapi.com", "own": True}


def as_version_3(path: Path) -> None:
    """The store as version 3 made it: no text index and no order kept (none kept while filling)."""
    db = sqlite3.connect(path)
    with db:
        for name in (*store._TEXT_TRIGGERS, *store._ORDER_TRIGGERS):
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        for table in (store._TEXT, store._BEHIND, store._HIGH):
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("PRAGMA user_version=3")
    db.close()


def filter_at_scale(folder: str, rows: int, runs: int) -> None:
    path = Path(folder, f"store-{rows}-v3.sqlite3")
    History(path).close()
    as_version_3(path)
    print(f"\nfilter at {rows:,} rows: filled in {fill(path, rows):.1f} s (version 3, no text index)")
    started = time.perf_counter()
    big = History(path)
    print(
        f"  migration to version {store.SCHEMA_VERSION} (builds the index, finds the rows out of time order): {time.perf_counter() - started:.1f} s"
    )
    if not big.text_index:
        print("  this SQLite has no FTS5 trigram tokenizer: the filter scans with LIKE, as before")
        big.close()
        return
    try:
        times: dict[str, dict[bool, list[float]]] = {needle: {True: [], False: []} for needle, _ in FILTERS}
        for run in range(runs + 1):  # run 0 warms up
            for needle, _ in FILTERS:
                found = {}
                for indexed in (True, False):  # alternating: the same cache, the same moment
                    big.text_index = indexed
                    took = time.perf_counter()
                    page = big.page(PAGE_SIZE, text=needle, **SCOPE)  # type: ignore[arg-type]
                    took = time.perf_counter() - took
                    found[indexed] = [row.id for row in page]
                    if run:
                        times[needle][indexed].append(took)
                if found[True] != found[False]:
                    raise SystemExit(f"the index and LIKE found different rows for {needle!r}")
        big.text_index = True
        print(f"  History.page({PAGE_SIZE}, text=...), the console's scope, median of {runs}:")
        print(f"    {'filter':<14} {'finds':<44} {'index':>9} {'LIKE':>10}")
        medians = []
        for needle, finds in FILTERS:
            indexed, like = (statistics.median(times[needle][way]) * 1000 for way in (True, False))
            medians.append(indexed)
            print(f"    {needle!r:<14} {finds:<44} {indexed:7.2f} ms {like:8.1f} ms")
        overall = statistics.median(medians)
        print(
            f"  median over the filters: {overall:.2f} ms (target {TARGET_MS:.0f} ms: {overall / TARGET_MS:.2f} of it);"
            f" slowest {max(medians):.1f} ms ({max(medians) / TARGET_MS:.1f} times the target)"
        )
    finally:
        big.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_runs(parser, 15, "timed runs of each measurement")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the big store")
    parser.add_argument(
        "--filter-rows",
        type=int,
        default=1_000_000,
        help="rows in the store the filter is timed on, index against LIKE (0: skip; default 1000000)",
    )
    parser.add_argument("--filter-runs", type=int, default=5, help="timed runs of each filter at scale")
    args = parser.parse_args()
    runs = args.runs
    with tempfile.TemporaryDirectory() as folder:
        sizes = (args.rows, PAGE_SIZE, 0)
        paths = [Path(folder, f"store-{size}.sqlite3") for size in sizes]
        for path, size in zip(paths, sizes, strict=True):
            History(path).close()  # the store's own schema and index
            took = fill(path, size)
            if size == args.rows:
                print(f"filled {size:,} rows in {took:.2f} s (one transaction)")
        histories = [History(path) for path in paths]
        try:
            stores = list(zip(histories, sizes, strict=True))
            opens, results, stalls = asyncio.run(measure(stores, runs))
            big = histories[0]
            print(f"\nopen the panel until its first page is on screen, median of {runs} (min-max):")
            for size, seconds in zip(sizes, opens, strict=True):
                print(f"  {size:>7,} rows stored  {ms(seconds)}")
            big_ms, page_ms, empty_ms = (statistics.median(seconds) * 1000 for seconds in opens)
            print(f"  ratio {args.rows:,} / empty:    {big_ms / empty_ms:.2f}")
            print(f"  ratio {args.rows:,} / one page: {big_ms / page_ms:.2f}")

            print(
                f"\nfilter 'room-0' (only the oldest of {args.rows:,} rows: a full scan), median of {runs} (min-max):"
            )
            print(f"  until its row is on screen           {ms(results)}")
            print(f"  longest event-loop stall meanwhile   {ms(stalls)}")

            depth = args.rows // 2
            deep = big.rows(1, offset=depth - 1)[0]  # where the keyset page at that depth starts
            queries = [
                (f"first page, History.page({PAGE_SIZE})", lambda: big.page(PAGE_SIZE)),
                (f"first page, History.rows({PAGE_SIZE})", lambda: big.rows(PAGE_SIZE)),
                (
                    f"page at row {depth:,}, keyset (page)",
                    lambda: big.page(PAGE_SIZE, before=(deep.started_at, deep.id)),
                ),
                (f"page at row {depth:,}, OFFSET (rows)", lambda: big.rows(PAGE_SIZE, offset=depth)),
                ("filter 'room-9', first page", lambda: big.page(PAGE_SIZE, text="room-9")),
                ("filter 'room-1', first page (80% down)", lambda: big.page(PAGE_SIZE, text="room-1")),
                ("filter matching nothing (full scan)", lambda: big.page(PAGE_SIZE, text="no-such-room")),
                ("count(*) (the panel never runs it)", big.count),
            ]
            print(f"\nstore queries alone, {args.rows:,} rows, median of 25:")
            for label, call in queries:
                print(f"  {label:<40} {median_ms(call, 25):8.3f} ms")
        finally:
            for history in histories:
                history.close()
        if args.filter_rows:
            filter_at_scale(folder, args.filter_rows, args.filter_runs)


if __name__ == "__main__":
    main()
