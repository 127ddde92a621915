"""Quantities (SPEC §1, §6, §8): exact, finite, > 0, at most 1e9; sms and email whole units,
minutes up to 6 decimal places; resources by name; canonical text without exponents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quotadesk.services.errors import InvalidValue
from quotadesk.services.rules.quantities import (
    MAX_AMOUNT,
    Resource,
    canonical,
    format_quantity,
    parse_quantity,
    parse_resource,
    text,
    to_decimal,
)

D = Decimal
MINUTES, SMS, EMAIL = Resource.MINUTES, Resource.SMS, Resource.EMAIL


# -- resources ----------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("minutes", MINUTES), ("sms", SMS), ("email", EMAIL), (" SMS ", SMS), ("Minutes", MINUTES)])
def test_resource_names_are_trimmed_and_case_insensitive(value, expected):
    assert parse_resource(value) is expected


@pytest.mark.parametrize("value", ["fax", "", "minute", "e-mail", "=1+1"])
def test_unknown_resource_is_refused_naming_resource_and_the_choices(value):
    with pytest.raises(InvalidValue) as error:
        parse_resource(value)
    assert error.value.field == "resource"
    assert error.value.message.startswith("resource:")
    assert "minutes, sms or email" in error.value.message


# -- whole units for sms and email --------------------------------------------------------
@pytest.mark.parametrize("resource", [SMS, EMAIL])
def test_sms_and_email_take_whole_units(resource):
    assert parse_quantity(resource, "500") == D(500)
    assert parse_quantity(resource, 7) == D(7)


@pytest.mark.parametrize("resource", [SMS, EMAIL])
def test_sms_and_email_whole_value_written_with_zero_decimals_is_accepted(resource):
    assert text(parse_quantity(resource, "5.000")) == "5"
    assert text(parse_quantity(resource, "1e3")) == "1000"


@pytest.mark.parametrize("resource", [SMS, EMAIL])
@pytest.mark.parametrize("value", ["1.5", "0.1", "100.000001"])
def test_sms_and_email_fractional_quantity_is_refused_as_not_whole(resource, value):
    with pytest.raises(InvalidValue) as error:
        parse_quantity(resource, value)
    assert error.value.field == "quantity" and "whole units" in error.value.message


# -- minutes up to six decimal places -----------------------------------------------------
@pytest.mark.parametrize("value", ["0.5", "1.123456", "0.000001", "60.5", "0.016667"])
def test_minutes_take_up_to_six_decimal_places(value):
    assert parse_quantity(MINUTES, value) == D(value)


@pytest.mark.parametrize("value", ["1.1234567", "0.0000001", "1e-7"])
def test_minutes_with_seven_decimal_places_are_refused(value):
    with pytest.raises(InvalidValue) as error:
        parse_quantity(MINUTES, value)
    assert "6 decimal places" in error.value.message


def test_minutes_trailing_zeros_beyond_six_places_are_not_finer():
    assert parse_quantity(MINUTES, "1.50000000") == D("1.5")


# -- bounds -------------------------------------------------------------------------------
@pytest.mark.parametrize("resource", [MINUTES, SMS, EMAIL])
def test_zero_quantity_is_refused_for_usage_and_units(resource):
    with pytest.raises(InvalidValue) as error:
        parse_quantity(resource, "0")
    assert "greater than 0" in error.value.message


@pytest.mark.parametrize("value", ["-1", "-0.5", "-1000"])
def test_negative_quantity_is_refused(value):
    with pytest.raises(InvalidValue) as error:
        parse_quantity(MINUTES, value)
    assert error.value.field == "quantity"


def test_zero_allowed_where_allow_zero_for_included_allowances():
    assert parse_quantity(SMS, "0", allow_zero=True) == 0


def test_negative_zero_allowance_is_plain_zero_never_minus_zero():
    try:
        value = parse_quantity(SMS, "-0", "included sms", allow_zero=True)
    except InvalidValue:
        return
    assert text(value) == "0"


def test_negative_refused_even_with_allow_zero():
    with pytest.raises(InvalidValue) as error:
        parse_quantity(SMS, "-1", "included sms", allow_zero=True)
    assert error.value.field == "included sms" and "negative" in error.value.message


def test_one_billion_is_the_largest_quantity():
    assert parse_quantity(SMS, "1000000000") == MAX_AMOUNT
    assert parse_quantity(MINUTES, "1e9") == MAX_AMOUNT


@pytest.mark.parametrize(("resource", "value"), [
    (SMS, "1000000001"), (MINUTES, "1000000000.000001"), (EMAIL, "1e10"), (SMS, "1E+100")])
def test_more_than_one_billion_is_refused(resource, value):
    with pytest.raises(InvalidValue) as error:
        parse_quantity(resource, value)
    assert "1,000,000,000" in error.value.message


@pytest.mark.parametrize("value", ["NaN", "nan", "sNaN", "inf", "Infinity", "-inf"])
def test_nan_and_infinities_are_refused(value):
    with pytest.raises(InvalidValue) as error:
        parse_quantity(MINUTES, value)
    assert "finite" in error.value.message


@pytest.mark.parametrize("value", ["abc", "1,5", "5 minutes", "0x10", "=1+1"])
def test_non_numeric_quantity_is_refused(value):
    with pytest.raises(InvalidValue) as error:
        parse_quantity(MINUTES, value)
    assert error.value.field == "quantity"


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_quantity_is_refused_as_required(value):
    with pytest.raises(InvalidValue) as error:
        parse_quantity(SMS, value)
    assert "required" in error.value.message


@pytest.mark.parametrize("value", [1.5, 2.0, float("nan"), True])
def test_float_and_bool_objects_are_refused_quantities_are_exact(value):
    with pytest.raises(InvalidValue):
        parse_quantity(MINUTES, value)


def test_to_decimal_refusal_names_the_given_field():
    with pytest.raises(InvalidValue) as error:
        to_decimal("x", "units")
    assert error.value.field == "units" and error.value.message.startswith("units:")


def test_refusal_names_the_custom_field():
    with pytest.raises(InvalidValue) as error:
        parse_quantity(SMS, "0", "units")
    assert error.value.field == "units" and error.value.message.startswith("units:")


# -- canonical text -----------------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    ("12.50", "12.5"), ("100.000", "100"), ("1E+2", "100"), ("0.000001", "0.000001"),
    ("1E-6", "0.000001"), ("1000000000", "1000000000"), ("7", "7"), ("0.10", "0.1")])
def test_canonical_text_is_shortest_exact_form_without_exponent(value, expected):
    assert text(D(value)) == expected
    assert canonical(D(value)) == D(value)


def test_format_quantity_groups_thousands_for_the_window():
    assert format_quantity(D("1234.50")) == "1,234.5"
    assert format_quantity(D("1000000")) == "1,000,000"


@given(st.decimals(min_value=D("0.000001"), max_value=D(10**9), places=6, allow_nan=False,
                   allow_infinity=False).filter(lambda d: d > 0))
def test_any_valid_minute_quantity_parses_back_from_its_text(value):
    parsed = parse_quantity(MINUTES, str(value))
    assert parsed == value
    assert D(text(parsed)) == value and "E" not in text(parsed)


@given(st.integers(min_value=1, max_value=10**9))
def test_any_whole_sms_count_in_bounds_is_accepted(count):
    assert parse_quantity(SMS, str(count)) == count
