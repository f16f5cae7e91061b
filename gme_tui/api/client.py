"""The client: a sans-I/O core that signs, judges and parses, and two thin drivers that move bytes.

It knows nothing of screens or files. It turns every way a call can end into
one of four things: a typed result, a `ServiceError`, or one of the three
transport errors that tell the operator whether the service may have acted.

What needs no socket lives in the core, once: `prepare` (the signed request),
`Attempt` (how far one attempt got, and what its failure means), `Retry` (go
again or not), `parse_response`. The drivers only wait, send and read:
`GmeClient` with `httpx.AsyncClient` (the console, batches) and `SyncGmeClient`
with `httpx.Client` (one-shot commands, which need no event loop to start).
Neither imports asyncio at module level, so the sync path never loads it.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import threading
import time
import weakref
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .actions import Action, Result, encode_body
from .errors import (
    BadAnswerError,
    GmeError,
    NotSentError,
    OutcomeUnknownError,
    ServiceError,
    TransportError,
)
from .fields import DEFAULT_ENDPOINT
from .signing import SigningKey, redact, signed_headers

# httpx's __init__ imports its own command line (httpx._main) whenever click, rich and
# pygments are all importable (click comes with many tools, import-linter among them):
# all of rich and some 50 ms on every start of a one-shot command. A None in
# sys.modules makes that import fail, so httpx keeps its stub `main`.
_HTTPX_CLI = "httpx._main"
_blocked = _HTTPX_CLI not in sys.modules
if _blocked:
    sys.modules[_HTTPX_CLI] = None  # type: ignore[assignment]  # None: "import fails", by the import system's rule
try:
    import httpx  # noqa: E402
finally:
    if _blocked:
        del sys.modules[_HTTPX_CLI]

DEFAULT_TIMEOUT = 10.0
RETRIES = 2
BACKOFF = 0.25
#: the largest answer read, on the wire and decoded: GME's answers are a few KiB, so this is
#: far above any real one, and low enough that a huge or compressed-bomb answer stays small
MAX_ANSWER = 1024 * 1024
#: the codings asked for and undone (by `_Inflater`, bounded as it inflates); any other is refused
ACCEPT_ENCODING = "gzip, deflate"


#: how long past its hold (the request's timeout) an unanswered send still counts as open: the
#: attempt's own timers start a little after its slot, on a busy machine later still
ALLOWANCE = 2.0
#: how often a waiter looks again for a slot: when a slot waits on an answer still to come, or
#: for a background caller (`spare`). A slot then falls a window after that answer, so looking
#: late by less than a window costs nothing
POLL = 0.05


@dataclass(eq=False)
class Ticket:
    """One send's place under the limit.

    `slot`: when it may leave. `answer`: when its answer (or the failure the client gave up
    on) came, None while it is open. `bound`: when it counts as answered if nobody ever says,
    as when its process was killed mid-request, so that no one waits on it forever. `row`:
    its row in a shared slot file until its answer is written there.
    """

    slot: float
    bound: float
    answer: float | None = None
    row: int | None = None

    def end(self, now: float, window: float) -> float | None:
        """When it stops counting: a window after its answer. None while that is not known."""
        answer = self.answer
        if answer is None:
            if now < self.bound:
                return None
            answer = self.bound
        return answer + window


def next_slot(now: float, ends: list[float | None], limit: int) -> float | None:
    """When the next send may leave, given when each send counted so far stops counting
    (`ends`; None: its answer has not come). Now, if fewer than `limit` count now; else
    once enough of them have stopped; None while that waits on an answer still to come."""
    counted = [end for end in ends if end is None or end > now]
    over = len(counted) - limit + 1
    if over <= 0:
        return now
    known = sorted(end for end in counted if end is not None)
    return known[over - 1] if len(known) >= over else None


def has_spare(now: float, ends: list[float | None], limit: int, spare: int) -> bool:
    """Is a slot free now with `spare` more beside it? Counts the sends open or within the window."""
    return sum(1 for end in ends if end is None or end > now) + 1 + spare <= limit


def ticket_for(now: float, ends: list[float | None], limit: int, spare: int, hold: float) -> Ticket | None:
    """The next ticket (None: none to give now); `hold`: the longest its request may take."""
    if spare and not has_spare(now, ends, limit, spare):
        return None
    slot = next_slot(now, ends, limit)
    return None if slot is None else Ticket(slot, slot + hold + ALLOWANCE)


class RateLimiter:
    """Never more than `limit` sends in any window of `window` seconds at the service, across
    tasks and threads, whatever the network's delay.

    The service counts arrivals, which no client sees. What it does see is the answer: a
    send's answer leaves the service after the send arrived. So a send may leave only while
    fewer than `limit` sends are open (no answer yet) or answered within the last window;
    then no window at the service can hold `limit + 1` arrivals, since the last of them to
    leave would have seen the other `limit` still counting. That costs one round trip per
    `limit` sends and needs no margin for jitter.

    A reservation (`reserve`, or the drivers `wait`, `wait_sync`) gives a `Ticket`; the
    client says when its answer or its failure came (`answered` at once, then `done` or
    `done_sync` at the end of the attempt, which also tell other processes where a subclass
    shares the slots). A ticket never answered counts until its bound. Reservations are
    made under a thread lock and waited for outside it; waiters queue in turn, one looking
    at a time, so a slot that depends on an answer still to come is polled by one only.
    """

    def __init__(
        self, limit: int = 20, window: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._tickets: list[Ticket] = []
        self._lock = threading.Lock()
        self._turn = threading.Lock()  # the sync waiters'
        self._turns: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # each loop's

    def reserve(self, spare: int = 0, hold: float = DEFAULT_TIMEOUT) -> Ticket | None:
        """Take the next slot (`Ticket.slot` says when it may leave); None when none can be given
        now: it waits on an answer, or (with `spare`) it would not leave `spare` free beside it."""
        with self._lock:
            now = self._clock()
            ticket = ticket_for(now, self._ends(now), self.limit, spare, hold)
            if ticket is not None:
                self._tickets.append(ticket)
            return ticket

    def answered(self, ticket: Ticket, at: float | None = None) -> None:
        """Its answer (or failure) came, now or `at`; the first word stands."""
        with self._lock:
            if ticket.answer is None:
                ticket.answer = self._clock() if at is None else at

    def _ends(self, now: float) -> list[float | None]:
        """The ends of the tickets still counted, the others forgotten (under the lock)."""
        ends = [ticket.end(now, self.window) for ticket in self._tickets]
        kept = [(t, e) for t, e in zip(self._tickets, ends, strict=True) if e is None or e > now]
        self._tickets = [t for t, _e in kept]
        return [e for _t, e in kept]

    async def wait(self, spare: int = 0, hold: float = DEFAULT_TIMEOUT) -> Ticket:
        """Until a slot is ours, and its time has come. With `spare` (a background caller), only
        a slot that leaves `spare` free for the operator; such a caller does not queue, so
        that it never holds the operator's turn."""
        import asyncio  # here, so that the sync driver never loads the event loop

        if spare:
            ticket = await self._poll(spare, hold)
        else:
            with self._lock:
                turn = self._turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())
            async with turn:
                ticket = await self._poll(spare, hold)
        delay = ticket.slot - self._clock()
        if delay > 0:
            try:
                await asyncio.sleep(delay)
            except BaseException:  # cancelled before it left: its place is given back
                self.done_sync(ticket)
                raise
        return ticket

    async def _poll(self, spare: int, hold: float) -> Ticket:
        import asyncio

        while (ticket := await self._reserve_async(spare, hold)) is None:
            await asyncio.sleep(POLL)
        return ticket

    async def _reserve_async(self, spare: int, hold: float) -> Ticket | None:
        """`reserve` for the async driver (a subclass that does I/O runs it in a thread)."""
        return self.reserve(spare, hold)

    def wait_sync(self, spare: int = 0, hold: float = DEFAULT_TIMEOUT) -> Ticket:
        """`wait` for a blocking caller."""
        if spare:
            ticket = self._poll_sync(spare, hold)
        else:
            with self._turn:
                ticket = self._poll_sync(spare, hold)
        delay = ticket.slot - self._clock()
        if delay > 0:
            try:
                time.sleep(delay)
            except BaseException:
                self.done_sync(ticket)
                raise
        return ticket

    def _poll_sync(self, spare: int, hold: float) -> Ticket:
        while (ticket := self.reserve(spare, hold)) is None:
            time.sleep(POLL)
        return ticket

    async def done(self, ticket: Ticket) -> None:
        """The attempt is over: answered now unless it was already."""
        self.answered(ticket)

    def done_sync(self, ticket: Ticket) -> None:
        """`done` for a blocking caller."""
        self.answered(ticket)


