"""The emulator as an object: Tencent Cloud API 3.0 on loopback, standard library only.

It verifies TC3-HMAC-SHA256 with the same functions the console signs with and
answers as the service does; ``transport`` carries that over HTTP in the wire
format the official SDKs read, and breaks answers on purpose (see ``faults``).
The HTTP side is imported only when the emulator starts serving, so that the
console's ``--demo`` can name its port before the first frame and serve right
after it.

Check order of an API call (first failure answers):
``X-TC-Action`` missing (MissingParameter) or unknown (InvalidAction);
``X-TC-Version`` missing (MissingParameter) or not 2018-07-11 (NoSuchVersion);
``Authorization`` absent (MissingParameter) or malformed (AuthFailure.SignatureFailure);
SecretId unknown (AuthFailure.SecretIdNotFound); ``X-TC-Timestamp`` missing
(MissingParameter), not an integer (InvalidParameter) or more than 300 s from
the emulator's clock (AuthFailure.SignatureExpire); credential date, service,
signed headers or signature wrong (AuthFailure.SignatureFailure); then the
service's own checks (``state.RecordingService.call``).
"""

from __future__ import annotations

import hmac
import json
import shlex
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gme_tui.api import signing
from gme_tui.demo import DEMO_BIZ_ID, DEMO_SECRET_ID, DEMO_SECRET_KEY, LOOPBACK, host_header, listen

from .faults import FaultPlan, parse_spec
from .state import ApiError, RecordingService
from .store import open_store

MAX_SKEW = 300
#: how often the serving loop looks for stop(): short, so that tests do not wait on teardown
POLL = 0.01

if TYPE_CHECKING:
    from .transport import Server

RecordedRequest = tuple[str, dict[str, Any], dict[str, str]]


# --- signature -------------------------------------------------------------


def check_signature(
    headers: Mapping[str, str], body: bytes, credentials: Mapping[str, str], now: float
) -> None:
    """Raise ApiError unless the request is signed by a known key within the time window.

    Recomputed over the body bytes, Host and Content-Type exactly as received:
    a client that signs one thing and sends another fails here, as it would live.
    """
    auth = headers.get("Authorization")
    if auth is None:
        raise ApiError("MissingParameter", "The request is missing a required parameter `Authorization`.")
    parsed = signing.parse_authorization(auth.strip())
    if parsed is None:
        raise _signature_failure()
    secret_key = credentials.get(parsed.secret_id)
    if secret_key is None:
        raise ApiError(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        )
    stamp_text = headers.get("X-TC-Timestamp")
    if stamp_text is None:
        raise ApiError("MissingParameter", "The request is missing a required parameter `X-TC-Timestamp`.")
    stamp_text = stamp_text.strip()
    if not (stamp_text.isascii() and stamp_text.isdigit()):
        raise ApiError(
            "InvalidParameter", "The value of `X-TC-Timestamp` must be an integer of unix seconds."
        )
    timestamp = int(stamp_text)
    if abs(timestamp - now) > MAX_SKEW:
        raise ApiError(
            "AuthFailure.SignatureExpire",
            "Signature expired. Timestamp and server time cannot differ by more than 5 minutes.",
        )
    if (
        parsed.service != signing.SERVICE
        or parsed.date != signing.utc_date(timestamp)
        or parsed.signed_headers != signing.SIGNED_HEADERS
    ):
        raise _signature_failure()
    canonical = signing.canonical_request(headers.get("Host", ""), body, headers.get("Content-Type", ""))
    expected = signing.signature(secret_key, timestamp, signing.string_to_sign(timestamp, canonical))
    if not _same(expected, parsed.signature):
        raise _signature_failure()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _signature_failure() -> ApiError:
    return ApiError(
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    )


def _check_common(headers: Mapping[str, str]) -> str:
    action = headers.get("X-TC-Action")
    if not action:
        raise ApiError("MissingParameter", "The request is missing a required parameter `X-TC-Action`.")
    if not RecordingService.knows(action):
        raise ApiError("InvalidAction", f"The action `{action}` is not found.")
    version = headers.get("X-TC-Version")
    if not version:
        raise ApiError("MissingParameter", "The request is missing a required parameter `X-TC-Version`.")
    if version != signing.VERSION:
        raise ApiError("NoSuchVersion", f"The API version `{version}` of `{action}` is not found.")
    return action


# --- HTTP ------------------------------------------------------------------


# --- the public object -----------------------------------------------------


