"""The checked input of a batch (`gme_tui.batch.source`): CSV, YAML, `--rooms`
patterns and standard input, each line checked with `api.fields`, every error
named by its line, field and rule, and no input, however hostile, able to raise.
"""

from __future__ import annotations

import csv
import io

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gme_tui.api.actions import StartRecord
from gme_tui.api.fields import (
    ALLOW,
    BLOCK,
    RECORD_MODE,
    ROOM_ID,
    FieldError,
    RecordMode,
    Subscription,
    parse_record_mode,
    parse_room_id,
    parse_user_ids,
)
from gme_tui.batch.source import (
    MAX_CELL,
    MAX_ROOMS,
    MAX_SHOWN,
    MAX_SOURCE_BYTES,
    Batch,
    Defaults,
    Problem,
    Rejected,
    Room,
    Rows,
    expand_rooms,
    modify_batch,
    read_source,
    source_format,
    start_batch,
    stop_batch,
)

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = "RoomId,RecordMode,SubscribeUserIds,UnSubscribeUserIds"
MIXED = Defaults(mode="2")


def ok(result: Batch | Rejected) -> Batch:
    assert isinstance(result, Batch), result.lines() if isinstance(result, Rejected) else result
    return result


def rejected(result: Batch | Rejected) -> Rejected:
    assert isinstance(result, Rejected), f"expected errors, got {result}"
    assert result.total >= len(result.errors) >= 1
    return result


def rule_of(parse, *args, **kwargs) -> str:
    """What `fields` itself says of a value: the batch must say the same words."""
    with pytest.raises(FieldError) as caught:
        parse(*args, **kwargs)
    return caught.value.rule


def only(result: Batch | Rejected) -> Problem:
    errors = rejected(result).errors
    assert len(errors) == 1, [str(error) for error in errors]
    return errors[0]


@pytest.fixture(params=["libyaml", "pure"])
def yaml_loader(request, monkeypatch):
    """Every YAML test runs with libyaml's parser and with PyYAML's own (the fallback)."""
    if request.param == "pure":
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML is built without libyaml here")
    return request.param


# --- CSV ---------------------------------------------------------------------------


def test_csv_rows_become_rooms_with_their_lines_modes_and_lists():
    text = f"{HEADER}\nmatch-1,2,10001;10002 10003,\nmatch-2,single,,20001\n"
    batch = ok(start_batch(read_source(text, "rooms.csv")))
    assert batch.kind == "start" and batch.format == "csv"
    assert batch.rooms == (
        Room(2, "match-1", RecordMode.MIXED, Subscription(allow=("10001", "10002", "10003"))),
        Room(3, "match-2", RecordMode.SINGLE, Subscription(block=("20001",))),
    )
    assert batch.warnings == ()


def test_a_room_builds_the_start_record_the_runner_sends():
    batch = ok(start_batch(read_source(f"{HEADER}\nr,3,10001,\n", "a.csv")))
    request = batch.rooms[0].start_record(1400089356)
    assert request == StartRecord(1400089356, "r", RecordMode.BOTH, Subscription(allow=("10001",)))
    assert request.params()["SubscribeRecordUserIds"] == {"SubscribeUserIds": ["10001"]}
    modify = batch.rooms[0].modify_record(1400089356, 446192236330927912)
    assert modify.params()["TaskId"] == 446192236330927912 and modify.params()["RecordMode"] == 3


def test_csv_only_room_id_is_needed_when_the_mode_is_a_default():
    batch = ok(start_batch(read_source("RoomId\na\nb\n", "x.csv"), MIXED))
    assert [(room.line, room.room, room.mode) for room in batch.rooms] == [
        (2, "a", RecordMode.MIXED),
        (3, "b", RecordMode.MIXED),
    ]


def test_csv_columns_in_any_order_and_fewer_cells_than_the_header():
    text = "UnSubscribeUserIds,RoomId,RecordMode\n10001,a,1\n,b\n"
    batch = ok(start_batch(read_source(text, "x.csv"), Defaults(mode="mixed")))
    assert batch.rooms[0] == Room(2, "a", RecordMode.SINGLE, Subscription(block=("10001",)))
    assert batch.rooms[1] == Room(3, "b", RecordMode.MIXED, None)


