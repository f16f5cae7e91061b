"""`gme-tui credentials` and `--profile` against a real Secret Service, as an operator would use them."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from gme_tui.emulator import DEMO_BIZ_ID, DEMO_SECRET_ID, DEMO_SECRET_KEY

BIZ = str(DEMO_BIZ_ID)


def gme(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    run = subprocess.run(
        [sys.executable, "-m", "gme_tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "Traceback" not in run.stderr + run.stdout
    return run


@pytest.fixture
def env(secret_service, tmp_path) -> dict[str, str]:
    return secret_service.subprocess_env(
        GME_TUI_DATA_DIR=str(tmp_path / "data"),
        GME_TUI_CONFIG=str(tmp_path / "config" / "settings.yaml"),
        GME_TUI_KEYRING_TIMEOUT="5",
    )


@pytest.fixture
def profile() -> str:
    return f"ops-{uuid.uuid4().hex[:8]}"


def secret_files(*roots: Path) -> list[Path]:
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and DEMO_SECRET_KEY.encode() in path.read_bytes():
                hits.append(path)
    return hits


def test_a_whole_session_from_the_keyring_leaves_no_secret_in_any_file(
    env, profile, emulator, tmp_path, secret_service
):
    stored = gme(
        env,
        "credentials",
        "set",
        "--profile",
        profile,
        "--secret-id",
        DEMO_SECRET_ID,
        stdin=DEMO_SECRET_KEY + "\n",
    )
    assert stored.returncode == 0, stored.stderr
    assert DEMO_SECRET_KEY not in stored.stdout
    assert profile in gme(env, "credentials", "list").stdout

    shown = gme(env, "credentials", "show", "--profile", profile)
    assert shown.returncode == 0
    assert f"keyring (profile {profile})" in shown.stdout and DEMO_SECRET_ID in shown.stdout
    assert DEMO_SECRET_KEY not in shown.stdout and DEMO_SECRET_KEY[:5] not in shown.stdout

    # requests signed with the keyring's key: ok, a service error, an outcome unknown
    base = ["--profile", profile, "--endpoint", emulator.url]
    ok = gme(env, *base, "start", "--biz-id", BIZ, "--room-id", "kr", "--mode", "1", "--output", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["TaskId"] > 0
    assert gme(env, *base, "start", "--biz-id", BIZ, "--room-id", "kr", "--mode", "1").returncode == 3
    emulator.faults.set("drop", count=1)
    assert gme(env, *base, "start", "--biz-id", BIZ, "--room-id", "kr2", "--mode", "1").returncode == 5
    rows = json.loads(gme(env, "history", "--output", "json").stdout)
    assert {row["profile"] for row in rows} == {profile}

    # change settings, then look everywhere the app writes
    from gme_tui.settings import update_settings

    update_settings(Path(env["GME_TUI_CONFIG"]), profile=profile, default_biz_id=BIZ, region="ap-guangzhou")
    assert (
        gme(
            env, "--profile", profile, "--endpoint", emulator.url, "describe-task", "--room-id", "kr"
        ).returncode
        == 0
    )  # BizId from the profile's settings
    assert secret_files(tmp_path / "data", tmp_path / "config", Path(env["HOME"])) == []

    assert gme(env, "credentials", "delete", "--profile", profile).returncode == 0
    assert gme(env, "credentials", "show", "--profile", profile).returncode == 1


def test_the_environment_wins_and_show_says_so(env, profile):
    gme(env, "credentials", "set", "--profile", profile, "--secret-id", "AKIDkeyring", stdin="key-in-ring\n")
    env = dict(env, TENCENTCLOUD_SECRET_ID="AKIDfromenv", TENCENTCLOUD_SECRET_KEY="env-key-value-123")
    shown = gme(env, "credentials", "show", "--profile", profile).stdout
    assert "Source     environment" in shown and "AKIDfromenv" in shown
    assert "shadows the keyring entry" in shown


def test_a_session_token_is_read_from_stdin_too(env, profile):
    gme(
        env,
        "credentials",
        "set",
        "--profile",
        profile,
        "--secret-id",
        "AKIDx",
        "--session-token",
        stdin="the-secret-key-1\nthe-session-token-1\n",
    )
    shown = gme(env, "credentials", "show", "--profile", profile).stdout
    assert "Token      (none)" not in shown and "the-session-token-1" not in shown


def test_import_from_tccli(env, profile):
    tccli = Path(env["HOME"]) / ".tccli"
    tccli.mkdir(parents=True, exist_ok=True)
    (tccli / "work.credential").write_text(
        json.dumps({"secretId": "AKIDtccli", "secretKey": "tccli-key-000"})
    )
    run = gme(env, "credentials", "import-tccli", "--profile", profile, "--tccli-profile", "work")
    assert run.returncode == 0, run.stderr
    assert "AKIDtccli" in gme(env, "credentials", "show", "--profile", profile).stdout
    missing = gme(env, "credentials", "import-tccli", "--profile", profile, "--tccli-profile", "nope")
    assert missing.returncode == 1 and "nope.credential" in missing.stderr


def test_no_option_takes_a_secret(env):
    run = gme(env, "credentials", "set", "--secret-id", "AKIDx", "--secret-key", "oops")
    assert run.returncode == 2 and "--secret-key" in run.stderr


def test_no_backend_says_how_to_go_on_and_writes_nothing(tmp_path):
    from keyring_service import home_dirs, scrubbed_environ

    env = scrubbed_environ(
        **home_dirs(tmp_path),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        GME_TUI_DATA_DIR=str(tmp_path / "data"),
        GME_TUI_CONFIG=str(tmp_path / "config" / "settings.yaml"),
    )
    run = gme(env, "credentials", "set", "--profile", "p", "--secret-id", "AKIDx", stdin=DEMO_SECRET_KEY)
    assert run.returncode == 1
    assert "TENCENTCLOUD_SECRET_KEY" in run.stderr and "Secret Service" in run.stderr
    assert secret_files(tmp_path) == []
    start = gme(env, "describe-task", "--biz-id", BIZ, "--room-id", "r")
    assert start.returncode == 1 and "TENCENTCLOUD_SECRET_ID" in start.stderr


def test_a_locked_keyring_answers_within_the_timeout(private_secret_service, tmp_path):
    import time

    env = private_secret_service.subprocess_env(
        GME_TUI_KEYRING_TIMEOUT="5",
        GME_TUI_DATA_DIR=str(tmp_path / "data"),
        GME_TUI_CONFIG=str(tmp_path / "settings.yaml"),
    )
    stored = gme(
        env, "credentials", "set", "--profile", "p", "--secret-id", "AKIDx", stdin="k-000000000000\n"
    )
    assert stored.returncode == 0, (
        stored.stderr
    )  # something to be locked away: not a quiet timeout under load
    private_secret_service.lock_default_collection()
    started = time.monotonic()
    run = gme({**env, "GME_TUI_KEYRING_TIMEOUT": "1"}, "credentials", "show", "--profile", "p")
    assert (
        time.monotonic() - started < 20
    )  # a process start and the 1 s timeout, not a hang on the unlock prompt
    assert run.returncode == 1 and "locked" in run.stderr