class Emulator:
    """A GME recording service on a local port, for tests and offline demos.

    ``clock`` is the service's idea of now (signature window, rate limit,
    RecordStatus progression); tests drive it to avoid sleeping.

    ``state_file``: keep the tasks in this SQLite file, shared with every other
    emulator opened on it (the demo's, beside its history), instead of in memory.
    What was wrong with the file is in ``warnings`` (and passed to ``warn``, which
    prints to stderr unless given), never raised.

    ``listener``: a socket already listening (`gme_tui.demo.listen`), whose address
    this emulator serves on: the demo console takes its port before the first frame
    and makes its emulator after it.
    """

    def __init__(
        self,
        host: str = LOOPBACK,
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        status_step: float = 1.0,
        clock: Callable[[], float] = time.time,
        *,
        verbose: bool = False,
        state_file: Path | None = None,
        warn: Callable[[str], None] | None = None,
        listener: socket.socket | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.credentials = dict(credentials if credentials is not None else {DEMO_SECRET_ID: DEMO_SECRET_KEY})
        self.clock = clock
        self.verbose = verbose
        self.warnings: list[str] = []
        self._warn = warn or _to_stderr
        # The state file opens when the emulator starts serving: the demo console takes
        # its port before the first frame and serves after it, and the file can wait.
        self._state_file = state_file
        self.service = RecordingService(clock=clock, status_step=status_step, warn=self._warning)
        self.faults = FaultPlan()
        self.requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._listener: socket.socket | None = listener
        if listener is not None:
            self.host, self.port = listener.getsockname()[:2]
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- life -------------------------------------------------------------

    def reserve(self) -> Emulator:
        """Bind and listen now, so `url` is known; `start` serves. A request that comes
        in between waits in the listen queue, it is not refused."""
        if self._listener is None:
            self._listener = listen(self.host, self.port)
            self.port = self._listener.getsockname()[1]
        return self

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        from .transport import Server  # the HTTP side: only once serving

        if self._state_file is not None:
            self.service.store = open_store(self._state_file, self._warning)
            self._state_file = None

        self.reserve()
        assert self._listener is not None
        self._server = Server(self._listener, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL},
            name=f"gme-emulator:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and let go of the state file (it is opened again if served again)."""
        try:
            self._stop_serving()
        finally:
            self.service.store.close()

    def _stop_serving(self) -> None:
        server, self._server = self._server, None
        listener, self._listener = self._listener, None
        if server is None:
            if listener is not None:  # reserved, never served
                listener.close()
            return
        server.shutdown()
        server.server_close()
        server.close_open()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _warning(self, message: str) -> None:
        self.warnings.append(message)
        self._warn(message)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host_header(self) -> str:
        return host_header(self.host, self.port)

    @property
    def url(self) -> str:
        return f"http://{self.host_header}"

    # --- answering --------------------------------------------------------

    def answer(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The whole ``{"Response": ...}`` object for one API call."""
        request_id = str(uuid.uuid4())
        try:
            action = _check_common(headers)
            check_signature(headers, body, self.credentials, self.clock())
            output = self.service.call(action, body)
        except ApiError as error:
            return {
                "Response": {"Error": {"Code": error.code, "Message": error.message}, "RequestId": request_id}
            }
        return {"Response": {**output, "RequestId": request_id}}

    def _record(self, action: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            params = json.loads(body) if body else {}
        except (ValueError, UnicodeDecodeError):
            params = {}
        with self._requests_lock:
            self.requests.append((action, params if isinstance(params, dict) else {}, headers))


def _to_stderr(message: str) -> None:
    from gme_tui.safe_text import clean

    print(f"gme-tui: {clean(message, one_line=True)}", file=sys.stderr, flush=True)


# --- command line ----------------------------------------------------------


def run_forever(
    host: str,
    port: int,
    secret_id: str = DEMO_SECRET_ID,
    secret_key: str = DEMO_SECRET_KEY,
    faults: list[str] | None = None,
    verbose: bool = False,
    *,
    status_step: float = 1.0,
    state_file: Path | None = None,
) -> int:
    """Serve until Ctrl+C or SIGTERM; returns the exit status (0).

    Fault specs are ``KIND[=SECONDS][:COUNT][@ACTION]`` (see ``faults.parse_spec``);
    a bad one raises ValueError before anything listens. ``state_file``: keep the
    tasks there (see ``Emulator``), else in memory until it ends.
    """
    plans = [parse_spec(text) for text in faults or ()]
    stopping = threading.Event()
    emulator = Emulator(
        host, port, {secret_id: secret_key}, status_step, verbose=verbose, state_file=state_file
    )
    for fault in plans:
        emulator.faults.add(fault)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with emulator:
            print(banner(emulator, demo_key=secret_key == DEMO_SECRET_KEY), flush=True)
            while not stopping.wait(0.2):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def banner(emulator: Emulator, *, demo_key: bool) -> str:
    """What `gme-tui emulator` says first: where it listens, whom it lets in and how to
    point a client at it, ready to paste. A key the operator chose is never echoed."""
    from gme_tui.safe_text import clean

    [(secret_id, _)] = emulator.credentials.items()
    url = emulator.url
    key = shlex.quote(DEMO_SECRET_KEY) if demo_key else "'<the key given with --secret-key>'"
    where = emulator.service.store.path
    lines = [
        f"GME emulator listening on {url}",
        f"It accepts SecretId {clean(secret_id, one_line=True)} with "
        + (
            "the demo SecretKey (a test key, not a secret)."
            if demo_key
            else "the key given with --secret-key."
        ),
        "Tasks are kept in "
        + (f"{clean(str(where), one_line=True)}." if where else "memory until the emulator stops."),
        "Point gme-tui (or tccli, which reads the same variables) at it:",
        f"  export TENCENTCLOUD_SECRET_ID={shlex.quote(clean(secret_id, one_line=True))}",
        f"  export TENCENTCLOUD_SECRET_KEY={key}",
        f"  gme-tui --endpoint {url} start --biz-id {DEMO_BIZ_ID} --room-id demo-room --mode 2",
        f"  gme-tui --endpoint {url} describe-task --biz-id {DEMO_BIZ_ID} --room-id demo-room",
        f"  tccli gme DescribeTaskInfo --endpoint {emulator.host_header} --BizId {DEMO_BIZ_ID} --RoomId demo-room",
        "  (tccli connects with https: it needs a TLS proxy in front of this plain-http port)",
        "Ctrl+C stops it.",
    ]
    return "\n".join(lines)