#: one per process: every client shares it, so the whole process stays under the limit
PROCESS_LIMITER = RateLimiter()


@dataclass(frozen=True)
class Prepared:
    """A request ready to go: what is signed is exactly what is sent."""

    action: str
    url: str
    headers: dict[str, str]
    body: bytes

    def redacted(self) -> dict[str, object]:
        return {
            "method": "POST",
            "url": self.url,
            "headers": redact(self.headers),
            "body": json.loads(self.body),
        }


def host_header(url: httpx.URL) -> str:
    """The Host value on the wire (IDNA-encoded): port only when it is not the scheme's default."""
    host = url.raw_host.decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    return host if url.port is None else f"{host}:{url.port}"


# --- the sans-I/O core --------------------------------------------------------


class _Inflater:
    """One Content-Encoding undone, a chunk at a time, never more than `room` bytes out.

    httpx inflates a whole network read at once (64 KiB of a gzip bomb is 64 MiB), so
    the drivers read the raw body and this undoes it: zlib stops at `max_length`, and
    what it did not inflate stays in its input, never in memory as output.
    """

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib = zlib.decompressobj(
            16 + zlib.MAX_WBITS if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        )
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        try:
            out = self._zlib.decompress(data, room)
        except zlib.error:
            if self.coding != "deflate" or self._started:
                raise
            # "deflate" is sent both zlib-wrapped (as RFC 9110 says) and raw (as some servers do)
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._zlib.decompress(data, room)
        self._started = True
        return out


