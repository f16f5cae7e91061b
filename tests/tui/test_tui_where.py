"""Every action goes where its recording runs, and the console never loses its target or
its unknown starts: two emulators behind one console, a dropped answer, a busy room."""

from __future__ import annotations

import pytest
from helpers import send_confirmed, started, until, wait_idle
from test_tui_app import fill
from textual.widgets import Static

from gme_tui.api.errors import OutcomeKind
from gme_tui.cli.main import context_for
from gme_tui.cli.parser import build_parser
from gme_tui.emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY, Emulator
from gme_tui.emulator.faults import Fault
from gme_tui.recordings import State
from gme_tui.tui.app import GmeApp
from gme_tui.tui.screens.dialogs import ConfirmScreen
from gme_tui.tui.screens.modify import ModifyScreen


@pytest.fixture
def second():
    with Emulator(status_step=0.2) as emu:
        yield emu


@pytest.fixture
def two_profiles(emulator, second, settings_path, tmp_path, monkeypatch, no_keyring):
    """Profile `a` on the first emulator, `b` on the second, the demo key from the environment."""
    settings_path.parent.mkdir(parents=True, exist_ok=True)
    settings_path.write_text(
        "default_biz_id: 1400089356\nprofile: a\nprofiles:\n"
        f"  a:\n    endpoint: {emulator.url}\n  b:\n    endpoint: {second.url}\n"
    )
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY)

    def make() -> GmeApp:
        ctx, warnings = context_for(build_parser().parse_args(["--data-dir", str(tmp_path / "data")]))
        assert not warnings
        return GmeApp(ctx, warnings)

    return make


def question(app) -> str:
    return str(app.screen.query_one(".dialog-question", Static).content)


def notices(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


async def test_an_action_never_reaches_an_endpoint_other_than_its_recordings(two_profiles, emulator, second):
    app = two_profiles()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await fill(pilot, room="where")
        await send_confirmed(pilot)
        (task,) = emulator.service.tasks()
        app.switch_profile("b")  # the target stays, but it runs on the first emulator
        await wait_idle(pilot)
        assert app.config.endpoint == second.url and app.screen.target.task_id == task.task_id
        for key in ("f2", "f4", "f6"):
            await pilot.press(key)
            await wait_idle(pilot)
            assert not isinstance(app.screen, ConfirmScreen | ModifyScreen)
        assert f"Task {task.task_id} runs on {emulator.url} with profile a" in notices(app)
        assert second.requests == []  # nothing went to the other endpoint
        assert {name for name, _p, _h in emulator.requests} == {"StartRecord"}  # nor, from here, to its own
        app.switch_profile("a")  # back where it runs: the same keys act, and say where
        await wait_idle(pilot)
        await pilot.press("f2")
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the Stop confirmation", pilot)
        assert f"profile a → 127.0.0.1:{emulator.port}" in question(app) and "local endpoint" in question(app)
        await pilot.press("enter")
        await wait_idle(pilot)
        assert emulator.service.tasks()[0].stopped_at is not None and second.requests == []


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault("drop", count=1, action="StartRecord"), id="dropped"),
        pytest.param(Fault("delay", count=1, seconds=3.0, action="StartRecord"), id="delayed"),
    ],
)
async def test_an_answer_lost_or_late_is_reconciled_and_never_sent_again(
    make_app, emulator, fault, monkeypatch
):
    # The service acts; its answer is lost, or comes after the timeout (it acts 3 s late):
    # the look waits until it would have acted.
    monkeypatch.setattr("gme_tui.tracking.SETTLE_AFTER", fault.seconds + 1.0 if fault.seconds else 0.0)
    emulator.faults.add(fault)
    app = make_app(timeout=1.0)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await fill(pilot, room="dropped")
        await send_confirmed(pilot)
        history = app.history
        (row,) = [r for r in history.rows() if r.action == "StartRecord"]

        def settled():
            found = history.get(row.id)
            return found.outcome is OutcomeKind.OK and found

        found = await until(lambda: settled(), "the reconcile", pilot) or history.get(row.id)
        (task,) = emulator.service.tasks()
        assert found.task_id == str(task.task_id) and found.note.startswith("reconciled")
        assert started(emulator) == 1  # never a second StartRecord
        await until(
            lambda: "Reconciled" in " ".join(n.title for n in app._notifications), "its notice", pilot
        )
        (recording,) = history.recordings(endpoint=emulator.url)
        assert recording.state is State.RECORDING and recording.task_id == str(task.task_id)


