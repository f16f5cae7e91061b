"""What went wrong, in the operator's words, and what to do next.

Three parts: the kinds of outcome a call can have, the exception types the
client raises (service errors and the three kinds of transport failure), and
the catalogue of every error code in the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class OutcomeKind(StrEnum):
    """How a call ended: what the history stores, the exit code tells and the screens show.

    A `StrEnum`, so the value stored in SQLite and printed in JSON is the plain word.
    """

    PENDING = "pending"  # the row is written, the answer not yet in
    OK = "ok"
    SERVICE_ERROR = "service_error"
    NOT_SENT = "not_sent"
    BAD_ANSWER = "bad_answer"
    UNKNOWN = "unknown"
    TRANSPORT_ERROR = "transport_error"
    #: a StartRecord once unknown, reconciled: no task of it runs in its room
    NOT_STARTED = "not_started"

    @property
    def may_have_acted(self) -> bool:
        """The request may have reached the service though no usable answer came."""
        return self in (OutcomeKind.UNKNOWN, OutcomeKind.BAD_ANSWER)

    @property
    def is_transport(self) -> bool:
        """No usable answer came: one of the transport failures."""
        return self in (
            OutcomeKind.NOT_SENT,
            OutcomeKind.BAD_ANSWER,
            OutcomeKind.UNKNOWN,
            OutcomeKind.TRANSPORT_ERROR,
        )


class GmeError(Exception):
    """Any failure of a call. `kind` is what the history records."""

    kind: OutcomeKind = OutcomeKind.TRANSPORT_ERROR


class ServiceError(GmeError):
    """The service answered with Response.Error."""

    kind = OutcomeKind.SERVICE_ERROR

    def __init__(
        self, code: str, message: str, request_id: str | None, raw: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
        #: the whole Response object as the service sent it, when it came from the wire
        self.raw = raw

    @property
    def explanation(self) -> Explanation:
        return explain(self.code)


class TransportError(GmeError):
    """No usable answer. Subclasses say whether the service may have acted."""

    kind = OutcomeKind.TRANSPORT_ERROR
    #: the words shown before the detail
    summary = "transport failure"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.summary}: {detail}")
        self.detail = detail


class NotSentError(TransportError):
    """The request never reached the service (refused, DNS, TLS): safe to retry."""

    kind = OutcomeKind.NOT_SENT
    summary = "not sent"


class OutcomeUnknownError(TransportError):
    """Sent, but no answer came (timeout, connection lost): the service may have acted."""

    kind = OutcomeKind.UNKNOWN
    summary = "outcome unknown"


class BadAnswerError(TransportError):
    """An answer came but is not a valid API response (HTTP status, not JSON, truncated)."""

    kind = OutcomeKind.BAD_ANSWER
    summary = "bad answer"


@dataclass(frozen=True)
class Explanation:
    code: str
    meaning: str
    next_step: str
    known: bool = True


_AUTH_NEXT = "Check the SecretId and SecretKey of this profile (and that the machine's clock is right)."

_CATALOGUE: dict[str, tuple[str, str]] = {
    # StartRecord and the other recording actions (seed page)
    "InternalError": (
        "The service failed internally.",
        "Wait a moment and try again; if it persists, contact Tencent Cloud support with the RequestId.",
    ),
    "InvalidParameter": (
        "A parameter is wrong or malformed.",
        "Check the request body; gme-tui's own checks should catch most of these, so report it.",
    ),
    "InvalidParameterValue.InvalidBizId": (
        "The BizId (application ID) is not valid.",
        "Copy the AppID from the GME console and try again.",
    ),
    "InvalidParameterValue.InvalidRecordMode": (
        "The RecordMode is not 1, 2 or 3.",
        "Choose single (1), mixed (2) or both (3).",
    ),
    "InvalidParameterValue.InvalidRoomId": (
        "The RoomId is not valid.",
        "Use the room's ID as the game client joins it (1 to 127 characters).",
    ),
    "InvalidParameterValue.InvalidSubscribeRecordUserIds": (
        "The allowlist/blocklist is malformed.",
        "Give user IDs as a list of decimal IDs; set only one of the two lists.",
    ),
    "InvalidParameterValue.InvalidSubscribeUserIds": (
        "The allowlist holds more than 20 user IDs.",
        "Keep at most 20 IDs in SubscribeUserIds.",
    ),
    "InvalidParameterValue.InvalidUNSubscribeUserIds": (
        "The blocklist holds more than 20 user IDs.",
        "Keep at most 20 IDs in UnSubscribeUserIds.",
    ),
    "InvalidParameterValue.InvalidTaskId": (
        "The TaskId is not valid.",
        "Use the TaskId StartRecord returned (see the history).",
    ),
    "ResourceInUse.TaskInUse": (
        "A task is already recording this room.",
        "DescribeTaskInfo shows it; stop it to restart with other settings, or modify it.",
    ),
    "ResourceNotFound.RoomNotFound": (
        "The room does not exist (nobody is in it).",
        "Check the RoomId, and that players have entered the room.",
    ),
    "ResourceNotFound.TaskNotFound": (
        "No such task is recording: the TaskId is unknown or stopped, "
        "or no task is recording the room asked about.",
        "Check the TaskId or RoomId in the history; start a recording if none runs.",
    ),
    "ResourceNotFound.BizidIsNotFound": (
        "The BizId does not exist in this account.",
        "Check the AppID in the GME console and the profile's account.",
    ),
    "FailedOperation.TaskExist": (
        "A task already exists for this room.",
        "DescribeTaskInfo shows it; stop it first to start anew.",
    ),
    "FailedOperation.TaskNotExist": (
        "The task does not exist.",
        "Check the TaskId; DescribeTaskInfo shows the room's running task.",
    ),
    "UnauthorizedOperation": (
        "This account may not perform the operation.",
        "Grant the CAM user access to GME recording, or use another profile.",
    ),
    "UnsupportedOperation": (
        "The service does not support this operation here.",
        "Check the region and the application's settings in the GME console.",
    ),
    "UnsupportedOperation.ServiceNotOpened": (
        "Recording is not activated for this application.",
        "Activate the recording service in the GME console, then retry.",
    ),
    "OperationDenied.AccountInArrears": (
        "The account is in arrears.",
        "Top up the Tencent Cloud account, then retry.",
    ),
    "LimitExceeded": (
        "A quota of the service is exceeded.",
        "Stop tasks you no longer need, or ask Tencent Cloud to raise the quota.",
    ),
    # common to every Tencent Cloud API
    "AuthFailure.SignatureFailure": (
        "The signature did not match: the SecretKey is wrong for this SecretId.",
        _AUTH_NEXT,
    ),
    "AuthFailure.SignatureExpire": (
        "The request's timestamp is more than 5 minutes off the service's clock.",
        "Fix this machine's clock (NTP), then retry.",
    ),
    "AuthFailure.SecretIdNotFound": (
        "The SecretId does not exist (deleted or mistyped).",
        "Create or copy a valid key pair in the CAM console and store it again.",
    ),
    "AuthFailure.InvalidSecretId": ("The SecretId is malformed or of the wrong kind.", _AUTH_NEXT),
    "AuthFailure.TokenFailure": (
        "The session token is invalid or expired.",
        "Get fresh temporary credentials with their token.",
    ),
    "AuthFailure.UnauthorizedOperation": (
        "The credentials may not call this action.",
        "Grant the CAM user access to GME, or use another profile.",
    ),
    "RequestLimitExceeded": (
        "Too many requests: the service allows 20 per second.",
        "Wait a second and retry; gme-tui already paces its own calls.",
    ),
    "InvalidAction": ("The service does not know this action.", "Check the endpoint and API version."),
    "MissingParameter": ("A required parameter is missing.", "Fill every required field."),
    "UnknownParameter": (
        "The request holds a parameter the service does not know.",
        "Report it: gme-tui should send only documented fields.",
    ),
    "InvalidParameterValue": (
        "A parameter's value is out of range or malformed.",
        "Check the values against the form's rules and retry.",
    ),
    "ResourceUnavailable": ("The resource is unavailable right now.", "Wait a moment and retry."),
    "RequestSizeLimitExceeded": ("The request is too large.", "Send fewer user IDs."),
    "UnsupportedProtocol": ("The service needs HTTPS or another protocol.", "Use an https:// endpoint."),
    "UnsupportedRegion": (
        "The service is not offered in this region.",
        "Choose another region for this profile, or none.",
    ),
    "NoSuchVersion": (
        "The API version is unknown to the endpoint.",
        "Check that the endpoint is a GME endpoint.",
    ),
    "InvalidRequest": ("The request is malformed.", "Report it with the RequestId."),
}


def explain(code: str) -> Explanation:
    """The catalogue's entry; an unknown code falls back to its family, then to itself."""
    if code in _CATALOGUE:
        return Explanation(code, *_CATALOGUE[code])
    family = code.split(".", 1)[0]
    if family in _CATALOGUE:
        meaning, next_step = _CATALOGUE[family]
        return Explanation(code, meaning, next_step, known=False)
    return Explanation(
        code,
        "An error this tool does not know.",
        "Read the service's message; keep the RequestId for support.",
        known=False,
    )


def known_codes() -> list[str]:
    return sorted(_CATALOGUE)
