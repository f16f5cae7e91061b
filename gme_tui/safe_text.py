"""Text from outside (the service, a file, an exception's message) made safe to show.

No escape sequences, no invisible characters that reorder or hide what is shown:
each prints as \\uXXXX. Both the command line and the console show outside text
through here.
"""

from __future__ import annotations

import unicodedata

#: control (C0, DEL, C1), format (bidi, zero-width, tags) and lone surrogates, which
#: cannot even be written out as UTF-8
_ESCAPED = ("Cc", "Cf", "Cs")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    # A surrogate pair, as JSON writes it: "\ue0001" would read as U+E000 then "1".
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def clean(text: object) -> str:
    """`text` with every control, format or surrogate character but the new line escaped.

    Applied to JSON text it keeps the JSON exact: such characters can stand only
    inside strings, where `\\uXXXX` means the same character."""
    text = str(text)
    if "".join(text.split("\n")).isprintable():  # none of them (C speed): the usual case
        return text
    return "".join(
        ch if ch == "\n" or unicodedata.category(ch) not in _ESCAPED else _escape(ch) for ch in text
    )


def failure_text(error: BaseException | None, limit: int = 300) -> str:
    """An exception in one line, safe to show: its type and text, no traceback, bounded
    (its text may come from outside: a path, an answer)."""
    if error is None:
        return "unknown error"
    text = " ".join(str(error).split())
    said = clean(f"{type(error).__name__}: {text}" if text else type(error).__name__)
    return said if len(said) <= limit else said[: limit - 1] + "…"
