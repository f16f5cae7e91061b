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


def test_the_package_loads_the_http_stack_only_when_the_client_is_asked_for():
    code = (
        "import sys, gme_tui.api as api\n"
        "before = 'httpx' in sys.modules\n"
        "api.GmeClient\n"
        "print(before, 'httpx' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True"]
