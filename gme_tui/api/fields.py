"""The one home of every input rule.

Each parser takes the operator's text and returns the typed value, or raises
`FieldError` naming the field and the rule it broke. The command line, the form
and batch files all call these; nothing else decides what is valid.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

UINT64_MAX = 2**64 - 1
INT64_MAX = 2**63 - 1
USER_ID_MIN_EXCLUSIVE = 10000
MAX_USER_IDS = 20
ROOM_ID_MAX = 127
OPENID_MAX = 127

BIZ_ID = "BizId"
ROOM_ID = "RoomId"
RECORD_MODE = "RecordMode"
TASK_ID = "TaskId"
ALLOW = "SubscribeUserIds"
BLOCK = "UnSubscribeUserIds"
#: the object that holds ALLOW and BLOCK in requests and answers
SUBSCRIPTION = "SubscribeRecordUserIds"

_DIGITS = re.compile(r"[0-9]+")
_SEPARATORS = re.compile(r"[,\s]+")
#: how much of a bad value a message quotes: enough to recognise it, never a flood
QUOTE_MAX = 80


class FieldError(ValueError):
    """A value broke a rule. `str()` reads `Field: rule`."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class FieldWarning:
    """Something the operator must see before sending, but may send anyway."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class RecordMode(IntEnum):
    SINGLE = 1
    MIXED = 2
    BOTH = 3

    @property
    def words(self) -> str:
        return _MODE_WORDS[self]

    @property
    def short(self) -> str:
        """`single`, `mixed`, `both`: the mode's name, also accepted as input."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """`2 (mixed: one file for the room)`: the number the API takes and what it means."""
        return f"{int(self)} ({self.words})"


_MODE_WORDS = {
    RecordMode.SINGLE: "single stream: one file per user",
    RecordMode.MIXED: "mixed: one file for the room",
    RecordMode.BOTH: "both: a file per user and one for the room",
}
_MODE_NAMES = {key: mode for mode in RecordMode for key in (str(int(mode)), mode.short)}


def quote(value: object, *, bare: bool = False) -> str:
    """A bad value as a message shows it: quoted with its control and invisible characters
    escaped (`repr`), or with `bare` as it is when it is plain ASCII digits (a number reads
    better unquoted); a value over `QUOTE_MAX` characters is cut, and its length said.
    Every rule shows values through here."""
    if not isinstance(value, str):  # a number or a list from a file: as Python writes it, escaped
        text = repr(value)
        return text if len(text) <= QUOTE_MAX else f"{text[:QUOTE_MAX]}… ({len(text)} characters)"
    text = value
    cut = text[:QUOTE_MAX]
    shown = cut if bare and _DIGITS.fullmatch(cut) else repr(cut)
    return shown if len(text) <= QUOTE_MAX else f"{shown}… ({len(text)} characters)"


def whole_number(value: str, top: int) -> int | None:
    """Decimal digits from 1 to `top` as a number, else None. The length is compared
    first: int() refuses strings of thousands of digits."""
    if not _DIGITS.fullmatch(value) or len(value.lstrip("0")) > len(str(top)):
        return None
    number = int(value)
    return number if 1 <= number <= top else None


def _unsigned(text: str, name: str, what: str) -> int:
    value = text.strip()
    if not value:
        raise FieldError(name, f"is required ({what})")
    if not _DIGITS.fullmatch(value):
        raise FieldError(name, f"must be decimal digits only, 1 to {UINT64_MAX} (got {quote(value)})")
    number = whole_number(value, UINT64_MAX)
    if number is None:
        raise FieldError(name, f"must be from 1 to {UINT64_MAX} (got {quote(value, bare=True)})")
    return number


def parse_biz_id(text: str) -> int:
    return _unsigned(text, BIZ_ID, "the application ID")


def parse_task_id(text: str) -> int:
    return _unsigned(text, TASK_ID, "the recording task ID")


def parse_room_id(text: str) -> str:
    if text == "":
        raise FieldError(ROOM_ID, "is required (1 to 127 characters)")
    if len(text) > ROOM_ID_MAX:
        raise FieldError(ROOM_ID, f"must be at most {ROOM_ID_MAX} characters (has {len(text)})")
    if text != text.strip():
        raise FieldError(ROOM_ID, "must not start or end with blanks")
    if any(is_control(ch) for ch in text):
        raise FieldError(ROOM_ID, "must not contain control or invisible formatting characters")
    if not _sendable(text):
        raise FieldError(ROOM_ID, "must be valid text (it holds a byte that is not UTF-8)")
    return text


def parse_record_mode(text: str) -> RecordMode:
    value = text.strip().lower()
    if not value:
        raise FieldError(RECORD_MODE, "is required: 1 single, 2 mixed or 3 both")
    try:
        return _MODE_NAMES[value]
    except KeyError:
        raise FieldError(
            RECORD_MODE, f"must be 1, 2, 3 or single, mixed, both (got {quote(text.strip())})"
        ) from None


def parse_user_ids(text: str, field: str = ALLOW, *, relaxed: bool = False) -> tuple[str, ...]:
    """IDs separated by commas, blanks or new lines; empty text is an empty list."""
    ids = split_user_ids(text)
    for user_id in ids:
        _check_user_id(user_id, field, relaxed)
    seen: set[str] = set()
    for user_id in ids:
        if user_id in seen:
            raise FieldError(field, f"lists {quote(user_id, bare=True)} twice")
        seen.add(user_id)
    if len(ids) > MAX_USER_IDS:
        raise FieldError(field, f"holds at most {MAX_USER_IDS} IDs (has {len(ids)})")
    return ids


