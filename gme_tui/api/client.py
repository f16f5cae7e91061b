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
import zlib
from collections import deque
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


def next_slot(now: float, newest: list[float], limit: int, span: float) -> float:
    """When the next send may leave: now, unless `limit` sends (`newest`, the latest ones,
    newest first) already fall within `span`; then `span` after the oldest of them."""
    if len(newest) >= limit:
        return max(now, newest[limit - 1] + span)
    return now


def has_spare(now: float, newest: list[float], limit: int, span: float, spare: int) -> bool:
    """Is a slot free now with `spare` more beside it? Counts the sends of the last `span`."""
    return sum(1 for slot in newest if slot > now - span) + 1 + spare <= limit


#: how often a background caller (`spare`) looks again for a slot it may take
SPARE_POLL = 0.05


class RateLimiter:
    """At most `limit` sends in any window of `window` seconds, across tasks and threads.

    Each caller reserves a slot under a thread lock and then sleeps outside it,
    so concurrent calls queue fairly without holding anything while they wait.
    The service counts arrivals, not sends: the 21st send goes out a window plus
    a margin after the 1st, so that a 1st slowed on its way (a new connection, a
    busy machine, a congested link) and a 21st that is quick still arrive a
    window apart. 250 ms covers the jitter seen on a loaded machine; 50 ms did not.
    """

    def __init__(
        self,
        limit: int = 20,
        window: float = 1.0,
        margin: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.span = window + margin
        self._clock = clock
        self._slots: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self, spare: int = 0) -> float | None:
        """Take the next free slot; return how long to wait for it. With `spare`, take one only
        if it is free now and leaves `spare` free beside it (None: none taken)."""
        with self._lock:
            now = self._clock()
            while self._slots and self._slots[0] <= now - self.span:
                self._slots.popleft()
            newest = list(reversed(self._slots))[: self.limit]
            if spare and not has_spare(now, newest, self.limit, self.span, spare):
                return None
            slot = next_slot(now, newest, self.limit, self.span)
            self._slots.append(slot)
            return slot - now

    async def wait(self, spare: int = 0) -> None:
        """Until a slot is ours. With `spare` (a background caller), only a slot that leaves
        `spare` free for the operator, looked for again every `SPARE_POLL` seconds."""
        import asyncio  # here, so that the sync driver never loads the event loop

        while (delay := self.reserve(spare)) is None:
            await asyncio.sleep(SPARE_POLL)
        if delay > 0:
            await asyncio.sleep(delay)

    def wait_sync(self, spare: int = 0) -> None:
        while (delay := self.reserve(spare)) is None:
            time.sleep(SPARE_POLL)
        if delay > 0:
            time.sleep(delay)


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
            await self._limiter.wait(spare)
            try:
                return await self._send_once(http, self._attempt(action, on_send))
            except TransportError as error:
                await asyncio.sleep(retry.after(error))

    async def _send_once(self, http: httpx.AsyncClient, attempt: Attempt) -> Result:
        import asyncio

        async def trace(event: str, info: dict[str, Any]) -> None:
            attempt.seen(event, info)

        try:
            async with asyncio.timeout(attempt.timeout):  # the whole attempt, answer included
                response = await http.send(self._request(http, attempt, trace), stream=True)
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
            self._limiter.wait_sync(spare)
            try:
                return self._send_once(http, self._attempt(action, on_send))
            except TransportError as error:
                time.sleep(retry.after(error))

    def _send_once(self, http: httpx.Client, attempt: Attempt) -> Result:
        # httpx times each read; the watchdog bounds the whole attempt by shutting the
        # connection at the deadline, so a server that drips bytes cannot hold it open.
        watchdog = threading.Timer(attempt.timeout, attempt.expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            response = http.send(self._request(http, attempt, attempt.seen), stream=True)
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
