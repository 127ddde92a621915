"""The importer's fast paths give exactly what the general paths give.

A usage import takes shortcuts for the common shapes of a line (a plain quantity, a UTC time
written the usual way, decimals and times converted to SQLite's storage form inline). Each
shortcut must agree with the general code for every input it accepts, and leave every other
input to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quotadesk.models import UsageEvent
from quotadesk.models.base import decimal_to_text, table_of
from quotadesk.services.account_store import EVENT_COLUMNS
from quotadesk.services.bulk_statements import _kind, _row_converter, _sqlite_datetime_column
from quotadesk.services.errors import InvalidValue
from quotadesk.services.rules.quantities import Resource, parse_quantity
from quotadesk.services.usage_import.resolver import parse_time, stored_utc, usage_quantity

MOMENTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
                       timezones=st.just(UTC))


@given(MOMENTS, st.sampled_from(["+00:00", "Z"]), st.sampled_from(["seconds", "microseconds"]),
       st.sampled_from(["T", " "]))
def test_a_utc_time_sliced_to_storage_form_equals_the_formatted_one(
        moment: datetime, zone: str, spec: str, sep: str) -> None:
    text = moment.isoformat(sep, spec).replace("+00:00", zone)
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is UTC
    stored = stored_utc(text)
    assert stored is not None
    assert stored == _sqlite_datetime_column()(parsed)


@pytest.mark.parametrize("text", ["2026-03-01T09:00:30.123+00:00", "2026-W09-1T09:00:30+00:00",
                                  "20260301T090030Z", "2026-060T09:00:30+00:00",
                                  "2026-03-01T09:00:30+01:00", "2026-03-01T09:00Z"])
def test_other_time_shapes_are_left_to_the_general_path(text: str) -> None:
    assert stored_utc(text) is None


@given(st.one_of(
    st.integers(-5, 2_000_000_000).map(str),
    st.decimals(min_value=-10, max_value=10**10, allow_nan=False, places=7).map(str),
    st.sampled_from(["1_000", "٣", " 5 ", "5.0", "1e3", "0", "-0", "00012", "NaN", "", ".5",
                     "5.", "1.0000000", "+3"]),
    st.text(max_size=12)), st.sampled_from(list(Resource)))
def test_the_quick_quantity_path_agrees_with_parse_quantity(text: str,
                                                            resource: Resource) -> None:
    try:
        expected: Decimal | str = parse_quantity(resource, text)
    except InvalidValue as error:
        expected = error.message
    try:
        got: Decimal | str = usage_quantity(resource, text)
    except InvalidValue as error:
        got = error.message
    assert got == expected
    if isinstance(got, Decimal):
        assert decimal_to_text(got) == decimal_to_text(expected)  # type: ignore[arg-type]


def test_the_inline_row_converter_writes_what_the_column_types_would() -> None:
    table = table_of(UsageEvent)
    convert = _row_converter(tuple(_kind(table.c[name].type) for name in EVENT_COLUMNS))
    now = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    at = datetime(2026, 3, 2, 10, 30, 5, 250000, tzinfo=timezone(timedelta(hours=2)))
    row = (7, "e-7", 3, "minutes", Decimal("12.500"), at, now, 4, True, Decimal("2.5"),
           Decimal("10.000000"), Decimal(0), Decimal("-0"), None)
    assert convert(row) == (7, "e-7", 3, "minutes", "12.5", "2026-03-02 08:30:05.250000",
                            "2026-03-28 12:00:00.000000", 4, 1, "2.5", "10", "0", "0", None)
    # A time already in storage form (from the importer's slicing) is kept as it is.
    assert convert((*row[:5], "2026-03-02 08:30:05.250000", *row[6:]))[5] == \
        "2026-03-02 08:30:05.250000"


def test_parse_time_keeps_a_utc_time_and_converts_others() -> None:
    utc = parse_time("2026-03-01T09:00:30Z", UTC)
    assert utc == datetime(2026, 3, 1, 9, 0, 30, tzinfo=UTC) and utc.tzinfo is UTC
    other = parse_time("2026-03-01T09:00:30-05:00", UTC)
    assert other == datetime(2026, 3, 1, 14, 0, 30, tzinfo=UTC) and other.tzinfo is UTC
