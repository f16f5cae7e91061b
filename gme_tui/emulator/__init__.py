"""A local stand-in for the GME recording service (Tencent Cloud API 3.0, version 2018-07-11).

Why it exists: the console must be tried, demonstrated and tested without a
cloud account, and its hardest paths (a 502, a cut answer, a dropped socket
after the service acted) cannot be provoked on the real service at will.

- ``state``: tasks, their statuses, the rate limit and the service's parameter checks.
- ``store``: where the tasks are kept: in memory, or in a SQLite file emulators share.
- ``faults``: the failures that can be armed.
- ``server``: signature verification, ``Emulator`` and ``run_forever``.
- ``transport``: HTTP (imported when an emulator starts serving).
"""

from gme_tui.demo import DEMO_BIZ_ID, DEMO_KEY, DEMO_SECRET_ID, DEMO_SECRET_KEY

from .faults import KINDS as FAULT_KINDS
from .faults import Fault, FaultPlan, parse_spec
from .server import Emulator, check_signature, run_forever
from .state import ApiError, RecordingService

__all__ = [
    "DEMO_BIZ_ID",
    "DEMO_KEY",
    "DEMO_SECRET_ID",
    "DEMO_SECRET_KEY",
    "FAULT_KINDS",
    "ApiError",
    "Emulator",
    "Fault",
    "FaultPlan",
    "RecordingService",
    "check_signature",
    "parse_spec",
    "run_forever",
]
