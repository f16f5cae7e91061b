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
from textual.widget import Widget
from textual.widgets import Static

from ...api import fields
from ...api.errors import OutcomeKind
from ..shown import content, markup
from ..widgets.key_bar import KeyBar
from ..widgets.request_form import RequestForm
from ..widgets.response_panel import ResponsePanel
from ..widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from textual.worker import Worker

    from ...api.actions import Action
    from ...calls import Outcome
    from ...recordings import Change, Recording
    from ..app import GmeApp
    from ..views import ResponseView
    from ..widgets.history_panel import HistoryPanel


@dataclass(frozen=True)
class Target:
    """The task follow-up actions act on (the one just started, found or selected), where it
    runs, and its mode and lists as last known (what Modify opens with)."""

    endpoint: str
    profile: str
    biz_id: int
    room: str | None
    task_id: int | None
    mode: int | None = None
    allow: tuple[str, ...] = ()
    block: tuple[str, ...] = ()

    @property
    def params(self) -> dict:
        """The recording as a ModifyRecordInfo's parameters (what the form loads)."""
        lists = {k: list(v) for k, v in ((fields.ALLOW, self.allow), (fields.BLOCK, self.block)) if v}
        params: dict = {"BizId": self.biz_id, "TaskId": self.task_id, "RecordMode": self.mode}
        return {**params, fields.SUBSCRIPTION: lists} if lists else params

    @classmethod
    def of(cls, recording: Recording) -> Target:
        return cls(
            recording.endpoint,
            recording.profile,
            int(recording.biz_id),
            recording.room_id,
            int(recording.task_id) if recording.task_id else None,
            recording.record_mode,
            recording.allow,
            recording.block,
        )


