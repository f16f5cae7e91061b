"""What an answer says, in one order and with one set of labels, for the console and the
command line alike: the rows of a successful answer, the table of a recording's files,
and the equivalent command lines of a request (`gme-tui` and `tccli`).

Values are returned as they came; each front end cleans what it draws.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from .api.actions import RecordInfoResult, Result, TaskInfoResult, ids_text
from .api.fields import ALLOW, BLOCK, SUBSCRIPTION, FieldError, Subscription, parse_user_ids
from .words import mode_label

#: the width of the label column: the longest label ("RecordMode", "RequestId") and a blank
LABEL_WIDTH = 11

FILE_HEADERS = ("UserId", "Status", "Began (UTC)", "FileName")


def ok_rows(
    action: str,
    params: dict[str, Any],
    result: Result | None,
    *,
    task_id: int | None,
    room: str | None,
) -> list[tuple[str, str]]:
    """The rows of a successful answer after its title: the task, the room, the mode and
    the lists as the answer (else the request) says them. `result`: the typed answer, or
    None where the history kept only part of it."""
    rows: list[tuple[str, str]] = []
    if task_id is not None:
        rows.append(("TaskId", str(task_id)))
    if isinstance(result, RecordInfoResult) and result.room:
        room = result.room
    if room:
        rows.append(("RoomId", room))
    if isinstance(result, TaskInfoResult):
        sub = result.subscription or Subscription()
        rows += [
            ("RecordMode", mode_label(result.mode)),
            ("Allowlist", ids_text(sub.allow)),
            ("Blocklist", ids_text(sub.block)),
        ]
    elif isinstance(result, RecordInfoResult):
        rows.append(("RecordMode", mode_label(result.mode)))
    elif action in ("StartRecord", "ModifyRecordInfo"):
        rows.append(("RecordMode", mode_label(params.get("RecordMode"))))
        sub_params = params.get(SUBSCRIPTION)
        lists = sub_params if isinstance(sub_params, dict) else {}
        for label, key in (("Allowlist", ALLOW), ("Blocklist", BLOCK)):
            if lists.get(key):
                rows.append((label, ids_text(tuple(str(i) for i in lists[key]))))
    return rows


def file_rows(result: RecordInfoResult) -> list[tuple[str, str, str, str]]:
    """A recording's files under `FILE_HEADERS`."""
    return [
        (record.user_text, record.status_text, record.begin_text, record.file_name)
        for record in result.records
    ]


def footer_rows(request_id: str | None, duration_ms: float | None) -> list[tuple[str, str]]:
    rows = [("RequestId", request_id)] if request_id else []
    if duration_ms is not None:
        rows.append(("Duration", f"{duration_ms:.0f} ms"))
    return rows


# --- the same request from a shell ----------------------------------------------------

#: each action's gme-tui command and the options its parameters go to
_COMMANDS = {
    "StartRecord": "start",
    "StopRecord": "stop",
    "DescribeTaskInfo": "describe-task",
    "DescribeRecordInfo": "describe-record",
    "ModifyRecordInfo": "modify",
}
_OPTIONS = {"BizId": "--biz-id", "RoomId": "--room-id", "TaskId": "--task-id", "RecordMode": "--mode"}


def gme_tui_line(aimed: str, action: str, params: dict[str, Any]) -> str:
    """`gme-tui … start --biz-id …`: `aimed` is gme-tui with the global options that send it
    where this request went (`context.aimed_command`)."""
    words = [_COMMANDS[action]]
    for key, option in _OPTIONS.items():
        if key in params:
            words += [option, str(params[key])]
    sub = params.get(SUBSCRIPTION)
    lists = sub if isinstance(sub, dict) else {}
    for key, option in ((ALLOW, "--allow"), (BLOCK, "--block")):
        if lists.get(key):
            words += [option, ",".join(str(i) for i in lists[key])]
    if _looks_relaxed(lists):
        words.append("--relaxed-ids")
    return f"{aimed} {shlex.join(words)}"


def tccli_line(action: str, params: dict[str, Any], *, endpoint: str | None, region: str | None) -> str:
    """The official command line's form of the same request: each parameter an option,
    structures as JSON. `endpoint`: given when it is not the service's own."""
    words = ["tccli", "gme", action]
    if region:
        words += ["--region", region]
    if endpoint:
        words += ["--endpoint", endpoint]
    for key, value in params.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
        words += [f"--{key}", shown]
    return shlex.join(words)


def _looks_relaxed(lists: dict[str, Any]) -> bool:
    """IDs that only the relaxed rule takes need --relaxed-ids on the command line."""
    for key, ids in lists.items():
        try:
            parse_user_ids(" ".join(str(i) for i in ids or ()), key)
        except FieldError:
            return True
    return False
