"""The filter's text index (FTS5, trigram): same rows as LIKE, kept in step, migrated, optional."""

from __future__ import annotations

import sqlite3

import pytest

from gme_tui import history as history_module
from gme_tui.history import FEW, SCHEMA_VERSION, History

pytestmark = pytest.mark.skipif(
    not history_module.text_index_possible(), reason="this SQLite has no FTS5 trigram tokenizer"
)

ENDPOINT = "http://e"
NEEDLES = [
    "lob",
    "LOBBY",
    "by-",
    "stoprec",
    "TaskNotFound",
    "not sent",
    "not_sent",
    "service error",
    "123456789",
    "req-7",
    "unknown",
    "know",
    "%",
    "a_b",
    "o",
    "zz",
    "Ünï",
    '"quoted"',
    "nothing-at-all",
]


def _fill(history: History) -> None:
    rows = [
        ("StartRecord", {"RoomId": "lobby-1", "RecordMode": 2}, dict(outcome="ok", task_id=123456789)),
        ("StopRecord", {"TaskId": 123456789, "BizId": 1}, dict(outcome="ok", request_id="req-77")),
        (
            "StopRecord",
            {"TaskId": 5, "BizId": 1},
            dict(outcome="service_error", error_code="ResourceNotFound.TaskNotFound"),
        ),
        ("StartRecord", {"RoomId": "a_b%c", "RecordMode": 1}, dict(outcome="not_sent")),
        ("StartRecord", {"RoomId": 'Ünïcode "quoted"', "RecordMode": 1}, {}),  # pending
        ("DescribeTaskInfo", {"RoomId": "LOBBY-2", "BizId": 1}, dict(outcome="bad_answer")),
    ]
    for action, params, finish in rows:
        row_id = history.begin(action=action, profile="p", endpoint=ENDPOINT, region=None, params=params)
        if finish:
            history.finish(row_id, duration_ms=1.0, **finish)  # type: ignore[arg-type]
    history.begin(
        action="StartRecord", profile="p", endpoint="http://other", region=None, params={"RoomId": "lobby-9"}
    )


def _ids(history: History, text: str, **scope: object) -> list[int]:
    return [row.id for row in history.page(100, text=text, **scope)]  # type: ignore[arg-type]


def test_the_index_finds_exactly_what_like_finds(tmp_path):
    with History.in_dir(tmp_path) as history:
        _fill(history)
        assert history.text_index
        for needle in NEEDLES:
            for scope in ({}, {"endpoint": ENDPOINT}, {"endpoint": ENDPOINT, "own": True}):
                history.text_index = True
                indexed = _ids(history, needle, **scope)
                history.text_index = False
                assert indexed == _ids(history, needle, **scope), (needle, scope)
        history.text_index = True
        assert len(_ids(history, "lobby")) == 4  # lobby-1, its Stop (filed under it), LOBBY-2, lobby-9
        assert _ids(history, "lobby", endpoint="http://other") == [7]


def test_finishing_and_deleting_keep_the_index_in_step(tmp_path):
    with History.in_dir(tmp_path) as history:
        row_id = history.begin(action="StartRecord", profile="p", endpoint=ENDPOINT, region=None, params={})
        assert _ids(history, "pending") == [row_id]
        history.finish(row_id, outcome="service_error", duration_ms=1.0, error_code="LimitExceeded.Rate")
        assert _ids(history, "pending") == []
        assert _ids(history, "limitexceeded") == [row_id]
        db = sqlite3.connect(history.path)
        with db:
            db.execute("DELETE FROM requests WHERE id=?", (row_id,))
        db.close()
        assert _ids(history, "limitexceeded") == []


def test_a_broad_filter_pages_as_like_does(tmp_path, monkeypatch):
    """More than FEW rows named: the window and the walk beyond it, page after page."""
    monkeypatch.setattr(history_module, "FEW", 3)
    monkeypatch.setattr(history_module, "WINDOW", 5)
    with History.in_dir(tmp_path) as history:
        for i in range(40):
            room = f"room-{i}" if i % 3 else f"hall-{i}"
            history.begin(
                action="StartRecord", profile="p", endpoint=ENDPOINT, region=None, params={"RoomId": room}
            )
        for needle in ("room", "hall", "oom-1", "all-3"):
            pages = {}
            for fts in (True, False):
                history.text_index = fts
                seen, before = [], None
                while page := history.page(4, text=needle, before=before, endpoint=ENDPOINT, own=True):
                    seen += [row.id for row in page]
                    before = (page[-1].started_at, page[-1].id)
                pages[fts] = seen
            assert pages[True] == pages[False] and pages[True], needle
    assert FEW > 3  # the module's own value is back


def _as_version_3(path) -> None:
    """What a store of the version before looked like: no text index, user_version 3."""
    db = sqlite3.connect(path)
    with db:
        for name in history_module._TEXT_TRIGGERS:
            db.execute(f"DROP TRIGGER {name}")
        db.execute(f"DROP TABLE {history_module._TEXT}")
        db.execute("UPDATE requests SET record_mode = NULL WHERE action <> 'StartRecord'")
        db.execute("PRAGMA user_version=3")
    db.close()


