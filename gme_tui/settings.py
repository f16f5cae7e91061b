"""The operator's settings file (YAML), read forgivingly and written atomically.

A settings file is edited by hand, so a mistake in it must never stop the app:
every problem becomes a warning that names the key and the line to fix, and only
that key falls back to its default. Writing goes through a temporary file and
`os.replace`, so a crash or a full disk never leaves half a file behind.

Headless: the command line reads these settings too, so nothing here imports
Textual.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml
else:

    class _LazyYaml:
        """PyYAML loads on first use: a machine with no settings file never pays for it,
        and the one-shot command line starts that much faster."""

        def __getattr__(self, name: str) -> Any:
            import yaml as module

            globals()["yaml"] = module
            return getattr(module, name)

    yaml = _LazyYaml()

from gme_tui.api.fields import FieldError, parse_biz_id, quote
from gme_tui.options import (
    LANGUAGES,
    PROFILE_NAME,
    PROFILE_RULE,
    parse_endpoint,
    parse_profile_name,
    parse_region,
)
from gme_tui.paths import UnreadableFile, read_text, settings_path, write_atomically

DEFAULT_THEME = "gme-dark"
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class Settings:
    theme: str = DEFAULT_THEME
    """Name of a bundled or user theme; the app falls back to the default if unknown."""
    confirm_start: bool = True
    """Show the exact StartRecord body and ask before it goes out."""
    relaxed_user_ids: bool = False
    """Accept string OpenIDs in the user ID lists, not only decimal IDs."""
    recordings_refresh: float = 5.0
    """Seconds between two asks about a recording the recordings view follows (0.5 to 3600)."""
    bell_on_done: bool = False
    """Ring the terminal bell when a recording reaches done (a notification shows either way)."""
    default_biz_id: int | None = None
    """BizId prefilled in the forms; None leaves the field empty."""
    endpoint: str | None = None
    """API endpoint; None means https://gme.tencentcloudapi.com."""
    region: str | None = None
    """X-TC-Region (optional for GME)."""
    language: str | None = None
    """X-TC-Language of service messages: zh-CN or en-US."""
    profile: str = DEFAULT_PROFILE
    """The profile used when --profile is not given."""
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per profile, the keys it sets over the ones above (only those it sets)."""
    keymap: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Binding id -> (the keys it gets, comma-separated; the file's line), as Posting's
    keymap. Which ids exist is the console's to check (`tui.keys`): it warns with the line."""

    def for_profile(self, name: str) -> Settings:
        """The settings as seen from one profile: its own keys over the shared ones."""
        return dataclasses.replace(self, **self.profiles.get(name, {}))

    @property
    def biz_id_text(self) -> str:
        """The default BizId as the form shows it, or "" when there is none."""
        return str(self.default_biz_id) if self.default_biz_id else ""


class SettingsWriteError(OSError):
    """The settings could not be saved; `str()` says which file and why.

    An `OSError`, so callers that already handle disk errors need nothing new.
    """

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, f"cannot save settings to {path}: {cause.strerror or cause}")
        self.path = path

    def __str__(self) -> str:
        return str(self.strerror)


# --- checking one value ----------------------------------------------------------
# Each checker takes a YAML scalar node's constructed value (and its raw text) and
# returns the typed value or raises ValueError whose text is the rule, phrased to
# follow the key's name: "theme must be ...".


def _check_theme(value: object, raw: str | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be the name of a theme (got {_shown(value, raw)})")
    return value.strip()


def _check_flag(value: object, raw: str | None = None) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false (got {_shown(value, raw)})")
    return value


#: the shortest and longest interval `recordings_refresh` takes
REFRESH_RANGE = (0.5, 3600.0)


def _check_refresh(value: object, raw: str | None = None) -> float:
    low, high = REFRESH_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"must be a number of seconds from {low:g} to {high:g} (got {_shown(value, raw)})")
    return float(value)


