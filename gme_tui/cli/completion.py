"""`gme-tui completion SHELL`: a completion script for bash, zsh or fish, read off the parser.

Every command, option and value the scripts offer comes from walking `build_parser()`'s
tree, so that they cannot drift from what the command line takes: a new option is
completed the day it is added. The scripts are static: completing runs no gme-tui, no
network call, nothing but the shell.

The three scripts share one logic: walk the words typed so far from the top, stepping
into a command when one is named and over the value of an option that takes one; the
place reached (`gme-tui credentials set`) then says what to offer: the value of the
option just typed (its choices, or paths), else its options (after a `-`), else its
commands and the choices of its positional argument.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .. import __version__
from .parser import COMPLETES

#: a description the shell shows beside a candidate is cut to this many characters
SUMMARY_MAX = 72


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]
    summary: str
    takes_value: bool
    #: the words offered for its value (argparse's choices, or what the parser said)
    values: tuple[str, ...] = ()
    #: "file" or "directory" when its value is a path
    paths: str = ""


@dataclass(frozen=True)
class Place:
    """One command of the tree (the top, `start`, `credentials set`) and what it takes."""

    words: tuple[str, ...]
    options: tuple[Option, ...]
    #: its commands, each with its summary
    commands: tuple[tuple[str, str], ...]
    #: the choices of its positional arguments (`completion`'s shells)
    choices: tuple[str, ...]

    @property
    def key(self) -> str:
        return " ".join(self.words)

    def step(self, word: str) -> str:
        """The key of the place one of its commands leads to."""
        return f"{self.key} {word}"


def places(parser: argparse.ArgumentParser, words: tuple[str, ...] = ("gme-tui",)) -> Iterator[Place]:
    """Every command of the tree, the top first, depth first."""
    formatter = parser._get_formatter()
    options: list[Option] = []
    commands: list[tuple[str, str]] = []
    choices: list[str] = []
    below: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for pseudo in action._get_subactions():
                commands.append((pseudo.dest, _summary(formatter._expand_help(pseudo))))
            below.extend(action.choices.items())
        elif action.option_strings:
            options.append(_option(action, formatter))
        elif action.choices is not None:
            choices.extend(str(choice) for choice in action.choices)
    yield Place(words, tuple(options), tuple(commands), tuple(choices))
    for name, child in below:
        yield from places(child, (*words, name))


def _option(action: argparse.Action, formatter: argparse.HelpFormatter) -> Option:
    hint = getattr(action, COMPLETES, None)
    values: tuple[str, ...] = ()
    if isinstance(hint, tuple):
        values = hint
    elif action.choices is not None:
        values = tuple(str(choice) for choice in action.choices)
    return Option(
        names=tuple(action.option_strings),
        summary=_summary(formatter._expand_help(action) if action.help else ""),
        takes_value=action.nargs != 0,
        values=values,
        paths=hint if hint in ("file", "directory") else "",
    )


def _summary(help_text: str) -> str:
    text = " ".join(help_text.split())
    if len(text) <= SUMMARY_MAX:
        return text
    return text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:(") + "…"


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    writers: dict[str, Callable[[list[Place]], str]] = {"bash": _bash, "zsh": _zsh, "fish": _fish}
    header = f"# {shell} completion for gme-tui {__version__}, written by `gme-tui completion {shell}`.\n"
    # zsh's compinit reads only a file's first line for its `#compdef`
    first = "#compdef gme-tui\n" if shell == "zsh" else ""
    return first + header + writers[shell](list(places(parser)))


def _walk_cases(tree: list[Place], quote: Callable[[str], str]) -> tuple[list[str], list[str]]:
    """The patterns `place/word` of the walk: the options that take a value, and the commands."""
    takes_value: list[str] = []
    steps: list[str] = []
    for place in tree:
        for option in place.options:
            if option.takes_value:
                takes_value.extend(quote(f"{place.key}/{name}") for name in option.names)
        for name, _ in place.commands:
            steps.append(f"{quote(f'{place.key}/{name}')}) at={quote(place.step(name))} ;;")
    return takes_value, steps


def _valued(tree: list[Place]) -> Iterator[tuple[str, Option]]:
    """`place/--option` and the option, for every option whose value can be completed."""
    for place in tree:
        for option in place.options:
            if option.takes_value and (option.values or option.paths):
                for name in option.names:
                    yield f"{place.key}/{name}", option


def _indent(lines: list[str], spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in lines)


def _bash(tree: list[Place]) -> str:
    q = shlex.quote
    takes_value, steps = _walk_cases(tree, q)
    values = []
    for key, option in _valued(tree):
        if option.paths:
            kind = "-d" if option.paths == "directory" else "-f"
            values.append(f"{q(key)}) compopt -o filenames 2>/dev/null; _gme_tui_reply {kind} ;;")
        else:
            values.append(f"{q(key)}) _gme_tui_reply -W {q(' '.join(option.values))} ;;")
    offers = []
    for place in tree:
        options = " ".join(name for option in place.options for name in option.names)
        words = " ".join([name for name, _ in place.commands] + list(place.choices))
        offers.append(f"{q(place.key)}) options={q(options)} words={q(words)} ;;")
    return f"""
