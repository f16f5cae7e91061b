"""The command line under fuzz: thousands of plausible, hostile argument lists.

Each runs in-process through `gme_tui.cli.main` with the history and the settings
in tmp and the endpoint a loopback server that counts what reaches it, so nothing
ever leaves the machine. Whatever the arguments, gme-tui ends with a documented
exit code, never a traceback, and sends nothing when it says the input is invalid.

What is generated is kept from reaching anything real: an `--endpoint` or a
`--data-dir` is only ever one of the bad values below (never a host name or a
relative folder), the emulator is only ever given a port it must refuse, and
what runs for long (the console with no command, --demo) is not generated.
"""

from __future__ import annotations

import contextlib
import io
import os

import pytest
from hostile_server import HostileServer, http_answer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from gme_tui.cli import main
from gme_tui.emulator import DEMO_BIZ_ID, DEMO_SECRET_ID, DEMO_SECRET_KEY
from gme_tui.options import parse_region

EXIT_CODES = {0, 1, 2, 3, 4, 5, 130}

#: a service error, answered at once: a send ends fast with exit 3
ANSWER = http_answer(
    b'{"Response":{"Error":{"Code":"InvalidParameter","Message":"no [b]markup[/b] \\u001b[2J"},'
    b'"RequestId":"fuzz"}}'
)

HOSTILE = [
    "",
    " ",
    "\t",
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;pwned\x07",
    "a\r\nX-Injected: 1",
    "\u202eevil",
    "\u200b",
    "\udcff",  # a byte of argv that is not UTF-8
    "[bold]x[/bold]",
    "[/]",
    "[link=file:///etc/passwd]x[/link]",
    "١٠",
    "１０",
    "1_0",
    "1e3",
    "inf",
    "nan",
    "-1",
    "0",
    "00",
    "+5",
    "0x10",
    "9" * 5000,
    "x" * 5000,
    "ап",
    "\U0001f600",
    "--help",
    "-",
    "%s%n",
    "{}",
]
DIGITS = ["1", "10001", str(DEMO_BIZ_ID), str(2**64 - 1), str(2**64), "446192236330927912"]
ROOMS = ["1987", "lobby", "r" * 127, "r" * 128]
MODES = ["1", "2", "3", "single", "mixed", "both", "4", "SINGLE"]
ID_LISTS = ["10001", "10001,10002", "10001 10001", " ".join(str(10001 + n) for n in range(21)), "alice", ""]

#: never a host or a folder that could be real: only values that must be refused
BAD_ENDPOINTS = [
    "",
    " ",
    "ftp://x",
    "http://",
    "https://a b",
    "http://[::1",
    "http://127.0.0.1:0",
    "http://u:p@127.0.0.1:1",
    "http://127.0.0.1:1/path",
    "\x1b[31m",
    "http://127.0.0.1:99999",
]
BAD_FOLDERS = ["", " ", "\x00", "/tmp/a\nb", "\x1b[2J"]
#: the emulator never starts listening: its --port is always one it must refuse
BAD_PORTS = ["١٠", "１０", "1_0", "99999", "65536", "-1", "abc", "", " ", "9" * 5000, "\x1b[2J"]


def value(*plausible: list[str]) -> st.SearchStrategy[str]:
    """Mostly a plausible value (so that lists get as far as the wire), else a hostile one."""
    good = st.sampled_from([v for group in plausible for v in group])
    return st.one_of(good, good, good, st.sampled_from(HOSTILE), st.text(max_size=40))


GLOBALS = {
    "--profile": value(["default", "prod", "__profiles__", "a" * 65]),
    "--region": value(["ap-guangzhou", "ap-shanghai", "AP-GUANGZHOU", "ap-", "ap guangzhou"]),
    "--language": value(["zh-CN", "en-US"]),
    "--timeout": value(["10", "0.5", "300", "301", ".5", "5."]),
    "--endpoint": st.sampled_from(BAD_ENDPOINTS),
    "--data-dir": st.sampled_from(BAD_FOLDERS),
}
BIZ = value(DIGITS)
LISTS = {"--allow": value(ID_LISTS), "--block": value(ID_LISTS)}
FLAGS = ["--relaxed-ids", "--dry-run"]
COMMANDS = {
    "start": {"--biz-id": BIZ, "--room-id": value(ROOMS), "--mode": value(MODES), **LISTS},
    "stop": {"--biz-id": BIZ, "--task-id": value(DIGITS)},
    "describe-task": {"--biz-id": BIZ, "--room-id": value(ROOMS)},
    "describe-record": {"--biz-id": BIZ, "--task-id": value(DIGITS)},
    "modify": {"--biz-id": BIZ, "--task-id": value(DIGITS), "--mode": value(MODES), **LISTS},
    "history": {"--limit": value(["1", "20", "1000000", "1000001"])},
    "credentials": {},
    "emulator": {},
}
OUTPUT = st.sampled_from(["text", "json"]) | st.sampled_from(HOSTILE)