def _check_biz_id(value: object, raw: str | None = None) -> int | None:
    """Delegates to `api.fields`, the one home of the BizId rule.

    The raw YAML text is what gets parsed when there is one: YAML 1.1 would read
    `017` as octal 15 and `1_000` as 1000, and an ID must mean what it says.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if raw is not None:
        text = raw  # any scalar, even true or 1.5e9: parse_biz_id names the offending text
    elif isinstance(value, int | str) and not isinstance(value, bool):
        text = str(value)
    else:
        raise ValueError(f"must be a BizId in decimal digits (got {_shown(value, raw)})")
    try:
        return parse_biz_id(text)
    except FieldError as error:
        raise ValueError(error.rule) from None


def _check_endpoint(value: object, raw: str | None = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be an https:// URL (got {_shown(value, raw)})")
    try:
        return parse_endpoint(value)
    except FieldError as error:
        raise ValueError(error.rule) from None


def _check_region(value: object, raw: str | None = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be a region name like ap-guangzhou (got {_shown(value, raw)})")
    try:
        return parse_region(value)
    except FieldError as error:
        raise ValueError(error.rule) from None


def _check_language(value: object, raw: str | None = None) -> str | None:
    if value is None:
        return None
    if value not in LANGUAGES:
        raise ValueError(f"must be {' or '.join(LANGUAGES)} (got {_shown(value, raw)})")
    return str(value)


def _check_profile(value: object, raw: str | None = None) -> str:
    try:
        return parse_profile_name(value)
    except FieldError as error:
        raise ValueError(f"must be a profile name: {error.rule} (got {_shown(value, raw)})") from None


def _shown(value: object, raw: str | None) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return quote(raw if raw is not None else value)


#: keys a profile may set over the shared ones
_PROFILE_CHECKS: dict[str, Callable[..., Any]] = {
    "theme": _check_theme,
    "confirm_start": _check_flag,
    "relaxed_user_ids": _check_flag,
    "recordings_refresh": _check_refresh,
    "bell_on_done": _check_flag,
    "default_biz_id": _check_biz_id,
    "endpoint": _check_endpoint,
    "region": _check_region,
    "language": _check_language,
}
_CHECKS: dict[str, Callable[..., Any]] = {**_PROFILE_CHECKS, "profile": _check_profile}
assert set(_CHECKS) | {"profiles", "keymap"} == {f.name for f in dataclasses.fields(Settings)}

_DEFAULTS = Settings()


# --- reading ---------------------------------------------------------------------


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The settings and a warning for each problem; never raises.

    A missing file is the defaults with no warning: a new user has none yet.
    Each warning reads `FILE:LINE: key rule; using the default ...` where a line
    is known, so an editor or a reader can jump straight to it.
    """
    path = Path(path) if path is not None else settings_path()
    try:
        text = read_text(path, "settings file")
    except UnreadableFile as error:
        return _DEFAULTS, [] if error.missing else [f"{error}; using the default settings"]
    settings, warnings = _parse(text, path)
    return settings, bounded(warnings, path)


def bounded(warnings: list[str], where: Path) -> list[str]:
    """At most `MAX_WARNINGS` of them, and a line saying how many more: a file of 100,000 bad
    lines (or a folder of 100,000 bad themes) must not flood the terminal. Shared with themes."""
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    more = len(warnings) - MAX_WARNINGS
    return [*warnings[:MAX_WARNINGS], f"{where}: {more} more problems like these are not listed"]


#: how many of a settings file's problems are told, one line each
MAX_WARNINGS = 20
#: how deep YAML may nest: the composer recurses, and 100,000 `[` would end the app
MAX_YAML_DEPTH = 64


def yaml_loader(text: str) -> yaml.SafeLoader:
    """A SafeLoader whose composer refuses nesting deeper than `MAX_YAML_DEPTH` with a
    `ComposerError` at the line where it goes too deep: shared with the theme loader.
    The scanner and parser below it keep no recursion, so the check comes before any."""
    return _bounded_loader()(text)


@functools.cache
def _bounded_loader() -> type[yaml.SafeLoader]:
    class BoundedLoader(yaml.SafeLoader):
        depth = 0

        def compose_sequence_node(self, anchor: Any) -> Any:
            return self._deeper(super().compose_sequence_node, anchor)

        def compose_mapping_node(self, anchor: Any) -> Any:
            return self._deeper(super().compose_mapping_node, anchor)

        def _deeper(self, compose: Callable[[Any], Any], anchor: Any) -> Any:
            if self.depth >= MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", self.peek_event().start_mark
                )
            self.depth += 1
            try:
                return compose(anchor)
            finally:
                self.depth -= 1

    return BoundedLoader


