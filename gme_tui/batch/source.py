"""The rooms of a batch, read from a CSV file, a YAML list or a `--rooms` pattern,
and checked line by line before anything is sent.

Two steps, so that the command line and the console can share both:
`read_source(text, name)` or `expand_rooms(pattern)` find the cells of each row
and the line it stands on (`Rows`); `start_batch`, `stop_batch` or
`modify_batch` check every row with `gme_tui.api.fields`, the one home of every
rule, and give a `Batch` (rooms with their lines) or `Rejected` (every error,
the first `MAX_SHOWN` kept and the rest counted, so that a file is fixed in one
pass). Bad input never raises: it becomes a `Problem` naming the line (1-based,
the CSV header is line 1), the field and the rule in `fields`' own words.

Which format: a name ending in `.csv` is CSV, `.yaml` or `.yml` YAML (any case).
Anything else, standard input (`-`) included, is decided by its content: YAML when
the first character that is not blank is `-`, `[`, `#` or `%` (a list, a comment,
a directive), since a CSV file starts with its header, a column name; else CSV.

The columns: `RoomId,RecordMode,SubscribeUserIds,UnSubscribeUserIds`, spelled
exactly, in any order; only RoomId must be there. IDs in a list cell are
separated by blanks or `;` (commas too, inside a quoted cell, as `fields` reads
them). An empty cell takes the default given on the command line (`Defaults`),
per cell: a row's blocklist does not drop a default allowlist, and both set is
`fields`' warning, carried in `Batch.warnings`. A stop batch needs only RoomId:
the other columns may be there (the file that started a batch can stop it) and
are neither read nor checked.

Nothing read is trusted: at most `MAX_SOURCE_BYTES`, `MAX_ROOMS` rooms and
`MAX_CELL` characters a cell; a BOM at the start is dropped, CRLF read as a line
end, a NUL byte or bytes that are not UTF-8 refused as binary. YAML is read as
events from PyYAML's safe loader, never built into objects: only a list of flat
mappings whose values are scalars (or lists of scalars for the two ID lists) is
accepted, so depth is bounded by construction, an alias (billion laughs) is
refused where it stands, and values are kept as written (`001` stays `001`, a
long user ID never becomes a number).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal

from gme_tui.api.actions import ModifyRecordInfo, StartRecord
from gme_tui.api.fields import (
    ALLOW,
    BLOCK,
    RECORD_MODE,
    ROOM_ID,
    Checked,
    RecordMode,
    Subscription,
    check_lists,
    parse_record_mode,
    parse_room_id,
    quote,
)

if TYPE_CHECKING:
    import yaml

#: a batch file is a list of rooms; 4 MiB holds 10,000 rooms with full lists of 20 IDs
MAX_SOURCE_BYTES = 4 * 1024 * 1024
#: at 19 sends a second about nine minutes; events have 50 to 500 rooms, and more is
#: most likely a pattern with one brace too many: split it into batches
MAX_ROOMS = 10_000
#: the widest cell: 20 IDs of 127 characters with their separators fit
MAX_CELL = 4096
#: the longest `--rooms` pattern
MAX_PATTERN = 1024
#: how many errors a `Rejected` keeps; the rest are counted
MAX_SHOWN = 100

COLUMNS = (ROOM_ID, RECORD_MODE, ALLOW, BLOCK)
Kind = Literal["start", "stop", "modify"]
Format = Literal["csv", "yaml", "rooms"]
_COLUMN_WORDS = ", ".join(COLUMNS)
_NULL_TAG = "tag:yaml.org,2002:null"
_PLAIN_TAGS = (None, "!", "tag:yaml.org,2002:str")
#: how deep a YAML entry may nest before reading stops (a valid one nests two levels)
_MAX_DEPTH = 8
_RANGE = re.compile(r"([0-9]{1,18})\.\.([0-9]{1,18})")


@dataclass(frozen=True)
class Problem:
    """An error or a warning: `line` None is about the source as a whole (or a default),
    `field` None about no one field. `unit` is `room` for a pattern: its position."""

    line: int | None
    field: str | None
    rule: str
    unit: str = "line"

    def __str__(self) -> str:
        where = f"{self.unit} {self.line}: " if self.line is not None else ""
        return f"{where}{self.field}: {self.rule}" if self.field else f"{where}{self.rule}"


@dataclass(frozen=True)
class Rows:
    """A source read but not checked: each row's line and its cells as text."""

    format: Format
    rows: tuple[tuple[int, dict[str, str]], ...]
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Defaults:
    """The command line's `--mode`, `--allow`, `--block` as typed: they fill empty cells."""

    mode: str = ""
    allow: str = ""
    block: str = ""
    relaxed: bool = False


