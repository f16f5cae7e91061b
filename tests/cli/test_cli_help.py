"""The command line explains itself: every option's help, `--version`, and shell completion
scripts that the shells themselves load and run."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

import pytest

from gme_tui import __version__
from gme_tui.cli import main
from gme_tui.cli.completion import places
from gme_tui.cli.parser import SHELLS, build_parser


def _tree(parser: argparse.ArgumentParser, path: str = "gme-tui"):
    """(path, parser, action) for every action of every command."""
    for action in parser._actions:
        yield path, parser, action
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _tree(child, f"{path} {name}")


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    return parser._get_formatter()._expand_help(action) if action.help else ""


def test_every_option_of_every_command_has_help_that_states_its_default():
    unexplained, default_unsaid = [], []
    for path, parser, action in _tree(build_parser()):
        said = _help(parser, action)
        name = "/".join(action.option_strings) or action.dest
        if not said.strip():
            unexplained.append(f"{path} {name}")
        if action.default not in (None, False, "", [], argparse.SUPPRESS) and str(action.default) not in said:
            default_unsaid.append(f"{path} {name} (default {action.default!r}): {said!r}")
    assert unexplained == []
    assert default_unsaid == []


def _help_of(capsys, *argv: str) -> str:
    assert main([*argv, "--help"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return " ".join(out.split())


def test_the_top_help_says_no_command_opens_the_console(capsys):
    said = _help_of(capsys)
    assert "With no COMMAND, gme-tui opens the console" in said
    assert "completion print a shell completion script" in said


def test_biz_id_says_the_profile_fills_it_and_output_says_its_choices(capsys):
    for command in ("start", "stop", "describe-task", "describe-record", "modify", "watch"):
        said = _help_of(capsys, command)
        assert "default: the profile's default_biz_id" in said, command
        assert "--output {text,json} how results print" in said and "(default: text)" in said


def test_emulator_host_and_port_say_their_defaults(capsys):
    said = _help_of(capsys, "emulator")
    assert "--host HOST address to listen on (default: 127.0.0.1)" in said
    assert "--port PORT port to listen on (default: 8765; 0 picks a free one)" in said


def test_version_is_the_package_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"gme-tui {__version__}\n"


def test_version_as_a_process_is_said_before_the_command_line_loads():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gme_tui", "--version"], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, f"gme-tui {__version__}\n")
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()]
    assert "gme_tui" in imported
    assert not [name for name in imported if name.startswith("gme_tui.")]


def test_an_unknown_shell_is_refused_with_the_choices(capsys):
    assert main(["completion", "tcsh"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "invalid choice: 'tcsh' (choose from 'bash', 'zsh', 'fish')" in err
    assert "Traceback" not in err


def _script(shell: str) -> str:
    """The script as the installed command prints it (`python -m gme_tui` is `gme-tui`)."""
    done = subprocess.run(
        [sys.executable, "-m", "gme_tui", "completion", shell],
        capture_output=True,
        text=True,
        # no settings, history or keyring are read: a settings path that cannot exist changes nothing
        env={**os.environ, "GME_TUI_CONFIG": "/nonexistent/settings.yaml"},
    )
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout


@pytest.fixture(scope="module")
def scripts() -> dict[str, str]:
    return {shell: _script(shell) for shell in SHELLS}


def test_every_script_names_every_command_option_and_choice_of_the_parser(scripts):
    tree = list(places(build_parser()))
    assert len(tree) > 15  # the top, its commands, the credentials actions
    for shell, text in scripts.items():
        for place in tree:
            for name, _ in place.commands:
                assert name in text, (shell, name)
            for option in place.options:
                for name in option.names:
                    assert name.lstrip("-") in text, (shell, place.key, name)
                for value in option.values:
                    assert value in text, (shell, place.key, value)
            for choice in place.choices:
                assert choice in text, (shell, choice)


def _shell(name: str) -> str:
    """The shell's path; a shell missing is a failure in CI (.ci/run installs them), else a skip."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run installs it")
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return found


