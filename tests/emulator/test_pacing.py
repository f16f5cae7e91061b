"""Pacing measured where the service counts: at the emulator, over loopback.

One client sends 100 StartRecords at once; the emulator keeps the time each one
reached its rate limit. No one-second window there may hold more than twenty (the
emulator would have refused the 21st). Full rate is checked without timing: every
send either went as soon as it asked or exactly a window after an answer, never
later; the rate that gives on this machine (19 or more per second where a round
trip takes under 50 ms) is measured by benchmarks/shared_limit.py, since a loaded
machine's round trips would make it a test of the machine.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gme_tui.api.actions import StartRecord
from gme_tui.api.client import GmeClient, RateLimiter, Ticket
from gme_tui.api.errors import ServiceError
from gme_tui.api.fields import RecordMode
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.send_slots import FILE_NAME, SharedLimiter

SENDS = 100
LIMIT = 20


def most_in_a_second(arrivals: list[float]) -> int:
    times = sorted(arrivals)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


@pytest.mark.parametrize("shared", [False, True], ids=["process", "shared-file"])
async def test_a_hundred_starts_at_once_go_at_full_rate_and_never_over(emulator, tmp_path, shared):
    limiter = SharedLimiter(tmp_path / FILE_NAME) if shared else RateLimiter()
    given: list[tuple[Ticket, float]] = []  # each ticket, and the limiter's clock just after
    reserve = limiter.reserve

    def noted(*args: Any, **kwargs: Any) -> Ticket | None:
        ticket = reserve(*args, **kwargs)
        if ticket is not None:
            given.append((ticket, limiter._clock()))  # noqa: SLF001
        return ticket

    limiter.reserve = noted  # type: ignore[method-assign]
    async with GmeClient(DEMO_KEY, endpoint=emulator.url, limiter=limiter, use_env_proxies=False) as client:
        results = await asyncio.gather(
            *(client.call(StartRecord(DEMO_BIZ_ID, f"pace-{n}", RecordMode.MIXED)) for n in range(SENDS)),
            return_exceptions=True,
        )
    if shared:
        assert limiter.problem is None
        limiter.close()
    codes = [result.code for result in results if isinstance(result, ServiceError)]
    assert codes == []  # no RequestLimitExceeded, nor anything else
    assert [r for r in results if isinstance(r, Exception)] == []
    arrivals = sorted(emulator.service.start_arrivals())
    assert len(arrivals) == SENDS
    assert most_in_a_second(arrivals) <= LIMIT
    assert len(given) == SENDS and all(ticket.answer is not None for ticket, _asked in given)
    ends = {ticket.answer + limiter.window for ticket, _asked in given}
    late = [ticket for ticket, asked in given if ticket.slot > asked and ticket.slot not in ends]
    assert late == []  # no margin, no wait beyond an answer and a window
