"""Both drivers of the client against the emulator over loopback: results, errors, faults, retries, pacing.

Every scenario runs once with the async driver and once with the sync one
(`driver`): the rules are the core's, so they must hold the same through both.
"""

from __future__ import annotations

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from helpers import closed_port, started, until
from hostile_server import HOSTILE, HostileServer

from gme_tui.api.actions import (
    DescribeRecordInfo,
    DescribeTaskInfo,
    ModifyRecordInfo,
    StartRecord,
    StopRecord,
)
from gme_tui.api.client import (
    ALLOWANCE,
    Attempt,
    GmeClient,
    RateLimiter,
    SyncGmeClient,
    host_header,
    parse_response,
)
from gme_tui.api.errors import BadAnswerError, NotSentError, OutcomeUnknownError, ServiceError
from gme_tui.api.fields import RecordMode, Subscription
from gme_tui.api.signing import SigningKey
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY, DEMO_SECRET_ID, DEMO_SECRET_KEY

KEY = DEMO_KEY


class Threaded:
    """The sync driver behind the async driver's interface: each call blocks a worker thread
    of its own (as many as a burst needs), so that one scenario's code serves both drivers."""

    def __init__(self, *args, **kwargs) -> None:
        self.client = SyncGmeClient(*args, **kwargs)
        self._threads = ThreadPoolExecutor(max_workers=32)

    @property
    def http(self):
        return self.client.http

    async def __aenter__(self) -> Threaded:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._threads.shutdown()
        self.client.close()

    async def call(self, action, on_send=None):
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, self.client.call, action, on_send
        )


DRIVERS = {"async": GmeClient, "sync": Threaded}


@pytest.fixture(params=sorted(DRIVERS))
def driver(request):
    """The client class of one driver (the sync one behind `Threaded`)."""
    return DRIVERS[request.param]


@pytest.fixture
def client_for(driver):
    def make(emulator, **kwargs):
        kwargs.setdefault("limiter", RateLimiter())
        kwargs.setdefault("backoff", 0.01)
        return driver(kwargs.pop("key", KEY), endpoint=emulator.url, **kwargs)

    return make


async def test_the_five_actions_round_trip_with_exact_task_ids(emulator, client_for):
    async with client_for(emulator) as client:
        sub = Subscription(allow=("10001", "10002"))
        start = await client.call(StartRecord(DEMO_BIZ_ID, "room-1", RecordMode.SINGLE, sub))
        assert start.task_id > 2**53
        assert start.task_id == start.raw["TaskId"]

        info = await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "room-1"))
        assert info.task_id == start.task_id
        assert info.mode is RecordMode.SINGLE
        assert info.subscription == sub

        await client.call(
            ModifyRecordInfo(DEMO_BIZ_ID, start.task_id, RecordMode.BOTH, Subscription(block=("10003",)))
        )
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


async def test_the_body_sent_has_integers_and_string_ids_and_omits_empty_lists(emulator, client_for):
    async with client_for(emulator) as client:
        await client.call(
            StartRecord(DEMO_BIZ_ID, "room-body", RecordMode.MIXED, Subscription(allow=("10001",)))
        )
    _name, params, headers = emulator.requests[-1]
    assert params == {
        "BizId": DEMO_BIZ_ID,
        "RoomId": "room-body",
        "RecordMode": 2,
        "SubscribeRecordUserIds": {"SubscribeUserIds": ["10001"]},
    }
    assert headers["X-TC-Action"] == "StartRecord"
    assert headers["X-TC-Version"] == "2018-07-11"


async def test_region_language_and_token_headers_go_out(emulator, client_for):
    key = SigningKey(DEMO_SECRET_ID, DEMO_SECRET_KEY, token="session-token-value")
    async with client_for(emulator, key=key, region="ap-guangzhou", language="en-US") as client:
        with pytest.raises(ServiceError):
            await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "nobody-here"))
    headers = {k.lower(): v for k, v in emulator.requests[-1][2].items()}
    assert headers["x-tc-region"] == "ap-guangzhou"
    assert headers["x-tc-language"] == "en-US"
    assert headers["x-tc-token"] == "session-token-value"


