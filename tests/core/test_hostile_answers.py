"""Answers no GME service gives, through the real client: each a bad answer naming what is
wrong, never a crash, a hang, a success that reads wrong, or memory without bound.

The shapes go through `parse_response` (the sans-I/O core both drivers share); what
depends on the bytes on the wire (compression, size) goes over loopback to a
hostile server, through both drivers; memory is measured in a process of its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import pytest
from hostile_answers import answer, gzip_bomb, record_answer, task_answer
from hostile_server import HostileServer, http_answer
from hypothesis import given, settings
from hypothesis import strategies as st
from test_client import KEY
from test_client import driver as driver  # the fixture (an explicit re-export: its name is a parameter)

from gme_tui.api.actions import (
    ACTIONS,
    DescribeRecordInfo,
    DescribeTaskInfo,
    RecordInfo,
    ResponseShapeError,
    StartRecord,
)
from gme_tui.api.client import MAX_ANSWER, RateLimiter, parse_response
from gme_tui.api.errors import BadAnswerError
from gme_tui.api.fields import RecordMode
from gme_tui.calls import CUT_NOTE, KEPT_ANSWER, kept, was_cut

BIZ = 1400089356
START = StartRecord(BIZ, "r", RecordMode.MIXED)
TASK = DescribeTaskInfo(BIZ, "r")
RECORD = DescribeRecordInfo(BIZ, 5)


# --- wrong shapes: a bad answer that names the field and the rule -------------------

WRONG_SHAPES = {
    "allowlist-a-string": (
        TASK,
        task_answer(SubscribeRecordUserIds={"SubscribeUserIds": "10001"}),
        "SubscribeRecordUserIds.SubscribeUserIds is text '10001', not a list of user IDs",
    ),
    "blocklist-of-objects": (
        TASK,
        task_answer(SubscribeRecordUserIds={"UnSubscribeUserIds": [{"id": 1}]}),
        "an entry of SubscribeRecordUserIds.UnSubscribeUserIds is an object, not a user ID",
    ),
    "subscription-a-list": (
        TASK,
        task_answer(SubscribeRecordUserIds=["10001"]),
        "SubscribeRecordUserIds is a list",
    ),
    "mode-a-float": (TASK, task_answer(RecordMode=2.0), "RecordMode is 2.0, not 1, 2 or 3"),
    "mode-7": (TASK, task_answer(RecordMode=7), "RecordMode is 7, not 1, 2 or 3"),
    "mode-a-bool": (TASK, task_answer(RecordMode=True), "RecordMode is a boolean (true)"),
    "mode-text": (RECORD, answer(RecordMode="2"), "RecordMode is text '2'"),
    "task-0": (START, answer(TaskId=0), "TaskId is 0, not an exact integer from 1 to 2**64-1"),
    "task-negative": (START, answer(TaskId=-5), "TaskId is -5, not an exact integer"),
    "task-a-bool": (START, answer(TaskId=True), "TaskId is a boolean (true)"),
    "task-over-64-bits": (TASK, task_answer(TaskId=2**64), f"TaskId is {2**64}, not an exact integer"),
    "task-a-float": (START, answer(TaskId=5.0), "TaskId is 5.0, not an exact integer"),
    "task-text": (START, answer(TaskId="446192236330927912"), "TaskId is text '446192236330927912'"),
    "task-missing": (TASK, answer(RecordMode=2), "TaskId is missing"),
    "records-an-object": (RECORD, answer(RecordInfo={"UserId": "0"}), "RecordInfo is an object, not a list"),
    "file-name-an-object": (
        RECORD,
        record_answer(FileName={"a": 1}),
        "RecordInfo.FileName is an object, not text",
    ),
    "user-a-bool": (RECORD, record_answer(UserId=False), "RecordInfo.UserId is a boolean (false)"),
    "room-a-number": (RECORD, answer(RoomId=5, RecordInfo=[]), "RoomId is 5, not text"),
    "began-a-float": (RECORD, record_answer(RecordBeginTime=1.5e9), "RecordBeginTime is 1500000000.0"),
    "began-text": (RECORD, record_answer(RecordBeginTime="today"), "RecordBeginTime is text 'today'"),
    "began-past-64-bits": (
        RECORD,
        record_answer(RecordBeginTime=2**64),
        "not a 64-bit integer of unix seconds",
    ),
    "status-a-bool": (RECORD, record_answer(RecordStatus=True), "RecordStatus is a boolean"),
    "lone-surrogate": (START, b'{"Response": {"RequestId": "\\ud800", "TaskId": 5}}', "not valid Unicode"),
    "message-an-object": (
        START,
        b'{"Response": {"RequestId": "r", "Error": {"Code": "InternalError", "Message": {"x": 1}}}}',
        "malformed Error object",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_SHAPES))
def test_a_wrong_shape_is_a_bad_answer_naming_the_field(case):
    action, body, words = WRONG_SHAPES[case]
    with pytest.raises(BadAnswerError) as caught:
        parse_response(action, 200, body)
    assert words in str(caught.value)


def test_a_long_wrong_value_is_named_short():
    with pytest.raises(BadAnswerError) as caught:
        parse_response(START, 200, answer(TaskId="9" * 100_000))
    assert "TaskId is text '999" in str(caught.value) and len(str(caught.value)) < 200


def test_user_ids_as_the_seed_sends_them_still_read():
    """The seed's examples send user IDs as JSON numbers: exact integers are read as IDs."""
    result = parse_response(
        TASK, 200, task_answer(SubscribeRecordUserIds={"SubscribeUserIds": ["10001", 10002]})
    )
    assert result.subscription.allow == ("10001", "10002")


