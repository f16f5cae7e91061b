"""Where the signing key comes from: the environment first, then the OS keyring.

The SecretKey lives only in a real secret store (Secret Service, KWallet, the
macOS Keychain, the Windows Credential Locker) or in the environment. A keyring
backend that keeps secrets in a file of its own (`keyrings.alt`), the null and
the fail backends are refused with a message that says how to go on; nothing
here ever falls back to a file.

Every keyring operation runs in a daemon thread bounded by a timeout: a Secret
Service waiting for an unlock prompt, or a D-Bus that never answers, must not
freeze the app or the command line. `keyring` is imported lazily, inside that
thread, so importing this module stays cheap and free of Textual.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .api.fields import FieldError
from .api.signing import SigningKey
from .options import PROFILE, PROFILE_NAME, parse_profile_name, parse_seconds
from .paths import UnreadableFile, read_text

SECRET_ID_ENV = "TENCENTCLOUD_SECRET_ID"
SECRET_KEY_ENV = "TENCENTCLOUD_SECRET_KEY"
TOKEN_ENV = "TENCENTCLOUD_SESSION_TOKEN"

SERVICE = "gme-tui"
TIMEOUT_ENV = "GME_TUI_KEYRING_TIMEOUT"
DEFAULT_TIMEOUT = 5.0
KEYRING_TIMEOUT_MAX = 3600.0
INDEX_USERNAME = "__profiles__"  # the keyring entry listing the profile names (no secret in it)

PROFILE_FIELD = PROFILE

# Modules whose backends keep secrets in a real OS secret store. A backend is
# accepted when one class of its MRO comes from one of them (so a subclass that
# only picks another collection stays accepted); everything else is refused.
SECURE_BACKEND_MODULES = frozenset(
    {
        "keyring.backends.SecretService",
        "keyring.backends.libsecret",
        "keyring.backends.kwallet",
        "keyring.backends.macOS",
        "keyring.backends.Windows",
    }
)
_DBUS_BACKEND_MODULES = frozenset(
    {
        "keyring.backends.SecretService",
        "keyring.backends.libsecret",
        "keyring.backends.kwallet",
    }
)

ENVIRONMENT_WAY = (
    f"set {SECRET_ID_ENV} and {SECRET_KEY_ENV} (and {TOKEN_ENV} if you have one) in the environment"
)
HOW_TO_GO_ON = (
    "To go on, install and unlock a Secret Service (gnome-keyring or KWallet; on a machine without a "
    "desktop, run gme-tui inside `dbus-run-session` after `gnome-keyring-daemon --unlock "
    f"--components=secrets`), or {ENVIRONMENT_WAY}."
)

T = TypeVar("T")


class CredentialsMissing(Exception):
    """No usable credentials: the message says which ways there are to give them."""


class KeyringUnavailable(Exception):
    """The OS keyring cannot be used: the message names the cause and how to go on."""


#: every failure of a keyring call that carries a message for the operator: an unusable
#: keyring, no credentials, a profile name or GME_TUI_KEYRING_TIMEOUT that breaks a rule
KEYRING_ERRORS = (KeyringUnavailable, CredentialsMissing, FieldError)


def keyring_source(profile: str) -> str:
    """How the screen and the CLI name a key that came from the keyring."""
    return f"keyring (profile {profile})"


@dataclass(frozen=True)
class Resolved:
    """The key to sign with and where it came from, to show the operator."""

    key: SigningKey
    source: str  # "environment" or "keyring (profile NAME)"


# --- environment ------------------------------------------------------------


def from_environment(environ: Mapping[str, str] | None = None) -> SigningKey:
    env = os.environ if environ is None else environ
    secret_id = env.get(SECRET_ID_ENV, "").strip()
    secret_key = env.get(SECRET_KEY_ENV, "").strip()
    missing = [
        name for name, value in ((SECRET_ID_ENV, secret_id), (SECRET_KEY_ENV, secret_key)) if not value
    ]
    if missing:
        raise CredentialsMissing(
            f"no credentials: set {' and '.join(missing)} in the environment "
            "(or try the local emulator with --demo)"
        )
    key = SigningKey(secret_id, secret_key, env.get(TOKEN_ENV, "").strip() or None)
    _check_key(key, ENV_LABELS)
    return key


# --- names and values ---------------------------------------------------------


def check_profile(name: str, field: str = PROFILE_FIELD) -> str:
    """The profile name if it keeps the rule, else `FieldError` naming the option."""
    parse_profile_name(name, field)
    if name == INDEX_USERNAME:
        raise FieldError(field, f"{INDEX_USERNAME!r} is reserved for the list of profiles")
    return name


#: a SecretId and a SecretKey are 36 and 32 characters; a session token is longer, but bounded
KEY_MAX = 256
TOKEN_MAX = 8192
KEY_LABELS = ("SecretId", "SecretKey", "token")
ENV_LABELS = (SECRET_ID_ENV, SECRET_KEY_ENV, TOKEN_ENV)


def _check_key(key: SigningKey, labels: tuple[str, str, str] = KEY_LABELS) -> None:
    """Every part short and of printable ASCII, else `FieldError` naming the part (by
    `labels`: the environment names its variables). The rules never quote the value:
    a FieldError may be printed, and a part may be secret."""
    parts = (
        (labels[0], key.secret_id, True, KEY_MAX),
        (labels[1], key.secret_key, True, KEY_MAX),
        (labels[2], key.token, False, TOKEN_MAX),
    )
    for label, value, required, top in parts:
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value:
            raise FieldError(label, "must not be empty")
        if len(value) > top:
            raise FieldError(
                label, f"must be at most {top} characters (it has {len(value)}); check what was pasted"
            )
        if any(not "!" <= ch <= "~" for ch in value):  # signed into a header: printable ASCII only
            raise FieldError(
                label, "contains a space or a control or non-ASCII character; check what was pasted"
            )


def mask(secret: str) -> str:
    """A secret safe to show: at most its first 4 characters, then its length."""
    n = len(secret or "")
    if n == 0:
        return "(empty)"
    if n < 12:  # 4 characters of a short secret would give too much of it away
        return f"… ({n} chars)"
    return f"{secret[:4]}… ({n} chars)"


def _encode(key: SigningKey) -> str:
    return json.dumps(
        {"secret_id": key.secret_id, "secret_key": key.secret_key, "token": key.token}, separators=(",", ":")
    )


def _decode(profile: str, text: str) -> SigningKey:
    damaged = CredentialsMissing(
        f"the keyring entry of profile {profile} is not one gme-tui wrote; replace it with "
        f"`gme-tui credentials set --profile {profile} --secret-id ID`"
    )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: [[[... nested past the interpreter
        raise damaged from None
    if not isinstance(data, dict):
        raise damaged
    secret_id, secret_key, token = data.get("secret_id"), data.get("secret_key"), data.get("token")
    if not (isinstance(secret_id, str) and secret_id and isinstance(secret_key, str) and secret_key):
        raise damaged
    if token is not None and not isinstance(token, str):
        raise damaged
    key = SigningKey(secret_id, secret_key, token or None)
    try:
        _check_key(key)
    except FieldError:
        raise damaged from None
    return key


def _decode_index(text: str | None) -> list[str]:
    """The profile names of the index entry; a damaged index reads as empty (it holds no secret)."""
    if not text:
        return []
    try:
        names = json.loads(text)
    except (ValueError, RecursionError):
        return []
    if not isinstance(names, list):
        return []
    return sorted(
        {n for n in names if isinstance(n, str) and PROFILE_NAME.fullmatch(n) and n != INDEX_USERNAME}
    )


def _timeout_from_env() -> float:
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    return parse_seconds(text, TIMEOUT_ENV, KEYRING_TIMEOUT_MAX)


def _seconds(value: float, name: str) -> float:
    """A keyring timeout: a finite number of seconds above 0, else `FieldError` on `name`."""
    if not (math.isfinite(value) and value > 0):
        raise FieldError(name, "a number of seconds above 0")
    return value


# --- which backend ------------------------------------------------------------


def _backend_name(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _comes_from(backend: Any, modules: frozenset[str]) -> bool:
    return any(getattr(cls, "__module__", None) in modules for cls in type(backend).__mro__)


def _is_secure(backend: Any) -> bool:
    return _comes_from(backend, SECURE_BACKEND_MODULES)


def _dbus_platform() -> bool:
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))


def _is_chainer(backend: Any) -> bool:
    from keyring.backends.chainer import ChainerBackend

    return isinstance(backend, ChainerBackend)


def _usable(chosen: Any) -> tuple[Any, list[Any]]:
    """The first real secret store among the keyring's choice (or its chain), and the chain."""
    if _is_chainer(chosen):
        chained = list(chosen.backends)
        return next((b for b in chained if _is_secure(b)), None), chained
    return (chosen if _is_secure(chosen) else None), []


