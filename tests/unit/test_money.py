"""Money (SPEC §1, §2.3, §8): exact decimals in the currency's minor unit (Babel), rounded once
half-up, prices and fees finite, non-negative, at most 1e9, no finer than the minor unit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quotadesk.services.errors import InvalidValue
from quotadesk.services.rules.money import (
    check_currency,
    format_money,
    minor_places,
    money_text,
    parse_money,
    parse_rate,
    round_money,
)

D = Decimal


# -- minor units from Babel ---------------------------------------------------------------
@pytest.mark.parametrize(("currency", "places"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3)])
def test_minor_unit_places_come_from_babel(currency, places):
    assert minor_places(currency) == places


def test_currency_code_is_normalised_to_upper_case():
    assert check_currency(" usd ") == "USD"


def test_unknown_currency_code_is_refused_naming_currency():
    with pytest.raises(InvalidValue) as error:
        check_currency("XYZ1")
    assert error.value.field == "currency" and "currency" in error.value.message


# -- rounding: half-up, once --------------------------------------------------------------
@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("0.005", "USD", "0.01"),
    ("0.015", "USD", "0.02"),
    ("0.025", "USD", "0.03"),      # banker's rounding would give 0.02
    ("0.0249999", "USD", "0.02"),
    ("0.525", "USD", "0.53"),
    ("1.125", "USD", "1.13"),
    ("10", "USD", "10.00"),
    ("2.5", "JPY", "3"),           # banker's rounding would give 2
    ("3.5", "JPY", "4"),
    ("2.4999", "JPY", "2"),
    ("1.0005", "KWD", "1.001"),
    ("1.0025", "KWD", "1.003"),
    ("1.00049", "KWD", "1.000"),
])
def test_round_money_is_half_up_to_the_minor_unit(amount, currency, expected):
    result = round_money(D(amount), currency)
    assert result == D(expected)
    assert str(result) == expected


def test_round_money_half_up_of_a_sub_cent_overage_that_rounds_to_zero():
    assert round_money(D("0.004999"), "USD") == D("0.00")


@given(st.decimals(min_value=D(0), max_value=D(10**9), places=8, allow_nan=False,
                   allow_infinity=False),
       st.sampled_from(["USD", "JPY", "KWD"]))
def test_round_money_is_within_half_a_minor_unit_and_never_rounds_halves_down(amount, currency):
    result = round_money(amount, currency)
    unit = D(1).scaleb(-minor_places(currency))
    assert abs(result - amount) <= unit / 2
    if result < amount:
        assert amount - result < unit / 2


# -- parse_money: accepted ----------------------------------------------------------------
@pytest.mark.parametrize(("value", "currency", "text"), [
    ("10", "USD", "10.00"),
    ("10.5", "USD", "10.50"),
    ("10.50", "USD", "10.50"),
    (" 12.34 ", "USD", "12.34"),
    ("0", "USD", "0.00"),
    ("1000000000", "USD", "1000000000.00"),
    ("1e9", "USD", "1000000000.00"),
    ("100", "JPY", "100"),
    ("1.5", "KWD", "1.500"),
    ("1.001", "KWD", "1.001"),
    ("1.000", "USD", "1.00"),      # trailing zeros are not finer than the minor unit
])
def test_parse_money_accepts_exact_amounts_in_minor_units(value, currency, text):
    amount = parse_money(value, "price", currency)
    assert amount == D(text) and str(amount) == text
    assert money_text(amount, currency) == text


def test_parse_money_accepts_decimal_and_int_objects():
    assert parse_money(D("15.00"), "fee", "USD") == D("15.00")
    assert parse_money(49, "fee", "USD") == D("49.00")


# -- parse_money: refused -----------------------------------------------------------------
@pytest.mark.parametrize(("value", "currency", "words"), [
    ("-1", "USD", "negative"),
    ("-0.01", "USD", "negative"),
    ("NaN", "USD", "finite"),
    ("nan", "USD", "finite"),
    ("sNaN", "USD", "finite"),
    ("inf", "USD", "finite"),
    ("-Infinity", "USD", "finite"),
    ("Infinity", "USD", "finite"),
    ("1.001", "USD", "decimal places"),
    ("0.001", "USD", "decimal places"),
    ("0.5", "JPY", "decimal places"),
    ("1.0001", "KWD", "decimal places"),
    ("1000000000.01", "USD", "1,000,000,000"),
    ("1000000001", "USD", "1,000,000,000"),
    ("1e10", "USD", "1,000,000,000"),
    ("abc", "USD", "not a number"),
    ("12abc", "USD", "not a number"),
    ("1,000", "USD", "not a number"),
    ("$5", "USD", "not a number"),
    ("", "USD", "required"),
    ("   ", "USD", "required"),
])
def test_parse_money_refuses_bad_amounts_naming_the_field(value, currency, words):
    with pytest.raises(InvalidValue) as error:
        parse_money(value, "price", currency)
    assert error.value.field == "price"
    assert error.value.message.startswith("price:")
    assert words in error.value.message


@pytest.mark.parametrize("value", [1.5, 0.0, 10.0, float("nan"), float("inf"), True, False])
def test_parse_money_refuses_float_and_bool_objects(value):
    with pytest.raises(InvalidValue) as error:
        parse_money(value, "fee", "USD")
    assert error.value.field == "fee"


def test_parse_money_negative_zero_is_refused_or_shown_as_plain_zero():
    try:
        amount = parse_money("-0", "fee", "USD")
    except InvalidValue:
        return
    assert money_text(amount, "USD") == "0.00"


@given(st.decimals(min_value=D(0), max_value=D(10**9), places=2, allow_nan=False,
                   allow_infinity=False))
def test_parse_money_round_trips_any_valid_usd_text(amount):
    parsed = parse_money(str(amount), "price", "USD")
    assert parsed == amount
    assert money_text(parsed, "USD") == format(amount.quantize(D("0.01")), "f")


# -- parse_rate (overage per unit) --------------------------------------------------------
def test_rate_zero_is_accepted_as_a_free_rate():
    assert parse_rate("0", "overage minutes") == 0


def test_rate_takes_up_to_six_decimal_places():
    assert parse_rate("0.000001", "overage minutes") == D("0.000001")
    assert parse_rate("0.045", "overage minutes") == D("0.045")


@pytest.mark.parametrize(("value", "words"), [
    ("0.0000001", "6 decimal places"),
    ("-0.01", "negative"),
    ("nan", "finite"),
    ("inf", "finite"),
    ("1000000001", "1,000,000,000"),
    ("cheap", "not a number"),
])
def test_rate_refusals_name_the_field(value, words):
    with pytest.raises(InvalidValue) as error:
        parse_rate(value, "overage sms")
    assert error.value.field == "overage sms" and words in error.value.message


def test_rate_refuses_a_float_object():
    with pytest.raises(InvalidValue):
        parse_rate(0.05, "overage minutes")


# -- text for JSON and the window ---------------------------------------------------------
def test_money_text_shows_at_least_the_minor_unit():
    assert money_text(D("10"), "USD") == "10.00"
    assert money_text(D("10.5"), "USD") == "10.50"
    assert money_text(D("100"), "JPY") == "100"
    assert money_text(D("1.5"), "KWD") == "1.500"


def test_money_text_stays_exact_beyond_the_minor_unit():
    assert money_text(D("0.525"), "USD") == "0.525"
    assert money_text(D("0.000001"), "USD") == "0.000001"


def test_money_text_never_uses_exponent_notation():
    assert money_text(D("1E+3"), "USD") == "1000.00"
    assert money_text(D("1E-7"), "USD") == "0.0000001"


@pytest.mark.parametrize(("amount", "currency", "locale", "expected"), [
    ("1234.5", "USD", "en_US", "$1,234.50"),
    ("1234", "JPY", "en_US", "¥1,234"),
    ("1234.5", "KWD", "en_US", "KWD1,234.500"),
    ("1234.5", "EUR", "de_DE", "1.234,50\xa0€"),
    ("0.525", "USD", "en_US", "$0.525"),
])
def test_format_money_uses_the_locale_currency_format(amount, currency, locale, expected):
    assert format_money(D(amount), currency, locale) == expected


def test_format_money_unknown_locale_falls_back_to_en_us():
    assert format_money(D("5"), "USD", "zz_ZZ") == "$5.00"
