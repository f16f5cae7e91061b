"""Outside text as the console draws it: through `safe_text.clean`, never read as markup.

A str handed to a Static, a border title, an option or a palette entry is parsed
as markup ("[/x]" raises), and any text is drawn with its control characters raw
(an escape sequence reaches the terminal). Text from the service, a file, the
environment or the operator goes through one of these instead; Rich renderables
take `Text(clean(...))`, every toast is cleaned in `GmeApp.notify`, every Input
is a `MarkedInput` and every TextArea draws its lines `marked`.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text
from textual.content import Content
from textual.widgets import Input

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


class MarkedInput(Input):
    """An Input whose value is drawn `marked`: what is typed, pasted or loaded (a history
    row, the keyring) shows each control or invisible character, the new line too, as
    one visible one, so the cursor still lands where it is. Marked before Rich reads
    it, for Rich drops some (a carriage return, a bell) and the cursor, which counts
    characters, would land off its place. A password field draws its dots, as Input's."""

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        return Text(marked(self.value), no_wrap=True, overflow="ignore", end="")

    # Input measures its cursor and its clicks on the raw value, where a control
    # character takes no cell: on what is drawn instead.

    def _position_to_cell(self, position: int) -> int:
        if self.password:
            return super()._position_to_cell(position)
        return cell_len(marked(self.value[:position]))

    def _cell_offset_to_index(self, offset: int) -> int:
        if self.password:
            return super()._cell_offset_to_index(offset)
        shown = marked(self.value)
        offset += self.scroll_offset.x
        cells = 0
        for index, char in enumerate(shown):
            size = get_character_cell_size(char)
            if cells <= offset < cells + size:
                return index
            cells += size
        return max(0, min(offset, len(shown)))
