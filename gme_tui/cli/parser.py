"""The command line's arguments, and the flags they give the context."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from .. import __version__
from ..api.fields import RecordMode, quote
from ..context import Flags
from ..options import LANGUAGES
from .exits import EXIT_INVALID

#: what `watch --until` takes
WATCH_UNTIL = ("recording", "uploaded", "done")
#: the most seconds `watch --interval` and `--max-wait` take
MAX_INTERVAL = 600.0
MAX_WAIT = 7 * 24 * 3600.0

#: the shells `gme-tui completion` writes a script for
SHELLS = ("bash", "zsh", "fish")
#: the attribute of an option that tells the completion what its value can be, beyond argparse's
#: choices: a tuple of words, or "file" / "directory" for a path
COMPLETES = "gme_tui_completes"
#: what `--mode` takes: the numbers the API takes, then their names
MODE_WORDS = (*(str(int(mode)) for mode in RecordMode), *(mode.short for mode in RecordMode))

#: argparse's messages repeat the words it did not understand: they are cut to this
MESSAGE_MAX = 300


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        from ..safe_text import clean

        # "unrecognized arguments: ..." holds the argv raw: escapes made inert, a flood cut
        said = clean(" ".join(message.split()))
        if len(said) > MESSAGE_MAX:
            said = f"{said[: MESSAGE_MAX - 1]}… ({len(said)} characters)"
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"gme-tui: {said}\n")


def _port_number(text: str) -> int:
    """ASCII digits only: int() would also take "١٠" or "1_0". The range is checked by the command."""
    if not re.fullmatch(r"[0-9]{1,6}", text.strip(), re.ASCII):
        raise argparse.ArgumentTypeError(f"must be a port number in decimal digits (got {quote(text)})")
    return int(text)


def _completes(action: argparse.Action, what: tuple[str, ...] | str) -> None:
    """Say what the shell completion offers for this option's value (see `COMPLETES`)."""
    setattr(action, COMPLETES, what)


class _NotGlobal(Exception):
    """The words are more than global options: the whole parser reads them."""


