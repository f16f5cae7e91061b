"""`gme_tui.api.signing` signs exactly as the official Tencent Cloud SDK does.

The SDK side is never re-implemented here: a real `GmeClient` builds each request
(headers, body, Authorization) with its own code, under a frozen clock, and our
functions are fed what the SDK put on the wire.
"""

from __future__ import annotations

import json
import string
import types
from datetime import date, timedelta
from unittest import mock

import pytest
import tencentcloud.common.abstract_client as sdk_abstract_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.gme.v20180711.gme_client import GmeClient

from gme_tui.api import signing
from gme_tui.api.actions import (
    DescribeRecordInfo,
    DescribeTaskInfo,
    ModifyRecordInfo,
    StartRecord,
    StopRecord,
    encode_body,
)
from gme_tui.api.fields import RecordMode, Subscription
from gme_tui.api.signing import (
    REDACTED,
    SigningKey,
    authorization,
    parse_authorization,
    redact,
    signed_headers,
)

PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DAY = 86400
LAST_DAY = (date(9999, 12, 31) - date(1970, 1, 1)).days  # datetime cannot go past it
MAX_TIMESTAMP = (LAST_DAY + 1) * DAY - 1


# --- the SDK side ------------------------------------------------------------


class _RawCredential:
    """What the SDK reads from a credential, for secrets `Credential()` refuses
    (empty or blank-edged ones): the signing code only calls this method."""

    def __init__(self, secret_id: str, secret_key: str, token: str | None) -> None:
        self._info = (secret_id, secret_key, token)

    def get_credential_info(self):
        return self._info


def _sdk_credential(secret_id: str, secret_key: str, token: str | None):
    try:
        return Credential(secret_id, secret_key, token)
    except TencentCloudSDKException:
        return _RawCredential(secret_id, secret_key, token)


def _sdk_client(host: str, key: SigningKey, region: str | None, language: str | None) -> GmeClient:
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=host))
    client = GmeClient(_sdk_credential(key.secret_id, key.secret_key, key.token), region, profile)
    # ClientProfile only takes zh-CN or en-US; the SDK skips the header when unset.
    client.profile.language = language
    return client


def _sdk_build(
    client: GmeClient, action: str, params: dict, clock: float, body_encoder=None
) -> RequestInternal:
    """Let the SDK build the whole request with `time.time()` frozen at `clock`.

    With `body_encoder`, the SDK's `json.dumps(params)` is swapped for it, so the
    SDK signs the very bytes we would send."""
    req = RequestInternal(client._get_endpoint(), "POST", "/")
    frozen_time = types.SimpleNamespace(time=lambda: clock)
    with mock.patch.object(sdk_abstract_client, "time", frozen_time):
        if body_encoder is None:
            client._build_req_inter(action, params, req)
        else:
            fake_json = types.SimpleNamespace(dumps=body_encoder)
            with mock.patch.object(sdk_abstract_client, "json", fake_json):
                client._build_req_inter(action, params, req)
    return req


def _body_bytes(req: RequestInternal) -> bytes:
    return req.data.encode("utf-8") if isinstance(req.data, str) else req.data


# --- strategies ----------------------------------------------------------------

ODD_TEXT = [
    "",
    " ",
    "\t",
    "\n",
    "\u200b",
    "\u00a0",
    "=",
    "/",
    ",",
    ", Signature=",
    "TC3",
    "tc3_request",
    "a" * 5000,
    "密钥🔑",
    "e\u0301",
    "\U0001f600\u200d\U0001f467",
    "\x00",
    "\\\"'",
    "%2F%00",
    "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
    " AKID with blanks ",
]
secrets = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(),
    st.text(alphabet=string.punctuation + " "),
    st.text(alphabet=st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF), max_size=20),
    st.from_regex(r"AKID[A-Za-z0-9]{32}", fullmatch=True),
)
tokens = st.one_of(st.none(), st.just(""), secrets)
signing_keys = st.builds(SigningKey, secrets, secrets, tokens)

