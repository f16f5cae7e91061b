"""The HTTP face of the emulator: Tencent Cloud API 3.0 on loopback, standard library only.

It speaks the wire format the official SDKs read (HTTP 200, ``Content-Type:
application/json`` exactly, ``{"Response": {...}}``), verifies TC3-HMAC-SHA256
with the same functions the console signs with, and can break answers on
purpose (see ``faults``). Out-of-band control lives under ``/_emulator/``,
unsigned, and is never subject to faults.

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
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gme_tui.api import signing

from .faults import Fault, FaultPlan, parse_spec
from .state import ApiError, RecordingService

DEMO_SECRET_ID = "AKIDgmeTuiDemo0000000000000000000000"
#: hyphens on purpose: no real SecretKey looks like this, so it can never be mistaken for one
DEMO_SECRET_KEY = "demo-only-secret-key-not-a-real-one"
DEMO_BIZ_ID = 1400089356

JSON_TYPE = "application/json"
MAX_SKEW = 300
MAX_BODY = 10 * 1024 * 1024
#: how often the serving loop looks for stop(): short, so that tests do not wait on teardown
POLL = 0.01
_BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
                b"<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")
_NOT_JSON = b"<html><body>Service temporarily unavailable</body></html>"

RecordedRequest = tuple[str, dict[str, Any], dict[str, str]]


# --- signature -------------------------------------------------------------


def check_signature(headers: Mapping[str, str], body: bytes, credentials: Mapping[str, str], now: float) -> None:
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
        raise ApiError("AuthFailure.SecretIdNotFound",
                       "The SecretId is not found, please ensure that your SecretId is correct.")
    stamp_text = headers.get("X-TC-Timestamp")
    if stamp_text is None:
        raise ApiError("MissingParameter", "The request is missing a required parameter `X-TC-Timestamp`.")
    stamp_text = stamp_text.strip()
    if not (stamp_text.isascii() and stamp_text.isdigit()):
        raise ApiError("InvalidParameter", "The value of `X-TC-Timestamp` must be an integer of unix seconds.")
    timestamp = int(stamp_text)
    if abs(timestamp - now) > MAX_SKEW:
        raise ApiError("AuthFailure.SignatureExpire",
                       "Signature expired. Timestamp and server time cannot differ by more than 5 minutes.")
    if (parsed.service != signing.SERVICE or parsed.date != signing.utc_date(timestamp)
            or parsed.signed_headers != signing.SIGNED_HEADERS):
        raise _signature_failure()
    canonical = signing.canonical_request(headers.get("Host", ""), body, headers.get("Content-Type", ""))
    expected = signing.signature(secret_key, timestamp, signing.string_to_sign(timestamp, canonical))
    if not _same(expected, parsed.signature):
        raise _signature_failure()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _signature_failure() -> ApiError:
    return ApiError("AuthFailure.SignatureFailure",
                    "The provided credentials could not be validated. Please check your signature is correct.")


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


class _Server(ThreadingHTTPServer):
    """Keeps track of open connections so that stop() can end idle keep-alive ones."""

    daemon_threads = True
    #: the socketserver default of 5 drops SYNs when a client opens many connections at once
    #: (the client then stalls a second in TCP retransmission, hiding the rate limit)
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.emulator = emulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open(self) -> None:
        with self._open_lock:
            for sock in list(self._open):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.emulator.verbose:
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gme-tui-emulator"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: _Server

    # --- routing ----------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        body = self._read_body()
        if body is None:
            return
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._api(body)
        elif path == "/_emulator/faults":
            self._set_fault(body)
        else:
            self._send_control(404, {"error": f"no such path {path}"})

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        if path == "/_emulator/health":
            self._send_control(200, {"ok": True})
        elif path == "/_emulator/faults":
            self._send_control(200, {"faults": self.server.emulator.faults.snapshot()})
        else:
            self._send_control(404, {"error": "the API is POST /"})

    def do_DELETE(self) -> None:  # noqa: N802
        if self.path.split("?", 1)[0] == "/_emulator/faults":
            self.server.emulator.faults.clear()
            self._send_control(200, {"faults": []})
        else:
            self._send_control(404, {"error": "no such path"})

    # --- the API ----------------------------------------------------------

    def _api(self, body: bytes) -> None:
        emulator = self.server.emulator
        headers = {name: value for name, value in self.headers.items()}
        action = self.headers.get("X-TC-Action", "")
        emulator._record(action, body, headers)
        fault = emulator.faults.take(action)
        if fault is not None and not self._before(fault):
            return
        answer = emulator.answer(self.headers, body)
        if emulator.verbose:
            error = answer["Response"].get("Error")
            outcome = error["Code"] if error else "ok"
            sys.stderr.write(f"emulator: {action or '-'} -> {outcome}{f' ({fault.kind})' if fault else ''}\n")
        payload = _encode(answer)
        if fault is not None and fault.kind == "truncated":
            self._send(200, JSON_TYPE, payload, length=len(payload), cut=len(payload) // 2)
        elif fault is not None and fault.kind == "drop":
            self.close_connection = True
        else:
            self._send(200, JSON_TYPE, payload)

    def _before(self, fault: Fault) -> bool:
        """Apply the part of a fault that comes before the action; False if the action must not run."""
        if fault.kind == "delay":
            time.sleep(fault.seconds)
        elif fault.kind == "http502":
            self._send(502, "text/html", _BAD_GATEWAY)
            return False
        elif fault.kind == "nonjson":
            self._send(200, JSON_TYPE, _NOT_JSON)
            return False
        return True

    def _set_fault(self, body: bytes) -> None:
        try:
            spec = json.loads(body or b"{}")
            if not isinstance(spec, dict):
                raise ValueError("the body must be a JSON object")
            unknown = set(spec) - {"kind", "count", "seconds", "action"}
            if unknown:
                raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
            self.server.emulator.faults.set(
                spec.get("kind", ""), count=spec.get("count"), seconds=spec.get("seconds"),
                action=spec.get("action"))
        except ValueError as error:
            self._send_control(400, {"error": str(error)})
            return
        self._send_control(200, {"faults": self.server.emulator.faults.snapshot()})

    # --- plumbing ---------------------------------------------------------

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send_control(411, {"error": "send a Content-Length"})
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._send_control(413 if length > MAX_BODY else 400, {"error": "bad Content-Length"})
            return None
        return self.rfile.read(length) if length else b""

    def _send_control(self, status: int, obj: dict[str, Any]) -> None:
        self._send(status, JSON_TYPE, _encode(obj))

    def _send(self, status: int, content_type: str, payload: bytes, *,
              length: int | None = None, cut: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload) if length is None else length))
        if cut is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload if cut is None else payload[:cut])
        if cut is not None:
            self.close_connection = True

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass  # the client went away; nothing to answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base signature
        if self.server.emulator.verbose:
            sys.stderr.write(f"emulator: {self.address_string()} {format % args}\n")


def _encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- the public object -----------------------------------------------------


class Emulator:
    """A GME recording service on a local port, for tests and offline demos.

    ``clock`` is the service's idea of now (signature window, rate limit,
    RecordStatus progression); tests drive it to avoid sleeping.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        status_step: float = 1.0,
        clock: Callable[[], float] = time.time,
        *,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.credentials = dict(credentials if credentials is not None else {DEMO_SECRET_ID: DEMO_SECRET_KEY})
        self.clock = clock
        self.verbose = verbose
        self.service = RecordingService(clock=clock, status_step=status_step)
        self.faults = FaultPlan()
        self.requests: list[RecordedRequest] = []
        self._requests_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- life -------------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": POLL},
                                        name=f"gme-emulator:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_open()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

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
            return {"Response": {"Error": {"Code": error.code, "Message": error.message},
                                 "RequestId": request_id}}
        return {"Response": {**output, "RequestId": request_id}}

    def _record(self, action: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            params = json.loads(body) if body else {}
        except (ValueError, UnicodeDecodeError):
            params = {}
        with self._requests_lock:
            self.requests.append((action, params if isinstance(params, dict) else {}, headers))


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
) -> int:
    """Serve until Ctrl+C or SIGTERM; returns the exit status (0).

    Fault specs are ``KIND[=SECONDS][:COUNT][@ACTION]`` (see ``faults.parse_spec``);
    a bad one raises ValueError before anything listens.
    """
    plans = [parse_spec(text) for text in faults or ()]
    stopping = threading.Event()
    emulator = Emulator(host, port, {secret_id: secret_key}, status_step, verbose=verbose)
    for fault in plans:
        emulator.faults.add(fault)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        with emulator:
            print(f"GME emulator listening on {emulator.url}", flush=True)
            while not stopping.wait(0.2):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0