@dataclass(frozen=True)
class Room:
    """One checked row. `mode` is None only in a stop batch; `subscription` None when
    both lists are empty (every stream is recorded)."""

    line: int
    room: str
    mode: RecordMode | None = None
    subscription: Subscription | None = None

    def start_record(self, biz_id: int) -> StartRecord:
        if self.mode is None:
            raise TypeError(f"room {self.room!r} has no RecordMode (a stop batch)")
        return StartRecord(biz_id, self.room, self.mode, self.subscription)

    def modify_record(self, biz_id: int, task_id: int) -> ModifyRecordInfo:
        """ModifyRecordInfo is aimed at a task: the runner finds the room's TaskId first."""
        if self.mode is None:
            raise TypeError(f"room {self.room!r} has no RecordMode (a stop batch)")
        return ModifyRecordInfo(biz_id, task_id, self.mode, self.subscription)


@dataclass(frozen=True)
class Batch:
    """Every row passed: ready to run. `warnings` must be shown before sending."""

    kind: Kind
    format: Format
    rooms: tuple[Room, ...]
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """Nothing may be sent: the first `MAX_SHOWN` errors in line order, and how many in all."""

    errors: tuple[Problem, ...]
    total: int

    def lines(self) -> list[str]:
        more = self.total - len(self.errors)
        return [str(error) for error in self.errors] + ([f"and {more} more errors"] if more > 0 else [])


# --- reading ---------------------------------------------------------------


def read_source(text: str | bytes, name: str = "-") -> Rows:
    """The rows of a batch file or of standard input (`name` `-`). Bytes are decoded here,
    so that the command line can pass standard input as read (at most
    `MAX_SOURCE_BYTES` + 1 of it, to tell a larger one)."""
    decoded = _decode(text)
    if isinstance(decoded, Problem):
        return Rows("csv", (), (decoded,))
    if source_format(decoded, name) == "yaml":
        return _read_yaml(decoded)
    return _read_csv(decoded)


def source_format(text: str, name: str = "-") -> Literal["csv", "yaml"]:
    """CSV or YAML, by the name's extension, else by the first character that is not blank."""
    suffix = PurePath(name).suffix.lower() if name != "-" else ""
    if suffix in (".csv", ".yaml", ".yml"):
        return "csv" if suffix == ".csv" else "yaml"
    first = re.search(r"\S", text)
    return "yaml" if first and first.group() in "-[#%" else "csv"


def _decode(text: str | bytes) -> str | Problem:
    too_large = len(text) > MAX_SOURCE_BYTES  # characters are at least one byte each
    if isinstance(text, str) and not too_large:
        too_large = len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES
    if too_large:
        return Problem(None, None, f"the batch must be at most {MAX_SOURCE_BYTES >> 20} MiB; it is larger")
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw.count(b"\n", 0, error.start) + 1
            return Problem(line, None, "not UTF-8 text: a batch is CSV or YAML text, not binary")
    nul = text.find("\0")
    if nul >= 0:
        return Problem(_line_at(text, nul), None, "a NUL byte: a batch is CSV or YAML text, not binary")
    return text.removeprefix("\ufeff")


