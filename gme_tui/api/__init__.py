"""The GME recording service: fields, actions, signing, client, errors.

Nothing here touches the disk or the screen, so the command line, the app and
the emulator can all stand on it. The names below are the public surface. Each
loads with its module on first use: importing one rule (`api.fields`) costs
neither the actions nor the HTTP stack, which the console loads only to send.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from .client import GmeClient, Prepared, RateLimiter, SyncGmeClient
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

#: where each public name lives; a submodule loads when one of its names is first asked for
_HOMES = {
    **dict.fromkeys(
        (
            "ACTIONS",
            "Action",
            "DescribeRecordInfo",
            "DescribeTaskInfo",
            "ModifyRecordInfo",
            "RecordInfo",
            "RecordInfoResult",
            "ResponseShapeError",
            "Result",
            "StartRecord",
            "StartRecordResult",
            "StopRecord",
            "TaskInfoResult",
        ),
        "actions",
    ),
    **dict.fromkeys(("GmeClient", "Prepared", "RateLimiter", "SyncGmeClient"), "client"),
    **dict.fromkeys(
        (
            "BadAnswerError",
            "Explanation",
            "GmeError",
            "NotSentError",
            "OutcomeKind",
            "OutcomeUnknownError",
            "ServiceError",
            "TransportError",
            "explain",
        ),
        "errors",
    ),
    **dict.fromkeys(
        (
            "Checked",
            "FieldError",
            "FieldWarning",
            "RecordMode",
            "Subscription",
            "check_modify",
            "check_start",
        ),
        "fields",
    ),
    "SigningKey": "signing",
}

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
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{home}", __name__), name)
