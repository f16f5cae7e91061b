"""A real, private Secret Service for tests.

`start_secret_service()` starts a D-Bus session bus of its own (`dbus-daemon`)
and an unlocked `gnome-keyring-daemon --components=secrets` on it, with a fresh
HOME and XDG folders in a temporary directory, and tears both down after. The
user's own keyring and session bus are never touched.

Fixtures (registered in tests/conftest.py):
- `secret_service`: one shared, unlocked service for the test session. Tests
  must use their own service names (see `unique_service`), never lock or stop it.
- `private_secret_service`: a service of the test's own, to lock or kill.
- `keyring_in_process`: points this process (os.environ and python keyring's
  backend choice) at the shared service for the test, and restores both after.

A machine without `dbus-daemon`, `gnome-keyring-daemon` or SecretStorage skips
the tests that use them, with the reason shown (`pytest -ra`).

For a subprocess (the CLI, a script), pass `service.subprocess_env()`: the
current environment with the service's bus and folders, and without the
variables that would pick another keyring or credentials.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BINARIES = {
    "dbus-daemon": "dbus-daemon (Debian: dbus-daemon, or dbus)",
    "gnome-keyring-daemon": "gnome-keyring-daemon (Debian: gnome-keyring)",
}
SECRETS_BUS_NAME = "org.freedesktop.secrets"
PASSWORD = "gme-tui-test-login"

# Variables a subprocess must not inherit: they would choose another keyring,
# reach the real desktop (an unlock prompt on the developer's screen), or give
# credentials that hide the keyring's.
SCRUBBED = (
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "GNOME_KEYRING_CONTROL",
    "SSH_AUTH_SOCK",
    "PYTHON_KEYRING_BACKEND",
    "KEYRING_PROPERTY_PREFERRED_COLLECTION",
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_SESSION_TOKEN",
)


def missing_reason() -> str | None:
    """Why this machine cannot run a private Secret Service, or None if it can."""
    missing = [what for binary, what in BINARIES.items() if shutil.which(binary) is None]
    if missing:
        return "a real Secret Service is needed: missing " + ", ".join(missing)
    try:
        import jeepney  # noqa: F401
        import secretstorage  # noqa: F401
    except ImportError as error:
        return f"a real Secret Service is needed: python package missing ({error.name}; pip install SecretStorage)"
    return None


def unique_service() -> str:
    """A keyring service name of one test, so tests sharing a daemon never see each other's entries."""
    return f"gme-tui-test-{uuid.uuid4().hex[:12]}"