def _inflaters(header: str | None, action: Action) -> list[_Inflater]:
    """The codings of a Content-Encoding header, in the order to undo them."""
    codings = [part.strip().lower() for part in (header or "").split(",")]
    codings = [coding for coding in codings if coding and coding != "identity"]
    for coding in codings:
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise BadAnswerError(
                _maybe_acted(
                    action, f"the answer's Content-Encoding {coding[:40]!r} is not {ACCEPT_ENCODING}"
                )
            )
    return [_Inflater(coding) for coding in reversed(codings)]


class Attempt:
    """How far one attempt got, and what its failure means: no I/O, so both drivers share it.

    A driver feeds it the trace events (`seen`), the answer's status (`answered`)
    and the body's chunks (`take`); on any exception it asks `failure` which
    typed error that is; at the end `result` parses what came.
    """

    def __init__(self, action: Action, prepared: Prepared, *, endpoint: str, timeout: float) -> None:
        self.action = action
        self.prepared = prepared
        self.endpoint = endpoint
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        #: the request's bytes may have reached the service
        self.sent = False
        #: the status line and headers came
        self.status: int | None = None
        #: the whole-attempt deadline passed (the sync driver's watchdog says so)
        self.expired = False
        #: the connection's stream, once known: the sync watchdog shuts it at the deadline
        self.stream: Any = None
        self._chunks: list[bytes] = []
        self._size = 0  # decoded
        self._raw = 0  # as it came
        self._inflaters: list[_Inflater] = []
        self._read = False
        self._lock = threading.Lock()  # the watchdog's thread and the reader's agree on how it ended

    def seen(self, event: str, info: dict[str, Any]) -> None:
        """An httpcore trace event."""
        if event.endswith("send_request_headers.started"):
            if self.expired or time.monotonic() > self.deadline:
                raise TimeoutError  # a connection that took the whole attempt: nothing leaves late
            self.sent = True  # from here on the service may have the request
        elif event.endswith(("connect_tcp.complete", "start_tls.complete")):
            self.stream = info.get("return_value")

    def answered(self, response: httpx.Response) -> None:
        self.status = response.status_code
        if self.stream is None:  # a connection kept from an earlier call
            self.stream = response.extensions.get("network_stream")
        self._inflaters = _inflaters(response.headers.get("content-encoding"), self.action)

    def take(self, chunk: bytes) -> None:
        """One chunk of the body as it came (raw): decoded here, bounded in size and in time,
        both as it came and as it inflates."""
        self._raw += len(chunk)
        if self._raw > MAX_ANSWER:
            raise self._too_large()
        for inflater in self._inflaters:
            chunk = inflater.feed(chunk, MAX_ANSWER - self._size + 1)
            if self._size + len(chunk) > MAX_ANSWER:
                raise self._too_large()
        self._size += len(chunk)
        self._chunks.append(chunk)
        if time.monotonic() > self.deadline:
            raise TimeoutError  # a server that drips its answer cannot hold the call open

    def _too_large(self) -> BadAnswerError:
        return BadAnswerError(_maybe_acted(self.action, f"the answer is larger than {MAX_ANSWER} bytes"))

    def read(self) -> None:
        """The body came whole: a deadline passing from now on changes nothing."""
        with self._lock:
            self._read = True

    def expire(self) -> None:
        """The deadline passed: shut the connection so that a blocked read returns now."""
        with self._lock:
            if self._read:
                return
            self.expired = True
        sock = self.stream.get_extra_info("socket") if self.stream is not None else None
        if sock is not None:
            try:  # the plain socket's shutdown, beneath any TLS layer: safe from another thread
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def result(self) -> Result:
        if self.expired:  # a body cut short by the watchdog is a timeout, not a bad answer
            raise self.failure(TimeoutError())
        assert self.status is not None, "an attempt is parsed once its answer came"
        return parse_response(self.action, self.status, b"".join(self._chunks))

    def failure(self, error: BaseException) -> TransportError:
        """The typed error an exception of the exchange stands for; nothing falls through."""
        action, detail = self.action, _detail(error)
        if self.expired or isinstance(error, TimeoutError | httpx.TimeoutException):
            if not self.sent:
                return NotSentError(f"could not connect to {self.endpoint} within {self.timeout:g} s")
            return OutcomeUnknownError(f"no answer within {self.timeout:g} s after the request was sent")
        if self.status is not None:  # the answer came, unusable
            if isinstance(error, httpx.DecodingError | zlib.error):
                what = "the answer could not be decoded"
            elif isinstance(error, httpx.TransportError):
                what = "the answer was truncated"
            else:
                what = "the answer could not be read"
            return BadAnswerError(_maybe_acted(action, _with(what, detail)))
        if isinstance(error, httpx.LocalProtocolError):
            # h11 refused to write our own request: no byte of it went out
            return NotSentError(_with("the request could not be written", detail))
        if not self.sent:
            if isinstance(error, httpx.ConnectError | httpx.UnsupportedProtocol | httpx.ProxyError):
                return NotSentError(_with("could not connect to " + self.endpoint, detail))
            return NotSentError(_with("the connection failed before sending", detail))
        if isinstance(error, httpx.RemoteProtocolError) and _from_h11(error):
            # bytes came that are not HTTP (a close with nothing comes from httpcore itself)
            return BadAnswerError(_maybe_acted(action, _with("the answer was not HTTP", detail)))
        return OutcomeUnknownError(_with("the connection was lost after sending", detail))


