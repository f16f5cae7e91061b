"""A hostile answer to a one-shot command: the right exit code, the check to run, the right history row.

A StartRecord that reached the service and got back broken bytes must never be
an "internal error" (exit 1) or a pending row: it is a bad answer (exit 4) that
says to check before retrying, or an outcome unknown (exit 5).
"""

from __future__ import annotations

import pytest
from hostile_server import HOSTILE, HostileServer
from test_cli import BIZ, rows
from test_cli import cli as cli  # the fixture (an explicit re-export: its name is used as a parameter)

#: the exit code and the history's outcome each hostile answer must come to
EXPECTED = {
    "broken-gzip": (4, "bad_answer"),
    "deep-json": (4, "bad_answer"),
    "not-http": (4, "bad_answer"),
    "cut-mid-body": (4, "bad_answer"),
    "gzip-bomb": (4, "bad_answer"),
    "closed-with-nothing": (5, "unknown"),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_a_hostile_answer_to_start_says_check_before_retrying(cli, case):
    reply, _error_type, words = HOSTILE[case]
    code_wanted, outcome_wanted = EXPECTED[case]
    with HostileServer(reply) as server:
        code, out, err = cli(
            "start", "--biz-id", BIZ, "--room-id", "hostile", "--mode", "1", endpoint=server.url
        )
    assert code == code_wanted, err
    assert "internal error" not in err
    assert words in err
    assert "Check with: gme-tui " in err
    assert f" describe-task --biz-id {BIZ} --room-id hostile" in err  # after the options that aimed it
    [row] = rows(cli.data_dir)
    assert row.outcome == outcome_wanted
    assert len(server.requests) == 1


def test_a_hostile_answer_to_a_read_is_exit_4_and_safe_to_retry(cli):
    reply, _error_type, _words = HOSTILE["broken-gzip"]
    with HostileServer(reply) as server:
        code, _out, err = cli("describe-task", "--biz-id", BIZ, "--room-id", "hostile", endpoint=server.url)
    assert code == 4, err
    assert "safe to retry" in err
    assert [row.outcome for row in rows(cli.data_dir)] == ["bad_answer"]