def home_dirs(root: Path) -> dict[str, str]:
    """HOME and XDG variables that put every per-user file under `root`."""
    home = root / "home"
    dirs = {
        "HOME": home,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_RUNTIME_DIR": root / "run",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    (root / "run").chmod(0o700)
    return {name: str(path) for name, path in dirs.items()}


def scrubbed_environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(extra)
    return env


@dataclass
class SecretService:
    root: Path
    env: dict[str, str]  # HOME, XDG_* and DBUS_SESSION_BUS_ADDRESS of this service
    bus: subprocess.Popen
    daemon: subprocess.Popen
    log: Path
    _stopped: bool = field(default=False, repr=False)

    @property
    def address(self) -> str:
        return self.env["DBUS_SESSION_BUS_ADDRESS"]

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        """A whole environment for a subprocess that should use this service."""
        return scrubbed_environ(**self.env, **extra)

    @contextmanager
    def connection(self):
        """A blocking jeepney connection to this service's bus (os.environ untouched)."""
        from jeepney.io.blocking import open_dbus_connection

        with closing(open_dbus_connection(bus=self.address)) as conn:
            yield conn

    def has_owner(self) -> bool:
        from jeepney.bus_messages import message_bus
        from jeepney.wrappers import unwrap_msg

        with self.connection() as conn:
            return bool(unwrap_msg(conn.send_and_get_reply(message_bus.NameHasOwner(SECRETS_BUS_NAME)))[0])

    def lock_default_collection(self) -> None:
        """Lock the default collection, as a screen lock or a timeout would."""
        import secretstorage

        with self.connection() as conn:
            collection = secretstorage.get_default_collection(conn)
            collection.lock()
            assert collection.is_locked()

    def default_collection_locked(self) -> bool:
        import secretstorage

        with self.connection() as conn:
            return secretstorage.get_default_collection(conn).is_locked()

    def kill_bus(self) -> None:
        """Kill the D-Bus daemon (SIGKILL): clients then find the bus gone."""
        self.bus.kill()
        self.bus.wait(timeout=5)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for proc in (self.daemon, self.bus):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (self.daemon, self.bus):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def start_secret_service(password: str = PASSWORD, ready_within: float = 10.0) -> SecretService:
    """Start a private bus and an unlocked gnome-keyring on it; `pytest.skip` if the machine cannot."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    # A short root: the bus socket path must fit in sun_path (108 bytes).
    root = Path(tempfile.mkdtemp(prefix="gme-ss-"))
    env = home_dirs(root)
    log = root / "daemons.log"
    base = scrubbed_environ(**env)
    socket = root / "run" / "bus"
    with open(log, "ab") as log_file:
        bus = subprocess.Popen(
            [
                "dbus-daemon",
                "--session",
                "--nofork",
                "--nopidfile",
                f"--address=unix:path={socket}",
                "--print-address=1",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=base,
            text=True,
        )
        address = bus.stdout.readline().strip() if bus.stdout else ""
        if bus.stdout:
            bus.stdout.close()
        if not address:
            bus.kill()
            bus.wait()
            text = log.read_text(errors="replace")[-500:]
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail(f"dbus-daemon printed no address: {text}")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        daemon = subprocess.Popen(
            [
                "gnome-keyring-daemon",
                "--foreground",
                "--unlock",
                "--components=secrets",
                f"--control-directory={root / 'run' / 'keyring'}",
            ],
            stdin=subprocess.PIPE,
            stdout=log_file,
            stderr=log_file,
            env=scrubbed_environ(**env),
        )
    assert daemon.stdin is not None
    daemon.stdin.write(password.encode())
    daemon.stdin.close()  # end of the password: --unlock reads stdin to its end
    service = SecretService(root, env, bus, daemon, log)
    deadline = time.monotonic() + ready_within
    try:
        while not service.has_owner():
            if daemon.poll() is not None or time.monotonic() > deadline:
                text = log.read_text(errors="replace")[-800:]
                pytest.fail(f"gnome-keyring-daemon did not come up on the private bus: {text}")
            time.sleep(0.02)
    except BaseException:
        service.stop()
        raise
    return service


@contextmanager
def running_secret_service() -> Iterator[SecretService]:
    service = start_secret_service()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="session")
def secret_service() -> Iterator[SecretService]:
    """One shared, unlocked Secret Service for the session (skips, with the reason, where there is none)."""
    with running_secret_service() as service:
        yield service


@pytest.fixture
def private_secret_service() -> Iterator[SecretService]:
    """A Secret Service of this test's own, free to lock or kill."""
    with running_secret_service() as service:
        yield service


def forget_detection() -> None:
    """Make python keyring look at the backends' viability again (it caches it per process)."""
    from keyring.backend import get_all_keyring

    vars(get_all_keyring).pop("saved_result", None)


@contextmanager
def keyring_choice_restored() -> Iterator[None]:
    """python keyring's choice of backend (process-wide) put back as it was after the block."""
    import keyring.core

    previous = keyring.core._keyring_backend  # None if never chosen: then it is chosen again later
    try:
        yield
    finally:
        keyring.core._keyring_backend = previous
        forget_detection()


@contextmanager
def keyring_pointed_at(service: SecretService, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """This process's environment and python keyring's choice of backend, aimed at `service`."""
    import keyring.core

    for name in SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    for name, value in service.env.items():
        monkeypatch.setenv(name, value)
    with keyring_choice_restored():
        forget_detection()  # viability is computed once per process; recompute it with this bus
        keyring.core.init_backend()
        yield service


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No keyring backend in this process, as PYTHON_KEYRING_BACKEND=...fail.Keyring at a
    process's start gives: keyring reads that variable only when it first chooses, which
    an earlier test may have done already."""
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with keyring_choice_restored():
        keyring.core.init_backend()
        yield


@pytest.fixture
def keyring_in_process(
    secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretService]:
    """The shared service, used by python keyring in this process for the test."""
    with keyring_pointed_at(secret_service, monkeypatch) as service:
        yield service
