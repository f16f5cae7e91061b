"""`gme-tui batch`: start, stop or modify many rooms at once, resume, and read back.

Every line of the source is checked before anything is sent (`batch.source`): one
error and nothing goes (exit 2). The batch and its plan are written to the history
first, then the rooms go at the service's full rate (`batch.run`); a cut-short batch
resumes from the store with `batch start --resume ID`.

What prints: on a terminal a live progress bar on stderr, else one line per room on
stdout; with `--output json` one object per room, then the summary object. The exit
code is 0 when every room is ok, else the worst room's (`exits`), 130 when stopped
with rooms never sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

from ..api import fields
from ..api.errors import OutcomeKind
from ..batch import source as batch_source
from ..batch.run import (
    FAILED,
    OK,
    TO_SEND,
    UNKNOWN,
    BatchBusy,
    RoomState,
    Runner,
    Summary,
    elsewhere,
    new_stop_batch,
    planned_fields,
    room_states,
    stop_plan,
)
from ..safe_text import clean
from .commands import key_for, open_history
from .exits import EXIT_CANNOT_RUN, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, CannotRun, exit_for

if TYPE_CHECKING:
    from ..batch.record import Batch
    from ..context import Context
    from ..history import History

#: the most of standard input or a file read as a source (one byte more tells a larger one)
_READ = batch_source.MAX_SOURCE_BYTES + 1


def _say(message: str) -> None:
    print(clean(f"gme-tui: {message}", one_line=True), file=sys.stderr)


def run(args: argparse.Namespace, ctx: Context) -> int:
    what = args.batch_command
    if what == "list":
        return _list(args, ctx)
    if what == "status":
        return _status(args, ctx)
    if getattr(args, "resume", None) is not None:
        return _resume(args, ctx)
    return _new(args, ctx)


# --- the source, checked ------------------------------------------------------------------


def _read(name: str) -> bytes:
    try:
        if name == "-":
            return sys.stdin.buffer.read(_READ)
        with open(name, "rb") as file:
            return file.read(_READ)
    except OSError as error:
        raise fields.FieldError("SOURCE", f"cannot read {name}: {error.strerror or error}") from None


def _checked(args: argparse.Namespace, ctx: Context) -> tuple[str, batch_source.Batch]:
    """The source named by the arguments, every line checked; FieldError (exit 2) with every
    problem, naming its line, field and rule, where any is wrong."""
    kind = args.batch_command
    pattern = getattr(args, "rooms", None)
    if pattern and args.source:
        raise fields.FieldError("--rooms", "give either a SOURCE or --rooms, not both")
    if pattern:
        rows, name = batch_source.expand_rooms(pattern), f"--rooms {pattern}"
    elif args.source:
        rows, name = batch_source.read_source(_read(args.source), args.source), args.source
    else:
        raise fields.FieldError("SOURCE", "name a CSV or YAML file (- for standard input) or give --rooms")
    defaults = batch_source.Defaults(
        mode=getattr(args, "mode", "") or "",
        allow=getattr(args, "allow", "") or "",
        block=getattr(args, "block", "") or "",
        relaxed=ctx.relaxed_ids,
    )
    if kind == "start":
        checked = batch_source.start_batch(rows, defaults)
    elif kind == "modify":
        checked = batch_source.modify_batch(rows, defaults)
    else:
        checked = batch_source.stop_batch(rows)
    if isinstance(checked, batch_source.Rejected):
        for problem in checked.errors:
            _say(f"{name}: {problem}")
        more = checked.total - len(checked.errors)
        raise fields.FieldError(
            "SOURCE",
            f"{checked.total} {'problem' if checked.total == 1 else 'problems'}"
            + (f" ({more} more not shown)" if more > 0 else "")
            + "; nothing was sent",
        )
    for warning in checked.warnings:
        _say(f"{name}: warning: {warning}")
    return name, checked


def _biz(ctx: Context) -> int:
    try:
        return fields.parse_biz_id(ctx.default_biz_id)
    except fields.FieldError as error:
        raise fields.FieldError("--biz-id", error.rule) from None


def _new(args: argparse.Namespace, ctx: Context) -> int:
    kind = args.batch_command
    if kind == "stop" and args.batch is not None:
        return _stop_batch(args, ctx)
    name, checked = _checked(args, ctx)
    biz = _biz(ctx)
    plan = [(room.line, room.room, planned_fields(room.mode, room.subscription)) for room in checked.rooms]
    if args.dry_run:
        return _print_plan(args, ctx, kind, biz, plan)
    with open_history(ctx) as history:
        batch_id = history.new_batch(
            kind=kind, source=name, endpoint=ctx.scope, profile=ctx.profile, region=ctx.region,
            biz_id=biz, rooms=plan, relaxed=ctx.relaxed_ids,
        )  # fmt: skip
        batch = history.batch(batch_id)
        assert batch is not None, "just written"
        return _go(args, ctx, history, batch)


def _stop_batch(args: argparse.Namespace, ctx: Context) -> int:
    """`batch stop --batch ID`: a stop batch of the TaskIds that batch recorded."""
    if args.source or args.rooms:
        raise fields.FieldError(
            "--batch", "give either --batch or a SOURCE (or --rooms), not both; nothing was sent"
        )
    with open_history(ctx) as history:
        started = _batch_here(history, args.batch, ctx)
        if started.kind != "start":
            raise fields.FieldError(
                "--batch",
                f"batch {started.id} is a {started.kind} batch: only a start batch's tasks can be stopped",
            )
        plan = stop_plan(history, started)
        if not plan:
            _say(f"batch {started.id} recorded no task to stop; nothing was sent")
            return EXIT_OK
        if args.dry_run:
            return _print_plan(args, ctx, "stop", started.biz_id, plan)
        return _go(args, ctx, history, new_stop_batch(history, started, plan))


def _batch_here(history: History, batch_id: str, ctx: Context, *, flag: str = "--batch") -> Batch:
    """The batch, refused (exit 2, nothing sent) unless it belongs to this endpoint, profile
    and region: an action on it goes where it ran and nowhere else."""
    if not batch_id.isdigit() or not batch_id.isascii() or len(batch_id) > 18:
        raise fields.FieldError(flag, "a batch's id is a whole number (see `gme-tui batch list`)")
    batch = history.batch(int(batch_id))
    if batch is None:
        raise fields.FieldError(flag, f"no batch {batch_id} in the history in {ctx.data_dir}")
    refused = elsewhere(batch, ctx.scope, ctx.profile, ctx.region)
    if refused is not None:
        raise fields.FieldError(
            flag,
            f"{refused}; run it with the --endpoint, --profile and --region of that batch. Nothing was sent",
        )
    return batch


def _print_plan(args: argparse.Namespace, ctx: Context, kind: str, biz: int, plan: list) -> int:
    if args.output == "json":
        for line, room, planned in plan:
            print(json.dumps({"line": line, "room": room, **planned}))
        print(json.dumps({"summary": True, "dry_run": True, "kind": kind, "rooms": len(plan)}))
    else:
        for line, room, planned in plan:
            extra = " ".join(f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in planned.items())
            print(clean(f"line {line}: {room} {extra}".rstrip(), one_line=True))
        print(clean(f"{len(plan)} rooms would {kind} on {ctx.destination} (BizId {biz}); nothing was sent"))
    return EXIT_OK


def _resume(args: argparse.Namespace, ctx: Context) -> int:
    """Go on with a batch from its plan in the history: nothing from the command line may
    change it, so a flag that would is refused rather than ignored."""
    given = [
        flag
        for flag, value in (
            ("SOURCE", args.source),
            ("--rooms", getattr(args, "rooms", None)),
            ("--batch", getattr(args, "batch", None)),
            ("--mode", getattr(args, "mode", "")),
            ("--allow", getattr(args, "allow", "")),
            ("--block", getattr(args, "block", "")),
            ("--biz-id", getattr(args, "biz_id", None)),
        )  # fmt: skip
        if value
    ]
    if given:
        raise fields.FieldError(
            "--resume",
            f"a resumed batch goes on with its plan in the history: {', '.join(given)} cannot change it",
        )
    with open_history(ctx) as history:
        batch = _batch_here(history, args.resume, ctx, flag="--resume")
        if batch.kind != args.batch_command:
            raise fields.FieldError(
                "--resume",
                f"batch {batch.id} is a {batch.kind} batch: resume it with `gme-tui batch {batch.kind}`",
            )
        if args.dry_run:
            return _print_resume(args, ctx, history, batch)
        return _go(args, ctx, history, batch)


def _print_resume(args: argparse.Namespace, ctx: Context, history: History, batch: Batch) -> int:
    """What a resume would do, room by room; nothing sent."""
    states = room_states(history, batch)
    todo = [s for s in states if s.state != OK]
    if args.output == "json":
        for state in todo:
            print(json.dumps(state.to_json()))
        print(
            json.dumps(
                {
                    "summary": True,
                    "dry_run": True,
                    "batch": batch.id,
                    "counts": Summary(batch, states, 0.0).counts,
                }
            )
        )
        return EXIT_OK
    for state in todo:
        then = (
            "looked up first (DescribeTaskInfo)"
            if state.state == UNKNOWN and batch.kind == "start"
            else "sent"
        )
        print(clean(f"{_room_line(state)}: would be {then}", one_line=True))
    print(
        clean(
            f"{len(todo)} of {len(states)} rooms of batch {batch.id} would go on {ctx.destination}; nothing was sent"
        )
    )
    return EXIT_OK


# --- the run ------------------------------------------------------------------------------


def _go(args: argparse.Namespace, ctx: Context, history: History, batch: Batch) -> int:
    from ..context import make_client

    key = key_for(ctx)
    assert key is not None
    total = batch.rooms
    if args.output == "text":
        _say(f"batch {batch.id}: {batch.kind} {total} rooms on {ctx.destination}")
    show = _Shown(args.output, total, batch)
    # A resume leaves the rooms already ok alone: the bar starts with them counted.
    show.seen[OK] = sum(1 for state in room_states(history, batch) if state.state == OK)

    async def main() -> Summary:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        try:  # the first Ctrl+C stops taking rooms (those on their way finish); a second cuts
            loop.add_signal_handler(signal.SIGINT, _on_interrupt, stop, loop)
        except (NotImplementedError, RuntimeError):
            pass
        async with make_client(ctx, key) as client:
            runner = Runner(client, history, batch, on_room=show.room, on_wait=show.wait, stop=stop)
            return await runner.run()

    with show:
        try:
            summary = asyncio.run(main())
        except BatchBusy as busy:
            raise CannotRun(str(busy)) from None
        except (KeyboardInterrupt, asyncio.CancelledError):  # a second Ctrl+C cut the rooms on their way
            summary = Summary(batch, room_states(history, batch), 0.0, stopped=True)
    show.summary(summary)
    return _exit(summary)


def _on_interrupt(stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
    if stop.is_set():
        loop.remove_signal_handler(signal.SIGINT)
        for task in asyncio.all_tasks(loop):
            task.cancel()
        return
    _say("stopping: no more rooms are sent; those on their way finish (Ctrl+C again cuts them)")
    stop.set()


def _exit(summary: Summary, *, never_sent: int = EXIT_INTERRUPTED) -> int:
    """The worst room's code; `never_sent`: what a room never sent counts as (a run stopped
    mid-way: interrupted; read back by `status`: nothing worse than the others)."""
    worst = EXIT_OK
    for state in summary.states:
        if state.state == FAILED:  # no outcome: never sent (its stored plan is not a valid request)
            worst = max(worst, exit_for(state.outcome) if state.outcome is not None else EXIT_INVALID)
        elif state.state == UNKNOWN:
            worst = max(worst, exit_for(OutcomeKind.UNKNOWN))
        elif state.state == TO_SEND:
            worst = max(worst, never_sent)
    if summary.fault is not None:
        worst = max(worst, EXIT_CANNOT_RUN)
    return worst


class _Shown:
    """How a run shows itself: a live bar on a terminal, else lines (text) or objects (json)."""

    def __init__(self, output: str, total: int, batch: Batch) -> None:
        self.output, self.total, self.batch = output, total, batch
        self.seen: dict[str, int] = {OK: 0, FAILED: 0, UNKNOWN: 0, TO_SEND: 0}
        self.started = time.monotonic()
        self.acted = 0  # rooms this run told of (the rate's)
        self._bar: Any = None
        self._task: Any = None
        if output == "text" and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[counts]}"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                console=Console(file=sys.stderr, markup=False, highlight=False),
                transient=False,
            )

    def __enter__(self) -> _Shown:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task(
                f"batch {self.batch.id}",
                total=self.total,
                completed=sum(self.seen.values()),
                counts=self._counts(),
                rate="",
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _counts(self) -> str:
        return f"ok {self.seen[OK]}  failed {self.seen[FAILED]}  unknown {self.seen[UNKNOWN]}"

    def room(self, state: RoomState) -> None:
        self.seen[state.state] = self.seen.get(state.state, 0) + 1
        if self._bar is not None:
            self.acted += 1
            elapsed = max(time.monotonic() - self.started, 1e-6)
            self._bar.update(
                self._task,
                completed=sum(self.seen.values()),
                counts=self._counts(),
                rate=f"{self.acted / elapsed:.1f}/s",
            )
        elif self.output == "json":
            print(json.dumps(state.to_json()), flush=True)
        else:
            print(_room_line(state), flush=True)

    def wait(self, words: str) -> None:
        if self.output == "text":
            _say(words)

    def summary(self, summary: Summary) -> None:
        if self.output == "json":
            print(json.dumps(summary.to_json()), flush=True)
            return
        for line in summary_lines(summary):
            print(clean(line, one_line=True))


def _room_line(state: RoomState) -> str:
    parts = [f"line {state.line}", state.room, state.state]
    if state.task_id is not None:
        parts.append(f"task {state.task_id}")
    if state.code:
        parts.append(state.code)
    if state.note:
        parts.append(f"({state.note})")
    return clean(" ".join(parts), one_line=True)


def summary_lines(summary: Summary) -> list[str]:
    """The summary for people: counts, each failed room with its code and next step, time, rate."""
    counts = summary.counts
    batch = summary.batch
    lines = [
        f"batch {batch.id} ({batch.kind}, {len(summary.states)} rooms) on {batch.endpoint} as {batch.profile}:"
        f" ok {counts[OK]}, failed {counts[FAILED]}, unknown {counts[UNKNOWN]}, not sent {counts[TO_SEND]}",
    ]
    if summary.already:
        lines.append(f"  {summary.already} rooms were ok before this run and were left as they are")
    if summary.sent:
        lines.append(
            f"  {summary.sent} requests in {summary.elapsed:.1f} s, {summary.rate:.1f} per second;"
            f" RequestLimitExceeded {summary.limited}"
        )
    for state in summary.failed:
        lines.append(
            f"  failed: line {state.line} {state.room}: {state.code or state.outcome}: {state.next_step}"
        )
    if summary.fault:
        lines.append(f"  stopped: {summary.fault}")
    if counts[UNKNOWN] or counts[TO_SEND] or counts[FAILED]:
        lines.append(f"  resume with: gme-tui batch {batch.kind} --resume {batch.id}")
    return lines


# --- reading back -------------------------------------------------------------------------


def _list(args: argparse.Namespace, ctx: Context) -> int:
    with open_history(ctx, reading=True) as history:
        batches = history.batches(_limit(args.limit))
        found = [(b, room_states(history, b)) for b in batches] if not history.read_only else []
    if args.output == "json":
        for batch, states in found:
            print(json.dumps(_batch_json(batch, states)))
        return EXIT_OK
    if not found:
        print("no batches yet")
    for batch, states in found:
        counts = Summary(batch, states, 0.0).counts
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(batch.created_at))
        print(
            clean(
                f"{batch.id:>5}  {when}  {batch.kind:<6} {len(states):>5} rooms  ok {counts[OK]}"
                f"  failed {counts[FAILED]}  unknown {counts[UNKNOWN]}  not sent {counts[TO_SEND]}"
                f"  {batch.source}  ({batch.endpoint}, {batch.profile})",
                one_line=True,
            )
        )
    return EXIT_OK


def _batch_json(batch: Batch, states: list[RoomState]) -> dict[str, Any]:
    return {
        "batch": batch.id,
        "kind": batch.kind,
        "source": batch.source,
        "created_at": batch.created_at,
        "endpoint": batch.endpoint,
        "profile": batch.profile,
        "biz_id": batch.biz_id,
        "rooms": len(states),
        "counts": Summary(batch, states, 0.0).counts,
    }


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise fields.FieldError("--limit", "a whole number from 1 to 10000")
    return int(text)


def _status(args: argparse.Namespace, ctx: Context) -> int:
    with open_history(ctx) as history:
        batch = _batch_here(history, args.batch, ctx)
        if args.refresh:
            _refresh(ctx, history, batch)
        states = room_states(history, batch)
    summary = Summary(batch, states, 0.0)
    if args.output == "json":
        for state in states:
            print(json.dumps(state.to_json()))
        print(json.dumps({**summary.to_json(), **_batch_json(batch, states)}))
    else:
        for state in states:
            print(_room_line(state))
        for line in summary_lines(summary):
            print(clean(line, one_line=True))
    return _exit(summary, never_sent=EXIT_OK)


def _refresh(ctx: Context, history: History, batch: Batch) -> None:
    """Ask the service about the batch's rooms whose outcome is unknown (DescribeTaskInfo):
    a running task found settles them (never a StartRecord)."""
    from ..context import make_client
    from ..tracking import reconcile

    key = key_for(ctx)
    assert key is not None

    async def ask() -> None:
        async with make_client(ctx, key) as client:
            await reconcile(client, history, profile=batch.profile)

    try:
        asyncio.run(ask())
    except KeyboardInterrupt:
        raise CannotRun("interrupted while refreshing") from None
