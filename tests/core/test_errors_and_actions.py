"""The error catalogue covers the spec; actions put the right JSON types on the wire."""

from __future__ import annotations

import json

import pytest

from gme_tui.api.actions import (
    ACTIONS,
    DescribeRecordInfo,
    ModifyRecordInfo,
    StartRecord,
    StopRecord,
    encode_body,
)
from gme_tui.api.errors import explain, known_codes
from gme_tui.api.fields import RecordMode, Subscription

# Every code named in shared/spec/gme-recording-api.md.
SPEC_CODES = """
InternalError InvalidParameter InvalidParameterValue.InvalidBizId InvalidParameterValue.InvalidRecordMode
InvalidParameterValue.InvalidRoomId InvalidParameterValue.InvalidSubscribeRecordUserIds
InvalidParameterValue.InvalidSubscribeUserIds InvalidParameterValue.InvalidUNSubscribeUserIds
ResourceInUse.TaskInUse ResourceNotFound.RoomNotFound ResourceNotFound.TaskNotFound UnauthorizedOperation
UnsupportedOperation UnsupportedOperation.ServiceNotOpened InvalidParameterValue.InvalidTaskId
FailedOperation.TaskExist FailedOperation.TaskNotExist ResourceNotFound.BizidIsNotFound
OperationDenied.AccountInArrears LimitExceeded AuthFailure.SignatureFailure AuthFailure.SignatureExpire
AuthFailure.SecretIdNotFound AuthFailure.InvalidSecretId AuthFailure.TokenFailure
AuthFailure.UnauthorizedOperation RequestLimitExceeded InvalidAction MissingParameter UnknownParameter
InvalidParameterValue ResourceUnavailable RequestSizeLimitExceeded UnsupportedProtocol UnsupportedRegion
NoSuchVersion InvalidRequest
""".split()


@pytest.mark.parametrize("code", SPEC_CODES)
def test_every_spec_code_has_a_meaning_and_a_next_step(code):
    entry = explain(code)
    assert entry.known
    assert entry.meaning and entry.next_step
    assert code in known_codes()


def test_task_in_use_tells_the_operator_how_to_go_on():
    entry = explain("ResourceInUse.TaskInUse")
    assert "already recording this room" in entry.meaning
    assert "DescribeTaskInfo" in entry.next_step and "stop" in entry.next_step


def test_an_unknown_code_is_still_shown_as_unknown():
    entry = explain("FailedOperation.SomethingNew")
    assert not entry.known and entry.code == "FailedOperation.SomethingNew"
    assert not explain("Totally.New").known


def test_start_record_wire_types():
    body = json.loads(
        encode_body(
            StartRecord(3400352518, "1987", RecordMode.SINGLE, Subscription(("1145",), ("1987",))).params()
        )
    )
    assert body == {
        "BizId": 3400352518,
        "RoomId": "1987",
        "RecordMode": 1,
        "SubscribeRecordUserIds": {"SubscribeUserIds": ["1145"], "UnSubscribeUserIds": ["1987"]},
    }
    assert type(body["RecordMode"]) is int


@pytest.mark.parametrize("sub", [None, Subscription()])
def test_an_empty_subscription_is_left_out(sub):
    assert "SubscribeRecordUserIds" not in StartRecord(1, "r", RecordMode.MIXED, sub).params()
    assert "SubscribeRecordUserIds" not in ModifyRecordInfo(1, 2, RecordMode.MIXED, sub).params()


def test_an_empty_list_is_left_out():
    params = StartRecord(1, "r", RecordMode.MIXED, Subscription(block=("10001",))).params()
    assert params["SubscribeRecordUserIds"] == {"UnSubscribeUserIds": ["10001"]}


def test_64_bit_task_ids_go_out_as_exact_integers():
    task = 2**64 - 1
    for action in (StopRecord(1, task), DescribeRecordInfo(1, task)):
        assert f'"TaskId":{task}' in encode_body(action.params()).decode()


def test_the_body_is_utf8_not_escaped():
    assert encode_body({"RoomId": "房间"}) == '{"RoomId":"房间"}'.encode()


def test_the_five_actions_are_registered():
    assert set(ACTIONS) == {
        "StartRecord",
        "StopRecord",
        "DescribeTaskInfo",
        "DescribeRecordInfo",
        "ModifyRecordInfo",
    }
    assert [n for n, a in ACTIONS.items() if a.idempotent] == ["DescribeTaskInfo", "DescribeRecordInfo"]