def _line_at(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _read_csv(text: str) -> Rows:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    try:
        header = next((cells for cells in reader if any(cell.strip() for cell in cells)), None)
        if header is None:
            return Rows("csv", (), ())
        problems += _header_problems(header, reader.line_num)
        if problems:
            return Rows("csv", (), tuple(problems))
        end, entries = reader.line_num, 0
        for cells in reader:
            line, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a spreadsheet's `,,,`
            entries += 1
            if entries > MAX_ROOMS:
                problems.append(_too_many())
                break
            row = _csv_row(header, cells, line)
            if isinstance(row, Problem):
                problems.append(row)
            else:
                rows.append((line, row))
    except csv.Error as error:
        problems.append(Problem(reader.line_num, None, f"not valid CSV ({error})"))
    return Rows("csv", tuple(rows), tuple(problems))


def _header_problems(header: list[str], line: int) -> list[Problem]:
    counts = Counter(header)
    unknown = [name for name in counts if name not in COLUMNS]
    problems = []
    if unknown:
        named = ", ".join(quote(name) for name in unknown[:5]) + (" and more" if len(unknown) > 5 else "")
        problems.append(Problem(line, None, f"unknown column {named} (the columns are {_COLUMN_WORDS})"))
    twice = [name for name in COLUMNS if counts[name] > 1]
    if twice:
        problems.append(Problem(line, None, f"the column {', '.join(twice)} is named twice"))
    if ROOM_ID not in counts:
        problems.append(Problem(line, None, f"the header must name a {ROOM_ID} column"))
    return problems


def _csv_row(header: list[str], cells: list[str], line: int) -> dict[str, str] | Problem:
    if len(cells) > len(header):
        return Problem(line, None, f"has {len(cells)} cells; the header has {len(header)}")
    row = dict(zip(header, cells, strict=False))
    for name, cell in row.items():
        if len(cell) > MAX_CELL:
            return _too_long(line, name, cell)
    return row


def _too_many() -> Problem:
    """About the whole batch, so told first, before whatever the rows read so far hold."""
    return Problem(None, None, f"a batch holds at most {MAX_ROOMS} rooms; split it into smaller batches")


def _too_long(line: int, name: str, cell: str) -> Problem:
    return Problem(line, name, f"a cell holds at most {MAX_CELL} characters (has {len(cell)})")


class _Stop(Exception):
    """The YAML cannot be read further: its problem ends the reading."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.rule)
        self.problem = problem


def _read_yaml(text: str) -> Rows:
    import yaml

    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    loader: yaml.SafeLoader | None = None
    try:
        # libyaml's parser where PyYAML has it: ten times as fast, the same events
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # may raise ReaderError
        _yaml_rows(loader, rows, problems)
    except yaml.YAMLError as error:
        problems.append(_yaml_problem(error, text))
    except _Stop as stop:
        problems.append(stop.problem)
    finally:
        if loader is not None:
            loader.dispose()
    return Rows("yaml", tuple(rows), tuple(problems))


def _yaml_problem(error: yaml.YAMLError, text: str) -> Problem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    position = getattr(error, "position", None)
    line = mark.line + 1 if mark else _line_at(text, position) if isinstance(position, int) else None
    problem = getattr(error, "problem", None) or getattr(error, "reason", None) or "unreadable"
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and context_mark and mark is not context_mark:
        problem += f", {context} from line {context_mark.line + 1}"
    return Problem(line, None, f"not valid YAML ({problem})")


_SHAPE = f"a batch in YAML is a list of rooms, each a mapping of {_COLUMN_WORDS}"


def _yaml_rows(
    loader: yaml.SafeLoader, rows: list[tuple[int, dict[str, str]]], problems: list[Problem]
) -> None:
    import yaml

    loader.get_event()  # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        return
    loader.get_event()  # DocumentStart
    root = _next(loader)
    if isinstance(root, yaml.ScalarEvent) and _scalar_tag(loader, root) == _NULL_TAG:
        pass  # a file of comments only: no rooms, said by the check
    elif not isinstance(root, yaml.SequenceStartEvent):
        raise _Stop(Problem(_line_of(root), None, _SHAPE))
    else:
        entries = 0
        while not isinstance(event := _next(loader), yaml.SequenceEndEvent):
            line, entries = _line_of(event), entries + 1
            if entries > MAX_ROOMS:
                raise _Stop(_too_many())
            if not isinstance(event, yaml.MappingStartEvent):
                problems.append(Problem(line, None, f"an entry that is not a mapping: {_SHAPE}"))
                _skip(loader, event)
                continue
            row = _yaml_mapping(loader, line, problems)
            if row is not None:
                rows.append((line, row))
    loader.get_event()  # DocumentEnd
    if loader.check_event(yaml.DocumentStartEvent):
        raise _Stop(Problem(_line_of(loader.peek_event()), None, "a batch is one YAML document"))


def _line_of(event: yaml.Event) -> int:
    """Where an event stands, 1-based; the parser marks every event it makes."""
    return event.start_mark.line + 1 if event.start_mark else 0


def _next(loader: yaml.SafeLoader) -> yaml.Event:
    import yaml

    event = loader.get_event()
    if isinstance(event, yaml.AliasEvent):
        line = _line_of(event)
        raise _Stop(Problem(line, None, f"an alias (*{event.anchor}) is not allowed in a batch"))
    return event


def _skip(loader: yaml.SafeLoader, event: yaml.Event) -> None:
    """Past the node `event` starts: a nested one is only counted through, never kept."""
    import yaml

    depth = int(isinstance(event, yaml.CollectionStartEvent))
    while depth:
        if depth > _MAX_DEPTH:  # the scanner slows with each level: a batch never nests so
            raise _Stop(Problem(_line_of(event), None, f"nested deeper than {_MAX_DEPTH} levels: {_SHAPE}"))
        event = _next(loader)
        depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)


def _yaml_mapping(loader: yaml.SafeLoader, line: int, problems: list[Problem]) -> dict[str, str] | None:
    import yaml

    row: dict[str, str] = {}
    bad = 0
    while not isinstance(key := _next(loader), yaml.MappingEndEvent):
        name = key.value if isinstance(key, yaml.ScalarEvent) else None
        _skip(loader, key)
        value = _yaml_value(loader, _next(loader), name, line)
        if name not in COLUMNS:
            shown = f"unknown key {quote(name)}" if name is not None else "a key must be text"
            value = Problem(line, None, f"{shown} (the keys are {_COLUMN_WORDS})")
        elif name in row:
            value = Problem(line, name, "is given twice in one entry")
        if isinstance(value, Problem):
            bad += 1
            if bad <= len(COLUMNS):  # an entry of a million bad keys is told in a few
                problems.append(value)
        elif name is not None:
            row[name] = value
    return None if bad else row


def _yaml_value(loader: yaml.SafeLoader, event: yaml.Event, name: str | None, line: int) -> str | Problem:
    """A scalar as written (null is an empty cell), or a list of scalars for the ID lists."""
    import yaml

    if isinstance(event, yaml.ScalarEvent):
        text = _scalar_text(loader, event)
    elif isinstance(event, yaml.SequenceStartEvent) and name in (ALLOW, BLOCK):
        parts: list[str | Problem] = []
        while not isinstance(item := _next(loader), yaml.SequenceEndEvent):
            parts.append(
                _scalar_text(loader, item) if isinstance(item, yaml.ScalarEvent) else _nested(line, name)
            )
            _skip(loader, item)
        problem = next((part for part in parts if isinstance(part, Problem)), None)
        text = problem or " ".join(part for part in parts if isinstance(part, str))
    else:
        _skip(loader, event)
        return _nested(line, name)
    if isinstance(text, str) and len(text) > MAX_CELL:
        return _too_long(line, name or "", text)
    return text


def _nested(line: int, name: str | None) -> Problem:
    lists = f"a value, or for {ALLOW} and {BLOCK} a list of values"
    return Problem(line, name, f"must be {lists}, not a nested list or mapping")


def _scalar_tag(loader: yaml.SafeLoader, event: yaml.ScalarEvent) -> str:
    import yaml

    return str(loader.resolve(yaml.ScalarNode, event.value, event.implicit))


def _scalar_text(loader: yaml.SafeLoader, event: yaml.ScalarEvent) -> str | Problem:
    if event.tag not in _PLAIN_TAGS:
        return Problem(_line_of(event), None, f"a value must not carry a YAML tag ({event.tag})")
    return "" if event.tag is None and _scalar_tag(loader, event) == _NULL_TAG else event.value


def expand_rooms(pattern: str) -> Rows:
    """`--rooms match-{001..120}`: a numeric range keeps the width of a zero-padded end,
    `{a,b,c}` gives alternatives, several braces multiply (the first varies slowest, as
    in a shell). Each room's `line` is its position. Braces do not nest, and a brace
    that is neither is an error: a room named with braces comes from a file."""
    groups = _brace_groups(pattern)
    if isinstance(groups, Problem):
        return Rows("rooms", (), (groups,))
    rooms = ("".join(parts) for parts in itertools.product(*groups))
    return Rows("rooms", tuple((number, {ROOM_ID: room}) for number, room in enumerate(rooms, 1)))


def _brace_groups(pattern: str) -> list[list[str]] | Problem:
    def bad(rule: str) -> Problem:
        return Problem(None, None, f"the pattern {rule}")

    if len(pattern) > MAX_PATTERN:
        return bad(f"must be at most {MAX_PATTERN} characters (has {len(pattern)})")
    pieces = re.split(r"(\{[^{}]*\})", pattern)
    count = 1
    for piece in pieces[::2]:
        if "{" in piece or "}" in piece:
            return bad(f"has an unmatched or nested brace in {quote(piece)}")
    specs: list[range | tuple[str, ...]] = []
    widths: list[int] = []
    for index, piece in enumerate(pieces):
        inner, width = piece[1:-1], 0
        found = _RANGE.fullmatch(inner) if index % 2 else None
        if found:
            low, high = found.groups()
            padded = any(len(end) > 1 and end[0] == "0" for end in (low, high))
            width = max(len(low), len(high)) if padded else 0
            step = 1 if int(low) <= int(high) else -1
            specs.append(range(int(low), int(high) + step, step))
        elif index % 2 and "," in inner:
            specs.append(tuple(inner.split(",")))
        elif index % 2:
            return bad(f"brace {quote(piece)} must hold a range like {{1..9}} or choices like {{a,b}}")
        else:
            specs.append((piece,))
        widths.append(width)
        count *= len(specs[-1])
        if count > MAX_ROOMS:
            return _too_many()
    return [
        [f"{value:0{width}d}" for value in spec] if isinstance(spec, range) else list(spec)
        for spec, width in zip(specs, widths, strict=True)
    ]


# --- checking --------------------------------------------------------------


def start_batch(rows: Rows, defaults: Defaults | None = None) -> Batch | Rejected:
    """StartRecord for each row: RoomId, RecordMode (a cell or the default) and the lists."""
    return _check(rows, "start", defaults or Defaults())


def stop_batch(rows: Rows) -> Batch | Rejected:
    """StopRecord for each row's room: only RoomId is read (the runner finds the TaskId)."""
    return _check(rows, "stop", Defaults())


def modify_batch(rows: Rows, defaults: Defaults | None = None) -> Batch | Rejected:
    """ModifyRecordInfo for each row's room, to RecordMode and the lists (a cell or the default)."""
    return _check(rows, "modify", defaults or Defaults())


def _check(rows: Rows, kind: Kind, defaults: Defaults) -> Batch | Rejected:
    unit = "room" if rows.format == "rooms" else "line"
    errors = list(rows.problems)
    warnings: list[Problem] = []
    told = set() if kind == "stop" else _check_defaults(defaults, rows, errors)
    rooms: list[Room] = []
    first_line: dict[str, int] = {}
    for line, cells in rows.rows:
        checked = _check_row(cells, kind, defaults)
        for name, error in checked.errors.items():
            if not (name in told and not cells.get(name, "").strip()):  # a bad default is told once
                errors.append(Problem(line, name, error.rule, unit))
        warnings += [Problem(line, warning.field, warning.message, unit) for warning in checked.warnings]
        room = checked.values.get(ROOM_ID)
        if not isinstance(room, str):
            continue
        if room in first_line:
            rule = f"{quote(room)} is already at {unit} {first_line[room]}; a room is in a batch once"
            errors.append(Problem(line, ROOM_ID, rule, unit))
            continue
        first_line[room] = line
        mode, sub = checked.values.get(RECORD_MODE), checked.values.get("Subscription")
        rooms.append(
            Room(
                line,
                room,
                mode if isinstance(mode, RecordMode) else None,
                sub if isinstance(sub, Subscription) and sub else None,
            )
        )
    if not rows.rows and not errors:
        errors.append(Problem(None, None, "the batch holds no rooms"))
    if errors:
        errors.sort(key=lambda problem: -1 if problem.line is None else problem.line)
        return Rejected(tuple(errors[:MAX_SHOWN]), len(errors))
    return Batch(kind, rows.format, tuple(rooms), tuple(warnings))


def _check_row(cells: dict[str, str], kind: Kind, defaults: Defaults) -> Checked:
    def cell(name: str, default: str) -> str:
        text = cells.get(name, "")
        return text if text.strip() else default

    checked = Checked()
    checked.run(ROOM_ID, parse_room_id, cells.get(ROOM_ID, ""))
    if kind != "stop":
        checked.run(RECORD_MODE, parse_record_mode, cell(RECORD_MODE, defaults.mode))
        allow, block = _ids(cell(ALLOW, defaults.allow)), _ids(cell(BLOCK, defaults.block))
        check_lists(checked, allow, block, defaults.relaxed)
    return checked


def _check_defaults(defaults: Defaults, rows: Rows, errors: list[Problem]) -> set[str]:
    """The defaults checked once: a bad `--mode`, or none where no row gives a mode (a
    pattern without `--mode`), is one error, not one per row."""
    checked = Checked()
    some_mode = any(cells.get(RECORD_MODE, "").strip() for _, cells in rows.rows)
    if defaults.mode.strip() or (rows.rows and not some_mode):
        checked.run(RECORD_MODE, parse_record_mode, defaults.mode)
    check_lists(checked, _ids(defaults.allow), _ids(defaults.block), defaults.relaxed)
    for name, error in checked.errors.items():
        missing = name == RECORD_MODE and not defaults.mode.strip()
        whose = "no row gives one and there is no default" if missing else "the default for every room"
        errors.append(Problem(None, name, f"{error.rule} ({whose})"))
    return set(checked.errors)


def _ids(text: str) -> str:
    """A batch cell may also separate IDs with `;` (a CSV cell cannot hold a bare comma)."""
    return text.replace(";", " ")
