"""The order of consumption (SPEC §2): included allowance, then wallet lots (soonest expiry first,
never-expiring last, ties by oldest applied), then overage at the snapshot rate, else unserved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from quotadesk.services.rules.rating import Split, consumption_order, rate_usage

D = Decimal


@dataclass(frozen=True)
class LotView:
    """A wallet lot as rating reads it: id, remaining units, applied time, expiry or None."""

    id: int
    remaining: Decimal
    applied_at: datetime
    expires_at: datetime | None

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def lot(id: int, remaining: str | int, applied_days_ago: float = 30,
        expires_in_days: float | None = None) -> LotView:
    return LotView(
        id=id, remaining=D(str(remaining)), applied_at=NOW - timedelta(days=applied_days_ago),
        expires_at=None if expires_in_days is None else NOW + timedelta(days=expires_in_days))


def drawn(split: Split) -> dict[int, Decimal]:
    return dict(split.draws)


# -- included only ------------------------------------------------------------------------
def test_included_only_when_allowance_covers_the_quantity():
    split = rate_usage(D(5), D(10), [lot(1, 100)], NOW, None)
    assert split == Split(D(5), (), D(0), D(0), D(0))


def test_included_exactly_equal_to_quantity_touches_no_lot():
    split = rate_usage(D(10), D(10), [lot(1, 100)], NOW, D("0.05"))
    assert split.included == D(10) and split.draws == () and split.wallet == 0


def test_negative_included_left_counts_as_zero():
    split = rate_usage(D(5), D(-3), [lot(1, 100)], NOW, None)
    assert split.included == 0 and drawn(split) == {1: D(5)}


def test_fractional_minutes_included_exactly():
    split = rate_usage(D("0.333333"), D("0.5"), [], NOW, None)
    assert split.included == D("0.333333") and split.unserved == 0


# -- included then lots -------------------------------------------------------------------
def test_included_then_one_lot_for_the_rest():
    split = rate_usage(D(550), D(500), [lot(1, 100)], NOW, None)
    assert split.included == D(500) and drawn(split) == {1: D(50)}
    assert split.wallet == D(50) and split.unserved == 0


def test_one_event_draws_from_several_lots_in_order():
    lots = [lot(1, 2, expires_in_days=10), lot(2, 3, expires_in_days=20), lot(3, 10)]
    split = rate_usage(D(9), D(1), lots, NOW, None)
    assert split.included == D(1)
    assert split.draws == ((1, D(2)), (2, D(3)), (3, D(3)))
    assert split.wallet == D(8)


def test_lot_exactly_drained_stops_without_touching_the_next():
    lots = [lot(1, 5, expires_in_days=10), lot(2, 5)]
    split = rate_usage(D(5), D(0), lots, NOW, None)
    assert split.draws == ((1, D(5)),)


def test_lots_with_nothing_remaining_are_not_drawn():
    lots = [lot(1, 0, expires_in_days=1), lot(2, 4)]
    split = rate_usage(D(3), D(0), lots, NOW, None)
    assert split.draws == ((2, D(3)),)


def test_fractional_minutes_split_exactly_across_lots():
    lots = [lot(1, "0.000001", expires_in_days=1), lot(2, "2.5")]
    split = rate_usage(D("1.123457"), D("0.123456"), lots, NOW, None)
    assert split.included == D("0.123456")
    assert split.draws == ((1, D("0.000001")), (2, D(1)))
    assert split.included + split.wallet == D("1.123457")


# -- expiry ordering ----------------------------------------------------------------------
def test_soonest_expiring_lot_is_drawn_first_whatever_the_input_order():
    lots = [lot(1, 10, applied_days_ago=100), lot(2, 10, expires_in_days=60),
            lot(3, 10, expires_in_days=5)]
    assert [x.id for x in consumption_order(lots, NOW)] == [3, 2, 1]
    assert rate_usage(D(15), D(0), lots, NOW, None).draws == ((3, D(10)), (2, D(5)))


def test_never_expiring_lots_come_last_even_if_applied_first():
    lots = [lot(1, 10, applied_days_ago=400), lot(2, 10, applied_days_ago=1, expires_in_days=3650)]
    assert [x.id for x in consumption_order(lots, NOW)] == [2, 1]


def test_same_expiry_ties_go_to_the_oldest_applied_first():
    lots = [lot(1, 10, applied_days_ago=5, expires_in_days=30),
            lot(2, 10, applied_days_ago=50, expires_in_days=30)]
    assert [x.id for x in consumption_order(lots, NOW)] == [2, 1]
    assert rate_usage(D(12), D(0), lots, NOW, None).draws == ((2, D(10)), (1, D(2)))


def test_never_expiring_lots_tie_by_oldest_applied_first():
    lots = [lot(7, 10, applied_days_ago=1), lot(3, 10, applied_days_ago=90),
            lot(5, 10, applied_days_ago=30)]
    assert [x.id for x in consumption_order(lots, NOW)] == [3, 5, 7]


def test_same_expiry_and_same_applied_time_ties_by_lot_id():
    lots = [lot(9, 10, applied_days_ago=5, expires_in_days=30),
            lot(4, 10, applied_days_ago=5, expires_in_days=30)]
    assert [x.id for x in consumption_order(lots, NOW)] == [4, 9]


def test_full_order_expiring_by_date_then_never_expiring_by_applied_time():
    lots = [lot(1, 1, applied_days_ago=10), lot(2, 1, applied_days_ago=20, expires_in_days=9),
            lot(3, 1, applied_days_ago=30), lot(4, 1, applied_days_ago=5, expires_in_days=2),
            lot(5, 1, applied_days_ago=40, expires_in_days=9)]
    assert [x.id for x in consumption_order(lots, NOW)] == [4, 5, 2, 3, 1]


# -- expired lots -------------------------------------------------------------------------
def test_lot_expired_before_the_event_is_skipped():
    lots = [lot(1, 10, expires_in_days=-1), lot(2, 10)]
    split = rate_usage(D(5), D(0), lots, NOW, None)
    assert split.draws == ((2, D(5)),)


def test_lot_expiring_exactly_at_event_time_is_skipped():
    lots = [LotView(1, D(10), NOW - timedelta(days=30), NOW), lot(2, 10)]
    assert [x.id for x in consumption_order(lots, NOW)] == [2]
    assert rate_usage(D(5), D(0), lots, NOW, None).draws == ((2, D(5)),)


def test_lot_expiring_one_microsecond_after_the_event_is_used():
    lots = [LotView(1, D(10), NOW - timedelta(days=30), NOW + timedelta(microseconds=1))]
    assert rate_usage(D(5), D(0), lots, NOW, None).draws == ((1, D(5)),)


def test_expiry_is_judged_at_event_time_not_later():
    # A late event dated before the lot expired may still draw on it.
    expiry = NOW - timedelta(days=2)
    lots = [LotView(1, D(10), NOW - timedelta(days=30), expiry)]
    assert rate_usage(D(4), D(0), lots, expiry - timedelta(hours=1), None).draws == ((1, D(4)),)
    assert rate_usage(D(4), D(0), lots, NOW, None).draws == ()


def test_only_expired_lots_leave_the_rest_unserved_without_rate():
    split = rate_usage(D(5), D(0), [lot(1, 10, expires_in_days=-3)], NOW, None)
    assert split.draws == () and split.unserved == D(5)


# -- overage and unserved -----------------------------------------------------------------
def test_rest_is_billable_overage_at_the_exact_rate():
    split = rate_usage(D("610.5"), D(500), [lot(1, 100)], NOW, D("0.05"))
    assert split.included == D(500) and split.wallet == D(100)
    assert split.overage_units == D("10.5")
    assert split.overage_amount == D("0.525")  # exact: rounding happens on the request only
    assert split.unserved == 0


def test_overage_amount_is_never_rounded_on_the_event():
    split = rate_usage(D("0.000001"), D(0), [], NOW, D("0.000001"))
    assert split.overage_amount == D("1E-12")


def test_zero_rate_is_still_a_rate_overage_is_free_and_nothing_unserved():
    split = rate_usage(D(50), D(10), [], NOW, D(0))
    assert split.overage_units == D(40) and split.overage_amount == 0 and split.unserved == 0


def test_without_rate_the_rest_is_unserved():
    split = rate_usage(D(12), D(10), [lot(1, 1)], NOW, None)
    assert split.included == D(10) and split.wallet == D(1)
    assert split.unserved == D(1) and split.overage_units == 0 and split.overage_amount == 0


def test_nothing_free_and_no_rate_is_entirely_unserved():
    assert rate_usage(D(3), D(0), [], NOW, None) == Split(D(0), (), D(0), D(0), D(3))


def test_wallet_is_drawn_before_any_overage_accrues():
    split = rate_usage(D(120), D(0), [lot(1, 100)], NOW, D("0.10"))
    assert split.wallet == D(100) and split.overage_units == D(20)
    assert split.overage_amount == D("2.00")


def test_wallet_property_sums_the_draws():
    split = Split(D(1), ((1, D("0.5")), (2, D("0.25"))), D(0), D(0), D(0))
    assert split.wallet == D("0.75")
    assert Split(D(1), (), D(0), D(0), D(0)).wallet == 0


# -- properties ---------------------------------------------------------------------------
quantities = st.one_of(
    st.integers(min_value=1, max_value=10_000).map(D),
    st.decimals(min_value=D("0.000001"), max_value=D(10_000), places=6,
                allow_nan=False, allow_infinity=False).filter(lambda d: d > 0),
)
remainders = st.one_of(
    st.integers(min_value=0, max_value=5_000).map(D),
    st.decimals(min_value=D(0), max_value=D(5_000), places=6, allow_nan=False,
                allow_infinity=False),
)
offsets = st.integers(min_value=-400 * 24, max_value=400 * 24)  # hours around NOW


@st.composite
def lot_sets(draw: st.DrawFn) -> list[LotView]:
    count = draw(st.integers(min_value=0, max_value=8))
    lots = []
    for i in range(count):
        applied = NOW + timedelta(hours=draw(st.integers(min_value=-800 * 24, max_value=0)))
        expiry = draw(st.one_of(st.none(), offsets.map(lambda h: NOW + timedelta(hours=h))))
        lots.append(LotView(i + 1, draw(remainders), applied, expiry))
    return lots


rates = st.one_of(st.none(), st.just(D(0)),
                  st.decimals(min_value=D(0), max_value=D(10), places=6, allow_nan=False,
                              allow_infinity=False))


def usable(lots: list[LotView], at: datetime) -> list[LotView]:
    return [x for x in lots if x.remaining > 0 and (x.expires_at is None or x.expires_at > at)]


@settings(max_examples=120, deadline=None)
@given(quantities, remainders.map(lambda d: d - D(100)), lot_sets(), rates)
def test_property_split_always_sums_to_the_quantity(quantity, included_left, lots, rate):
    split = rate_usage(quantity, included_left, lots, NOW, rate)
    assert split.included + split.wallet + split.overage_units + split.unserved == quantity
    assert min(split.included, split.wallet, split.overage_units, split.unserved) >= 0


@settings(max_examples=120, deadline=None)
@given(quantities, remainders, lot_sets(), rates)
def test_property_never_draws_more_than_a_lot_holds_nor_from_expired_lots(
        quantity, included_left, lots, rate):
    split = rate_usage(quantity, included_left, lots, NOW, rate)
    by_id = {x.id: x for x in usable(lots, NOW)}
    ids = [lot_id for lot_id, _ in split.draws]
    assert len(ids) == len(set(ids))
    for lot_id, units in split.draws:
        assert lot_id in by_id, "drew from an expired or empty lot"
        assert D(0) < units <= by_id[lot_id].remaining


@settings(max_examples=120, deadline=None)
@given(quantities, lot_sets(), rates, st.integers(min_value=0, max_value=10_000))
def test_property_never_touches_lots_when_included_suffices(quantity, lots, rate, extra):
    split = rate_usage(quantity, quantity + extra, lots, NOW, rate)
    assert split.draws == () and split.included == quantity
    assert split.overage_units == split.unserved == split.overage_amount == 0


@settings(max_examples=120, deadline=None)
@given(quantities, remainders, lot_sets(), rates)
def test_property_draws_follow_consumption_order_each_drained_before_the_next(
        quantity, included_left, lots, rate):
    split = rate_usage(quantity, included_left, lots, NOW, rate)
    order = consumption_order(lots, NOW)
    assert [lot_id for lot_id, _ in split.draws] == [x.id for x in order[:len(split.draws)]]
    for (lot_id, units), view in zip(split.draws[:-1], order, strict=False):
        assert units == view.remaining, f"lot {lot_id} was left with units before the next"
    # Included is used up first, before any lot.
    if split.draws:
        assert split.included == max(included_left, D(0))


@settings(max_examples=120, deadline=None)
@given(quantities, remainders, lot_sets(), rates)
def test_property_overage_only_with_rate_and_only_after_every_free_unit(
        quantity, included_left, lots, rate):
    split = rate_usage(quantity, included_left, lots, NOW, rate)
    free = max(included_left, D(0)) + sum((x.remaining for x in usable(lots, NOW)), D(0))
    rest = max(quantity - free, D(0))
    if rate is None:
        assert split.overage_units == 0 and split.overage_amount == 0
        assert split.unserved == rest
    else:
        assert split.unserved == 0
        assert split.overage_units == rest
        assert split.overage_amount == rest * rate


@settings(max_examples=100, deadline=None)
@given(lot_sets(), offsets)
def test_property_consumption_order_is_sorted_and_complete(lots, hours):
    at = NOW + timedelta(hours=hours)
    order = consumption_order(lots, at)
    assert sorted(x.id for x in order) == sorted(x.id for x in usable(lots, at))
    expiring = [x for x in order if x.expires_at is not None]
    never = [x for x in order if x.expires_at is None]
    assert order == expiring + never
    assert [(x.expires_at, x.applied_at) for x in expiring] == sorted(
        (x.expires_at, x.applied_at) for x in expiring)
    assert [x.applied_at for x in never] == sorted(x.applied_at for x in never)


@dataclass
class MutableLot:
    """A lot rating could write to, like the book's (`LotView` is frozen: comparing it with
    itself after rating could never fail)."""

    id: int
    remaining: Decimal
    applied_at: datetime
    expires_at: datetime | None


@given(quantities, remainders, lot_sets(), rates)
def test_property_rating_does_not_change_the_lots(quantity, included_left, lots, rate):
    assume(lots)
    lots = [MutableLot(x.id, x.remaining, x.applied_at, x.expires_at) for x in lots]
    objects = list(lots)
    before = [(x.id, x.remaining, x.applied_at, x.expires_at) for x in lots]
    rate_usage(quantity, included_left, lots, NOW, rate)
    assert [id(x) for x in lots] == [id(x) for x in objects], "the list itself is unchanged"
    assert [(x.id, x.remaining, x.applied_at, x.expires_at) for x in lots] == before
