"""The five recording actions: what goes out and what comes back.

BizId, RecordMode and TaskId go out as JSON integers, user IDs as JSON strings.
Responses are read from Python's `json`, which keeps integers exact. Every field
read is shape-checked: a TaskId that arrives as a float, a string or a bool, a
RecordMode of 2.0, an allowlist that is a string, is a bad answer naming the
field, never a silently rounded number or a success that reads wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from . import fields
from .fields import ALLOW, BLOCK, SUBSCRIPTION, UINT64_MAX, RecordMode, Subscription


class ResponseShapeError(ValueError):
    """The Response object does not have the shape the action promises."""


def encode_body(params: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, UTF-8, keys in a stable order."""
    return json.dumps(params, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _subscription_params(sub: Subscription | None) -> dict[str, Any]:
    if not sub:
        return {}
    inner: dict[str, list[str]] = {}
    if sub.allow:
        inner[ALLOW] = list(sub.allow)
    if sub.block:
        inner[BLOCK] = list(sub.block)
    return {SUBSCRIPTION: inner}


@dataclass(frozen=True)
class Action:
    """A request of one action; subclasses name it and list its parameters."""

    name: ClassVar[str]
    #: may the service have acted if we do not know the outcome? Then never retry.
    idempotent: ClassVar[bool] = False

    def params(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def parse(cls, response: dict[str, Any]) -> Result:
        return Result(request_id=_request_id(response), raw=response)

    @property
    def room_id(self) -> str | None:
        return getattr(self, "room", None)


@dataclass(frozen=True)
class StartRecord(Action):
    name: ClassVar[str] = "StartRecord"
    biz_id: int
    room: str
    mode: RecordMode
    subscription: Subscription | None = None

    def params(self) -> dict[str, Any]:
        return {
            "BizId": self.biz_id,
            "RoomId": self.room,
            "RecordMode": int(self.mode),
            **_subscription_params(self.subscription),
        }

    @classmethod
    def parse(cls, response: dict[str, Any]) -> StartRecordResult:
        return StartRecordResult(request_id=_request_id(response), raw=response, task_id=_task_id(response))


@dataclass(frozen=True)
class StopRecord(Action):
    name: ClassVar[str] = "StopRecord"
    biz_id: int
    task_id: int

    def params(self) -> dict[str, Any]:
        return {"BizId": self.biz_id, "TaskId": self.task_id}


@dataclass(frozen=True)
class DescribeTaskInfo(Action):
    name: ClassVar[str] = "DescribeTaskInfo"
    idempotent: ClassVar[bool] = True
    biz_id: int
    room: str

    def params(self) -> dict[str, Any]:
        return {"BizId": self.biz_id, "RoomId": self.room}

    @classmethod
    def parse(cls, response: dict[str, Any]) -> TaskInfoResult:
        return TaskInfoResult(
            request_id=_request_id(response),
            raw=response,
            task_id=_task_id(response),
            mode=_mode(response.get("RecordMode")),
            subscription=_subscription(response.get(SUBSCRIPTION)),
        )


@dataclass(frozen=True)
class DescribeRecordInfo(Action):
    name: ClassVar[str] = "DescribeRecordInfo"
    idempotent: ClassVar[bool] = True
    biz_id: int
    task_id: int

    def params(self) -> dict[str, Any]:
        return {"BizId": self.biz_id, "TaskId": self.task_id}

    @classmethod
    def parse(cls, response: dict[str, Any]) -> RecordInfoResult:
        records = response.get("RecordInfo")
        if records is None:
            records = []
        if not isinstance(records, list):
            raise ResponseShapeError(f"RecordInfo is {_shown(records)}, not a list")
        return RecordInfoResult(
            request_id=_request_id(response),
            raw=response,
            room=_string(response, "RoomId", "RoomId"),
            mode=_mode(response.get("RecordMode")),
            records=[RecordInfo.from_json(item) for item in records],
        )


@dataclass(frozen=True)
class ModifyRecordInfo(Action):
    name: ClassVar[str] = "ModifyRecordInfo"
    biz_id: int
    task_id: int
    mode: RecordMode
    subscription: Subscription | None = None

    def params(self) -> dict[str, Any]:
        return {
            "BizId": self.biz_id,
            "TaskId": self.task_id,
            "RecordMode": int(self.mode),
            **_subscription_params(self.subscription),
        }


def from_checked(name: str, checked: fields.Checked) -> StartRecord | ModifyRecordInfo:
    """The request a valid form describes (`fields.check_start` / `check_modify`)."""
    v = checked.values
    biz_id, mode, sub = v[fields.BIZ_ID], v[fields.RECORD_MODE], v.get("Subscription") or None
    # Checked holds each parser's output as `object`: say here what a valid form must hold.
    if not (
        isinstance(biz_id, int)
        and isinstance(mode, RecordMode)
        and (sub is None or isinstance(sub, Subscription))
    ):
        raise TypeError(f"not the values of a valid form: {v!r}")
    if name == StartRecord.name:
        room = v[fields.ROOM_ID]
        if not isinstance(room, str):
            raise TypeError(f"{fields.ROOM_ID} is {room!r}, not text")
        return StartRecord(biz_id, room, mode, sub)
    task_id = v[fields.TASK_ID]
    if not isinstance(task_id, int):
        raise TypeError(f"{fields.TASK_ID} is {task_id!r}, not an integer")
    return ModifyRecordInfo(biz_id, task_id, mode, sub)


ACTIONS: dict[str, type[Action]] = {
    cls.name: cls for cls in (StartRecord, StopRecord, DescribeTaskInfo, DescribeRecordInfo, ModifyRecordInfo)
}


# --- results ---------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    request_id: str
    raw: dict[str, Any] = field(repr=False)

    @property
    def task_id_value(self) -> int | None:
        return getattr(self, "task_id", None)


@dataclass(frozen=True)
class StartRecordResult(Result):
    task_id: int = 0


@dataclass(frozen=True)
class TaskInfoResult(Result):
    task_id: int = 0
    mode: RecordMode | None = None
    subscription: Subscription | None = None


def ids_text(ids: tuple[str, ...]) -> str:
    """A list of user IDs for reading, `-` when empty."""
    return ", ".join(ids) or "-"


RECORD_STATUS = {
    2: "recording",
    10: "waiting for transcoding",
    11: "transcoding",
    12: "uploading",
    13: "uploaded",
    14: "done",
}


@dataclass(frozen=True)
class RecordInfo:
    user_id: str
    file_name: str
    begin_time: int
    status: int

    @property
    def status_words(self) -> str:
        return RECORD_STATUS.get(self.status, f"status {self.status}")

    @property
    def status_text(self) -> str:
        """`2 recording`: the number the service sends and what it means."""
        return f"{self.status} {self.status_words}"

    @property
    def user_text(self) -> str:
        """User 0 is the mixed recording of the whole room."""
        return "0 (mixed)" if self.user_id == "0" else self.user_id

    @classmethod
    def from_json(cls, item: Any) -> RecordInfo:
        if not isinstance(item, dict):
            raise ResponseShapeError("a RecordInfo entry is not an object")
        return cls(
            user_id=_user_id(item.get("UserId", ""), "RecordInfo.UserId"),
            file_name=_string(item, "FileName", "RecordInfo.FileName"),
            begin_time=_time(item.get("RecordBeginTime")),
            status=_optional_integer(item, "RecordStatus") or 0,
        )

    @property
    def begin_text(self) -> str:
        """When the recording began, `YYYY-MM-DD HH:MM:SS` (UTC); `-` when not said; the
        number as it came when it is before 1970 or no calendar holds it (a broken answer)."""
        if not self.begin_time:
            return "-"
        if self.begin_time < 0:
            return str(self.begin_time)
        try:
            return datetime.fromtimestamp(self.begin_time, UTC).strftime("%Y-%m-%d %H:%M:%S")
        except (OverflowError, OSError, ValueError):
            return str(self.begin_time)


@dataclass(frozen=True)
class RecordInfoResult(Result):
    room: str = ""
    mode: RecordMode | None = None
    records: list[RecordInfo] = field(default_factory=list)


# --- helpers ---------------------------------------------------------------


def _request_id(response: dict[str, Any]) -> str:
    value = response.get("RequestId")
    if not isinstance(value, str) or not value:
        raise ResponseShapeError("no RequestId in the Response object")
    return value


def _optional_integer(obj: dict[str, Any], key: str) -> int | None:
    return None if obj.get(key) is None else _integer(obj, key)


def _exact(value: Any, key: str, low: int, high: int) -> int:
    """A JSON integer from `low` to `high`: never a bool (an int to Python), a float or text."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    shown = _shown(value)
    raise ResponseShapeError(f"{key} is {shown}, not an exact integer from {low} to {_bound(high)}")


def _integer(obj: dict[str, Any], key: str) -> int:
    return _exact(obj.get(key), key, 0, UINT64_MAX)


def _task_id(response: dict[str, Any]) -> int:
    """A TaskId the service made: 1 to 2**64-1 (0 names no task)."""
    return _exact(response.get(fields.TASK_ID), fields.TASK_ID, 1, UINT64_MAX)


#: the widest a unix time can come (any 64-bit integer, signed or not): shown as it is
#: when no calendar holds it, refused beyond (a number of a thousand digits is no time)
_TIME_LOW, _TIME_HIGH = -(2**63), UINT64_MAX


def _time(value: Any) -> int:
    """RecordBeginTime in unix seconds; 0 when not said."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and _TIME_LOW <= value <= _TIME_HIGH:
        return value
    raise ResponseShapeError(f"RecordBeginTime is {_shown(value)}, not a 64-bit integer of unix seconds")


def _bound(high: int) -> str:
    return "2**64-1" if high == UINT64_MAX else str(high)


def _shown(value: Any) -> str:
    """A value of the answer as an error message names it: its type for a container or a
    long value (the message must stay short), else its JSON-ish repr."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"text {value[:40]!r}" + ("…" if len(value) > 40 else "")
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    if value is None:
        return "missing"
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _string(obj: dict[str, Any], key: str, name: str) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str):
        raise ResponseShapeError(f"{name} is {_shown(value)}, not text")
    return value


def _user_id(value: Any, name: str) -> str:
    """A user ID: text, as the schema says, or an exact integer (the seed's examples send them so)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ResponseShapeError(f"{name} is {_shown(value)}, not a user ID")


def _mode(value: Any) -> RecordMode | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value in set(RecordMode):
        return RecordMode(value)
    raise ResponseShapeError(f"RecordMode is {_shown(value)}, not 1, 2 or 3")


def _user_ids(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ResponseShapeError(f"{name} is {_shown(value)}, not a list of user IDs")
    return tuple(_user_id(item, f"an entry of {name}") for item in value)


def _subscription(value: Any) -> Subscription | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ResponseShapeError(f"{SUBSCRIPTION} is {_shown(value)}, not an object")
    return Subscription(
        allow=_user_ids(value.get(ALLOW), f"{SUBSCRIPTION}.{ALLOW}"),
        block=_user_ids(value.get(BLOCK), f"{SUBSCRIPTION}.{BLOCK}"),
    )
