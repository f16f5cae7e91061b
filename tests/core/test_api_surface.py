"""`gme_tui.api` says what it offers: the names in `__all__`, and only those, are its surface."""

from __future__ import annotations

import subprocess
import sys

import gme_tui.api as api

EXPECTED = {
    # the five actions and what they answer
    "ACTIONS",
    "Action",
    "StartRecord",
    "StopRecord",
    "DescribeTaskInfo",
    "DescribeRecordInfo",
    "ModifyRecordInfo",
    "Result",
    "StartRecordResult",
    "TaskInfoResult",
    "RecordInfoResult",
    "RecordInfo",
    "ResponseShapeError",
    # the rules of the fields
    "FieldError",
    "FieldWarning",
    "Checked",
    "RecordMode",
    "Subscription",
    "check_start",
    "check_modify",
    # signing and sending
    "SigningKey",
    "GmeClient",
    "SyncGmeClient",
    "Prepared",
    "RateLimiter",
    # how a call can end
    "OutcomeKind",
    "GmeError",
    "ServiceError",
    "TransportError",
    "NotSentError",
    "OutcomeUnknownError",
    "BadAnswerError",
    "Explanation",
    "explain",
}


def test_the_exported_names_are_the_expected_ones():
    assert set(api.__all__) == EXPECTED
    assert len(api.__all__) == len(set(api.__all__))


def test_every_exported_name_resolves():
    for name in api.__all__:
        assert getattr(api, name) is not None, name


def test_each_name_loads_its_module_only_when_asked_for():
    """The console imports a rule at start-up; the actions and the HTTP stack wait for a send."""
    code = (
        "import sys, gme_tui.api as api\n"
        "def loaded(): return sorted(m for m in sys.modules if m.startswith('gme_tui.api.') or m == 'httpx')\n"
        "print(loaded())\n"
        "api.StartRecord\n"
        "print('httpx' in sys.modules, 'gme_tui.api.actions' in sys.modules)\n"
        "api.GmeClient\n"
        "print('httpx' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["[]", "False True", "True"]
