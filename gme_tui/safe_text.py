"""Text from outside (the service, a file, an exception's message) made safe to show.

No escape sequences, no invisible characters that reorder or hide what is shown:
each prints as \\uXXXX. Both the command line and the console show outside text
through here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

#: control (C0, DEL, C1), format (bidi, zero-width, tags) and lone surrogates, which
#: cannot even be written out as UTF-8
_ESCAPED = ("Cc", "Cf", "Cs")


def _replaced(text: str, replace: Callable[[str], str], keep_lines: bool = True) -> str:
    """`text` with `replace` applied to each such character (but the new line, when kept)."""
    if ("".join(text.split("\n")) if keep_lines else text).isprintable():  # none (C speed): the usual case
        return text
    return "".join(
        ch if (keep_lines and ch == "\n") or unicodedata.category(ch) not in _ESCAPED else replace(ch)
        for ch in text
    )


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    # A surrogate pair, as JSON writes it: "\ue0001" would read as U+E000 then "1".
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _picture(ch: str) -> str:
    code = ord(ch)
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"


def clean(text: object, *, one_line: bool = False) -> str:
    """`text` with every control, format or surrogate character but the new line escaped;
    `one_line`: the new line too, for what must keep to its line (a code, an ID, a name),
    where a break would draw a line of its own that the service never said.

    Applied to JSON text it keeps the JSON exact: such characters can stand only
    inside strings, where `\\uXXXX` means the same character."""
    return _replaced(str(text), _escape, keep_lines=not one_line)


def marked(text: str) -> str:
    """`text` with each character `clean` escapes, and the new line, shown as one visible
    character instead: C0 and DEL as their control pictures (␛ for ESC, ␊ for a new
    line), any other as �. For a line being edited, where the cursor counts characters:
    nothing moves, and nothing is raw (a new line pasted into a field of one line would
    draw a line of its own over the screen)."""
    return _replaced(text, _picture, keep_lines=False)


def failure_text(error: BaseException | None, limit: int = 300) -> str:
    """An exception in one line, safe to show: its type and text, no traceback, bounded
    (its text may come from outside: a path, an answer)."""
    if error is None:
        return "unknown error"
    text = " ".join(str(error).split())
    said = clean(f"{type(error).__name__}: {text}" if text else type(error).__name__)
    return said if len(said) <= limit else said[: limit - 1] + "…"
