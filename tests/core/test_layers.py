"""The layers hold at run time: the headless core never loads Textual or Rich, the API
layer touches no disk, and no module of gme_tui imports itself back in a circle.

The import-linter contracts in pyproject.toml (`lint-imports`) check the same arrows
statically; these tests check what actually lands in `sys.modules`, one fresh
interpreter per module, so that a failure names the module that leaks.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

import gme_tui

PACKAGE = Path(gme_tui.__file__).parent
# The two front ends, and `python -m gme_tui`, which is the command line.
FRONT_ENDS = ("gme_tui.tui", "gme_tui.cli", "gme_tui.__main__")


def _modules(path: Path, prefix: str) -> list[str]:
    """Every module below `path`, found on disk: nothing is imported to list them."""
    found = []
    for info in pkgutil.iter_modules([str(path)], prefix):
        found.append(info.name)
        if info.ispkg:
            found += _modules(path / info.name.rpartition(".")[2], f"{info.name}.")
    return found


def _is_front_end(name: str) -> bool:
    return any(name == front or name.startswith(f"{front}.") for front in FRONT_ENDS)


MODULES = _modules(PACKAGE, "gme_tui.")
HEADLESS = sorted(name for name in MODULES if not _is_front_end(name))
COMMAND_LINE = sorted(name for name in MODULES if name == "gme_tui.cli" or name.startswith("gme_tui.cli."))
API = [name for name in HEADLESS if name == "gme_tui.api" or name.startswith("gme_tui.api.")]


def _loaded_after_import(names: list[str], watched: tuple[str, ...]) -> list[str]:
    """What of `watched` (or below it) a fresh interpreter holds after importing `names`."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"watched = {watched!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.partition('.')[0] in watched or m in watched"
        " or any(m.startswith(w + '.') for w in watched))))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_walk_finds_the_headless_core():
    assert {
        "gme_tui.api.client",
        "gme_tui.context",
        "gme_tui.history",
        "gme_tui.calls",
        "gme_tui.emulator",
    } <= set(HEADLESS)
    assert not [name for name in HEADLESS if name.startswith("gme_tui.tui")]


@pytest.mark.parametrize("module", HEADLESS)
def test_a_headless_module_never_loads_textual_or_rich(module):
    loaded = _loaded_after_import([module], ("textual", "rich"))
    assert loaded == [], f"importing {module} loaded {loaded[:5]}"


def test_the_command_line_loads_no_textual_until_the_console_starts():
    # The console is imported inside the function that starts it, so a one-shot command starts fast.
    assert "gme_tui.cli.main" in COMMAND_LINE
    assert _loaded_after_import(COMMAND_LINE, ("textual", "gme_tui.tui")) == []


def test_the_api_layer_touches_no_disk_or_ui_module():
    watched = (
        "gme_tui.history",
        "gme_tui.settings",
        "gme_tui.credentials",
        "gme_tui.calls",
        "gme_tui.context",
        "gme_tui.paths",
        "gme_tui.config",
        "gme_tui.cli",
        "gme_tui.tui",
        "sqlite3",
        "textual",
        "rich",
    )
    assert "gme_tui.api.client" in API
    assert _loaded_after_import(API, watched) == []


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_anywhere_in_gme_tui():
    # Every import that runs counts, a lazy one inside a function included: it runs on
    # first use and can meet a half-initialised module. Imports under TYPE_CHECKING never
    # run, so they cannot make a cycle at run time (a screen naming its app's class is
    # fine); the import-linter contracts still count them for the direction of the layers.
    graph = grimp.build_graph("gme_tui", exclude_type_checking_imports=True, cache_dir=None)
    cycles = _cycles(graph)
    details = [
        f"{importer} -> {imported} (line {detail['line_number']}: {detail['line_contents']})"
        for cycle in cycles
        for importer in cycle
        for imported in cycle
        for detail in graph.get_import_details(importer=importer, imported=imported)
    ]
    assert cycles == [], "\n".join(details)


def test_the_cycle_finder_sees_a_cycle():
    graph = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=importer, imported=imported)
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]