class Retry:
    """One call's attempts: after a failure, go again or not, and after how long.

    Only where the service cannot act twice: a request that never left (any
    action, unless TLS failed: retrying cannot help), or a read (Describe*)
    whose outcome is unknown. So a call takes at most 1 + retries attempts.
    """

    def __init__(self, action: Action, retries: int, backoff: float) -> None:
        self.action = action
        self.retries = retries
        self.backoff = backoff
        self.attempt = 0

    def may_retry(self, error: TransportError) -> bool:
        if self.attempt >= self.retries:
            return False
        if isinstance(error, NotSentError):
            return not _is_tls(error)
        return isinstance(error, OutcomeUnknownError) and self.action.idempotent

    def after(self, error: TransportError) -> float:
        """Seconds to wait before the next attempt; `error` is raised again where there is none."""
        if not self.may_retry(error):
            raise error
        self.attempt += 1
        return self.backoff * 2.0 ** (self.attempt - 1)


H = TypeVar("H", httpx.Client, httpx.AsyncClient)


class _Core(Generic[H]):
    """What both drivers hold and do without a socket: settings, signing, the attempt's rules."""

    #: the driver's httpx client class
    _http_class: type[H]
    _http: H | None = None

    def __init__(
        self,
        key: SigningKey | None,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        region: str | None = None,
        language: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        limiter: RateLimiter | None = None,
        retries: int = RETRIES,
        backoff: float = BACKOFF,
        clock: Callable[[], float] = time.time,
        use_env_proxies: bool = True,
        scope: str | None = None,
    ) -> None:
        """`scope`: the name the history files this client's requests under, the endpoint
        unless told (the demo's emulator, whose port changes every run, is one service)."""
        self.key = key
        self.scope = scope or endpoint
        self.use_env_proxies = use_env_proxies
        self.url = httpx.URL(endpoint)
        self.endpoint = endpoint
        self.region = region
        self.language = language
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._limiter = limiter or PROCESS_LIMITER
        self._clock = clock

    @property
    def http(self) -> H:
        # Built on first use, so a dry run or an invalid form never opens a pool.
        if self._http is None:
            # Certificates are always verified over https. A plain-http endpoint (the
            # emulator) has no TLS to verify, so it skips building a certificate store,
            # which costs a quarter of a one-shot command's run time. An https proxy is
            # verified by httpcore on its own either way. httpx times each read with
            # `timeout`; the drivers bound the whole attempt besides.
            try:
                self._http = self._http_class(
                    timeout=self.timeout, verify=self.url.scheme == "https", trust_env=self.use_env_proxies
                )
            except Exception as error:  # a bad SSL_CERT_FILE, proxy or certificate store: nothing left
                raise NotSentError(_with("could not set up the connection", _detail(error))) from error
        return self._http

    def prepare(self, action: Action) -> Prepared:
        if self.key is None:
            raise ValueError("no credentials to sign with")
        body = encode_body(action.params())
        headers = signed_headers(
            self.key,
            action=action.name,
            host=host_header(self.url),
            body=body,
            timestamp=int(self._clock()),
            region=self.region,
            language=self.language,
        )
        return Prepared(action.name, str(self.url), headers, body)

    def _attempt(self, action: Action, on_send: Callable[[Prepared], None] | None) -> Attempt:
        prepared = self.prepare(action)  # a fresh timestamp on every attempt
        if on_send is not None:
            on_send(prepared)
        return Attempt(action, prepared, endpoint=self.endpoint, timeout=self.timeout)

    @staticmethod
    def _request(http: H, attempt: Attempt, trace: Any) -> httpx.Request:
        prepared = attempt.prepared
        headers = {**prepared.headers, "Accept-Encoding": ACCEPT_ENCODING}  # whatever httpx could decode
        return http.build_request(
            "POST", prepared.url, headers=headers, content=prepared.body, extensions={"trace": trace}
        )


