"""Outside text as the console draws it: through `safe_text.clean`, never read as markup.

A str handed to a Static, a border title, an option or a palette entry is parsed
as markup ("[/x]" raises), and any text is drawn with its control characters raw
(an escape sequence reaches the terminal). Text from the service, a file, the
environment or the operator goes through one of these instead; Rich renderables
take `Text(clean(...))`, and every toast is cleaned in `GmeApp.notify`.
"""

from __future__ import annotations

from textual.content import Content

from ..safe_text import clean


def content(text: object) -> Content:
    """For Textual: a Static, a border title, an option."""
    return Content(clean(text))


def markup(text: object) -> str:
    """For what takes only markup (the palette's help line): the text, escaped. Only "["
    opens a tag; Textual's own `escape` doubles backslashes that its parser keeps."""
    return clean(text).replace("[", "\\[")