# --- times out of any calendar: shown as the number that came ------------------------


@pytest.mark.parametrize(
    ("began", "text"),
    [
        (1700000000, "2023-11-14 22:13:20"),
        (0, "-"),
        (99999999999999, "99999999999999"),
        (2**64 - 1, str(2**64 - 1)),
        (-1, "-1"),
        (-(2**63), str(-(2**63))),
    ],
)
def test_the_begin_time_reads_as_a_utc_time_or_the_raw_number(began, text):
    result = parse_response(RECORD, 200, record_answer(RecordBeginTime=began))
    assert result.records[0].begin_text == text


def test_a_record_without_a_begin_time_reads_as_a_dash():
    assert RecordInfo.from_json({"UserId": "0"}).begin_text == "-"


# --- size: bounded on the wire and as it inflates ------------------------------------


async def call(driver, reply: bytes, action=START):
    with HostileServer(reply) as server:
        async with driver(
            KEY, endpoint=server.url, timeout=10.0, limiter=RateLimiter(), backoff=0.01
        ) as client:
            return await client.call(action)


@pytest.mark.parametrize(
    ("case", "reply"),
    [
        ("huge-body", http_answer(b" " * (MAX_ANSWER + 1) + answer(TaskId=5))),
        ("gzip-bomb", http_answer(gzip_bomb(2048), headers={"Content-Encoding": "gzip"})),
        # the bomb wrapped once more: the outer layer inflates to some 64 kB, the inner past the bound
        (
            "gzip-in-gzip",
            http_answer(zlib.compress(gzip_bomb(64), wbits=31), headers={"Content-Encoding": "gzip, gzip"}),
        ),
    ],
)
async def test_an_answer_over_the_bound_is_stopped_there(driver, case, reply):
    with pytest.raises(BadAnswerError, match=f"larger than {MAX_ANSWER} bytes"):
        await call(driver, reply)


async def test_an_answer_just_under_the_bound_is_read(driver):
    body = answer(TaskId=5)
    padded = body[:-2] + b" " * (MAX_ANSWER - len(body)) + body[-2:]
    assert len(padded) == MAX_ANSWER
    result = await call(driver, http_answer(padded))
    assert result.task_id == 5


@pytest.mark.parametrize(
    "encoding",
    [
        ("gzip", lambda body: zlib.compress(body, wbits=31)),
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 says
        ("deflate", lambda body: zlib.compress(body, wbits=-15)),  # raw, as some servers send it
        ("gzip, deflate", lambda body: zlib.compress(zlib.compress(body, wbits=31))),
        ("identity", lambda body: body),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "gzip-then-deflate", "identity"],
)
async def test_a_compressed_answer_still_reads(driver, encoding):
    name, encode = encoding
    body = answer(TaskId=446192236330927912)
    result = await call(driver, http_answer(encode(body), headers={"Content-Encoding": name}))
    assert result.task_id == 446192236330927912