def _run(shell: list[str], program: str) -> list[str]:
    done = subprocess.run([*shell, program], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout.splitlines()


BASH_COMPLETE = """
source {script}
complete -p gme-tui
words=({words})
COMP_WORDS=("${{words[@]}}")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_gme_tui
for reply in "${{COMPREPLY[@]}}"; do printf '%s\\n' "$reply"; done
"""


def _bash_completes(script: str, *words: str) -> list[str]:
    shown = " ".join(f"'{word}'" for word in words)
    lines = _run(
        [_shell("bash"), "--norc", "--noprofile", "-c"], BASH_COMPLETE.format(script=script, words=shown)
    )
    assert lines[0] == "complete -F _gme_tui gme-tui"
    return lines[1:]


@pytest.fixture
def bash_script(scripts, tmp_path) -> str:
    path = tmp_path / "gme-tui.bash"
    path.write_text(scripts["bash"])
    return str(path)


def test_bash_completes_the_commands_and_their_options(bash_script):
    commands = [name for name, _ in next(places(build_parser())).commands]
    assert _bash_completes(bash_script, "gme-tui", "") == commands
    assert _bash_completes(bash_script, "gme-tui", "describe-") == ["describe-task", "describe-record"]
    assert _bash_completes(bash_script, "gme-tui", "credentials", "") == [
        "set", "show", "delete", "list", "import-tccli"
    ]  # fmt: skip
    assert _bash_completes(bash_script, "gme-tui", "completion", "") == ["bash", "zsh", "fish"]
    assert "--dry-run" in _bash_completes(bash_script, "gme-tui", "start", "--")
    assert "--dry-run" not in _bash_completes(bash_script, "gme-tui", "stop", "--")


def test_bash_completes_the_values_of_output_mode_and_language(bash_script):
    assert _bash_completes(bash_script, "gme-tui", "start", "--output", "") == ["text", "json"]
    assert _bash_completes(bash_script, "gme-tui", "history", "--output", "j") == ["json"]
    # `--output=j`: bash splits it at the `=`
    assert _bash_completes(bash_script, "gme-tui", "watch", "--output", "=", "j") == ["json"]
    assert _bash_completes(bash_script, "gme-tui", "start", "--mode", "") == [
        "1",
        "2",
        "3",
        "single",
        "mixed",
        "both",
    ]
    assert _bash_completes(bash_script, "gme-tui", "--language", "") == ["zh-CN", "en-US"]


def test_bash_steps_over_option_values(bash_script):
    # `start` here is a profile's name, not the command: the commands are still offered
    assert "history" in _bash_completes(bash_script, "gme-tui", "--profile", "start", "")
    assert _bash_completes(bash_script, "gme-tui", "--demo", "start", "--room-id", "r1", "--mode", "s") == [
        "single"
    ]
    # a room ID is not completed (nothing to offer, and nothing is asked of the service)
    assert _bash_completes(bash_script, "gme-tui", "start", "--room-id", "") == []


def test_bash_completes_paths_for_path_options(bash_script, tmp_path):
    (tmp_path / "data-folder").mkdir()
    (tmp_path / "data-file").write_text("")
    start = str(tmp_path / "data-")
    assert _bash_completes(bash_script, "gme-tui", "--data-dir", start) == [str(tmp_path / "data-folder")]
    found = _bash_completes(bash_script, "gme-tui", "emulator", "--state-file", start)
    assert sorted(found) == [str(tmp_path / "data-file"), str(tmp_path / "data-folder")]


# zsh runs the script outside its completion system: the builtins that offer candidates are
# stood in for by functions that print them
ZSH_COMPLETE = """
compdef() {{ print -r -- "compdef $*" }}
_describe() {{ print -rl -- ${{(P)4}} }}
compadd() {{ shift; print -rl -- "$@" }}
compset() {{ : }}
_files() {{ print -r -- "files $*" }}
source {script}
words=({words})
CURRENT=$#words
_gme_tui
"""


def _zsh_completes(script: str, *words: str) -> list[str]:
    shown = " ".join(f"'{word}'" for word in words)
    lines = _run([_shell("zsh"), "-f", "-c"], ZSH_COMPLETE.format(script=script, words=shown))
    assert lines[0] == "compdef _gme_tui gme-tui"
    return lines[1:]


def test_zsh_script_parses_and_completes(scripts, tmp_path):
    path = tmp_path / "_gme-tui"
    path.write_text(scripts["zsh"])
    assert _run([_shell("zsh"), "-n"], str(path)) == []
    assert scripts["zsh"].startswith("#compdef gme-tui\n")  # compinit reads the first line only
    offered = _zsh_completes(str(path), "gme-tui", "")
    assert "start:StartRecord: start recording a room" in offered
    assert "completion:print a shell completion script (bash, zsh or fish)" in offered
    assert _zsh_completes(str(path), "gme-tui", "start", "--output", "") == ["text", "json"]
    assert _zsh_completes(str(path), "gme-tui", "modify", "--output=j") == ["text", "json"]
    assert _zsh_completes(str(path), "gme-tui", "--data-dir", "") == ["files -/"]
    assert "--until:the state that ends the watch (exit 0): recording (any state from…" in _zsh_completes(
        str(path), "gme-tui", "watch", "--"
    )


def _fish_completes(script: str, line: str) -> list[str]:
    lines = _run([_shell("fish"), "--no-config", "-c"], f"source {script}; complete -C '{line}'")
    return [entry.split("\t")[0] for entry in lines]


def test_fish_script_parses_and_completes(scripts, tmp_path):
    path = tmp_path / "gme-tui.fish"
    path.write_text(scripts["fish"])
    assert _run([_shell("fish"), "--no-config", "-n"], str(path)) == []
    commands = [name for name, _ in next(places(build_parser())).commands]
    assert _fish_completes(str(path), "gme-tui ") == sorted(commands)
    assert _fish_completes(str(path), "gme-tui start --output ") == ["json", "text"]
    assert _fish_completes(str(path), "gme-tui start --mode=s") == ["--mode=single"]
    assert _fish_completes(str(path), "gme-tui --profile start completion ") == ["bash", "fish", "zsh"]
    assert "--secret-id" in _fish_completes(str(path), "gme-tui credentials set --")
    assert "--demo" not in _fish_completes(str(path), "gme-tui credentials set --")


@pytest.mark.parametrize(
    "words",
    [
        [],
        ["--demo"],
        ["--profile", "prod"],
        ["--profile=prod", "--demo"],
        ["--dem", "--prof", "x"],  # abbreviations, as argparse takes them
        [
            "--timeout",
            "3",
            "--region",
            "ap-x",
            "--endpoint",
            "http://x",
            "--data-dir",
            "/d",
            "--language",
            "en-US",
        ],
        ["--demo", "history"],
        ["--profile", "history", "start", "--room", "r"],
    ],
)
def test_the_consoles_short_reading_gives_what_the_whole_parser_gives(words):
    """`gme-tui --demo` is read by the global options alone (start-up), and must mean what
    the whole parser makes of it; anything more goes to the whole parser."""
    from gme_tui.cli.parser import parse_arguments

    assert vars(parse_arguments(words)) == vars(build_parser().parse_args(words))


@pytest.mark.parametrize(
    "words, said",
    [
        (["--language", "fr"], "invalid choice: 'fr'"),
        (["--profile"], "expected one argument"),
        (["--"], "unrecognized arguments: --"),
        (["--d"], "ambiguous option: --d"),
        (["--nope"], "unrecognized arguments: --nope"),
    ],
)
def test_global_options_that_are_wrong_are_told_by_the_whole_parser(words, said, capsys):
    assert main(words) == 2
    err = capsys.readouterr().err
    assert said in err and "COMMAND" in err  # the whole parser's usage, with its commands


@pytest.mark.parametrize("words", [["--version"], ["--vers"], ["-h"], ["--he"]])
def test_help_and_version_are_the_whole_parsers(words, capsys):
    assert main(words) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"gme-tui {__version__}") or "COMMAND" in out
