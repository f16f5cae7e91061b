"""The entry point: arguments → context → the command, and no traceback ever.

The one-shot path never imports Textual (a test proves it), so scripts start
fast; the console is started lazily, by the one import of `gme_tui.tui` here.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..api import fields
from ..api.errors import GmeError
from ..context import Context, resolve
from ..safe_text import clean, failure_text
from . import commands
from .exits import EXIT_CANNOT_RUN, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_TRANSPORT, CannotRun
from .parser import build_parser, flags_from, parse_arguments

if TYPE_CHECKING:
    from ..emulator import Emulator


def context_for(args: argparse.Namespace) -> tuple[Context, list[str]]:
    """The context of these arguments, and the settings file's warnings (printed here for a
    one-shot command; the console shows them itself, on screen)."""
    from ..settings import load_settings

    settings, warnings = load_settings()
    if args.command is not None:
        for warning in warnings:
            say(f"warning: {warning}")
    return resolve(flags_from(args), settings), warnings


def say(message: str) -> None:
    """One line to stderr, its outside parts (a path, a file's text) made safe to show."""
    print(f"gme-tui: {clean(message)}", file=sys.stderr)


def _console(ctx: Context, warnings: list[str], serve_demo: Callable[[], object] | None) -> int:
    from ..tui.app import run_app

    long_running()
    return run_app(ctx, warnings, serve_demo)


def long_running() -> None:
    """This command runs for as long as the operator likes (the console, the emulator):
    the garbage collector on again, and a normal exit at the end (`gme_tui.__main__.entry`)."""
    gc.enable()


def _dispatch(args: argparse.Namespace, ctx: Context, warnings: list[str]) -> int:
    command = args.command
    if command == "credentials":
        from .credentials import run

        return run(args, ctx)
    if command == "history":
        return commands.history(args, ctx)
    if command == "batch":
        from . import batch

        if args.batch_command in ("list",) or (args.batch_command == "status" and not args.refresh):
            return batch.run(args, ctx)  # only reads the history: no emulator, no key
        return _with_demo(ctx, lambda ctx, _: batch.run(args, ctx))
    if command in ("recordings", "watch", "reconcile"):
        from . import recordings

        if command == "recordings":
            if not args.refresh:  # only reads the history: no emulator, no key
                return recordings.recordings(args, ctx)
            return _with_demo(ctx, lambda ctx, _: recordings.recordings(args, ctx))
        if command == "reconcile":
            return _with_demo(ctx, lambda ctx, _: recordings.reconcile(args, ctx))
        plan = recordings.Watch.of(args, ctx)  # checked before an emulator starts
        return _with_demo(ctx, lambda ctx, _: recordings.watch(plan, ctx))
    if command is None:
        return _with_demo(ctx, lambda ctx, serve: _console(ctx, warnings, serve), serve_later=True)
    try:
        action = commands.action_for(args, ctx)
    except fields.FieldError as error:
        raise fields.FieldError(error.field, f"{error.rule}; nothing was sent") from None
    if getattr(args, "dry_run", False):
        return _with_demo(ctx, lambda ctx, _: commands.dry_run(args, ctx, action))
    return _with_demo(ctx, lambda ctx, _: commands.send(args, ctx, action))


def _with_demo(
    ctx: Context, run: Callable[[Context, Callable[[], object] | None], int], *, serve_later: bool = False
) -> int:
    """In --demo, run against an emulator started for this command only, whose tasks live
    in the demo folder beside the demo history: every demo process (the console, a
    one-shot command, the next run) shares them. What was wrong with that file is said
    once on stderr, before the command runs; it never stops the demo.

    With `serve_later` its port is taken now, and `run` is handed what starts it
    serving: the console does so right after its first frame.
    """
    if not ctx.demo:
        return run(ctx, None)
    from ..demo import LOOPBACK, host_header, listen

    try:
        listener = listen()  # the port now; the emulator is made when it serves
    except OSError as error:
        raise CannotRun(
            f"the demo's emulator could not take a port on {LOOPBACK}: {failure_text(error)}"
        ) from None
    made: list[Emulator] = []

    def serve() -> Emulator:
        from ..emulator import Emulator

        # it accepts the demo key; ctx.data_dir is the demo folder in --demo
        made.append(Emulator(state_file=ctx.data_dir / "emulator.sqlite3", warn=say, listener=listener))
        return made[0].start()

    try:
        url = f"http://{host_header(LOOPBACK, listener.getsockname()[1])}"
        if not serve_later:
            serve()
        return run(ctx.pinned_to(url), serve if serve_later else None)
    finally:
        if made:
            made[0].stop()
        else:
            listener.close()


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
        commands.emit(lambda: None)
        return EXIT_OK


def _main(argv: list[str] | None) -> int:
    try:
        args = parse_arguments(argv)
    except SystemExit as done:  # argparse's own errors (2), --help and --version (0): returned, not raised
        return EXIT_OK if done.code is None else done.code if isinstance(done.code, int) else EXIT_INVALID
    try:
        if args.command == "emulator":
            long_running()
            return commands.emulator(args)
        if args.command == "completion":  # needs no settings, profile or history
            from .completion import script

            print(script(args.shell, build_parser()), end="")
            return EXIT_OK
        ctx, warnings = context_for(args)
        return _dispatch(args, ctx, warnings)
    except fields.FieldError as error:
        say(str(error))
        return EXIT_INVALID
    except CannotRun as error:
        say(str(error))
        return EXIT_CANNOT_RUN
    except GmeError as error:  # pragma: no cover - send() turns these into outcomes
        say(str(error))
        return EXIT_TRANSPORT
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as error:
        say(f"internal error: {failure_text(error)} (please report it; nothing secret is in this message)")
        return EXIT_CANNOT_RUN


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