async def test_an_encoding_not_asked_for_is_a_bad_answer(driver):
    reply = http_answer(b"whatever", headers={"Content-Encoding": "br"})
    with pytest.raises(BadAnswerError, match="Content-Encoding 'br' is not gzip, deflate"):
        await call(driver, reply)


#: run in a process of its own, so that its peak memory is the call's alone. It measures in a
#: child forked from that small process: a process started from pytest inherits the peak of
#: pytest itself (Linux keeps the spawner's peak across exec), a forked child starts afresh.
MEASURE = """
import json, os, resource, sys
from gme_tui.api.actions import StartRecord
from gme_tui.api.client import RateLimiter, SyncGmeClient
from gme_tui.api.errors import BadAnswerError
from gme_tui.api.fields import RecordMode
from gme_tui.api.signing import SigningKey

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def measure():
    client = SyncGmeClient(SigningKey("AKIDtest", "secret"), endpoint=sys.argv[1], limiter=RateLimiter())
    client.http  # the pool, built before the baseline
    before = peak()
    try:
        client.call(StartRecord(1400089356, "r", RecordMode(2)))
        error = None
    except BadAnswerError as caught:
        error = str(caught)
    print(json.dumps({"before": before, "after": peak(), "error": error}), flush=True)

pid = os.fork()
if pid == 0:
    code = 0
    try:
        measure()
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    os._exit(code)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_a_gzip_bomb_of_2_gib_leaves_memory_bounded():
    reply = http_answer(gzip_bomb(2048), headers={"Content-Encoding": "gzip"})
    assert len(reply) < 3_000_000  # some 2 MB on the wire
    with HostileServer(reply) as server:
        run = subprocess.run(
            [sys.executable, "-c", MEASURE, server.url], capture_output=True, text=True, timeout=120
        )
    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    assert "larger than" in measured["error"]
    # httpx alone would inflate each 64 KiB read whole: 64 MiB at once
    assert measured["after"] - measured["before"] < 16 * 2**20, measured
    assert measured["after"] < 150 * 2**20, measured


# --- the history keeps a bounded prefix, still JSON ----------------------------------


def test_a_small_answer_is_kept_whole():
    response = {"RequestId": "r", "TaskId": 5}
    assert kept(response) is response and not was_cut(response)


@pytest.mark.parametrize("filler", ["x", '"', "\x00", "雪"], ids=["plain", "quotes", "controls", "wide"])
def test_a_large_answer_is_kept_as_a_bounded_marked_prefix(filler):
    response = {"RequestId": "r", "TaskId": 5, "Junk": filler * (MAX_ANSWER // 2)}
    whole = json.dumps(response, ensure_ascii=False, separators=(",", ":"))
    stored = kept(response)
    assert was_cut(stored)
    text = json.dumps(stored, ensure_ascii=False, separators=(",", ":"))  # as the history stores it
    assert len(text.encode()) <= KEPT_ANSWER
    assert json.loads(text)["_bytes"] == len(whole.encode())
    assert whole.startswith(stored["_prefix"]) and len(stored["_prefix"]) > KEPT_ANSWER // 8
    assert stored["_note"] == CUT_NOTE


# --- any shape at all: a result or a ResponseShapeError, nothing else ----------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
#: the keys the parsers read, so that generated answers reach past the first check
KEYS = st.sampled_from(
    [
        "RequestId",
        "TaskId",
        "RecordMode",
        "RoomId",
        "RecordInfo",
        "SubscribeRecordUserIds",
        "SubscribeUserIds",
        "UnSubscribeUserIds",
        "UserId",
        "FileName",
        "RecordBeginTime",
        "RecordStatus",
    ]
)
ANSWERS = st.dictionaries(
    KEYS, JSON | st.lists(st.dictionaries(KEYS, JSON, max_size=5), max_size=2), max_size=8
)


@settings(max_examples=300, deadline=None)
@given(response=ANSWERS.map(lambda r: {"RequestId": "r", **r}))
def test_any_response_object_parses_or_is_a_shape_error(response):
    """The console re-reads stored answers with `parse` and catches only ResponseShapeError."""
    for action in ACTIONS.values():
        try:
            action.parse(response)
        except ResponseShapeError:
            pass
