"""Regenerate docs/screenshot.svg: the main screen just after a successful start in the demo.

The README shows this picture, so it is taken from the real app, never drawn:
the app runs headless at 100x30 as `gme-tui --demo` would (an in-process
emulator with the demo credentials, the DEMO marker, the demo BizId), with its
history and settings in a throwaway folder so nothing of yours shows. It fills
the form as an operator would (RoomId `lobby`, mode mixed, allowlist
`10001, 10002`), sends StartRecord, confirms the body, waits for the answer
and saves the screen as SVG (Textual's own export).

    .venv/bin/python scripts/screenshot.py [--output docs/screenshot.svg]

The TaskId, RequestId, duration and time are real, so they change each run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE = (100, 30)
#: the port `gme-tui emulator` is shown with in the README, so the header reads the same each time
PREFERRED_PORT = 8765


async def take(output: Path, folder: Path) -> str:
    from textual.widgets import Input, TextArea

    from gme_tui.cli.main import context_for
    from gme_tui.cli.parser import build_parser
    from gme_tui.emulator import Emulator
    from gme_tui.tui.app import GmeApp
    from gme_tui.tui.screens.dialogs import ConfirmScreen

    try:
        emulator = Emulator(port=PREFERRED_PORT).start()
    except OSError:  # taken: any free port (the header then shows another number)
        emulator = Emulator().start()
    with emulator:
        # What `gme-tui --demo` builds, through the same code, with its history in a throwaway folder.
        ctx, warnings = context_for(build_parser().parse_args(["--demo", "--data-dir", str(folder / "data")]))
        app = GmeApp(ctx.pinned_to(emulator.url), warnings)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen
            for widget in [*screen.query(Input), *screen.query(TextArea)]:
                widget.cursor_blink = False  # a blinking cursor may be caught off
            await pilot.press(*"lobby", "tab", "2")  # RoomId (BizId is prefilled) -> RecordMode: mixed
            await pilot.press("tab", *"10001", "comma", "space", *"10002")  # the allowlist
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()
            if not isinstance(app.screen, ConfirmScreen):
                raise SystemExit(f"no confirmation after Ctrl+S: {screen.form.checked.errors}")
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            view = screen.response.view
            if view is None or view.kind != "ok":
                raise SystemExit(f"StartRecord did not succeed: {view}")
            await pilot.pause()
            app.save_screenshot(output.name, str(output.parent))
            return f"TaskId {view.task_id}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot.svg")
    args = parser.parse_args()
    output = args.output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        # Settings and user themes from here only: the picture shows the default theme.
        os.environ["GME_TUI_CONFIG"] = str(Path(folder, "config", "settings.yaml"))
        shown = asyncio.run(take(output, Path(folder)))
    print(f"wrote {output} ({shown})")


if __name__ == "__main__":
    main()