async def test_service_errors_carry_code_message_and_request_id(emulator, client_for):
    async with client_for(emulator) as client:
        await client.call(StartRecord(DEMO_BIZ_ID, "busy", RecordMode.MIXED))
        with pytest.raises(ServiceError) as caught:
            await client.call(StartRecord(DEMO_BIZ_ID, "busy", RecordMode.MIXED))
    error = caught.value
    assert error.code == "ResourceInUse.TaskInUse"
    assert error.message
    assert error.request_id
    assert "DescribeTaskInfo" in error.explanation.next_step


async def test_a_wrong_key_is_an_auth_failure(emulator, client_for):
    async with client_for(emulator, key=SigningKey(DEMO_SECRET_ID, "not-the-key")) as client:
        with pytest.raises(ServiceError) as caught:
            await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "r"))
    assert caught.value.code == "AuthFailure.SignatureFailure"


async def test_a_refused_connection_is_not_sent_and_retried_twice(driver):
    sent = []
    async with driver(
        KEY, endpoint=f"http://127.0.0.1:{closed_port()}", backoff=0.01, limiter=RateLimiter()
    ) as client:
        with pytest.raises(NotSentError) as caught:
            await client.call(StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED), on_send=sent.append)
    assert len(sent) == 3
    assert "could not connect" in str(caught.value)


async def test_a_timeout_on_start_is_outcome_unknown_and_never_retried(emulator, client_for):
    emulator.faults.set("delay", seconds=1.0)
    async with client_for(emulator, timeout=0.3) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.call(StartRecord(DEMO_BIZ_ID, "slow", RecordMode.MIXED))
    emulator.faults.clear()
    await asyncio.sleep(0.9)  # a retry would have gone out by now
    await until(lambda: started(emulator, "StartRecord") >= 1, "the delayed request to land")
    assert started(emulator, "StartRecord") == 1


async def test_a_timeout_on_modify_is_never_retried(emulator, client_for):
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


async def test_describe_retries_a_timeout_and_succeeds(emulator, client_for):
    async with client_for(emulator) as client:
        task = (await client.call(StartRecord(DEMO_BIZ_ID, "retry", RecordMode.MIXED))).task_id
    emulator.faults.set("delay", seconds=5.0, count=1)  # the retry has a whole second, a slow machine too
    async with client_for(emulator, timeout=1.0) as client:
        info = await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "retry"))
    assert info.task_id == task
    assert started(emulator, "DescribeTaskInfo") == 2


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("http502", "HTTP 502"),
        ("nonjson", "not JSON"),
        ("truncated", "truncated"),
    ],
)
async def test_garbage_answers_are_bad_answers(emulator, fault, words, client_for):
    emulator.faults.set(fault, count=1)
    async with client_for(emulator) as client:
        with pytest.raises(BadAnswerError) as caught:
            await client.call(StartRecord(DEMO_BIZ_ID, f"room-{fault}", RecordMode.MIXED))
    assert words in str(caught.value)
    assert "may have acted" in str(caught.value)
    assert started(emulator, "StartRecord") == 1


async def test_a_dropped_connection_is_outcome_unknown_and_describe_finds_the_task(emulator, client_for):
    emulator.faults.set("drop", count=1)
    async with client_for(emulator) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.call(StartRecord(DEMO_BIZ_ID, "dropped", RecordMode.MIXED))
        info = await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "dropped"))
    assert info.task_id > 0
    assert started(emulator, "StartRecord") == 1


@pytest.mark.parametrize(
    ("status", "body", "words"),
    [
        (200, b'{"Response": {"TaskId": 4.461922363309279e17, "RequestId": "r"}}', "not an exact integer"),
        (200, b'{"Resp": {}}', "no Response object"),
        (200, b"[1, 2]", "no Response object"),
        (200, b'{"Response": {"TaskId": 5}}', "no RequestId"),
        (200, b'{"Response": {"Error": "boom", "RequestId": "r"}}', "malformed Error"),
        (200, b"", "not JSON"),
        (503, b"<html>busy</html>", "HTTP 503"),
    ],
)
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
    assert host_header(httpx.URL("https://gme.tencentcloudapi.com")) == "gme.tencentcloudapi.com"
    assert host_header(httpx.URL("http://127.0.0.1:8080")) == "127.0.0.1:8080"
    assert host_header(httpx.URL("https://example.com:443")) == "example.com"
    assert host_header(httpx.URL("http://[::1]:9000")) == "[::1]:9000"
    assert host_header(httpx.URL("https://bücher.de")) == "xn--bcher-kva.de"  # as on the wire


