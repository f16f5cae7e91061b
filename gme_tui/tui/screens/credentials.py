"""The credentials of one profile: store, replace, delete, and check them with one signed call.

Every keyring call runs in a thread and is bounded by the store's timeout, so a
keyring waiting for an unlock prompt never freezes the screen. The SecretKey is
typed into a masked field and never shown back: only its first characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ...api.signing import SigningKey
from ...credentials import KEYRING_ERRORS, KeyringStore, keyring_source, mask
from ...safe_text import clean
from ..shown import MarkedInput, content
from ..widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from textual.worker import Worker

    from ..app import GmeApp

#: a room no one records: DescribeTaskInfo on it changes nothing anywhere
CHECK_ROOM = "gme-tui-credential-check"


class CredentialsScreen(ModalScreen[None]):
    app: GmeApp

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="credentials.save"),
        Binding("ctrl+d", "delete", "Delete", priority=True, id="credentials.delete"),
        Binding("ctrl+k", "check", "Check", priority=True, id="credentials.check"),
        Binding("escape", "close", "Back", id="credentials.close"),
    ]

    def __init__(self, profile: str) -> None:
        super().__init__(classes="dialog-screen")
        self.profile = profile
        self.stored: SigningKey | None = None
        #: the check whose answer the status waits for (a newer one replaces it)
        self._checking: Worker | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="credentials"):
            # What these two say holds text from outside (keyring errors, a SecretId, an
            # answer's code): always through `_show` and `_status`.
            yield Static("Reading the keyring…", id="credentials-source")
            for label, widget_id, password, hint in (
                ("SecretId", "secret-id", False, "AKID…"),
                ("SecretKey", "secret-key", True, "type to store or replace (hidden)"),
                ("Session token", "token", True, "optional: temporary credentials only"),
            ):
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label")
                    yield MarkedInput(placeholder=hint, password=password, id=widget_id, compact=True)
            yield Static(
                "Ctrl+S saves · Ctrl+K checks with one harmless signed call · Ctrl+D deletes",
                classes="dialog-hint",
            )
            yield Static("", id="credentials-status")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#credentials").border_title = content(f"Credentials · profile {self.profile}")
        self.query_one("#secret-id").focus()
        self._read()

    def _status(self, text: str, kind: str = "") -> None:
        status = self.query_one("#credentials-status", Static)
        status.set_class(kind == "error", "-error")
        status.set_class(kind == "ok", "-ok")
        status.update(content(text))

    # --- keyring, in threads ------------------------------------------------------------

    @work(thread=True, exclusive=True, group="keyring", exit_on_error=False, name="Keyring read")
    def _read(self) -> None:
        try:
            key = KeyringStore().get(self.profile)
        except KEYRING_ERRORS as error:
            self.app.call_from_thread(self._show_stored, None, str(error))
            return
        self.app.call_from_thread(self._show_stored, key, None)

    def _show_stored(self, key: SigningKey | None, problem: str | None) -> None:
        self.stored = key
        source = self.app.config.key_source or "none"
        if problem:
            self._source(f"In use: {source}.")
            self._status(problem, "error")
            return
        if key is None:
            self._source(f"In use: {source}. The keyring holds nothing for this profile.")
            return
        self.query_one("#secret-id", Input).value = key.secret_id
        # What the keyring holds is outside text too (the SecretId's field draws it marked).
        self.query_one("#secret-key", Input).placeholder = clean(
            f"stored: {mask(key.secret_key)} (type to replace)"
        )
        if key.token:
            self.query_one("#token", Input).placeholder = clean(
                f"stored: {mask(key.token)} (type to replace)"
            )
        self._source(
            f"In use: {source}. Stored in the keyring: SecretId {key.secret_id}, SecretKey {mask(key.secret_key)}."
        )

    def _source(self, text: str) -> None:
        self.query_one("#credentials-source", Static).update(content(text))

    def _entered(self) -> SigningKey | None:
        secret_id = self.query_one("#secret-id", Input).value.strip()
        secret_key = self.query_one("#secret-key", Input).value.strip()
        token = self.query_one("#token", Input).value.strip()
        if not secret_key and self.stored is not None and secret_id == self.stored.secret_id:
            return SigningKey(secret_id, self.stored.secret_key, token or self.stored.token)
        if not secret_id or not secret_key:
            return None
        return SigningKey(secret_id, secret_key, token or None)

    def action_save(self) -> None:
        key = self._entered()
        if key is None:
            self._status("SecretId and SecretKey are both needed.", "error")
            return
        self._status("Saving to the keyring…")
        self._save(key)

    @work(thread=True, exclusive=True, group="keyring", exit_on_error=False, name="Keyring save")
    def _save(self, key: SigningKey) -> None:
        try:
            KeyringStore().set(self.profile, key)
        except KEYRING_ERRORS as error:
            self.app.call_from_thread(self._status, str(error), "error")
            return
        self.app.call_from_thread(self._saved, key)

    def _saved(self, key: SigningKey) -> None:
        self.query_one("#secret-key", Input).value = ""
        self.query_one("#token", Input).value = ""
        if self.app.config.key_source != "environment":
            self.app.set_credentials(key, keyring_source(self.profile))
        self._show_stored(key, None)
        self._status(
            f"Saved in the keyring: SecretId {key.secret_id}, SecretKey {mask(key.secret_key)}.", "ok"
        )

    def action_delete(self) -> None:
        from .dialogs import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete()

        self.app.push_screen(
            ConfirmScreen("Delete credentials?", f"Remove the keyring entry of profile {self.profile}?"),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="keyring", exit_on_error=False, name="Keyring delete")
    def _delete(self) -> None:
        try:
            removed = KeyringStore().delete(self.profile)
        except KEYRING_ERRORS as error:
            self.app.call_from_thread(self._status, str(error), "error")
            return
        self.app.call_from_thread(self._deleted, removed)

    def _deleted(self, removed: bool) -> None:
        self.stored = None
        for widget_id in ("secret-id", "secret-key", "token"):
            self.query_one(f"#{widget_id}", Input).value = ""
        self._status(
            "Deleted from the keyring." if removed else "The keyring held nothing for this profile.", "ok"
        )
        if self.app.config.key_source != "environment":
            self.app.set_credentials(None, None, None)
        self._show_stored(None, None)

    # --- the check ------------------------------------------------------------------------

    def action_check(self) -> None:
        key = self._entered() or self.app.config.key
        if key is None:
            self._status("Nothing to check: enter a SecretId and SecretKey.", "error")
            return
        if self.app.history is None:
            self._status("The history is unavailable; nothing is sent without it.", "error")
            return
        self._status(f"Checking with DescribeTaskInfo on {self.app.config.endpoint}…")
        self._checking = self._check(key)

    @work(exclusive=True, group="check", exit_on_error=False, name="Credentials check")
    async def _check(self, key: SigningKey) -> None:
        """What the service said; whatever else ends it reaches `worker_ended` by the app's sink."""
        from ...api.actions import DescribeTaskInfo
        from ...api.errors import ServiceError
        from ...calls import send
        from ...recordings import CHECK

        app = self.app
        biz = int(app.default_biz_id) if app.default_biz_id.isdigit() else 1
        assert app.history is not None, "action_check refuses without a history"
        async with app.new_client(key) as client:
            outcome = await send(
                client, app.history, DescribeTaskInfo(biz, CHECK_ROOM), profile=self.profile, purpose=CHECK
            )
        error = outcome.error
        if isinstance(error, ServiceError) and error.code.startswith("AuthFailure"):
            self._status(f"Rejected: {error.code}. {error.explanation.meaning}", "error")
        elif error is None or isinstance(error, ServiceError):
            self._status(
                "Accepted: the service verified the signature"
                + (f" (it answered {error.code}, which is fine)." if error else "."),
                "ok",
            )
        else:
            self._status(f"Could not check: {error}", "error")

    # --- workers that end badly ------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.on_worker_state_changed(event)  # to the app's one sink: the message does not bubble

    def worker_ended(self, worker: Worker) -> None:
        """A worker of this screen raised (the app's sink has shown the notice): the status
        says what could not be done and why, instead of "Checking…" or "Reading…" for ever.
        A cancel says nothing: a newer call of its kind replaced it, or the screen is closing."""
        from textual.worker import WorkerState

        from ...safe_text import failure_text

        if worker.state is not WorkerState.ERROR or (
            worker.group == "check" and worker is not self._checking
        ):
            return
        why = failure_text(worker.error)
        if worker.name == "Keyring read":
            self._show_stored(None, f"Could not read the keyring: {why}")
        else:
            self._status(f"Could not {self._DOING.get(worker.name, 'finish')}: {why}", "error")

    _DOING = {
        "Credentials check": "check",
        "Keyring save": "save to the keyring",
        "Keyring delete": "delete from the keyring",
    }

    def action_close(self) -> None:
        self.dismiss(None)
