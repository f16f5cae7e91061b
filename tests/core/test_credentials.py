"""Credentials: the environment, the OS keyring (a real, private Secret Service), tccli files.

No mock of keyring: the store talks to gnome-keyring over a D-Bus bus of the test
session's own (tests/keyring_service.py). Cases that change python keyring's
global choice of backend run in a subprocess, so that choice never leaks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import pytest
from keyring.backends import SecretService as secret_service_backend
from keyring_service import home_dirs, keyring_pointed_at, scrubbed_environ, unique_service

from gme_tui.api.fields import FieldError
from gme_tui.api.signing import SigningKey
from gme_tui.credentials import (
    INDEX_USERNAME,
    SECRET_ID_ENV,
    SECRET_KEY_ENV,
    TIMEOUT_ENV,
    TOKEN_ENV,
    CredentialsMissing,
    KeyringStore,
    KeyringUnavailable,
    Resolved,
    check_profile,
    mask,
    read_tccli,
    resolve,
)

REPO = Path(__file__).resolve().parents[2]
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLEKEY"  # shaped like a SecretKey; a test value only
KEY = SigningKey("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", SECRET_KEY)
OTHER = SigningKey("AKIDotherotherotherotherother0000", "OtherSecretKeyOtherSecretKey000", "tok-123")


def says_how_to_go_on(message: str, *, secret_service: bool = True) -> bool:
    """The message ends with a way on: a Secret Service (when that is what is missing) or the environment."""
    _, _, way = message.partition("To go on, ")
    wanted = [f"{SECRET_ID_ENV} and {SECRET_KEY_ENV}"] + (
        ["install and unlock a Secret Service"] if secret_service else []
    )
    return all(part in way for part in wanted)


# --- the store against a real Secret Service ----------------------------------------


@pytest.fixture
def store(keyring_in_process) -> KeyringStore:
    return KeyringStore(service=unique_service(), timeout=5)


def test_round_trip_set_get_list_delete(store):
    assert store.get("work") is None
    assert store.list_profiles() == []
    store.set("work", KEY)
    store.set("home.2", OTHER)
    assert store.get("work") == KEY
    assert store.get("home.2") == OTHER
    assert store.list_profiles() == ["home.2", "work"]
    assert store.delete("work") is True
    assert store.get("work") is None
    assert store.list_profiles() == ["home.2"]
    assert store.delete("work") is False


def test_overwrite_replaces_the_whole_profile(store):
    store.set("p", OTHER)
    store.set("p", KEY)
    assert store.get("p") == KEY  # the old token is gone too: one entry, written at once
    assert store.list_profiles() == ["p"]


def test_one_compact_entry_per_profile_and_an_index_without_secrets(store):
    store.set("p", OTHER)
    raw = keyring.get_password(store.service, "p")
    assert raw == json.dumps(
        {"secret_id": OTHER.secret_id, "secret_key": OTHER.secret_key, "token": "tok-123"},
        separators=(",", ":"),
    )
    index = keyring.get_password(store.service, INDEX_USERNAME)
    assert json.loads(index) == ["p"]
    assert OTHER.secret_key not in index


def test_a_real_secret_store_is_used_even_with_keyrings_alt_installed(store):
    # With keyrings.alt importable, python keyring chains the Secret Service with a plaintext
    # file backend; the store must take the Secret Service from the chain.
    assert store.backend_name() == "keyring.backends.SecretService.Keyring"


def test_an_entry_gme_tui_did_not_write_is_named_not_crashed_on(store):
    keyring.set_password(store.service, "odd", "not json")
    with pytest.raises(CredentialsMissing, match="profile odd is not one gme-tui wrote"):
        store.get("odd")


# --- resolve ---------------------------------------------------------------------


def test_environment_wins_over_the_keyring_and_says_so(store):
    store.set("work", KEY)
    env = {SECRET_ID_ENV: "AKIDfromenv", SECRET_KEY_ENV: "envkey", TOKEN_ENV: "envtoken"}
    assert resolve("work", store, environ=env) == Resolved(
        SigningKey("AKIDfromenv", "envkey", "envtoken"), "environment"
    )
    assert resolve("work", store, environ={}) == Resolved(KEY, "keyring (profile work)")
    # Half an environment is no environment: the keyring entry is used.
    assert resolve("work", store, environ={SECRET_ID_ENV: "AKIDfromenv"}).source == "keyring (profile work)"


def test_neither_environment_nor_keyring_names_both_ways(store):
    with pytest.raises(CredentialsMissing) as caught:
        resolve("work", store, environ={SECRET_KEY_ENV: "x"})
    message = str(caught.value)
    assert SECRET_ID_ENV in message and SECRET_KEY_ENV in message
    assert "gme-tui credentials set --profile work --secret-id ID" in message
    assert f"{SECRET_KEY_ENV} is set but not the other" in message


def test_the_environment_needs_no_keyring_at_all():
    store = KeyringStore(timeout=0.01)  # would time out at once if it were asked
    env = {SECRET_ID_ENV: "AKIDx", SECRET_KEY_ENV: "k"}
    assert resolve("default", store, environ=env).source == "environment"


# --- names and values ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "a" * 65, "two words", "a/b", "../x", "é", "tab\t", INDEX_USERNAME])
def test_a_profile_name_breaking_the_rule_is_refused_before_the_keyring(name):
    store = KeyringStore(timeout=0.01)
    with pytest.raises(FieldError) as caught:
        store.get(name)
    assert caught.value.field == "--profile"
    with pytest.raises(FieldError):
        resolve(name, store, environ={})


@pytest.mark.parametrize("name", ["default", "a", "prod-eu_2.b", "x" * 64])
def test_profile_names_within_the_rule(name):
    assert check_profile(name) == name


def test_an_empty_or_pasted_wrong_key_is_refused_without_echoing_it():
    store = KeyringStore(timeout=0.01)
    with pytest.raises(FieldError, match="SecretKey: must not be empty"):
        store.set("p", SigningKey("AKIDx", ""))
    with pytest.raises(FieldError, match="SecretKey: contains a space") as caught:
        store.set("p", SigningKey("AKIDx", "secret-with-newline\n"))
    assert "secret-with-newline" not in str(caught.value)


def test_mask_shows_at_most_four_characters():
    assert mask(SECRET_KEY) == f"Gu5t… ({len(SECRET_KEY)} chars)"
    assert mask("short-key") == "… (9 chars)"
    assert mask("") == "(empty)"
    for secret in ("abcdefghijkl", SECRET_KEY, "x" * 200):
        shown = mask(secret).split("…")[0]
        assert len(shown) <= 4


def test_the_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(TIMEOUT_ENV, "0.25")
    assert KeyringStore().timeout == 0.25
    monkeypatch.setenv(TIMEOUT_ENV, "soon")
    with pytest.raises(FieldError, match=TIMEOUT_ENV):
        KeyringStore()


def test_importing_the_module_loads_no_keyring_and_no_textual():
    code = (
        "import sys, gme_tui.credentials\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keyring', 'textual', 'secretstorage')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


# --- tccli ------------------------------------------------------------------------------


def write_tccli(home: Path, name: str, text: str) -> Path:
    path = home / ".tccli" / f"{name}.credential"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_read_tccli_from_a_home(tmp_path):
    write_tccli(tmp_path, "default", json.dumps({"secretId": KEY.secret_id, "secretKey": SECRET_KEY}))
    write_tccli(
        tmp_path,
        "sts",
        json.dumps({"secretId": "AKIDsts", "secretKey": "k2", "token": "t2", "type": "assume-role"}),
    )
    assert read_tccli(home=tmp_path) == KEY
    assert read_tccli("sts", home=tmp_path) == SigningKey("AKIDsts", "k2", "t2")


def test_read_tccli_takes_the_home_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_tccli(tmp_path, "default", json.dumps({"secretId": "AKIDh", "secretKey": "kh"}))
    assert read_tccli() == SigningKey("AKIDh", "kh")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "no tccli credentials at .*tccli configure --profile default"),
        ('{"secretId": "AKIDx", "secretKey": ', r"is not valid JSON \(line 1"),
        ('["AKIDx"]', "is not a JSON object"),
        (json.dumps({"secretId": "AKIDx"}), "has no secretKey"),
        (json.dumps({"secretKey": SECRET_KEY, "secretId": ""}), "has no secretId"),
    ],
)
def test_read_tccli_errors_are_clear_and_show_no_secret(tmp_path, text, expected):
    if text is not None:
        write_tccli(tmp_path, "default", text)
    with pytest.raises(CredentialsMissing, match=expected) as caught:
        read_tccli(home=tmp_path)
    assert SECRET_KEY not in str(caught.value)


def test_read_tccli_checks_the_profile_name(tmp_path):
    with pytest.raises(FieldError) as caught:
        read_tccli("../../etc/passwd", home=tmp_path)
    assert caught.value.field == "--tccli-profile"


# --- refused and failing keyrings (subprocesses: python keyring's choice is global) -------

SCRIPT = """
import json, sys, time
from gme_tui.api.signing import SigningKey
from gme_tui.credentials import KeyringStore, resolve
store = KeyringStore(service=sys.argv[1])
results = {}
for name, call in [
    ("set", lambda: store.set("p", SigningKey("AKIDsub", sys.argv[2]))),
    ("get", lambda: store.get("p")),
    ("list", store.list_profiles),
    ("resolve", lambda: resolve("p", store, environ={}).source),
    ("backend", store.backend_name),
]:
    started = time.monotonic()
    try:
        results[name] = {"ok": repr(call())}
    except Exception as error:
        results[name] = {"error": type(error).__name__, "message": str(error)}
    results[name]["seconds"] = time.monotonic() - started
