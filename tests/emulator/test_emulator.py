"""The emulator against the official SDK and raw sockets: no mocks, real loopback.

The official SDK is the referee for the wire format (endpoint with a port,
plain HTTP, content type, error shape); raw httpx and sockets cover what the
SDK never sends (malformed bodies) and what it cannot show (cut answers).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import ManualClock
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.gme.v20180711 import gme_client, models

from gme_tui.api import signing
from gme_tui.api.actions import encode_body
from gme_tui.api.signing import SigningKey, signed_headers
from gme_tui.demo import LISTEN_BACKLOG
from gme_tui.emulator import (
    DEMO_BIZ_ID,
    DEMO_KEY,
    DEMO_SECRET_ID,
    DEMO_SECRET_KEY,
    Emulator,
    parse_spec,
)

BIZ = DEMO_BIZ_ID
KEY = DEMO_KEY
ROOT = Path(__file__).resolve().parents[2]
#: one pooled client for the raw calls: building a client costs more than a call
_HTTP = httpx.Client(trust_env=False, timeout=5)


# --- helpers -----------------------------------------------------------------


@pytest.fixture
def clocked() -> Any:
    clock = ManualClock()
    with Emulator(status_step=1.0, clock=clock) as emu:
        yield emu, clock


def sdk(
    emu: Emulator, secret_id: str = DEMO_SECRET_ID, secret_key: str = DEMO_SECRET_KEY
) -> gme_client.GmeClient:
    http = HttpProfile(endpoint=emu.host_header, protocol="http", reqTimeout=5)
    return gme_client.GmeClient(
        credential.Credential(secret_id, secret_key), "", ClientProfile(httpProfile=http)
    )


def sdk_call(client: gme_client.GmeClient, action: str, params: dict[str, Any]) -> Any:
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return getattr(client, action)(request)


def sdk_error(client: gme_client.GmeClient, action: str, params: dict[str, Any]) -> str:
    with pytest.raises(TencentCloudSDKException) as caught:
        sdk_call(client, action, params)
    return caught.value.get_code()


def post(
    emu: Emulator,
    action: str,
    body: bytes | dict[str, Any],
    *,
    key: SigningKey = KEY,
    timestamp: int | None = None,
    extra: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> httpx.Response:
    """A signed POST / built with the project's signing module; extra/drop bend the headers after signing."""
    raw = body if isinstance(body, bytes) else encode_body(body)
    stamp = int(emu.clock()) if timestamp is None else timestamp
    headers = signed_headers(key, action=action, host=emu.host_header, body=raw, timestamp=stamp)
    headers.update(extra or {})
    for name in drop:
        headers.pop(name)
    return _HTTP.post(emu.url + "/", content=raw, headers=headers)


