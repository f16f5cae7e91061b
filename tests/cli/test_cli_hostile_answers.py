"""Hostile answers to one-shot commands: the exit code, the words, the history row, its size.

Each answer comes from a loopback server that says whatever the test arms it with:
JSON nested 100,000 deep, a gzip bomb, a body larger than any answer, fields of
the wrong shape, times out of any calendar, an answer too large to keep whole.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from hostile_answers import answer, gzip_bomb, record_answer, task_answer
from hostile_server import HOSTILE, HostileServer, http_answer
from test_cli import BIZ, rows
from test_cli import cli as cli  # the fixture (an explicit re-export: its name is used as a parameter)

from gme_tui.api.client import MAX_ANSWER
from gme_tui.calls import CUT_NOTE, KEPT_ANSWER
from gme_tui.history import FILE_NAME

START = ("start", "--biz-id", BIZ, "--room-id", "hostile", "--mode", "1")
DESCRIBE_TASK = ("describe-task", "--biz-id", BIZ, "--room-id", "hostile")
DESCRIBE_RECORD = ("describe-record", "--biz-id", BIZ, "--task-id", "5")

#: answers no service gives, to a StartRecord (which may have acted) or a read (which is safe
#: to send again), each with the words its message must hold
BAD = {
    "nested-100000-deep": (START, HOSTILE["deep-json"][0], "nested too deep"),
    "nested-read": (DESCRIBE_RECORD, HOSTILE["deep-json"][0], "nested too deep"),
    "gzip-bomb-2-gib": (
        START,
        http_answer(gzip_bomb(2048), headers={"Content-Encoding": "gzip"}),
        f"larger than {MAX_ANSWER} bytes",
    ),
    "huge-body": (DESCRIBE_TASK, http_answer(b" " * 2_000_000 + task_answer()), "larger than"),
    "task-0": (START, http_answer(answer(TaskId=0)), "TaskId is 0"),
    "task-a-float": (START, http_answer(answer(TaskId=5.0)), "TaskId is 5.0"),
    "task-text": (START, http_answer(answer(TaskId="5")), "TaskId is text '5'"),
    "allowlist-a-string": (
        DESCRIBE_TASK,
        http_answer(task_answer(SubscribeRecordUserIds={"SubscribeUserIds": "10001"})),
        "SubscribeRecordUserIds.SubscribeUserIds is text '10001', not a list of user IDs",
    ),
    "mode-7": (DESCRIBE_TASK, http_answer(task_answer(RecordMode=7)), "RecordMode is 7, not 1, 2 or 3"),
    "mode-a-float": (DESCRIBE_RECORD, http_answer(answer(RoomId="r", RecordMode=2.0)), "RecordMode is 2.0"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_hostile_answer_is_a_bad_answer_with_the_check_to_run(cli, case):
    args, reply, words = BAD[case]
    with HostileServer(reply) as server:
        code, out, err = cli(*args, endpoint=server.url)
    assert code == 4, err
    assert words in err
    assert "Allowlist" not in out and "ok" not in out  # no success printed half-way
    if args is START:
        assert "The service may have acted: check before retrying." in err
        assert "Check with: gme-tui " in err and f"describe-task --biz-id {BIZ} --room-id hostile" in err
    else:
        assert "safe to retry" in err
    [row] = rows(cli.data_dir)
    assert row.outcome == "bad_answer" and words in row.error_message
    assert len(server.requests) == 1  # never sent again, not even a read: the answer came


@pytest.mark.parametrize(
    ("began", "shown"),
    [
        (99999999999999, "99999999999999"),
        (2**64 - 1, str(2**64 - 1)),
        (-1, "-1"),
        (1700000000, "2023-11-14 22:13:20"),
    ],
)
def test_a_begin_time_out_of_any_calendar_is_shown_as_it_came(cli, began, shown):
    reply = http_answer(record_answer(RecordBeginTime=began, FileName="f.mp3"))
    with HostileServer(reply) as server:
        code, out, err = cli(*DESCRIBE_RECORD, endpoint=server.url)
    assert code == 0, err
    [line] = [line for line in out.splitlines() if line.endswith("f.mp3")]
    assert line.split()[:4] == ["0", "(mixed)", "2", "recording"]
    assert f" {shown} " in line
    assert rows(cli.data_dir)[0].outcome == "ok"


def large_answer(filler: str = "x") -> bytes:
    """A valid answer just under the read bound: far more than the history keeps."""
    body = answer(TaskId=446192236330927912, Junk="")
    junk = (MAX_ANSWER - len(body) - 100) // len(json.dumps(filler)[1:-1].encode())
    return answer(TaskId=446192236330927912, Junk=filler * junk)


def stored_responses(data_dir) -> list[str]:
    with sqlite3.connect(data_dir / FILE_NAME) as db:
        return [text for (text,) in db.execute("SELECT response FROM requests")]


@pytest.mark.parametrize("filler", ["x", '"', "\x01"], ids=["plain", "quotes", "controls"])
def test_an_answer_too_large_to_keep_is_kept_cut_and_marked(cli, filler):
    reply = http_answer(large_answer(filler))
    with HostileServer(reply) as server:
        code, out, err = cli(*START, endpoint=server.url)
    assert code == 0, err
    assert "446192236330927912" in out  # the operator sees the whole answer's TaskId
    [stored] = stored_responses(cli.data_dir)
    assert len(stored.encode()) <= KEPT_ANSWER
    kept = json.loads(stored)
    assert kept["_cut"] is True and kept["_note"] == CUT_NOTE and kept["_bytes"] > MAX_ANSWER - 200
    [row] = rows(cli.data_dir)
    assert int(row.task_id) == 446192236330927912  # the columns still say what came

    code, out, err = cli("history", "--output", "json")
    assert code == 0, err
    [printed] = json.loads(out)
    assert printed["response"]["_note"] == "answer too large to keep; cut at 64 KiB"
    code, out, err = cli("history", "--limit", "20")
    assert code == 0 and "446192236330927912" in out, err


def test_ten_large_answers_keep_the_history_small(cli):
    with HostileServer(http_answer(large_answer())) as server:
        for _ in range(10):
            code, _out, err = cli(*START, endpoint=server.url)
            assert code == 0, err
    files = [cli.data_dir / name for name in (FILE_NAME, FILE_NAME + "-wal")]
    size = sum(path.stat().st_size for path in files if path.exists())
    assert size < 20 * KEPT_ANSWER  # ten whole answers would be ten MiB
    assert all(len(text.encode()) <= KEPT_ANSWER for text in stored_responses(cli.data_dir))


def test_a_small_answer_is_kept_whole(cli):
    with HostileServer(http_answer(answer(TaskId=5))) as server:
        code, _out, err = cli(*START, endpoint=server.url)
    assert code == 0, err
    assert json.loads(stored_responses(cli.data_dir)[0]) == {"RequestId": "req-1", "TaskId": 5}
