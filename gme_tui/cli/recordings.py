"""`recordings`, `watch` and `reconcile`: the recordings gme-tui knows, from the command line.

Each asks only through `calls.send_sync` (via `tracking` or directly), so every ask
has its history row and its answer updates the recordings in the same transaction,
as the console's do. Each asks only this context's endpoint, with its profile: the
recordings of other endpoints and profiles are shown as last known, never asked about
with the wrong credentials.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..api import fields
from ..api.errors import OutcomeKind
from ..context import Context, aimed_command, make_client
from ..options import given, parse_limit, parse_seconds
from ..recordings import NOT_FOUND, PROGRESS, REFRESH, State
from ..safe_text import clean
from .commands import emit, key_for, open_history, refuse_elsewhere
from .exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_TIMED_OUT, CannotRun, exit_for
from .parser import MAX_INTERVAL, MAX_WAIT

if TYPE_CHECKING:
    from ..api.actions import RecordInfoResult
    from ..api.client import SyncGmeClient
    from ..calls import Outcome
    from ..history import History
    from ..recordings import Recording

#: `watch --until`: the state from which on (in `PROGRESS`) the watch is over
UNTIL = {"recording": State.RECORDING, "uploaded": State.UPLOADED, "done": State.DONE}


def _say(message: str) -> None:
    print(clean(f"gme-tui: {message}", one_line=True), file=sys.stderr)


def failed(outcome: Outcome) -> bool:
    """Did this ask fail? An answer that the task or room is not there is an answer (it
    settles a start as not started, a recording as gone), not a failure."""
    if outcome.kind is OutcomeKind.OK:
        return False
    error = outcome.error
    return not (outcome.kind is OutcomeKind.SERVICE_ERROR and getattr(error, "code", None) in NOT_FOUND)


def _worst(outcomes: list[Outcome]) -> int:
    return max((exit_for(o.kind) for o in outcomes if failed(o)), default=EXIT_OK)


def _asked_about(outcome: Outcome) -> str:
    action = outcome.action
    task = getattr(action, "task_id", None)
    return f"task {task}" if task is not None else f"room {action.room_id}"


# --- recordings ---------------------------------------------------------------------------


def recordings(args: argparse.Namespace, ctx: Context) -> int:
    """The recordings of this endpoint (`--all`: of every one), newest first; `--refresh`
    asks the service first, about this endpoint's and profile's only."""
    from .output import print_recordings

    limit = parse_limit(args.limit)
    code = EXIT_OK
    if args.refresh:
        code = _refresh(ctx)
        store = open_history(ctx)
    else:
        store = open_history(ctx, reading=True)
    with store:
        try:
            found = store.recordings(endpoint=None if args.all else ctx.scope, limit=limit)
        except Exception as error:  # sqlite3.Error: a file that is not a history, or damaged
            raise CannotRun(f"cannot read the recordings in {ctx.data_dir}: {error}") from None
    if args.refresh:
        others = [r for r in found if (r.endpoint, r.profile) != (ctx.scope, ctx.profile)]
        if others:
            _say(
                f"note: only the recordings of {ctx.scope} with profile {ctx.profile} were asked about; "
                f"{len(others)} shown of other endpoints or profiles are as last known"
            )
    problem = emit(
        lambda: print_recordings(found, args.output, scope=ctx.scope, profile=ctx.profile, every=args.all)
    )
    if problem:
        _say(f"the recordings could not be printed ({problem})")
    return code


def _refresh(ctx: Context) -> int:
    """Reconcile the unknown starts, then ask about every recording that runs or is processed
    (interval 0: all of them), of this endpoint and profile; a failed ask is said, and its
    recording shown as last known."""
    from ..calls import HistoryUnavailable
    from ..tracking import reconcile_sync, refresh_sync

    key = key_for(ctx)
    assert key is not None
    with open_history(ctx) as history, make_client(ctx, key, blocking=True) as client:
        try:
            outcomes = [s.outcome for s in reconcile_sync(client, history, profile=ctx.profile)]
            outcomes += refresh_sync(client, history, profile=ctx.profile, interval=0.0)
            outcomes += _files_of_stopped(client, history, ctx, outcomes)
        except HistoryUnavailable as error:
            raise CannotRun(str(error)) from None
    unique = list({id(o): o for o in outcomes}.values())
    for outcome in unique:
        if failed(outcome):
            _say(
                f"refresh: {outcome.action.name} of {_asked_about(outcome)} failed "
                f"({_why(outcome)}); shown as last known"
            )
    return _worst(unique)


def _files_of_stopped(
    client: SyncGmeClient, history: History, ctx: Context, outcomes: list[Outcome]
) -> list[Outcome]:
    """A recording this refresh found stopped (its room's DescribeTaskInfo found no task of it)
    is asked about its files at once, so that the list shows how far they are, not only that
    it stopped."""
    from ..calls import send_sync
    from ..tracking import refresh_ask

    stopped = {
        change.recording.id: change.recording
        for outcome in outcomes
        for change in outcome.changes
        if change.moved
        and change.recording.state is State.STOPPING
        and (change.recording.endpoint, change.recording.profile) == (ctx.scope, ctx.profile)
    }
    asked = []
    for recording in stopped.values():
        ask = refresh_ask(recording)
        if ask is not None:
            asked.append(send_sync(client, history, ask, profile=ctx.profile, purpose=REFRESH))
    return asked


def _why(outcome: Outcome) -> str:
    error = outcome.error
    code = getattr(error, "code", None)
    return f"{code}: {getattr(error, 'message', '')}" if code else str(error)


# --- reconcile ------------------------------------------------------------------------------


def reconcile(args: argparse.Namespace, ctx: Context) -> int:
    """Settle now every StartRecord of this endpoint and profile whose outcome is unknown."""
    from ..calls import HistoryUnavailable
    from ..tracking import SETTLE_AFTER, reconcile_sync, unknown_too_recent
    from .output import print_settled

    key = key_for(ctx)
    assert key is not None
    with open_history(ctx) as history, make_client(ctx, key, blocking=True) as client:
        try:
            found = reconcile_sync(client, history, profile=ctx.profile)
            waiting = unknown_too_recent(history, ctx.scope, ctx.profile)
        except HistoryUnavailable as error:
            raise CannotRun(str(error)) from None
        except KeyboardInterrupt:
            _say("interrupted; what was settled before is kept, the rest is still unknown")
            return EXIT_INTERRUPTED
    problem = emit(lambda: print_settled(found, args.output, scope=ctx.scope, profile=ctx.profile))
    for recording in waiting:
        _say(
            f"the StartRecord of room {recording.room_id} (history row {recording.start_row}) left less than "
            f"{SETTLE_AFTER:g} s ago: the service may still act on it, so it is looked up only after "
            f"that; run gme-tui reconcile again then"
        )
    if problem:
        _say(f"what the reconcile found could not be printed ({problem}); `gme-tui history` shows it")
    return _worst(list({id(s.outcome): s.outcome for s in found}.values()))


# --- watch ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watch:
    """A checked `watch`: what to ask about, until when, how often, for how long at most."""

    biz_id: int
    task_id: int
    until: str
    interval: float
    max_wait: float | None
    output: str

    @classmethod
    def of(cls, args: argparse.Namespace, ctx: Context) -> Watch:
        """The arguments checked, before any emulator or client is started (`FieldError`)."""
        max_wait = given(args.max_wait, "--max-wait")
        return cls(
            biz_id=fields.parse_biz_id(ctx.default_biz_id),
            task_id=fields.parse_task_id(args.task_id),
            until=args.until,
            interval=parse_seconds(given(args.interval, "--interval") or "", "--interval", MAX_INTERVAL),
            max_wait=None if max_wait is None else parse_seconds(max_wait, "--max-wait", MAX_WAIT),
            output=args.output,
        )


def reached(state: State, until: str) -> bool:
    """`recording` is reached by any state from recording on, `uploaded` by uploaded or done,
    `done` by done."""
    return state in PROGRESS and PROGRESS.index(state) >= PROGRESS.index(UNTIL[until])


def watch(plan: Watch, ctx: Context) -> int:
    """Ask DescribeRecordInfo every `interval` (each ask with its history row), print each change
    of state, and end when `until` is reached (0), on a failed ask (its code), or when
    `max_wait` runs out (`EXIT_TIMED_OUT`)."""
    from ..api.actions import DescribeRecordInfo
    from ..calls import HistoryUnavailable, send_sync

    key = key_for(ctx)
    assert key is not None
    deadline = None if plan.max_wait is None else time.monotonic() + plan.max_wait
    ask = DescribeRecordInfo(plan.biz_id, plan.task_id)
    shown: tuple[State, tuple[str, ...]] | None = None
    with open_history(ctx) as history, make_client(ctx, key, blocking=True) as client:
        refuse_elsewhere(history, ctx, plan.task_id)
        if plan.output == "text":
            _say(
                f"watching task {plan.task_id} until {plan.until}, every {plan.interval:g} s: {ctx.destination}"
            )
        while True:
            try:
                outcome = send_sync(client, history, ask, profile=ctx.profile, purpose=REFRESH)
            except HistoryUnavailable as error:
                raise CannotRun(str(error)) from None
            except KeyboardInterrupt:
                return _interrupted(plan, shown)
            if outcome.result is None:
                _failure(outcome, plan, ctx)
                return exit_for(outcome.kind)
            state, files = _state_of(history, ctx, plan, outcome, shown)
            if shown is None or (state, files) != shown:
                problem = emit(lambda: _print_state(plan, state, files, shown))  # noqa: B023 - called now
                if problem:
                    _say(f"the watch could not be printed ({problem})")
                shown = (state, files)
            if reached(state, plan.until):
                return EXIT_OK
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                _say(
                    f"--max-wait {plan.max_wait:g} s ran out: task {plan.task_id} is {state.words}, "
                    f"not yet {plan.until}"
                )
                return EXIT_TIMED_OUT
            pause = plan.interval if deadline is None else min(plan.interval, deadline - now)
            try:
                pause_for(pause)
            except KeyboardInterrupt:
                return _interrupted(plan, shown)


def pause_for(seconds: float) -> None:
    """The wait between two asks; a Ctrl+C in it ends the watch (exit 130)."""
    time.sleep(seconds)


def _interrupted(plan: Watch, shown: tuple[State, tuple[str, ...]] | None) -> int:
    last = f"; task {plan.task_id} was last {shown[0].words}" if shown else ""
    _say(f"interrupted{last}")
    return EXIT_INTERRUPTED


def _failure(outcome: Outcome, plan: Watch, ctx: Context) -> None:
    """A failed ask: its failure lines (code and message for a service error) on stderr; with
    json, its error object too, as one line on stdout."""
    from .output import dumps_line, error_json, print_outcome

    print_outcome(outcome, "text", command=aimed_command(ctx))  # text: the failure lines only
    error = outcome.error
    if plan.output == "json" and error is not None:
        emit(lambda: print(dumps_line({"task_id": plan.task_id, **error_json(error)})))


def _state_of(
    history: History,
    ctx: Context,
    plan: Watch,
    outcome: Outcome,
    shown: tuple[State, tuple[str, ...]] | None,
) -> tuple[State, tuple[str, ...]]:
    """Where the task is after this answer: as the recordings now say (a file status never
    moves it back), else as the answer says, else as last shown."""
    result: RecordInfoResult = outcome.result  # type: ignore[assignment]
    mine: Recording | None = None
    for change in outcome.changes:
        recording = change.recording
        if recording.task_id == str(plan.task_id) and (recording.endpoint, recording.profile) == (
            ctx.scope,
            ctx.profile,
        ):
            mine = recording
    from_answer = [f for f in (r.file_name for r in result.records) if f]
    if mine is not None and mine.state in PROGRESS:
        return mine.state, mine.files or tuple(from_answer)
    from ..recordings import BY_STATUS

    states = [BY_STATUS[r.status] for r in result.records if r.status in BY_STATUS]
    if states:
        return min(states, key=PROGRESS.index), tuple(from_answer)
    return (shown[0] if shown else State.RECORDING), tuple(from_answer)


def _print_state(
    plan: Watch, state: State, files: tuple[str, ...], shown: tuple[State, tuple[str, ...]] | None
) -> None:
    from datetime import datetime

    from .output import dumps_line

    now = time.time()
    if plan.output == "json":
        print(
            dumps_line(
                {
                    "time": now,
                    "task_id": plan.task_id,
                    "state": state.value,
                    "state_words": state.words,
                    "files": list(files),
                }
            )
        )
        return
    line = f"{datetime.fromtimestamp(now).strftime('%H:%M:%S')}  {state.words}"
    if files and (shown is None or files != shown[1]):
        line += f"  files: {', '.join(files)}"
    print(clean(line, one_line=True))
