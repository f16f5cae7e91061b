"""The send rule (`api.client.RateLimiter`, `send_slots.SharedLimiter`), with a fake clock.

A send leaves only while fewer than twenty sends are open (no answer yet) or were
answered within the last second: so the 21st waits for an answer and one second
after it, an unanswered ticket holds its place, and a ticket a killed process left
open counts as answered at its bound. A simulation with random network delays then
checks the point of it all: at the service, no one-second window holds more than
twenty arrivals, whatever the delays.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import threading
import time

import pytest

from gme_tui.api.client import ALLOWANCE, POLL, RateLimiter, Ticket, next_slot
from gme_tui.send_slots import FILE_NAME, SharedLimiter


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def take(limiter: RateLimiter, count: int, **kwargs: float) -> list[Ticket]:
    tickets = [limiter.reserve(**kwargs) for _ in range(count)]
    assert None not in tickets
    return tickets  # type: ignore[return-value]


def test_the_21st_waits_for_the_1sts_answer_and_one_second():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    first = take(limiter, 20)
    assert {ticket.slot for ticket in first} == {clock.now}  # twenty at once
    assert limiter.reserve() is None  # no answer yet: no slot to give
    clock.now += 0.3
    limiter.answered(first[0])
    assert limiter.reserve().slot == clock.now + 1.0  # one second after that answer
    assert limiter.reserve() is None  # the 22nd: the 2nd is still open


def test_answers_in_order_pace_each_send_on_the_one_twenty_before():
    clock = Clock(0.0)
    limiter = RateLimiter(clock=clock)
    tickets = take(limiter, 20)
    for k in range(20, 60):
        clock.now = max(clock.now, tickets[k - 20].slot) + 0.01  # its answer, a round trip later
        limiter.answered(tickets[k - 20])
        ticket = limiter.reserve()
        assert ticket is not None and ticket.slot == pytest.approx(tickets[k - 20].answer + 1.0)
        tickets.append(ticket)


def test_an_unanswered_ticket_holds_its_place_until_answered():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    first = take(limiter, 20)
    clock.now += 0.1
    for ticket in first[1:]:  # all but the first answered
        limiter.answered(ticket)
    later = take(limiter, 19)  # each a second after one of those answers
    assert [ticket.slot for ticket in later] == [clock.now + 1.0] * 19
    assert limiter.reserve() is None  # the 40th needs the first's answer
    clock.now += 2.0  # long after every answer but the first's: still nothing
    assert limiter.reserve() is None
    limiter.answered(first[0])
    assert limiter.reserve().slot == clock.now + 1.0


def test_a_failure_counts_as_the_answer_and_a_ticket_never_told_ends_at_its_bound():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    first = take(limiter, 20, hold=5.0)
    assert first[0].bound == first[0].slot + 5.0 + ALLOWANCE
    clock.now = first[0].bound - 0.01
    assert limiter.reserve() is None
    clock.now = first[0].bound  # counts as answered at its bound
    assert limiter.reserve().slot == first[0].bound + 1.0


def test_a_killed_processs_open_slots_are_released_at_their_bound(tmp_path):
    clock = Clock()
    killed = SharedLimiter(tmp_path / FILE_NAME, clock=clock)
    left_open = take(killed, 20, hold=10.0)  # then killed: none of them is ever answered
    killed.close()
    other = SharedLimiter(tmp_path / FILE_NAME, clock=clock)
    bound = left_open[0].bound
    assert bound == clock.now + 10.0 + ALLOWANCE
    clock.now = bound - 0.01
    assert other.reserve() is None  # may still be in flight: waited on
    clock.now = bound
    assert other.reserve().slot == bound + 1.0  # as if answered at the bound
    assert other.problem is None
    other.close()


def test_a_background_caller_leaves_spare_slots_for_the_operator():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    first = take(limiter, 11)
    assert limiter.reserve(spare=8) is not None  # the 12th: 8 left beside it
    assert limiter.reserve(spare=8) is None  # a 13th would leave 7
    assert limiter.reserve() is not None  # the operator's is not held back
    clock.now += 0.1
    limiter.answered(first[0])
    limiter.answered(first[1])
    assert limiter.reserve(spare=8) is None  # answered, but within the window: still counted
    clock.now += 1.0
    assert limiter.reserve(spare=8) is not None  # now the window has passed for both


def test_next_slot_counts_queued_tickets_as_open():
    now = 10.0
    assert next_slot(now, [None] * 19, 20) == now
    assert next_slot(now, [None] * 20, 20) is None
    assert next_slot(now, [None] * 19 + [10.5], 20) == 10.5
    assert next_slot(now, [None] * 19 + [9.5], 20) == now  # that one no longer counts


def test_a_wait_cancelled_before_its_slot_gives_its_place_back():
    limiter = RateLimiter(limit=1, window=0.2)

    async def scenario() -> None:
        first = await limiter.wait()
        limiter.answered(first)
        waiting = asyncio.create_task(limiter.wait())  # a window after that answer
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(scenario())
    assert all(ticket.answer is not None for ticket in limiter._tickets)  # noqa: SLF001


def test_waiters_queue_in_turn_and_poll_one_at_a_time():
    """Many tasks waiting on an answer: one of them looks, the others wait their turn,
    and each gets a slot a window after an answer (both drivers)."""
    limiter = RateLimiter(limit=2, window=0.1)
    looks = 0
    reserve = limiter.reserve

    def counted(*args, **kwargs):
        nonlocal looks
        looks += 1
        return reserve(*args, **kwargs)

    limiter.reserve = counted  # type: ignore[method-assign]

    async def one() -> float:
        ticket = await limiter.wait()
        await asyncio.sleep(0.05)  # its round trip
        await limiter.done(ticket)
        return ticket.slot

    async def many() -> list[float]:
        return await asyncio.gather(*(one() for _ in range(6)))

    started = time.monotonic()
    slots = sorted(asyncio.run(many()))
    took = time.monotonic() - started
    assert all(later - earlier >= 0 for earlier, later in zip(slots, slots[2:], strict=False))
    assert slots[2] - slots[0] >= 0.15 - 1e-6  # an answer after 0.05, then the window
    assert looks <= 6 + took / POLL + 2  # one looks at a time, not every waiter

    done: list[float] = []

    def blocking() -> None:
        ticket = limiter.wait_sync()
        done.append(ticket.slot)
        time.sleep(0.05)
        limiter.done_sync(ticket)

    threads = [threading.Thread(target=blocking) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    done.sort()
    assert len(done) == 4 and done[2] - done[0] >= 0.15 - 1e-6


def simulate(seed: int, sends: int = 300, *, limit: int = 20) -> list[float]:
    """Sends released at once through one limiter with a fake clock, waiting in turn as
    `wait` has them, each with its own delays out, at the service and back (long ones
    among them, some lost: a timeout is the answer then). Returns the arrivals at the service."""
    rng = random.Random(seed)
    clock = Clock(0.0)
    limiter = RateLimiter(limit=limit, clock=clock)
    events: list[tuple[float, int, str, Ticket | None]] = []
    order = 0

    def at(when: float, what: str, ticket: Ticket | None = None) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (when, order, what, ticket))

    arrivals: list[float] = []
    waiting = sends
    at(0.0, "ask")  # the head of the queue looks; the others wait their turn
    while events:
        clock.now, _n, what, ticket = heapq.heappop(events)
        if what == "ask":
            got = limiter.reserve(hold=3.0)
            if got is None:
                at(clock.now + POLL, "ask")
                continue
            at(got.slot + rng.uniform(0, 0.01), "send", got)  # a late wake-up
            waiting -= 1
            if waiting:
                at(clock.now, "ask")
        elif what == "send":
            out = rng.choice([0.001, 0.01, 0.05, 0.3, 0.9]) * rng.random()
            arrivals.append(clock.now + out)
            if rng.random() < 0.05:  # no answer: given up on at the timeout
                at(clock.now + 3.0, "answer", ticket)
            else:
                back = rng.choice([0.001, 0.01, 0.2, 1.5]) * rng.random()
                at(clock.now + out + rng.uniform(0, 0.02) + back, "answer", ticket)
        else:
            assert ticket is not None
            limiter.answered(ticket)
    return sorted(arrivals)


@pytest.mark.parametrize("seed", range(8))
def test_no_window_at_the_service_holds_more_than_twenty_whatever_the_delays(seed):
    arrivals = simulate(seed)
    assert len(arrivals) == 300
    most = max(sum(1 for t in arrivals[i:] if t < start + 1.0) for i, start in enumerate(arrivals))
    assert most <= 20


def test_with_quick_answers_the_rate_is_close_to_the_limit():
    clock = Clock(0.0)
    limiter = RateLimiter(clock=clock)
    open_: list[Ticket] = []
    sent: list[float] = []
    while len(sent) < 200:
        ticket = limiter.reserve()
        if ticket is None:  # each answer comes back a round trip after its send left
            oldest = min(open_, key=lambda t: t.slot)
            clock.now = max(clock.now, oldest.slot + 0.01)
            limiter.answered(oldest, at=oldest.slot + 0.01)
            open_.remove(oldest)
            continue
        sent.append(ticket.slot)
        open_.append(ticket)
    rate = (len(sent) - 20) / (sent[-1] - sent[19])
    assert rate == pytest.approx(20 / 1.01, rel=1e-6)  # one round trip per twenty sends