def test_csv_crlf_bom_blank_lines_and_quoted_cells():
    text = f'\ufeff{HEADER}\r\n\r\n"a,1",2,"10001,10002",\r\n,,,\r\n"b ""q""",1,,\r\n'
    batch = ok(start_batch(read_source(text.encode("utf-8"), "-")))
    assert [(room.line, room.room) for room in batch.rooms] == [(3, "a,1"), (5, 'b "q"')]
    assert batch.rooms[0].subscription == Subscription(allow=("10001", "10002"))


def test_csv_lines_count_a_quoted_cell_that_spans_lines():
    text = f'{HEADER}\n"a",2,"10001\n10002",\nb,9,,\n'
    error = only(start_batch(read_source(text, "x.csv")))
    assert (error.line, error.field) == (4, RECORD_MODE)


def test_csv_unknown_columns_are_named_and_nothing_is_read():
    error = only(start_batch(read_source("RoomId,Mode,roomid\na,1,b\n", "x.csv"), MIXED))
    assert error.line == 1
    assert "'Mode'" in error.rule and "'roomid'" in error.rule and "RecordMode" in error.rule


def test_csv_header_names_are_matched_exactly():
    first, second = rejected(start_batch(read_source(" RoomId\na\n", "x.csv"), MIXED)).errors
    assert "unknown column ' RoomId'" in first.rule and "must name a RoomId column" in second.rule
    assert "must name a RoomId column" in str(
        rejected(start_batch(read_source("RecordMode\n1\n", "x.csv"))).lines()
    )


def test_csv_blank_lines_before_the_header_keep_their_count():
    error = only(start_batch(read_source("\n\nRoomId,Mode\na,1\n", "x.csv"), MIXED))
    assert error.line == 3 and "'Mode'" in error.rule
    assert ok(start_batch(read_source("\n\nRoomId\na\n", "x.csv"), MIXED)).rooms == (
        Room(4, "a", RecordMode.MIXED),
    )


def test_csv_a_column_named_twice():
    error = only(start_batch(read_source("RoomId,RecordMode,RecordMode\na,1,1\n", "x.csv")))
    assert error.line == 1 and "RecordMode is named twice" in error.rule


def test_csv_more_cells_than_the_header():
    error = only(start_batch(read_source("RoomId,RecordMode\na,1,extra\n", "x.csv")))
    assert (error.line, error.field) == (2, None) and "3 cells" in error.rule


def test_csv_broken_quoting_names_its_line():
    error = only(start_batch(read_source('RoomId\na\n"b\n', "x.csv"), MIXED))
    assert error.line == 3 and "not valid CSV" in error.rule
    old_mac = ok(start_batch(read_source("RoomId\ra\rb\r", "x.csv"), MIXED))  # a lone CR ends a line
    assert [(room.line, room.room) for room in old_mac.rooms] == [(2, "a"), (3, "b")]


# --- defaults ----------------------------------------------------------------------


def test_defaults_fill_empty_cells_and_a_cell_overrides_them():
    text = f"{HEADER}\na,,,\nb,1,10009,\n"
    batch = ok(start_batch(read_source(text, "x.csv"), Defaults(mode="3", allow="10001;10002")))
    assert batch.rooms[0] == Room(2, "a", RecordMode.BOTH, Subscription(allow=("10001", "10002")))
    assert batch.rooms[1] == Room(3, "b", RecordMode.SINGLE, Subscription(allow=("10009",)))


def test_a_row_blocklist_with_a_default_allowlist_is_fields_warning():
    batch = ok(start_batch(read_source(f"{HEADER}\na,,,10005\n", "x.csv"), Defaults(mode="1", allow="10001")))
    assert batch.rooms[0].subscription == Subscription(("10001",), ("10005",))
    [warning] = batch.warnings
    assert (warning.line, warning.field) == (2, BLOCK) and "only one at a time" in warning.rule


def test_an_id_in_both_lists_is_fields_error():
    error = only(start_batch(read_source(f"{HEADER}\na,1,10001,10001\n", "x.csv")))
    assert (error.line, error.field) == (2, BLOCK)
    assert error.rule == "10001 is also in SubscribeUserIds; an ID may be in one list only"


def test_a_bad_default_is_one_error_not_one_per_row():
    text = "RoomId,RecordMode\n" + "".join(f"r{i},\n" for i in range(50)) + "last,1\n"
    result = rejected(start_batch(read_source(text, "x.csv"), Defaults(mode="loud")))
    assert result.total == 1
    assert result.errors[0].line is None and result.errors[0].field == RECORD_MODE
    assert rule_of(parse_record_mode, "loud") in result.errors[0].rule


