"""The HTTP side of the emulator: a threaded server and the request handler.

It speaks the wire format the official SDKs read (HTTP 200, ``Content-Type:
application/json`` exactly, ``{"Response": {...}}``) and applies the armed
faults. Out-of-band control lives under ``/_emulator/``, unsigned, and is never
subject to faults.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

from ..api.actions import encode_body
from .faults import Fault

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .server import Emulator

JSON_TYPE = "application/json"
MAX_BODY = 10 * 1024 * 1024
_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
    b"<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)
_NOT_JSON = b"<html><body>Service temporarily unavailable</body></html>"


class Server(ThreadingHTTPServer):
    """Keeps track of open connections so that stop() can end idle keep-alive ones."""

    daemon_threads = True

    def __init__(self, listener: socket.socket, emulator: Emulator) -> None:
        """Serve on a socket already bound and listening (`Emulator.reserve`)."""
        self.address_family = listener.family
        self.emulator = emulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(listener.getsockname(), Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        self.server_address = listener.getsockname()
        host, port = listener.getsockname()[:2]
        self.server_name, self.server_port = str(host), int(port)  # no getfqdn: it can stall

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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gme-tui-emulator"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection is closed after this
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: Server

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
        # Message is read only through a case-insensitive get, as a Mapping would be.
        answer = emulator.answer(cast("Mapping[str, str]", self.headers), body)
        if emulator.verbose:
            error = answer["Response"].get("Error")
            outcome = error["Code"] if error else "ok"
            sys.stderr.write(f"emulator: {action or '-'} -> {outcome}{f' ({fault.kind})' if fault else ''}\n")
        payload = encode_body(answer)
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
                spec.get("kind", ""),
                count=spec.get("count"),
                seconds=spec.get("seconds"),
                action=spec.get("action"),
            )
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
        self._send(status, JSON_TYPE, encode_body(obj))

    def _send(
        self,
        status: int,
        content_type: str,
        payload: bytes,
        *,
        length: int | None = None,
        cut: int | None = None,
    ) -> None:
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
