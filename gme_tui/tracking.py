"""Keeping the recordings up to date: reconcile unknown starts, refresh what runs.

Both only ask (DescribeTaskInfo, DescribeRecordInfo), through `calls` like every
request, so each ask has its history row and its answer updates the recordings
in the same transaction (`recordings.answered`). Neither ever sends a StartRecord:
a start whose outcome is unknown is looked up, never sent again.

Each runs against one client, so it asks only the endpoint, and with the
credentials, that the client is for; the recordings of other endpoints or
profiles wait until a client of theirs asks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .api.actions import Action, DescribeRecordInfo, DescribeTaskInfo
from .recordings import RECONCILE, REFRESH, Recording, State

if TYPE_CHECKING:
    from .api.client import GmeClient, SyncGmeClient
    from .calls import Outcome
    from .history import History

#: send slots a refresh leaves free for the operator's own requests (of the 20 per second):
#: with them free, a request of the operator's finds its slot at once
OPERATOR_SLOTS = 8
#: the most recordings one refresh round asks about
ROUND = 200
#: seconds after a StartRecord left before its unknown outcome is looked up: a service slow
#: to answer may still act on it after the client gave up waiting, and a look before that
#: would call "not started" a start that is still on its way
SETTLE_AFTER = 30.0


@dataclass(frozen=True)
class Settled:
    """What a reconcile found for one unknown StartRecord."""

    recording: Recording
    #: after the ask: recording (found, now ok with its TaskId), not started, or still unknown
    now: Recording
    outcome: Outcome

    @property
    def found(self) -> bool:
        return self.now.state is not State.UNKNOWN


def unknown_due(history: History, scope: str, profile: str) -> list[Recording]:
    """The unknown starts of this endpoint and profile old enough to look up (`SETTLE_AFTER`)."""
    cutoff = time.time() - SETTLE_AFTER
    return [r for r in history.unknown_starts(scope, profile) if r.started_at <= cutoff]


def unknown_too_recent(history: History, scope: str, profile: str) -> list[Recording]:
    """The unknown starts still too recent to look up: the service may be acting on them."""
    cutoff = time.time() - SETTLE_AFTER
    return [r for r in history.unknown_starts(scope, profile) if r.started_at > cutoff]


def reconcile_asks(history: History, scope: str, profile: str) -> Iterator[tuple[list[Recording], Action]]:
    """One DescribeTaskInfo per room with unknown starts old enough, with the recordings it settles."""
    rooms: dict[tuple[str, str], list[Recording]] = {}
    for recording in unknown_due(history, scope, profile):
        if recording.room_id:
            rooms.setdefault((recording.biz_id, recording.room_id), []).append(recording)
    for (biz, room), waiting in rooms.items():
        yield waiting, DescribeTaskInfo(int(biz), room)


def settled(history: History, waiting: list[Recording], outcome: Outcome) -> list[Settled]:
    return [Settled(r, history.recording(r.id) or r, outcome) for r in waiting]


async def reconcile(client: GmeClient, history: History, *, profile: str, spare: int = 0) -> list[Settled]:
    """Look up the room of every unknown StartRecord of this client's endpoint and profile."""
    from .calls import send

    found: list[Settled] = []
    for waiting, ask in list(reconcile_asks(history, client.scope, profile)):
        outcome = await send(client, history, ask, profile=profile, purpose=RECONCILE, spare=spare)
        found += settled(history, waiting, outcome)
    return found


def reconcile_sync(client: SyncGmeClient, history: History, *, profile: str) -> list[Settled]:
    from .calls import send_sync

    found: list[Settled] = []
    for waiting, ask in list(reconcile_asks(history, client.scope, profile)):
        outcome = send_sync(client, history, ask, profile=profile, purpose=RECONCILE)
        found += settled(history, waiting, outcome)
    return found


def refresh_ask(recording: Recording) -> Action | None:
    """How to learn where a recording is now: its room's running task while it records,
    its files' status once stopped; nothing once it is final (or unknown: a reconcile's)."""
    biz = int(recording.biz_id)
    if recording.state.running and recording.room_id:
        return DescribeTaskInfo(biz, recording.room_id)
    if (recording.state.running or recording.state.processing) and recording.task_id:
        return DescribeRecordInfo(biz, int(recording.task_id))
    return None


def due_asks(
    history: History, scope: str, profile: str, interval: float, limit: int = ROUND
) -> Iterator[tuple[Recording, Action]]:
    """The recordings not asked about for `interval` seconds, least recently asked first; each
    is marked as asked as it is handed out, so that a slow round never asks twice."""
    for recording in history.due(scope, profile, older_than=time.time() - interval, limit=limit):
        ask = refresh_ask(recording)
        if ask is not None:
            history.mark_checked(recording.id, time.time())
            yield recording, ask


async def refresh(
    client: GmeClient,
    history: History,
    *,
    profile: str,
    interval: float,
    spare: int = OPERATOR_SLOTS,
    limit: int = ROUND,
) -> list[Outcome]:
    """One round: ask about every due recording of this client's endpoint and profile,
    taking only send slots that leave `spare` free."""
    from .calls import send

    outcomes = []
    for _recording, ask in due_asks(history, client.scope, profile, interval, limit):
        outcomes.append(await send(client, history, ask, profile=profile, purpose=REFRESH, spare=spare))
    return outcomes


def refresh_sync(
    client: SyncGmeClient, history: History, *, profile: str, interval: float = 0.0, limit: int = ROUND
) -> list[Outcome]:
    from .calls import send_sync

    return [
        send_sync(client, history, ask, profile=profile, purpose=REFRESH)
        for _recording, ask in due_asks(history, client.scope, profile, interval, limit)
    ]
