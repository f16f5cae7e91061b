"""The screen an operator lives in: form, response, history, and the follow-up actions.

Every request goes out through `calls.send` in a worker, so the history row is
written before it leaves and the screen only renders what comes back.

Only what the first frame needs is imported at the top; the actions, the call
path, the dialogs and the history table are imported when first used, which
keeps them out of start-up (`python3 dev.py bench startup`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.screen import Screen
from textual.widgets import Header, Static

from ...api import fields
from ...api.errors import OutcomeKind
from ..shown import content, markup
from ..widgets.key_bar import KeyBar
from ..widgets.request_form import RequestForm
from ..widgets.response_panel import ResponsePanel

if TYPE_CHECKING:
    from textual.worker import Worker

    from ...api.actions import Action
    from ...calls import Outcome
    from ..app import GmeApp
    from ..views import ResponseView
    from ..widgets.history_panel import HistoryPanel


@dataclass(frozen=True)
class Target:
    """The task follow-up actions act on: the one just started, or the one selected."""

    biz_id: int
    room: str | None
    task_id: int | None
    params: dict


class MainScreen(Screen[None]):
    app: GmeApp

    BINDINGS = [
        # Priority: the F-keys act from any field (TextArea has its own F6/F7).
        Binding("ctrl+s", "send", "Send", priority=True, id="main.send"),
        Binding("f2", "stop", "Stop", priority=True, id="main.stop"),
        Binding("f3", "describe_task", "Task", priority=True, id="main.describe_task"),
        Binding("f4", "describe_record", "Rec", priority=True, id="main.describe_record"),
        Binding("f6", "modify", "Mod", priority=True, id="main.modify"),
        Binding("f7", "copy_task_id", "Copy", priority=True, id="main.copy_task_id"),
        Binding("f8", "raw_response", "Raw", priority=True, id="main.raw_response"),
        Binding("f9", "raw_request", "Sent", priority=True, id="main.raw_request"),
        Binding("ctrl+f", "filter_history", "Find", priority=True, id="main.filter_history"),
        Binding("f5", "credentials", "Keys", priority=True, id="main.credentials"),
        Binding("ctrl+o", "switch_profile", "Profile", priority=True, id="main.switch_profile"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.target: Target | None = None
        self.sending = False
        #: the send in flight, and its outcome once its history row is written
        self._in_flight: Action | None = None
        self._outcome: Outcome | None = None

    def compose(self) -> ComposeResult:
        config = self.app.config
        yield Header()
        if config.demo:
            yield Static(
                "DEMO · local emulator · demo credentials · nothing reaches Tencent Cloud", id="demo-marker"
            )
        # The form takes the whole width (nothing needed for a send is ever cut);
        # the response and the history share what is left (see app.tcss).
        yield RequestForm(
            biz_id=self.app.default_biz_id, relaxed=self.app.settings.relaxed_user_ids, id="form"
        )
        with Horizontal(id="lower"):
            yield ResponsePanel(id="response")
            if self.app.history is not None:
                # Filled after the first frame: the form is usable before the table is built.
                yield Container(id="history-slot")
            else:
                yield Static(
                    content(f"History unavailable: {self.app.history_problem}. Nothing can be sent."),
                    id="history-missing",
                )
        yield KeyBar()

    WIDE = 110

    _first_resume = True

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Every widget was styled as it mounted, so the resume that follows the first
        mount need not restyle them all again (about 20 ms of start-up). Textual calls
        this before Screen's own handler, which reads the flag; later resumes (back
        from a dialog) restyle as usual."""
        if self._first_resume:
            self._first_resume = False
            event.refresh_styles = False

    def on_resize(self, event: events.Resize) -> None:
        self.query_one("#lower").set_class(event.size.width >= self.WIDE, "-wide")

    def on_mount(self) -> None:
        self.query_one("#biz-id").focus()
        if self.app.history is not None:
            self.app.after_first_frame(self._mount_history)
        config = self.app.config
        if config.key is None and not config.from_keyring:
            self.notify(
                config.key_problem or "No credentials for this profile (F5 to store them).",
                title="Cannot send",
                severity="error",
                timeout=10,
            )

    _NEEDS_TASK = {"stop", "describe_record", "modify", "copy_task_id"}
    _NEEDS_VIEW = {"raw_response", "raw_request"}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The key bar shows only what can act now, so it fits a narrow terminal."""
        if action in self._NEEDS_TASK:
            return self.target is not None and self.target.task_id is not None
        if action in self._NEEDS_VIEW:
            return self.is_mounted and self.response.view is not None
        return True

    # --- sending -----------------------------------------------------------------

    @property
    def form(self) -> RequestForm:
        return self.query_one("#form", RequestForm)

    @property
    def response(self) -> ResponsePanel:
        return self.query_one("#response", ResponsePanel)

    def action_send(self) -> None:
        if self._refuse_send():
            return
        action = self.form.to_action()
        if action is None:
            self.form.focus_first_invalid()
            self.app.bell()
            return
        if not self.app.settings.confirm_start:
            self.dispatch(action)
            return
        from ...api.actions import encode_body
        from .dialogs import ConfirmScreen

        body = encode_body(action.params()).decode("utf-8")  # the exact bytes that are signed
        self.app.push_screen(
            ConfirmScreen("Send StartRecord?", f"This exact body goes to {self.app.config.endpoint}:", body),
            lambda yes: self.dispatch(action) if yes else None,
        )

    def _refuse_send(self) -> bool:
        reason = None
        if self.sending:
            reason = "A request is in flight; wait for its answer."
        elif self.app.history is None:
            reason = f"The history is unavailable ({self.app.history_problem}); nothing is sent without it."
        elif self.app.config.from_keyring:
            reason = "Still looking up the credentials in the keyring; try again in a moment."
        elif self.app.client is None:
            reason = self.app.config.key_problem or "No credentials for this profile (F5 to store them)."
        if reason:
            self.notify(reason, title="Not sent", severity="warning")
            self.app.bell()
        return reason is not None

    def dispatch(self, action: Action) -> None:
        """Send any action through the history; one at a time."""
        if self._refuse_send():
            return
        from ..views import pending_view

        self.sending = True
        self.form.busy = True
        self._in_flight, self._outcome = action, None
        self.response.show(pending_view(action.name, action.params()))
        self._send(action)

    @work(group="send", exit_on_error=False, name="Send")
    async def _send(self, action: Action) -> None:
        """Only the way through: whatever ends it otherwise (the history refusing the row,
        a cancel, a bug of ours) reaches the app's sink, which calls `worker_ended`."""
        from ...calls import send

        app = self.app
        assert app.history is not None, "dispatch refuses to send without a history"
        outcome = await send(
            app.client, app.history, action, profile=app.config.profile, on_start=self._started
        )
        self._answered(action, outcome)

    def _started(self, outcome: Outcome) -> None:
        """The row is written and the request about to leave: kept, so that a send that
        ends by an exception still shows what the call wrote on it."""
        self._outcome = outcome
        panel = self._history_panel()
        if panel is not None:
            panel.upsert(outcome.row_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.on_worker_state_changed(event)  # to the app's one sink: the message does not bubble

    def worker_ended(self, worker: Worker) -> None:
        """A send ended by an exception or a cancel (the app's sink says so): the panel shows
        what the call wrote, not "Pending", and the next send can go."""
        from textual.worker import WorkerState

        from ...safe_text import failure_text

        action = self._in_flight
        if worker.group != "send" or action is None:
            return
        self._answered(
            action,
            self._outcome,
            failure_text(worker.error) if worker.state is WorkerState.ERROR else "cancelled",
        )

    def _answered(self, action: Action, outcome: Outcome | None, cause: str | None = None) -> None:
        """The send is over (`cause`: why it ended without returning): the form is free
        again first, then what happened is shown."""
        from ..views import view_after_failure, view_from_outcome

        self.sending = False
        self.form.busy = False
        self._in_flight = self._outcome = None
        if cause is None:
            assert outcome is not None, "a send that returned has its outcome"
            view = view_from_outcome(outcome)
        else:
            view = view_after_failure(action, outcome, cause)
        self.response.show(view)
        self.refresh_bindings()
        panel = self._history_panel()
        if panel is not None and view.row_id is not None:
            panel.upsert(view.row_id)
        self._follow(view)

    def _follow(self, view: ResponseView) -> None:
        """Aim the follow-up actions at the task this answer is about."""
        from ...api.actions import TaskInfoResult

        biz = view.biz_id
        if biz is None:
            return
        if view.kind is OutcomeKind.OK and view.action == "StartRecord":
            self.target = Target(biz, view.room, view.task_id, view.params)
        elif view.kind is OutcomeKind.OK and view.action == "DescribeTaskInfo":
            result = view.result()
            if isinstance(result, TaskInfoResult):
                params = dict(view.params, RecordMode=int(result.mode) if result.mode else None)
                self.target = Target(biz, view.room, result.task_id, params)
        elif view.action == "StartRecord":
            self.target = Target(biz, view.room, None, view.params)
        self.refresh_bindings()

    async def _mount_history(self) -> None:
        from ..widgets.history_panel import HistoryPanel

        assert self.app.history is not None, "the slot is there only when the history is"
        await self.query_one("#history-slot").mount(HistoryPanel(self.app.history, id="history"))

    def _history_panel(self) -> HistoryPanel | None:
        from ..widgets.history_panel import HistoryPanel

        panels = self.query(HistoryPanel)
        return panels.first() if panels else None

    # --- follow-up actions ---------------------------------------------------------

    def _room_target(self) -> tuple[int, str] | None:
        if self.target and self.target.room:
            return self.target.biz_id, self.target.room
        values = self.form.checked.values
        if fields.BIZ_ID in values and fields.ROOM_ID in values:
            biz, room = values[fields.BIZ_ID], values[fields.ROOM_ID]
            if isinstance(biz, int) and isinstance(room, str):
                return biz, room
        return None

    def _task_target(self) -> Target | None:
        if self.target is None or self.target.task_id is None:
            self.notify(
                "No task yet: start one, or select a row with a TaskId in the history.",
                title="No task",
                severity="warning",
            )
            return None
        return self.target

    def action_describe_task(self) -> None:
        room = self._room_target()
        if room is None:
            self.notify(
                "Fill BizId and RoomId, or select a history row.", title="Which room?", severity="warning"
            )
            return
        from ...api.actions import DescribeTaskInfo

        self.dispatch(DescribeTaskInfo(*room))

    def action_describe_record(self) -> None:
        from ...api.actions import DescribeRecordInfo

        target = self._task_target()
        if target is not None and target.task_id is not None:
            self.dispatch(DescribeRecordInfo(target.biz_id, target.task_id))

    def action_stop(self) -> None:
        target = self._task_target()
        if target is None or target.task_id is None:
            return
        task_id = target.task_id
        from ...api.actions import StopRecord
        from .dialogs import ConfirmScreen

        room = f" in room {target.room}" if target.room else ""
        self.app.push_screen(
            ConfirmScreen("Stop recording?", f"Stop task {target.task_id}{room}? The recording ends now."),
            lambda yes: self.dispatch(StopRecord(target.biz_id, task_id)) if yes else None,
        )

    def action_modify(self) -> None:
        target = self._task_target()
        if target is None:
            return
        from .modify import ModifyScreen

        params = {k: v for k, v in target.params.items() if k not in ("RoomId",)}
        params.update(BizId=target.biz_id, TaskId=target.task_id)
        self.app.push_screen(
            ModifyScreen(params, relaxed=self.app.settings.relaxed_user_ids),
            lambda action: self.dispatch(action) if action is not None else None,
        )

    def action_copy_task_id(self) -> None:
        view = self.response.view
        task_id = view.task_id if view is not None else None
        if task_id is None and self.target is not None:
            task_id = self.target.task_id
        if task_id is None:
            self.notify("No TaskId to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(str(task_id))
        self.notify(f"TaskId {task_id} copied to the clipboard.")

    def action_raw_response(self) -> None:
        from .dialogs import RawScreen

        view = self.response.view
        if view is None:
            self.notify("No response yet.", severity="warning")
            return
        self.app.push_screen(RawScreen(f"{view.action}: raw response", view.raw_json()))

    def action_raw_request(self) -> None:
        from .dialogs import RawScreen

        view = self.response.view
        if view is None:
            self.notify("No request yet.", severity="warning")
            return
        self.app.push_screen(
            RawScreen(f"{view.action}: request as sent (signature redacted)", view.sent_json())
        )

    def action_filter_history(self) -> None:
        panel = self._history_panel()
        if panel is not None:
            panel.action_focus_filter()

    # --- credentials and profiles ---------------------------------------------------

    def action_credentials(self) -> None:
        from .credentials import CredentialsScreen

        self.app.push_screen(CredentialsScreen(self.app.config.profile))

    def action_switch_profile(self) -> None:
        from .profiles import ProfileScreen

        self.app.push_screen(
            ProfileScreen(self.app.config.profile),
            lambda name: self.app.switch_profile(name) if name else None,
        )

    def profile_changed(self) -> None:
        """A new profile: its BizId and ID mode in the form, its history rows unchanged."""
        self.form.relaxed = self.app.settings.relaxed_user_ids
        biz = self.app.default_biz_id
        if biz:
            self.form.load({"BizId": biz})
        self.target = None
        self.refresh_bindings()

    # --- history -------------------------------------------------------------------

    def on_history_panel_selected(self, event: HistoryPanel.Selected) -> None:
        from ..views import view_from_row

        view = view_from_row(event.row)
        shown = self.response.view
        # Not over a send in flight, nor over the answer just shown for this same row (the
        # table highlights its first row as it comes in): the store keeps less than that.
        if not self.sending and (shown is None or shown.row_id != view.row_id):
            self.response.show(view)
        biz = view.biz_id
        if biz is not None:
            self.target = Target(biz, view.room, view.task_id, view.params)
        self.refresh_bindings()

    def on_history_panel_load_requested(self, event: HistoryPanel.LoadRequested) -> None:
        self.form.load(event.row.params)
        self.query_one("#biz-id").focus()
        self.notify(f"Loaded {event.row.action} parameters into the form.")

    # --- the palette ---------------------------------------------------------------

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """What fits now: commands that cannot act are left out, as in Posting."""
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Send StartRecord", "validate the form and send it (Ctrl+S)", self.action_send),
            ("Describe the room's running task", "DescribeTaskInfo (F3)", self.action_describe_task),
            ("Filter the history", "narrow the history by text (Ctrl+F)", self.action_filter_history),
            ("Credentials of this profile", "store, replace, delete, check (F5)", self.action_credentials),
            (
                "Switch profile",
                "profile, settings and credentials in place (Ctrl+O)",
                self.action_switch_profile,
            ),
        ]
        panel = self._history_panel()
        if panel is not None and panel.selected_row is not None:
            from ..widgets.history_panel import HistoryPanel

            row = panel.selected_row
            commands.append(
                (
                    f"Load history row {row.id} into the form",
                    markup(f"{row.action} {row.room_id or ''} (l)"),  # read back from the store
                    lambda: self.on_history_panel_load_requested(HistoryPanel.LoadRequested(panel, row)),
                )
            )
        if self.target is not None and self.target.task_id is not None:
            task = self.target.task_id
            commands += [
                (f"Stop task {task}", "StopRecord, after a confirmation (F2)", self.action_stop),
                (
                    f"Describe recording of task {task}",
                    "DescribeRecordInfo (F4)",
                    self.action_describe_record,
                ),
                (f"Modify task {task}", "ModifyRecordInfo: mode and lists (F6)", self.action_modify),
                (f"Copy TaskId {task}", "to the clipboard (F7)", self.action_copy_task_id),
            ]
        if self.response.view is not None:
            commands += [
                ("Show the raw response", "syntax-highlighted JSON (F8)", self.action_raw_response),
                ("Show the request as sent", "signature redacted (F9)", self.action_raw_request),
            ]
        return commands