def test_the_limiter_allows_twenty_then_waits_a_window_after_the_answers():
    """The rule itself, with a fake clock (more in test_rate_rule.py)."""
    now = [100.0]
    limiter = RateLimiter(limit=20, window=1.0, clock=lambda: now[0])
    first = [limiter.reserve() for _ in range(20)]
    assert [ticket.slot for ticket in first] == [100.0] * 20
    assert limiter.reserve() is None  # the 21st: every one of the twenty is still open
    now[0] += 0.2
    for ticket in first:
        limiter.answered(ticket)
    assert [limiter.reserve().slot for _ in range(20)] == [pytest.approx(101.2)] * 20
    assert limiter.reserve() is None  # the 41st waits on the answers of those


async def test_concurrent_starts_stay_under_the_service_limit(emulator, client_for):
    sent: list[float] = []
    async with client_for(emulator, limiter=RateLimiter()) as client:
        results = await asyncio.gather(
            *(
                client.call(
                    StartRecord(DEMO_BIZ_ID, f"burst-{i}", RecordMode.MIXED),
                    on_send=lambda _prepared: sent.append(time.monotonic()),
                )
                for i in range(30)
            ),
            return_exceptions=True,
        )
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == []
    assert len({r.task_id for r in results}) == 30
    sent.sort()
    assert sent[20] - sent[0] >= 1.0  # the 21st waited a window after an answer: the limiter paced them


class NotingLimiter(RateLimiter):
    """The client's limiter, keeping every ticket it gave."""

    def __init__(self) -> None:
        super().__init__()
        self.given: list = []

    def reserve(self, spare: int = 0, hold: float = 10.0):
        ticket = super().reserve(spare, hold)
        if ticket is not None:
            self.given.append(ticket)
        return ticket


async def test_each_attempt_is_its_own_ticket_answered_when_it_ends(emulator, client_for):
    """A retried read takes a second ticket; the dropped attempt's counts from its failure,
    and each ticket is held no longer than the client's timeout (its bound)."""
    limiter = NotingLimiter()
    emulator.faults.set("drop", count=1)
    async with client_for(emulator, limiter=limiter, timeout=3.0) as client:
        with pytest.raises(ServiceError, match="TaskNotFound"):  # the retry's answer
            await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "room-none"))
    first, second = limiter.given
    assert first.answer is not None and second.answer is not None
    assert first.slot <= first.answer <= second.slot <= second.answer
    assert first.bound == pytest.approx(first.slot + 3.0 + ALLOWANCE)


async def test_without_a_limiter_the_emulator_does_refuse_a_burst(emulator, client_for):
    """The previous test could not fail if the emulator never limited; this shows it does."""
    async with client_for(emulator, limiter=RateLimiter(limit=1000)) as client:
        results = await asyncio.gather(
            *(client.call(StartRecord(DEMO_BIZ_ID, f"flood-{i}", RecordMode.MIXED)) for i in range(30)),
            return_exceptions=True,
        )
    codes = {r.code for r in results if isinstance(r, ServiceError)}
    assert codes == {"RequestLimitExceeded"}


async def test_a_connection_that_cannot_be_set_up_is_not_sent(monkeypatch, driver):
    """A certificate file named in the environment that is not there: the pool cannot be built,
    and that is a typed failure of the call (nothing left), not a crash of the caller."""
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    sent = []
    async with driver(KEY, endpoint=f"https://127.0.0.1:{closed_port()}", limiter=RateLimiter()) as client:
        with pytest.raises(NotSentError) as caught:
            await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "r"), on_send=sent.append)
    assert sent == []
    assert "could not set up the connection" in str(caught.value)


async def test_proxies_come_from_the_environment(monkeypatch, driver):
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
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with driver(KEY, endpoint="http://gme.example.test", limiter=RateLimiter()) as client:
        result = await client.call(StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED))
    thread.join(5)
    server.close()
    assert result.request_id == "via-proxy"
    assert seen == [b"POST http://gme.example.test/ HTTP/1.1"]