def test_no_mode_anywhere_is_one_error():
    for rows in (expand_rooms("r{1..120}"), read_source("RoomId,RecordMode\na,\nb,\n", "x.csv")):
        error = only(start_batch(rows))
        assert (error.line, error.field) == (None, RECORD_MODE)
        assert error.rule.startswith(rule_of(parse_record_mode, "")) and "no default" in error.rule
    some = rejected(modify_batch(read_source("RoomId,RecordMode\na,1\nb,\n", "x.csv")))
    assert [(error.line, error.field) for error in some.errors] == [(3, RECORD_MODE)]


def test_relaxed_defaults_let_string_open_ids_through():
    text = f"{HEADER}\na,1,alice;bob,\n"
    strict = only(start_batch(read_source(text, "x.csv")))
    assert strict.field == ALLOW and strict.rule == rule_of(parse_user_ids, "alice", ALLOW)
    relaxed = ok(start_batch(read_source(text, "x.csv"), Defaults(relaxed=True)))
    assert relaxed.rooms[0].subscription == Subscription(allow=("alice", "bob"))


# --- every rule is fields' rule, on its line -----------------------------------------


@pytest.mark.parametrize(
    ("cells", "field", "parse", "value"),
    [
        (",1,,", ROOM_ID, parse_room_id, ""),
        (f"{'x' * 128},1,,", ROOM_ID, parse_room_id, "x" * 128),
        ("a\u202eb,1,,", ROOM_ID, parse_room_id, "a\u202eb"),
        ("a\x07,1,,", ROOM_ID, parse_room_id, "a\x07"),
        ("a,7,,", RECORD_MODE, parse_record_mode, "7"),
        ("a,,,", RECORD_MODE, parse_record_mode, ""),
        ("a,1,9999,", ALLOW, parse_user_ids, "9999"),
        ("a,1,,10001 10001", BLOCK, lambda text: parse_user_ids(text, BLOCK), "10001 10001"),
        (
            "a,1," + ";".join(str(10001 + i) for i in range(21)) + ",",
            ALLOW,
            parse_user_ids,
            " ".join(str(10001 + i) for i in range(21)),
        ),
    ],
)
def test_each_error_names_line_field_and_fields_own_rule(cells, field, parse, value):
    text = f"{HEADER}\nfine,1,,\n{cells}\n"
    error = only(start_batch(read_source(text, "x.csv")))
    assert (error.line, error.field) == (3, field)
    assert error.rule == rule_of(parse, value)
    assert str(error) == f"line 3: {field}: {error.rule}"


def test_every_error_is_told_in_line_order():
    text = f"{HEADER}\n,1,,\nb,9,,\nc,1,1,\nok,1,,\n"
    result = rejected(start_batch(read_source(text, "x.csv")))
    assert [(error.line, error.field) for error in result.errors] == [
        (2, ROOM_ID),
        (3, RECORD_MODE),
        (4, ALLOW),
    ]
    assert result.total == 3 and len(result.lines()) == 3


def test_the_same_room_twice_names_both_lines():
    text = "RoomId\na\nb\na\n"
    error = only(start_batch(read_source(text, "x.csv"), MIXED))
    assert (error.line, error.field) == (4, ROOM_ID)
    assert "'a'" in error.rule and "line 2" in error.rule


def test_errors_are_bounded_and_the_rest_counted():
    text = "RoomId,RecordMode\n" + "".join(f"r{i},9\n" for i in range(MAX_SHOWN + 50))
    result = rejected(start_batch(read_source(text, "x.csv")))
    assert len(result.errors) == MAX_SHOWN and result.total == MAX_SHOWN + 50
    assert result.lines()[-1] == "and 50 more errors"
    assert result.errors[0].line == 2 and result.errors[-1].line == MAX_SHOWN + 1


def test_an_empty_source_holds_no_rooms():
    for text in ("", "RoomId\n", "\n\n", "# nothing\n", "[]"):
        assert "holds no rooms" in only(start_batch(read_source(text), MIXED)).rule


# --- stop and modify ---------------------------------------------------------------------


