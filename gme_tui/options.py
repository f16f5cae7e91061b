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

from .api.fields import DEFAULT_ENDPOINT, FieldError, is_control, whole_number

__all__ = [
    "DEFAULT_ENDPOINT",
    "LANGUAGES",
    "parse_endpoint",
    "parse_limit",
    "parse_profile_name",
    "parse_timeout",
]

ENDPOINT = "endpoint"
TIMEOUT = "timeout"
LIMIT = "limit"
MAX_TIMEOUT = 300.0


def parse_endpoint(text: str) -> str:
    """An http(s) URL with no path, query or credentials; a bare host means https."""
    value = text.strip()
    if not value:
        raise FieldError(ENDPOINT, "is required (for example https://gme.tencentcloudapi.com)")
    if "://" not in value:
        value = "https://" + value
    try:
        parts = urlsplit(value)
        port, host = parts.port, parts.hostname or ""
    except ValueError as error:
        raise FieldError(ENDPOINT, f"is not a valid URL ({error})") from None
    if port == 0:
        raise FieldError(ENDPOINT, "has a bad port (1 to 65535)")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FieldError(ENDPOINT, f"must start with https:// or http:// (got {parts.scheme}://)")
    if parts.username is not None or parts.password is not None:
        raise FieldError(ENDPOINT, "must not hold a user name or password")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise FieldError(ENDPOINT, "must have no path or query: the API lives at /")
    if not host or any(ch.isspace() or is_control(ch) for ch in host):
        raise FieldError(ENDPOINT, f"must name a host (got {text.strip()!r})")
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise FieldError(ENDPOINT, f"has a bad IPv6 address [{host}]") from None
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise FieldError(ENDPOINT, f"has a host name that cannot be encoded ({host!r})") from None
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


PROFILE = "--profile"
PROFILE_RULE = "1 to 64 characters, each a letter, a digit, '-', '_' or '.'"
PROFILE_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)
LANGUAGES = ("zh-CN", "en-US")


def parse_profile_name(text: object, field: str = PROFILE) -> str:
    """A profile names a keyring entry and a settings section: kept to a safe alphabet."""
    if not isinstance(text, str) or not PROFILE_NAME.fullmatch(text):
        raise FieldError(field, PROFILE_RULE)
    return text


def parse_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FieldError(TIMEOUT, f"must be a number of seconds (got {text!r})") from None
    if not 0 < value <= MAX_TIMEOUT:
        raise FieldError(TIMEOUT, f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds (got {text})")
    return value


def parse_limit(text: str) -> int:
    number = whole_number(text.strip(), 1_000_000)
    if number is None:
        raise FieldError(LIMIT, f"must be a whole number from 1 to 1000000 (got {text!r})")
    return number