def _parse(text: str, path: Path) -> tuple[Settings, list[str]]:
    try:
        loader = yaml_loader(text)  # checks every character at once: may raise ReaderError
    except yaml.YAMLError as error:
        return _DEFAULTS, [f"{yaml_problem(error, text, path)}; using the default settings"]
    try:
        root = loader.get_single_node()
        return _read_mapping(root, loader, path)
    except yaml.YAMLError as error:
        return _DEFAULTS, [f"{yaml_problem(error, text, path)}; using the default settings"]
    finally:
        loader.dispose()


def yaml_problem(error: yaml.YAMLError, text: str, path: Path) -> str:
    """`FILE:LINE: not valid YAML (what)`: shared with the theme loader."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or error.context or "unreadable"
        if error.context and error.context_mark and mark is not error.context_mark:
            problem += f", {error.context} from line {error.context_mark.line + 1}"
    else:  # ReaderError: a control character, for one
        position = getattr(error, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else None
        problem = getattr(error, "reason", None) or first_line(error)
        if isinstance(error, yaml.reader.ReaderError):
            problem = f"{error.reason}: character {error.character!r}"
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: not valid YAML ({problem})"


def _read_mapping(root: yaml.Node | None, loader: yaml.SafeLoader, path: Path) -> tuple[Settings, list[str]]:
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == "tag:yaml.org,2002:null"):
        return _DEFAULTS, []  # an empty file, or one holding only comments
    if not isinstance(root, yaml.MappingNode):
        return _DEFAULTS, [
            f"{path}:{root.start_mark.line + 1}: the settings must be a mapping of "
            "key: value lines; using the default settings"
        ]
    values, warnings = _read_keys(root, loader, path, _CHECKS, allow_profiles=True)
    return dataclasses.replace(_DEFAULTS, **values), warnings


def _read_keys(
    node: yaml.MappingNode,
    loader: yaml.SafeLoader,
    path: Path,
    checks: dict[str, Callable[..., Any]],
    *,
    allow_profiles: bool,
    prefix: str = "",
) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    seen: dict[str, int] = {}
    warnings: list[str] = []
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key == "profiles" and allow_profiles:
            values["profiles"], more = _read_profiles(value_node, loader, path)
            warnings += more
            continue
        if key == "keymap" and allow_profiles:
            values["keymap"], more = _read_keymap(value_node, path)
            warnings += more
            continue
        if key not in checks:
            warnings.append(f"{path}:{line}: {prefix}{_unknown_key(key, checks)}; it is ignored")
            continue
        if key in seen:
            warnings.append(
                f"{path}:{line}: {prefix}{key} is set twice (also on line {seen[key]}); the later one is used"
            )
            values.pop(key, None)
        seen[key] = line
        try:
            values[key] = _value_of(key, value_node, loader)
        except ValueError as error:
            value_line = value_node.start_mark.line + 1
            warnings.append(
                f"{path}:{value_line}: {prefix}{key} {error}; using the default {_default_words(key)}"
            )
    return values, warnings


# --- the keymap --------------------------------------------------------------------
# Keys as Textual spells them: modifiers joined by "+" before one key, which is a
# printable character ("?", "S") or a name ("f5", "escape", "question_mark"). Checked
# here, without Textual, so that a typo is told with its line like any other setting;
# which binding ids exist, and which keys clash, is the console's to check (`tui.keys`).

_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
_NAMED_KEYS = frozenset(
    "escape enter tab space backspace delete insert home end pageup pagedown up down left right".split()
    + [f"f{n}" for n in range(1, 25)]
)
#: Textual's short names of some characters' Unicode names
_SHORT_NAMES = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
#: how many keys one binding may take, and how long one key may be written
MAX_KEYS_PER_BINDING = 4
MAX_KEY_TEXT = 40
#: a binding id as the console names them: `main.send`, `history.load`
_BINDING_ID = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")


def check_key(text: str) -> str:
    """One key in Textual's spelling (`?` becomes `question_mark`, as Textual makes it);
    ValueError says what is wrong with it."""
    import unicodedata

    if not text or len(text) > MAX_KEY_TEXT:
        raise ValueError(f"{quote(text)} is not a key")
    *modifiers, base = [text] if len(text) == 1 else text.split("+")
    if any(m not in _MODIFIERS for m in modifiers) or len(set(modifiers)) != len(modifiers):
        raise ValueError(f"{quote(text)}: a key's modifiers are {', '.join(_MODIFIERS)}, each once")
    if not base or (len(base) == 1 and (not base.isprintable() or base.isspace())):
        raise ValueError(f"{quote(text)} is not a key")
    if len(base) == 1:
        if not base.isalnum():
            base = unicodedata.name(base, base).lower().replace("-", "_").replace(" ", "_")
            base = _SHORT_NAMES.get(base, base)
    elif base not in _NAMED_KEYS and base not in _SHORT_NAMES.values():
        try:
            if len(unicodedata.lookup(base.replace("_", " "))) != 1:
                raise KeyError(base)
        except KeyError:
            raise ValueError(
                f"{quote(text)}: {quote(base)} is not a key (f1 to f24, escape, enter, tab, space, "
                "up, a letter or digit, a character such as ? or its name such as question_mark)"
            ) from None
    return "+".join([*modifiers, base])


def check_keys(value: object) -> str:
    """A binding's keys: one, or several separated by commas (`f5,ctrl+k`), in Textual's spelling."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a key such as f5 or ctrl+t, or several separated by commas")
    parts = [part.strip() for part in value.split(",")]
    if len(parts) > MAX_KEYS_PER_BINDING:
        raise ValueError(f"takes at most {MAX_KEYS_PER_BINDING} keys (got {len(parts)})")
    keys = [check_key(part) for part in parts]
    if len(set(keys)) != len(keys):
        raise ValueError(f"names the same key twice (got {quote(value)})")
    return ",".join(keys)


