"""Hostile answers in the console, driven through Pilot: JSON nested 100,000 deep reads as a
bad answer with the check to run; an answer the history cut reads back without a crash."""

from __future__ import annotations

import pytest
from helpers import after_first_frame, until
from hostile_answers import answer, record_answer
from hostile_server import HOSTILE, HostileServer, http_answer
from test_tui_failures import row_of, send_over, shown, start_record

from gme_tui.api.actions import DescribeRecordInfo
from gme_tui.api.client import MAX_ANSWER, SyncGmeClient
from gme_tui.api.errors import OutcomeKind
from gme_tui.calls import CUT_NOTE, send_sync
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_KEY
from gme_tui.history import History
from gme_tui.tui.screens.dialogs import RawScreen


async def test_json_nested_100000_deep_is_a_bad_answer_with_the_check_to_run(make_app):
    with HostileServer(HOSTILE["deep-json"][0]) as server:
        app = make_app(endpoint=server.url)
        async with app.run_test(size=(100, 30)) as pilot:
            await start_record(pilot, "deep")
            await send_over(pilot, "deep")
            said = shown(app)
            assert "StartRecord: Bad answer" in said and "nested too deep" in said
            assert "The service may have acted: check before retrying." in " ".join(said.split())
            assert "F3" in said  # DescribeTaskInfo for the room, before any retry
            assert row_of(app).outcome is OutcomeKind.BAD_ANSWER
    # One StartRecord, never a second (the follower may look the room up with DescribeTaskInfo).
    assert sum(b"StartRecord" in request for request in server.requests) == 1


@pytest.fixture
def cut_row(tmp_path):
    """A DescribeRecordInfo whose answer was too large to keep: its row in the app's history."""
    entries = record_answer()[: -len(b"]}}")]  # one record, then padding records up to near the bound
    filler = b', {"UserId": "10001", "FileName": "' + b"x" * 1000 + b'", "RecordStatus": 2}'
    body = entries + filler * ((MAX_ANSWER - len(entries) - 100) // len(filler)) + b"]}}"
    assert len(body) < MAX_ANSWER and len(answer()) < len(body)
    with (
        HostileServer(http_answer(body)) as server,
        SyncGmeClient(DEMO_KEY, endpoint=server.url, use_env_proxies=False) as client,
        History.in_dir(tmp_path / "data") as history,
    ):
        outcome = send_sync(client, history, DescribeRecordInfo(DEMO_BIZ_ID, 5), profile="ops")
        assert outcome.result is not None and len(outcome.result.records) > 500  # whole, as it came
        (row,) = history.rows()
    return row


async def test_an_answer_the_history_cut_reads_back_as_cut_not_as_a_crash(make_app, cut_row):
    app = make_app(endpoint=cut_row.endpoint)  # the panel shows the rows of its own endpoint
    async with app.run_test(size=(100, 30)) as pilot:
        await after_first_frame(pilot)
        panel = app.screen.response
        await until(
            lambda: panel.view is not None and panel.view.row_id == cut_row.id, "the row shown", pilot
        )
        said = shown(app)
        table_drawn = "10001" in said  # a bool: pytest would diff the whole panel's text for an `in`
        assert "DescribeRecordInfo ok" in said and not table_drawn, "no record table from a cut answer"
        await pilot.press("f8")
        await until(lambda: isinstance(app.screen, RawScreen), "the raw answer", pilot)
        assert CUT_NOTE in app.screen.text
