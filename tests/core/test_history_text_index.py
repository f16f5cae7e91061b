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
    """More than FEW rows named: the index walked by rowid, chunk after chunk, page after page."""
    monkeypatch.setattr(history_module, "FEW", 3)
    monkeypatch.setattr(history_module, "_CHUNK", 5)
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


def _started_then_stopping(history: History, task: int) -> tuple[int, int]:
    """A StartRecord of room atrium in mode 3, ok with `task`, then its StopRecord begun."""
    start = history.begin(
        action="StartRecord", profile="p", endpoint=ENDPOINT, region=None,
        params={"BizId": 1, "RoomId": "atrium", "RecordMode": 3},
    )  # fmt: skip
    history.finish(
        start, outcome="ok", duration_ms=1.0, task_id=task, response={"TaskId": task, "RequestId": "r"}
    )
    stop = history.begin(
        action="StopRecord", profile="p", endpoint=ENDPOINT, region=None, params={"BizId": 1, "TaskId": task}
    )
    return start, stop


def test_a_version_3_store_with_rows_is_migrated(tmp_path):
    with History.in_dir(tmp_path) as history:
        start, stop = _started_then_stopping(history, 4242)
        history.finish(stop, outcome="ok", duration_ms=1.0)
        ask = history.begin(
            action="DescribeTaskInfo", profile="p", endpoint=ENDPOINT, region=None, params={"RoomId": "x"}
        )
        history.finish(ask, outcome="ok", duration_ms=1.0, response={"TaskId": 9, "RecordMode": 1})
    _as_version_3(tmp_path / history_module.FILE_NAME)
    with History.in_dir(tmp_path) as history:
        assert history.text_index
        assert history._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
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
        _start, stop = _started_then_stopping(history, 77)
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


def _all_pages(history: History, needle: str, fts: bool, **scope: object) -> list[int]:
    history.text_index = fts
    seen, before = [], None
    while page := history.page(4, text=needle, before=before, **scope):  # type: ignore[arg-type]
        seen += [row.id for row in page]
        before = (page[-1].started_at, page[-1].id)
    return seen


def _rows_out_of_order(history: History) -> None:
    """40 rows, then times set back, damaged, pushed past tomorrow, and rows written behind."""
    for i in range(40):
        history.begin(
            action="StartRecord", profile="p", endpoint=ENDPOINT if i % 4 else "http://other",
            region=None, params={"RoomId": f"room-{i}"},
        )  # fmt: skip
    db = sqlite3.connect(history.path)
    with db:
        db.execute("UPDATE requests SET started_at = started_at - 3600 WHERE id IN (5, 17)")
        db.execute("UPDATE requests SET started_at = 'not a time' WHERE id = 9")
        db.execute("UPDATE requests SET started_at = 1e300 WHERE id = 23")
        for back in (7200.0, 1.0):  # written now, stamped as if an hour ago / a second ago
            db.execute(
                "INSERT INTO requests (started_at, action, profile, endpoint, params, room_id, pid, host)"
                " SELECT started_at - ?, action, profile, endpoint, params, room_id || '-again', pid, host"
                " FROM requests WHERE id = 30",
                (back,),
            )
        db.execute(
            "INSERT INTO requests (started_at, action, profile, endpoint, params, room_id, pid, host)"
            " VALUES (?, 'StartRecord', 'p', ?, '{}', 'room-ahead', 1, 'h')",
            (4e9, ENDPOINT),
        )
    db.close()


NEEDLES_BROAD = ("room", "oom-1", "oom-3", "again", "ahead", "startrec")


def test_rows_out_of_time_order_page_as_like_does(tmp_path, monkeypatch):
    """The walk by rowid trusts id order only for rows in time order: the others (a clock set
    back, a damaged or future time, an edit) are read beside them, and the pages are LIKE's."""
    monkeypatch.setattr(history_module, "FEW", 10)
    monkeypatch.setattr(history_module, "_CHUNK", 5)
    with History.in_dir(tmp_path) as history:
        _rows_out_of_order(history)
        behind = {r[0] for r in history._db.execute(f"SELECT id FROM {history_module._BEHIND}")}
        # edited (5, 9, 17, 23); written behind (41, 42); every row after the 1e300 one is in order
        # (the far future is kept out of order rather than holding back all that follow)
        assert behind == {5, 9, 17, 23, 41, 42, 43}
        walks = []
        original = History._page_in_order

        def spy(self, *args):
            found = original(self, *args)
            walks.append(found is not None)
            return found

        monkeypatch.setattr(History, "_page_in_order", spy)
        for needle in NEEDLES_BROAD:
            for scope in ({}, {"endpoint": ENDPOINT}, {"endpoint": ENDPOINT, "own": True}):
                like = _all_pages(history, needle, False, **scope)
                assert _all_pages(history, needle, True, **scope) == like, (needle, scope)
        assert any(walks)  # the broad needles did go the new way
        assert _all_pages(history, "room-8", True) == [9]  # its damaged time kept it in the pages


def test_many_rows_out_of_order_walk_the_time_index(tmp_path, monkeypatch):
    monkeypatch.setattr(history_module, "FEW", 3)
    with History.in_dir(tmp_path) as history:
        _rows_out_of_order(history)
        assert history._page_in_order("room", None, False, (), 4) is None  # 7 out of order > FEW
        assert _all_pages(history, "room", True) == _all_pages(history, "room", False)


def test_a_version_4_store_learns_which_rows_are_out_of_order(tmp_path):
    with History.in_dir(tmp_path) as history:
        _rows_out_of_order(history)
        path = history.path
    db = sqlite3.connect(path)
    with db:
        for trigger in history_module._ORDER_TRIGGERS:
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute(f"DROP TABLE {history_module._BEHIND}")
        db.execute(f"DROP TABLE {history_module._HIGH}")
        db.execute("PRAGMA user_version=4")
    db.close()
    with History.in_dir(tmp_path) as history:
        behind = {r[0] for r in history._db.execute(f"SELECT id FROM {history_module._BEHIND}")}
        # from the times alone: 5 and 17 behind 4 and 16; text; 23's 1e300 is past tomorrow,
        # 41 and 42 behind 40; 43 past tomorrow
        assert behind == {5, 9, 17, 23, 41, 42, 43}
        row_id = history.begin(action="StartRecord", profile="p", endpoint=ENDPOINT, region=None, params={})
        assert row_id not in {r[0] for r in history._db.execute(f"SELECT id FROM {history_module._BEHIND}")}
        history._db.execute("DELETE FROM requests WHERE id = 5")
        assert 5 not in {r[0] for r in history._db.execute(f"SELECT id FROM {history_module._BEHIND}")}
