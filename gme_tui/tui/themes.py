"""Colour themes from YAML files, turned into Textual themes.

Themes are data, not code, so a user can add one by dropping a file into
`<config dir>/themes/`. A file is checked here, up front, as far as Textual's
own parsers go: a colour or a CSS variable Textual cannot read would otherwise
surface later as a stylesheet error that stops the app when the theme is
chosen. A broken file costs a warning naming it and the problem, never the app.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.color import Color, ColorParseError
from textual.css.constants import VALID_STYLE_FLAGS
from textual.css.tokenize import tokenize_values
from textual.design import ColorSystem
from textual.theme import Theme

from gme_tui.api.fields import quote
from gme_tui.paths import UnreadableFile, bundled_themes_dir, read_text
from gme_tui.paths import themes_dir as user_themes_dir
from gme_tui.settings import bounded, first_line, yaml_loader, yaml_problem

if TYPE_CHECKING:
    import yaml

COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "background",
    "surface",
    "panel",
    "foreground",
    "warning",
    "error",
    "success",
)
KEYS = ("name", "dark", "variables", *COLOUR_KEYS)
THEME_SUFFIXES = (".yaml", ".yml")

# Textual puts the name in a CSS class (`-theme-<name>`) and rejects any other shape.
_NAME = re.compile(r"[a-zA-Z_-][a-zA-Z0-9_-]*")
_VARIABLE = _NAME
#: a theme's name is a CSS class and a settings value: kept short
NAME_MAX = 64
_COLOUR_AND_ALPHA = re.compile(r"(?P<colour>.*?)(?:\s+(?P<alpha>\d+(?:\.\d+)?%))?")


class ThemeFileError(ValueError):
    """One problem in one theme file, already phrased for the operator.

    `key` is where in the file it lies, ("primary",) or ("variables", "border"),
    so the loader can add the line number.
    """

    def __init__(self, message: str, key: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.key = key


def load_all_themes() -> tuple[list[Theme], list[str]]:
    """The bundled themes, then the user's, which may add to or replace them."""
    bundled = bundled_themes_dir()
    themes, warnings = load_themes([bundled, user_themes_dir()])
    if not bundled.is_dir():
        warnings.insert(
            0, f"{bundled}: the bundled themes are missing (a packaging fault); using Textual's own themes"
        )
    return themes, warnings


def load_themes(dirs: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    """Every valid theme in `dirs`, in order; a later theme of the same name wins.

    Files are read in name order so the result never depends on the file
    system. A folder that does not exist is skipped quietly: most users never
    make a themes folder. Never raises.
    """
    themes: dict[str, Theme] = {}
    warnings: list[str] = []
    for folder in dirs:
        folder = Path(folder)
        try:
            paths = sorted(
                p
                for p in folder.iterdir()
                if p.suffix.lower() in THEME_SUFFIXES and not p.name.startswith(".")
            )
        except FileNotFoundError:
            continue
        except OSError as error:
            warnings.append(f"{folder}: cannot list the themes folder ({error.strerror or error})")
            continue
        from_this_folder: dict[str, Path] = {}
        in_this_folder: list[str] = []
        for path in paths:
            try:
                theme = load_theme_file(path)
            except ThemeFileError as error:
                in_this_folder.append(f"{error}; theme skipped")
                continue
            if theme.name in from_this_folder:
                in_this_folder.append(
                    f"{path}: theme {quote(theme.name)} is also defined in "
                    f"{from_this_folder[theme.name].name}; this file wins"
                )
            from_this_folder[theme.name] = path
            themes[theme.name] = theme
        warnings += bounded(in_this_folder, folder)
    return list(themes.values()), warnings


def find_theme(name: str) -> Theme | None:
    """The theme called `name` from a file named after it (user folder first), or None
    when there is no such file or it is broken (`load_all_themes` then reports why)."""
    for folder in (user_themes_dir(), bundled_themes_dir()):
        for suffix in THEME_SUFFIXES:
            path = folder / f"{name}{suffix}"
            if path.is_file():
                try:
                    theme = load_theme_file(path)
                except (ThemeFileError, OSError, ValueError):
                    return None
                return theme if theme.name == name else None
    return None


def load_theme_file(path: Path) -> Theme:
    """One theme file as a Textual theme, or `ThemeFileError` saying what to fix."""
    try:
        text = read_text(path, "theme file")
    except UnreadableFile as error:
        raise ThemeFileError(str(error)) from None
    simple = simple_mapping(text)
    if simple is not None:
        try:
            return theme_from_mapping(simple)
        except ThemeFileError:
            pass  # said again below, with the line YAML knows
    import yaml  # a theme beyond `simple_mapping`, or a broken one: after the first frame

    try:
        loader = yaml_loader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise ThemeFileError(yaml_problem(error, text, path)) from None
    except ValueError as error:  # a scalar YAML resolves but cannot build, 2024-13-45
        raise ThemeFileError(f"{path}: not valid YAML ({first_line(error)})") from None
    if not isinstance(data, dict):
        raise ThemeFileError(f"{path}: a theme must be a mapping of key: value lines")
    try:
        return theme_from_mapping(data)
    except ThemeFileError as error:
        line = _line_of(root, error.key) if root is not None else None
        where = f"{path}:{line}" if line else str(path)
        raise ThemeFileError(f"{where}: {error}") from None


#: the lines of a theme file as they are written: `key: value`, the variables indented
#: by two spaces below `variables:`, comments and blank lines
_TOP = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_-]*):(?:[ ]+(?P<value>.*))?")
_NESTED = re.compile(r"  (?P<key>[A-Za-z_][A-Za-z0-9_-]*):[ ]+(?P<value>.+)")
_VALUE = re.compile(
    r"""(?:"(?P<double>[^"\\]*)"|'(?P<single>[^']*)'|(?P<bare>[A-Za-z][A-Za-z0-9_-]*))(?:[ ]+\#.*)?"""
)
#: bare words YAML 1.1 reads as something other than the word
_NOT_WORDS = {"y", "n", "yes", "no", "on", "off", "null", "true", "false"}


