"""A history someone else touched: loose modes, hand-damaged rows, a read-only filesystem.

None of it may crash `gme-tui history` (text or JSON) with an "internal error": a
loose file is made private again at the next open, a damaged value is shown as
nothing and named in the row's `damaged`, and a store that cannot be written is
read read-only, never migrated.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gme_tui.cli import main
from gme_tui.history import FILE_NAME, History

PARAMS = {"BizId": 3400352518, "RoomId": "lobby", "RecordMode": 2}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _begin(history: History, room: str = "lobby") -> int:
    return history.begin(
        action="StartRecord", profile="p", endpoint="http://e", region=None, params={**PARAMS, "RoomId": room}
    )


# --- modes at every open --------------------------------------------------------


def test_a_loose_history_is_made_private_again_at_the_next_open(tmp_path):
    folder = tmp_path / "data"
    first = History.in_dir(folder)  # kept open, so its -wal and -shm stay
    _begin(first)
    files = [folder / FILE_NAME, folder / f"{FILE_NAME}-wal", folder / f"{FILE_NAME}-shm"]
    for path in files:
        path.chmod(0o644)  # as an older version, a copy or a umask left them
    folder.chmod(0o755)
    with History.in_dir(folder) as again:
        assert [_mode(path) for path in files] == [0o600] * 3
        assert _mode(folder) == 0o700
        assert again.count() == 1
    first.close()


def test_a_tightened_mode_only_loses_permissions_never_gains_them(tmp_path):
    folder = tmp_path / "data"
    History.in_dir(folder).close()
    (folder / FILE_NAME).chmod(0o444)  # read-only on purpose: stays so, only private
    History.for_reading(folder).close()
    assert _mode(folder / FILE_NAME) == 0o400


def test_a_folder_shared_on_purpose_keeps_its_mode(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # sticky, as /tmp: `--data-dir /tmp` must not lock others out
    with History.in_dir(shared):
        pass
    assert _mode(shared) == 0o1777
    assert _mode(shared / FILE_NAME) == 0o600


# --- hand-damaged rows -----------------------------------------------------------

#: column, stored value, the front of the damage it must be named with
DAMAGE = [
    ("params", "{not json", "params:"),
    ("params", "[1, 2]", "params:"),
    ("params", '{"BizId": NaN}', "params:"),
    ("params", '{"BizId": 1e400}', "params:"),
    ("params", "[" * 100_000, "params:"),
    ("params", '{"a":' * 40 + "1" + "}" * 40, "params:"),
    ("response", "\x00garbage", "response:"),
    ("task_id", "abc", "task_id:"),
    ("task_id", str(2**64), "task_id:"),
    ("biz_id", "12x", "biz_id:"),
    ("started_at", 1e300, "started_at:"),
    ("started_at", "yesterday", "started_at:"),
    ("started_at", -5.0, "started_at:"),
    ("finished_at", "later", "finished_at:"),
    ("duration_ms", "fast", "duration_ms:"),
    ("outcome", "exploded", "outcome:"),
    ("action", "\x1b[2JStart", "action:"),
    ("error_code", "Bad\x1b]0;pwned\x07", "error_code:"),
    ("record_mode", "loud", "record_mode:"),
    ("room_id", b"\xff\xfe", "room_id:"),
    ("pid", "not a pid", None),  # not shown: the writer is simply gone
]


def _damaged_store(folder: Path) -> dict[int, tuple[str, object, str | None]]:
    """One row per damage in DAMAGE, by row id."""
    ids = {}
    with History.in_dir(folder) as history:
        for case in DAMAGE:
            ids[_begin(history, room=f"room-{len(ids)}")] = case
    db = sqlite3.connect(folder / FILE_NAME)
    for row_id, (column, value, _) in ids.items():
        db.execute(f"UPDATE requests SET {column} = ? WHERE id = ?", (value, row_id))
    db.commit()
    db.close()
    return ids


def test_each_damaged_value_reads_as_nothing_and_is_named(tmp_path):
    ids = _damaged_store(tmp_path)
    with History.in_dir(tmp_path) as history:
        rows = {row.id: row for row in history.rows(limit=100)}
    assert set(rows) == set(ids)
    for row_id, (column, value, named) in ids.items():
        row = rows[row_id]
        if named is None:
            assert row.damaged == () and row.outcome == "unknown", column
            continue
        assert [said for said in row.damaged if said.startswith(named)], (column, value, row.damaged)
        json.dumps(row.to_json(), allow_nan=False)  # every value printable as strict JSON
        shown = getattr(row, column)
        assert shown != value, column
        assert "\x1b" not in str(shown) and "\x07" not in str(shown)
    assert rows[next(i for i, c in ids.items() if c[1] == "exploded")].outcome == "transport_error"


def test_paging_walks_past_a_row_whose_time_is_damaged(tmp_path):
    ids = _damaged_store(tmp_path)
    seen: list[int] = []
    with History.in_dir(tmp_path) as history:
        before = None
        for _ in range(len(ids)):  # bounded: a walk that loops fails instead of hanging
            page = history.page(3, before=before)
            if not page:
                break
            seen += [row.id for row in page]
            before = (page[-1].started_at, page[-1].id)
    assert sorted(seen) == sorted(ids)  # each once: a text or 1e300 time neither ends nor loops the walk


@pytest.mark.parametrize("output", ["text", "json"])
def test_history_of_a_damaged_store_never_is_an_internal_error(tmp_path, capsys, monkeypatch, output):
    monkeypatch.setenv("GME_TUI_CONFIG", str(tmp_path / "config" / "settings.yaml"))
    ids = _damaged_store(tmp_path / "data")
    code = main(["--data-dir", str(tmp_path / "data"), "history", "--limit", "100", "--output", output])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "internal error" not in err and "Traceback" not in err
    assert "\x1b" not in out and "\x07" not in out
    if output == "json":
        shown = json.loads(out)
        assert len(shown) == len(ids)
        assert sum(1 for row in shown if row["damaged"]) == len(ids) - 1  # all but the bad pid


# --- read-only ---------------------------------------------------------------


def _old_store(path: Path) -> None:
    """A store as 0.1.0's first cut made it: no pid_start, no user_version."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT, started_at REAL NOT NULL, finished_at REAL,
            action TEXT NOT NULL, profile TEXT NOT NULL, endpoint TEXT NOT NULL, region TEXT,
            params TEXT NOT NULL, biz_id TEXT, room_id TEXT, record_mode INTEGER,
            outcome TEXT NOT NULL DEFAULT 'pending', error_code TEXT, error_message TEXT,
            response TEXT, request_id TEXT, task_id TEXT, duration_ms REAL,
            pid INTEGER NOT NULL, host TEXT NOT NULL);
        INSERT INTO requests (started_at, action, profile, endpoint, params, room_id, outcome, task_id, pid, host)
            VALUES (1700000000.5, 'StartRecord', 'p', 'e', '{"RoomId": "old"}', 'old', 'ok', '42', 1, 'h');
        """
    )
    db.commit()
    db.close()


def test_a_read_only_open_reads_an_old_store_and_never_migrates_it(tmp_path):
    path = tmp_path / FILE_NAME
    _old_store(path)
    before = path.read_bytes()
    with History(path, read_only=True) as history:
        [row] = history.rows()
        assert (row.room_id, row.task_id, row.outcome, row.damaged) == ("old", "42", "ok", ())
        with pytest.raises(sqlite3.OperationalError):
            _begin(history)  # and it cannot write, whatever a caller tries
    assert path.read_bytes() == before
    assert not path.with_name(FILE_NAME + "-wal").exists()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    db.close()


def _read_only_mount_works() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


def _history_on_read_only_mount(folder: Path) -> subprocess.CompletedProcess[str]:
    """`gme-tui history --output json` in a private mount namespace where `folder` is
    bound read-only over itself: a read-only filesystem, as even root sees it."""
    script = (
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && '
        'exec "$2" -m gme_tui --data-dir "$1" history --output json'
    )
    env = {**os.environ, "GME_TUI_CONFIG": str(folder.parent / "settings.yaml")}
    return subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            str(folder),
            sys.executable,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.skipif(
    not _read_only_mount_works(), reason="needs unshare --mount (Linux, root or user namespaces)"
)
def test_history_reads_a_store_on_a_read_only_filesystem(tmp_path):
    folder = tmp_path / "data"
    with History.in_dir(folder) as history:
        _begin(history, room="closed-store")  # closed: no -wal or -shm beside it
    writer = History.in_dir(folder)  # one more, held open with its row in the WAL only
    writer._db.execute("PRAGMA wal_autocheckpoint=0")
    _begin(writer, room="in-the-wal")
    try:
        done = _history_on_read_only_mount(folder)
    finally:
        writer.close()
    assert done.returncode == 0, done.stderr
    assert {row["room_id"] for row in json.loads(done.stdout)} == {"closed-store", "in-the-wal"}
    done = _history_on_read_only_mount(folder)  # now the file alone, no -shm to share
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == 2
