"""The recording service itself: tasks, their life, rate limit and parameter checks.

No HTTP here, so the rules can be read (and changed) in one place. The checks are
the service's own, which are looser than the console's: any string (or integer)
is a user ID, and there is no "greater than 10000" rule. A client that is
stricter than the service is fine; one that relies on the service being strict
is not, and this emulator will not hide that.

Every method is thread-safe: the HTTP server answers requests on many threads.
Where the tasks are kept (memory, or a file other emulators share) is `store`'s
business; each action here is one transaction on it.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gme_tui.api.fields import (
    ALLOW,
    BIZ_ID,
    BLOCK,
    MAX_USER_IDS,
    RECORD_MODE,
    ROOM_ID,
    ROOM_ID_MAX,
    SUBSCRIPTION,
    TASK_ID,
    UINT64_MAX,
    RecordMode,
)

from .store import MemoryStore, Store, Task

#: TaskIds are drawn from here: above 2**53, so a float anywhere on the path loses digits
TASK_ID_MIN = 2**60
TASK_ID_MAX = 2**63 - 1
#: who is "in the room" when a single-stream recording has no allowlist
EMULATED_USERS = ("10001", "10002")
MIXED_USER = "0"
STATUS_RECORDING = 2
#: after StopRecord: waiting for transcoding, transcoding, uploading, uploaded, done
STATUS_AFTER_STOP = (10, 11, 12, 13, 14)
START_LIMIT_PER_SECOND = 20
#: StartRecord arrival times kept for `RecordingService.start_arrivals` (a long-running emulator stays small)
ARRIVALS_KEPT = 10_000


class ApiError(Exception):
    """An error answer: ``{"Error": {"Code": code, "Message": message}}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- parameter checks ------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _uint64(params: dict[str, Any], name: str, code: str) -> int:
    value = params[name]
    if not _is_int(value) or not 1 <= value <= UINT64_MAX:
        raise ApiError(code, f"The value of `{name}` must be an integer from 1 to {UINT64_MAX}.")
    return value


def check_biz_id(params: dict[str, Any]) -> int:
    return _uint64(params, BIZ_ID, "InvalidParameterValue.InvalidBizId")


def check_task_id(params: dict[str, Any]) -> int:
    return _uint64(params, TASK_ID, "InvalidParameterValue.InvalidTaskId")


def check_room_id(params: dict[str, Any]) -> str:
    value = params[ROOM_ID]
    if not isinstance(value, str) or not 1 <= len(value) <= ROOM_ID_MAX:
        raise ApiError(
            "InvalidParameterValue.InvalidRoomId",
            f"The value of `{ROOM_ID}` must be a string of 1 to {ROOM_ID_MAX} characters.",
        )
    return value


def check_record_mode(params: dict[str, Any]) -> int:
    value = params[RECORD_MODE]
    if not _is_int(value) or value not in set(RecordMode):
        raise ApiError(
            "InvalidParameterValue.InvalidRecordMode", f"The value of `{RECORD_MODE}` must be 1, 2 or 3."
        )
    return value


_LIST_CODES = {
    ALLOW: "InvalidParameterValue.InvalidSubscribeUserIds",
    BLOCK: "InvalidParameterValue.InvalidUNSubscribeUserIds",
}


def check_subscription(params: dict[str, Any]) -> dict[str, list[str]] | None:
    """The lists as sent, user IDs as strings; None when absent (all users)."""
    value = params.get(SUBSCRIPTION)
    if value is None:
        return None
    bad = ApiError(
        "InvalidParameterValue.InvalidSubscribeRecordUserIds",
        f"`{SUBSCRIPTION}` must be an object with lists `{ALLOW}` / `{BLOCK}` of user IDs.",
    )
    if not isinstance(value, dict):
        raise bad
    for key in value:
        if key not in _LIST_CODES:
            raise ApiError("UnknownParameter", f"The parameter `{SUBSCRIPTION}.{key}` is not recognized.")
    lists: dict[str, list[str]] = {}
    for key in _LIST_CODES:
        items = value.get(key)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(i, str) or _is_int(i) for i in items):
            raise bad
        lists[key] = [str(i) for i in items]
    for key, code in _LIST_CODES.items():
        if len(lists.get(key, ())) > MAX_USER_IDS:
            raise ApiError(code, f"`{SUBSCRIPTION}.{key}` holds at most {MAX_USER_IDS} user IDs.")
    return lists


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of an API call. An empty body is an empty object."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError("InvalidParameter", "The request body must be a JSON object.")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# --- tasks -----------------------------------------------------------------