# --- the drivers --------------------------------------------------------------


class GmeClient(_Core[httpx.AsyncClient]):
    """The async driver: `httpx.AsyncClient`, for the console and batches."""

    _http_class = httpx.AsyncClient

    async def __aenter__(self) -> GmeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def call(
        self, action: Action, on_send: Callable[[Prepared], None] | None = None, *, spare: int = 0
    ) -> Result:
        """Send one action; each attempt gets `timeout` seconds for its whole answer (see `Retry`).
        `spare`: a background call, which takes a slot only when it leaves that many free."""
        import asyncio

        retry, http = Retry(action, self.retries, self.backoff), self.http  # loaded before a slot is taken
        while True:
            # Each attempt its own ticket, over when it ends: a failure is given up on here.
            ticket = await self._limiter.wait(spare, self.timeout)
            try:
                return await self._send_once(http, self._attempt(action, on_send), ticket)
            except TransportError as error:
                delay = retry.after(error)
            finally:
                await self._limiter.done(ticket)
            await asyncio.sleep(delay)

    async def _send_once(self, http: httpx.AsyncClient, attempt: Attempt, ticket: Ticket) -> Result:
        import asyncio

        async def trace(event: str, info: dict[str, Any]) -> None:
            attempt.seen(event, info)

        try:
            async with asyncio.timeout(attempt.timeout):  # the whole attempt, answer included
                response = await http.send(self._request(http, attempt, trace), stream=True)
                self._limiter.answered(ticket)  # the headers came: the service is done with it
                try:
                    attempt.answered(response)
                    async for chunk in response.aiter_raw():  # decoded by the attempt, bounded
                        attempt.take(chunk)
                finally:
                    await response.aclose()
        except TransportError:
            raise
        except Exception as error:
            raise attempt.failure(error) from error
        return attempt.result()


