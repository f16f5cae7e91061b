"""How the command line prints results, failures, the history and the recordings: text or JSON.

JSON goes through Python's `json`, so 64-bit integers print exactly.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from ..answers import FILE_HEADERS, LABEL_WIDTH, file_rows, footer_rows, ok_rows
from ..api.actions import Action, RecordInfoResult, Result
from ..api.errors import GmeError, ServiceError
from ..calls import Outcome
from ..history import Row
from ..recordings import Recording, State, duration_text
from ..safe_text import clean
from ..words import advice, check_by, mode_text, outcome_label

if TYPE_CHECKING:
    from ..api.client import Prepared
    from ..tracking import Settled


def dumps(value: Any) -> str:
    """JSON as it prints: readable text as it is, but every control or invisible formatting
    character as \\uXXXX (`json` leaves C1 and bidi controls raw), which keeps it exact."""
    return clean(json.dumps(value, ensure_ascii=False, indent=2))


def print_prepared(prepared: Prepared, output: str, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    shown = prepared.redacted()
    if output == "json":
        print(dumps(shown), file=out)
        return
    print(
        clean(f"POST {prepared.url}/" if not prepared.url.endswith("/") else f"POST {prepared.url}"), file=out
    )
    headers: dict[str, str] = shown["headers"]  # type: ignore[assignment]
    for name, value in headers.items():
        print(clean(f"{name}: {value}", one_line=True), file=out)
    print(file=out)
    print(clean(prepared.body.decode("utf-8")), file=out)  # the exact bytes that are signed


def print_outcome(
    outcome: Outcome,
    output: str,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    command: str = "gme-tui",
) -> None:
    """`command`: how to run gme-tui aimed where this call went (see `failure_lines`)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if outcome.result is not None:
        if output == "json":
            print(dumps(outcome.result.raw), file=out)
        else:
            _print_result(outcome, outcome.result, out)
        return
    error = outcome.error
    assert error is not None
    # The explanation goes first, so a closed stdout cannot swallow it.
    for line in failure_lines(outcome.action, error, command=command):
        print(clean(line, one_line=True), file=err)
    err.flush()
    if output == "json":
        print(dumps(_error_json(error)), file=out)


def _print_result(outcome: Outcome, result: Result, out: TextIO) -> None:
    action = outcome.action
    rows = [
        ("Action", f"{action.name} ok"),
        *ok_rows(action.name, action.params(), result, task_id=_task_of(action, result), room=action.room_id),
        *footer_rows(result.request_id, outcome.duration_ms),
    ]
    for name, value in rows:
        print(f"{name:<{LABEL_WIDTH}} {clean(value, one_line=True)}", file=out)  # a break would fake a row
    if isinstance(result, RecordInfoResult):
        print(file=out)
        print(_file_line(FILE_HEADERS), file=out)
        for cells in file_rows(result):
            print(_file_line([clean(cell, one_line=True) for cell in cells]), file=out)


def _file_line(cells: Sequence[str]) -> str:
    user, status, began, name = cells
    return f"{user:<22} {status:<27} {began:<20} {name}"


def _task_of(action: Action, result: Result) -> int | None:
    """The task an answer is about: the one it names, else the one the request named."""
    if result.task_id_value is not None:
        return result.task_id_value
    task = getattr(action, "task_id", None)
    return task if isinstance(task, int) else None


def failure_lines(action: Action, error: GmeError, *, command: str = "gme-tui") -> list[str]:
    """What happened and what to do next, for a person reading a terminal. `command` starts
    the check to run: gme-tui with the global options that chose where the call went, so
    the check looks there and not at the default place (the real service)."""
    name = action.name
    if isinstance(error, ServiceError):
        explained = error.explanation
        return [
            f"{name} failed: {error.code}",
            f"  Message:   {error.message}",
            f"  Meaning:   {explained.meaning}",
            f"  Next:      {explained.next_step}",
            f"  RequestId: {error.request_id or '-'}",
        ]
    lines = [f"{name}: {error}"]
    said = advice(error.kind, name, idempotent=action.idempotent)
    if said:
        lines.append(f"  {said}")
    room = action.room_id
    by = check_by(error.kind, idempotent=action.idempotent, room=room)
    if by is not None:  # sent; this action changes things
        biz = getattr(action, "biz_id", "BIZID")
        check = (
            f"{command} describe-task --biz-id {biz} --room-id {shlex.quote(room or '')}"
            if by == "room"
            else f"{command} describe-record --biz-id {biz} --task-id {getattr(action, 'task_id', 'TASKID')}"
        )
        lines.append(f"  Check with: {check}")
    return lines


def _error_json(error: GmeError) -> dict[str, Any]:
    if isinstance(error, ServiceError):
        if error.raw is not None:
            return error.raw
        return {"Error": {"Code": error.code, "Message": error.message}, "RequestId": error.request_id}
    return {"Error": {"Kind": error.kind, "Message": str(error)}}


