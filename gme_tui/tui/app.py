"""The console app: wires settings, themes, credentials, the client and the history
into the main screen. Only this package imports Textual."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from ..api.signing import SigningKey
from ..history import History
from ..settings import Settings, load_settings, update_settings
from .commands import ConsoleCommands
from .themes import load_all_themes

if TYPE_CHECKING:
    from ..cli import Context

DEFAULT_THEME = "gme-dark"


@dataclass(frozen=True)
class AppConfig:
    """Everything the app needs from the command line, decided before it starts."""

    profile: str
    endpoint: str
    data_dir: Path
    key: SigningKey | None = None
    key_problem: str | None = None
    region: str | None = None
    language: str | None = None
    timeout: float = 10.0
    demo: bool = False
    default_biz_id: str = ""
    settings_path: Path | None = None
    use_env_proxies: bool = True


class GmeApp(App[int]):
    CSS_PATH = ["app.tcss", "widgets/history_panel.tcss"]
    TITLE = "gme-tui"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True, id="app.quit")]

    def __init__(self, config: AppConfig) -> None:
        super().__init__()
        self.config = config
        self.settings, self.setting_warnings = load_settings(config.settings_path)
        self.history: History | None = None
        self.history_problem: str | None = None
        try:
            self.history = History.in_dir(config.data_dir)
        except Exception as error:  # sqlite3.Error, OSError: shown, never a traceback
            self.history_problem = f"{config.data_dir}: {error}"
        self._client = None
        self.sub_title = f"{'DEMO · ' if config.demo else ''}{config.profile} · {config.endpoint}" + (
            f" · {config.region}" if config.region else "")
        self.theme_warnings: list[str] = []
        self._install_themes()

    @property
    def client(self):
        """Built on the first send: httpx is a third of a cold start and the form needs none of it."""
        if self._client is None and self.config.key is not None:
            from ..api.client import GmeClient

            config = self.config
            self._client = GmeClient(config.key, endpoint=config.endpoint, region=config.region,
                                     language=config.language, timeout=config.timeout,
                                     use_env_proxies=config.use_env_proxies)
        return self._client

    @property
    def default_biz_id(self) -> str:
        """The command line's (or the demo's) BizId, else the settings' default."""
        if self.config.default_biz_id:
            return self.config.default_biz_id
        return str(self.settings.default_biz_id) if self.settings.default_biz_id else ""

    def _install_themes(self) -> None:
        themes, self.theme_warnings = load_all_themes()
        for theme in themes:
            self.register_theme(theme)
        wanted = self.settings.theme
        if wanted not in self.available_themes:
            self.theme_warnings.append(f"theme {wanted!r} not found; using {DEFAULT_THEME}")
            wanted = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = wanted

    def on_mount(self) -> None:
        from .screens.main import MainScreen

        self.push_screen(MainScreen())
        for warning in [*self.setting_warnings, *self.theme_warnings]:
            self.notify(warning, title="Settings", severity="warning", timeout=8)

    def watch_theme(self, theme: str) -> None:
        """The choice persists in the settings file (from the palette or anywhere)."""
        if not self.is_running or theme == self.settings.theme:
            return
        self._save(theme=theme)

    def set_confirm_start(self, enabled: bool) -> None:
        self._save(confirm_start=enabled)
        self.notify("A confirmation now shows the body before StartRecord goes out." if enabled
                    else "StartRecord now goes out without a confirmation.")

    def _save(self, **changes: object) -> None:
        try:
            self.settings = update_settings(self.config.settings_path, **changes)
        except (OSError, ValueError) as error:
            self.settings = Settings(**{**self.settings.__dict__, **changes})
            self.notify(f"{error}; the change lasts until you quit", title="Settings not saved",
                        severity="warning")

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self.history is not None:
            self.history.close()


def config_from_cli(ctx: Context) -> AppConfig:
    from ..config import data_dir

    key = ctx.key(required=False)
    folder = data_dir(ctx.args.data_dir)
    if ctx.args.demo:
        folder = folder / "demo"
    biz = ctx.default_biz()
    return AppConfig(
        profile=ctx.profile, endpoint=ctx.endpoint, data_dir=folder, key=key,
        key_problem=None if key is not None else
        "No credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or run with --demo.",
        region=ctx.args.region, language=ctx.args.language, timeout=ctx.timeout, demo=ctx.args.demo,
        default_biz_id=biz, use_env_proxies=not ctx.args.demo,
    )


def run_app(ctx: Context) -> int:
    app = GmeApp(config_from_cli(ctx))
    app.run()
    return app.return_code or 0