class SyncGmeClient(_Core[httpx.Client]):
    """The blocking driver: `httpx.Client`, for one-shot commands (no event loop to start)."""

    _http_class = httpx.Client

    def __enter__(self) -> SyncGmeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def call(
        self, action: Action, on_send: Callable[[Prepared], None] | None = None, *, spare: int = 0
    ) -> Result:
        """Send one action; each attempt gets `timeout` seconds for its whole answer (see `Retry`).
        `spare`: as for `GmeClient.call`."""
        retry, http = Retry(action, self.retries, self.backoff), self.http  # loaded before a slot is taken
        while True:
            ticket = self._limiter.wait_sync(spare, self.timeout)  # as in `GmeClient.call`
            try:
                return self._send_once(http, self._attempt(action, on_send), ticket)
            except TransportError as error:
                delay = retry.after(error)
            finally:
                self._limiter.done_sync(ticket)
            time.sleep(delay)

    def _send_once(self, http: httpx.Client, attempt: Attempt, ticket: Ticket) -> Result:
        # httpx times each read; the watchdog bounds the whole attempt by shutting the
        # connection at the deadline, so a server that drips bytes cannot hold it open.
        watchdog = threading.Timer(attempt.timeout, attempt.expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            response = http.send(self._request(http, attempt, attempt.seen), stream=True)
            self._limiter.answered(ticket)  # the headers came: the service is done with it
            try:
                attempt.answered(response)
                for chunk in response.iter_raw():  # decoded by the attempt, bounded
                    attempt.take(chunk)
                attempt.read()
            finally:
                response.close()
        except TransportError:
            raise
        except Exception as error:
            raise attempt.failure(error) from error
        finally:
            watchdog.cancel()
        return attempt.result()


# --- parsing ------------------------------------------------------------------


def parse_response(action: Action, status: int, content: bytes) -> Result:
    """Turn the bytes of an answer into a result or a typed error."""
    if status != 200:
        raise BadAnswerError(_maybe_acted(action, f"HTTP {status}: {_snippet(content)}"))
    try:
        data = json.loads(content)
    except RecursionError:
        raise BadAnswerError(_maybe_acted(action, "JSON nested too deep to read")) from None
    except ValueError:  # UnicodeDecodeError and a too long integer included
        raise BadAnswerError(_maybe_acted(action, f"not JSON: {_snippet(content)}")) from None
    try:  # JSON can spell a lone surrogate ("\ud800"): text no terminal or store can take
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadAnswerError(
            _maybe_acted(action, "the answer holds text that is not valid Unicode")
        ) from None
    inner = data.get("Response") if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise BadAnswerError(_maybe_acted(action, f"no Response object: {_snippet(content)}"))
    error = inner.get("Error")
    if error is not None:
        if (
            not isinstance(error, dict)
            or not isinstance(error.get("Code"), str)
            or not isinstance(error.get("Message", ""), str)
        ):
            raise BadAnswerError(_maybe_acted(action, f"malformed Error object: {_snippet(content)}"))
        request_id = inner.get("RequestId")
        raise ServiceError(
            error["Code"],
            error.get("Message", ""),
            request_id if isinstance(request_id, str) else None,
            raw=inner,
        )
    try:
        return action.parse(inner)
    except GmeError:
        raise
    except Exception as shape:  # ResponseShapeError, or a shape no rule foresaw
        raise BadAnswerError(_maybe_acted(action, str(shape) or type(shape).__name__)) from None


def _maybe_acted(action: Action, detail: str) -> str:
    if action.idempotent:
        return detail
    return f"{detail}; the service may have acted on {action.name}"


def _snippet(content: bytes, limit: int = 160) -> str:
    text = " ".join(content[: limit * 4].decode("utf-8", "replace").split())
    if not text:
        return "(empty body)"
    return text if len(text) <= limit else text[:limit] + "…"


def _detail(error: BaseException) -> str:
    """An exception in words: its message; its type where it has none or is not httpx's own."""
    text = str(error).strip()
    if isinstance(error, httpx.HTTPError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _with(what: str, detail: str) -> str:
    return f"{what} ({detail})" if detail else what


def _from_h11(error: BaseException) -> bool:
    """httpcore raised it for bytes h11 could not parse (not for a close with nothing)."""
    seen = error.__cause__ or error.__context__
    while seen is not None:
        if type(seen).__module__.split(".")[0] == "h11":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_tls(error: BaseException) -> bool:
    """A certificate or handshake failure: retrying cannot help."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