def _secret_service_problem() -> str | None:
    """Why the Secret Service backend is not usable here, if this is a machine that would have one."""
    if not _dbus_platform():
        return None
    try:
        from keyring.backends import SecretService

        SecretService.Keyring.priority  # noqa: B018 - raises with the reason when unusable
    except Exception as error:  # RuntimeError with the reason, or a raw OSError from D-Bus
        reason = _plain(error) if isinstance(error, OSError | EOFError) else (str(error) or _plain(error))
        return f"none on the D-Bus session bus ({_bus_address()}): {reason}"
    return None


def _bus_address() -> str:
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    return f"DBUS_SESSION_BUS_ADDRESS={address}" if address else "DBUS_SESSION_BUS_ADDRESS is not set"


def _refusal(chosen: Any, chained: list[Any]) -> str:
    refused = chained if chained else [chosen]
    names = ", ".join(_backend_name(b) for b in refused)
    modules = {type(b).__module__ for b in refused}
    if (not chained and _is_chainer(chosen)) or modules <= {"keyring.backends.fail"}:
        what = "no keyring backend is available (no Secret Service, KWallet, Keychain or Credential Locker found)"
    elif modules <= {"keyring.backends.null"}:
        what = "the keyring is disabled (keyring.backends.null)"
    elif all(m.startswith("keyrings.alt") for m in modules):
        what = (
            f"the keyring backend {names} keeps secrets in a file of its own (in clear or with home-made "
            "encryption), and gme-tui refuses to store credentials there"
        )
    else:
        what = (
            f"the keyring backend {names} is not a secret store gme-tui trusts (only Secret Service, "
            "KWallet, the macOS Keychain and the Windows Credential Locker are)"
        )
    notes = []
    problem = _secret_service_problem()
    if problem:
        notes.append(f"Secret Service: {problem}")
    chosen_by = os.environ.get("PYTHON_KEYRING_BACKEND")
    if chosen_by:
        notes.append(f"PYTHON_KEYRING_BACKEND={chosen_by} chose it")
    detail = f" ({'; '.join(notes)})" if notes else ""
    return f"{what}{detail}. {HOW_TO_GO_ON}"