def test_stop_reads_only_room_id_and_ignores_the_other_columns():
    text = f"{HEADER}\na,not a mode,nonsense,\nb,,,\n"
    batch = ok(stop_batch(read_source(text, "x.csv")))
    assert batch.kind == "stop"
    assert batch.rooms == (Room(2, "a"), Room(3, "b"))
    with pytest.raises(TypeError):
        batch.rooms[0].start_record(1)


def test_stop_still_checks_room_ids_duplicates_and_columns():
    result = rejected(stop_batch(read_source("RoomId\n\na\n a\na\n", "x.csv")))
    assert [(error.line, error.field) for error in result.errors] == [(4, ROOM_ID), (5, ROOM_ID)]
    assert "unknown column 'Task'" in only(stop_batch(read_source("RoomId,Task\na,1\n", "x.csv"))).rule


def test_stop_ignores_defaults_it_does_not_need():
    assert ok(stop_batch(expand_rooms("r{1..3}"))).rooms[2] == Room(3, "r3")


def test_modify_needs_a_mode_and_takes_the_lists():
    missing = only(modify_batch(read_source("RoomId\na\n", "x.csv")))
    assert missing.field == RECORD_MODE and missing.rule.startswith(rule_of(parse_record_mode, ""))
    batch = ok(modify_batch(read_source("RoomId,UnSubscribeUserIds\na,10001\n", "x.csv"), MIXED))
    assert batch.kind == "modify"
    assert batch.rooms[0] == Room(2, "a", RecordMode.MIXED, Subscription(block=("10001",)))


# --- YAML --------------------------------------------------------------------------


def test_yaml_list_of_mappings(yaml_loader):
    text = (
        "# tonight's matches\n"
        "- RoomId: match-1\n"
        "  RecordMode: 2\n"
        "  SubscribeUserIds: [10001, 10002]\n"
        "- {RoomId: match-2, RecordMode: single, UnSubscribeUserIds: 10003 10004}\n"
        "- RoomId: match-3\n"
        "  SubscribeUserIds:\n"
        "    - 10005\n"
    )
    batch = ok(start_batch(read_source(text, "tonight.yaml"), MIXED))
    assert batch.format == "yaml"
    assert batch.rooms == (
        Room(2, "match-1", RecordMode.MIXED, Subscription(allow=("10001", "10002"))),
        Room(5, "match-2", RecordMode.SINGLE, Subscription(block=("10003", "10004"))),
        Room(6, "match-3", RecordMode.MIXED, Subscription(allow=("10005",))),
    )


def test_yaml_values_are_kept_as_written(yaml_loader):
    text = "- RoomId: 001\n  RecordMode: ~\n  SubscribeUserIds: [9223372036854775807]\n- RoomId: 1e3\n- RoomId: yes\n"
    batch = ok(start_batch(read_source(text, "x.yml"), MIXED))
    assert [room.room for room in batch.rooms] == ["001", "1e3", "yes"]
    assert batch.rooms[0].mode == RecordMode.MIXED  # null is an empty cell: the default
    assert batch.rooms[0].subscription == Subscription(allow=("9223372036854775807",))


def test_yaml_errors_name_the_line_of_their_entry(yaml_loader):
    text = "- RoomId: a\n  RecordMode: 2\n- RoomId: b\n  RecordMode: 2.0\n- RoomId: a\n  RecordMode: 1\n"
    result = rejected(start_batch(read_source(text, "x.yaml")))
    assert [(error.line, error.field) for error in result.errors] == [(3, RECORD_MODE), (5, ROOM_ID)]
    assert result.errors[0].rule == rule_of(parse_record_mode, "2.0")
    assert "line 1" in result.errors[1].rule


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("RoomId: a\n", 1, "list of rooms"),
        ("just text\n", 1, "list of rooms"),
        ("- RoomId: a\n- [b]\n- c\n", 2, "not a mapping"),
        ("- RoomId: a\n  Room: b\n", 1, "unknown key 'Room'"),
        ("- RoomId: a\n  RoomId: b\n", 1, "twice"),
        ("- RoomId: [a, b]\n", 1, "nested list or mapping"),
        ("- RoomId: a\n  SubscribeUserIds: [[10001]]\n", 1, "nested list or mapping"),
        ("- RoomId: a\n  SubscribeUserIds: {10001: x}\n", 1, "nested list or mapping"),
        ("- RoomId: !!binary aGk=\n", 1, "tag"),
        ("- RoomId: !!python/object:os.system a\n", 1, "tag"),
        ("- {[a]: 1}\n", 1, "a key must be text"),
        ("- RoomId: a\n---\n- RoomId: b\n", 2, "one YAML document"),
        ("- RoomId: a\n- RoomId: 'b\n", 3, "quoted scalar from line 2"),
        ("- RoomId: a\n  RecordMode: 1\n\tx\n", 3, "not valid YAML"),
    ],
)
def test_yaml_of_another_shape_is_an_error_on_its_line(yaml_loader, text, line, says):
    errors = rejected(start_batch(read_source(text, "x.yaml"), MIXED)).errors
    assert any(error.line == line and says in error.rule for error in errors), [str(e) for e in errors]


