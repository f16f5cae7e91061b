"""The GME recording service: fields, actions, signing, client, errors.

Nothing here touches the disk or the screen, so the command line, the app and
the emulator can all stand on it. The names below are the public surface; the
client's (which bring httpx) load on first use, so importing the package for
its rules costs no HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .actions import (
    ACTIONS,
    Action,
    DescribeRecordInfo,
    DescribeTaskInfo,
    ModifyRecordInfo,
    RecordInfo,
    RecordInfoResult,
    ResponseShapeError,
    Result,
    StartRecord,
    StartRecordResult,
    StopRecord,
    TaskInfoResult,
)
from .errors import (
    BadAnswerError,
    Explanation,
    GmeError,
    NotSentError,
    OutcomeKind,
    OutcomeUnknownError,
    ServiceError,
    TransportError,
    explain,
)
from .fields import Checked, FieldError, FieldWarning, RecordMode, Subscription, check_modify, check_start
from .signing import SigningKey

if TYPE_CHECKING:
    from .client import GmeClient, Prepared, RateLimiter, SyncGmeClient

_LAZY = {"GmeClient", "SyncGmeClient", "Prepared", "RateLimiter"}

__all__ = [
    "ACTIONS",
    "Action",
    "BadAnswerError",
    "Checked",
    "DescribeRecordInfo",
    "DescribeTaskInfo",
    "Explanation",
    "FieldError",
    "FieldWarning",
    "GmeClient",
    "GmeError",
    "ModifyRecordInfo",
    "NotSentError",
    "OutcomeKind",
    "OutcomeUnknownError",
    "Prepared",
    "RateLimiter",
    "RecordInfo",
    "RecordInfoResult",
    "RecordMode",
    "ResponseShapeError",
    "Result",
    "ServiceError",
    "SigningKey",
    "StartRecord",
    "StartRecordResult",
    "StopRecord",
    "Subscription",
    "SyncGmeClient",
    "TaskInfoResult",
    "TransportError",
    "check_modify",
    "check_start",
    "explain",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