async def test_an_unknown_start_of_the_last_run_is_reconciled_at_start_up(make_app, emulator, tmp_path):
    from gme_tui.api.actions import StartRecord
    from gme_tui.api.client import RateLimiter, SyncGmeClient
    from gme_tui.api.fields import RecordMode
    from gme_tui.calls import send_sync
    from gme_tui.emulator import DEMO_KEY
    from gme_tui.history import History

    emulator.faults.add(Fault("http502", count=1, action="StartRecord"))  # never reached the service
    with History.in_dir(tmp_path / "data") as history:
        with SyncGmeClient(DEMO_KEY, endpoint=emulator.url, limiter=RateLimiter()) as client:
            lost = send_sync(
                client, history, StartRecord(1400089356, "last-run", RecordMode.MIXED), profile="ops"
            )
    assert lost.kind is OutcomeKind.BAD_ANSWER
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await until(
            lambda: app.history.get(lost.row_id).outcome is OutcomeKind.NOT_STARTED, "the reconcile", pilot
        )
        assert started(emulator, "DescribeTaskInfo") == 1 and emulator.service.tasks() == []
        assert "did not start" in notices(app)


async def test_a_busy_room_offers_its_running_task(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await fill(pilot, room="busy")
        await send_confirmed(pilot)
        (task,) = emulator.service.tasks()
        app.screen.target = None  # as if this console had not started it
        await send_confirmed(pilot)  # the second start: ResourceInUse.TaskInUse
        await until(lambda: app.screen.target is not None, "the room's task looked up", pilot)
        assert app.screen.target.task_id == task.task_id
        assert "ResourceInUse.TaskInUse" in str(app.screen.query_one("#response-title", Static).content) or (
            app.screen.response.view.error_code == "ResourceInUse.TaskInUse"
        )  # the error stays shown
        assert f"already records task {task.task_id}" in notices(app)


async def test_modify_opens_on_the_lists_it_has_and_keeps_the_untouched_one(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await fill(pilot, room="lists", mode="1", allow="10001, 10002")
        await send_confirmed(pilot)
        await pilot.press("f6")
        await until(lambda: isinstance(app.screen, ModifyScreen), "the Modify dialog", pilot)
        assert app.screen.query_one("#allow").text == "10001, 10002"  # prefilled, not empty
        await pilot.press("ctrl+s")  # nothing changed by hand
        await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation", pilot)
        assert "SubscribeUserIds: unchanged (10001, 10002)" in question(app)
        await pilot.press("enter")
        await wait_idle(pilot)
        (task,) = emulator.service.tasks()
        assert task.subscription == {"SubscribeUserIds": ["10001", "10002"]}
        modifies = [p for name, p, _h in emulator.requests if name == "ModifyRecordInfo"]
        assert modifies[-1]["SubscribeRecordUserIds"] == {"SubscribeUserIds": ["10001", "10002"]}


async def test_loading_a_describe_task_row_keeps_the_mode_and_lists_it_found(make_app, emulator):
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await fill(pilot, room="loaded", mode="1", allow="10001, 10002")
        await send_confirmed(pilot)
        await pilot.press("f3")  # DescribeTaskInfo: the room's task, its mode and lists
        await wait_idle(pilot)
        form = app.screen.form
        form.query_one("#room-id").value = ""  # the form emptied but for the BizId
        form.query_one("#record-mode").value = None
        form.query_one("#allow").text = ""
        await pilot.pause()
        table = app.screen.query_one("#history-table")
        table.focus()
        table.move_cursor(row=0)  # the newest row: the DescribeTaskInfo
        await pilot.pause()
        await pilot.press("l")
        await until(lambda: form.query_one("#room-id").value == "loaded", "the row loaded", pilot)
        assert form.query_one("#record-mode").value == 1
        assert form.query_one("#allow").text == "10001, 10002"