def _read_keymap(node: yaml.Node, path: Path) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """`binding.id: keys` lines, each with its line number; a bad one is left out with a warning."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return {}, []  # `keymap:` with nothing under it
    if not isinstance(node, yaml.MappingNode):
        return {}, [
            f"{path}:{node.start_mark.line + 1}: keymap must be a mapping of binding ids to keys; it is ignored"
        ]
    keymap: dict[str, tuple[str, int]] = {}
    warnings: list[str] = []
    for id_node, keys_node in node.value:
        line = id_node.start_mark.line + 1
        binding_id = id_node.value if isinstance(id_node, yaml.ScalarNode) else None
        if not isinstance(binding_id, str) or not _BINDING_ID.fullmatch(binding_id):
            shown = quote(binding_id) if isinstance(binding_id, str) else "a key that is not plain text"
            warnings.append(
                f"{path}:{line}: keymap: {shown} is not a binding id such as main.send; it is ignored"
            )
            continue
        if binding_id in keymap:
            warnings.append(
                f"{path}:{line}: keymap.{binding_id} is set twice (also on line {keymap[binding_id][1]}); "
                "the later one is used"
            )
            del keymap[binding_id]
        # The text as written, never a YAML reading of it: `1` is the key 1, `no` the keys n, o.
        plain = isinstance(keys_node, yaml.ScalarNode) and keys_node.tag != "tag:yaml.org,2002:null"
        try:
            keys = check_keys(keys_node.value if plain else None)
        except ValueError as error:
            warnings.append(
                f"{path}:{keys_node.start_mark.line + 1}: keymap.{binding_id} {error}; the default key stays"
            )
            continue
        keymap[binding_id] = (keys, line)
    return keymap, warnings


def _read_profiles(
    node: yaml.Node, loader: yaml.SafeLoader, path: Path
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        return {}, [f"{path}:{line}: profiles must be a mapping of profile names to settings; it is ignored"]
    profiles: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for name_node, body in node.value:
        name = name_node.value if isinstance(name_node, yaml.ScalarNode) else None
        where = f"{path}:{name_node.start_mark.line + 1}"
        if not isinstance(name, str) or not PROFILE_NAME.fullmatch(name):
            warnings.append(
                f"{where}: profile name {quote(name) if isinstance(name, str) else name} must be {PROFILE_RULE}; it is ignored"
            )
            continue
        if isinstance(body, yaml.ScalarNode) and body.tag == "tag:yaml.org,2002:null":
            profiles[name] = {}
            continue
        if not isinstance(body, yaml.MappingNode):
            warnings.append(f"{where}: profile {name} must be a mapping of settings; it is ignored")
            continue
        profiles[name], more = _read_keys(
            body, loader, path, _PROFILE_CHECKS, allow_profiles=False, prefix=f"profiles.{name}."
        )
        warnings += more
    return profiles, warnings


def _value_of(key: str, node: yaml.Node, loader: yaml.SafeLoader) -> Any:
    """Only scalars are constructed: every setting is one, and that keeps odd YAML inert."""
    if isinstance(node, yaml.SequenceNode):
        return _CHECKS[key]([])
    if isinstance(node, yaml.MappingNode):
        return _CHECKS[key]({})
    try:
        value = loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
        # An explicit tag SafeLoader refuses, or a date like 2024-13-45.
        raise ValueError(f"has a value YAML cannot read ({first_line(error)})") from None
    return _CHECKS[key](value, node.value)


def _unknown_key(key: str | None, checks: dict[str, Callable[..., Any]] | None = None) -> str:
    if key is None:
        return "a key must be plain text"
    import difflib  # only a mistake in the file needs it

    close = difflib.get_close_matches(key, list(checks if checks is not None else _CHECKS), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key {quote(key)}{hint}"


def _default_words(key: str) -> str:
    value = getattr(_DEFAULTS, key)
    if value is None:
        return "(none)"
    return str(value).lower() if isinstance(value, bool) else repr(value)


def first_line(error: BaseException) -> str:
    """An error's message cut to its first line (its type's name if it has none): shared
    with the theme loader."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# --- writing ---------------------------------------------------------------------

