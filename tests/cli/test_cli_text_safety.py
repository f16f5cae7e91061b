"""What the command line prints of a hostile answer holds nothing a terminal acts on.

Text output shows such characters as \\uXXXX; JSON output escapes them too (Python's
`json` leaves C1 and bidi controls raw), and stays exactly the same JSON.
"""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from hostile_server import HostileServer, http_answer
from hypothesis import given
from hypothesis import strategies as st
from test_cli import BIZ, rows
from test_cli import cli as cli  # the fixture (an explicit re-export: its name is used as a parameter)

from gme_tui.cli.output import dumps

#: ESC, BEL, DEL, C1 (CSI 0x9b included), bidi controls, a tag character and a lone surrogate
RAW = re.compile("[\x1b\x07\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069\U000e0001\ud800]")


def error(code: str, message: str, request_id: str) -> dict:
    return {"Error": {"Code": code, "Message": message}, "RequestId": request_id}


#: a service error's Response, and a piece of its Code as text output shows it
ERRORS = {
    "escapes": (
        error("\x1b]0;PWNED\x07Failed", "wiped\x1b[2J\x1b[H\x7f", "req-\x9b31m"),
        "\\u001b]0;PWNED\\u0007F",
    ),
    "bidi": (error("Failed\u202eedoC", "\u2066hidden\u2069 \u202dtext", "req-\u202e1"), "Failed\\u202eedoC"),
    "newline": (
        error("Failed\nTaskId 4461", "one\nNext: fake", "req\nTaskId 4461"),
        "Failed\\u000aTaskId 4461",
    ),
    "smuggled": (
        error("Failed\U000e0001", "tags \U000e0041\U000e007f hidden", "req"),
        "Failed\\udb40\\udc01",
    ),
}


def answer(response: dict) -> bytes:
    return http_answer(json.dumps({"Response": response}).encode())


def assert_clean(text: str) -> None:
    raw = sorted({f"U+{ord(ch):04X}" for ch in RAW.findall(text)})
    assert not raw, f"printed raw: {raw}"
    faked = [line for line in text.splitlines() if line.startswith(("TaskId 4461", "Next: fake"))]
    assert not faked, f"a line the answer made up: {faked}"


def start(cli, endpoint: str, *output: str) -> tuple[int, str, str]:
    return cli("start", "--biz-id", BIZ, "--room-id", "r1", "--mode", "2", *output, endpoint=endpoint)


@pytest.mark.parametrize("kind", list(ERRORS))
def test_a_hostile_service_error_prints_escaped_and_its_json_is_exact(cli, kind):
    response, seen = ERRORS[kind]
    with HostileServer(answer(response)) as server:
        status, out, err = start(cli, server.url)
        assert status != 0
        assert_clean(out + err)
        assert seen in err

        status, out, err = start(cli, server.url, "--output", "json")
    assert_clean(out + err)
    assert json.loads(out) == response


@pytest.mark.parametrize("kind", list(ERRORS))
def test_history_prints_a_stored_hostile_code_escaped(cli, kind):
    response, seen = ERRORS[kind]
    with HostileServer(answer(response)) as server:
        start(cli, server.url)
    status, out, err = cli("history")
    assert status == 0, err
    assert_clean(out + err)
    assert seen[:20] in out

    status, out, err = cli("history", "--output", "json")
    assert status == 0, err
    assert_clean(out + err)
    assert json.loads(out) == [row.to_json() for row in rows(cli.data_dir)]  # exactly what is stored


def test_a_success_with_a_hostile_request_id_prints_escaped_and_exact(cli):
    response = {"TaskId": 2**63 + 1, "RequestId": "req-\x1b]0;PWNED\x07\u202e\x85"}
    with HostileServer(answer(response)) as server:
        status, out, err = start(cli, server.url)
        assert status == 0, err
        assert_clean(out + err)
        assert "req-\\u001b]0;PWNED\\u0007\\u202e\\u0085" in out

        status, out, err = start(cli, server.url, "--output", "json")
    assert status == 0, err
    assert_clean(out + err)
    assert json.loads(out) == response


@given(
    st.recursive(st.text() | st.integers(), lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner))
)
def test_json_output_escapes_every_control_and_reads_back_the_same(value):
    printed = dumps(value)
    assert not [ch for ch in printed if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Cs")]
    assert json.loads(printed) == value
    printed.encode("utf-8")  # no lone surrogate left: it can be written out