SPECIAL_ROOMS = [
    "房间-1",
    "会议室 A",
    "e\u0301\u0301",
    "\U0001f600" * 127,
    "𝔤𝔪𝔢",
    "\u2028",
    "\x00",
    'a"b\\c',
    "ع",
    "\ufeff",
    "x" * 127,
    "\U0010ffff",
]
room_chars = st.one_of(
    st.characters(codec="utf-8"),
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x0300, max_codepoint=0x036F),  # combining marks
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, codec="utf-8"),  # non-BMP
)
room_ids = st.one_of(st.sampled_from(SPECIAL_ROOMS), st.text(room_chars, min_size=1, max_size=127))
biz_ids = st.one_of(st.sampled_from([1, 1400089356, 3400352518, 2**64 - 1]), st.integers(1, 2**64 - 1))
task_ids = st.one_of(st.sampled_from([446192236330927912, 2**63 - 1]), st.integers(1, 2**64 - 1))
modes = st.sampled_from(list(RecordMode))
user_id_lists = st.lists(st.integers(10001, 2**63 - 1).map(str), unique=True, max_size=20).map(tuple)
subscriptions = st.one_of(st.none(), st.builds(Subscription, user_id_lists, user_id_lists))

requests = st.one_of(
    st.builds(StartRecord, biz_ids, room_ids, modes, subscriptions),
    st.builds(StopRecord, biz_ids, task_ids),
    st.builds(DescribeTaskInfo, biz_ids, room_ids),
    st.builds(DescribeRecordInfo, biz_ids, task_ids),
    st.builds(ModifyRecordInfo, biz_ids, task_ids, modes, subscriptions),
)

hosts = st.one_of(
    st.sampled_from(
        [
            "gme.tencentcloudapi.com",
            "127.0.0.1:8080",
            "[::1]:9000",
            "localhost:1",
            "gme.ap-guangzhou.tencentcloudapi.com",
            "GME.TencentCloudAPI.com:443",
        ]
    ),
    st.builds(
        lambda name, port: name if port is None else f"{name}:{port}",
        st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9-]{1,12}){0,3}", fullmatch=True),
        st.one_of(st.none(), st.integers(1, 65535)),
    ),
)

# Seconds around midnight UTC, on any date datetime can hold and often in this century.
midnights = st.one_of(st.integers(0, LAST_DAY), st.integers(10957, 47482)).map(lambda day: day * DAY)
timestamps = st.one_of(
    st.builds(lambda m, d: min(max(m + d, 0), MAX_TIMESTAMP), midnights, st.integers(-5, 5)),
    st.integers(0, MAX_TIMESTAMP),
    st.integers(1_500_000_000, 2_200_000_000),
)
# The SDK reads a float clock and truncates; the fraction must not change the second.
fractions = st.sampled_from([0.0, 0.25, 0.5, 0.999])
regions = st.sampled_from([None, "", "ap-guangzhou", "ap-shanghai", "na-siliconvalley"])
languages = st.sampled_from([None, "zh-CN", "en-US"])


# --- conformance -----------------------------------------------------------------


@PROPERTY
@given(
    key=signing_keys,
    host=hosts,
    request=requests,
    ts=timestamps,
    frac=fractions,
    region=regions,
    language=languages,
)
def test_authorization_equals_sdk_for_the_request_the_sdk_builds(
    key, host, request, ts, frac, region, language
):
    client = _sdk_client(host, key, region, language)
    params = request.params()
    req = _sdk_build(client, request.name, params, ts + frac)
    sdk = req.header

    # The SDK put our host on the wire, its own json.dumps body, our second.
    assert sdk["Host"] == host
    assert int(sdk["X-TC-Timestamp"]) == ts
    assert json.loads(req.data) == json.loads(encode_body(params))

    ours = authorization(key, sdk["Host"], _body_bytes(req), int(sdk["X-TC-Timestamp"]))
    assert ours == sdk["Authorization"]

    headers = signed_headers(
        key,
        action=request.name,
        host=sdk["Host"],
        body=_body_bytes(req),
        timestamp=int(sdk["X-TC-Timestamp"]),
        region=region,
        language=language,
    )
    assert set(headers) <= set(sdk), f"we set headers the SDK does not: {set(headers) - set(sdk)}"
    for name, value in headers.items():
        assert value == sdk[name], name
    sdk_only = {name for name in sdk if name.startswith("X-TC-")} - set(headers)
    assert sdk_only == {"X-TC-RequestClient"}
    assert list(headers)[-1] == "Authorization"


