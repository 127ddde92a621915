"""SPEC §8 "Periods and time", "Idempotency and names" and "Bounds", through the services:
time runs forward for each client; times outside 1970–2999 and local times that a
daylight-saving change makes ambiguous or impossible are refused; `verify` checks the order of
periods; idempotency keys are taken exactly as given; numbers are ASCII digits only; a value
echoed in a message is shortened."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from quotadesk.services.errors import ClockBehind, InvalidValue, NotFound, QuotaDeskError
from quotadesk.services.references import record_id
from quotadesk.services.rules.money import parse_money, parse_rate
from quotadesk.services.rules.quantities import Resource, parse_quantity, to_decimal
from quotadesk.services.usage_import.resolver import usage_quantity
from tests.conftest import MovableClock, new_desk
from tests.integration.test_rules_support import db_url, table_dump  # noqa: F401 (db_url: fixture)

D = Decimal
MAR_10 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)
HEADER = "event_id,client,resource,quantity,occurred_at\n"


def agency(desk: Any, clock: MovableClock, at: datetime = MAR_10) -> None:
    """Plan "Voice" (100 minutes, add-ons on), pack "Minutes 50" (never expires), client
    Acme subscribed at `at` with the pack assigned, and Beta, subscribed at `at` too."""
    clock.set(at)
    catalog.add_plan(desk, name="Voice", fee="10.00", included={"minutes": "100"})
    catalog.add_pack(desk, name="Minutes 50", resource="minutes", units="50", price="5.00")
    for name in ("Acme", "Beta"):
        clients.add_client(desk, name=name)
        clients.subscribe(desk, client=name, plan="Voice")
    clients.assign_packs(desk, client="Acme", packs=["Minutes 50"])


def refused(desk: Any, call: Callable[[], object], kind: type[QuotaDeskError],
            *words: str) -> str:
    """The call is refused with `kind`, its message names every word, nothing is written."""
    before = table_dump(desk)
    with pytest.raises(kind) as caught:
        call()
    message = caught.value.message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    assert "\n" not in message
    assert table_dump(desk) == before, "a refused write changed the database"
    return message


def import_text(desk: Any, body: str, pipelined: bool = False) -> Any:
    return usage.import_usage(desk, io.BytesIO((HEADER + body).encode()), pipelined=pipelined)


# -- A. time runs forward for each client --------------------------------------------------
WRITES: dict[str, Callable[[Any], object]] = {
    "cancel": lambda d: clients.cancel(d, client="Acme"),
    "subscribe": lambda d: clients.subscribe(d, client="Acme", plan="Voice"),
    "usage": lambda d: usage.record_usage(d, client="Acme", resource="minutes", quantity="1"),
    "late usage": lambda d: usage.record_usage(d, client="Acme", resource="minutes",
                                               quantity="1", at=datetime(2026, 1, 5, tzinfo=UTC)),
    "apply": lambda d: wallet.apply_pack(d, client="Acme", pack="Minutes 50", status="paid"),
    "campaign": lambda d: clients.add_campaign(d, client="Acme", name="Spring",
                                               resource="minutes"),
    "rollover": lambda d: billing.run_rollover(d),
}


@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.slow
def test_a_write_whose_clock_is_before_the_clients_latest_moment_is_refused(desk, clock, write):
    """The reproduction: subscribed on Mar 10, rolled over on May 1, then a write dated Feb 1
    would have closed a period that ends before it starts. It is refused, naming the latest
    moment (the May 1 boundary), and nothing is written."""
    agency(desk, clock)
    clock.set(MAY_1 + timedelta(hours=12))
    billing.run_rollover(desk)  # closes March and April: the May 1 boundary is recorded
    clock.set(FEB_1)
    if write == "rollover":
        # Nothing ended by Feb 1 for anyone: the rollover has nothing to do, and refuses nothing.
        before = table_dump(desk)
        assert billing.run_rollover(desk).periods_closed == 0
        assert table_dump(desk) == before
        return
    message = refused(desk, lambda: WRITES[write](desk), ClockBehind,
                      "now: 2026-02-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00", "'Acme'")
    assert message.startswith("now: ")
    assert reports.verify(desk).ok


def test_the_same_moment_and_later_ones_are_accepted(desk, clock):
    agency(desk, clock)
    clock.set(MAY_1)  # exactly the boundary the next write closes
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")  # same instant
    # Late usage is written with --at, never with an earlier clock.
    late = usage.record_usage(desk, client="Acme", resource="minutes", quantity="1",
                              at=datetime(2026, 3, 20, tzinfo=UTC))
    assert late.late
    assert reports.verify(desk).ok


MOMENTS: dict[str, Callable[[Any, MovableClock], None]] = {
    # Each records one moment for Acme at the clock's time (its write first closes the period
    # that ended on Apr 1: that boundary is earlier).
    "recorded usage (its recording time, not its --at)": lambda d, c: usage.record_usage(
        d, client="Acme", resource="minutes", quantity="1", at=datetime(2026, 4, 2, tzinfo=UTC)),
    "a pack application": lambda d, c: wallet.apply_pack(d, client="Acme", pack="Minutes 50",
                                                          status="pending"),
    "a re-subscription": lambda d, c: clients.subscribe(d, client="Acme", plan="Voice"),
    "a cancellation": lambda d, c: clients.cancel(d, client="Acme"),
    "a revoke": lambda d, c: _revoke_at(d, c),
}


def _revoke_at(desk: Any, clock: MovableClock) -> None:
    moment = clock()
    clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    lot = wallet.apply_pack(desk, client="Acme", pack="Minutes 50", status="paid").lot_id
    clock.set(moment)
    wallet.revoke_lot(desk, lot_id=lot, reason="payment failed")


@pytest.mark.parametrize("moment", sorted(MOMENTS))
@pytest.mark.slow
def test_every_kind_of_moment_counts_and_each_is_loaded_back_from_the_database(desk, clock,
                                                                            moment):
    """The moment is recorded by one transaction and found again by the next one (the latest
    moment is derived from what is stored, not kept in memory)."""
    agency(desk, clock)
    clock.set(datetime(2026, 4, 20, 15, 0, tzinfo=UTC))
    MOMENTS[moment](desk, clock)
    clock.set(datetime(2026, 4, 20, 14, 59, 59, tzinfo=UTC))
    refused(desk, lambda: clients.subscribe(desk, client="Acme", plan="Voice"), ClockBehind,
            "2026-04-20T15:00:00+00:00", "time runs forward")
    # Beta has none of Acme's moments: its writes at that clock go on.
    usage.record_usage(desk, client="Beta", resource="minutes", quantity="1")


def test_only_the_listed_moments_count(desk, clock):
    """A rollover's clock, assignments, client and catalog edits and reads are no moments:
    after them, a write dated earlier (but after the last boundary) is accepted; and those
    operations themselves are not refused at an earlier clock."""
    agency(desk, clock)
    clock.set(datetime(2026, 4, 20, tzinfo=UTC))
    billing.run_rollover(desk)  # records the Apr 1 boundary only
    clients.edit_client(desk, client="Acme", email="ops@acme.test")
    catalog.edit_plan(desk, plan="Voice", fee="11.00")
    clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")  # accepted
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))  # before Acme's latest moment (Apr 2)
    clients.unassign_pack(desk, client="Acme", pack="Minutes 50")
    clients.assign_packs(desk, client="Acme", packs=["Minutes 50"])
    catalog.add_plan(desk, name="Later", fee="1.00")
    clients.edit_client(desk, client="Acme", name="Acme Ltd")
    assert clients.client_detail(desk, "Acme Ltd").subscription is not None
    assert reports.verify(desk).ok


@pytest.mark.parametrize("pipelined", [False, True], ids=["in-turn", "pipelined"])
def test_an_import_rejects_only_the_lines_of_a_client_whose_latest_moment_is_later(
        desk, clock, pipelined):
    agency(desk, clock)
    clock.set(datetime(2026, 4, 20, tzinfo=UTC))
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    clock.set(datetime(2026, 4, 10, tzinfo=UTC))
    before = table_dump(desk)
    result = import_text(desk, "a-1,Acme,minutes,2,2026-04-05T10:00:00Z\n"
                               "b-1,Beta,minutes,3,2026-04-05T10:00:00Z\n"
                               "a-2,Acme,minutes,4,2026-04-06T10:00:00\n", pipelined)
    assert (result.recorded, result.duplicates) == (1, 0)
    assert [r.line for r in result.rejected] == [2, 4]
    for rejection in result.rejected:
        assert rejection.reason.startswith("now: 2026-04-10T00:00:00+00:00 is before "
                                           "2026-04-20T00:00:00+00:00"), rejection.reason
        assert "'Acme'" in rejection.reason
    after = table_dump(desk)
    assert after["usage_events"] != before["usage_events"]
    acme = clients.client_detail(desk, "Acme").resources["minutes"]
    assert acme.included_used == D(1), "none of Acme's lines was charged"
    assert clients.client_detail(desk, "Beta").resources["minutes"].included_used == D(3)
    # Rejected lines may come again once the clock is right.
    clock.set(datetime(2026, 4, 21, tzinfo=UTC))
    again = import_text(desk, "a-1,Acme,minutes,2,2026-04-05T10:00:00Z\n", pipelined)
    assert (again.recorded, again.rejected) == (1, ())
    assert reports.verify(desk).ok


# -- A. the years QuotaDesk takes --------------------------------------------------------------
@pytest.mark.parametrize("moment", [datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
                                    datetime(3000, 1, 1, tzinfo=UTC),
                                    datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
                                    datetime(1, 1, 1, 1, 0, tzinfo=UTC)])
@pytest.mark.slow
def test_a_clock_outside_1970_to_2999_is_refused_by_every_write(desk, clock, moment):
    agency(desk, clock)
    clock.set(moment)
    for call in (lambda: billing.run_rollover(desk),
                 lambda: clients.subscribe(desk, client="Acme", plan="Voice"),
                 lambda: usage.record_usage(desk, client="Beta", resource="minutes",
                                            quantity="1", at=MAR_10)):
        refused(desk, call, QuotaDeskError, "now: ")
    # A new client has no moment yet: only the range refuses it.
    clients.add_client(desk, name="Zed")
    refused(desk, lambda: clients.subscribe(desk, client="Zed", plan="Voice"), InvalidValue,
            "now: ", "1970-01-01 to 2999-12-31")


@pytest.mark.parametrize("at", [datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
                                datetime(3000, 1, 1, tzinfo=UTC),
                                "0001-01-01T01:00", "9999-12-31T23:59", "1969-12-31"])
@pytest.mark.slow
def test_a_usage_time_outside_1970_to_2999_is_refused_naming_the_field(desk, clock, at):
    agency(desk, clock)
    refused(desk, lambda: usage.record_usage(desk, client="Acme", resource="minutes",
                                             quantity="1", at=at), InvalidValue,
            "at: ", "1970-01-01 to 2999-12-31")


def test_the_first_and_last_instants_are_taken(desk, clock):
    agency(desk, clock)
    first = usage.record_usage(desk, client="Acme", resource="minutes", quantity="1",
                               at=datetime(1970, 1, 1, tzinfo=UTC))
    assert first.late
    clock.set(datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    clients.add_client(desk, name="Zed")
    clients.subscribe(desk, client="Zed", plan="Voice")
    usage.record_usage(desk, client="Zed", resource="minutes", quantity="1")
    assert usage.parse_time("2999-12-31T23:59:59.999999Z", UTC, "now").year == 2999


def test_an_import_rejects_times_outside_1970_to_2999_on_every_path(desk, clock):
    agency(desk, clock)
    result = import_text(desk, "".join(f"e-{i},Acme,minutes,1,{moment}\n" for i, moment in
                                       enumerate(["1969-12-31T23:59:59Z",  # the UTC fast path
                                                  "1969-12-31T23:59:59.500000+00:00",
                                                  "3000-01-01T00:00:00Z",
                                                  "0001-01-01", "1970-01-01T01:00:00+02:00",
                                                  "1970-01-01T00:00:00Z",  # taken
                                                  "2026-03-09T00:00:00"])))  # taken
    assert [r.line for r in result.rejected] == [2, 3, 4, 5, 6]
    assert all(r.reason.startswith("occurred_at: ") and "1970-01-01 to 2999-12-31" in r.reason
               for r in result.rejected), result.rejected
    assert result.recorded == 2


# -- A. verify checks the order of periods ---------------------------------------------------
def _plant(desk: Any, statement: str) -> None:
    with desk.database.engine.begin() as conn:
        conn.execute(text(statement))


@pytest.mark.parametrize(("statement", "problem"), [
    # A closed period that ends before it starts (what `cancel --now` before the rollover made).
    ("UPDATE periods SET \"end\" = '2026-02-01 00:00:00.000000', "
     "closed_at = '2026-02-01 00:00:00.000000' WHERE start = '2026-04-01 00:00:00.000000'",
     "not after it starts"),
    # A gap between two periods of one subscription.
    ("UPDATE periods SET start = '2026-05-02 00:00:00.000000' "
     "WHERE start = '2026-05-01 00:00:00.000000'", "but period"),
    # A period starting before its subscription did.
    ("UPDATE subscriptions SET started_at = '2026-04-15 00:00:00.000000'",
     "outside its subscription"),
    # A subscription that ends before it starts.
    ("UPDATE subscriptions SET status = 'cancelled', ended_at = '2026-01-01 00:00:00.000000'",
     "before it starts"),
    # Usage recorded outside its period.
    ("UPDATE usage_events SET recorded_at = '2026-02-01 00:00:00.000000'",
     "outside its period"),
])
@pytest.mark.parametrize("backend", ["sqlite"])  # the planted rows are SQLite's storage form
@pytest.mark.slow
def test_verify_reports_periods_out_of_order(desk, clock, backend, statement, problem):
    agency(desk, clock)
    clock.set(datetime(2026, 3, 20, tzinfo=UTC))
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    clock.set(MAY_1 + timedelta(hours=1))
    billing.run_rollover(desk)
    assert reports.verify(desk).ok
    _plant(desk, statement)
    report = reports.verify(desk)
    assert not report.ok
    assert any(problem in p for p in report.problems), report.problems
    assert report.checked["periods"] == 6


# -- B. idempotency keys ---------------------------------------------------------------------
@pytest.mark.parametrize("key", ["", "   ", "\t\n"])
def test_an_empty_or_blank_key_is_refused_every_time(desk, clock, key):
    agency(desk, clock)
    for _ in range(2):
        refused(desk, lambda: wallet.apply_pack(desk, client="Acme", pack="Minutes 50",
                                                status="paid", key=key), InvalidValue,
                "key: an idempotency key cannot be empty")


def test_keys_are_compared_exactly_as_given(desk, clock):
    agency(desk, clock)
    plain = wallet.apply_pack(desk, client="Acme", pack="Minutes 50", status="paid", key="k")
    padded = wallet.apply_pack(desk, client="Acme", pack="Minutes 50", status="paid", key=" k ")
    upper = wallet.apply_pack(desk, client="Acme", pack="Minutes 50", status="paid", key="K")
    assert len({plain.lot_id, padded.lot_id, upper.lot_id}) == 3, "three keys, three lots"
    again = wallet.apply_pack(desk, client="Acme", pack="Minutes 50", status="paid", key=" k ")
    assert (again.repeated, again.lot_id) == (True, padded.lot_id)
    assert wallet.apply_pack(desk, client="Acme", pack="Minutes 50", status="paid").lot_id \
        not in {plain.lot_id, padded.lot_id, upper.lot_id}, "no key: a fresh one"


# -- B. local times that happen twice or never -------------------------------------------------
@pytest.fixture
def berlin(tmp_path):
    clock = MovableClock(datetime(2026, 3, 1, tzinfo=UTC))
    desk = new_desk(tmp_path / "berlin.db", clock, "Europe/Berlin")
    agency(desk, clock, at=datetime(2026, 3, 1, tzinfo=UTC))
    clock.set(datetime(2026, 10, 26, 12, 0, tzinfo=UTC))
    yield desk
    desk.close()


@pytest.mark.parametrize(("local", "words"), [
    ("2026-10-25T02:30", ["happens twice in Europe/Berlin", "2026-10-25T02:30:00+02:00",
                          "2026-10-25T02:30:00+01:00"]),
    ("2026-10-25 02:00:00", ["happens twice in Europe/Berlin"]),
    ("2026-03-29T02:30", ["does not exist in Europe/Berlin", "give an offset"]),
    ("2026-03-29T02:00:00.000001", ["does not exist in Europe/Berlin"]),
])
@pytest.mark.slow
def test_an_ambiguous_or_impossible_local_time_is_refused_naming_the_zone(berlin, local, words):
    for field in ("now", "at"):
        with pytest.raises(InvalidValue) as caught:
            usage.parse_time(local, berlin.timezone, field)
        assert caught.value.message.startswith(f"{field}: '{local}' ")
        for word in words:
            assert word in caught.value.message, caught.value.message
    refused(berlin, lambda: usage.record_usage(berlin, client="Acme", resource="minutes",
                                               quantity="1", at=local), InvalidValue, *words)


def test_times_next_to_a_change_and_times_with_an_offset_are_taken(berlin):
    tz = berlin.timezone
    assert usage.parse_time("2026-10-25T01:59:59", tz) == datetime(2026, 10, 24, 23, 59, 59,
                                                                   tzinfo=UTC)
    assert usage.parse_time("2026-10-25T03:00", tz) == datetime(2026, 10, 25, 2, tzinfo=UTC)
    assert usage.parse_time("2026-10-25T02:30+01:00", tz) == datetime(2026, 10, 25, 1, 30,
                                                                      tzinfo=UTC)
    assert usage.parse_time("2026-03-29T03:00", tz) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert usage.parse_time("2026-03-29T01:59", tz) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)


def test_an_import_rejects_ambiguous_and_impossible_times_only(berlin):
    result = import_text(berlin, "e-1,Acme,minutes,1,2026-10-25T02:30\n"
                                 "e-2,Acme,minutes,1,2026-10-25T02:30+01:00\n"
                                 "e-3,Acme,minutes,1,2026-03-29 02:15:00\n"
                                 "e-4,Acme,minutes,1,2026-10-25T03:30\n")
    assert result.recorded == 2
    assert [(r.line, r.reason) for r in result.rejected] == [
        (2, "occurred_at: '2026-10-25T02:30' happens twice in Europe/Berlin (the clocks go "
            "back): give an offset, 2026-10-25T02:30:00+02:00 or 2026-10-25T02:30:00+01:00"),
        (4, "occurred_at: '2026-03-29 02:15:00' does not exist in Europe/Berlin (the clocks "
            "skip it): give an offset")]


# -- B. ASCII digits only ----------------------------------------------------------------------
NON_ASCII = ["٣", "１", "１٠", "1٠0", "٣.٥", "²"]


@pytest.mark.parametrize("value", NON_ASCII)
def test_numbers_in_other_digits_are_refused_everywhere(value):
    checks: list[Callable[[], object]] = [
        lambda: to_decimal(value, "quantity"),
        lambda: parse_quantity(Resource.SMS, value),
        lambda: parse_quantity(Resource.MINUTES, value),
        lambda: parse_money(value, "price", "USD"),
        lambda: parse_rate(value, "overage sms"),
        lambda: catalog.parse_due_days(value),
        lambda: catalog.parse_expires_months(value),
        lambda: catalog.parse_alerts(value),
        lambda: catalog.parse_alerts(f"50,{value}"),
        lambda: usage_quantity(Resource.SMS, value),
    ]
    for check in checks:
        with pytest.raises(InvalidValue):
            check()
    with pytest.raises(QuotaDeskError):
        record_id(value, "lot")


@pytest.mark.parametrize("moment", ["٢٠٢٦-03-01T10:00", "2026-03-0１T10:00Z",
                                    "2026-03-01T10:00:00.５Z", "2026-03-01T10:00+0１:00"])
def test_times_in_other_digits_are_refused(moment):
    with pytest.raises(InvalidValue) as caught:
        usage.parse_time(moment, UTC, "at")
    assert caught.value.message.startswith("at: ")


def test_services_refuse_other_digits_and_write_nothing(desk, clock):
    agency(desk, clock)
    refused(desk, lambda: usage.record_usage(desk, client="Acme", resource="sms", quantity="٣"),
            InvalidValue, "quantity: '٣'", "ASCII")
    refused(desk, lambda: catalog.add_plan(desk, name="X", fee="１٠"), InvalidValue, "fee")
    refused(desk, lambda: catalog.add_plan(desk, name="X", fee="1", included={"sms": "١٠"}),
            InvalidValue, "included sms")
    refused(desk, lambda: catalog.add_plan(desk, name="X", fee="1", due_days="٣"),
            InvalidValue, "due_days")
    refused(desk, lambda: catalog.add_pack(desk, name="X", resource="sms", units="5",
                                           price="1", expires_months="１２"), InvalidValue,
            "expires_months")
    refused(desk, lambda: wallet.revoke_lot(desk, lot_id="٣", reason="x"), InvalidValue, "lot")
    result = import_text(desk, "e-1,Acme,minutes,٣,2026-03-10T09:00:00Z\n"
                               "e-2,Acme,minutes,3,2026-03-10T0９:00:00Z\n"
                               "e-3,Acme,minutes,3,2026-03-10T09:00:00Z\n")
    assert result.recorded == 1 and [r.line for r in result.rejected] == [2, 3]


# -- B/C. bounds and their wording -----------------------------------------------------------
@pytest.mark.parametrize(("call", "words"), [
    (lambda: catalog.parse_due_days("99999999999999999999"),
     ["due_days: '99999999999999999999' is out of range", "between 0 and 365"]),
    (lambda: catalog.parse_due_days("366"), ["out of range", "between 0 and 365"]),
    (lambda: catalog.parse_due_days("-1"), ["out of range", "between 0 and 365"]),
    (lambda: catalog.parse_due_days("1.5"), ["not a whole number of days"]),
    (lambda: catalog.parse_expires_months("9" * 30), ["out of range", "between 1 and 1200"]),
    (lambda: catalog.parse_expires_months("0"), ["out of range", "between 1 and 1200"]),
    (lambda: catalog.parse_alerts("9" * 5000), ["out of range", "between 1 and 100"]),
])
def test_a_number_out_of_range_says_so(call, words):
    with pytest.raises(InvalidValue) as caught:
        call()
    for word in words:
        assert word in caught.value.message, caught.value.message
    assert len(caught.value.message) < 200


def test_a_resource_given_twice_is_refused(desk, clock):
    agency(desk, clock)
    refused(desk, lambda: catalog.add_plan(desk, name="X", fee="1",
                                           included={"sms": "1", " SMS ": "2"}),
            InvalidValue, "included: sms is given twice")
    refused(desk, lambda: catalog.edit_plan(desk, plan="Voice",
                                            overage={"minutes": "0.1", "Minutes": None}),
            InvalidValue, "overage: minutes is given twice")


# -- C. values echoed in messages are shortened ------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda d, v: clients.add_client(d, name="X", email=v + "@example.com"),
    lambda d, v: usage.record_usage(d, client="Acme", resource="sms", quantity=v),
    lambda d, v: usage.record_usage(d, client="Acme", resource=v, quantity="1"),
    lambda d, v: usage.record_usage(d, client="Acme", resource="sms", quantity="1", at=v),
    lambda d, v: catalog.add_plan(d, name="X", fee="1", anchor=v),
    lambda d, v: catalog.add_plan(d, name="X", fee="1", due_days=v),
    lambda d, v: wallet.apply_pack(d, client="Acme", pack="Minutes 50", status=v),
    lambda d, v: billing.list_payments(d, status=v),
], ids=["email", "quantity", "resource", "at", "anchor", "due_days", "status", "filter"])
@pytest.mark.slow
def test_a_long_value_is_echoed_shortened(desk, clock, call):
    agency(desk, clock)
    value = "x" * 100_000
    with pytest.raises(QuotaDeskError) as caught:
        call(desk, value)
    message = caught.value.message
    assert "x" * 80 + "…" in message and "x" * 81 not in message, message[:300]
    assert len(message) < 300


def test_no_message_is_longer_than_the_limit():
    assert len(InvalidValue("field: " + "y" * 10_000).message) <= 601


def test_refusals_never_show_a_local_mean_time_offset(berlin):
    """Year 1 in Europe/Berlin had the offset +00:53:28: such times are refused whole."""
    with pytest.raises(InvalidValue) as caught:
        usage.parse_time("0001-01-01T01:00", berlin.timezone, "now")
    assert "00:53" not in caught.value.message
    with pytest.raises(NotFound):
        record_id("99999999999", "lot")
