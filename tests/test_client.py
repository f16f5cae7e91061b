"""The async client against the emulator over loopback: results, errors, faults, retries, pacing."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from helpers import closed_port, started, until

from gme_tui.api.actions import (
    DescribeRecordInfo,
    DescribeTaskInfo,
    ModifyRecordInfo,
    StartRecord,
    StopRecord,
)
from gme_tui.api.client import GmeClient, RateLimiter, host_header, parse_response
from gme_tui.api.errors import BadAnswerError, NotSentError, OutcomeUnknownError, ServiceError
from gme_tui.api.fields import RecordMode, Subscription
from gme_tui.api.signing import SigningKey
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY, DEMO_SECRET_ID, DEMO_SECRET_KEY

KEY = DEMO_KEY


def client_for(emulator, **kwargs) -> GmeClient:
    kwargs.setdefault("limiter", RateLimiter())
    kwargs.setdefault("backoff", 0.01)
    return GmeClient(kwargs.pop("key", KEY), endpoint=emulator.url, **kwargs)


async def test_the_five_actions_round_trip_with_exact_task_ids(emulator):
    async with client_for(emulator) as client:
        sub = Subscription(allow=("10001", "10002"))
        start = await client.call(StartRecord(DEMO_BIZ_ID, "room-1", RecordMode.SINGLE, sub))
        assert start.task_id > 2**53
        assert start.task_id == start.raw["TaskId"]

        info = await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "room-1"))
        assert info.task_id == start.task_id
        assert info.mode is RecordMode.SINGLE
        assert info.subscription == sub

        await client.call(ModifyRecordInfo(DEMO_BIZ_ID, start.task_id, RecordMode.BOTH,
                                           Subscription(block=("10003",))))
        info = await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "room-1"))
        assert info.mode is RecordMode.BOTH
        assert info.subscription.block == ("10003",)
        assert info.subscription.allow == ()

        records = await client.call(DescribeRecordInfo(DEMO_BIZ_ID, start.task_id))
        assert records.room == "room-1"
        assert records.records and all(r.status == 2 for r in records.records)
        assert {r.user_id for r in records.records} >= {"0"}

        stopped = await client.call(StopRecord(DEMO_BIZ_ID, start.task_id))
        assert stopped.request_id


async def test_the_body_sent_has_integers_and_string_ids_and_omits_empty_lists(emulator):
    async with client_for(emulator) as client:
        await client.call(StartRecord(DEMO_BIZ_ID, "room-body", RecordMode.MIXED,
                                      Subscription(allow=("10001",))))
    _name, params, headers = emulator.requests[-1]
    assert params == {"BizId": DEMO_BIZ_ID, "RoomId": "room-body", "RecordMode": 2,
                      "SubscribeRecordUserIds": {"SubscribeUserIds": ["10001"]}}
    assert headers["X-TC-Action"] == "StartRecord"
    assert headers["X-TC-Version"] == "2018-07-11"


async def test_region_language_and_token_headers_go_out(emulator):
    key = SigningKey(DEMO_SECRET_ID, DEMO_SECRET_KEY, token="session-token-value")
    async with client_for(emulator, key=key, region="ap-guangzhou", language="en-US") as client:
        with pytest.raises(ServiceError):
            await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "nobody-here"))
    headers = {k.lower(): v for k, v in emulator.requests[-1][2].items()}
    assert headers["x-tc-region"] == "ap-guangzhou"
    assert headers["x-tc-language"] == "en-US"
    assert headers["x-tc-token"] == "session-token-value"


async def test_service_errors_carry_code_message_and_request_id(emulator):
    async with client_for(emulator) as client:
        await client.call(StartRecord(DEMO_BIZ_ID, "busy", RecordMode.MIXED))
        with pytest.raises(ServiceError) as caught:
            await client.call(StartRecord(DEMO_BIZ_ID, "busy", RecordMode.MIXED))
    error = caught.value
    assert error.code == "ResourceInUse.TaskInUse"
    assert error.message
    assert error.request_id
    assert "DescribeTaskInfo" in error.explanation.next_step


async def test_a_wrong_key_is_an_auth_failure(emulator):
    async with client_for(emulator, key=SigningKey(DEMO_SECRET_ID, "not-the-key")) as client:
        with pytest.raises(ServiceError) as caught:
            await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "r"))
    assert caught.value.code == "AuthFailure.SignatureFailure"


async def test_a_refused_connection_is_not_sent_and_retried_twice():
    sent = []
    async with GmeClient(KEY, endpoint=f"http://127.0.0.1:{closed_port()}", backoff=0.01,
                         limiter=RateLimiter()) as client:
        with pytest.raises(NotSentError) as caught:
            await client.call(StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED), on_send=sent.append)
    assert len(sent) == 3
    assert "could not connect" in str(caught.value)


async def test_a_timeout_on_start_is_outcome_unknown_and_never_retried(emulator):
    emulator.faults.set("delay", seconds=1.0)
    async with client_for(emulator, timeout=0.3) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.call(StartRecord(DEMO_BIZ_ID, "slow", RecordMode.MIXED))
    emulator.faults.clear()
    await asyncio.sleep(0.9)  # a retry would have gone out by now
    await until(lambda: started(emulator, "StartRecord") >= 1, "the delayed request to land")
    assert started(emulator, "StartRecord") == 1


async def test_a_timeout_on_modify_is_never_retried(emulator):
    async with client_for(emulator) as client:
        task = (await client.call(StartRecord(DEMO_BIZ_ID, "mod", RecordMode.MIXED))).task_id
    emulator.faults.set("delay", seconds=1.0)
    async with client_for(emulator, timeout=0.3) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.call(ModifyRecordInfo(DEMO_BIZ_ID, task, RecordMode.SINGLE))
    emulator.faults.clear()
    await asyncio.sleep(0.9)
    await until(lambda: started(emulator, "ModifyRecordInfo") >= 1, "the delayed request to land")
    assert started(emulator, "ModifyRecordInfo") == 1


async def test_describe_retries_a_timeout_and_succeeds(emulator):
    async with client_for(emulator) as client:
        task = (await client.call(StartRecord(DEMO_BIZ_ID, "retry", RecordMode.MIXED))).task_id
    emulator.faults.set("delay", seconds=5.0, count=1)  # the retry has a whole second, a slow machine too
    async with client_for(emulator, timeout=1.0) as client:
        info = await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "retry"))
    assert info.task_id == task
    assert started(emulator, "DescribeTaskInfo") == 2


@pytest.mark.parametrize(("fault", "words"), [
    ("http502", "HTTP 502"),
    ("nonjson", "not JSON"),
    ("truncated", "truncated"),
])
async def test_garbage_answers_are_bad_answers(emulator, fault, words):
    emulator.faults.set(fault, count=1)
    async with client_for(emulator) as client:
        with pytest.raises(BadAnswerError) as caught:
            await client.call(StartRecord(DEMO_BIZ_ID, f"room-{fault}", RecordMode.MIXED))
    assert words in str(caught.value)
    assert "may have acted" in str(caught.value)
    assert started(emulator, "StartRecord") == 1


async def test_a_dropped_connection_is_outcome_unknown_and_describe_finds_the_task(emulator):
    emulator.faults.set("drop", count=1)
    async with client_for(emulator) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.call(StartRecord(DEMO_BIZ_ID, "dropped", RecordMode.MIXED))
        info = await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "dropped"))
    assert info.task_id > 0
    assert started(emulator, "StartRecord") == 1


@pytest.mark.parametrize(("status", "body", "words"), [
    (200, b'{"Response": {"TaskId": 4.461922363309279e17, "RequestId": "r"}}', "not an exact integer"),
    (200, b'{"Resp": {}}', "no Response object"),
    (200, b'[1, 2]', "no Response object"),
    (200, b'{"Response": {"TaskId": 5}}', "no RequestId"),
    (200, b'{"Response": {"Error": "boom", "RequestId": "r"}}', "malformed Error"),
    (200, b'', "not JSON"),
    (503, b'<html>busy</html>', "HTTP 503"),
])
def test_parse_response_refuses_what_is_not_a_valid_answer(status, body, words):
    with pytest.raises(BadAnswerError) as caught:
        parse_response(StartRecord(1, "r", RecordMode.MIXED), status, body)
    assert words in str(caught.value)


def test_parse_response_keeps_64_bit_task_ids_exact():
    body = b'{"Response": {"TaskId": 446192236330927912, "RequestId": "h9167d24"}}'
    result = parse_response(StartRecord(1, "r", RecordMode.MIXED), 200, body)
    assert result.task_id == 446192236330927912
    assert str(result.task_id) == "446192236330927912"


def test_host_header_keeps_ports_and_brackets_ipv6():
    import httpx

    assert host_header(httpx.URL("https://gme.tencentcloudapi.com")) == "gme.tencentcloudapi.com"
    assert host_header(httpx.URL("http://127.0.0.1:8080")) == "127.0.0.1:8080"
    assert host_header(httpx.URL("https://example.com:443")) == "example.com"
    assert host_header(httpx.URL("http://[::1]:9000")) == "[::1]:9000"
    assert host_header(httpx.URL("https://bücher.de")) == "xn--bcher-kva.de"  # as on the wire


def test_the_limiter_allows_twenty_then_waits_out_the_window():
    now = [100.0]
    limiter = RateLimiter(limit=20, window=1.0, margin=0.05, clock=lambda: now[0])
    assert [limiter.reserve() for _ in range(20)] == [0.0] * 20
    delays = [limiter.reserve() for _ in range(5)]
    assert all(d == pytest.approx(1.05) for d in delays)
    now[0] += 0.5
    assert limiter.reserve() == pytest.approx(0.55)
    # Every window of the schedule holds at most twenty sends.
    schedule = sorted(limiter._slots)
    for i, slot in enumerate(schedule):
        assert sum(1 for s in schedule[i:] if s < slot + 1.0) <= 20


async def test_concurrent_starts_stay_under_the_service_limit(emulator):
    # The emulator counts arrivals in this same process: on a starved machine its
    # threads see the first twenty late. A wide margin keeps the test about the
    # pacing (the product's own margin is argued in RateLimiter).
    sent: list[float] = []
    async with client_for(emulator, limiter=RateLimiter(margin=0.6)) as client:
        results = await asyncio.gather(
            *(client.call(StartRecord(DEMO_BIZ_ID, f"burst-{i}", RecordMode.MIXED),
                          on_send=lambda _prepared: sent.append(time.monotonic())) for i in range(30)),
            return_exceptions=True,
        )
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == []
    assert len({r.task_id for r in results}) == 30
    sent.sort()
    assert sent[20] - sent[0] >= 1.0  # the 21st waited out the window: the limiter paced them


async def test_without_a_limiter_the_emulator_does_refuse_a_burst(emulator):
    """The previous test could not fail if the emulator never limited; this shows it does."""
    async with client_for(emulator, limiter=RateLimiter(limit=1000)) as client:
        results = await asyncio.gather(
            *(client.call(StartRecord(DEMO_BIZ_ID, f"flood-{i}", RecordMode.MIXED)) for i in range(30)),
            return_exceptions=True,
        )
    codes = {r.code for r in results if isinstance(r, ServiceError)}
    assert codes == {"RequestLimitExceeded"}


async def test_proxies_come_from_the_environment(monkeypatch):
    """A loopback stand-in proxy sees the absolute-form request httpx sends through it."""
    import threading

    seen: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            seen.append(data.split(b"\r\n", 1)[0])
            body = b'{"Response": {"TaskId": 446192236330927912, "RequestId": "via-proxy"}}'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with GmeClient(KEY, endpoint="http://gme.example.test", limiter=RateLimiter()) as client:
        result = await client.call(StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED))
    thread.join(5)
    server.close()
    assert result.request_id == "via-proxy"
    assert seen == [b"POST http://gme.example.test/ HTTP/1.1"]


def test_https_endpoints_verify_certificates():
    import ssl

    client = GmeClient(KEY, endpoint="https://gme.tencentcloudapi.com")
    context = client.http._transport._pool._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


async def test_a_server_that_drips_its_answer_is_cut_off_at_the_timeout():
    """httpx times each read; the client bounds the whole answer."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def drip() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
            for _ in range(40):  # a byte every 0.25 s, well inside the 1 s timeout, for 10 s
                try:
                    conn.sendall(b" ")
                except OSError:
                    return
                time.sleep(0.25)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    started = time.monotonic()
    async with GmeClient(KEY, endpoint=f"http://127.0.0.1:{server.getsockname()[1]}", timeout=1.0,
                         limiter=RateLimiter()) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.call(StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED))
    elapsed = time.monotonic() - started
    server.close()
    assert elapsed < 5  # not the 10 s the drip would take; a bound, not a speed claim
