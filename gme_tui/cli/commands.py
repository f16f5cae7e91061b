"""One function per command: each takes the parsed arguments and the context, and
returns the exit code. Only what a command needs is imported when it runs, so a
one-shot command starts fast."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..api import fields
from ..context import Context, aimed_command, make_client
from ..safe_text import clean
from .exits import EXIT_INTERRUPTED, EXIT_OK, CannotRun, exit_for

if TYPE_CHECKING:
    from ..api.actions import Action
    from ..api.signing import SigningKey
    from ..calls import Outcome
    from ..history import History


def open_history(ctx: Context, *, reading: bool = False) -> History:
    """The context's history, or `CannotRun`; `reading`: for a command that only reads,
    which may open it read-only (see `History.for_reading`)."""
    from ..history import History

    folder = ctx.data_dir
    try:
        return History.for_reading(folder) if reading else History.in_dir(folder)
    except Exception as error:  # sqlite3.Error, OSError
        raise CannotRun(f"cannot open the history in {folder}: {error}; nothing was sent") from None


def key_for(ctx: Context, *, required: bool = True) -> SigningKey | None:
    """The context's key, else the profile's keyring entry; `CannotRun` if there is none."""
    if ctx.key is not None:
        return ctx.key
    from ..credentials import CredentialsMissing, KeyringUnavailable, resolve

    try:
        return resolve(ctx.profile).key
    except (CredentialsMissing, KeyringUnavailable) as error:
        if required:
            raise CannotRun(str(error)) from None
        return None


#: the actions whose text output says where they went (on stderr, before they leave)
TELL_WHERE = ("StopRecord", "ModifyRecordInfo")


def refuse_elsewhere(history: History, ctx: Context, task_id: int) -> None:
    """The one check of every command that acts on a task (stop, modify, describe-record,
    watch), before anything is sent: a TaskId the history knows only on other endpoints or
    profiles is refused (`FieldError`, exit 2) with `Recording.elsewhere`'s words. One it
    does not know at all goes ahead (another tool may have started it)."""
    try:
        known = history.recordings_of_task(task_id)
    except Exception as error:  # sqlite3.Error: a damaged store cannot vouch for the task
        raise CannotRun(f"cannot read the recordings in {ctx.data_dir}: {error}; nothing was sent") from None
    if not known or any((r.endpoint, r.profile) == (ctx.scope, ctx.profile) for r in known):
        return
    refused = known[0].elsewhere(ctx.scope, ctx.profile)
    raise fields.FieldError("--task-id", f"{refused} Nothing was sent.")


def _checked_or_raise(checked: fields.Checked) -> fields.Checked:
    if not checked.ok:
        raise checked.errors[next(iter(checked.errors))]
    for warning in checked.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return checked


def action_for(args: argparse.Namespace, ctx: Context) -> Action:
    """Turn the parsed arguments into a validated action, or raise FieldError."""
    from ..api import actions

    biz = ctx.default_biz_id
    relaxed = ctx.relaxed_ids
    if args.command == "start":
        return actions.from_checked(
            "StartRecord",
            _checked_or_raise(
                fields.check_start(biz, args.room_id, args.mode, args.allow, args.block, relaxed=relaxed)
            ),
        )
    if args.command == "modify":
        return actions.from_checked(
            "ModifyRecordInfo",
            _checked_or_raise(
                fields.check_modify(biz, args.task_id, args.mode, args.allow, args.block, relaxed=relaxed)
            ),
        )
    if args.command == "stop":
        return actions.StopRecord(fields.parse_biz_id(biz), fields.parse_task_id(args.task_id))
    if args.command == "describe-task":
        return actions.DescribeTaskInfo(fields.parse_biz_id(biz), fields.parse_room_id(args.room_id))
    if args.command == "describe-record":
        return actions.DescribeRecordInfo(fields.parse_biz_id(biz), fields.parse_task_id(args.task_id))
    raise AssertionError(args.command)


def send(args: argparse.Namespace, ctx: Context, action: Action) -> int:
    """Send with the blocking driver: a one-shot command needs no event loop (nor its import)."""
    from ..calls import HistoryUnavailable, send_sync
    from .output import print_outcome

    key = key_for(ctx)
    assert key is not None
    started: list[Outcome] = []
    with open_history(ctx) as history, make_client(ctx, key, blocking=True) as client:
        task = getattr(action, "task_id", None)
        if isinstance(task, int):
            refuse_elsewhere(history, ctx, task)
        if args.output == "text" and action.name in TELL_WHERE:
            print(clean(f"gme-tui: {action.name} goes to {ctx.destination}", one_line=True), file=sys.stderr)
        try:
            outcome = send_sync(client, history, action, profile=ctx.profile, on_start=started.append)
        except HistoryUnavailable as error:
            raise CannotRun(str(error)) from None
        except KeyboardInterrupt:  # Ctrl+C while waiting: say what may have happened
            return _interrupted(started[0] if started else None, ctx)
    code = exit_for(outcome.kind)
    problem = emit(lambda: print_outcome(outcome, args.output, command=aimed_command(ctx)))
    if problem and outcome.result is not None:
        task = outcome.result.task_id_value
        print(
            f"gme-tui: {action.name} succeeded but its output could not be printed ({problem})"
            + (f"; TaskId {task}" if task is not None else ""),
            file=sys.stderr,
        )
    if outcome.history_error:
        print(f"gme-tui: warning: {outcome.history_error}", file=sys.stderr)
    return code


def _interrupted(outcome: Outcome | None, ctx: Context) -> int:
    from .output import print_outcome

    if outcome is None or outcome.error is None:
        print("gme-tui: interrupted; nothing was sent", file=sys.stderr)
        return EXIT_INTERRUPTED
    print_outcome(outcome, "text", command=aimed_command(ctx))  # text: its failure lines only, on stderr
    return exit_for(outcome.kind)


def emit(write: Callable[[], None]) -> str | None:
    """Print a result; if stdout is gone (closed pipe, full disk) say why instead of failing."""
    try:
        write()
        sys.stdout.flush()
    except OSError as error:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - later flushes must not fail again
        except OSError:
            pass
        return error.strerror or str(error)
    return None


def dry_run(args: argparse.Namespace, ctx: Context, action: Action) -> int:
    from ..api.signing import SigningKey
    from .output import print_prepared

    key = key_for(ctx, required=False)
    if key is None:
        print(
            "note: no credentials in the environment; the Authorization header shows where they go",
            file=sys.stderr,
        )
        key = SigningKey("<SecretId>", "")
    print_prepared(make_client(ctx, key, blocking=True).prepare(action), args.output)
    return EXIT_OK


def history(args: argparse.Namespace, ctx: Context) -> int:
    from ..options import parse_limit
    from .output import print_history

    limit = parse_limit(args.limit)
    with open_history(ctx, reading=True) as store:
        try:
            rows = store.rows(limit=limit)
        except Exception as error:  # sqlite3.Error: a file that is not a history, or damaged
            raise CannotRun(f"cannot read the history in {ctx.data_dir}: {error}") from None
    print_history(rows, args.output)
    return EXIT_OK


def emulator(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY, run_forever

    if not 0 <= args.port <= 65535:
        raise fields.FieldError("--port", f"must be from 0 to 65535 (0 picks a free port; got {args.port})")
    if (args.secret_id is None) != (args.secret_key is None):
        raise fields.FieldError(
            "--secret-key" if args.secret_key is None else "--secret-id",
            "--secret-id and --secret-key go together",
        )
    try:
        return run_forever(
            args.host,
            args.port,
            args.secret_id or DEMO_SECRET_ID,
            args.secret_key or DEMO_SECRET_KEY,
            faults=args.fault,
            verbose=args.verbose,
            state_file=Path(args.state_file).expanduser() if args.state_file else None,
        )
    except ValueError as error:  # a bad --fault spec: run_forever reads them all before it listens
        raise fields.FieldError("--fault", str(error)) from None
    except OSError as error:
        raise CannotRun(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
