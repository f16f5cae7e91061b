"""The command palette: the screen's actions that fit now, plus app-wide settings."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ConsoleCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands: list[tuple[str, str, Callable[[], object]]] = []
        palette = getattr(self.screen, "palette_commands", None)
        if palette is not None:
            commands += palette()
        app = self.app
        settings = getattr(app, "settings", None)
        if settings is not None and hasattr(app, "set_confirm_start"):
            enabled = settings.confirm_start
            commands.append(
                (
                    "Turn the StartRecord confirmation " + ("off" if enabled else "on"),
                    "a setting kept in the settings file",
                    lambda: app.set_confirm_start(not enabled),
                )
            )
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