_HEADER = (
    "# gme-tui settings. The app rewrites this file when you change a setting in it,\n"
    "# so comments and unknown keys are not kept.\n"
)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write every known key, atomically; raise `SettingsWriteError` on failure.

    A temporary file in the same folder is written, flushed to disk and renamed
    over the old one, so readers see the old file or the new one, never a mix.
    A symlinked settings file (dotfile managers) is written through the link, so
    the link survives. A new file is private to the user (mode 0600, from
    `mkstemp`); an existing file keeps its mode.
    """
    path = Path(path) if path is not None else settings_path()
    target = _writable_target(path)
    saved = dataclasses.asdict(settings)
    saved["keymap"] = {binding_id: keys for binding_id, (keys, _line) in settings.keymap.items()}
    if not saved["keymap"]:
        del saved["keymap"]  # the file says only what the operator chose
    body = _HEADER + yaml.safe_dump(saved, sort_keys=False, allow_unicode=True)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, body.encode("utf-8"))
    except OSError as error:
        raise SettingsWriteError(target, error) from error


def _writable_target(path: Path) -> Path:
    """The file a save replaces (through a symlink), if it is a regular file or not there yet:
    settings pointed at /dev/zero or a FIFO must never be copied to a backup or replaced."""
    import errno

    target = path.resolve() if path.is_symlink() else path
    if target.exists() and not target.is_file():
        reason = OSError(errno.EINVAL, "it is not a regular file; nothing was written")
        raise SettingsWriteError(target, reason)
    return target


def update_settings(path: Path | None = None, *, profile: str | None = None, **changes: Any) -> Settings:
    """Load, apply `changes`, save, and return the new settings.

    Values go through the same checks as the file, so `default_biz_id="123"`
    is stored as 123 and a bad value raises ValueError before anything is
    written; an unknown name raises TypeError. When the file on disk had
    problems, saving would drop the broken lines, so it is first copied to
    `settings.yaml.bak` for the user to recover from.
    """
    path = Path(path) if path is not None else settings_path()
    allowed = _PROFILE_CHECKS if profile is not None else _CHECKS
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise TypeError(f"unknown setting {unknown[0]!r}; known: {', '.join(allowed)}")
    checked: dict[str, Any] = {}
    for key, value in changes.items():
        try:
            checked[key] = _CHECKS[key](value)
        except ValueError as error:
            raise ValueError(f"{key} {error}") from None
    current, warnings = load_settings(path)
    _writable_target(path)
    if warnings and path.exists():
        backup = path.with_name(path.name + ".bak")
        try:
            import shutil

            shutil.copy2(path, backup)
        except OSError as error:
            raise SettingsWriteError(backup, error) from error
    if profile is not None:
        _check_profile(profile)
        profiles = {name: dict(keys) for name, keys in current.profiles.items()}
        profiles.setdefault(profile, {}).update(checked)
        new = dataclasses.replace(current, profiles=profiles)
    else:
        new = dataclasses.replace(current, **checked)
    save_settings(new, path)
    return new
