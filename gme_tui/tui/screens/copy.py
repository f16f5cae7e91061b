"""Copy what an operator pastes elsewhere: the ids of an answer, its files, the raw
answer, and the same request as a `gme-tui` or `tccli` command line."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static

from ...safe_text import clean
from ..widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from ...context import Context
    from ..views import ResponseView

#: a choice: what it is ("RequestId"), and the text that goes to the clipboard
Choice = tuple[str, str]
RAW = "The raw answer (JSON)"

WHAT_WIDTH = 24


def copy_choices(
    view: ResponseView | None, task_id: int | None, config: Context, endpoint: str, profile: str
) -> list[Choice]:
    """What there is to copy now. `endpoint`, `profile`: where the view's request went (its
    history row's), which the command lines aim at, whatever profile is in use now."""
    from ...answers import gme_tui_line, tccli_line
    from ...api.actions import ACTIONS, RecordInfoResult
    from ...context import DEMO_SCOPE, aimed_command
    from ...options import DEFAULT_ENDPOINT

    choices: list[Choice] = []
    if task_id is not None:
        choices.append(("TaskId", str(task_id)))
    if view is None:
        return choices
    if view.request_id:
        choices.append(("RequestId", view.request_id))
    result = view.result()
    if isinstance(result, RecordInfoResult):
        choices += [(f"File of user {r.user_text}", r.file_name) for r in result.records if r.file_name]
    if view.response is not None:
        choices.append((RAW, view.raw_json()))
    if view.action in ACTIONS and view.params:
        demo = endpoint == DEMO_SCOPE
        aimed = config if demo == config.demo and endpoint == config.scope else None
        if aimed is None:  # a row of another endpoint or profile: the line goes there
            aimed = replace(config, demo=demo, endpoint=config.endpoint if demo else endpoint)
        aimed = replace(aimed, profile=profile)
        choices.append(("gme-tui command line", gme_tui_line(aimed_command(aimed), view.action, view.params)))
        url = aimed.endpoint
        choices.append(
            (
                "tccli command line",
                tccli_line(
                    view.action,
                    view.params,
                    endpoint=None if url == DEFAULT_ENDPOINT else url,
                    region=aimed.region,
                ),
            )
        )
    return choices


def _prompt(what: str, text: str, width: int) -> Text:
    """One line a choice: what it is, then the start of the text (its blanks and breaks
    as one blank), cut with an ellipsis at `width`."""
    shown = clean(" ".join(text.split()), one_line=True)
    prompt = Text.assemble((f"{what:<{WHAT_WIDTH}}", "bold"), shown)
    prompt.truncate(max(width, WHAT_WIDTH + 2), overflow="ellipsis")
    return prompt


class CopyScreen(ModalScreen[Choice | None]):
    """Enter copies the highlighted choice; Escape goes back."""

    BINDINGS = [Binding("escape,q", "close", "Back", id="copy.close")]

    def __init__(self, choices: list[Choice]) -> None:
        super().__init__(classes="dialog-screen")
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="copy"):
            yield Static("Enter copies it to the clipboard.", classes="dialog-question")
            # From the service and the history: plain text, never markup.
            # The dialog's width (app.tcss: 90%, at most 100) less its border, padding and the list's.
            width = min(self.app.size.width * 9 // 10, 100) - 10
            yield OptionList(*(_prompt(what, text, width) for what, text in self.choices), id="copy-list")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#copy").border_title = "Copy"
        self.query_one("#copy-list").focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        what, text = self.choices[event.option_index]
        # Pasted into a shell or a ticket later: a control character from outside (a break
        # in a file name, an escape) is escaped, not carried. The raw answer keeps its lines,
        # which JSON's own indent made (a break inside a value is `\n` there already).
        self.dismiss((what, clean(text, one_line=what != RAW)))

    def action_close(self) -> None:
        self.dismiss(None)