def simple_mapping(text: str) -> dict[str, Any] | None:
    """A theme file read without YAML, or None where it is written in any way that
    YAML might read otherwise (then YAML reads it).

    YAML (the parser and its import) is the slowest part of reading the chosen theme
    before the first frame (benchmarks/startup.py); every bundled theme, and a theme
    written as they are, is plain `key: "value"` lines. What is read here is what YAML
    reads: quoted strings without escapes, `true`/`false`, and bare words that YAML
    keeps as words; a duplicate key, a tab, a number, an escape or any other shape
    goes to YAML."""
    if not text.replace("\n", "").replace("\r", "").isprintable():
        return None  # control or separator characters: YAML's reader has its own rules
    data: dict[str, Any] = {}
    variables: dict[str, Any] | None = None
    for line in text.splitlines():
        line = line.rstrip(" ")
        if not line or line.lstrip(" ").startswith("#"):
            continue
        nested = _NESTED.fullmatch(line) if variables is not None else None
        top = None if nested else _TOP.fullmatch(line)
        match = nested or top
        if match is None:
            return None
        key, raw = match["key"], match["value"]
        target = variables if nested else data
        if target is None or key in target or key in data:
            return None
        if top is not None:
            variables = None
            if raw is None:
                if key != "variables":
                    return None
                variables = data[key] = {}
                continue
        value = _VALUE.fullmatch(raw)
        if value is None:
            return None
        if value["bare"] is not None:
            word = value["bare"]
            if word in ("true", "false"):
                target[key] = word == "true"
                continue
            if word.lower() in _NOT_WORDS:
                return None
            target[key] = word
        else:
            target[key] = value["double"] if value["double"] is not None else value["single"]
    return data


def _line_of(node: yaml.Node, key: tuple[str, ...]) -> int | None:
    """The line of a key, walking mappings by key text; None when it is not in the file."""
    import yaml

    line = None
    for part in key:
        if not isinstance(node, yaml.MappingNode):
            return line
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            return line
    return line


