"""What `--demo` is made of: the key and BizId its emulator accepts, and the loopback
port that emulator serves on, taken before it exists.

Apart from `gme_tui.emulator` so that the console's demo names its endpoint and key
before the first frame without importing the emulator (its state, store and SQLite),
which starts serving right after that frame.
"""

from __future__ import annotations

import socket

from .api.signing import SigningKey

DEMO_SECRET_ID = "AKIDgmeTuiDemo0000000000000000000000"
#: hyphens on purpose: no real SecretKey looks like this, so it can never be mistaken for one
DEMO_SECRET_KEY = "demo-only-secret-key-not-a-real-one"
DEMO_BIZ_ID = 1400089356
#: the key `--demo` signs with, and the one an emulator accepts unless told otherwise
DEMO_KEY = SigningKey(DEMO_SECRET_ID, DEMO_SECRET_KEY)

#: where an emulator listens unless told otherwise
LOOPBACK = "127.0.0.1"
#: the socketserver default of 5 drops SYNs when a client opens many connections at once
#: (the client then stalls a second in TCP retransmission, hiding the rate limit)
LISTEN_BACKLOG = 128


def listen(host: str = LOOPBACK, port: int = 0) -> socket.socket:
    """A listening TCP socket, bound as socketserver binds one: address reuse on, and
    the system's own IPv6-only default, so `::` takes IPv4 too where the system does."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def host_header(host: str, port: int) -> str:
    """`host:port` as a Host header and a URL write it (an IPv6 address in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