@st.composite
def options(draw: st.DrawFn, choices: dict[str, st.SearchStrategy[str]], tenths: int) -> list[str]:
    """Each option with a chance of `tenths` in ten, now and then twice (the later wins), in any order."""
    pairs = []
    for name in sorted(choices):
        for _ in range(draw(st.sampled_from([1] * 9 + [2]))):
            if draw(st.integers(0, 9)) < tenths:
                pairs.append([name, draw(choices[name])])
    return [part for pair in draw(st.permutations(pairs)) for part in pair]


@st.composite
def argument_lists(draw: st.DrawFn) -> list[str]:
    argv = draw(options(GLOBALS, 1))
    command = draw(st.sampled_from(sorted(COMMANDS)))
    if command == "credentials":
        action = draw(st.sampled_from(["set", "show", "delete", "list", "import-tccli", "bogus"]))
        argv += [command, action]
        extra = {"--profile": GLOBALS["--profile"]}
        if action == "set":
            extra["--secret-id"] = value(["AKIDx", ""])
        if action == "import-tccli":
            extra["--tccli-profile"] = value(["default"])
        return argv + draw(options(extra, 5))
    if command == "emulator":
        ports = st.sampled_from(BAD_PORTS)
        extra = {"--host": value(["127.0.0.1"]), "--fault": value(["drop:1@StartRecord", "delay=x"])}
        return [*argv, command, *draw(options(extra, 3)), "--port", draw(ports)]
    argv.append(command)
    argv += draw(options(COMMANDS[command], 9))
    if command in ("start", "modify"):
        argv += draw(st.lists(st.sampled_from(FLAGS), max_size=2, unique=True))
    if draw(st.booleans()):
        argv += ["--output", draw(OUTPUT)]
    if draw(st.integers(0, 30)) == 0:  # now and then a word argparse does not know
        argv.append(draw(st.sampled_from(HOSTILE)))
    return argv


@pytest.fixture
def sandbox(no_keyring, tmp_path, monkeypatch):
    """The loopback server, and an environment in which nothing real can be reached."""
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", DEMO_SECRET_ID)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", DEMO_SECRET_KEY)
    for name in ("TENCENTCLOUD_SESSION_TOKEN", "TENCENTCLOUD_REGION", "GME_TUI_PROFILE", "GME_TUI_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GME_TUI_CONFIG", str(tmp_path / "config" / "settings.yaml"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # import-tccli reads ~/.tccli
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.chdir(tmp_path)
    with HostileServer(ANSWER) as server:
        yield server, tmp_path


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@settings(
    deadline=None,
    max_examples=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=argument_lists())
def test_any_argument_list_ends_with_a_documented_code_and_no_traceback(sandbox, argv):
    server, tmp_path = sandbox
    before = len(server.requests)
    code, out, err = run(["--endpoint", server.url, "--data-dir", str(tmp_path / "data"), *argv])
    event(f"exit {code}" + (", sent" if len(server.requests) > before else ""))
    assert "Traceback" not in out + err
    assert "internal error" not in err, err
    assert code in EXIT_CODES, (code, err)
    if code == 2:
        assert len(server.requests) == before, err
    assert not any(ch in err for ch in "\x1b\x07\x00"), err  # no raw escape reaches the terminal
    for request in server.requests[before:]:  # what went out keeps the rules it was checked by
        region = header(request, b"x-tc-region")
        assert region is None or parse_region(region) == region, region
    assert len(err) < 20_000  # nothing echoed whole, whatever was given


def header(request: bytes, name: bytes) -> str | None:
    head = request.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        key, _, text = line.partition(b":")
        if key.strip().lower() == name:
            return text.strip().decode("latin-1")
    return None


def describe(sandbox, *global_options: str, endpoint: bool = True) -> tuple[int, str]:
    """`describe-task` of a good room, after `global_options`: exit code and stderr."""
    server, tmp_path = sandbox
    aimed = ["--endpoint", server.url] if endpoint else []
    argv = [*aimed, "--data-dir", str(tmp_path / "data"), *global_options]
    code, _, err = run([*argv, "describe-task", "--biz-id", str(DEMO_BIZ_ID), "--room-id", "1987"])
    return code, err


def test_the_fuzz_reaches_the_server_at_all(sandbox):
    """The counting above means something only if a good argument list does get sent."""
    code, err = describe(sandbox)
    assert code == 3, err
    assert len(sandbox[0].requests) == 1


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--region", "ap\r\nX-Injected: 1"], "--region"),
        (["--region", "ап"], "--region"),
        (["--region", ""], "--region"),
        (["--timeout", "1_0"], "timeout"),
        (["--timeout", "١٠"], "timeout"),
        (["--timeout", ""], "timeout"),
        (["--profile", ""], "--profile"),
        (["--data-dir", ""], "--data-dir"),
    ],
)
def test_bad_global_options_exit_2_naming_the_option_and_send_nothing(sandbox, argv, named):
    code, err = describe(sandbox, *argv)
    assert code == 2 and f"{named}: " in err and "\r" not in err
    assert sandbox[0].requests == []