@PROPERTY
@given(key=signing_keys, host=hosts, request=requests, ts=timestamps, frac=fractions)
def test_authorization_equals_sdk_for_our_exact_body(key, host, request, ts, frac):
    """Our body is compact raw UTF-8 (the SDK's is ASCII-escaped): the SDK, made to
    send our bytes, must sign them as we do."""
    body = encode_body(request.params())
    client = _sdk_client(host, key, "ap-guangzhou", "en-US")
    req = _sdk_build(
        client,
        request.name,
        request.params(),
        ts + frac,
        body_encoder=lambda params: encode_body(params).decode("utf-8"),
    )
    assert _body_bytes(req) == body
    assert authorization(key, host, body, ts) == req.header["Authorization"]


@PROPERTY
@given(key=signing_keys, host=hosts, body=st.binary(max_size=2000), ts=timestamps)
def test_authorization_equals_sdk_tc3_signature_for_any_bytes(key, host, body, ts):
    """The SDK's own `_get_tc3_signature` on a hand-made `RequestInternal`, with the
    date taken from the SDK's own scope rule, for bodies that are not even JSON."""
    client = _sdk_client(host, key, None, None)
    req = RequestInternal(
        host,
        "POST",
        "/",
        header={"Content-Type": "application/json", "Host": host, "X-TC-Timestamp": str(ts)},
        data=body,
    )
    with mock.patch.object(sdk_abstract_client, "time", types.SimpleNamespace(time=lambda: ts)):
        probe = RequestInternal(host, "POST", "/")
        client._build_req_inter("StopRecord", {}, probe)
    scope = probe.header["Authorization"].rsplit(", SignedHeaders=", 1)[0]
    sdk_date = scope.removesuffix("/gme/tc3_request")[-len("YYYY-MM-DD") :]
    assert sdk_date == signing.utc_date(ts)
    sdk_sig = client._get_tc3_signature({}, req, sdk_date, "gme", key.secret_key)
    assert authorization(key, host, body, ts).endswith(f", Signature={sdk_sig}")


def test_real_sdk_credential_with_token_and_region():
    key = SigningKey(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "tmp-token-123"
    )
    client = GmeClient(
        Credential(key.secret_id, key.secret_key, key.token),
        "ap-guangzhou",
        ClientProfile(httpProfile=HttpProfile(endpoint="127.0.0.1:8080"), language="en-US"),
    )
    request = StartRecord(1400089356, "房间-1", RecordMode.SINGLE, Subscription(("10001", "10002"), ()))
    req = _sdk_build(client, request.name, request.params(), 1704067199.999)
    headers = signed_headers(
        key,
        action="StartRecord",
        host="127.0.0.1:8080",
        body=_body_bytes(req),
        timestamp=1704067199,
        region="ap-guangzhou",
        language="en-US",
    )
    assert headers["X-TC-Token"] == req.header["X-TC-Token"] == "tmp-token-123"
    assert headers["Authorization"] == req.header["Authorization"]
    assert "/2023-12-31/gme/tc3_request" in headers["Authorization"]


# --- known answers -----------------------------------------------------------------

DOC_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
DOC_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"