class _GlobalParser(_Parser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotGlobal(message)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """What the words say, read by `build_parser`'s parser. Words that are only global
    options (`gme-tui --demo`, the console) are read by those options alone: building
    every command's parser costs the console's start-up some milliseconds for nothing.
    Anything else (a command, help, the version, a mistake) goes to the whole parser,
    which gives the same namespace (a test compares them) and says what is wrong."""
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        args, rest = _global_options(_GlobalParser(prog="gme-tui", add_help=False)).parse_known_args(words)
    except _NotGlobal:
        rest = words
    if rest or "--" in words:  # argparse's global reading takes a "--" that the whole one refuses
        return build_parser().parse_args(words)
    args.command = None
    return args


def _global_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options before COMMAND, which the console takes too."""
    parser.add_argument(
        "--profile",
        default=None,
        help="profile: its credentials (keyring) and settings (default: GME_TUI_PROFILE, "
        "then the settings' profile, else 'default')",
    )
    parser.add_argument(
        "--endpoint", help="API endpoint URL (default: the profile's, else https://gme.tencentcloudapi.com)"
    )
    parser.add_argument(
        "--region",
        default=None,
        help="X-TC-Region (optional for GME; default: TENCENTCLOUD_REGION, then the profile's)",
    )
    parser.add_argument("--language", choices=LANGUAGES, help="language of service messages")
    data_dir = parser.add_argument(
        "--data-dir", help="folder of the history (default: GME_TUI_DATA_DIR or the user data folder)"
    )
    _completes(data_dir, "directory")
    parser.add_argument(
        "--timeout",
        default=None,
        help="seconds each attempt may take, answer included (default 10); only reads and "
        "connections that never opened are retried, at most twice",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against a local emulator with demo credentials (no cloud account)",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gme-tui",
        description="A console for Tencent Cloud GME voice recording. With no COMMAND, gme-tui opens "
        "the console: the StartRecord form, the answers and the history of every request.",
        epilog="`gme-tui COMMAND --help` shows a command's options; global options go before COMMAND.",
    )
    parser.add_argument(
        "--version", action="version", version=f"gme-tui {__version__}", help="print the version and exit"
    )
    _global_options(parser)
    sub = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        parser_class=_Parser,
        help="what to do (default: none, which opens the console)",
    )

    def command(name: str, help_text: str, parent: Any = None) -> argparse.ArgumentParser:
        cmd = (parent or sub).add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "--output",
            choices=["text", "json"],
            default="text",
            help="how results print: text for people, json for scripts (default: %(default)s)",
        )
        return cmd

    def biz(cmd: argparse.ArgumentParser) -> None:
        # None, not "": an empty --biz-id (an unset variable) must not mean the profile's default
        cmd.add_argument(
            "--biz-id",
            default=None,
            help="BizId: the application ID (decimal; default: the profile's default_biz_id)",
        )

    def lists(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--allow",
            default="",
            metavar="IDS",
            help="SubscribeUserIds: record only these users (comma/blank separated, at most 20)",
        )
        cmd.add_argument(
            "--block",
            default="",
            metavar="IDS",
            help="UnSubscribeUserIds: record everyone but these users (at most 20)",
        )
        cmd.add_argument(
            "--relaxed-ids",
            action="store_true",
            help="accept string OpenIDs, not only decimal user IDs above 10000",
        )
        cmd.add_argument(
            "--dry-run",
            action="store_true",
            help="print the request that would be sent (signature redacted); send nothing",
        )

    start = command("start", "StartRecord: start recording a room")
    biz(start)
    start.add_argument("--room-id", default="", help="RoomId (1 to 127 characters)")
    _completes(
        start.add_argument("--mode", default="", help="RecordMode: 1 single, 2 mixed, 3 both (or the words)"),
        MODE_WORDS,
    )
    lists(start)

    stop = command("stop", "StopRecord: stop a recording task")
    biz(stop)
    stop.add_argument("--task-id", default="", help="TaskId returned by start")

    describe_task = command("describe-task", "DescribeTaskInfo: the running task of a room")
    biz(describe_task)
    describe_task.add_argument("--room-id", default="", help="RoomId")

    describe_record = command("describe-record", "DescribeRecordInfo: a task's files and their status")
    biz(describe_record)
    describe_record.add_argument("--task-id", default="", help="TaskId")

    modify = command("modify", "ModifyRecordInfo: change a running task's mode and lists")
    biz(modify)
    modify.add_argument("--task-id", default="", help="TaskId")
    _completes(
        modify.add_argument(
            "--mode", default="", help="RecordMode: 1 single, 2 mixed, 3 both (or the words)"
        ),
        MODE_WORDS,
    )
    lists(modify)

    history = command("history", "the requests sent, newest first")
    history.add_argument("--limit", default="20", help="how many rows (default %(default)s)")

    recordings = command(
        "recordings",
        "the recordings gme-tui knows on this endpoint, newest first, with their last known state",
    )
    recordings.add_argument(
        "--all", action="store_true", help="every endpoint's and profile's, with endpoint and profile columns"
    )
    recordings.add_argument(
        "--refresh",
        action="store_true",
        help="first ask the service (DescribeTaskInfo, DescribeRecordInfo) about this endpoint's and "
        "profile's recordings, and reconcile its unknown starts; others are shown as last known",
    )
    recordings.add_argument("--limit", default="50", help="how many recordings (default %(default)s)")

    watch = command(
        "watch",
        "DescribeRecordInfo every interval: print each change of a task's state until it is reached",
    )
    biz(watch)
    watch.add_argument("--task-id", default="", help="TaskId")
    watch.add_argument(
        "--until",
        choices=WATCH_UNTIL,
        default="done",
        help="the state that ends the watch (exit 0): recording (any state from recording on), "
        "uploaded (uploaded or done) or done (the default)",
    )
    watch.add_argument(
        "--interval",
        default="2",
        metavar="SECONDS",
        help=f"seconds between two asks (default %(default)s, fractions allowed, at most {MAX_INTERVAL:g})",
    )
    watch.add_argument(
        "--max-wait",
        default=None,
        metavar="SECONDS",
        help=f"give up after this many seconds with exit 6 (default: no limit; at most {MAX_WAIT:g})",
    )

    command(
        "reconcile",
        "look up the room of every StartRecord of this endpoint and profile whose outcome is unknown "
        "(DescribeTaskInfo; never a second StartRecord)",
    )

    batch = sub.add_parser(
        "batch",
        help="start, stop or modify many rooms at once, at the service's full rate, resumable",
        description="Start, stop or modify many rooms at once. Every line is checked before anything"
        " is sent; each room is a history row tagged with the batch; a batch cut short resumes.",
    )
    inner = batch.add_subparsers(
        dest="batch_command", metavar="WHAT", required=True, parser_class=_Parser, help="what the batch does"
    )

    def source(cmd: argparse.ArgumentParser) -> None:
        _completes(
            cmd.add_argument(
                "source",
                nargs="?",
                default=None,
                metavar="SOURCE",
                help="a CSV file (RoomId,RecordMode,SubscribeUserIds,UnSubscribeUserIds) or a YAML list"
                " of the same keys; - reads standard input",
            ),
            "file",
        )

    def resume(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--resume",
            default=None,
            metavar="ID",
            help="go on with batch ID, from its plan in the history: only its rooms not yet ok are sent",
        )

    def batch_lists(cmd: argparse.ArgumentParser) -> None:
        _completes(
            cmd.add_argument(
                "--mode", default="", help="RecordMode for every line that gives none (1, 2, 3 or the words)"
            ),
            MODE_WORDS,
        )
        lists(cmd)

    batch_start = command("start", "StartRecord for every room of SOURCE (or of --rooms)", inner)
    biz(batch_start)
    source(batch_start)

    def rooms(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--rooms", default=None, metavar="PATTERN", help="the rooms by a pattern: match-{001..120}"
        )

    rooms(batch_start)
    batch_lists(batch_start)
    resume(batch_start)

    batch_stop = command("stop", "StopRecord for every room of a batch (--batch) or of SOURCE", inner)
    biz(batch_stop)
    source(batch_stop)
    rooms(batch_stop)
    batch_stop.add_argument(
        "--batch", default=None, metavar="ID", help="stop the tasks that batch ID recorded"
    )
    batch_stop.add_argument(
        "--dry-run", action="store_true", help="print what would be stopped; send nothing"
    )
    resume(batch_stop)
    batch_modify = command("modify", "ModifyRecordInfo for the running task of every room of SOURCE", inner)
    biz(batch_modify)
    source(batch_modify)
    rooms(batch_modify)
    batch_lists(batch_modify)
    resume(batch_modify)
    batch_status = command("status", "each room of a batch and where it stands", inner)
    batch_status.add_argument("--batch", required=True, metavar="ID", help="the batch's id (see batch list)")
    batch_status.add_argument(
        "--refresh",
        action="store_true",
        help="first look up the rooms whose outcome is unknown (DescribeTaskInfo)",
    )
    batch_list = command("list", "the batches, newest first: id, source and counts", inner)
    batch_list.add_argument("--limit", default="20", help="how many batches (default %(default)s)")

    creds = sub.add_parser(
        "credentials",
        help="store, show and delete credentials in the OS keyring",
        description="Credentials live in the OS keyring (service gme-tui), per profile. "
        "No option takes a secret: keys are read from a hidden prompt or stdin.",
    )
    creds_sub = creds.add_subparsers(
        dest="creds_command", metavar="ACTION", parser_class=_Parser, required=True, help="what to do"
    )

    def creds_command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = creds_sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument(
            "--profile", dest="creds_profile", default=None, help="profile (default: the global one)"
        )
        return cmd

    creds_set = creds_command("set", "store a SecretId and SecretKey (read hidden, or from stdin)")
    creds_set.add_argument("--secret-id", required=True, help="the SecretId (not secret)")
    creds_set.add_argument(
        "--session-token",
        action="store_true",
        help="also read a session token (hidden prompt, or stdin's second line)",
    )
    creds_command("show", "the SecretId, the key masked, and where they come from")
    creds_command("delete", "remove the profile's credentials from the keyring")
    creds_sub.add_parser("list", help="profiles with credentials in the keyring")
    creds_import = creds_command("import-tccli", "copy ~/.tccli/NAME.credential into the keyring")
    creds_import.add_argument(
        "--tccli-profile", default="default", help="tccli profile (default: %(default)s)"
    )

    emulator = sub.add_parser(
        "emulator",
        help="serve a local GME emulator",
        description="Serve the five recording actions on loopback for demos and tests.",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    emulator.add_argument(
        "--port",
        type=_port_number,
        default=8765,
        help="port to listen on (default: %(default)s; 0 picks a free one)",
    )
    emulator.add_argument("--secret-id", default=None, help="SecretId it accepts (default: the demo one)")
    emulator.add_argument(
        "--secret-key", default=None, help="its SecretKey (a test key only; default: the demo one)"
    )
    emulator.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND[=SECONDS][:COUNT][@ACTION]",
        help="misbehave: delay=SECONDS, http502, nonjson, truncated or drop; "
        "e.g. drop:1@StartRecord (repeatable)",
    )
    emulator.add_argument("--verbose", action="store_true", help="log every request")
    state_file = emulator.add_argument(
        "--state-file", metavar="PATH", help="keep the tasks in this SQLite file (default: in memory only)"
    )
    _completes(state_file, "file")

    completion = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or fish)",
        description="Print the completion script of a shell to stdout; the README says where it goes.",
    )
    completion.add_argument("shell", choices=SHELLS, metavar="SHELL", help="one of %(choices)s")
    return parser


def flags_from(args: argparse.Namespace) -> Flags:
    """What the command line fixed, for `context.resolve`."""
    return Flags(
        profile=args.profile,
        endpoint=args.endpoint,
        region=args.region,
        language=args.language,
        data_dir=args.data_dir,
        timeout=args.timeout,
        biz_id=getattr(args, "biz_id", None),
        relaxed_ids=getattr(args, "relaxed_ids", False),
        demo=args.demo,
    )
