"""TC3-HMAC-SHA256, the signature of Tencent Cloud API 3.0.

Written here (not borrowed from the SDK) so that the one-shot command line stays
light; `tests/core/test_signing_conformance.py` proves it equal to the official SDK.
The emulator verifies with the same functions, so one rule has one home.

`hashlib` and `hmac` are imported by the functions that hash: the console holds a
key long before it signs anything, and its first frame needs neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
SIGNED_HEADERS = "content-type;host"
CONTENT_TYPE = "application/json"
SERVICE = "gme"
VERSION = "2018-07-11"

REDACTED = "<redacted>"


@dataclass(frozen=True)
class SigningKey:
    """What signs a request. `repr` never shows the key or the token."""

    secret_id: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:
        return f"SigningKey(secret_id={self.secret_id!r}, secret_key=<hidden>, token={'<hidden>' if self.token else None})"


def utc_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def canonical_request(host: str, body: bytes, content_type: str = CONTENT_TYPE) -> str:
    canonical_headers = f"content-type:{content_type.strip()}\nhost:{host.strip()}\n"
    payload_hash = _sha256_hex(body)
    return f"POST\n/\n\n{canonical_headers}\n{SIGNED_HEADERS}\n{payload_hash}"


def credential_scope(timestamp: int, service: str = SERVICE) -> str:
    """`2026-11-25/gme/tc3_request`: in the string to sign and in the Authorization header."""
    return f"{utc_date(timestamp)}/{service}/tc3_request"


def string_to_sign(timestamp: int, canonical: str, service: str = SERVICE) -> str:
    scope = credential_scope(timestamp, service)
    digest = _sha256_hex(canonical.encode("utf-8"))
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def _sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    import hashlib
    import hmac

    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signature(secret_key: str, timestamp: int, to_sign: str, service: str = SERVICE) -> str:
    k_date = _hmac(("TC3" + secret_key).encode("utf-8"), utc_date(timestamp))
    k_service = _hmac(k_date, service)
    k_signing = _hmac(k_service, "tc3_request")
    return _hmac(k_signing, to_sign).hex()


def authorization(key: SigningKey, host: str, body: bytes, timestamp: int, service: str = SERVICE) -> str:
    """The Authorization header for a POST / with a JSON body to `host`."""
    to_sign = string_to_sign(timestamp, canonical_request(host, body), service)
    sig = signature(key.secret_key, timestamp, to_sign, service)
    return (
        f"{ALGORITHM} Credential={key.secret_id}/{credential_scope(timestamp, service)}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={sig}"
    )


def signed_headers(
    key: SigningKey,
    *,
    action: str,
    host: str,
    body: bytes,
    timestamp: int,
    region: str | None = None,
    language: str | None = None,
) -> dict[str, str]:
    """Every header a request needs, Authorization last."""
    headers = {
        "Host": host,
        "Content-Type": CONTENT_TYPE,
        "X-TC-Action": action,
        "X-TC-Version": VERSION,
        "X-TC-Timestamp": str(timestamp),
    }
    if region:
        headers["X-TC-Region"] = region
    if language:
        headers["X-TC-Language"] = language
    if key.token:
        headers["X-TC-Token"] = key.token
    headers["Authorization"] = authorization(key, host, body, timestamp)
    return headers


def redact(headers: dict[str, str]) -> dict[str, str]:
    """Headers safe to print or store: the signature and the token hidden."""
    safe = dict(headers)
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization":
            head, sep, _ = value.rpartition("Signature=")
            safe[name] = f"{head}{sep}{REDACTED}" if sep else REDACTED
        elif lowered == "x-tc-token":
            safe[name] = REDACTED
    return safe


@dataclass(frozen=True)
class ParsedAuthorization:
    secret_id: str
    date: str
    service: str
    signed_headers: str
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization | None:
    """Read an Authorization header back (for the emulator); None if malformed."""
    if not value.startswith(ALGORITHM + " "):
        return None
    parts: dict[str, str] = {}
    for item in value[len(ALGORITHM) + 1 :].split(","):
        name, sep, val = item.strip().partition("=")
        if not sep:
            return None
        parts[name] = val
    try:
        secret_id, date, service, terminator = parts["Credential"].split("/")
        sig_headers = parts["SignedHeaders"]
        sig = parts["Signature"]
    except (KeyError, ValueError):
        return None
    if terminator != "tc3_request":
        return None
    return ParsedAuthorization(secret_id, date, service, sig_headers, sig)
