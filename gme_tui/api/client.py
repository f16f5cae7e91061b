"""The async client: sign, send, parse, pace.

It knows nothing of screens or files. It turns every way a call can end into
one of four things: a typed result, a `ServiceError`, or one of the three
transport errors that tell the operator whether the service may have acted.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from .actions import Action, ResponseShapeError, Result, encode_body
from .errors import BadAnswerError, NotSentError, OutcomeUnknownError, ServiceError
from .fields import DEFAULT_ENDPOINT
from .signing import SigningKey, redact, signed_headers

DEFAULT_TIMEOUT = 10.0
RETRIES = 2
BACKOFF = 0.25


class RateLimiter:
    """At most `limit` sends in any window of `window` seconds, across tasks and threads.

    Each caller reserves a slot under a thread lock and then sleeps outside it,
    so concurrent calls queue fairly without holding anything while they wait.
    The service counts arrivals, not sends: the 21st send goes out a window plus
    a margin after the 1st, so that a 1st slowed on its way (a new connection, a
    busy machine, a congested link) and a 21st that is quick still arrive a
    window apart. 250 ms covers the jitter seen on a loaded machine; 50 ms did not.
    """

    def __init__(self, limit: int = 20, window: float = 1.0, margin: float = 0.25,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.span = window + margin
        self._clock = clock
        self._slots: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next free slot; return how long to wait for it."""
        with self._lock:
            now = self._clock()
            while self._slots and self._slots[0] <= now - self.span:
                self._slots.popleft()
            slot = now
            if len(self._slots) >= self.limit:
                slot = max(now, self._slots[-self.limit] + self.span)
            self._slots.append(slot)
            return slot - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


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
        return {"method": "POST", "url": self.url, "headers": redact(self.headers),
                "body": json.loads(self.body)}


def host_header(url: httpx.URL) -> str:
    """The Host value on the wire (IDNA-encoded): port only when it is not the scheme's default."""
    host = url.raw_host.decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    return host if url.port is None else f"{host}:{url.port}"


class GmeClient:
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
    ) -> None:
        self.key = key
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
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> GmeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def http(self) -> httpx.AsyncClient:
        # Built on first use, so a dry run or an invalid form never opens a pool.
        if self._http is None:
            # Certificates are always verified over https. A plain-http endpoint (the
            # emulator) has no TLS to verify, so it skips building a certificate store,
            # which costs a quarter of a one-shot command's run time. An https proxy is
            # verified by httpcore on its own either way.
            verify = self.url.scheme == "https"
            self._http = httpx.AsyncClient(timeout=self.timeout, verify=verify,
                                           trust_env=self.use_env_proxies)
        return self._http

    def prepare(self, action: Action) -> Prepared:
        if self.key is None:
            raise ValueError("no credentials to sign with")
        body = encode_body(action.params())
        headers = signed_headers(
            self.key, action=action.name, host=host_header(self.url), body=body,
            timestamp=int(self._clock()), region=self.region, language=self.language,
        )
        return Prepared(action.name, str(self.url), headers, body)

    async def call(self, action: Action, on_send: Callable[[Prepared], None] | None = None) -> Result:
        """Send one action; each attempt gets `timeout` seconds for its whole answer.

        Retries only where the service cannot have acted twice: a request that
        never left (any action), or a read (Describe*) that timed out. So a call
        takes at most (1 + retries) attempts plus short backoffs.
        """
        attempt = 0
        while True:
            await self._limiter.wait()
            prepared = self.prepare(action)  # a fresh timestamp on every attempt
            if on_send is not None:
                on_send(prepared)
            try:
                return await self._send_once(action, prepared)
            except NotSentError as error:
                if attempt >= self.retries or _is_tls(error):
                    raise
            except OutcomeUnknownError:
                if not action.idempotent or attempt >= self.retries:
                    raise
            attempt += 1
            await asyncio.sleep(self.backoff * 2 ** (attempt - 1))

    async def _send_once(self, action: Action, prepared: Prepared) -> Result:
        sent = False

        async def trace(event: str, info: dict) -> None:
            nonlocal sent
            if event.endswith("send_request_headers.started"):
                sent = True  # from here on the service may have the request

        request = self.http.build_request("POST", prepared.url, headers=prepared.headers,
                                          content=prepared.body, extensions={"trace": trace})
        try:
            # httpx times each read; this bounds the whole answer (a server that
            # drips a byte at a time cannot hold the call open forever).
            async with asyncio.timeout(self.timeout):
                return await self._exchange(action, request)
        except (TimeoutError, httpx.TimeoutException) as error:  # the whole attempt, or one read
            if not sent:
                raise NotSentError(f"could not connect to {self.endpoint} within {self.timeout:g} s") from error
            raise OutcomeUnknownError(f"no answer within {self.timeout:g} s after the request was sent") from error
        except (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.ProxyError) as error:
            if sent:  # pragma: no cover - httpx raises these only before sending
                raise OutcomeUnknownError(_describe(error, "the connection failed")) from error
            raise NotSentError(_describe(error, "could not connect to " + self.endpoint)) from error
        except _Truncated as cut:
            raise BadAnswerError(_maybe_acted(action, "the answer was truncated "
                                              f"({_describe(cut.error, 'connection closed')})")) from cut.error
        except httpx.TransportError as error:
            if not sent:
                raise NotSentError(_describe(error, "the connection failed before sending")) from error
            raise OutcomeUnknownError(_describe(error, "the connection was lost after sending")) from error

    async def _exchange(self, action: Action, request: httpx.Request) -> Result:
        response = await self.http.send(request, stream=True)
        try:
            content = await response.aread()
        except httpx.TimeoutException:
            raise
        except httpx.TransportError as error:
            raise _Truncated(error) from error
        finally:
            await response.aclose()
        return parse_response(action, response.status_code, content)


class _Truncated(Exception):
    """The status line came, the body did not come whole."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def parse_response(action: Action, status: int, content: bytes) -> Result:
    """Turn the bytes of an answer into a result or a typed error."""
    if status != 200:
        raise BadAnswerError(_maybe_acted(action, f"HTTP {status}: {_snippet(content)}"))
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise BadAnswerError(_maybe_acted(action, f"not JSON: {_snippet(content)}")) from None
    inner = data.get("Response") if isinstance(data, dict) else None
    if not isinstance(inner, dict):
        raise BadAnswerError(_maybe_acted(action, f"no Response object: {_snippet(content)}"))
    error = inner.get("Error")
    if error is not None:
        if not isinstance(error, dict) or not isinstance(error.get("Code"), str):
            raise BadAnswerError(_maybe_acted(action, f"malformed Error object: {_snippet(content)}"))
        request_id = inner.get("RequestId")
        raise ServiceError(error["Code"], str(error.get("Message", "")),
                           request_id if isinstance(request_id, str) else None, raw=inner)
    try:
        return action.parse(inner)
    except ResponseShapeError as shape:
        raise BadAnswerError(_maybe_acted(action, str(shape))) from None


def _maybe_acted(action: Action, detail: str) -> str:
    if action.idempotent:
        return detail
    return f"{detail}; the service may have acted on {action.name}"


def _snippet(content: bytes, limit: int = 160) -> str:
    text = " ".join(content.decode("utf-8", "replace").split())
    if not text:
        return "(empty body)"
    return text if len(text) <= limit else text[:limit] + "…"


def _describe(error: Exception, fallback: str) -> str:
    text = str(error).strip()
    return f"{fallback} ({text})" if text else fallback


def _is_tls(error: BaseException) -> bool:
    """A certificate or handshake failure: retrying cannot help."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