def task_users(task: Task) -> list[str]:
    """Who has a file of their own in single-stream mode."""
    lists = task.subscription or {}
    block = set(lists.get(BLOCK, ()))
    base = lists.get(ALLOW) or list(EMULATED_USERS)
    return [user for user in base if user not in block]


@dataclass
class RateLimiter:
    """At most ``limit`` admitted calls in any sliding window of ``window`` seconds.

    ``arrivals``: the time of every call counted, admitted or not, the latest
    ``ARRIVALS_KEPT``: what tests and benchmarks check a client's pacing against.
    """

    limit: int = START_LIMIT_PER_SECOND
    window: float = 1.0
    _times: deque[float] = field(default_factory=deque)
    arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=ARRIVALS_KEPT))

    def admit(self, now: float) -> bool:
        self.arrivals.append(now)
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


Handler = Callable[["RecordingService", dict[str, Any]], dict[str, Any]]


class RecordingService:
    """All tasks of all applications; any valid BizId is accepted.

    `store`: where the tasks are kept (`store.open_store`); in this emulator's memory
    if None. The rate limit is always this emulator's own.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        status_step: float = 1.0,
        rng: random.Random | None = None,
        store: Store | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.clock = clock
        self.status_step = status_step
        self._rng = rng or random.SystemRandom()
        self._lock = threading.Lock()
        self.store: Store = store if store is not None else MemoryStore()
        self._warn = warn
        self._store_failed = False
        self._start_limit = RateLimiter()

    @staticmethod
    def knows(action: str) -> bool:
        return action in ACTIONS

    def call(self, action: str, body: bytes) -> dict[str, Any]:
        """Run one action; the output fields, or ApiError. The caller has checked the signature.

        Order: rate limit (the gateway counts calls before reading them), body,
        missing parameters, unknown parameters, values, then the task rules.
        """
        required, optional, handler = ACTIONS[action]
        if action == "StartRecord":
            with self._lock:
                admitted = self._start_limit.admit(self.clock())
            if not admitted:
                raise ApiError(
                    "RequestLimitExceeded",
                    f"The request frequency of `{action}` exceeds the limit of "
                    f"{START_LIMIT_PER_SECOND} per second. Please reduce the frequency of calls.",
                )
        params = parse_body(body)
        for name in required:
            if name not in params:
                raise ApiError("MissingParameter", f"The request is missing a required parameter `{name}`.")
        for name in params:
            if name not in required and name not in optional:
                raise ApiError("UnknownParameter", f"The parameter `{name}` is not recognized.")
        try:
            return handler(self, params)
        except sqlite3.Error as error:  # the state file broke under this emulator: an answer, not a crash
            self._store_broke(error)
            raise ApiError(
                "InternalError", "The emulator could not read or write its state file; nothing was done."
            ) from None

    def _store_broke(self, error: sqlite3.Error) -> None:
        if self._warn is not None and not self._store_failed:
            self._store_failed = True
            self._warn(f"the emulator's state file {self.store.path} failed ({str(error)[:200]})")

    def start_arrivals(self) -> list[float]:
        """When each StartRecord reached the rate limit (the service's clock), oldest first."""
        with self._lock:
            return list(self._start_limit.arrivals)

    def tasks(self) -> list[Task]:
        """A copy of every task, for tests and the verbose log."""
        with self.store.transaction() as tasks:
            return [Task(**vars(t)) for t in tasks.all()]

    # --- the five actions (called with params already shape-checked) ------

    def _start(self, params: dict[str, Any]) -> dict[str, Any]:
        biz, room, mode = check_biz_id(params), check_room_id(params), check_record_mode(params)
        lists = check_subscription(params)
        with self.store.transaction() as tasks:
            if tasks.running(biz, room) is not None:
                raise ApiError(
                    "ResourceInUse.TaskInUse", f"A recording task is already running in room `{room}`."
                )
            while True:
                task_id = self._rng.randint(TASK_ID_MIN, TASK_ID_MAX)
                if tasks.task(task_id) is None:
                    break
            tasks.add(Task(task_id, biz, room, mode, lists, int(self.clock())))
        return {"TaskId": task_id}

    def _stop(self, params: dict[str, Any]) -> dict[str, Any]:
        biz, task_id = check_biz_id(params), check_task_id(params)
        with self.store.transaction() as tasks:
            task = _running_task(tasks.task(task_id), biz, task_id)
            task.stopped_at = self.clock()
            tasks.save(task)
        return {}

    def _describe_task(self, params: dict[str, Any]) -> dict[str, Any]:
        biz, room = check_biz_id(params), check_room_id(params)
        with self.store.transaction() as tasks:
            task_id = tasks.running(biz, room)
            task = None if task_id is None else tasks.task(task_id)
            if task is None:
                raise ApiError(
                    "ResourceNotFound.TaskNotFound", f"No recording task is running in room `{room}`."
                )
            return {
                "TaskId": task.task_id,
                "RecordMode": task.mode,
                SUBSCRIPTION: _copy_lists(task.subscription),
            }

    def _describe_record(self, params: dict[str, Any]) -> dict[str, Any]:
        biz, task_id = check_biz_id(params), check_task_id(params)
        with self.store.transaction() as tasks:
            task = tasks.task(task_id)
            if task is None or task.biz_id != biz:
                raise _task_not_found(task_id)
            status = self._status(task)
            users = task_users(task) if task.mode in (RecordMode.SINGLE, RecordMode.BOTH) else []
            if task.mode in (RecordMode.MIXED, RecordMode.BOTH):
                users.append(MIXED_USER)
            records = [
                {
                    "UserId": user,
                    "FileName": _file_name(task, user),
                    "RecordBeginTime": task.begin_time,
                    "RecordStatus": status,
                }
                for user in users
            ]
            return {"RoomId": task.room_id, "RecordMode": task.mode, "RecordInfo": records}

    def _modify(self, params: dict[str, Any]) -> dict[str, Any]:
        biz, task_id, mode = check_biz_id(params), check_task_id(params), check_record_mode(params)
        lists = check_subscription(params)
        with self.store.transaction() as tasks:
            task = _running_task(tasks.task(task_id), biz, task_id)
            task.mode = mode
            task.subscription = lists
            tasks.save(task)
        return {}

    def _status(self, task: Task) -> int:
        if task.stopped_at is None:
            return STATUS_RECORDING
        if self.status_step <= 0:
            return STATUS_AFTER_STOP[-1]
        steps = math.floor((self.clock() - task.stopped_at) / self.status_step)
        return STATUS_AFTER_STOP[max(0, min(steps, len(STATUS_AFTER_STOP) - 1))]


def _running_task(task: Task | None, biz: int, task_id: int) -> Task:
    if task is None or task.biz_id != biz or task.stopped_at is not None:
        raise _task_not_found(task_id)
    return task


def _task_not_found(task_id: int) -> ApiError:
    return ApiError(
        "ResourceNotFound.TaskNotFound", f"The task `{task_id}` does not exist or is not running."
    )


def _copy_lists(lists: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
    return None if lists is None else {key: list(value) for key, value in lists.items()}


def _file_name(task: Task, user: str) -> str:
    kind = "mix" if user == MIXED_USER else f"user_{user}"
    return f"{task.biz_id}_{task.room_id}_{task.task_id}_{kind}_{task.begin_time}.mp3"


#: action name -> (required parameters, optional parameters, handler)
ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], Handler]] = {
    "StartRecord": ((BIZ_ID, ROOM_ID, RECORD_MODE), (SUBSCRIPTION,), RecordingService._start),
    "StopRecord": ((BIZ_ID, TASK_ID), (), RecordingService._stop),
    "DescribeTaskInfo": ((BIZ_ID, ROOM_ID), (), RecordingService._describe_task),
    "DescribeRecordInfo": ((BIZ_ID, TASK_ID), (), RecordingService._describe_record),
    "ModifyRecordInfo": ((BIZ_ID, TASK_ID, RECORD_MODE), (SUBSCRIPTION,), RecordingService._modify),
}
