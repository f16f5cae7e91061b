"""The process around the command line: `python -m gme_tui` and the `gme-tui` script.

Apart from `gme_tui.cli` so that the collector is off before the command line's
own imports run: they alone set off collections worth a few milliseconds.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn


def entry() -> NoReturn:
    """`main` as a process of its own.

    A one-shot command allocates little and ends soon, so it runs with the garbage
    collector off (~10 ms of collections otherwise) and, once its output is flushed
    and its history closed, ends with `os._exit`: the interpreter's teardown (every
    module freed, a last collection) costs ~20 ms and writes nothing. A long-running
    command (`cli.main.long_running`: the console, the emulator) turns the collector
    back on and exits as usual. `main`, which tests call in-process, does neither.
    """
    if sys.argv[1:] == ["--version"]:  # said before the command line's imports (~40 ms) are paid
        from . import __version__

        print(f"gme-tui {__version__}")
        sys.exit(0)
    gc.disable()
    from .cli.main import main

    code = main()
    if gc.isenabled():
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader gone or a full disk: `main` has said so already
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