def test_known_answer_tencent_cloud_signature_v3_document():
    """The worked example of Tencent Cloud's "Signature v3" page (CVM, 2019-02-25),
    step by step; it uses a charset in Content-Type, which the helpers take."""
    body = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    canonical = signing.canonical_request("cvm.tencentcloudapi.com", body, "application/json; charset=utf-8")
    assert canonical == (
        "POST\n/\n\n"
        "content-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
        "content-type;host\n"
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    to_sign = signing.string_to_sign(1551113065, canonical, "cvm")
    assert to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert signing.signature(DOC_KEY, 1551113065, to_sign, "cvm") == (
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


GME_BODY = encode_body(
    StartRecord(1400089356, "房间-1", RecordMode.BOTH, Subscription(("10001",), ())).params()
)


@pytest.mark.parametrize(
    ("host", "ts", "expected"),
    [
        (
            "gme.tencentcloudapi.com",
            1551113065,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/gme/tc3_request, "
            "SignedHeaders=content-type;host, "
            "Signature=e68b5a5bf09fccf16d6985e1673c3ca649d45c3e1718e4c413bae1be31428a65",
        ),
        # the last second of 2023 and the first of 2024, UTC
        (
            "127.0.0.1:8080",
            1704067199,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-12-31/gme/tc3_request, "
            "SignedHeaders=content-type;host, "
            "Signature=37f1d3c5e109d6e2c95d119e45124a6eaeefebf5e959d7d2e97563fcc36966d9",
        ),
        (
            "127.0.0.1:8080",
            1704067200,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2024-01-01/gme/tc3_request, "
            "SignedHeaders=content-type;host, "
            "Signature=30c9c441555c54777e2b700a3dcfd034a101e421d3a5c7d34460f38823b2e08b",
        ),
    ],
)
def test_known_answer_gme(host, ts, expected):
    key = SigningKey(DOC_ID, DOC_KEY)
    assert GME_BODY == (
        b'{"BizId":1400089356,"RoomId":"\xe6\x88\xbf\xe9\x97\xb4-1","RecordMode":3,'
        b'"SubscribeRecordUserIds":{"SubscribeUserIds":["10001"]}}'
    )
    assert authorization(key, host, GME_BODY, ts) == expected
    # and the SDK agrees on the very same bytes
    req = _sdk_build(
        _sdk_client(host, key, None, None),
        "StartRecord",
        {},
        ts,
        body_encoder=lambda _params: GME_BODY.decode("utf-8"),
    )
    assert req.header["Authorization"] == expected


@pytest.mark.parametrize("day", [0, 1, 10957, 11016, 11017, 18262, 19722, 20089, 24837, LAST_DAY])
def test_utc_date_flips_exactly_at_midnight(day):
    midnight = day * DAY
    expected = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
    assert signing.utc_date(midnight) == expected
    assert signing.utc_date(midnight + DAY - 1) == expected
    if day:
        assert signing.utc_date(midnight - 1) != expected


# --- redact --------------------------------------------------------------------------


def _headers(token: str | None = "temporary-token-xyz") -> dict[str, str]:
    key = SigningKey(DOC_ID, DOC_KEY, token)
    return signed_headers(
        key,
        action="StartRecord",
        host="gme.tencentcloudapi.com",
        body=GME_BODY,
        timestamp=1551113065,
        region="ap-guangzhou",
    )


def test_redact_hides_signature_and_token_keeps_secret_id():
    headers = _headers()
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    safe = redact(headers)
    assert safe["Authorization"] == (
        f"TC3-HMAC-SHA256 Credential={DOC_ID}/2019-02-25/gme/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={REDACTED}"
    )
    assert safe["X-TC-Token"] == REDACTED
    text = repr(safe)
    assert signature not in text
    assert "temporary-token-xyz" not in text
    assert DOC_KEY not in text
    assert DOC_ID in text
    # everything else untouched, the input not modified
    for name in ("Host", "Content-Type", "X-TC-Action", "X-TC-Version", "X-TC-Timestamp", "X-TC-Region"):
        assert safe[name] == headers[name]
    assert headers["X-TC-Token"] == "temporary-token-xyz"
    assert headers["Authorization"].endswith(signature)


def test_redact_without_token_adds_no_token_header():
    safe = redact(_headers(token=None))
    assert "X-TC-Token" not in safe
    assert safe["Authorization"].endswith(f"Signature={REDACTED}")


def test_redact_unparseable_authorization_hidden_whole():
    assert redact({"Authorization": "Bearer abc.def"})["Authorization"] == REDACTED
    assert redact({}) == {}


def test_redact_is_blind_to_header_name_case():
    """HTTP header names are case-insensitive; headers read off the wire (servers
    and HTTP libraries often lower-case the names) must be just as safe to print."""
    headers = _headers()
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    lowered = {name.lower(): value for name, value in headers.items()}
    text = repr(redact(lowered))
    assert signature not in text
    assert "temporary-token-xyz" not in text


@PROPERTY
@given(key=signing_keys, ts=timestamps)
def test_redact_property(key, ts):
    headers = signed_headers(key, action="StopRecord", host="localhost:1", body=b"{}", timestamp=ts)
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    safe = redact(headers)
    assert safe["Authorization"].endswith(f", Signature={REDACTED}")
    assert safe["Authorization"].startswith(f"TC3-HMAC-SHA256 Credential={key.secret_id}/")
    assert signature not in safe["Authorization"]
    if key.token:
        assert safe["X-TC-Token"] == REDACTED
    else:
        assert "X-TC-Token" not in safe


# --- parse_authorization -----------------------------------------------------------

secret_ids = st.one_of(
    st.from_regex(r"AKID[A-Za-z0-9]{32}", fullmatch=True),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/,"), max_size=60),
)


@PROPERTY
@given(secret_id=secret_ids, secret_key=secrets, host=hosts, body=st.binary(max_size=200), ts=timestamps)
def test_parse_authorization_round_trip(secret_id, secret_key, host, body, ts):
    key = SigningKey(secret_id, secret_key)
    header = authorization(key, host, body, ts)
    parsed = parse_authorization(header)
    assert parsed is not None
    assert parsed.secret_id == secret_id
    assert parsed.date == signing.utc_date(ts)
    assert parsed.service == "gme"
    assert parsed.signed_headers == "content-type;host"
    to_sign = signing.string_to_sign(ts, signing.canonical_request(host, body))
    assert parsed.signature == signing.signature(secret_key, ts, to_sign)


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "TC3-HMAC-SHA256",
        "TC3-HMAC-SHA256 ",
        "tc3-hmac-sha256 Credential=a/2024-01-01/gme/tc3_request, SignedHeaders=content-type;host, Signature=ab",
        " TC3-HMAC-SHA256 Credential=a/2024-01-01/gme/tc3_request, SignedHeaders=content-type;host, Signature=ab",
        "HMAC-SHA256 Credential=a/2024-01-01/gme/tc3_request, SignedHeaders=content-type;host, Signature=ab",
        "Bearer abc",
        "TC3-HMAC-SHA256 Credential=a/2024-01-01/gme/tc3_request, SignedHeaders=content-type;host",
        "TC3-HMAC-SHA256 Credential=a/2024-01-01/gme/tc3_request, Signature=ab",
        "TC3-HMAC-SHA256 SignedHeaders=content-type;host, Signature=ab",
        "TC3-HMAC-SHA256 Credential=a/2024-01-01/gme/tc3_request, SignedHeaders=content-type;host, Signature",
        "TC3-HMAC-SHA256 Credential=a/2024-01-01/gme, SignedHeaders=content-type;host, Signature=ab",
        "TC3-HMAC-SHA256 Credential=a/b/2024-01-01/gme/tc3_request, SignedHeaders=content-type;host, Signature=ab",
        "TC3-HMAC-SHA256 Credential=a/2024-01-01/gme/tc4_request, SignedHeaders=content-type;host, Signature=ab",
        "TC3-HMAC-SHA256 Credential=a/2024-01-01/gme/tc3_request SignedHeaders=content-type;host Signature=ab",
        "TC3-HMAC-SHA256 Credential=a/2024-01-01/gme/tc3_request,, SignedHeaders=content-type;host, Signature=ab",
    ],
)
def test_parse_authorization_malformed_is_none(value):
    assert parse_authorization(value) is None