# --- failures -------------------------------------------------------------------


def _plain(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _explain(error: BaseException, backend: str, doing: str, over_dbus: bool) -> str:
    chain = _chain(error)
    names = {type(e).__name__ for e in chain}
    modules = {type(e).__module__ for e in chain}
    if names & {"KeyringLocked", "LockedException", "PromptDismissedException"}:
        return (
            f"the keyring collection is locked and was not unlocked while {doing} (the unlock prompt "
            f"failed or was dismissed; backend {backend}). To go on, unlock it (log in to the desktop "
            f"session, or answer the unlock prompt) and try again, or {ENVIRONMENT_WAY}."
        )
    if "NoKeyringError" in names:
        return f"no keyring backend is available. {HOW_TO_GO_ON}"
    dbus_error = next((e for e in chain if type(e).__name__ == "DBusErrorResponse"), None)
    if dbus_error is not None:
        return (
            f"the Secret Service answered with a D-Bus error while {doing}: {dbus_error} "
            f"(backend {backend}). {HOW_TO_GO_ON}"
        )
    unreachable = "SecretServiceNotAvailableException" in names or any(
        isinstance(e, (OSError, EOFError)) for e in chain
    )
    if unreachable and (
        over_dbus or any(m.startswith(("jeepney", "secretstorage", "dbus")) for m in modules)
    ):
        return (
            f"cannot reach the Secret Service over D-Bus while {doing}: {_plain(error)} ({_bus_address()}); "
            f"the D-Bus session bus or the keyring daemon is gone. {HOW_TO_GO_ON}"
        )
    if "InitError" in names:
        return f"cannot open the keyring collection while {doing}: {_plain(error)} (backend {backend}). {HOW_TO_GO_ON}"
    if isinstance(error, ImportError):
        return f"the python keyring package cannot be loaded: {_plain(error)}. {HOW_TO_GO_ON}"
    return f"the keyring ({backend}) failed while {doing}: {_plain(error)}. {HOW_TO_GO_ON}"


# --- the store ------------------------------------------------------------------


class KeyringStore:
    """The profiles' credentials in the OS keyring, one entry per profile.

    An entry's password is a compact JSON of secret_id, secret_key and token, so a
    profile is written in one call; the entry `__profiles__` lists the names (no
    secret), because not every backend can enumerate its entries.
    """

    def __init__(self, service: str = SERVICE, timeout: float | None = None):
        self.service = service
        self.timeout = _timeout_from_env() if timeout is None else _seconds(float(timeout), "timeout")
        self._backend: Any = None
        self._backend_lock = threading.Lock()
        self._index_lock = threading.Lock()  # read-modify-write of the index, within this process

    # The public operations. Each runs whole in one bounded worker thread.

    def get(self, profile: str) -> SigningKey | None:
        name = check_profile(profile)

        def work(backend: Any) -> SigningKey | None:
            text = backend.get_password(self.service, name)
            return None if text is None else _decode(name, text)

        return self._run(f"reading profile {name}", work)

    def set(self, profile: str, key: SigningKey) -> None:
        name = check_profile(profile)
        _check_key(key)
        payload = _encode(key)

        def work(backend: Any) -> None:
            backend.set_password(self.service, name, payload)
            with self._index_lock:
                names = _decode_index(backend.get_password(self.service, INDEX_USERNAME))
                if name not in names:
                    self._write_index(backend, [*names, name])

        self._run(f"storing profile {name}", work)

    def delete(self, profile: str) -> bool:
        name = check_profile(profile)

        def work(backend: Any) -> bool:
            from keyring.errors import PasswordDeleteError

            existed = backend.get_password(self.service, name) is not None
            if existed:
                try:
                    backend.delete_password(self.service, name)
                except PasswordDeleteError:  # gone in between
                    existed = False
            with self._index_lock:
                names = _decode_index(backend.get_password(self.service, INDEX_USERNAME))
                if name in names:
                    self._write_index(backend, [n for n in names if n != name])
            return existed

        return self._run(f"deleting profile {name}", work)

    def list_profiles(self) -> list[str]:
        return self._run(
            "listing the profiles",
            lambda backend: _decode_index(backend.get_password(self.service, INDEX_USERNAME)),
        )

    def backend_name(self) -> str:
        """The backend this store uses; a refused one is named with the reason, without raising."""

        def work() -> str:
            try:
                return _backend_name(self._select())
            except KeyringUnavailable:
                import keyring

                chosen = keyring.get_keyring()
                return f"{_backend_name(chosen)} (refused: not a secret store gme-tui trusts)"

        return self._bounded("finding the keyring backend", work, backend="keyring")

    # Machinery.

    def _write_index(self, backend: Any, names: list[str]) -> None:
        backend.set_password(
            self.service, INDEX_USERNAME, json.dumps(sorted(set(names)), separators=(",", ":"))
        )

    def _select(self) -> Any:
        """The backend to use: the keyring's choice if it is a real secret store (the first
        such one of a chain), else `KeyringUnavailable`. Runs in the worker thread: detection
        may talk to D-Bus."""
        with self._backend_lock:
            if self._backend is not None:
                return self._backend
            import keyring
            from keyring.backend import get_all_keyring

            chosen = keyring.get_keyring()
            backend, chained = _usable(chosen)
            if backend is None and not os.environ.get("PYTHON_KEYRING_BACKEND"):
                # keyring detects once per process; a Secret Service started or unlocked
                # since then is found only by detecting again.
                with contextlib.suppress(KeyError):  # KeyError: nothing detected yet
                    get_all_keyring.reset()
                keyring.core.init_backend()
                chosen = keyring.get_keyring()
                backend, chained = _usable(chosen)
            if backend is None:
                raise KeyringUnavailable(_refusal(chosen, chained))
            self._backend = backend
            return backend

    def _run(self, doing: str, work: Callable[[Any], T]) -> T:
        def task() -> T:
            return work(self._select())

        name = _backend_name(self._backend) if self._backend is not None else "keyring"
        return self._bounded(doing, task, backend=name)

    def _bounded(self, doing: str, task: Callable[[], T], backend: str) -> T:
        """Run `task` in a daemon thread; give up after the timeout (the thread is left to end alone)."""
        box: dict[str, Any] = {}
        done = threading.Event()

        def target() -> None:
            try:
                box["value"] = task()
            except BaseException as error:  # noqa: BLE001 - carried to the caller, translated there
                box["error"] = error
            finally:
                done.set()

        worker = threading.Thread(target=target, name=f"gme-tui keyring: {doing}", daemon=True)
        worker.start()
        if not done.wait(self.timeout):
            raise KeyringUnavailable(
                f"timed out after {self.timeout:g} s waiting for the keyring while {doing}: a locked "
                "collection is probably waiting for an unlock prompt (or the keyring daemon does not "
                "answer). To go on, unlock the keyring (answer the prompt) and try again, allow more time "
                f"with {TIMEOUT_ENV}=SECONDS, or {ENVIRONMENT_WAY}."
            )
        if "error" not in box:
            return box["value"]
        error = box["error"]
        if isinstance(error, KeyringUnavailable | CredentialsMissing | FieldError):
            raise error
        chosen = self._backend
        if chosen is not None:
            backend = _backend_name(chosen)
        # Before a backend is chosen, a failure on Linux comes from probing the Secret Service.
        over_dbus = _comes_from(chosen, _DBUS_BACKEND_MODULES) if chosen is not None else _dbus_platform()
        raise KeyringUnavailable(_explain(error, backend, doing, over_dbus)) from error


# --- resolution -----------------------------------------------------------------


def resolve(
    profile: str, store: KeyringStore | None = None, environ: Mapping[str, str] | None = None
) -> Resolved:
    """The key to use: the environment when it holds both parts, else the profile's keyring entry."""
    name = check_profile(profile)
    env = os.environ if environ is None else environ
    try:
        return Resolved(from_environment(env), "environment")
    except CredentialsMissing:
        pass
    key = (store if store is not None else KeyringStore()).get(name)
    if key is not None:
        return Resolved(key, keyring_source(name))
    half = [n for n in (SECRET_ID_ENV, SECRET_KEY_ENV) if env.get(n, "").strip()]
    note = f" ({half[0]} is set but not the other)" if half else ""
    raise CredentialsMissing(
        f"no credentials for profile {name}{note}: set {SECRET_ID_ENV} and {SECRET_KEY_ENV} in the environment, "
        f"or store them in the keyring with `gme-tui credentials set --profile {name} --secret-id ID` "
        "(or try the local emulator with --demo)"
    )


# --- tccli ------------------------------------------------------------------------


def read_tccli(tccli_profile: str = "default", home: Path | None = None) -> SigningKey:
    """The key of a profile of the official command-line client, from ~/.tccli/NAME.credential."""
    name = check_profile(tccli_profile, "--tccli-profile")
    try:
        base = Path.home() if home is None else Path(home)
    except RuntimeError as error:
        raise CredentialsMissing(f"cannot find the home folder to read tccli credentials: {error}") from None
    path = base / ".tccli" / f"{name}.credential"
    try:
        text = read_text(path, "tccli credential file")
    except UnreadableFile as error:
        if error.missing:
            raise CredentialsMissing(
                f"no tccli credentials at {path}: run `tccli configure --profile {name}` first, "
                "or name another profile with --tccli-profile"
            ) from None
        raise CredentialsMissing(str(error)) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:  # its message holds a position, never the content
        raise CredentialsMissing(
            f"{path} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except RecursionError:  # [[[[... deeper than the interpreter goes
        raise CredentialsMissing(f"{path} is not a tccli credential file (it is nested too deep)") from None
    if not isinstance(data, dict):
        raise CredentialsMissing(f"{path} is not a JSON object with secretId and secretKey")
    missing = [k for k in ("secretId", "secretKey") if not (isinstance(data.get(k), str) and data[k].strip())]
    if missing:
        raise CredentialsMissing(
            f"{path} has no {' and no '.join(missing)}; run `tccli configure --profile {name}`"
        )
    token = data.get("token")
    if token is not None and not isinstance(token, str):
        raise CredentialsMissing(f"{path} has a token that is not a string")
    key = SigningKey(data["secretId"].strip(), data["secretKey"].strip(), (token or "").strip() or None)
    try:
        _check_key(key, ("secretId", "secretKey", "token"))
    except FieldError as error:
        raise CredentialsMissing(f"{path}: {error}") from None
    return key