def split_user_ids(text: str) -> tuple[str, ...]:
    """The IDs in a list's text, as the operator separated them (for counts as they type)."""
    return tuple(part for part in _SEPARATORS.split(text) if part)


def _check_user_id(user_id: str, field: str, relaxed: bool) -> None:
    if relaxed:
        if len(user_id) > OPENID_MAX:
            raise FieldError(field, f"an ID has at most {OPENID_MAX} characters ({quote(user_id)})")
        if any(is_control(ch) for ch in user_id):
            raise FieldError(
                field, f"an ID must not contain control or invisible formatting characters ({quote(user_id)})"
            )
        if not _sendable(user_id):
            raise FieldError(
                field, f"an ID must be valid text, not bytes that are not UTF-8 ({quote(user_id)})"
            )
        return
    if not _DIGITS.fullmatch(user_id):
        raise FieldError(
            field,
            f"{quote(user_id)} is not a decimal user ID (string OpenIDs need relaxed user IDs)",
        )
    if len(user_id) > 1 and user_id[0] == "0":
        raise FieldError(field, f"{quote(user_id, bare=True)} has a leading zero (IDs are sent as written)")
    if len(user_id) > 19:
        raise FieldError(field, f"{quote(user_id, bare=True)} is over the Int64 limit {INT64_MAX}")
    number = int(user_id)
    if number <= USER_ID_MIN_EXCLUSIVE:
        raise FieldError(field, f"{quote(user_id, bare=True)} must be greater than {USER_ID_MIN_EXCLUSIVE}")
    if number > INT64_MAX:
        raise FieldError(field, f"{quote(user_id, bare=True)} is over the Int64 limit {INT64_MAX}")


def _sendable(text: str) -> bool:
    """Text that UTF-8 can carry: a bad byte in argv arrives as a lone surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_control(ch: str) -> bool:
    """Control characters, and invisible ones that spoof what a screen shows (U+202E, U+200B...)."""
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0 or code in (0x2028, 0x2029):
        return True
    return code > 0x7F and unicodedata.category(ch) == "Cf"


@dataclass(frozen=True)
class Subscription:
    """The allowlist and blocklist of a recording (SubscribeRecordUserIds)."""

    allow: tuple[str, ...] = ()
    block: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.allow or self.block)


def check_subscription(
    allow: tuple[str, ...], block: tuple[str, ...]
) -> tuple[Subscription, list[FieldWarning]]:
    """Rules across the two lists: an ID in both is an error, both set a warning."""
    blocked = set(block)
    both = [user_id for user_id in allow if user_id in blocked]
    if both:
        raise FieldError(
            BLOCK, f"{quote(both[0], bare=True)} is also in {ALLOW}; an ID may be in one list only"
        )
    warnings = []
    if allow and block:
        warnings.append(
            FieldWarning(
                BLOCK,
                f"both {ALLOW} and {BLOCK} are set; the service documents only one at a time",
            )
        )
    return Subscription(allow, block), warnings


@dataclass
class Checked:
    """Every field of a form checked at once: values, errors and warnings."""

    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, FieldError] = field(default_factory=dict)
    warnings: list[FieldWarning] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def run(self, name: str, parse: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        try:
            self.values[name] = parse(*args, **kwargs)
        except FieldError as error:
            self.errors.setdefault(error.field, error)


def check_lists(checked: Checked, allow_text: str, block_text: str, relaxed: bool) -> None:
    checked.run(ALLOW, parse_user_ids, allow_text, ALLOW, relaxed=relaxed)
    checked.run(BLOCK, parse_user_ids, block_text, BLOCK, relaxed=relaxed)
    allow, block = checked.values.get(ALLOW), checked.values.get(BLOCK)
    if isinstance(allow, tuple) and isinstance(block, tuple):  # both lists parsed
        try:
            sub, warnings = check_subscription(allow, block)
        except FieldError as error:
            checked.errors.setdefault(error.field, error)
        else:
            checked.values["Subscription"] = sub
            checked.warnings.extend(warnings)


def check_start(
    biz_id: str, room_id: str, mode: str, allow: str = "", block: str = "", *, relaxed: bool = False
) -> Checked:
    """The StartRecord form in one call: every field's verdict."""
    return _check_recording(biz_id, (ROOM_ID, parse_room_id, room_id), mode, allow, block, relaxed)


def check_modify(
    biz_id: str, task_id: str, mode: str, allow: str = "", block: str = "", *, relaxed: bool = False
) -> Checked:
    """The ModifyRecordInfo form: as StartRecord, but aimed at a task, not a room."""
    return _check_recording(biz_id, (TASK_ID, parse_task_id, task_id), mode, allow, block, relaxed)


def _check_recording(
    biz_id: str,
    target: tuple[str, Callable[[str], object], str],
    mode: str,
    allow: str,
    block: str,
    relaxed: bool,
) -> Checked:
    checked = Checked()
    checked.run(BIZ_ID, parse_biz_id, biz_id)
    checked.run(*target)
    checked.run(RECORD_MODE, parse_record_mode, mode)
    check_lists(checked, allow, block, relaxed)
    return checked


#: the service's own address (the console and the command line choose another with --endpoint)
DEFAULT_ENDPOINT = "https://gme.tencentcloudapi.com"
