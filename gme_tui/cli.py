"""The command line: the TUI by default, one-shot commands over the same core.

The one-shot path never imports Textual (a test proves it), so scripts start
fast. Exit codes: 0 ok, 1 cannot run (credentials, data folder), 2 invalid
input (nothing sent), 3 service error, 4 transport failure or bad answer,
5 outcome unknown, 130 interrupted. No traceback ever reaches the user.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import __version__, options
from .api import fields
from .api.errors import GmeError

if TYPE_CHECKING:
    from .emulator import Emulator

EXIT_OK = 0
EXIT_CANNOT_RUN = 1
EXIT_INVALID = 2
EXIT_SERVICE = 3
EXIT_TRANSPORT = 4
EXIT_UNKNOWN = 5
EXIT_INTERRUPTED = 130

_EXIT_BY_KIND = {
    "ok": EXIT_OK,
    "service_error": EXIT_SERVICE,
    "not_sent": EXIT_TRANSPORT,
    "bad_answer": EXIT_TRANSPORT,
    "transport_error": EXIT_TRANSPORT,
    "unknown": EXIT_UNKNOWN,
}


class CannotRun(Exception):
    """Something outside the request stops us (credentials, data folder)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"gme-tui: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gme-tui", description="A console for Tencent Cloud GME voice recording.")
    parser.add_argument("--version", action="version", version=f"gme-tui {__version__}")
    parser.add_argument("--profile", default=os.environ.get("GME_TUI_PROFILE") or None,
                        help="profile: its credentials (keyring) and settings (default: the settings' "
                             "profile, else 'default')")
    parser.add_argument("--endpoint", help="API endpoint URL (default: the profile's, else "
                                           "https://gme.tencentcloudapi.com)")
    parser.add_argument("--region", default=None, help="X-TC-Region (optional for GME; default: "
                                                       "TENCENTCLOUD_REGION, then the profile's)")
    parser.add_argument("--language", choices=options.LANGUAGES, help="language of service messages")
    parser.add_argument("--data-dir", help="folder of the history (default: GME_TUI_DATA_DIR or the user data folder)")
    parser.add_argument("--timeout", default="10",
                        help="seconds each attempt may take, answer included (default 10); only reads and "
                             "connections that never opened are retried, at most twice")
    parser.add_argument("--demo", action="store_true",
                        help="run against a local emulator with demo credentials (no cloud account)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--output", choices=["text", "json"], default="text")
        return cmd

    def biz(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--biz-id", default="", help="BizId: the application ID (decimal)")

    def lists(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("--allow", default="", metavar="IDS",
                         help="SubscribeUserIds: record only these users (comma/blank separated, at most 20)")
        cmd.add_argument("--block", default="", metavar="IDS",
                         help="UnSubscribeUserIds: record everyone but these users (at most 20)")
        cmd.add_argument("--relaxed-ids", action="store_true",
                         help="accept string OpenIDs, not only decimal user IDs above 10000")
        cmd.add_argument("--dry-run", action="store_true",
                         help="print the request that would be sent (signature redacted); send nothing")

    start = command("start", "StartRecord: start recording a room")
    biz(start)
    start.add_argument("--room-id", default="", help="RoomId (1 to 127 characters)")
    start.add_argument("--mode", default="", help="RecordMode: 1 single, 2 mixed, 3 both (or the words)")
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
    modify.add_argument("--mode", default="", help="RecordMode: 1 single, 2 mixed, 3 both")
    lists(modify)

    history = command("history", "the requests sent, newest first")
    history.add_argument("--limit", default="20", help="how many rows (default 20)")

    creds = sub.add_parser("credentials", help="store, show and delete credentials in the OS keyring",
                           description="Credentials live in the OS keyring (service gme-tui), per profile. "
                                       "No option takes a secret: keys are read from a hidden prompt or stdin.")
    creds_sub = creds.add_subparsers(dest="creds_command", metavar="ACTION", parser_class=_Parser,
                                     required=True)

    def creds_command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = creds_sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--profile", dest="creds_profile", default=None, help="profile (default: the global one)")
        return cmd

    creds_set = creds_command("set", "store a SecretId and SecretKey (read hidden, or from stdin)")
    creds_set.add_argument("--secret-id", required=True, help="the SecretId (not secret)")
    creds_set.add_argument("--session-token", action="store_true",
                           help="also read a session token (hidden prompt, or stdin's second line)")
    creds_command("show", "the SecretId, the key masked, and where they come from")
    creds_command("delete", "remove the profile's credentials from the keyring")
    creds_sub.add_parser("list", help="profiles with credentials in the keyring")
    creds_import = creds_command("import-tccli", "copy ~/.tccli/NAME.credential into the keyring")
    creds_import.add_argument("--tccli-profile", default="default", help="tccli profile (default: default)")

    emulator = sub.add_parser("emulator", help="serve a local GME emulator",
                              description="Serve the five recording actions on loopback for demos and tests.")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8765)
    emulator.add_argument("--secret-id", default=None, help="SecretId it accepts (default: the demo one)")
    emulator.add_argument("--secret-key", default=None,
                          help="its SecretKey (a test key only; default: the demo one)")
    emulator.add_argument("--fault", action="append", default=[], metavar="KIND[=SECONDS][:COUNT][@ACTION]",
                          help="misbehave: delay=SECONDS, http502, nonjson, truncated or drop; "
                               "e.g. drop:1@StartRecord (repeatable)")
    emulator.add_argument("--verbose", action="store_true", help="log every request")
    return parser


@dataclass
class Context:
    args: argparse.Namespace
    endpoint: str
    timeout: float
    settings: object  # gme_tui.settings.Settings, as seen from the profile
    profile_name: str
    demo: Emulator | None = None  # the emulator in --demo mode
    source: str | None = None  # where the credentials came from
    loaded: tuple | None = None  # the settings file as read, and its warnings (read once)

    @property
    def profile(self) -> str:
        return "demo" if self.args.demo else self.profile_name

    @property
    def data_folder(self):
        """Where the history lives; the demo's rows never mix with real ones."""
        from .paths import data_dir

        folder = data_dir(self.args.data_dir)
        return folder / "demo" if self.args.demo else folder

    @property
    def language(self) -> str | None:
        return self.args.language or self.settings.language

    @property
    def use_env_proxies(self) -> bool:
        """The demo's emulator is on loopback: no proxy stands between."""
        return not self.args.demo

    def history(self):
        from .history import History

        folder = self.data_folder
        try:
            return History.in_dir(folder)
        except Exception as error:  # sqlite3.Error, OSError
            raise CannotRun(f"cannot open the history in {folder}: {error}; nothing was sent") from None

    def key(self, *, required: bool = True):
        if self.args.demo:
            from .emulator import DEMO_KEY

            return DEMO_KEY
        from .credentials import CredentialsMissing, KeyringUnavailable, resolve

        try:
            resolved = resolve(self.profile_name)
        except (CredentialsMissing, KeyringUnavailable) as error:
            if required:
                raise CannotRun(str(error)) from None
            self.source = str(error)
            return None
        self.source = resolved.source
        return resolved.key

    def client(self, key):
        from .api.client import GmeClient

        return GmeClient(key, endpoint=self.endpoint, region=self.region, language=self.language,
                         timeout=self.timeout, use_env_proxies=self.use_env_proxies)

    @property
    def region(self) -> str | None:
        return self.args.region or os.environ.get("TENCENTCLOUD_REGION") or self.settings.region

    def default_biz(self) -> str:
        given = getattr(self.args, "biz_id", "")
        if given:
            return given
        if not self.args.demo:
            return self.settings.biz_id_text
        from .emulator import DEMO_BIZ_ID

        return str(DEMO_BIZ_ID)


def _checked_or_raise(checked: fields.Checked) -> fields.Checked:
    if not checked.ok:
        raise checked.errors[next(iter(checked.errors))]
    for warning in checked.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return checked


def action_for(ctx: Context):
    """Turn the parsed arguments into a validated action, or raise FieldError."""
    from .api import actions

    args = ctx.args
    biz = ctx.default_biz()
    relaxed = getattr(args, "relaxed_ids", False) or ctx.settings.relaxed_user_ids
    if args.command == "start":
        return actions.from_checked("StartRecord", _checked_or_raise(fields.check_start(
            biz, args.room_id, args.mode, args.allow, args.block, relaxed=relaxed)))
    if args.command == "modify":
        return actions.from_checked("ModifyRecordInfo", _checked_or_raise(fields.check_modify(
            biz, args.task_id, args.mode, args.allow, args.block, relaxed=relaxed)))
    if args.command == "stop":
        return actions.StopRecord(fields.parse_biz_id(biz), fields.parse_task_id(args.task_id))
    if args.command == "describe-task":
        return actions.DescribeTaskInfo(fields.parse_biz_id(biz), fields.parse_room_id(args.room_id))
    if args.command == "describe-record":
        return actions.DescribeRecordInfo(fields.parse_biz_id(biz), fields.parse_task_id(args.task_id))
    raise AssertionError(args.command)


async def _send(ctx: Context, action) -> int:
    import asyncio

    from .calls import HistoryUnavailable, Outcome, send
    from .cli_output import print_outcome

    key = ctx.key()
    started: list[Outcome] = []
    with ctx.history() as history:
        async with ctx.client(key) as client:
            try:
                outcome = await send(client, history, action, profile=ctx.profile, on_start=started.append)
            except HistoryUnavailable as error:
                raise CannotRun(str(error)) from None
            except asyncio.CancelledError:  # Ctrl+C while waiting: say what may have happened
                return _interrupted(started[0] if started else None)
    code = _EXIT_BY_KIND.get(outcome.kind, EXIT_TRANSPORT)
    problem = _emit(lambda: print_outcome(outcome, ctx.args.output))
    if problem and outcome.result is not None:
        task = outcome.result.task_id_value
        print(f"gme-tui: {action.name} succeeded but its output could not be printed ({problem})"
              + (f"; TaskId {task}" if task is not None else ""), file=sys.stderr)
    if outcome.history_error:
        print(f"gme-tui: warning: {outcome.history_error}", file=sys.stderr)
    return code


def _interrupted(outcome) -> int:
    from .cli_output import print_outcome

    if outcome is None or outcome.error is None:
        print("gme-tui: interrupted; nothing was sent", file=sys.stderr)
        return EXIT_INTERRUPTED
    print_outcome(outcome, "text")  # text: its failure lines only, on stderr
    return _EXIT_BY_KIND.get(outcome.kind, EXIT_UNKNOWN)


def _emit(write: Callable[[], None]) -> str | None:
    """Print a result; if stdout is gone (closed pipe, full disk) say why instead of failing."""
    try:
        write()
        sys.stdout.flush()
    except OSError as error:
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - later flushes must not fail again
        except OSError:
            pass
        return error.strerror or str(error)
    return None


def _dry_run(ctx: Context, action) -> int:
    from .api.signing import SigningKey
    from .cli_output import print_prepared

    key = ctx.key(required=False)
    if key is None:
        print("note: no credentials in the environment; the Authorization header shows where they go",
              file=sys.stderr)
        key = SigningKey("<SecretId>", "")
    print_prepared(ctx.client(key).prepare(action), ctx.args.output)
    return EXIT_OK


def _history(ctx: Context) -> int:
    from .cli_output import print_history

    limit = options.parse_limit(ctx.args.limit)
    with ctx.history() as history:
        rows = history.rows(limit=limit)
    print_history(rows, ctx.args.output)
    return EXIT_OK


def _emulator(args: argparse.Namespace) -> int:
    from .emulator import DEMO_SECRET_ID, DEMO_SECRET_KEY, run_forever

    if not 0 <= args.port <= 65535:
        raise fields.FieldError("--port", f"must be from 0 to 65535 (0 picks a free port; got {args.port})")
    if (args.secret_id is None) != (args.secret_key is None):
        raise fields.FieldError("--secret-key" if args.secret_key is None else "--secret-id",
                                "--secret-id and --secret-key go together")
    try:
        return run_forever(args.host, args.port, args.secret_id or DEMO_SECRET_ID,
                           args.secret_key or DEMO_SECRET_KEY, faults=args.fault, verbose=args.verbose)
    except ValueError as error:  # a bad --fault spec: run_forever reads them all before it listens
        raise fields.FieldError("--fault", str(error)) from None
    except OSError as error:
        raise CannotRun(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None


def _tui(ctx: Context) -> int:
    from .tui.app import run_app

    return run_app(ctx)


def _context(args: argparse.Namespace) -> Context:
    from .options import DEFAULT_ENDPOINT
    from .settings import DEFAULT_PROFILE, load_settings

    settings, warnings = load_settings()
    if args.command is not None:  # the app shows them itself, on screen
        for warning in warnings:
            print(f"gme-tui: warning: {warning}", file=sys.stderr)
    profile = args.profile or settings.profile or DEFAULT_PROFILE
    if args.profile:
        from .credentials import check_profile

        check_profile(profile)
    seen = settings.for_profile(profile)
    endpoint = options.parse_endpoint(args.endpoint or seen.endpoint or DEFAULT_ENDPOINT)
    return Context(args, endpoint, options.parse_timeout(args.timeout), seen, profile,
                   loaded=(settings, warnings))


def _dispatch(ctx: Context) -> int:
    command = ctx.args.command
    if command == "credentials":
        from .cli_credentials import run

        return run(ctx)
    if command == "history":
        return _history(ctx)
    if command is None:
        return _with_demo(ctx, _tui, serve_later=True)
    try:
        action = action_for(ctx)
    except fields.FieldError as error:
        raise fields.FieldError(error.field, f"{error.rule}; nothing was sent") from None
    if getattr(ctx.args, "dry_run", False):
        return _with_demo(ctx, lambda ctx: _dry_run(ctx, action))
    import asyncio  # only a send needs the event loop (history and credentials do not)

    return _with_demo(ctx, lambda ctx: asyncio.run(_send(ctx, action)))


def _with_demo(ctx: Context, run: Callable[[Context], int], *, serve_later: bool = False) -> int:
    """In --demo, run against an emulator started for this command only.

    With `serve_later` its port is taken now and `run` starts it serving
    (`ctx.demo.start()`): the console does so right after its first frame.
    """
    if not ctx.args.demo:
        return run(ctx)
    from .emulator import Emulator

    emulator = Emulator()  # it accepts the demo key
    try:
        emulator.reserve() if serve_later else emulator.start()
        ctx.demo = emulator
        ctx.endpoint = emulator.url
        return run(ctx)
    finally:
        emulator.stop()


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        try:  # a room ID in a terminal that cannot show it prints escaped, never crashes
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("gme-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`history | head`); nothing more to say.
        _emit(lambda: None)
        return EXIT_OK


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "emulator":
            return _emulator(args)
        return _dispatch(_context(args))
    except fields.FieldError as error:
        print(f"gme-tui: {error}", file=sys.stderr)
        return EXIT_INVALID
    except CannotRun as error:
        print(f"gme-tui: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except GmeError as error:  # pragma: no cover - send() turns these into outcomes
        print(f"gme-tui: {error}", file=sys.stderr)
        return EXIT_TRANSPORT
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as error:
        print(f"gme-tui: internal error: {type(error).__name__}: {error} "
              "(please report it; nothing secret is in this message)", file=sys.stderr)
        return EXIT_CANNOT_RUN


def entry() -> None:  # pragma: no cover
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