def test_yaml_aliases_are_refused(yaml_loader):
    text = "- &row {RoomId: a}\n- *row\n"
    error = only(start_batch(read_source(text, "x.yaml"), MIXED))
    assert error.line == 2 and "alias (*row)" in error.rule
    merge = rejected(start_batch(read_source("- &r {RoomId: a}\n- <<: *r\n  RoomId: b\n", "x.yaml"), MIXED))
    assert any("alias" in error.rule for error in merge.errors)


def test_yaml_billion_laughs_is_refused_at_once(yaml_loader):
    laughs = ["- &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"- &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    laughs.append("- RoomId: *a11")
    result = rejected(start_batch(read_source("\n".join(laughs), "x.yaml"), MIXED))
    assert any("alias (*a0)" in error.rule for error in result.errors)
    assert result.total <= 3


@pytest.mark.parametrize("opener", ["[", "- ", "{a: "])
def test_yaml_nested_deep_is_refused_quickly(yaml_loader, opener):
    text = opener * (MAX_SOURCE_BYTES // len(opener) - 1)
    result = rejected(start_batch(read_source(text, "x.yaml"), MIXED))
    assert result.total <= 3
    assert any(
        "deeper" in e.rule or "not valid YAML" in e.rule or "list of rooms" in e.rule for e in result.errors
    )


def test_yaml_an_entry_of_many_bad_keys_is_told_in_a_few(yaml_loader):
    text = "- {" + "RoomId: a, " * 20_000 + "}\n"
    result = rejected(start_batch(read_source(text, "x.yaml"), MIXED))
    assert result.total <= 4


def test_yaml_control_characters_are_refused(yaml_loader):
    error = only(start_batch(read_source("- RoomId: a\x01b\n", "x.yaml"), MIXED))
    assert error.line == 1 and "not valid YAML" in error.rule or error.field == ROOM_ID
    quoted = only(start_batch(read_source('- RoomId: "a\\u202eb"\n', "x.yaml"), MIXED))
    assert quoted.field == ROOM_ID and quoted.rule == rule_of(parse_room_id, "a\u202eb")


# --- which format --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "format"),
    [
        ("x.csv", "- looks like yaml", "csv"),
        ("x.CSV", "", "csv"),
        ("x.yaml", "RoomId\n", "yaml"),
        ("x.YML", "", "yaml"),
        ("-", "RoomId\na\n", "csv"),
        ("-", "\ufeff\n  - RoomId: a\n", "yaml"),
        ("-", "[{RoomId: a}]", "yaml"),
        ("-", "# comment\n- RoomId: a\n", "yaml"),
        ("-", "%YAML 1.1\n---\n- RoomId: a\n", "yaml"),
        ("rooms.txt", "- RoomId: a\n", "yaml"),
        ("rooms.txt", '"RoomId"\na\n', "csv"),
        ("-", "", "csv"),
    ],
)
def test_format_by_extension_else_by_content(name, text, format):
    assert source_format(text.removeprefix("\ufeff"), name) == format


def test_standard_input_text_or_bytes_reads_as_a_file_does():
    csv_text = "RoomId,RecordMode\na,1\n"
    yaml_text = "- RoomId: a\n  RecordMode: 1\n"
    for text in (
        csv_text,
        yaml_text,
        csv_text.encode(),
        yaml_text.encode(),
        b"\xef\xbb\xbf" + yaml_text.encode(),
    ):
        assert ok(start_batch(read_source(text, "-"))).rooms == (
            Room(2 if "," in str(text) else 1, "a", RecordMode.SINGLE),
        )


# --- --rooms patterns --------------------------------------------------------------


def test_a_zero_padded_range_keeps_its_width():
    batch = ok(start_batch(expand_rooms("match-{001..120}"), MIXED))
    assert batch.format == "rooms" and len(batch.rooms) == 120
    assert [room.room for room in batch.rooms[:2]] == ["match-001", "match-002"]
    assert batch.rooms[-1] == Room(120, "match-120", RecordMode.MIXED)


@pytest.mark.parametrize(
    ("pattern", "rooms"),
    [
        ("r{1..3}", ["r1", "r2", "r3"]),
        ("r{9..11}", ["r9", "r10", "r11"]),
        ("r{01..3}", ["r01", "r02", "r03"]),
        ("r{1..003}", ["r001", "r002", "r003"]),
        ("r{3..1}", ["r3", "r2", "r1"]),
        ("r{0..0}", ["r0"]),
        ("{a,b,c}-x", ["a-x", "b-x", "c-x"]),
        ("{a,}z", ["az", "z"]),
        ("{a,b}{1..2}", ["a1", "a2", "b1", "b2"]),
        ("plain", ["plain"]),
        ("day{1..2}/{x,y}", ["day1/x", "day1/y", "day2/x", "day2/y"]),
    ],
)
def test_braces_expand_and_multiply(pattern, rooms):
    assert [cells[ROOM_ID] for _, cells in expand_rooms(pattern).rows] == rooms


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("r{1..3", "unmatched"),
        ("r1..3}", "unmatched"),
        ("r{{1..3}}", "unmatched or nested"),
        ("r{a,{b,c}}", "unmatched or nested"),
        ("r{x}", "must hold a range"),
        ("r{}", "must hold a range"),
        ("r{a..c}", "must hold a range"),
        ("r{-1..3}", "must hold a range"),
        ("r{1..10001}", f"at most {MAX_ROOMS} rooms"),
        ("{1..100}{1..100}{1..2}", f"at most {MAX_ROOMS} rooms"),
        ("{0..999999999999999999}", f"at most {MAX_ROOMS} rooms"),
        ("x" * 2000, "at most 1024 characters"),
    ],
)
def test_a_bad_pattern_is_one_error(pattern, says):
    error = only(start_batch(expand_rooms(pattern), MIXED))
    assert error.line is None and says in error.rule


