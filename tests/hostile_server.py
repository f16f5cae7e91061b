"""A loopback HTTP server that answers with whatever raw bytes a test gives it.

The emulator answers like the service, even when it misbehaves on purpose; this
one answers like a broken proxy or an attacker: bytes that are not HTTP, a gzip
body that does not inflate, JSON nested a million deep, a body cut mid-way.
Each connection reads one request (headers and Content-Length body), records
it, sends the armed reply and closes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from gme_tui.api.client import MAX_ANSWER
from gme_tui.api.errors import BadAnswerError, OutcomeUnknownError

#: a reply: raw bytes sent as they are, or a function that writes to the connection itself
Reply = bytes | Callable[[socket.socket], None]


def http_answer(
    body: bytes, *, status: str = "200 OK", headers: dict[str, str] | None = None, length: int | None = None
) -> bytes:
    """An HTTP/1.1 answer's bytes; `length` may lie about the body (a cut answer)."""
    head = {
        "Content-Type": "application/json",
        "Content-Length": str(len(body) if length is None else length),
        "Connection": "close",
        **(headers or {}),
    }
    lines = "".join(f"{name}: {value}\r\n" for name, value in head.items())
    return f"HTTP/1.1 {status}\r\n{lines}\r\n".encode("latin-1") + body


class HostileServer:
    def __init__(self, reply: Reply = b"") -> None:
        self.reply = reply
        #: every request received whole, as raw bytes
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)  # the accept loop looks at `_stopping` this often
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hostile-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(10)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            try:
                request = _read_request(conn)
                if request is None:
                    return
                self.requests.append(request)
                if callable(self.reply):
                    self.reply(conn)
                else:
                    conn.sendall(self.reply)
                conn.shutdown(socket.SHUT_WR)
                conn.recv(1)  # until the client closes: its reads see every byte, then the end
            except OSError:
                pass


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


# --- answers no GME service gives, each with the error it must become -------------


def _gzip_bomb() -> bytes:
    import gzip

    return gzip.compress(b"0" * (MAX_ANSWER + 1))  # some kB on the wire, more than the bound inflated


def _drip_headers(conn: socket.socket) -> None:
    """Headers a byte at a time, each well inside a read timeout, for some ten seconds."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n":
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


HOSTILE = {
    # a 200 whose gzip body does not inflate (httpx.DecodingError)
    "broken-gzip": (
        http_answer(
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03not deflate at all",
            headers={"Content-Encoding": "gzip"},
        ),
        BadAnswerError,
        "could not be decoded",
    ),
    "gzip-bomb": (
        http_answer(_gzip_bomb(), headers={"Content-Encoding": "gzip"}),
        BadAnswerError,
        "larger than",
    ),
    # valid JSON that json cannot descend (RecursionError): 100,000 deep, 200 kB, under the size bound
    "deep-json": (
        http_answer(b'{"Response": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        BadAnswerError,
        "nested too deep",
    ),
    "not-http": (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", BadAnswerError, "not HTTP"),
    "cut-mid-body": (http_answer(b'{"Response": {"TaskId": 4461', length=200), BadAnswerError, "truncated"),
    "closed-with-nothing": (b"", OutcomeUnknownError, "connection was lost"),
    "dripped-headers": (_drip_headers, OutcomeUnknownError, "no answer within"),
}