class MainScreen(Screen[None]):
    app: GmeApp

    BINDINGS = [
        # Priority: the F-keys act from any field, whatever keys it has of its own.
        Binding("ctrl+s", "send", "Send", priority=True, id="main.send"),
        Binding("f2", "stop", "Stop", priority=True, id="main.stop"),
        Binding("f3", "describe_task", "Task", priority=True, id="main.describe_task"),
        Binding("f4", "describe_record", "Rec", priority=True, id="main.describe_record"),
        Binding("f6", "modify", "Mod", priority=True, id="main.modify"),
        Binding("f7", "copy", "Copy", priority=True, id="main.copy"),
        # Off the key bar, which must hold the rest on one line at 120 columns: F1 and the
        # palette name them.
        Binding("f8", "raw_response", "Raw", priority=True, id="main.raw_response", show=False),
        Binding("f9", "raw_request", "Sent", priority=True, id="main.raw_request", show=False),
        Binding("ctrl+f", "filter_history", "Find", priority=True, id="main.filter_history"),
        Binding("f5", "credentials", "Creds", priority=True, id="main.credentials"),
        Binding("ctrl+o", "switch_profile", "Profile", priority=True, id="main.switch_profile"),
        # Off the key bar until the bar is laid out anew (it must hold the rest at 80 columns):
        # the palette and the help name it.
        Binding("ctrl+r", "recordings", "Recordings", priority=True, id="main.recordings", show=False),
        Binding("ctrl+n", "batch", "Batch", priority=True, id="main.batch", show=False),
        Binding("f11", "maximize_panel", "Max", priority=True, id="main.maximize", show=False),
    ]
    #: what stays on screen beside a maximised panel: where it acts (the header says DEMO), the keys
    ALLOW_IN_MAXIMIZED_VIEW = "Header, KeyBar"

    def __init__(self) -> None:
        super().__init__()
        self.target: Target | None = None
        self.sending = False
        #: the send in flight, and its outcome once its history row is written
        self._in_flight: Action | None = None
        self._outcome: Outcome | None = None
        #: the task whose Modify dialog opens once the DescribeTaskInfo in flight has answered
        self._modify_after: Target | None = None

    def compose(self) -> ComposeResult:
        config = self.app.config
        # A BizId prefilled (the profile's default) is kept: the first key typed goes to the
        # room, not over the BizId (an Input selects its text as it takes the focus). Where
        # Textual first focuses (it reads this per screen), not moved after: each move
        # restyled both fields.
        self.AUTO_FOCUS = "#room-id" if self.app.default_biz_id else "#biz-id"  # type: ignore[misc]
        yield TitleBar()
        if config.demo:
            yield Static(
                "DEMO · local emulator · demo credentials · nothing reaches Tencent Cloud", id="demo-marker"
            )
        # The form takes the whole width (nothing needed for a send is ever cut);
        # the response and the history share what is left (see app.tcss).
        yield RequestForm(
            biz_id=self.app.default_biz_id, relaxed=self.app.settings.relaxed_user_ids, id="form"
        )
        # Classed for the terminal's width as it is made: set on the first resize, they
        # restyled the panels below the form once more before the first frame.
        with Horizontal(id="lower", classes=self._lower_classes(self.app.size.width)):
            yield ResponsePanel(id="response")
            # Filled after the first frame, when the history is opened: the form is usable
            # before the store and its table are.
            yield Container(id="history-slot")
        yield KeyBar()

    WIDE = 110
    #: from here the answer panel is wide enough for a TaskId and a RequestId whole
    ROOMY = 100

    _first_resume = True

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """Every widget was styled as it mounted, so the resume that follows the first
        mount need not restyle them all again (about 20 ms of start-up). Textual calls
        this before Screen's own handler, which reads the flag; later resumes (back
        from a dialog) restyle as usual."""
        if self._first_resume:
            self._first_resume = False
            event.refresh_styles = False

    def _lower_classes(self, width: int) -> str:
        return " ".join(
            name for name, wide in (("-wide", self.WIDE), ("-roomy", self.ROOMY)) if width >= wide
        )

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        self.query_one("#lower").update_classes({"-wide": width >= self.WIDE, "-roomy": width >= self.ROOMY})

    def on_mount(self) -> None:
        self.app.after_first_frame(self._mount_history)
        config = self.app.config
        if config.key is None and not config.from_keyring:
            self.notify(
                config.key_problem or "No credentials for this profile (F5 to store them).",
                title="Cannot send",
                severity="error",
                timeout=10,
            )

    _NEEDS_TASK = {"stop", "describe_record", "modify"}
    _NEEDS_VIEW = {"raw_response", "raw_request"}
    #: the panels a maximise fills the screen with, by the id of the widget or its ancestor
    _PANELS = ("response", "history")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The key bar shows only what can act now, so it fits a narrow terminal."""
        if action in self._NEEDS_TASK:
            return self.target is not None and self.target.task_id is not None
        if action in self._NEEDS_VIEW:
            return self.is_mounted and self.response.view is not None
        if action == "copy":
            return self.is_mounted and (self.response.view is not None or self.target is not None)
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
            ConfirmScreen(
                "Send StartRecord?",
                [f"To {self.app.config.destination}"],
                body,
            ),
            lambda yes: self.dispatch(action) if yes else None,
        )

    def _refuse_send(self) -> bool:
        reason = "A request is in flight; wait for its answer." if self.sending else self.app.cannot_send()
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
        if panel is not None:  # drawn while the request is on its way, not before it leaves
            self.call_later(panel.upsert, outcome.row_id)

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
        room = self._filed_room(outcome)
        if cause is None:
            assert outcome is not None, "a send that returned has its outcome"
            view = view_from_outcome(outcome, room)
        else:
            view = view_after_failure(action, outcome, cause, room)
        self.response.show(view)
        self.refresh_bindings()
        panel = self._history_panel()
        if panel is not None and view.row_id is not None:
            panel.upsert(view.row_id)
        if outcome is not None:
            self.app.answered(outcome)
        self._follow(view)

    def _follow(self, view: ResponseView) -> None:
        """Aim the follow-up actions at the task this answer is about. A failed start keeps
        the target it had; one refused because the room already records looks that task up."""
        modify, self._modify_after = self._modify_after, None
        config = self.app.config
        found = self._target_of(view, config.scope, config.profile)
        if view.kind is OutcomeKind.OK and view.action in ("StartRecord", "DescribeTaskInfo") and found:
            self.target = found
        elif view.action == "StartRecord" and view.error_code == "ResourceInUse.TaskInUse" and found:
            assert found.room is not None, "a StartRecord names its room"
            self._look_up_room(found.biz_id, found.room)
        self.refresh_bindings()
        if modify is not None and view.action == "DescribeTaskInfo":
            self._open_modify(modify, view)

    def _filed_room(self, outcome: Outcome | None) -> str | None:
        """The room the history filed this request under (a Stop names only its task)."""
        history = self.app.history
        if outcome is None or history is None:
            return None
        import sqlite3

        try:
            row = history.get(outcome.row_id)
        except sqlite3.Error:  # the answer is shown without it
            return None
        return row.room_id if row is not None else None

    @work(group="lookup", exit_on_error=False, name="Room lookup")
    async def _look_up_room(self, biz: int, room: str) -> None:
        """A start refused because the room already records: that task, looked up with a
        DescribeTaskInfo beside the answer shown (which stays), becomes the target."""
        from ...api.actions import DescribeTaskInfo
        from ...calls import send
        from ..views import view_from_outcome

        app = self.app
        if app.client is None or app.history is None:
            return
        outcome = await send(app.client, app.history, DescribeTaskInfo(biz, room), profile=app.config.profile)
        app.answered(outcome)
        panel = self._history_panel()
        if panel is not None:
            panel.upsert(outcome.row_id)
        config = app.config
        found = self._target_of(view_from_outcome(outcome), config.scope, config.profile)
        if found is None or found.task_id is None:
            return
        self.target = found
        self.refresh_bindings()
        self.notify(
            f"Room {room} already records task {found.task_id}: F2 stops it, F4 describes it, F6 modifies it.",
            title="Room busy",
            timeout=10,
        )

    def _target_of(self, view: ResponseView, endpoint: str, profile: str) -> Target | None:
        """The task a view names, with its mode and lists: from the answer of a
        DescribeTaskInfo, else from the request, then from the recording as last known."""
        from ...api.actions import TaskInfoResult

        biz = view.biz_id
        if biz is None:
            return None
        params = view.params
        sub = params.get(fields.SUBSCRIPTION)
        lists: dict = sub if isinstance(sub, dict) else {}
        mode = params.get("RecordMode") if isinstance(params.get("RecordMode"), int) else None
        allow, block = (tuple(str(i) for i in lists.get(k) or ()) for k in (fields.ALLOW, fields.BLOCK))
        target = Target(endpoint, profile, biz, view.room, view.task_id, mode, allow, block)
        result = view.result()
        if isinstance(result, TaskInfoResult):
            sub = result.subscription
            return Target(
                endpoint,
                profile,
                biz,
                view.room,
                result.task_id,
                int(result.mode) if result.mode else None,
                sub.allow if sub else (),
                sub.block if sub else (),
            )
        if view.action == "DescribeTaskInfo":
            return Target(endpoint, profile, biz, view.room, None)
        known = self._recording_of(target)
        if known is not None and view.action != "ModifyRecordInfo":
            return Target.of(known)
        return target

    def _recording_of(self, target: Target) -> Recording | None:
        history = self.app.history
        if history is None or target.task_id is None:
            return None
        for recording in history.recordings_of_task(target.task_id):
            if (recording.endpoint, recording.profile) == (target.endpoint, target.profile):
                return recording
        return None

    def recordings_changed(self, changes: list[Change]) -> None:
        """An answer (the follower's too) moved recordings: the target keeps its last known state."""
        target = self.target
        if target is None:
            return
        for change in changes:
            recording = change.recording
            if recording.task_id == str(target.task_id) and (recording.endpoint, recording.profile) == (
                target.endpoint,
                target.profile,
            ):
                self.target = Target.of(recording)

    async def _mount_history(self) -> None:
        if not self.is_attached:  # the app ended in its first frame
            return
        history, slot = self.app.history, self.query_one("#history-slot")
        if history is None:
            missing = f"History unavailable: {self.app.history_problem}. Nothing can be sent."
            await self.query_one("#lower").mount(Static(content(missing), id="history-missing"), after=slot)
            await slot.remove()
            return
        from ..widgets.history_panel import HistoryPanel

        await slot.mount(HistoryPanel(history, endpoint=self.app.config.scope, id="history"))

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
        """The target, if it names a task that this console may act on: one started on this
        endpoint with this profile (`recordings.elsewhere`); else why not, said."""
        from ...recordings import elsewhere

        target = self.target
        if target is None or target.task_id is None:
            self.notify(
                "No task yet: start one, or select a row with a TaskId in the history.",
                title="No task",
                severity="warning",
            )
            return None
        config = self.app.config
        refused = elsewhere(
            target.task_id, target.room, (target.endpoint, target.profile), (config.scope, config.profile)
        )
        if refused:
            self.notify(refused, title="Not here", severity="warning", timeout=10)
            self.app.bell()
            return None
        return target

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
            ConfirmScreen(
                "Stop recording?",
                [
                    f"Stop task {target.task_id}{room}? The recording ends now.",
                    f"To {self.app.config.destination}",
                ],
            ),
            lambda yes: self.dispatch(StopRecord(target.biz_id, task_id)) if yes else None,
        )

    def action_modify(self) -> None:
        """Modify opens on the task's state as the service has it now: a DescribeTaskInfo of
        its room first (its answer opens the dialog), else the last known."""
        target = self._task_target()
        if target is None:
            return
        if target.room and not self.sending:
            from ...api.actions import DescribeTaskInfo

            self.dispatch(DescribeTaskInfo(target.biz_id, target.room))
            if self.sending:
                self._modify_after = target
                return
        self._open_modify(target, None)

    def _open_modify(self, target: Target, view: ResponseView | None) -> None:
        """The dialog, prefilled from the answer to the DescribeTaskInfo that just came (`view`)
        or from the last known state; a room that runs another task (or none) opens nothing."""
        from .modify import ModifyScreen

        if view is not None:
            found = self.target if view.kind is OutcomeKind.OK else None
            if view.kind is OutcomeKind.OK and (found is None or found.task_id != target.task_id):
                self.notify(
                    f"Room {target.room} records task {found.task_id if found else '?'} now, not "
                    f"{target.task_id}: nothing to modify.",
                    title="Not modified",
                    severity="warning",
                )
                return
            if view.kind is OutcomeKind.SERVICE_ERROR:
                self.notify(
                    f"Task {target.task_id} no longer records room {target.room} ({view.error_code}): "
                    "nothing to modify.",
                    title="Not modified",
                    severity="warning",
                )
                return
            if view.kind is OutcomeKind.OK and found is not None:
                target = found
            else:
                self.notify("Could not ask the service: the dialog shows the last known state.")
        self.app.push_screen(
            ModifyScreen(
                target.params,
                target.mode,
                target.allow,
                target.block,
                self.app.config.destination,
                relaxed=self.app.settings.relaxed_user_ids,
            ),  # fmt: skip
            lambda action: self.dispatch(action) if action is not None else None,
        )

    def follow_up(self, verb: str, recording: Recording) -> None:
        """From the recordings view: aim at `recording`, then describe or modify it."""
        self.target = Target.of(recording)
        self.refresh_bindings()
        if verb == "describe":
            self.action_describe_record()
        elif verb == "modify":
            self.action_modify()

    def action_recordings(self) -> None:
        self.app.show_recordings()

    def action_batch(self) -> None:
        """The batch screen, made once and kept: leaving it never cancels a run."""
        from .batch import BatchScreen

        if not self.app.is_screen_installed("batch"):
            self.app.install_screen(BatchScreen(), "batch")
        self.app.push_screen("batch")

    def action_copy(self) -> None:
        """A menu of what an operator pastes elsewhere: ids, files, the raw answer, and the
        same request as a gme-tui and a tccli command line, aimed where it went."""
        from .copy import CopyScreen, copy_choices

        view = self.response.view
        task_id = view.task_id if view is not None else None
        if task_id is None and self.target is not None:
            task_id = self.target.task_id
        endpoint, profile = self._where_of(view)
        choices = copy_choices(view, task_id, self.app.config, endpoint, profile)
        if not choices:
            self.notify("Nothing to copy yet.", severity="warning")
            return
        self.app.push_screen(CopyScreen(choices), self._copied)

    def _copied(self, chosen: tuple[str, str] | None) -> None:
        if chosen is None:
            return
        what, text = chosen
        self.app.copy_to_clipboard(text)
        self.notify(f"{what} copied to the clipboard.")

    def _where_of(self, view: ResponseView | None) -> tuple[str, str]:
        """The endpoint and profile a view's request went to: its history row's, else here."""
        config = self.app.config
        history = self.app.history
        if view is not None and view.row_id is not None and history is not None:
            import sqlite3

            try:
                row = history.get(view.row_id)
            except sqlite3.Error:
                row = None
            if row is not None:
                return row.endpoint, row.profile
        return config.scope, config.profile

    def action_maximize_panel(self) -> None:
        """The focused panel (the answer, when the focus is in the form) fills the screen;
        the same key, or Escape, gives the room back."""
        if self.maximized is not None:
            self.minimize()
            return
        panel: Widget = self.response
        focused = self.focused
        if focused is not None:
            for widget in focused.ancestors_with_self:
                if isinstance(widget, Widget) and widget.id in self._PANELS:
                    panel = widget
                    break
        self.maximized = panel
        if focused is None or panel not in focused.ancestors_with_self:
            panel.focus()

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
        # The target stays: an action on it is refused here if it runs elsewhere (`_task_target`).
        self.refresh_bindings()
        panel = self._history_panel()
        if panel is not None:
            panel.set_endpoint(self.app.config.scope)

    # --- history -------------------------------------------------------------------

    def on_history_panel_selected(self, event: HistoryPanel.Selected) -> None:
        from ..views import view_from_row

        view = view_from_row(event.row)
        shown = self.response.view
        # Not over a send in flight, nor over the answer just shown for this same row (the
        # table highlights its first row as it comes in): the store keeps less than that.
        if not self.sending and (shown is None or shown.row_id != view.row_id):
            self.response.show(view)
        found = self._target_of(view, event.row.endpoint, event.row.profile)
        if found is not None:
            self.target = found
        self.refresh_bindings()

    def on_history_panel_load_requested(self, event: HistoryPanel.LoadRequested) -> None:
        """The row's request into the form; a DescribeTaskInfo's with the mode and lists it found."""
        from ..views import view_from_row

        row = event.row
        target = self._target_of(view_from_row(row), row.endpoint, row.profile)
        params = dict(row.params)
        if row.action == "DescribeTaskInfo" and target is not None and target.mode is not None:
            params.update({k: v for k, v in target.params.items() if k not in ("TaskId", "BizId")})
        self.form.load(params)
        self.query_one("#biz-id").focus()
        self.notify(f"Loaded {event.row.action} parameters into the form.")

    # --- the palette ---------------------------------------------------------------

    def key_of(self, binding_id: str) -> str:
        """The key in force for the palette's help line, which is markup: a key may be `[`."""
        from ..keys import key_in_force

        return markup(key_in_force((self, self.app), binding_id))

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """What fits now: commands that cannot act are left out, as in Posting. Each names
        the key in force for it."""
        key = self.key_of
        commands: list[tuple[str, str, Callable[[], object]]] = [
            ("Send StartRecord", f"check the form and send it ({key('main.send')})", self.action_send),
            (
                "Describe the room's running task",
                f"DescribeTaskInfo ({key('main.describe_task')})",
                self.action_describe_task,
            ),
            ("Filter the history", f"by text ({key('main.filter_history')})", self.action_filter_history),
            (
                "Credentials of this profile",
                f"store, replace, delete, check ({key('main.credentials')})",
                self.action_credentials,
            ),
            (
                "Switch profile",
                f"profile, settings and credentials in place ({key('main.switch_profile')})",
                self.action_switch_profile,
            ),
            (
                "Recordings",
                f"every recording of this endpoint, followed ({key('main.recordings')})",
                self.action_recordings,
            ),
            (
                "Start a batch of rooms",
                f"from a file or pasted, checked line by line ({key('main.batch')})",
                self.action_batch,
            ),
            (
                "Maximise the focused panel",
                f"or give the room back ({key('main.maximize')})",
                self.action_maximize_panel,
            ),
        ]
        panel = self._history_panel()
        if panel is not None and panel.selected_row is not None:
            from ..keys import key_in_force
            from ..widgets.history_panel import HistoryPanel

            row = panel.selected_row
            commands.append(
                (
                    "Load the selected history row into the form",
                    markup(
                        f"{row.action} {row.room_id or ''} ({key_in_force([panel], 'history.load')})"
                    ),  # read back from the store
                    lambda: self.on_history_panel_load_requested(HistoryPanel.LoadRequested(panel, row)),
                )
            )
        if self.target is not None and self.target.task_id is not None:
            task = self.target.task_id
            commands += [
                (
                    f"Stop task {task}",
                    f"StopRecord, after a confirmation ({key('main.stop')})",
                    self.action_stop,
                ),
                (
                    f"Describe the recording of task {task}",
                    f"DescribeRecordInfo ({key('main.describe_record')})",
                    self.action_describe_record,
                ),
                (
                    f"Modify task {task}",
                    f"ModifyRecordInfo: mode and lists ({key('main.modify')})",
                    self.action_modify,
                ),
            ]
        if self.response.view is not None or self.target is not None:
            commands.append(
                (
                    "Copy…",
                    f"TaskId, RequestId, files, raw answer, command lines ({key('main.copy')})",
                    self.action_copy,
                )
            )
        if self.response.view is not None:
            commands += [
                (
                    "Show the raw response",
                    f"syntax-highlighted JSON ({key('main.raw_response')})",
                    self.action_raw_response,
                ),
                (
                    "Show the request as sent",
                    f"signature redacted ({key('main.raw_request')})",
                    self.action_raw_request,
                ),
            ]
        return commands