def test_an_empty_endpoint_is_an_error_not_the_real_service(sandbox):
    code, err = describe(sandbox, "--endpoint", "", endpoint=False)
    assert code == 2 and "endpoint: is empty" in err


def test_the_region_from_the_environment_is_named(sandbox, monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_REGION", "ap\r\nX-Injected: 1")
    code, err = describe(sandbox)
    assert code == 2 and "TENCENTCLOUD_REGION: " in err
    assert sandbox[0].requests == []


def test_argparse_errors_return_2_and_show_no_raw_escape(sandbox):
    code, _, err = run(["history", "\x1b]0;pwned\x07" + "x" * 5000])
    assert code == 2
    assert "\x1b" not in err and "\x07" not in err and len(err) < 2000


# --- beside the fuzz: hostile files and standard input, from the command line -----------------


@pytest.mark.parametrize("kind", ["deep theme", "fifo", "device"])
def test_a_hostile_settings_file_warns_and_every_command_goes_on(sandbox, kind):
    path = os.environ["GME_TUI_CONFIG"]  # the sandbox's
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if kind == "deep theme":
        with open(path, "w") as handle:
            handle.write("theme: " + "[" * 100_000 + "\n")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        os.symlink("/dev/zero", path)
    code, err = describe(sandbox)
    assert code == 3, err  # sent, and answered: the file cost a warning, not the command
    assert f"gme-tui: warning: {path}" in err and "using the default settings" in err


def test_a_flood_on_standard_input_is_refused_as_a_key(sandbox, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("k" * 20_000_000))
    code, _, err = run(["credentials", "set", "--profile", "p", "--secret-id", "AKIDx"])
    assert code == 2 and "SecretKey: must be at most 256 characters" in err


def test_a_closed_standard_input_cannot_run_and_says_so(sandbox, monkeypatch):
    stdin = io.StringIO()
    stdin.close()
    monkeypatch.setattr("sys.stdin", stdin)
    code, _, err = run(["credentials", "set", "--profile", "p", "--secret-id", "AKIDx"])
    assert code == 1 and "cannot read the SecretKey from standard input" in err


def test_a_settings_path_with_escapes_is_shown_escaped(sandbox, monkeypatch, tmp_path):
    path = tmp_path / "conf\x1b]0;pwned\x07" / "settings.yaml"
    path.parent.mkdir()
    path.write_text("colour: red\n")
    monkeypatch.setenv("GME_TUI_CONFIG", str(path))
    code, err = describe(sandbox)
    assert code == 3 and "warning: " in err and "unknown key 'colour'" in err
    assert "\x1b" not in err and "\x07" not in err and "\\u001b]0;pwned\\u0007" in err
