"""Text from outside (the service, a file, an exception's message) made safe to show.

No escape sequences, no invisible characters that reorder or hide what is shown:
each prints as \\uXXXX. Both the command line and the console show outside text
through here.
"""

from __future__ import annotations

import unicodedata


def clean(text: object) -> str:
    """`text` with every control or format character but the new line escaped."""
    return "".join(
        ch if ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cf") else f"\\u{ord(ch):04x}"
        for ch in str(text)
    )


def failure_text(error: BaseException | None, limit: int = 300) -> str:
    """An exception in one line, safe to show: its type and text, no traceback, bounded
    (its text may come from outside: a path, an answer)."""
    if error is None:
        return "unknown error"
    text = " ".join(str(error).split())
    said = clean(f"{type(error).__name__}: {text}" if text else type(error).__name__)
    return said if len(said) <= limit else said[: limit - 1] + "…"