def call(emu: Emulator, action: str, body: bytes | dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The Response object of a raw call, after checking the envelope every answer must have."""
    response = post(emu, action, body, **kwargs)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    inner = response.json()["Response"]
    assert uuid.UUID(inner["RequestId"]).version == 4
    return inner


def code(inner: dict[str, Any]) -> str | None:
    return inner.get("Error", {}).get("Code")


def start(emu: Emulator, room: str = "room-1", mode: int = 1, **extra: Any) -> int:
    inner = call(emu, "StartRecord", {"BizId": BIZ, "RoomId": room, "RecordMode": mode, **extra})
    assert code(inner) is None, inner
    return inner["TaskId"]


def raw_request(emu: Emulator, action: str, params: dict[str, Any]) -> bytes:
    body = encode_body(params)
    headers = signed_headers(KEY, action=action, host=emu.host_header, body=body, timestamp=int(time.time()))
    lines = ["POST / HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def exchange(emu: Emulator, data: bytes) -> bytes:
    """Send bytes on a fresh socket and read until the server closes it."""
    with socket.create_connection((emu.host, emu.port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# --- the official SDK: the five actions --------------------------------------


def test_sdk_runs_the_whole_task_life(emulator: Emulator) -> None:
    client = sdk(emulator)
    sub = {"SubscribeUserIds": ["20001", "20002"]}
    started = sdk_call(
        client, "StartRecord", {"BizId": BIZ, "RoomId": "r1", "RecordMode": 1, "SubscribeRecordUserIds": sub}
    )
    task_id = started.TaskId
    assert isinstance(task_id, int) and task_id > 2**53

    info = sdk_call(client, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r1"})
    assert info.TaskId == task_id
    assert info.RecordMode == 1
    assert info.SubscribeRecordUserIds.SubscribeUserIds == ["20001", "20002"]

    sdk_call(
        client,
        "ModifyRecordInfo",
        {
            "BizId": BIZ,
            "TaskId": task_id,
            "RecordMode": 3,
            "SubscribeRecordUserIds": {"UnSubscribeUserIds": ["20003"]},
        },
    )
    info = sdk_call(client, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r1"})
    assert info.RecordMode == 3
    assert info.SubscribeRecordUserIds.UnSubscribeUserIds == ["20003"]
    assert info.SubscribeRecordUserIds.SubscribeUserIds is None

    record = sdk_call(client, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": task_id})
    assert record.RoomId == "r1" and record.RecordMode == 3
    assert [r.UserId for r in record.RecordInfo] == ["10001", "10002", "0"]
    assert {r.RecordStatus for r in record.RecordInfo} == {2}

    sdk_call(client, "StopRecord", {"BizId": BIZ, "TaskId": task_id})
    assert (
        sdk_error(client, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r1"})
        == "ResourceNotFound.TaskNotFound"
    )
    record = sdk_call(client, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": task_id})
    assert {r.RecordStatus for r in record.RecordInfo} <= {10, 11, 12, 13, 14}


def test_task_id_is_exact_above_2_53(emulator: Emulator) -> None:
    started = sdk_call(sdk(emulator), "StartRecord", {"BizId": BIZ, "RoomId": "exact", "RecordMode": 2})
    request_body = post(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "exact"}).text
    digits = re.search(r'"TaskId":(\d+)[,}]', request_body)
    assert digits is not None, "TaskId must be a bare JSON integer, not a string or float"
    assert int(digits.group(1)) == started.TaskId > 2**53
    assert [t.task_id for t in emulator.service.tasks()] == [started.TaskId]
    # one off is another task: the emulator itself does not round
    assert (
        code(call(emulator, "StopRecord", {"BizId": BIZ, "TaskId": started.TaskId + 1}))
        == "ResourceNotFound.TaskNotFound"
    )
    assert code(call(emulator, "StopRecord", {"BizId": BIZ, "TaskId": started.TaskId})) is None


def test_second_start_in_a_room_is_task_in_use(emulator: Emulator) -> None:
    client = sdk(emulator)
    params = {"BizId": BIZ, "RoomId": "busy", "RecordMode": 1}
    first = sdk_call(client, "StartRecord", params).TaskId
    assert sdk_error(client, "StartRecord", params) == "ResourceInUse.TaskInUse"
    # another application's room of the same name is another room
    assert sdk_call(client, "StartRecord", {**params, "BizId": BIZ + 1}).TaskId != first
    sdk_call(client, "StopRecord", {"BizId": BIZ, "TaskId": first})
    assert sdk_call(client, "StartRecord", params).TaskId != first


def test_second_stop_is_task_not_found(emulator: Emulator) -> None:
    client = sdk(emulator)
    task_id = sdk_call(client, "StartRecord", {"BizId": BIZ, "RoomId": "r", "RecordMode": 1}).TaskId
    sdk_call(client, "StopRecord", {"BizId": BIZ, "TaskId": task_id})
    assert (
        sdk_error(client, "StopRecord", {"BizId": BIZ, "TaskId": task_id}) == "ResourceNotFound.TaskNotFound"
    )


def test_tasks_belong_to_their_biz_id(emulator: Emulator) -> None:
    task_id = start(emulator, "r")
    other = BIZ + 7
    for action, params in [
        ("StopRecord", {"TaskId": task_id}),
        ("DescribeRecordInfo", {"TaskId": task_id}),
        ("ModifyRecordInfo", {"TaskId": task_id, "RecordMode": 2}),
        ("DescribeTaskInfo", {"RoomId": "r"}),
    ]:
        assert code(call(emulator, action, {"BizId": other, **params})) == "ResourceNotFound.TaskNotFound"
    assert call(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r"})["TaskId"] == task_id


def test_modify_needs_a_running_task(emulator: Emulator) -> None:
    client = sdk(emulator)
    task_id = sdk_call(client, "StartRecord", {"BizId": BIZ, "RoomId": "m", "RecordMode": 1}).TaskId
    sdk_call(client, "ModifyRecordInfo", {"BizId": BIZ, "TaskId": task_id, "RecordMode": 2})
    info = sdk_call(client, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "m"})
    assert info.RecordMode == 2 and info.SubscribeRecordUserIds is None
    sdk_call(client, "StopRecord", {"BizId": BIZ, "TaskId": task_id})
    assert (
        sdk_error(client, "ModifyRecordInfo", {"BizId": BIZ, "TaskId": task_id, "RecordMode": 1})
        == "ResourceNotFound.TaskNotFound"
    )
    assert (
        sdk_error(client, "ModifyRecordInfo", {"BizId": BIZ, "TaskId": 12345, "RecordMode": 1})
        == "ResourceNotFound.TaskNotFound"
    )
    assert (
        sdk_error(client, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": 12345})
        == "ResourceNotFound.TaskNotFound"
    )


def test_modify_without_lists_means_all_users(emulator: Emulator) -> None:
    task_id = start(emulator, "all", 1, SubscribeRecordUserIds={"SubscribeUserIds": ["30001"]})
    records = call(emulator, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": task_id})["RecordInfo"]
    assert [r["UserId"] for r in records] == ["30001"]
    assert (
        code(call(emulator, "ModifyRecordInfo", {"BizId": BIZ, "TaskId": task_id, "RecordMode": 1})) is None
    )
    records = call(emulator, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": task_id})["RecordInfo"]
    assert [r["UserId"] for r in records] == ["10001", "10002"]
    assert (
        call(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "all"})["SubscribeRecordUserIds"] is None
    )


@pytest.mark.parametrize(
    ("mode", "sub", "users"),
    [
        (1, None, ["10001", "10002"]),
        (1, {"UnSubscribeUserIds": ["10001"]}, ["10002"]),
        (1, {"SubscribeUserIds": ["20001", "20002"]}, ["20001", "20002"]),
        (1, {"SubscribeUserIds": ["20001", "20002"], "UnSubscribeUserIds": ["20002"]}, ["20001"]),
        (2, {"SubscribeUserIds": ["20001"]}, ["0"]),
        (3, {"SubscribeUserIds": ["20001"]}, ["20001", "0"]),
    ],
)
def test_record_info_entries_follow_mode_and_lists(
    emulator: Emulator, mode: int, sub: Any, users: list[str]
) -> None:
    before = int(time.time())
    extra = {"SubscribeRecordUserIds": sub} if sub else {}
    task_id = start(emulator, "modes", mode, **extra)
    inner = call(emulator, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": task_id})
    assert inner["RoomId"] == "modes" and inner["RecordMode"] == mode
    assert [r["UserId"] for r in inner["RecordInfo"]] == users
    for record in inner["RecordInfo"]:
        assert before <= record["RecordBeginTime"] <= time.time()
        assert record["RecordStatus"] == 2
        assert record["FileName"].endswith(".mp3")
    assert len({r["FileName"] for r in inner["RecordInfo"]}) == len(users)


def test_record_status_steps_after_stop(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, clock = clocked
    client = sdk(emu)
    task_id = sdk_call(client, "StartRecord", {"BizId": BIZ, "RoomId": "s", "RecordMode": 2}).TaskId

    def status() -> int:
        records = sdk_call(client, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": task_id}).RecordInfo
        assert len(records) == 1
        return records[0].RecordStatus

    assert status() == 2
    clock.advance(30)
    assert status() == 2, "a running task stays at 2 however long it runs"
    sdk_call(client, "StopRecord", {"BizId": BIZ, "TaskId": task_id})
    seen = [status()]
    for _ in range(6):
        clock.advance(0.5)
        seen.append(status())
    assert seen == [10, 10, 11, 11, 12, 12, 13]
    clock.advance(1.0)
    assert status() == 14
    clock.advance(200)  # still inside the 300 s signature window of the SDK's real timestamps
    assert status() == 14


def test_record_status_reaches_done_in_real_time(emulator: Emulator) -> None:
    """On the real clock (0.2 s a step) the statuses climb to 14; exact stepping is
    test_record_status_steps_after_stop's, on a manual clock."""
    task_id = start(emulator, "rt", 2)
    stopping = time.monotonic()
    assert code(call(emulator, "StopRecord", {"BizId": BIZ, "TaskId": task_id})) is None
    seen: list[int] = []
    first_after = 0.0
    deadline = time.monotonic() + 10  # done is 0.8 s after the stop
    while time.monotonic() < deadline and (not seen or seen[-1] != 14):
        seen.append(
            call(emulator, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": task_id})["RecordInfo"][0][
                "RecordStatus"
            ]
        )
        first_after = first_after or time.monotonic() - stopping
        time.sleep(0.05)
    assert 10 <= seen[0] <= 14
    # at most first_after had passed since the stop: under four steps, it cannot be done yet
    assert seen[0] < 14 or first_after >= 4 * 0.2, (seen, first_after)
    assert seen == sorted(seen) and seen[-1] == 14


def test_one_start_wins_a_race_for_a_room(emulator: Emulator) -> None:
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def go() -> None:
        inner = call(emulator, "StartRecord", {"BizId": BIZ, "RoomId": "race", "RecordMode": 1})
        with lock:
            results.append(inner)

    threads = [threading.Thread(target=go) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code(r) or "ok" for r in results) == ["ResourceInUse.TaskInUse"] * 9 + ["ok"]
    assert len(emulator.service.tasks()) == 1


# --- signature -----------------------------------------------------------------


def test_wrong_key_is_signature_failure(emulator: Emulator) -> None:
    client = sdk(emulator, secret_key="demo-only-but-wrong-key")
    assert (
        sdk_error(client, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r"}) == "AuthFailure.SignatureFailure"
    )


def test_unknown_secret_id_is_secret_id_not_found(emulator: Emulator) -> None:
    client = sdk(emulator, secret_id="AKIDnobody000000000000000000000000000")
    assert (
        sdk_error(client, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r"}) == "AuthFailure.SecretIdNotFound"
    )


@pytest.mark.parametrize(
    ("skew", "expected"),
    [
        (400, "AuthFailure.SignatureExpire"),
        (-400, "AuthFailure.SignatureExpire"),
        (200, "ResourceNotFound.TaskNotFound"),
    ],
)
def test_skewed_clock_is_signature_expire(skew: int, expected: str) -> None:
    with Emulator(clock=lambda: time.time() + skew) as emu:
        assert sdk_error(sdk(emu), "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r"}) == expected


def test_signature_window_is_300_seconds(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, clock = clocked
    now = int(clock())
    params = {"BizId": BIZ, "RoomId": "w"}
    assert code(call(emu, "DescribeTaskInfo", params, timestamp=now - 300)) == "ResourceNotFound.TaskNotFound"
    assert code(call(emu, "DescribeTaskInfo", params, timestamp=now + 300)) == "ResourceNotFound.TaskNotFound"
    assert code(call(emu, "DescribeTaskInfo", params, timestamp=now - 301)) == "AuthFailure.SignatureExpire"
    assert code(call(emu, "DescribeTaskInfo", params, timestamp=now + 301)) == "AuthFailure.SignatureExpire"


def test_unknown_secret_id_is_checked_before_the_clock(emulator: Emulator) -> None:
    stranger = SigningKey("AKIDnobody000000000000000000000000000", DEMO_SECRET_KEY)
    inner = call(
        emulator,
        "DescribeTaskInfo",
        {"BizId": BIZ, "RoomId": "r"},
        key=stranger,
        timestamp=int(time.time()) - 3600,
    )
    assert code(inner) == "AuthFailure.SecretIdNotFound"


def _bend_authorization(emu: Emulator, old: str, new: str) -> dict[str, Any]:
    body = encode_body({"BizId": BIZ, "RoomId": "r"})
    stamp = int(time.time())
    auth = signing.authorization(KEY, emu.host_header, body, stamp)
    assert old in auth
    return call(emu, "DescribeTaskInfo", body, extra={"Authorization": auth.replace(old, new)})


def test_wrong_service_or_date_in_credential_is_signature_failure(emulator: Emulator) -> None:
    assert code(_bend_authorization(emulator, "/gme/", "/cvm/")) == "AuthFailure.SignatureFailure"
    today = signing.utc_date(int(time.time()))
    assert code(_bend_authorization(emulator, today, "2001-01-01")) == "AuthFailure.SignatureFailure"
    assert code(_bend_authorization(emulator, "content-type;host", "host")) == "AuthFailure.SignatureFailure"
    assert code(_bend_authorization(emulator, "/gme/", "/gme/")) == "ResourceNotFound.TaskNotFound"


@pytest.mark.parametrize(
    ("extra", "drop", "expected"),
    [
        ({}, ("Authorization",), "MissingParameter"),
        ({"Authorization": "Bearer something"}, (), "AuthFailure.SignatureFailure"),
        ({"Authorization": "TC3-HMAC-SHA256 Credential=x"}, (), "AuthFailure.SignatureFailure"),
        ({"X-TC-Action": "DeleteEverything"}, (), "InvalidAction"),
        ({}, ("X-TC-Action",), "MissingParameter"),
        ({"X-TC-Version": "2019-01-01"}, (), "NoSuchVersion"),
        ({}, ("X-TC-Timestamp",), "MissingParameter"),
        ({"X-TC-Timestamp": "soon"}, (), "InvalidParameter"),
        ({"Content-Type": "application/json; charset=utf-8"}, (), "AuthFailure.SignatureFailure"),
        ({"X-TC-Region": "ap-guangzhou", "X-TC-Language": "en-US"}, (), "ResourceNotFound.TaskNotFound"),
    ],
)
def test_header_checks(
    emulator: Emulator, extra: dict[str, str], drop: tuple[str, ...], expected: str
) -> None:
    inner = call(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r"}, extra=extra, drop=drop)
    assert code(inner) == expected


def test_signature_covers_body_and_host_as_received(emulator: Emulator) -> None:
    signed = encode_body({"BizId": BIZ, "RoomId": "aaaa"})
    sent = encode_body({"BizId": BIZ, "RoomId": "bbbb"})
    headers = signed_headers(
        KEY, action="DescribeTaskInfo", host=emulator.host_header, body=signed, timestamp=int(time.time())
    )
    with httpx.Client(trust_env=False, timeout=5) as client:
        tampered = client.post(emulator.url, content=sent, headers=headers).json()["Response"]
        assert code(tampered) == "AuthFailure.SignatureFailure"
        portless = signed_headers(
            KEY, action="DescribeTaskInfo", host=emulator.host, body=sent, timestamp=int(time.time())
        )
        portless["Host"] = emulator.host_header
        assert (
            code(client.post(emulator.url, content=sent, headers=portless).json()["Response"])
            == "AuthFailure.SignatureFailure"
        )


def test_signature_uses_the_content_type_as_received(emulator: Emulator) -> None:
    body = encode_body({"BizId": BIZ, "RoomId": "ct"})
    stamp = int(time.time())
    content_type = "application/json; charset=utf-8"
    canonical = signing.canonical_request(emulator.host_header, body, content_type)
    sig = signing.signature(DEMO_SECRET_KEY, stamp, signing.string_to_sign(stamp, canonical))
    auth = (
        f"TC3-HMAC-SHA256 Credential={DEMO_SECRET_ID}/{signing.utc_date(stamp)}/gme/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={sig}"
    )
    inner = call(
        emulator,
        "DescribeTaskInfo",
        body,
        extra={"Content-Type": content_type, "Authorization": auth},
        timestamp=stamp,
    )
    assert code(inner) == "ResourceNotFound.TaskNotFound"


# --- parameters ------------------------------------------------------------------

START = {"BizId": BIZ, "RoomId": "p", "RecordMode": 1}


def _without(params: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != name}


def _sub(value: Any) -> dict[str, Any]:
    return {**START, "SubscribeRecordUserIds": value}


BAD_PARAMS = [
    ("StartRecord", _without(START, "BizId"), "MissingParameter"),
    ("StartRecord", _without(START, "RoomId"), "MissingParameter"),
    ("StartRecord", _without(START, "RecordMode"), "MissingParameter"),
    ("StartRecord", {**START, "Foo": 1}, "UnknownParameter"),
    ("StartRecord", {**START, "TaskId": 1}, "UnknownParameter"),
    *[
        ("StartRecord", {**START, "BizId": v}, "InvalidParameterValue.InvalidBizId")
        for v in ("1400089356", True, 0, -1, 2**64, 1400089356.0, None, [BIZ])
    ],
    *[
        ("StartRecord", {**START, "RoomId": v}, "InvalidParameterValue.InvalidRoomId")
        for v in ("", "x" * 128, 1987, None, ["r"])
    ],
    *[
        ("StartRecord", {**START, "RecordMode": v}, "InvalidParameterValue.InvalidRecordMode")
        for v in (0, 4, -1, "1", True, 1.0, None)
    ],
    *[
        ("StartRecord", _sub(v), "InvalidParameterValue.InvalidSubscribeRecordUserIds")
        for v in (
            [],
            "1145",
            1145,
            {"SubscribeUserIds": "1145"},
            {"SubscribeUserIds": [1.5]},
            {"UnSubscribeUserIds": [True]},
            {"SubscribeUserIds": [None]},
            {"SubscribeUserIds": [["1"]]},
            {"UnSubscribeUserIds": {"a": 1}},
        )
    ],
    ("StartRecord", _sub({"Other": []}), "UnknownParameter"),
    (
        "StartRecord",
        _sub({"SubscribeUserIds": [str(20000 + i) for i in range(21)]}),
        "InvalidParameterValue.InvalidSubscribeUserIds",
    ),
    (
        "StartRecord",
        _sub({"UnSubscribeUserIds": list(range(20001, 20022))}),
        "InvalidParameterValue.InvalidUNSubscribeUserIds",
    ),
    *[
        ("StopRecord", {"BizId": BIZ, "TaskId": v}, "InvalidParameterValue.InvalidTaskId")
        for v in ("446192236330927912", 0, -5, 2**64, True, 1.5, None)
    ],
    ("StopRecord", {"BizId": BIZ}, "MissingParameter"),
    ("StopRecord", {"BizId": "x", "TaskId": 1}, "InvalidParameterValue.InvalidBizId"),
    ("DescribeRecordInfo", {"BizId": BIZ, "TaskId": "1"}, "InvalidParameterValue.InvalidTaskId"),
    ("DescribeTaskInfo", {"BizId": BIZ, "RoomId": "y" * 128}, "InvalidParameterValue.InvalidRoomId"),
    ("DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r", "RecordMode": 1}, "UnknownParameter"),
    ("ModifyRecordInfo", {"BizId": BIZ, "TaskId": 1}, "MissingParameter"),
    (
        "ModifyRecordInfo",
        {"BizId": BIZ, "TaskId": 1, "RecordMode": 9},
        "InvalidParameterValue.InvalidRecordMode",
    ),
    (
        "ModifyRecordInfo",
        {"BizId": BIZ, "TaskId": 1, "RecordMode": 1, "SubscribeRecordUserIds": []},
        "InvalidParameterValue.InvalidSubscribeRecordUserIds",
    ),
    ("StartRecord", b"[]", "InvalidParameter"),
    ("StartRecord", b"not json", "InvalidParameter"),
    ("StartRecord", b'{"BizId": NaN, "RoomId": "p", "RecordMode": 1}', "InvalidParameter"),
    ("StartRecord", b"", "MissingParameter"),
]


@pytest.mark.parametrize(("action", "params", "expected"), BAD_PARAMS)
def test_bad_parameters(emulator: Emulator, action: str, params: Any, expected: str) -> None:
    assert code(call(emulator, action, params)) == expected
    assert emulator.service.tasks() == [], "a refused call must not create a task"


def test_the_service_rules_are_looser_than_the_console(emulator: Emulator) -> None:
    odd_ids = ["abc", "5", "0", "user@example", *[str(30000 + i) for i in range(16)]]
    task_id = start(emulator, "é" * 127, 1, SubscribeRecordUserIds={"SubscribeUserIds": odd_ids})
    records = call(emulator, "DescribeRecordInfo", {"BizId": BIZ, "TaskId": task_id})["RecordInfo"]
    assert [r["UserId"] for r in records] == odd_ids
    assert start(emulator, "r", 1) > 0
    for biz in (1, 2**64 - 1):
        inner = call(emulator, "StartRecord", {"BizId": biz, "RoomId": "edge", "RecordMode": 2})
        assert code(inner) is None


def test_the_seed_example_body_is_accepted(emulator: Emulator) -> None:
    seed = (
        b'{\n    "RecordMode": 1,\n    "SubscribeRecordUserIds": {\n        "SubscribeUserIds": [\n'
        b'            1145\n        ],\n        "UnSubscribeUserIds": [\n            1987\n        ]\n'
        b'    },\n    "RoomId": "1987",\n    "BizId": 3400352518\n}'
    )
    inner = call(emulator, "StartRecord", seed)
    assert code(inner) is None and inner["TaskId"] > 2**53
    described = call(emulator, "DescribeTaskInfo", {"BizId": 3400352518, "RoomId": "1987"})
    assert described["SubscribeRecordUserIds"] == {
        "SubscribeUserIds": ["1145"],
        "UnSubscribeUserIds": ["1987"],
    }


# --- rate limit ------------------------------------------------------------------


def test_more_than_20_starts_in_a_second_is_request_limit_exceeded(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    emu, clock = clocked

    def start_code(room: str) -> str | None:
        return code(call(emu, "StartRecord", {"BizId": BIZ, "RoomId": room, "RecordMode": 1}))

    assert [start_code(f"a{i}") for i in range(20)] == [None] * 20
    assert start_code("a20") == "RequestLimitExceeded"
    clock.advance(0.5)
    assert start_code("a21") == "RequestLimitExceeded"
    # other actions are not limited
    assert code(call(emu, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "a0"})) is None
    clock.advance(0.5)
    # the first 20 left the window; the rejected ones never entered it
    assert [start_code(f"b{i}") for i in range(20)] == [None] * 20
    assert start_code("b20") == "RequestLimitExceeded"
    assert len(emu.service.tasks()) == 40


def test_a_burst_of_connections_is_held_by_the_listen_backlog_and_limited() -> None:
    """30 StartRecord on 30 new connections at the same moment: all are held, exactly 20 admitted.

    The 30 connect while the emulator listens but does not serve yet, so each one
    completes only if the listen queue has room for it; a small backlog (the
    socketserver default of 5) drops the rest's SYNs and their connect times out.
    A dropped SYN would in real use stall a client a second in TCP retransmission,
    spreading the burst and hiding the limit. The clock is the test's, so the
    burst falls in one second however slow the machine, and the split is exact.
    """
    assert LISTEN_BACKLOG >= 30
    emu = Emulator(status_step=1.0, clock=ManualClock()).reserve()
    socks: list[socket.socket] = []
    try:
        for index in range(30):  # nobody accepts yet: the listen queue holds them all, or connect times out
            sock = socket.create_connection((emu.host, emu.port), timeout=5)
            socks.append(sock)
            sock.sendall(
                raw_request(emu, "StartRecord", {"BizId": BIZ, "RoomId": f"burst-{index}", "RecordMode": 2})
            )
            sock.shutdown(socket.SHUT_WR)  # one request: the server closes after answering it
        emu.start()
        codes = []
        for sock in socks:
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 "), head
            codes.append(code(json.loads(body)["Response"]))
    finally:
        for sock in socks:
            sock.close()
        emu.stop()
    assert codes.count(None) == 20 and codes.count("RequestLimitExceeded") == 10
    assert len(emu.service.tasks()) == 20


# --- the wire --------------------------------------------------------------------


def test_every_answer_is_200_application_json_with_a_request_id(emulator: Emulator) -> None:
    for action, params in [("StartRecord", START), ("StartRecord", START), ("Nope", {})]:
        response = post(emulator, action, params)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        inner = response.json()["Response"]
        assert uuid.UUID(inner["RequestId"]).version == 4
    assert code(inner) == "InvalidAction"


def test_keep_alive_serves_two_calls_on_one_connection(emulator: Emulator) -> None:
    import http.client

    conn = http.client.HTTPConnection(emulator.host, emulator.port, timeout=5)
    try:
        sockets = []
        for _ in range(2):
            body = encode_body({"BizId": BIZ, "RoomId": "k"})
            headers = signed_headers(
                KEY,
                action="DescribeTaskInfo",
                host=emulator.host_header,
                body=body,
                timestamp=int(time.time()),
            )
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            assert json.loads(response.read())["Response"]["Error"]["Code"] == "ResourceNotFound.TaskNotFound"
            sockets.append(conn.sock)
        assert sockets[0] is not None and sockets[0] is sockets[1]
    finally:
        conn.close()


def test_requests_are_recorded_for_inspection(emulator: Emulator) -> None:
    sdk_call(sdk(emulator), "StartRecord", {"BizId": BIZ, "RoomId": "seen", "RecordMode": 2})
    action, params, headers = emulator.requests[-1]
    assert action == "StartRecord"
    assert params == {"BizId": BIZ, "RoomId": "seen", "RecordMode": 2}
    assert headers["Host"] == emulator.host_header
    assert headers["Authorization"].startswith(f"TC3-HMAC-SHA256 Credential={DEMO_SECRET_ID}/")
    assert len(emulator.requests) == 1


def test_context_manager_stops_the_server() -> None:
    with Emulator() as emu:
        assert httpx.get(emu.url + "/_emulator/health", timeout=5).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(emu.url + "/_emulator/health", timeout=1)


# --- faults ----------------------------------------------------------------------


def _room_has_task(emu: Emulator, room: str) -> bool:
    return code(call(emu, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": room})) is None


def test_http502_is_html_and_the_action_is_not_applied(emulator: Emulator) -> None:
    emulator.faults.set("http502", count=1)
    response = post(emulator, "StartRecord", {**START, "RoomId": "f502"})
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert "502 Bad Gateway" in response.text and response.text.lstrip().startswith("<html>")
    assert not _room_has_task(emulator, "f502")
    assert code(call(emulator, "StartRecord", {**START, "RoomId": "f502"})) is None, "count=1 is used up"


def test_http502_through_the_sdk_is_a_server_network_error(emulator: Emulator) -> None:
    emulator.faults.set("http502", count=1)
    assert sdk_error(sdk(emulator), "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "r"}) == "ServerNetworkError"


def test_nonjson_is_200_json_typed_garbage_and_not_applied(emulator: Emulator) -> None:
    emulator.faults.set("nonjson", count=1)
    response = post(emulator, "StartRecord", {**START, "RoomId": "fnj"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(response.content)
    assert not _room_has_task(emulator, "fnj")


def test_truncated_is_half_a_body_and_applied(emulator: Emulator) -> None:
    emulator.faults.set("truncated", count=1)
    reply = exchange(emulator, raw_request(emulator, "StartRecord", {**START, "RoomId": "ftr"}))
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    assert len(body) == length // 2 and len(body) < length
    assert body.startswith(b'{"Response":{')
    assert _room_has_task(emulator, "ftr")
    with pytest.raises(httpx.HTTPError):  # what a client sees
        emulator.faults.set("truncated", count=1)
        post(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "ftr"})


def test_drop_answers_nothing_and_the_action_is_applied(emulator: Emulator) -> None:
    emulator.faults.set("drop", count=1)
    reply = exchange(emulator, raw_request(emulator, "StartRecord", {**START, "RoomId": "fdrop"}))
    assert reply == b""
    assert _room_has_task(emulator, "fdrop"), "the outcome was unknown, but the task exists"
    emulator.faults.set("drop", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        post(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "fdrop"})


def test_delay_waits_then_answers(emulator: Emulator) -> None:
    emulator.faults.set("delay", seconds=0.3, count=1)
    began = time.monotonic()
    assert code(call(emulator, "StartRecord", {**START, "RoomId": "fdelay"})) is None
    assert time.monotonic() - began >= 0.3
    assert emulator.faults.snapshot() == [], "count=1 is used up: the next call is not delayed"
    assert _room_has_task(emulator, "fdelay")


def test_a_fault_can_target_one_action(emulator: Emulator) -> None:
    emulator.faults.set("http502", count=1, action="StartRecord")
    assert post(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "t"}).status_code == 200
    assert post(emulator, "StartRecord", {**START, "RoomId": "t"}).status_code == 502
    assert post(emulator, "StartRecord", {**START, "RoomId": "t"}).status_code == 200


def test_fault_counts_and_clear(emulator: Emulator) -> None:
    emulator.faults.set("nonjson", count=2)
    assert [
        post(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "c"}).text.startswith("<")
        for _ in range(3)
    ] == [True, True, False]
    emulator.faults.set("http502")
    assert [
        post(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "c"}).status_code for _ in range(3)
    ] == [502, 502, 502]
    assert httpx.get(emulator.url + "/_emulator/health", timeout=5).status_code == 200, (
        "control is never faulted"
    )
    emulator.faults.clear()
    assert post(emulator, "DescribeTaskInfo", {"BizId": BIZ, "RoomId": "c"}).status_code == 200


def test_fault_control_endpoint(emulator: Emulator) -> None:
    with httpx.Client(base_url=emulator.url, trust_env=False, timeout=5) as control:
        assert control.get("/_emulator/health").json() == {"ok": True}
        answer = control.post("/_emulator/faults", json={"kind": "http502", "count": None})
        assert answer.status_code == 200
        assert answer.json()["faults"] == [{"kind": "http502", "count": None, "seconds": 0.0, "action": None}]
        assert post(emulator, "StartRecord", START).status_code == 502
        assert post(emulator, "StartRecord", START).status_code == 502
        assert control.delete("/_emulator/faults").status_code == 200
        assert control.get("/_emulator/faults").json() == {"faults": []}
        assert post(emulator, "StartRecord", START).status_code == 200

        answer = control.post(
            "/_emulator/faults", json={"kind": "delay", "seconds": 0.2, "count": 1, "action": "StopRecord"}
        )
        assert answer.status_code == 200 and emulator.faults.snapshot()[0]["action"] == "StopRecord"
        for bad in (
            {"kind": "explode"},
            {"kind": "delay", "seconds": -1},
            {"kind": "drop", "count": 0},
            {"kind": "drop", "colour": "red"},
            ["drop"],
        ):
            refused = control.post("/_emulator/faults", json=bad)
            assert refused.status_code == 400 and refused.json()["error"]
        assert len(emulator.faults.snapshot()) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("delay=2", {"kind": "delay", "count": None, "seconds": 2.0, "action": None}),
        ("delay", {"kind": "delay", "count": None, "seconds": 1.0, "action": None}),
        ("http502:1", {"kind": "http502", "count": 1, "seconds": 0.0, "action": None}),
        ("drop:3@StartRecord", {"kind": "drop", "count": 3, "seconds": 0.0, "action": "StartRecord"}),
        ("delay=0.5:2@StopRecord", {"kind": "delay", "count": 2, "seconds": 0.5, "action": "StopRecord"}),
    ],
)
def test_parse_fault_spec(text: str, expected: dict[str, Any]) -> None:
    assert parse_spec(text).as_json() == expected


@pytest.mark.parametrize("text", ["boom", "http502:x", "delay=soon", "drop:0", ""])
def test_parse_fault_spec_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_spec(text)


# --- command line ----------------------------------------------------------------


def test_run_forever_serves_until_sigterm() -> None:
    code_text = (
        "import sys; from gme_tui.emulator import run_forever; "
        "sys.exit(run_forever('127.0.0.1', 0, faults=['http502:1']))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code_text], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        match = re.fullmatch(r"GME emulator listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        url = match.group(1)
        assert httpx.get(url + "/_emulator/health", timeout=5).status_code == 200
        fake = Emulator(port=int(match.group(2)))  # not started: only to build signed requests for that port
        assert post(fake, "StartRecord", START).status_code == 502
        assert code(call(fake, "StartRecord", START)) is None
        proc.terminate()
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_reserved_port_holds_a_request_until_the_emulator_serves():
    """`--demo` takes the port before the console's first frame and serves after it."""
    emulator = Emulator().reserve()
    answers: list[httpx.Response] = []
    try:
        url = emulator.url
        asker = threading.Thread(
            target=lambda: answers.append(httpx.get(f"{url}/_emulator/health", timeout=10))
        )
        asker.start()
        time.sleep(0.3)
        assert answers == []  # queued, not refused
        emulator.start()
        asker.join(timeout=10)
        assert [a.json() for a in answers] == [{"ok": True}]
    finally:
        emulator.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_emulator/health", timeout=2)


def test_a_reserved_emulator_that_never_served_frees_its_port():
    emulator = Emulator().reserve()
    port = emulator.port
    emulator.stop()
    with socket.create_server(("127.0.0.1", port)):  # free again
        pass


def test_an_emulator_on_all_ipv6_addresses_also_answers_ipv4_where_the_system_allows_it():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        with open("/proc/sys/net/ipv6/bindv6only") as flag:
            dual_stack = flag.read().strip() == "0"
    except OSError:
        dual_stack = False
    try:
        emulator = Emulator(host="::").start()
    except OSError as error:
        pytest.skip(f"cannot bind [::] here: {error}")
    try:
        assert httpx.get(f"http://[::1]:{emulator.port}/_emulator/health", timeout=5).json() == {"ok": True}
        if dual_stack:  # as http.server does on such a system
            assert httpx.get(f"http://127.0.0.1:{emulator.port}/_emulator/health", timeout=5).json() == {
                "ok": True
            }
    finally:
        emulator.stop()
