"""The console app: wires settings, themes, credentials, the client and the history
into the main screen. Only this package imports Textual."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..api.errors import OutcomeKind
from ..context import Context, make_client
from ..safe_text import clean
from ..settings import DEFAULT_THEME, Settings, load_settings, update_settings
from .commands import ConsoleCommands
from .themes import find_theme, load_all_themes

if TYPE_CHECKING:
    from ..api.signing import SigningKey
    from ..calls import Outcome
    from ..history import History
    from ..recordings import Change
    from ..tracking import Settled


class GmeApp(App[int]):
    CSS_PATH = ["app.tcss", "widgets/history_panel.tcss"]
    TITLE = "gme-tui"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS = [
        Binding("f1", "help", "Help", priority=True, id="app.help"),
        # Not priority: where a text field has the focus, "?" is typed there.
        Binding("question_mark", "help", "Help", show=False, id="app.help"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit"),
        Binding("ctrl+p", "command_palette", "palette", show=False, id="app.palette"),
    ]

    def __init__(
        self,
        config: Context,
        warnings: list[str] | None = None,
        serve_demo: Callable[[], object] | None = None,
    ) -> None:
        """`warnings`: the settings file's, when the caller read it (`config.all_settings`);
        `serve_demo`: run once the first frame is up, the demo's emulator starts serving
        (its port is already taken)."""
        super().__init__()
        settings = config.all_settings
        if settings is None:
            settings, warnings = load_settings(config.settings_path)
            config = replace(config, all_settings=settings)
        self.config = config
        self.serve_demo = serve_demo
        self.all_settings: Settings = settings
        self.setting_warnings = list(warnings or [])
        self.settings = self.all_settings.for_profile(config.profile)
        self._history: History | None = None
        self._history_problem: str | None = None
        self._history_opened = False
        self._client = None
        self._show_where()
        self.theme_warnings: list[str] = []
        self._install_themes()
        self._apply_keymap()

    # --- the history --------------------------------------------------------------

    @property
    def history(self) -> History | None:
        """The store every request is written to before it leaves, or None where it cannot
        be opened (`history_problem` says why). Opened when first asked for, which is
        right after the first frame (the history panel): its module, SQLite's and the
        file are no part of drawing the form."""
        if not self._history_opened:
            self._open_history()
        return self._history

    @property
    def history_problem(self) -> str | None:
        if not self._history_opened:
            self._open_history()
        return self._history_problem

    def _open_history(self) -> None:
        from ..history import History

        self._history_opened = True
        data_dir = self.config.data_dir
        try:
            self._history = History.in_dir(data_dir)
        except Exception as error:  # sqlite3.Error, OSError: shown, never a traceback
            self._history_problem = f"{data_dir}: {error}"

    def _show_where(self) -> None:
        """The header names the profile, where its key comes from, the endpoint and region,
        shortened to the width (`Where.fit`)."""
        from .where import Where

        config = self.config
        source = config.key_source or (
            "looking in the keyring…"
            if config.from_keyring
            else "credentials given"
            if config.key
            else "no credentials"
        )
        # from flags, the environment and the settings file: `Where` cleans each
        self._where = Where(config.profile, source, config.endpoint, config.region, config.demo)
        self._fit_where(self.size.width)

    #: the header's icon and clock space (8 + 10 columns), the title and its dash
    _HEADER_SPENT = 18 + len(TITLE) + 3 + 2

    def _fit_where(self, width: int) -> None:
        self.sub_title = self._where.fit(width - self._HEADER_SPENT)

    def on_resize(self, event: events.Resize) -> None:
        self._fit_where(event.size.width)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast of the console (a widget's `notify` comes here too) is plain text:
        what it says often comes from outside (a settings key, an answer, an error)."""
        super().notify(
            clean(message),
            title=clean(title, one_line=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    def action_help(self) -> None:
        """Every key of the screen in front, in force now, one sentence each."""
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):  # F1 again closes it
            self.screen.dismiss(None)
            return
        from .screens.main import MainScreen

        title = "Keys of the main screen" if isinstance(self.screen, MainScreen) else "Keys of this screen"
        self.push_screen(HelpScreen(self.screen, title))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own, but its "Keys" panel (mostly text editing keys, no words) gives
        way to gme-tui's help."""
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        from .keys import key_in_force

        keys = key_in_force([self], "app.help").replace("[", "\\[")  # the help line is markup
        yield SystemCommand("Help", f"Every key of this screen, one sentence each ({keys})", self.action_help)

    def action_help_quit(self) -> None:
        """Textual's own hint for Ctrl+C, which it writes in markup (every toast here is plain)."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key} to quit the app", title="Do you want to quit?")
                return

    # --- credentials and profiles ----------------------------------------------------

    def set_credentials(self, key: SigningKey | None, source: str | None, problem: str | None = None) -> None:
        self.config = self.config.with_credentials(key, source, problem)
        self._drop_client()
        self._show_where()
        if problem and self.is_running:
            self.notify(problem, title="Credentials", severity="error", timeout=10)

    def load_keyring_credentials(self) -> None:
        """Resolve the profile's key in a thread: a keyring waiting for an unlock prompt
        must never freeze the screen (the store bounds each call with a timeout)."""
        self._resolve_worker(self.config.profile)

    @work(thread=True, exclusive=True, group="credentials", exit_on_error=False, name="Keyring lookup")
    def _resolve_worker(self, profile: str) -> None:
        from ..credentials import KEYRING_ERRORS, resolve

        try:
            resolved = resolve(profile)
        except KEYRING_ERRORS as error:
            self.call_from_thread(self.set_credentials, None, None, str(error))
            return
        self.call_from_thread(self.set_credentials, resolved.key, resolved.source)

    # --- workers that fail -------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one sink for workers that end badly, as in Harlequin. Textual tells only the
        node that ran a worker, so each screen relays its own here.

        An exception (a bug of ours included) becomes a notice naming it, never a
        traceback; an exception or a cancel is handed to the node's `worker_ended`, so
        that no screen stays "Pending", "Checking…" or busy. The workers themselves
        handle only what they expect."""
        worker = event.worker
        if event.state is WorkerState.ERROR:
            from ..safe_text import failure_text

            name = worker.name if worker.name and not worker.name.startswith("_") else "A background task"
            self.notify(failure_text(worker.error), title=f"{name} failed", severity="error", timeout=10)
        elif event.state is not WorkerState.CANCELLED:
            return
        ended = getattr(worker.node, "worker_ended", None)
        if ended is None:
            return
        try:
            ended(worker)
        except Exception as error:  # the sink must not fail in turn: that would end the app
            from ..safe_text import failure_text

            self.notify(
                failure_text(error),
                title="Could not show what happened",
                severity="error",
                timeout=10,
            )

    def worker_ended(self, worker: Worker) -> None:
        """The keyring lookup failed unexpectedly: stop "looking in the keyring…" and say why
        (the notice said it), so a send is refused with the reason instead of "still looking"."""
        if worker.name == "Keyring lookup" and worker.state is WorkerState.ERROR:
            from ..safe_text import failure_text

            self.config = self.config.with_credentials(
                None, None, f"The keyring lookup failed: {failure_text(worker.error)}"
            )
            self._show_where()

    def switch_profile(self, name: str) -> None:
        """Profile, settings and credentials change in place, resolved as the command line
        resolves them (`Context.for_profile`); what the command line fixed stays."""
        self.config = replace(self.config, all_settings=self.all_settings).for_profile(name)
        seen = self.settings = self.config.settings
        self._drop_client()
        self._show_where()
        if seen.theme in self.available_themes and seen.theme != self.theme:
            self.theme = seen.theme
        if self.config.from_keyring:
            self.load_keyring_credentials()
        screen = self.screen
        if hasattr(screen, "profile_changed"):
            screen.profile_changed()
        self.notify(f"Profile {name}: {self.config.endpoint}")

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self.run_worker(client.aclose(), exit_on_error=False, name="Closing the old connection")

    @property
    def client(self):
        """Built on the first send: httpx is a third of a cold start and the form needs none of it."""
        if self._client is None and self.config.key is not None:
            self._client = self.new_client(self.config.key)
        return self._client

    def new_client(self, key: SigningKey):
        """A client for this profile's endpoint, region, language and timeout."""
        return make_client(self.config, key)

    @property
    def default_biz_id(self) -> str:
        """The command line's (or the demo's) BizId, else the settings' default."""
        if self.config.default_biz_id:
            return self.config.default_biz_id
        return self.settings.biz_id_text

    def _install_themes(self) -> None:
        """Only the chosen theme before the first frame (when its file is named after it);
        every other one right after, for the palette: YAML is slow to read."""
        chosen = find_theme(self.settings.theme)
        self._themes_pending = chosen is not None
        if chosen is not None:
            self.register_theme(chosen)
            self._use_theme(chosen.name)
            return
        self._register_all_themes()
        wanted = self.settings.theme
        if wanted not in self.available_themes:
            self.theme_warnings.append(f"theme {wanted!r} not found; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self._use_theme(wanted)

    def _use_theme(self, name: str) -> None:
        """The theme the app starts in, set as Textual's own watcher sets it but without the
        re-parse of the whole CSS that the watcher queues for once the app runs: the
        stylesheet is not parsed yet, so its variables are all it needs (a full parse and
        restyle of every widget before the first frame, benchmarks/startup.py)."""
        if self.is_running:
            self.theme = name
            return
        self.set_reactive(App.theme, name)
        theme = self.current_theme
        classes = {cls: False for cls in self.classes if cls.startswith("-theme-")}
        classes.update({f"-theme-{name}": True, "-dark-mode": theme.dark, "-light-mode": not theme.dark})
        self.update_classes(classes, update=False)
        self._refresh_truecolor_filter(self.ansi_theme)
        self.stylesheet.set_variables(self.get_css_variables())

    def _register_all_themes(self) -> None:
        themes, self.theme_warnings = load_all_themes()
        for theme in themes:
            self.register_theme(theme)

    def get_default_screen(self) -> Screen:
        """The main screen is the first on the stack: pushed over Textual's blank default
        screen, it paid for styling, resuming and drawing that one too before its own."""
        from .screens.main import MainScreen

        return MainScreen()

    def on_mount(self) -> None:
        self.after_first_frame(gc.enable)  # run_app held collections back until then
        if self.serve_demo is not None:
            self.after_first_frame(self.serve_demo)
        if self.config.from_keyring:
            self.load_keyring_credentials()
        if self._themes_pending:
            self.after_first_frame(self._late_themes)
        else:
            self._warn()
        self.after_first_frame(self._start_following)  # where there is a history
        if not self.keymap_checked:
            self.after_first_frame(self._check_keymap)

    def after_first_frame(self, callback: Callable[[], object]) -> None:
        """Run `callback` in the frame after the first one: the form is painted and
        usable before the history panel, the other themes or the demo's emulator load."""
        self.call_after_refresh(self.call_after_refresh, callback)

    def _late_themes(self) -> None:
        self._register_all_themes()
        self._themes_pending = False
        self._warn()

    @property
    def themes_loaded(self) -> bool:
        """Every theme is registered (the palette lists them all) and its warnings are out."""
        return not self._themes_pending

    def _apply_keymap(self) -> None:
        """The settings' `keymap:` over the default keys from the first frame; checked just
        after it (`_check_keymap`), since the check imports every screen (about 0.1 s)."""
        keymap = self.all_settings.keymap
        self.keymap_checked = not keymap
        #: the keymap's own warnings, told as the check ends (after the settings' others)
        self.keymap_warnings: list[str] = []
        if keymap:
            self.set_keymap({binding_id: keys for binding_id, (keys, _line) in keymap.items()})

    def _check_keymap(self) -> None:
        """An unknown id, or a key another binding has where both act, is a warning naming its
        line, and that entry is left out (`keys.checked_keymap`), so every key does one thing."""
        from ..paths import settings_path
        from .keys import checked_keymap

        applied, warnings = checked_keymap(
            self.all_settings.keymap, self.config.settings_path or settings_path()
        )
        self.set_keymap(applied)
        self.keymap_warnings = [clean(warning) for warning in warnings]
        for warning in self.keymap_warnings:
            self.notify(warning, title="Settings", severity="warning", timeout=8)
        self.keymap_checked = True

    def _warn(self) -> None:
        for warning in [*self.setting_warnings, *self.theme_warnings]:
            self.notify(warning, title="Settings", severity="warning", timeout=8)

    def watch_theme(self, theme: str) -> None:
        """The choice persists in the settings file (from the palette or anywhere)."""
        if not self.is_running or theme == self.settings.theme:
            return
        self._save(theme=theme)

    def set_confirm_start(self, enabled: bool) -> None:
        self._save(confirm_start=enabled)
        self.notify(
            "A confirmation now shows the body before StartRecord goes out."
            if enabled
            else "StartRecord now goes out without a confirmation."
        )

    def _save(self, **changes: Any) -> None:
        # A key the profile sets is saved in the profile; anything else is shared.
        own = self.all_settings.profiles.get(self.config.profile, {})
        profile = self.config.profile if set(changes) <= set(own) else None
        try:
            self.all_settings = update_settings(self.config.settings_path, profile=profile, **changes)
            self.settings = self.all_settings.for_profile(self.config.profile)
        except (OSError, ValueError) as error:
            self.settings = replace(self.settings, **changes)
            self.notify(
                f"{error}; the change lasts until you quit", title="Settings not saved", severity="warning"
            )

    # --- recordings, followed in the background ---------------------------------------------

    #: seconds between two looks at what is due (a look without anything due costs one query)
    FOLLOW_TICK = 1.0
    #: seconds a reconcile that got no answer waits before it tries again, unless an answer
    #: of the service comes first (then at once)
    RECONCILE_RETRY = 30.0

    _following = False
    _reconcile_after = 0.0

    def _start_following(self) -> None:
        self.set_interval(self.FOLLOW_TICK, self._follow_tick, name="follow recordings")
        self.set_timer(self.FOLLOW_TICK, self._build_recordings_view, name="build the recordings view")
        self._follow_tick()  # at start-up: an unknown start of the last run is reconciled now

    def _build_recordings_view(self) -> None:
        """The recordings view, built (composed, styled, its first page read) while the
        operator does something else, so that Ctrl+R only shows it."""
        from .screens.recordings import RecordingsScreen

        if RECORDINGS_VIEW not in self._installed_screens:
            screen = RecordingsScreen()
            self.install_screen(screen, RECORDINGS_VIEW)
            # Its CSS read (the whole app restyled once) and the screen registered now,
            # mounted unseen: Textual's own steps of a first push, taken ahead.
            self._load_screen_css(screen)
            self._get_screen(RECORDINGS_VIEW)

    def show_recordings(self) -> None:
        from .screens.recordings import RecordingsScreen

        if RECORDINGS_VIEW not in self._installed_screens:
            self.install_screen(RecordingsScreen(), RECORDINGS_VIEW)
        self.push_screen(RECORDINGS_VIEW)

    def _follow_tick(self) -> None:
        """Reconcile unknown starts first (never a StartRecord: a DescribeTaskInfo of the
        room), else ask about the recordings due; one round at a time, only this endpoint's
        and profile's, through `tracking`'s share of the send slots."""
        history = self.history
        if self._following or history is None or self.config.key is None:
            return
        from ..tracking import unknown_due

        scope, profile = self.config.scope, self.config.profile
        try:
            unknown = time.monotonic() >= self._reconcile_after and unknown_due(history, scope, profile)
            due = unknown or history.due(
                scope, profile, older_than=time.time() - self.settings.recordings_refresh, limit=1
            )
        except Exception as error:  # sqlite3.Error: a store gone bad is said once, never a crash
            self._following = True  # no more looks: each would say it again
            self.notify(f"Cannot follow the recordings: {error}", severity="error", timeout=10)
            return
        client = self.client if due else None  # httpx loads only once there is something to ask
        if client is None:
            return
        self._following = True
        if unknown:
            self._reconcile_round(client, history, profile)
        else:
            self._follow_round(client, history, profile)

    @work(group="follow", exit_on_error=False, name="Reconcile")
    async def _reconcile_round(self, client, history: History, profile: str) -> None:
        from .. import tracking

        try:
            found = await tracking.reconcile(client, history, profile=profile, spare=tracking.OPERATOR_SLOTS)
        finally:
            self._following = False
        if any(not s.found for s in found):
            self._reconcile_after = time.monotonic() + self.RECONCILE_RETRY
        for outcome in {id(s.outcome): s.outcome for s in found}.values():
            self.answered(outcome)
        for settled in found:
            if settled.found:
                self.notify(_settled_text(settled), title="Reconciled", timeout=10)

    @work(group="follow", exit_on_error=False, name="Recordings refresh")
    async def _follow_round(self, client, history: History, profile: str) -> None:
        from .. import tracking

        try:
            outcomes = await tracking.refresh(
                client, history, profile=profile, interval=self.settings.recordings_refresh
            )
        finally:
            self._following = False
        for outcome in outcomes:
            self.answered(outcome)

    def answered(self, outcome: Outcome) -> None:
        """Every answer, the operator's or the follower's: what it changed in the recordings
        goes to the screens, a recording done is said; an answer of the service lets a
        waiting reconcile try again at once."""
        if outcome.kind in (OutcomeKind.OK, OutcomeKind.SERVICE_ERROR):
            self._reconcile_after = 0.0
        self.recordings_moved(outcome.changes)

    def cannot_send(self, no_key: str = "") -> str | None:
        """Why a screen cannot send now (no history, the keyring still read, no credentials),
        or None; `no_key` ends the words said where the profile has no credentials."""
        if self.history is None:
            return f"The history is unavailable ({self.history_problem}); nothing is sent without it."
        if self.config.from_keyring:
            return "Still looking up the credentials in the keyring; try again in a moment."
        if self.client is None:
            return (
                self.config.key_problem
                or f"No credentials for this profile (F5 on the main screen stores them){no_key}."
            )
        return None

    def recordings_moved(self, changes: list[Change]) -> None:
        if not changes:
            return
        from ..recordings import State

        for change in changes:
            recording = change.recording
            if change.moved and recording.state is State.DONE:
                files = ", ".join(recording.files) or "no file names given"
                self.notify(
                    f"Room {recording.room_id or '?'}, task {recording.task_id}: {files}",
                    title="Recording done",
                    timeout=15,
                )
                if self.settings.bell_on_done:
                    self.bell()
        for screen in self.screen_stack:
            seen = getattr(screen, "recordings_changed", None)
            if seen is not None:
                seen(changes)

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._history is not None:  # never opened only to be closed
            self._history.close()


#: the name the recordings view is installed under (built once, kept)
RECORDINGS_VIEW = "recordings"


def _settled_text(settled: Settled) -> str:
    from ..recordings import State

    recording, now = settled.recording, settled.now
    where = f"StartRecord of room {recording.room_id} (history row {recording.start_row})"
    if now.state is State.NOT_STARTED:
        return f"{where}: no task of it runs; it did not start. It is safe to start the room again."
    return f"{where}: it started; task {now.task_id} is recording."


def run_app(
    ctx: Context, warnings: list[str] | None = None, serve_demo: Callable[[], object] | None = None
) -> int:
    # Every module and class imported so far lives as long as the process. Frozen,
    # the cyclic garbage collector stops walking them again while the screen is
    # built: without this, a full collection (about 20 ms) lands before the first
    # frame (python3 dev.py bench startup).
    gc.freeze()
    # Nor does a collection of what the screen's making allocates pay off before it is
    # drawn (some 40 of them, gen 0 and 1): collecting waits until the first frame is up.
    gc.disable()
    try:
        app = GmeApp(ctx, warnings, serve_demo)
        app.run()
    finally:
        gc.enable()  # an app that ended before its first frame
    return app.return_code or 0