_gme_tui_reply() {{
    mapfile -t COMPREPLY < <(compgen "$@" -- "$cur")
}}

_gme_tui() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} at=gme-tui option="" word i
    # `--output=js` reaches us as `--output`, `=`, `js`
    [[ $cur == = ]] && cur=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        [[ $word == = ]] && continue
        if [[ -n $option ]]; then
            option=""
            continue
        fi
        case "$at/$word" in
{_indent([f"{pattern}) option=$word ;;" for pattern in takes_value] + steps, 12)}
        esac
    done
    COMPREPLY=()
    if [[ -n $option ]]; then
        case "$at/$option" in
{_indent(values, 12)}
        esac
        return 0
    fi
    local options="" words=""
    case "$at" in
{_indent(offers, 8)}
    esac
    if [[ $cur == -* ]]; then
        _gme_tui_reply -W "$options"
    else
        _gme_tui_reply -W "$words"
    fi
}}

complete -F _gme_tui gme-tui
"""


def _zsh_entry(name: str, summary: str) -> str:
    name = name.replace(":", "\\:")  # _describe splits on the first colon not escaped
    return shlex.quote(f"{name}:{summary}" if summary else name)


def _zsh(tree: list[Place]) -> str:
    q = shlex.quote
    takes_value, steps = _walk_cases(tree, q)
    values = []
    for key, option in _valued(tree):
        if option.paths:
            values.append(f"{q(key)}) _files{' -/' if option.paths == 'directory' else ''} ;;")
        else:
            values.append(f"{q(key)}) compadd -- {' '.join(q(value) for value in option.values)} ;;")
    offers = []
    for place in tree:
        options = [_zsh_entry(name, option.summary) for option in place.options for name in option.names]
        words = [_zsh_entry(name, summary) for name, summary in place.commands]
        words += [q(choice) for choice in place.choices]
        offers.append(f"{q(place.key)})")
        offers.append(f"    options=({' '.join(options)})")
        offers.append(f"    commands=({' '.join(words)}) ;;")
    return f"""
_gme_tui() {{
    # `at`, not `path`: zsh ties $path to $PATH
    local at=gme-tui option="" word i cur=${{words[CURRENT]}}
    for ((i = 2; i < CURRENT; i++)); do
        word=${{words[i]}}
        if [[ -n $option ]]; then
            option=""
            continue
        fi
        case "$at/$word" in
{_indent([f"{pattern}) option=$word ;;" for pattern in takes_value] + steps, 12)}
        esac
    done
    if [[ -z $option && $cur == --*=* ]]; then
        option=${{cur%%=*}}
        compset -P '*='
    fi
    if [[ -n $option ]]; then
        case "$at/$option" in
{_indent(values, 12)}
        esac
        return
    fi
    local -a options commands
    case "$at" in
{_indent(offers, 8)}
    esac
    if [[ $cur == -* ]]; then
        _describe -t options option options
    else
        _describe -t commands command commands
    fi
}}

if [[ ${{zsh_eval_context[-1]}} == loadautofunc ]]; then
    _gme_tui "$@"
else
    compdef _gme_tui gme-tui
fi
"""


def _fish_quote(text: str) -> str:
    return "'" + re.sub(r"([\\'])", r"\\\1", text) + "'"


def _fish(tree: list[Place]) -> str:
    q = _fish_quote
    takes_value, steps = _walk_cases(tree, q)
    steps = [re.sub(r"^(.*)\) at=(.*) ;;$", r"case \1\n    set at \2", step) for step in steps]
    lines = ["complete -c gme-tui -f"]
    for place in tree:
        where = f"-n '__gme_tui_at {place.key}'"
        for name, summary in place.commands:
            lines.append(f"complete -c gme-tui {where} -a {q(name)} -d {q(summary)}")
        if place.choices:
            lines.append(f"complete -c gme-tui {where} -a {q(' '.join(place.choices))}")
        for option in place.options:
            names = " ".join(
                f"-l {q(name[2:])}" if name.startswith("--") else f"-s {q(name[1:])}" for name in option.names
            )
            value = ""
            if option.paths == "directory":
                value = " -x -a '(__fish_complete_directories)'"
            elif option.paths:
                value = " -r -F"
            elif option.values:
                value = f" -x -a {q(' '.join(option.values))}"
            elif option.takes_value:
                value = " -x"
            lines.append(f"complete -c gme-tui {where} {names}{value} -d {q(option.summary)}")
    step_lines = [line for pattern in takes_value for line in (f"case {pattern}", "    set option 1")]
    step_lines += [line for step in steps for line in step.splitlines()]
    completes = "\n".join(lines)
    return f"""
# true when the words typed so far lead to this place (`__gme_tui_at gme-tui credentials set`)
function __gme_tui_at
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l at gme-tui
    set -l option 0
    for word in $tokens
        if test $option = 1
            set option 0
            continue
        end
        switch "$at/$word"
{_indent(step_lines, 12)}
        end
    end
    test "$at" = "$argv"
end

{completes}
"""