print(json.dumps(results))
"""


def run_store(env: dict[str, str], service: str = "gme-tui-test", secret: str = SECRET_KEY) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, service, secret],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    return json.loads(run.stdout)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def holding(root: Path, secret: str) -> list[Path]:
    return [p for p in files_under(root) if secret.encode() in p.read_bytes()]


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        ("keyring.backends.fail.Keyring", "no keyring backend is available"),
        ("keyring.backends.null.Keyring", "the keyring is disabled"),
        ("keyrings.alt.file.PlaintextKeyring", "keeps secrets in a file of its own"),
    ],
)
def test_a_missing_or_untrusted_backend_is_refused_and_nothing_is_written(tmp_path, backend, says):
    if backend.startswith("keyrings.alt"):
        pytest.importorskip("keyrings.alt", reason="keyrings.alt is in the test extra")
    env = scrubbed_environ(**home_dirs(tmp_path), PYTHON_KEYRING_BACKEND=backend)
    results = run_store(env)
    for name in ("set", "get", "list", "resolve"):
        assert results[name]["error"] == "KeyringUnavailable", results[name]
        message = results[name]["message"]
        assert says in message
        assert says_how_to_go_on(message), message
        assert f"PYTHON_KEYRING_BACKEND={backend} chose it" in message
        assert SECRET_KEY not in message
    assert results["backend"]["ok"].startswith(repr(backend)[:-1] + " (refused")
    assert files_under(tmp_path) == []  # no plaintext file, no "encrypted" file, nothing


def test_a_real_secret_service_in_a_fresh_process_holds_the_key_in_no_file(secret_service):
    # Default detection (keyrings.alt installed or not): the Secret Service is used, and the
    # key is found in no file under HOME and the XDG folders (gnome-keyring's own file is encrypted).
    results = run_store(secret_service.subprocess_env(), service=unique_service())
    assert results["set"] == {"ok": "None", "seconds": results["set"]["seconds"]}
    assert "AKIDsub" in results["get"]["ok"] and SECRET_KEY not in results["get"]["ok"]
    assert results["list"]["ok"] == "['p']"
    assert results["resolve"]["ok"] == "'keyring (profile p)'"
    assert results["backend"]["ok"] == "'keyring.backends.SecretService.Keyring'"
    assert holding(secret_service.root, SECRET_KEY) == []
    assert not (Path(secret_service.env["XDG_DATA_HOME"]) / "python_keyring").exists()


def test_a_locked_collection_comes_back_as_unavailable_within_the_timeout(
    private_secret_service, monkeypatch
):
    with keyring_pointed_at(private_secret_service, monkeypatch):
        store = KeyringStore(service=unique_service(), timeout=5)
        store.set("p", KEY)
        private_secret_service.lock_default_collection()
        monkeypatch.setenv(TIMEOUT_ENV, "2")
        locked = KeyringStore(service=store.service)
        started = time.monotonic()
        with pytest.raises(KeyringUnavailable) as caught:
            locked.get("p")
        assert time.monotonic() - started < 2 + 1
        message = str(caught.value)
        # Headless, the unlock prompt cannot open and is dismissed at once; with a prompt on a
        # screen that nobody answers, the timeout gives up instead. Either way: no hang.
        assert "locked" in message and "unlock it" in message
        assert says_how_to_go_on(message, secret_service=False)
        with pytest.raises(KeyringUnavailable, match="locked"):
            resolve("p", locked, environ={})
        assert (
            resolve("p", locked, environ={SECRET_ID_ENV: "AKIDe", SECRET_KEY_ENV: "k"}).source
            == "environment"
        )
        assert private_secret_service.default_collection_locked()


def test_d_bus_gone_is_named(private_secret_service, monkeypatch):
    with keyring_pointed_at(private_secret_service, monkeypatch):
        store = KeyringStore(service=unique_service(), timeout=5)
        store.set("p", KEY)
        private_secret_service.kill_bus()
        for fresh in (store, KeyringStore(service=store.service, timeout=5)):
            with pytest.raises(KeyringUnavailable) as caught:
                fresh.get("p")
            message = str(caught.value)
            assert "D-Bus" in message and private_secret_service.address in message
            assert says_how_to_go_on(message)
    # A process started after the bus died finds no Secret Service at all, and says why.
    results = run_store(private_secret_service.subprocess_env())
    message = results["get"]["message"]
    assert results["get"]["error"] == "KeyringUnavailable"
    assert "D-Bus" in message and says_how_to_go_on(message)


# --- a keyring that hangs ---------------------------------------------------------------


class HangingKeyring(secret_service_backend.Keyring):
    """A Secret Service whose collection never opens, as when an unlock prompt waits forever."""

    release = threading.Event()

    def get_preferred_collection(self):
        self.release.wait(30)
        raise RuntimeError("released by the test")


# Defining a backend class registers it with python keyring for detection; this one must
# only ever be chosen by hand.
keyring.backend.KeyringBackend._classes.discard(HangingKeyring)


@pytest.fixture
def hanging_keyring():
    previous = keyring.core._keyring_backend
    HangingKeyring.release.clear()
    keyring.set_keyring(HangingKeyring())
    try:
        yield
    finally:
        HangingKeyring.release.set()  # let the abandoned worker threads end
        keyring.core._keyring_backend = previous


@pytest.mark.usefixtures("hanging_keyring")
def test_a_hanging_keyring_never_freezes_the_caller():
    store = KeyringStore(service=unique_service(), timeout=0.3)
    for call in (
        lambda: store.get("p"),
        lambda: store.set("p", KEY),
        store.list_profiles,
        lambda: store.delete("p"),
        lambda: resolve("p", store, environ={}),
    ):
        started = time.monotonic()
        with pytest.raises(KeyringUnavailable) as caught:
            call()
        assert time.monotonic() - started < 0.3 + 5, "the timeout cut the 30 s hang short"
        message = str(caught.value)
        assert "timed out after 0.3 s" in message and "unlock prompt" in message
        assert TIMEOUT_ENV in message and says_how_to_go_on(message, secret_service=False)


def test_the_timeout_applies_from_the_environment_too(monkeypatch, hanging_keyring):
    monkeypatch.setenv(TIMEOUT_ENV, "0.2")
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable, match="timed out after 0.2 s"):
        KeyringStore(service=unique_service()).get("p")
    assert time.monotonic() - started < 0.2 + 5, "the timeout cut the 30 s hang short"


def test_no_daemon_thread_outlives_a_quick_call(store):
    # the threads themselves, not a count: one left by an earlier test may end meanwhile
    before = set(threading.enumerate())

    def newcomers() -> list[threading.Thread]:
        return [thread for thread in threading.enumerate() if thread not in before]

    store.get("p")
    deadline = time.monotonic() + 5
    while newcomers() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert newcomers() == []


def test_the_fixture_env_is_isolated(secret_service):
    assert secret_service.env["HOME"].startswith(str(secret_service.root))
    assert os.environ.get("HOME") != secret_service.env["HOME"]