def test_a_version_3_store_with_rows_is_migrated(tmp_path):
    with History.in_dir(tmp_path) as history:
        start = history.begin(
            action="StartRecord", profile="p", endpoint=ENDPOINT, region=None,
            params={"BizId": 1, "RoomId": "atrium", "RecordMode": 3},
        )  # fmt: skip
        history.finish(
            start, outcome="ok", duration_ms=1.0, task_id=4242, response={"TaskId": 4242, "RequestId": "r"}
        )
        stop = history.begin(
            action="StopRecord",
            profile="p",
            endpoint=ENDPOINT,
            region=None,
            params={"BizId": 1, "TaskId": 4242},
        )
        history.finish(stop, outcome="ok", duration_ms=1.0)
        ask = history.begin(
            action="DescribeTaskInfo", profile="p", endpoint=ENDPOINT, region=None, params={"RoomId": "x"}
        )
        history.finish(ask, outcome="ok", duration_ms=1.0, response={"TaskId": 9, "RecordMode": 1})
    _as_version_3(tmp_path / history_module.FILE_NAME)
    with History.in_dir(tmp_path) as history:
        assert history.text_index
        assert history._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert _ids(history, "atrium") == [stop, start]
        assert {row.id: row.record_mode for row in history.rows()} == {start: 3, stop: 3, ask: 1}
        # and the triggers keep it from here on
        later = history.begin(
            action="StartRecord", profile="p", endpoint=ENDPOINT, region=None, params={"RoomId": "atrium"}
        )
        assert _ids(history, "atrium") == [later, stop, start]


def test_a_sqlite_without_the_trigram_tokenizer_filters_with_like(tmp_path, monkeypatch):
    """No index where it cannot be kept; the triggers of one made elsewhere go (else every write
    would fail there); a SQLite that can keep it again builds it again, with what came meanwhile."""
    with History.in_dir(tmp_path) as history:
        first = history.begin(
            action="StartRecord", profile="p", endpoint=ENDPOINT, region=None, params={"RoomId": "cellar"}
        )
    monkeypatch.setattr(history_module, "text_index_possible", lambda: False)
    with History.in_dir(tmp_path) as history:
        assert not history.text_index
        assert not history_module._text_triggers(history._db)
        second = history.begin(
            action="StartRecord", profile="p", endpoint=ENDPOINT, region=None, params={"RoomId": "cellar-2"}
        )
        assert _ids(history, "cellar") == [second, first]
    with History(tmp_path / "fresh.sqlite3") as history:  # made without: no index at all
        history.begin(
            action="StartRecord", profile="p", endpoint=ENDPOINT, region=None, params={"RoomId": "attic"}
        )
        assert not history.text_index and len(_ids(history, "attic")) == 1
    monkeypatch.undo()
    with History.in_dir(tmp_path) as history:
        assert history.text_index
        assert _ids(history, "cellar") == [second, first]
    with History(tmp_path / "fresh.sqlite3") as history:
        assert history.text_index and len(_ids(history, "attic")) == 1


def test_read_only_uses_the_index_it_finds(tmp_path):
    with History.in_dir(tmp_path) as history:
        row = history.begin(
            action="StartRecord", profile="p", endpoint=ENDPOINT, region=None, params={"RoomId": "vault"}
        )
    with History(tmp_path / history_module.FILE_NAME, read_only=True) as history:
        assert history.text_index
        assert _ids(history, "vault") == [row]


def test_a_stop_and_a_describe_say_the_mode_of_their_recording(tmp_path):
    with History.in_dir(tmp_path) as history:
        start = history.begin(
            action="StartRecord", profile="p", endpoint=ENDPOINT, region=None,
            params={"BizId": 1, "RoomId": "atrium", "RecordMode": 3},
        )  # fmt: skip
        history.finish(
            start, outcome="ok", duration_ms=1.0, task_id=77, response={"TaskId": 77, "RequestId": "r"}
        )
        stop = history.begin(
            action="StopRecord",
            profile="p",
            endpoint=ENDPOINT,
            region=None,
            params={"BizId": 1, "TaskId": 77},
        )
        elsewhere = history.begin(
            action="StopRecord",
            profile="p",
            endpoint="http://other",
            region=None,
            params={"BizId": 1, "TaskId": 77},
        )
        ask = history.begin(
            action="DescribeTaskInfo",
            profile="p",
            endpoint=ENDPOINT,
            region=None,
            params={"BizId": 1, "RoomId": "x"},
        )
        assert history.get(ask).record_mode is None  # not known before the answer
        history.finish(
            ask, outcome="ok", duration_ms=1.0, response={"TaskId": 9, "RecordMode": 2, "RequestId": "q"}
        )
        assert history.get(stop).record_mode == 3
        assert history.get(elsewhere).record_mode is None  # another endpoint's task of that number
        assert history.get(ask).record_mode == 2
