"""Outside text as the console draws it: through `safe_text.clean`, never read as markup.

A str handed to a Static, a border title, an option or a palette entry is parsed
as markup ("[/x]" raises), and any text is drawn with its control characters raw
(an escape sequence reaches the terminal). Text from the service, a file, the
environment or the operator goes through one of these instead; Rich renderables
take `Text(clean(...))`, every toast is cleaned in `GmeApp.notify`, and every
Input and TextArea draws its text `marked`.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.highlighter import Highlighter
from rich.text import Text
from textual.content import Content

from ..safe_text import clean, marked


def content(text: object) -> Content:
    """For Textual: a Static, a border title, an option; each holds one line (a border
    title would show only what comes before a break)."""
    return Content(clean(text, one_line=True))


def lines(parts: Iterable[object]) -> Content:
    """For a Static of several lines: each part kept to its own line (`content`), so a break
    inside one (from outside) never draws a line of its own."""
    return Content("\n".join(clean(part, one_line=True) for part in parts))


def markup(text: object) -> str:
    """For what takes only markup (the palette's help line): the text, escaped. Only "["
    opens a tag; Textual's own `escape` doubles backslashes that its parser keeps."""
    return clean(text, one_line=True).replace("[", "\\[")


class Marked(Highlighter):
    """For an Input: what is typed, pasted or loaded (a history row, the keyring) drawn with
    each control or invisible character as one visible one (`marked`), so the cursor
    still lands where it is."""

    def __call__(self, text: str | Text) -> Text:
        shown = Text(text) if isinstance(text, str) else text.copy()
        shown.plain = marked(shown.plain)  # as long as before: the styles stay where they were
        return shown

    def highlight(self, text: Text) -> None:
        """Nothing to colour."""


MARKED = Marked()
