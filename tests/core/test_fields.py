"""Every input rule of `gme_tui.api.fields`, the one home of them.

Each error must name the field by its API name (`.field`, and `str()` starts with
it) and say the rule it broke.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gme_tui.api.actions import StartRecord, encode_body
from gme_tui.api.fields import (
    ALLOW,
    BIZ_ID,
    BLOCK,
    INT64_MAX,
    RECORD_MODE,
    ROOM_ID,
    TASK_ID,
    UINT64_MAX,
    FieldError,
    FieldWarning,
    RecordMode,
    Subscription,
    check_modify,
    check_start,
    check_subscription,
    parse_biz_id,
    parse_record_mode,
    parse_room_id,
    parse_task_id,
    parse_user_ids,
)

PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def field_error(field: str, parse, *args, says: tuple[str, ...] = (), **kwargs) -> FieldError:
    """Run `parse`, expect a FieldError naming `field`, whose message says `says`."""
    with pytest.raises(FieldError) as caught:
        parse(*args, **kwargs)
    error = caught.value
    assert_names(error, field)
    for words in says:
        assert words in error.rule, f"{str(error)!r} does not say {words!r}"
    return error


def assert_names(error: FieldError, field: str) -> None:
    assert isinstance(error, FieldError)
    assert error.field == field
    assert str(error).startswith(f"{field}: ")
    assert str(error) == f"{field}: {error.rule}"
    assert error.rule.strip()


# --- BizId and TaskId -------------------------------------------------------------

UNSIGNED = [(parse_biz_id, BIZ_ID), (parse_task_id, TASK_ID)]


@pytest.mark.parametrize(("parse", "field"), UNSIGNED)
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("1400089356", 1400089356),
        ("3400352518", 3400352518),  # above 2**31
        ("446192236330927912", 446192236330927912),  # above 2**53: exact
        (str(UINT64_MAX), UINT64_MAX),
        ("  42  ", 42),
        ("\t42\n", 42),
        ("\u00a042\u3000", 42),  # unicode blanks around are blanks too
    ],
)
def test_unsigned_valid(parse, field, text, value):
    result = parse(text)
    assert result == value
    assert type(result) is int


@pytest.mark.parametrize(("parse", "field"), UNSIGNED)
@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", ("required",)),
        ("   ", ("required",)),
        ("0", ("1 to",)),
        ("00", ("1 to",)),
        (str(2**64), ("1 to", str(UINT64_MAX))),
        (str(10**30), ("1 to",)),
        ("-1", ("decimal digits",)),
        ("+1", ("decimal digits",)),
        ("1.0", ("decimal digits",)),
        ("1e3", ("decimal digits",)),
        ("0x10", ("decimal digits",)),
        ("1_000", ("decimal digits",)),
        ("1 000", ("decimal digits",)),
        ("1,000", ("decimal digits",)),
        ("١٢٣", ("decimal digits",)),  # Arabic-Indic digits
        ("１２３", ("decimal digits",)),  # fullwidth digits
        ("१२३", ("decimal digits",)),  # Devanagari digits
        ("²", ("decimal digits",)),
        ("abc", ("decimal digits",)),
    ],
)
def test_unsigned_invalid(parse, field, text, says):
    field_error(field, parse, text, says=says)


@PROPERTY
@given(
    number=st.one_of(st.integers(1, UINT64_MAX), st.sampled_from([1, 2**31, 2**53 + 1, 2**63, UINT64_MAX])),
    before=st.sampled_from(["", " ", "\t", "\n ", "\u3000"]),
    after=st.sampled_from(["", " ", "\t", "\r\n", "\u00a0"]),
)
def test_any_in_range_round_trips(number, before, after):
    assert parse_biz_id(f"{before}{number}{after}") == number
    assert parse_task_id(f"{before}{number}{after}") == number


@PROPERTY
@given(number=st.one_of(st.integers(max_value=0), st.integers(min_value=2**64)))
def test_out_of_range_is_an_error(number):
    field_error(BIZ_ID, parse_biz_id, str(number))
    field_error(TASK_ID, parse_task_id, str(number))


@PROPERTY
@given(text=st.text())
def test_unsigned_never_raises_anything_but_field_error(text):
    for parse, field in UNSIGNED:
        try:
            value = parse(text)
        except FieldError as error:
            assert_names(error, field)
        else:
            assert 1 <= value <= UINT64_MAX
            digits = text.strip()
            assert digits.isascii() and digits.isdigit() and int(digits) == value


@pytest.mark.parametrize(("parse", "field"), UNSIGNED)
def test_unsigned_very_long_digit_string_is_a_field_error(parse, field):
    """Pasted garbage of more than 4300 digits: Python's int() refuses it with a
    plain ValueError (the int max-str-digits guard); the rule must still answer."""
    field_error(field, parse, "1" * 5000)


# --- RoomId ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "r",
        "room-1",
        "a" * 127,
        "房间" * 63 + "房",  # 127 CJK characters
        "\U0001f600" * 127,  # 127 characters outside the BMP
        "e\u0301",  # combining mark
        "会议室 A",  # inner blank
        "a\u00a0b",  # inner no-break space
        "ع-غ",
    ],
)
def test_room_id_valid(text):
    assert parse_room_id(text) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", ("required",)),
        ("a" * 128, ("127",)),
        ("房" * 128, ("127",)),
        ("\U0001f600" * 128, ("127",)),
        (" room", ("blanks",)),
        ("room ", ("blanks",)),
        ("\troom", ("blanks",)),
        ("room\n", ("blanks",)),
        ("\u3000room", ("blanks",)),
        ("room\u00a0", ("blanks",)),
        ("   ", ("blanks",)),
        ("a\x00b", ("control",)),
        ("a\x07b", ("control",)),
        ("a\nb", ("control",)),
        ("a\rb", ("control",)),
        ("a\x1bb", ("control",)),
        ("a\x1fb", ("control",)),
        ("a\x7fb", ("control",)),
        ("a\x85b", ("control",)),
        ("a\x9fb", ("control",)),
        ("a\u2028b", ("control",)),
        ("a\u2029b", ("control",)),
    ],
)
def test_room_id_invalid(text, says):
    field_error(ROOM_ID, parse_room_id, text, says=says)


@pytest.mark.parametrize("text", ["\x7f", "\x85", "\x00"])
def test_room_id_control_alone_is_an_error(text):
    field_error(ROOM_ID, parse_room_id, text)


def test_room_id_rejects_text_that_cannot_be_sent():
    """A lone surrogate is what Python makes of a non-UTF-8 byte in argv
    (surrogateescape). Accepting it means encode_body() crashes with
    UnicodeEncodeError later; the rule must refuse it up front."""
    room = "room-\udcff"
    try:
        accepted = parse_room_id(room)
    except FieldError as error:
        assert_names(error, ROOM_ID)
    else:
        encode_body(StartRecord(1, accepted, RecordMode.SINGLE).params())  # must not raise


@PROPERTY
@given(text=st.text(max_size=200))
def test_room_id_rule_property(text):
    controls = any(
        ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" or unicodedata.category(c) == "Cf"
        for c in text
    )
    good = 1 <= len(text) <= 127 and text == text.strip() and not controls
    if good:
        assert parse_room_id(text) == text
    else:
        field_error(ROOM_ID, parse_room_id, text)


# --- RecordMode --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("1", RecordMode.SINGLE),
        ("2", RecordMode.MIXED),
        ("3", RecordMode.BOTH),
        ("single", RecordMode.SINGLE),
        ("mixed", RecordMode.MIXED),
        ("both", RecordMode.BOTH),
        ("SINGLE", RecordMode.SINGLE),
        ("Mixed", RecordMode.MIXED),
        ("bOtH", RecordMode.BOTH),
        (" 2 ", RecordMode.MIXED),
        ("\tsingle\n", RecordMode.SINGLE),
    ],
)
def test_record_mode_valid(text, mode):
    result = parse_record_mode(text)
    assert result is mode
    assert int(result) in (1, 2, 3)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", ("required",)),
        ("  ", ("required",)),
        ("0", ("1, 2, 3",)),
        ("4", ("1, 2, 3",)),
        ("-1", ("1, 2, 3",)),
        ("01", ("1, 2, 3",)),
        ("1.0", ("1, 2, 3",)),
        ("１", ("1, 2, 3",)),  # fullwidth
        ("١", ("1, 2, 3",)),  # Arabic-Indic
        ("singles", ("single, mixed, both",)),
        ("mix", ("single, mixed, both",)),
        ("one", ("single, mixed, both",)),
        ("1 2", ("single, mixed, both",)),
        ("ſingle", ("single, mixed, both",)),  # long s: lower() keeps it
    ],
)
def test_record_mode_invalid(text, says):
    field_error(RECORD_MODE, parse_record_mode, text, says=says)


@PROPERTY
@given(text=st.text(max_size=12))
def test_record_mode_property(text):
    if text.strip().lower() in {"1", "2", "3", "single", "mixed", "both"}:
        assert isinstance(parse_record_mode(text), RecordMode)
    else:
        field_error(RECORD_MODE, parse_record_mode, text)


# --- user ID lists -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("", ()),
        ("  ,\n , ", ()),
        ("10001", ("10001",)),
        ("10001,10002", ("10001", "10002")),
        ("10001 10002", ("10001", "10002")),
        ("10001\n10002", ("10001", "10002")),
        ("10001, 10002 ,10003\n\n10004\t10005\r\n10006,,10007", tuple(str(n) for n in range(10001, 10008))),
        (",10001,", ("10001",)),
        (f"10001 {INT64_MAX}", ("10001", str(INT64_MAX))),
        ("20002 10001", ("20002", "10001")),  # order kept
    ],
)
def test_user_ids_valid(text, ids):
    assert parse_user_ids(text) == ids


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("10000", ("10000", "greater than 10000")),
        ("1", ("greater than 10000",)),
        ("0", ("greater than 10000",)),
        (str(2**63), ("Int64",)),
        (str(2**64), ("Int64",)),
        ("010001", ("leading zero",)),
        ("00", ("leading zero",)),
        ("-10001", ("not a decimal user ID",)),
        ("+10001", ("not a decimal user ID",)),
        ("10001.0", ("not a decimal user ID",)),
        ("1e5", ("not a decimal user ID",)),
        ("alice", ("not a decimal user ID", "relaxed")),
        ("١٠٠٠١", ("not a decimal user ID",)),  # Arabic-Indic digits
        ("１０００１", ("not a decimal user ID",)),  # fullwidth digits
        ("10001，10002", ("not a decimal user ID",)),  # a fullwidth comma is no separator
        ("10001;10002", ("not a decimal user ID",)),
        ("10001,10002,10001", ("10001", "twice")),
        (" ".join(str(10001 + n) for n in range(21)), ("at most 20", "21")),
    ],
)
def test_user_ids_invalid(text, says):
    field_error(ALLOW, parse_user_ids, text, says=says)


def test_user_ids_twenty_is_the_limit():
    twenty = tuple(str(10001 + n) for n in range(20))
    assert parse_user_ids(",".join(twenty)) == twenty
    field_error(ALLOW, parse_user_ids, ",".join(twenty + ("10021",)), says=("20",))


def test_user_ids_bounds():
    field_error(ALLOW, parse_user_ids, "10000")
    assert parse_user_ids("10001") == ("10001",)
    assert parse_user_ids(str(2**63 - 1)) == (str(2**63 - 1),)
    field_error(ALLOW, parse_user_ids, str(2**63))


def test_user_ids_error_names_the_list_it_checks():
    field_error(BLOCK, parse_user_ids, "10000", BLOCK)
    field_error(BLOCK, parse_user_ids, "10001 10001", BLOCK, says=("10001",))
    field_error(ALLOW, parse_user_ids, "10000", ALLOW)


def test_user_ids_duplicate_names_the_id():
    error = field_error(ALLOW, parse_user_ids, "10001 123456789 10002 123456789")
    assert "123456789" in error.rule


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("alice,bob", ("alice", "bob")),
        ("user_1 010001 10000 0", ("user_1", "010001", "10000", "0")),
        ("玩家一\n玩家二", ("玩家一", "玩家二")),
        ("x" * 127, ("x" * 127,)),
        ("", ()),
    ],
)
def test_user_ids_relaxed_valid(text, ids):
    assert parse_user_ids(text, relaxed=True) == ids


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("x" * 128, ("127",)),
        ("a\x00b", ("control",)),
        ("a\x7fb", ("control",)),
        ("alice bob alice", ("alice", "twice")),
        (" ".join(f"u{n}" for n in range(21)), ("at most 20",)),
    ],
)
def test_user_ids_relaxed_invalid(text, says):
    field_error(ALLOW, parse_user_ids, text, relaxed=True, says=says)


def test_user_ids_relaxed_rejects_text_that_cannot_be_sent():
    """As for RoomId: a lone surrogate (a stray byte from argv) cannot be encoded."""
    try:
        ids = parse_user_ids("alice \udcff", relaxed=True)
    except FieldError as error:
        assert_names(error, ALLOW)
    else:
        params = StartRecord(1, "r", RecordMode.SINGLE, Subscription(ids, ())).params()
        encode_body(params)  # must not raise


def test_user_ids_very_long_digit_string_is_a_field_error():
    """More than 4300 digits: int() raises a plain ValueError, not a FieldError."""
    field_error(ALLOW, parse_user_ids, "9" * 5000)


SEPARATORS = st.lists(
    st.sampled_from([",", " ", "\n", "\t", ", ", " ,\n", "\r\n", ",,", "\u3000"]), min_size=1, max_size=3
).map("".join)
user_id_lists = st.lists(st.integers(10001, INT64_MAX).map(str), unique=True, max_size=20)


@PROPERTY
@given(
    ids=user_id_lists,
    data=st.data(),
    lead=st.one_of(st.just(""), SEPARATORS),
    tail=st.one_of(st.just(""), SEPARATORS),
    relaxed=st.booleans(),
)
def test_user_ids_join_round_trip(ids, data, lead, tail, relaxed):
    text = lead
    for index, user_id in enumerate(ids):
        text += (data.draw(SEPARATORS) if index else "") + user_id
    text += tail
    assert parse_user_ids(text, relaxed=relaxed) == tuple(ids)


@PROPERTY
@given(
    text=st.one_of(st.text(), st.text(alphabet="0123456789 ,\n-+abc\x00")),
    relaxed=st.booleans(),
    field=st.sampled_from([ALLOW, BLOCK]),
)
def test_user_ids_never_raise_anything_but_field_error(text, relaxed, field):
    try:
        ids = parse_user_ids(text, field, relaxed=relaxed)
    except FieldError as error:
        assert_names(error, field)
    else:
        assert len(ids) <= 20
        assert len(set(ids)) == len(ids)
        assert all(ids)
        if not relaxed:
            assert all(10000 < int(user_id) <= INT64_MAX and str(int(user_id)) == user_id for user_id in ids)


# --- subscription ---------------------------------------------------------------------------


def test_subscription_id_in_both_lists_is_an_error_naming_it():
    error = field_error(BLOCK, check_subscription, ("10001", "10002"), ("10003", "10002"))
    assert "10002" in error.rule
    assert ALLOW in error.rule


def test_subscription_both_lists_set_is_a_warning_not_an_error():
    sub, warnings = check_subscription(("10001",), ("10002",))
    assert sub == Subscription(("10001",), ("10002",))
    assert len(warnings) == 1
    warning = warnings[0]
    assert isinstance(warning, FieldWarning)
    assert warning.field in (ALLOW, BLOCK)
    assert str(warning).startswith(f"{warning.field}: ")
    assert ALLOW in warning.message and BLOCK in warning.message


@pytest.mark.parametrize(("allow", "block"), [((), ()), (("10001",), ()), ((), ("10001",))])
def test_subscription_one_list_or_none_is_quiet(allow, block):
    sub, warnings = check_subscription(allow, block)
    assert warnings == []
    assert sub.allow == allow and sub.block == block
    assert bool(sub) == bool(allow or block)


# --- whole forms -------------------------------------------------------------------------------


def test_check_start_all_good():
    checked = check_start(" 1400089356 ", "房间-1", "Both", "10001, 10002", "")
    assert checked.ok
    assert checked.errors == {}
    assert checked.warnings == []
    assert checked.values[BIZ_ID] == 1400089356
    assert checked.values[ROOM_ID] == "房间-1"
    assert checked.values[RECORD_MODE] is RecordMode.BOTH
    assert checked.values["Subscription"] == Subscription(("10001", "10002"), ())


def test_check_start_collects_every_error_at_once():
    checked = check_start("0", "", "stereo", "10000", "alice")
    assert not checked.ok
    assert set(checked.errors) == {BIZ_ID, ROOM_ID, RECORD_MODE, ALLOW, BLOCK}
    for field, error in checked.errors.items():
        assert_names(error, field)


def test_check_modify_collects_every_error_at_once():
    checked = check_modify("-5", "١", "", "10001 10001", f"{2**63}")
    assert not checked.ok
    assert set(checked.errors) == {BIZ_ID, TASK_ID, RECORD_MODE, ALLOW, BLOCK}
    for field, error in checked.errors.items():
        assert_names(error, field)


def test_check_modify_all_good():
    checked = check_modify("1400089356", "446192236330927912", "2")
    assert checked.ok
    assert checked.values[TASK_ID] == 446192236330927912
    assert checked.values[RECORD_MODE] is RecordMode.MIXED
    assert not checked.values["Subscription"]


@pytest.mark.parametrize("check", [check_start, check_modify])
def test_check_overlap_is_an_error_and_both_lists_a_warning(check):
    second = "r" if check is check_start else "7"
    overlap = check("1", second, "1", "10001 10002", "10002")
    assert set(overlap.errors) == {BLOCK}
    assert "10002" in overlap.errors[BLOCK].rule
    both = check("1", second, "1", "10001", "10002")
    assert both.ok
    assert len(both.warnings) == 1


@pytest.mark.parametrize("check", [check_start, check_modify])
def test_check_relaxed_passes_through(check):
    second = "r" if check is check_start else "7"
    assert not check("1", second, "1", "alice").ok
    relaxed = check("1", second, "1", "alice", relaxed=True)
    assert relaxed.ok
    assert relaxed.values["Subscription"] == Subscription(("alice",), ())


def test_check_start_very_long_digit_string_is_reported_not_raised():
    checked = check_start("1" * 5000, "r", "1")
    assert set(checked.errors) == {BIZ_ID}


@PROPERTY
@given(
    texts=st.tuples(
        st.text(max_size=30),
        st.text(max_size=30),
        st.text(max_size=8),
        st.text(max_size=30),
        st.text(max_size=30),
    ),
    relaxed=st.booleans(),
    modify=st.booleans(),
)
def test_check_forms_never_raise(texts, relaxed, modify):
    checked = (check_modify if modify else check_start)(*texts, relaxed=relaxed)
    for field, error in checked.errors.items():
        assert_names(error, field)
    assert checked.ok == (not checked.errors)


@pytest.mark.parametrize("text", ["\u202eevil", "room\u200b", "\ufeffroom", "a\u2066b"])
def test_room_id_refuses_invisible_formatting_characters(text):
    error = field_error(ROOM_ID, parse_room_id, text)
    assert "invisible formatting" in str(error)
