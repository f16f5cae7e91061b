"""The equivalent command lines of a request: the gme-tui one parses back to the same
request, the tccli one names each parameter with the value that was sent."""

from __future__ import annotations

import json
import shlex

import pytest

from gme_tui.answers import gme_tui_line, ok_rows, tccli_line
from gme_tui.api.actions import (
    DescribeRecordInfo,
    DescribeTaskInfo,
    ModifyRecordInfo,
    StartRecord,
    StopRecord,
)
from gme_tui.api.fields import RecordMode, Subscription
from gme_tui.cli.commands import action_for
from gme_tui.cli.parser import build_parser, flags_from
from gme_tui.context import resolve
from gme_tui.settings import Settings

ACTIONS = [
    StartRecord(1400089356, "match 7; rm -rf /", RecordMode.MIXED, Subscription(allow=("10001", "10002"))),
    StartRecord(1400089356, "lobby", RecordMode.BOTH, Subscription(block=("openid-a",))),
    StopRecord(1400089356, 18446744073709551615),
    DescribeTaskInfo(1400089356, "lobby"),
    DescribeRecordInfo(1400089356, 7),
    ModifyRecordInfo(1400089356, 7, RecordMode.SINGLE, Subscription(allow=("10003",))),
]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_the_gme_tui_line_parses_back_to_the_same_request(action, monkeypatch, tmp_path):
    monkeypatch.setenv("GME_TUI_CONFIG", str(tmp_path / "settings.yaml"))
    line = gme_tui_line("gme-tui --endpoint http://127.0.0.1:9", action.name, action.params())
    words = shlex.split(line)
    assert words[0] == "gme-tui"
    args = build_parser().parse_args(words[1:])
    ctx = resolve(flags_from(args), Settings(), {})
    assert ctx.endpoint == "http://127.0.0.1:9"
    assert action_for(args, ctx).params() == action.params()


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.name)
def test_the_tccli_line_names_every_parameter_as_sent(action):
    words = shlex.split(
        tccli_line(action.name, action.params(), endpoint="http://127.0.0.1:9", region="ap-x")
    )
    assert words[:3] == ["tccli", "gme", action.name]
    assert words[words.index("--endpoint") + 1] == "http://127.0.0.1:9"
    assert words[words.index("--region") + 1] == "ap-x"
    for key, value in action.params().items():
        given = words[words.index(f"--{key}") + 1]
        assert (json.loads(given) if isinstance(value, dict) else given) == (
            value if isinstance(value, dict) else str(value)
        )


def test_the_service_s_own_endpoint_is_not_named():
    words = shlex.split(
        tccli_line("DescribeTaskInfo", {"BizId": 1, "RoomId": "r"}, endpoint=None, region=None)
    )
    assert "--endpoint" not in words and "--region" not in words


def test_a_start_says_its_task_room_mode_and_lists():
    action = ACTIONS[0]
    rows = dict(ok_rows(action.name, action.params(), None, task_id=42, room=action.room))
    assert rows == {
        "TaskId": "42",
        "RoomId": "match 7; rm -rf /",
        "RecordMode": "2 (mixed: one file for the room)",
        "Allowlist": "10001, 10002",
    }
