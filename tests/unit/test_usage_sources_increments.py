"""SPEC §11's voice billing increments: one pure formula, checked by hand-worked cases."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quotadesk.services.errors import InvalidValue
from quotadesk.services.rules.increments import (
    billed_minutes,
    billed_seconds,
    increments_text,
    parse_increments,
)

D = Decimal

# billsec → billed seconds under each rule, worked by hand from
# FIRST + ceil(max(0, billsec − FIRST) / NEXT) × NEXT (0 when billsec is 0).
CASES = {
    (1, 1): {0: 0, 1: 1, 5: 5, 6: 6, 7: 7, 29: 29, 30: 30, 31: 31, 59: 59, 60: 60, 61: 61},
    (6, 6): {0: 0, 1: 6, 5: 6, 6: 6, 7: 12, 29: 30, 30: 30, 31: 36, 59: 60, 60: 60, 61: 66},
    (30, 6): {0: 0, 1: 30, 5: 30, 6: 30, 7: 30, 29: 30, 30: 30, 31: 36, 59: 60, 60: 60,
              61: 66},
    (60, 60): {0: 0, 1: 60, 5: 60, 6: 60, 7: 60, 29: 60, 30: 60, 31: 60, 59: 60, 60: 60,
               61: 120},
}


@pytest.mark.parametrize("rule", list(CASES), ids=increments_text)
def test_billed_seconds_follow_the_formula(rule):
    for billsec, expected in CASES[rule].items():
        assert billed_seconds(billsec, rule) == expected, (rule, billsec)


def test_minutes_are_exact_for_multiples_of_six_seconds_and_rounded_up_otherwise():
    assert billed_minutes(7, (6, 6)) == D("0.2")
    assert billed_minutes(61, (30, 6)) == D("1.1")
    assert billed_minutes(61, (60, 60)) == D("2")
    # 65 s at 1/1: 1.0833333… rounds up to 1.083334, never down.
    assert billed_minutes(65, (1, 1)) == D("1.083334")
    assert billed_minutes(1, (1, 1)) == D("0.016667")
    assert billed_minutes(0, (60, 60)) == D("0")
    # Seconds with decimals (a mapping's own column): the formula holds as written.
    assert billed_seconds(D("0.5"), (1, 1)) == 1
    assert billed_seconds(D("6.2"), (6, 6)) == 12


def test_a_first_increment_of_zero_bills_in_steps_from_the_start():
    assert billed_seconds(1, (0, 6)) == 6
    assert billed_seconds(13, (0, 6)) == 18


@pytest.mark.parametrize("text, expected", [
    ("60/60", (60, 60)), (" 30 / 6 ", (30, 6)), ("6/6", (6, 6)), ("1/1", (1, 1)),
    ("60", (60, 60)), ("0/6", (0, 6)), ((30, 6), (30, 6))])
def test_increments_are_read_as_first_slash_next(text, expected):
    assert parse_increments(text) == expected


@pytest.mark.parametrize("text", ["", "60/0", "a/b", "60/60/60", "-1/6", "3601/6", "6/٦",
                                  "1.5/6", "60/", True])
def test_bad_increments_are_refused_naming_the_field(text):
    with pytest.raises(InvalidValue) as refused:
        parse_increments(text)
    assert refused.value.field == "increments"
