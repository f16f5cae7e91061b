"""Injected faults: the network and gateway failures a real client must survive.

A client's hardest case is not an error code but an answer that never arrives,
or arrives broken, after the service may already have acted. Each kind below
reproduces one such case on demand, so the console's handling of "outcome
unknown" can be tested against real sockets rather than mocks.

Kinds, and whether the action is applied on the service side:

- ``delay``: sleep ``seconds`` then answer normally (applied).
- ``http502``: HTTP 502 with an HTML body, like a load balancer (not applied).
- ``nonjson``: HTTP 200, ``application/json``, a body that is not JSON (not applied).
- ``truncated``: full Content-Length, half the body, then close (applied).
- ``drop``: close the socket with no answer at all (applied).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

KINDS = ("delay", "http502", "nonjson", "truncated", "drop")
#: kinds whose action runs before the answer goes wrong: the outcome is unknown to the client
APPLIED = frozenset({"delay", "truncated", "drop"})
DEFAULT_DELAY = 1.0


@dataclass
class Fault:
    """One armed fault. ``count`` None means until cleared; ``action`` None means any action."""

    kind: str
    count: int | None = None
    seconds: float = 0.0
    action: str | None = None

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def make_fault(
    kind: str, *, count: int | None = None, seconds: float | None = None, action: str | None = None
) -> Fault:
    """A checked Fault; ValueError says what is wrong (the control endpoint shows it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; kinds: {', '.join(KINDS)}")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"count must be a positive integer or null (got {count!r})")
    if seconds is None:
        seconds = DEFAULT_DELAY if kind == "delay" else 0.0
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 600:
        raise ValueError(f"seconds must be a number from 0 to 600 (got {seconds!r})")
    if action is not None and (not isinstance(action, str) or not action):
        raise ValueError(f"action must be an action name or null (got {action!r})")
    return Fault(kind, count, float(seconds), action)


def parse_spec(text: str) -> Fault:
    """Read the command line form ``KIND[=SECONDS][:COUNT][@ACTION]``.

    Examples: ``delay=2`` (every call waits 2 s), ``http502:1`` (the next call),
    ``drop:1@StartRecord`` (the next StartRecord only).
    """
    rest, _, action = text.strip().partition("@")
    rest, _, count_text = rest.partition(":")
    kind, _, seconds_text = rest.partition("=")
    try:
        count = int(count_text) if count_text else None
        seconds = float(seconds_text) if seconds_text else None
    except ValueError:
        raise ValueError(f"bad fault {text!r}: use KIND[=SECONDS][:COUNT][@ACTION]") from None
    return make_fault(kind.strip(), count=count, seconds=seconds, action=action.strip() or None)


class FaultPlan:
    """The armed faults, in the order they were set; thread-safe.

    The first armed fault matching a request's action is used and, if it has a
    count, consumed. Setting a kind again for the same action replaces it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def set(
        self, kind: str, *, count: int | None = None, seconds: float | None = None, action: str | None = None
    ) -> Fault:
        fault = make_fault(kind, count=count, seconds=seconds, action=action)
        self.add(fault)
        return fault

    def add(self, fault: Fault) -> None:
        """Arm a fault already made (`make_fault`, `parse_spec`), in place of one of its kind and action."""
        with self._lock:
            self._faults = [f for f in self._faults if (f.kind, f.action) != (fault.kind, fault.action)]
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, action: str) -> Fault | None:
        """The fault for this request (a copy), consuming one use of it."""
        with self._lock:
            for fault in self._faults:
                if fault.action is not None and fault.action != action:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                return Fault(fault.kind, 1, fault.seconds, fault.action)
        return None

    def snapshot(self) -> list[dict[str, object]]:
        with self._lock:
            return [f.as_json() for f in self._faults]