def print_history(rows: list[Row], output: str, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    if output == "json":
        print(dumps([row.to_json() for row in rows]), file=out)
        return
    if not rows:
        print("No requests yet.", file=out)
        return
    print(f"{'Time (local)':<19}  {'Action':<18} {'RoomId':<16} {'Mode':<6} {'Outcome':<34} TaskId", file=out)
    for row in rows:
        when = datetime.fromtimestamp(row.started_at).strftime("%Y-%m-%d %H:%M:%S")
        room = clean(row.room_id or "-", one_line=True)
        room = room if len(room) <= 16 else room[:15] + "…"
        # Every cell is read back from the store, and the Code came from the service.
        print(
            clean(
                f"{when:<19}  {row.action:<18} {room:<16} {mode_text(row.record_mode) or '-':<6} "
                f"{outcome_label(row.outcome, row.error_code, damaged=bool(row.damaged)):<34} "
                f"{row.task_id or '-'}",
                one_line=True,
            ),
            file=out,
        )
        if row.damaged:  # what could not be read, under the row it belongs to
            print(clean(f"{'':<21}damaged: {'; '.join(row.damaged)}", one_line=True), file=out)


def dumps_line(value: Any) -> str:
    """`dumps` on one line: one object per line, for a stream a script reads as it comes."""
    return clean(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))


def error_json(error: GmeError) -> dict[str, Any]:
    return _error_json(error)


def elapsed_text(recording: Recording, now: float) -> str:
    return duration_text(recording.elapsed(now))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_recordings(
    found: list[Recording],
    output: str,
    *,
    scope: str,
    profile: str,
    every: bool = False,
    now: float | None = None,
    out: TextIO | None = None,
) -> None:
    """The recordings, newest first. `every`: of every endpoint, with endpoint and profile
    columns; else of `scope`, with a profile column only when one of another profile is shown."""
    import time

    out = out or sys.stdout
    if output == "json":
        print(dumps([recording.to_json() for recording in found]), file=out)
        return
    now = time.time() if now is None else now
    where = "every endpoint" if every else clean(scope, one_line=True)
    if not found:
        print(f"No recordings known on {where}.", file=out)
        return
    print(f"Recordings on {where}, newest first ({len(found)} shown)", file=out)
    profiles = every or any(recording.profile != profile for recording in found)
    head = f"{'Started (local)':<19}  "
    if every:
        head += f"{'Endpoint':<28} "
    if profiles:
        head += f"{'Profile':<12} "
    head += f"{'RoomId':<16} {'TaskId':<20} {'Mode':<6} {'State':<23} {'Elapsed':<8} Files"
    print(head, file=out)
    for recording in found:
        when = datetime.fromtimestamp(recording.started_at).strftime("%Y-%m-%d %H:%M:%S")
        line = f"{when:<19}  "
        if every:
            line += f"{_cut(clean(recording.endpoint, one_line=True), 28):<28} "
        if profiles:
            line += f"{_cut(clean(recording.profile, one_line=True), 12):<12} "
        room = _cut(clean(recording.room_id or "-", one_line=True), 16)
        line += (
            f"{room:<16} {recording.task_id or '-':<20} {mode_text(recording.record_mode) or '-':<6} "
            f"{recording.state.words:<23} {elapsed_text(recording, now):<8} {len(recording.files)}"
        )
        print(clean(line, one_line=True), file=out)  # every cell is read back from the store
        if recording.damaged:
            print(clean(f"{'':<21}damaged: {'; '.join(recording.damaged)}", one_line=True), file=out)


def settled_why(settled: Settled) -> str:
    """Why a reconcile left a start unknown: the ask's failure, in a few words."""
    error = settled.outcome.error
    if isinstance(error, ServiceError):
        return f"{error.code}: {error.message}"
    if error is not None:
        return str(error)
    return "the answer did not settle it"


def settled_verdict(settled: Settled) -> tuple[str, str]:
    """(`started` / `not_started` / `unknown`, the words): what a reconcile found for one start."""
    now = settled.now
    if now.state is State.NOT_STARTED:
        return "not_started", "not started"
    if settled.found and now.task_id:
        return "started", f"started: task {now.task_id}"
    return "unknown", f"still unknown: {settled_why(settled)}"


def print_settled(
    found: list[Settled], output: str, *, scope: str, profile: str, out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    if output == "json":
        listed = []
        for settled in found:
            verdict, _ = settled_verdict(settled)
            recording, now = settled.recording, settled.now
            listed.append(
                {
                    "start_row": recording.start_row,
                    "room_id": recording.room_id,
                    "biz_id": int(recording.biz_id),
                    "result": verdict,
                    "task_id": int(now.task_id) if now.task_id else None,
                    "state": now.state.value,
                    "why": settled_why(settled) if verdict == "unknown" else None,
                    "ask_row": settled.outcome.row_id,
                }
            )
        print(dumps(listed), file=out)
        return
    where = clean(f"{scope} with profile {profile}", one_line=True)
    if not found:
        print(f"Nothing to reconcile on {where}: no StartRecord of it has an unknown outcome.", file=out)
        return
    print(f"Reconciled on {where}: {len(found)} StartRecord(s) whose outcome was unknown", file=out)
    for settled in found:
        recording = settled.recording
        _, words = settled_verdict(settled)
        row = recording.start_row if recording.start_row is not None else "-"
        room = clean(recording.room_id or "-", one_line=True)
        print(clean(f"history row {row:<6} room {room:<16} {words}", one_line=True), file=out)