def test_pattern_rooms_are_checked_and_numbered_by_position():
    result = rejected(start_batch(expand_rooms("{a,b,a, c}"), MIXED))
    assert [str(error) for error in result.errors] == [
        "room 3: RoomId: 'a' is already at room 1; a room is in a batch once",
        f"room 4: RoomId: {rule_of(parse_room_id, ' c')}",
    ]


def test_the_largest_pattern_allowed_is_allowed():
    assert len(ok(start_batch(expand_rooms("r{1..100}-{1..100}"), MIXED)).rooms) == MAX_ROOMS


# --- hostile input ---------------------------------------------------------------------


def test_a_source_over_the_size_bound_is_refused_whole():
    for text in (
        "x" * (MAX_SOURCE_BYTES + 1),
        b"RoomId\n" + b"a" * MAX_SOURCE_BYTES,
        "\u00e9" * (MAX_SOURCE_BYTES // 2 + 1),
    ):
        error = only(start_batch(read_source(text), MIXED))
        assert error.line is None and "at most 4 MiB" in error.rule


def test_binary_is_refused_with_its_line():
    assert "not UTF-8" in only(start_batch(read_source(b"RoomId\n\xff\xfe\x00\x01"), MIXED)).rule
    nul = only(start_batch(read_source("RoomId\na\nb\x00c\n"), MIXED))
    assert nul.line == 3 and "NUL" in nul.rule
    assert "NUL" in only(start_batch(read_source(b"\x00" * 100, "x.yaml"), MIXED)).rule


def test_a_bom_anywhere_but_the_start_is_fields_invisible_character():
    error = only(start_batch(read_source("RoomId\n\ufeffa\n"), MIXED))
    assert error.field == ROOM_ID and error.rule == rule_of(parse_room_id, "\ufeffa")


def test_too_many_rooms_in_a_file():
    for text in (
        "RoomId\n" + "".join(f"r{i}\n" for i in range(MAX_ROOMS + 1)),
        "".join(f"- RoomId: r{i}\n" for i in range(MAX_ROOMS + 1)),
        "[" + "1," * (MAX_SOURCE_BYTES // 2 - 2) + "]",
    ):
        result = rejected(start_batch(read_source(text), MIXED))
        assert any(f"at most {MAX_ROOMS} rooms" in error.rule for error in result.errors)
    exactly = "RoomId\n" + "".join(f"r{i}\n" for i in range(MAX_ROOMS))
    assert len(ok(start_batch(read_source(exactly), MIXED)).rooms) == MAX_ROOMS


def test_a_cell_over_the_bound_is_refused():
    error = only(start_batch(read_source(f"RoomId,SubscribeUserIds\na,{'1' * (MAX_CELL + 1)}\n"), MIXED))
    assert (error.line, error.field) == (2, ALLOW) and str(MAX_CELL) in error.rule
    error = only(
        start_batch(read_source(f"- RoomId: a\n  SubscribeUserIds: [{', '.join(['10001'] * 1000)}]\n"), MIXED)
    )
    assert error.field == ALLOW and str(MAX_CELL) in error.rule


def test_a_huge_header_is_told_in_one_short_line():
    error = rejected(
        start_batch(read_source(",".join(f"c{i}" for i in range(100_000)) + "\n"), MIXED)
    ).errors[0]
    assert len(error.rule) < 400 and "and more" in error.rule


@given(st.text(max_size=400))
@PROPERTY
def test_no_text_raises(text):
    rows = read_source(text)
    for check in (start_batch(rows, MIXED), stop_batch(rows), modify_batch(rows)):
        assert isinstance(check, Batch | Rejected)
        if isinstance(check, Rejected):
            assert all(isinstance(line, str) for line in check.lines())


@given(st.binary(max_size=400), st.sampled_from(["-", "x.csv", "x.yaml"]))
@PROPERTY
def test_no_bytes_raise(data, name):
    assert isinstance(start_batch(read_source(data, name), MIXED), Batch | Rejected)


@given(st.text(alphabet="{}.,0123456789ab-", max_size=40))
@PROPERTY
def test_no_pattern_raises(pattern):
    rows = expand_rooms(pattern)
    assert isinstance(rows, Rows) and len(rows.rows) <= MAX_ROOMS
    assert isinstance(start_batch(rows, MIXED), Batch | Rejected)


# --- round trips -----------------------------------------------------------------------

ROOM = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda room: room == room.strip())
IDS = st.lists(st.integers(10001, 2**63 - 1).map(str), max_size=5, unique=True)
#: rooms of a batch as a spreadsheet or a script would write them: room, mode, a list
ROWS = st.lists(
    st.tuples(ROOM, st.sampled_from(list(RecordMode)), IDS), min_size=1, max_size=20, unique_by=lambda r: r[0]
)


@given(ROWS)
@PROPERTY
def test_csv_written_by_a_spreadsheet_reads_back(rows):
    out = io.StringIO()
    writer = csv.writer(out)  # CRLF line ends and quoting, as spreadsheets write
    writer.writerow(HEADER.split(","))
    for room, mode, ids in rows:
        writer.writerow([room, mode.short, ";".join(ids), ""])
    batch = ok(start_batch(read_source(out.getvalue(), "-")))
    assert [(room.room, room.mode, room.subscription) for room in batch.rooms] == [
        (room, mode, Subscription(allow=tuple(ids)) if ids else None) for room, mode, ids in rows
    ]
    assert [room.line for room in batch.rooms] == list(range(2, len(rows) + 2))


@given(ROWS)
@PROPERTY
def test_yaml_written_by_pyyaml_reads_back(rows):
    text = yaml.safe_dump(
        [{"RoomId": room, "RecordMode": int(mode), "UnSubscribeUserIds": ids} for room, mode, ids in rows],
        allow_unicode=True,
    )
    batch = ok(start_batch(read_source(text, "-")))
    assert [(room.room, room.mode, room.subscription) for room in batch.rooms] == [
        (room, mode, Subscription(block=tuple(ids)) if ids else None) for room, mode, ids in rows
    ]


@given(st.integers(0, 5000), st.integers(0, 5000), st.booleans())
@PROPERTY
def test_a_range_gives_each_number_once_in_order(low, high, padded):
    width = max(len(str(low)), len(str(high))) + 1 if padded else 0
    ends = (str(low).zfill(width), str(high)) if padded else (str(low), str(high))
    rows = expand_rooms(f"r{{{ends[0]}..{ends[1]}}}").rows
    step = 1 if low <= high else -1
    assert [cells[ROOM_ID] for _, cells in rows] == [f"r{n:0{width}d}" for n in range(low, high + step, step)]
