"""The app's own options, beside the context that resolves them: endpoint, profile
name, timeout, history limit and the languages of service messages.

They are not the GME API's parameters (those live in `api.fields`), but they
follow the same rule: a parser takes the operator's text and returns the value,
or raises `FieldError` naming the option and the rule it broke.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from .api.fields import DEFAULT_ENDPOINT, FieldError, is_control, quote, whole_number

__all__ = [
    "DEFAULT_ENDPOINT",
    "LANGUAGES",
    "given",
    "parse_endpoint",
    "parse_folder",
    "parse_limit",
    "parse_profile_name",
    "parse_region",
    "parse_timeout",
]

ENDPOINT = "endpoint"
TIMEOUT = "timeout"
LIMIT = "limit"
REGION = "region"
MAX_TIMEOUT = 300.0


def given(text: str | None, field: str) -> str | None:
    """An option's text, None when it was not given, and `FieldError` when it was given
    empty: a script's unset variable must never fall back to the default (the real service)."""
    if text is not None and not text.strip():
        raise FieldError(field, "is empty: give a value, or leave the option out for the default")
    return text


def parse_endpoint(text: str, field: str = ENDPOINT) -> str:
    """An http(s) URL with no path, query or credentials; a bare host means https."""
    value = text.strip()
    if not value:
        raise FieldError(field, "is required (for example https://gme.tencentcloudapi.com)")
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port, host = parts.port, parts.hostname or ""
    except ValueError as error:
        # urlsplit's own words may hold the whole value: only a port problem is told apart
        problem = "a bad port (1 to 65535)" if "port" in str(error).lower() else "an unreadable address"
        raise FieldError(field, f"is not a valid URL: {problem} (got {quote(text.strip())})") from None
    if port == 0:
        raise FieldError(field, "has a bad port (1 to 65535)")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FieldError(field, f"must start with https:// or http:// (got {quote(parts.scheme)})")
    if parts.username is not None or parts.password is not None:
        raise FieldError(field, "must not hold a user name or password")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise FieldError(field, "must have no path or query: the API lives at /")
    if not host or any(ch.isspace() or is_control(ch) for ch in host):
        raise FieldError(field, f"must name a host (got {quote(text.strip())})")
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise FieldError(field, f"has a bad IPv6 address (got {quote(host)})") from None
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise FieldError(field, f"has a host name that cannot be encoded (got {quote(host)})") from None
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def parse_folder(text: str, field: str) -> str:
    """A folder's name as given: no control characters (a NUL would fail deep in the OS)."""
    if any(is_control(ch) for ch in text):
        raise FieldError(field, f"must be a folder name without control characters (got {quote(text)})")
    return text


_REGION = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+", re.ASCII)
REGION_MAX = 64


def parse_region(text: object, field: str = REGION) -> str:
    """X-TC-Region goes into a header: lower-case ASCII words joined by '-', nothing else."""
    value = text.strip() if isinstance(text, str) else None
    if value is None or len(value) > REGION_MAX or not _REGION.fullmatch(value):
        shown = quote(text) if isinstance(text, str) else "not text"
        raise FieldError(field, f"must be a region name like ap-guangzhou (got {shown})")
    return value


PROFILE = "--profile"
PROFILE_RULE = "1 to 64 characters, each a letter, a digit, '-', '_' or '.'"
PROFILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
LANGUAGES = ("zh-CN", "en-US")


def parse_profile_name(text: object, field: str = PROFILE) -> str:
    """A profile names a keyring entry and a settings section: kept to a safe alphabet."""
    if not isinstance(text, str) or not PROFILE_NAME.fullmatch(text):
        raise FieldError(field, PROFILE_RULE)
    return text


#: ASCII digits with an optional fraction: float() would also take 1_0, ١٠, inf and 1e3
_SECONDS = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def parse_seconds(text: str, field: str, top: float) -> float:
    """A number of seconds above 0 and at most `top`, written in ASCII decimal."""
    value = text.strip()
    if len(value) > 32 or not _SECONDS.fullmatch(value):
        raise FieldError(
            field, f"must be a number of seconds in decimal digits, like 2.5 (got {quote(text)})"
        )
    seconds = float(value)
    if not 0 < seconds <= top:
        raise FieldError(
            field, f"must be more than 0 and at most {top:g} seconds (got {quote(value, bare=True)})"
        )
    return seconds


def parse_timeout(text: str, field: str = TIMEOUT) -> float:
    return parse_seconds(text, field, MAX_TIMEOUT)


def parse_limit(text: str) -> int:
    number = whole_number(text.strip(), 1_000_000)
    if number is None:
        raise FieldError(LIMIT, f"must be a whole number from 1 to 1000000 (got {quote(text)})")
    return number
