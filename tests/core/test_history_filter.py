"""The history filter through its full-text index (FTS5 trigram): the same rows as LIKE."""

from __future__ import annotations

import sqlite3

import pytest

from gme_tui import history as store
from gme_tui.history import History

needs_index = pytest.mark.skipif(not store.text_index_possible(), reason="this SQLite has no FTS5 trigram")

ROOMS = [
    "lobby",
    "Lobby-2",
    "LOBBY_3",
    "50%off",
    'say "hi"',
    "a_b",
    "a%b",
    "back\\slash",
    "Café-Ünïcode",
    "café-ünïcode",
    "房间-一号",
    "x",
    "",
]
NEEDLES = [
    "l",
    "lo",
    "LoB",
    "lobby",
    "BBY-",
    "%",
    "50%",
    "%of",
    "_",
    "a_b",
    "a%b",
    '"',
    '"hi"',
    'say "',
    "\\",
    "k\\s",
    "café",
    "CAFÉ",
    "ünï",
    "ÜNÏ",
    "房间",
    "房间-一",
    "unknown",
    "unk",
    "nkn",
    "not sent",
    "NOT_SENT",
    "service",
    "TaskExist",
    "4461922",
    "req-",
    "no such thing",
    "'; drop table requests; --",
]


def _fill(history: History) -> None:
    for number, room in enumerate(ROOMS):
        row = history.begin(
            action="StartRecord" if number % 2 else "StopRecord",
            profile="p",
            endpoint="http://e" if number % 3 else "http://other",
            region=None,
            params={"BizId": 1400000001, "RoomId": room, "RecordMode": 1},
            purpose="check" if number == 4 else None,
        )
        if number % 4 == 3:
            continue  # left pending
        history.finish(
            row,
            outcome=("ok", "service_error", "not_sent")[number % 3],
            duration_ms=1.0,
            request_id=f"req-{number}",
            task_id=446192236330927912 + number if number % 3 == 0 else None,
            error_code="FailedOperation.TaskExist" if number % 3 == 1 else None,
        )


def _ids(history: History, text: str, **scope: object) -> list[int]:
    return [row.id for row in history.page(1000, text=text, **scope)]  # type: ignore[arg-type]


def _like(history: History, text: str, **scope: object) -> list[int]:
    fts, history.text_index = history.text_index, False
    try:
        return _ids(history, text, **scope)
    finally:
        history.text_index = fts


@needs_index
@pytest.mark.parametrize("needle", NEEDLES)
def test_the_index_finds_what_like_finds(tmp_path, needle):
    with History.in_dir(tmp_path) as history:
        _fill(history)
        assert history.text_index
        for scope in ({}, {"endpoint": "http://e"}, {"endpoint": "http://e", "own": True}):
            expected = _like(history, needle, **scope)
            assert _ids(history, needle, **scope) == expected, scope
            for row in history.page(1000):
                found = history.matches(row.id, needle, **scope)  # type: ignore[arg-type]
                assert found == (row.id in expected)


@needs_index
def test_the_index_is_used_for_three_characters_or_more(tmp_path):
    with History.in_dir(tmp_path) as history:
        _fill(history)
        assert [row.room_id for row in history.page(100, text="lobby")] == ["LOBBY_3", "Lobby-2", "lobby"]
        assert "MATCH" in store._matching("lobby", fts=True)[0]
        assert "MATCH" not in store._matching("lo", fts=True)[0]
        assert "MATCH" not in store._matching("unk", fts=True)[0]  # a pending row matches it unheld
        assert store._phrase('say "hi"') == '"say ""hi"""'


def test_a_version_3_store_migrates_and_filters(tmp_path):
    path = tmp_path / store.FILE_NAME
    History(path).close()
    db = sqlite3.connect(path)
    for trigger in store._TEXT_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute(f"DROP TABLE IF EXISTS {store._TEXT}")
    with db:
        db.executemany(
            "INSERT INTO requests (started_at, action, profile, endpoint, params, room_id, outcome, pid, host)"
            " VALUES (?, 'StartRecord', 'p', 'http://e', '{}', ?, 'ok', 1, 'h')",
            [(1000.0 + n, f"old-room-{n}") for n in range(50)],
        )
    db.execute("PRAGMA user_version=3")
    db.close()
    with History(path) as history:
        assert history.text_index == store.text_index_possible()
        assert [row.room_id for row in history.page(100, text="OLD-ROOM-7")] == ["old-room-7"]
        assert len(history.page(100, text="old-room-")) == 50
        assert _ids(history, "room-4") == _like(history, "room-4")


def test_rows_written_after_are_found_and_changes_followed(tmp_path):
    with History.in_dir(tmp_path) as history:
        _fill(history)
        row = history.begin(
            action="StartRecord",
            profile="p",
            endpoint="http://e",
            region=None,
            params={"RoomId": "later-room"},
        )
        assert _ids(history, "later-room") == [row]
        assert _ids(history, "zzz-request") == []
        history.finish(row, outcome="ok", duration_ms=1.0, request_id="zzz-request-1", task_id=98765432123)
        assert _ids(history, "zzz-request") == [row]
        assert _ids(history, "8765432") == [row]
        assert _ids(history, "pending") == _like(history, "pending")
        db = history._db
        db.execute("UPDATE requests SET room_id='renamed-room' WHERE id=?", (row,))
        assert _ids(history, "later-room") == []
        assert _ids(history, "renamed-room") == [row]
        db.execute("DELETE FROM requests WHERE id=?", (row,))
        assert _ids(history, "renamed-room") == []
    with History.in_dir(tmp_path) as again:  # opened again: the index is trusted, not rebuilt
        assert again.text_index == store.text_index_possible()
        assert _ids(again, "lobby") == _like(again, "lobby")


def test_without_the_index_the_filter_still_works(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "_index_text", lambda db: None)
    with History.in_dir(tmp_path) as history:
        _fill(history)
        assert not history.text_index
        assert [row.room_id for row in history.page(100, text="LOBBY")] == ["LOBBY_3", "Lobby-2", "lobby"]