FRAGMENTS = [
    "TC3-HMAC-SHA256",
    " ",
    "Credential",
    "=",
    "/",
    ",",
    ", ",
    "tc3_request",
    "gme",
    "SignedHeaders",
    "Signature",
    "content-type;host",
    "2024-01-01",
    "\n",
    "\x00",
    "é",
]
header_like = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=30).map("".join)


@PROPERTY
@given(value=st.one_of(st.text(), header_like, header_like.map(lambda s: "TC3-HMAC-SHA256 " + s)))
def test_parse_authorization_never_raises(value):
    parsed = parse_authorization(value)
    assert parsed is None or isinstance(parsed, signing.ParsedAuthorization)


# --- SigningKey repr -------------------------------------------------------------------


def test_signing_key_repr_hides_key_and_token():
    key = SigningKey(DOC_ID, DOC_KEY, "temporary-token-xyz")
    for text in (repr(key), str(key), f"{key!r}", f"{key}", repr([key]), repr({"k": key})):
        assert DOC_KEY not in text
        assert "temporary-token-xyz" not in text
        assert DOC_ID in text


@PROPERTY
@given(secret_id=secrets, secret_key=secrets, token=tokens)
def test_signing_key_repr_does_not_depend_on_key_or_token(secret_id, secret_key, token):
    """Whatever the secret and token, the repr is the one of a stand-in secret
    (so nothing of them can show), and a long secret never appears in it."""
    key = SigningKey(secret_id, secret_key, token)
    stand_in = SigningKey(secret_id, "stand-in", "stand-in" if token else token)
    assert repr(key) == repr(stand_in)
    assert str(key) == str(stand_in)
    if len(secret_key) >= 8 and secret_key not in repr(secret_id):
        assert secret_key not in repr(key)
    if token and len(token) >= 8 and token not in repr(secret_id):
        assert token not in repr(key)
