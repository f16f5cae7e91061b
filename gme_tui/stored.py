"""What a SQLite store holds, read back shape-checked.

The history and the recordings table live in a file another program (or a hand)
may have changed: every column is checked on the way out, and a value that
breaks its rule is shown as nothing (or escaped) and named, never a crash.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .api.errors import OutcomeKind
from .safe_text import clean

#: the longest text a column is shown with (a stored one is cut there and said to be damaged)
MAX_TEXT = 10_000
#: the longest JSON column read: rows written before answers were cut at 64 KiB may hold a
#: whole answer, up to the 16 MiB the client once took
MAX_JSON = 16 * 1024 * 1024
#: how deep a stored JSON column may nest (params and answers nest two or three levels)
MAX_DEPTH = 32
#: the latest time a row can show (9999-12-31T23:59:59Z, where dates end)
_LAST_TIME = 253_402_300_799.0
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,127}")
_DIGITS = re.compile(r"[0-9]{1,20}")


class Checked:
    """The checks of one stored row's columns; each returns the value to show and notes
    in `damaged` the column and the rule a value broke."""

    def __init__(self) -> None:
        self.damaged: list[str] = []

    def _bad(self, column: str, rule: str) -> None:
        self.damaged.append(f"{column}: {rule}")

    def text(self, column: str, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            self._bad(column, f"not text (a stored {type(value).__name__})")
            return None
        if len(value) > MAX_TEXT:
            self._bad(column, f"longer than {MAX_TEXT} characters")
            return value[:MAX_TEXT] + "…"
        return value

    def name(self, column: str, value: object) -> str | None:
        """An action or an error code: letters, digits and dots, or escaped."""
        text = self.text(column, value)
        if text is None or _NAME.fullmatch(text):
            return text
        self._bad(column, "not a name (letters, digits and dots)")
        return clean(text[:128])

    def digits(self, column: str, value: object) -> str | None:
        """A BizId or TaskId: decimal digits within 64 bits (kept as text, never a float)."""
        text = value if isinstance(value, str) else None
        if value is None or (text is not None and _DIGITS.fullmatch(text) and int(text) < 2**64):
            return text
        self._bad(column, "not a decimal ID of at most 64 bits")
        return None

    def integer(self, column: str, value: object) -> int | None:
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self._bad(column, "not an integer")
        return None

    def number(self, column: str, value: object) -> float | None:
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        self._bad(column, "not a finite number")
        return None

    def time(self, column: str, value: object) -> float | None:
        """Unix seconds a date can show (from 1970 to 9999)."""
        number = self.number(column, value)
        if number is None or 0 <= number <= _LAST_TIME:
            return number
        self._bad(column, "not a time from 1970 to 9999")
        return None

    def json(self, column: str, value: object) -> dict[str, Any] | None:
        """A stored JSON object, bounded in size and depth, with finite numbers only."""
        if not value:
            return None
        if not isinstance(value, str) or len(value) > MAX_JSON:
            self._bad(column, f"not JSON text of at most {MAX_JSON} characters")
            return None
        parsed = stored_json(value)
        if isinstance(parsed, dict) and depth(parsed) <= MAX_DEPTH:
            return parsed
        self._bad(column, f"not a JSON object nested at most {MAX_DEPTH} deep")
        return None

    def outcome(self, value: object) -> OutcomeKind:
        """A stored outcome; one this version does not know (a newer one wrote it) reads as a failure."""
        if isinstance(value, str) and value in tuple(OutcomeKind):
            return OutcomeKind(value)
        self._bad("outcome", f"{clean(str(value)[:40])!r} is not an outcome this version knows")
        return OutcomeKind.TRANSPORT_ERROR


def depth(value: object) -> int:
    """How deep a parsed JSON value nests, without recursion (no stack to run out of)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                todo.extend(
                    (child, level + 1) for child in (item.values() if isinstance(item, dict) else item)
                )
    return deepest


def stored_json(text: str) -> Any:
    """A stored JSON column; one another program broke reads as nothing, never as a crash
    (the row itself, its outcome and ids, stays readable). NaN, Infinity and 1e400 are
    refused: no JSON printed from the row could carry them."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError):
        return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value