def test_https_endpoints_verify_certificates(driver):
    import ssl

    client = driver(KEY, endpoint="https://gme.tencentcloudapi.com")
    context = client.http._transport._pool._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


async def test_a_server_that_drips_its_answer_is_cut_off_at_the_timeout(driver):
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
    async with driver(
        KEY, endpoint=f"http://127.0.0.1:{server.getsockname()[1]}", timeout=1.0, limiter=RateLimiter()
    ) as client:
        with pytest.raises(OutcomeUnknownError):
            await client.call(StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED))
    elapsed = time.monotonic() - started
    server.close()
    assert elapsed < 5  # not the 10 s the drip would take; a bound, not a speed claim


# --- hostile answers: each way an answer can be unusable, through both drivers ---------


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_a_hostile_answer_to_start_is_a_typed_error_and_never_retried(driver, case):
    reply, error_type, words = HOSTILE[case]
    with HostileServer(reply) as server:
        async with driver(
            KEY, endpoint=server.url, timeout=1.0, limiter=RateLimiter(), backoff=0.01
        ) as client:
            with pytest.raises(error_type) as caught:
                await client.call(StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED))
    assert type(caught.value) is error_type
    assert words in str(caught.value)
    assert len(server.requests) == 1  # the service may have acted: a second StartRecord could start twice
    if error_type is BadAnswerError:
        assert "may have acted on StartRecord" in str(caught.value)


@pytest.mark.parametrize(("case", "attempts"), [("not-http", 1), ("closed-with-nothing", 3)])
async def test_a_read_retries_a_lost_answer_but_not_a_bad_one(driver, case, attempts):
    reply, error_type, _words = HOSTILE[case]
    with HostileServer(reply) as server:
        async with driver(KEY, endpoint=server.url, limiter=RateLimiter(), backoff=0.01) as client:
            with pytest.raises(error_type):
                await client.call(DescribeTaskInfo(DEMO_BIZ_ID, "r"))
    assert len(server.requests) == attempts


def _exception(cls: type[BaseException]) -> BaseException:
    """An instance of any exception class httpx exports."""
    if cls is httpx.HTTPStatusError:
        request = httpx.Request("POST", "http://x")
        return cls("boom", request=request, response=httpx.Response(500, request=request))
    try:
        return cls("boom")
    except TypeError:
        return cls()


EXCEPTIONS = sorted(
    (c for c in vars(httpx).values() if isinstance(c, type) and issubclass(c, Exception)),
    key=lambda c: c.__name__,
) + [ValueError, OSError, RuntimeError, KeyError, TimeoutError]


@pytest.mark.parametrize("phase", ["connecting", "sent", "answered"])
@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda c: c.__name__)
def test_every_exception_of_an_exchange_is_one_of_the_three_transport_errors(cls, phase):
    """The core's judgement, with no socket: how far the attempt got decides, never the luck of a type."""
    action = StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED)
    attempt = Attempt(action, GmeClient(KEY).prepare(action), endpoint="http://x", timeout=1.0)
    attempt.sent = phase != "connecting"
    if phase == "answered":
        attempt.status = 200
    error = attempt.failure(_exception(cls))
    timeout = issubclass(cls, TimeoutError | httpx.TimeoutException)
    if phase == "connecting" or cls is httpx.LocalProtocolError and phase == "sent":
        expected = NotSentError  # nothing went out: retrying is safe
    elif phase == "sent" or timeout:
        expected = OutcomeUnknownError
    else:
        expected = BadAnswerError
    assert type(error) is expected
    assert str(error)


def test_a_request_never_leaves_once_its_attempt_has_expired():
    """The sync watchdog can fire while a connection is still opening: then the headers must not go."""
    action = StartRecord(DEMO_BIZ_ID, "r", RecordMode.MIXED)
    attempt = Attempt(action, GmeClient(KEY).prepare(action), endpoint="http://x", timeout=1.0)
    attempt.expire()
    with pytest.raises(TimeoutError) as caught:
        attempt.seen("http11.send_request_headers.started", {})
    assert not attempt.sent
    assert type(attempt.failure(caught.value)) is NotSentError
