"""The command line: the console by default, one-shot commands over the same core.

main.py         entry point: arguments → context → the command
parser.py       the arguments, and the flags they give the context
commands.py     one function per command
recordings.py   `recordings`, `watch` and `reconcile`: the recordings gme-tui knows
credentials.py  `gme-tui credentials ...`
output.py       how results, failures and the history print (text or JSON)
exits.py        the exit codes and `CannotRun`
"""

from .main import main

__all__ = ["main"]