def theme_from_mapping(data: dict[Any, Any]) -> Theme:
    """Check a theme's fields and build it; `ThemeFileError` names the first fault."""
    for key in data:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ThemeFileError(f"unknown key {quote(key)}{hint}", (str(key),))
    if "name" not in data:
        raise ThemeFileError("name is required (the name that settings.yaml and the theme picker use)")
    name = data["name"]
    if not isinstance(name, str) or len(name) > NAME_MAX or not _NAME.fullmatch(name):
        raise ThemeFileError(
            f"name must be letters, digits, '-' or '_', not starting with a digit, at most {NAME_MAX} "
            f"characters (got {quote(name)})",
            ("name",),
        )
    if "primary" not in data:
        raise ThemeFileError("primary is required (the colour of focus and actions)")
    colours = {key: _colour(key, data[key]) for key in COLOUR_KEYS if key in data}
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"dark must be true or false (got {quote(dark)})", ("dark",))
    variables = _variables(data.get("variables", {}))
    theme = Theme(name=name, dark=dark, variables=variables, **colours)  # type: ignore[arg-type]
    try:
        theme.to_color_system().generate()
    except Exception as error:  # noqa: BLE001 - Textual's own last word on the theme
        raise ThemeFileError(f"Textual cannot build the colours ({quote(first_line(error))})") from None
    return theme


def _colour(key: str, value: object) -> str:
    if value is None:
        # `primary: #ff0000` is a comment in YAML and leaves the key empty.
        raise ThemeFileError(
            f'{key} is empty; quote colours that start with #, as in {key}: "#ff0000"', (key,)
        )
    if not isinstance(value, str):
        raise ThemeFileError(f'{key} must be a colour such as "#ff0000" or red (got {quote(value)})', (key,))
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"{key} is not a colour Textual can read (got {quote(value)})", (key,)) from None
    return value


def _variables(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ThemeFileError("variables must be a mapping of CSS variable names to values", ("variables",))
    variables: dict[str, str] = {}
    for name, raw in value.items():
        try:
            variables[name] = _variable(name, raw)
        except ThemeFileError as error:
            raise ThemeFileError(str(error), ("variables", str(name))) from None
    return variables


def _variable(name: object, raw: object) -> str:
    if not isinstance(name, str) or not _VARIABLE.fullmatch(name):
        hint = " (write it without the $)" if isinstance(name, str) and name.startswith("$") else ""
        raise ThemeFileError(f"variables: {quote(name)} is not a CSS variable name{hint}")
    if raw is None:
        raise ThemeFileError(
            f'variables: {name} is empty; quote colours that start with #, as in {name}: "#ff0000"'
        )
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ThemeFileError(f"variables: {name} must be a CSS value (got {quote(raw)})")
    return _variable_value(name, str(raw))


def _variable_value(name: str, value: str) -> str:
    """Check a value against the kind of value Textual's default for `name` is.

    A colour variable given "reverse" tokenizes fine, yet breaks every rule
    that uses it; so Textual's own defaults decide the kind. Variables Textual
    does not know (ones this app may define) can only be checked as CSS tokens.
    """
    if "$" in value:
        raise ThemeFileError(
            f"variables: {name} cannot refer to another variable ({quote(value)}); give the colour itself"
        )
    try:
        tokenize_values({name: value})
    except Exception as error:  # noqa: BLE001 - the tokenizer's errors share no base
        raise ThemeFileError(f"variables: {name} is not a CSS value ({first_line(error)})") from None
    default = _textual_defaults().get(name)
    if default is None or value == default:
        return value
    if name.endswith("-style"):
        words = value.split()
        unknown = [word for word in words if word not in VALID_STYLE_FLAGS]
        if not words or unknown:
            raise ThemeFileError(
                f"variables: {name} must be text styles such as bold, underline or none (got {quote(value)})"
            )
        return value
    if not _is_colour_value(value, allow_auto=default.startswith("auto")):
        raise ThemeFileError(
            f"variables: {name} must be a colour, optionally with a percentage of opacity, "
            f'as in "#ff0000 50%" (got {quote(value)})'
        )
    return value


def _is_colour_value(value: str, allow_auto: bool) -> bool:
    match = _COLOUR_AND_ALPHA.fullmatch(value.strip())
    if not match:
        return False
    colour = match["colour"].strip()
    if colour == "auto":
        return allow_auto
    if not colour:
        return False
    try:
        Color.parse(colour)
    except ColorParseError:
        return False
    return True


@cache
def _textual_defaults() -> dict[str, str]:
    """The variables Textual defines for every theme, with its default values.

    Only the names and the kind of each value are used, and those do not
    depend on the colours given here.
    """
    return ColorSystem(primary="#808080", dark=True).generate()
