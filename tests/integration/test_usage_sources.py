"""SPEC §11 at the service level, on SQLite and PostgreSQL: the platforms' files as they
really are (tests/integration/test_usage_sources_files.py writes them), billed in increments,
re-imported without a second charge, a bad line rejecting only itself."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from quotadesk.models import UsageEvent
from quotadesk.services import catalog, clients, usage
from quotadesk.services.errors import DuplicateName, NotFound
from quotadesk.services.unit_of_work import Desk
from quotadesk.services.usage_sources import identifiers
from tests.conftest import MovableClock
from tests.integration.test_usage_sources_files import (
    Call,
    asterisk_csv,
    freeswitch_csv,
    resaved,
    twilio_csv,
)

D = Decimal
JAN = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


def set_up(desk: Desk, clock: MovableClock, increments: str = "1/1") -> None:
    """Acme (known to the PBX as `acme-pbx`) and Beta (its accountcode is its name, in
    other case), on a plan with these increments, subscribed on Jan 1st."""
    clock.set(JAN)
    catalog.add_plan(desk, name="Voice", fee="10.00", included={"minutes": "1000",
                                                                 "sms": "1000"},
                     increments=increments)
    for name in ("Acme", "Beta"):
        clients.add_client(desk, name=name)
        clients.subscribe(desk, client=name, plan="Voice")
    identifiers.identify_client(desk, client="Acme", identifiers=["acme-pbx", "AC123"])
    clock.set(NOW)


def minutes(desk: Desk, client: str) -> Decimal:
    return clients.client_detail(desk, client).resources["minutes"].included_used


def day(d: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 1, d, hour, minute, second)


#: Acme's answered calls bill 65, 19, 1, 60 and 61 seconds; Beta's 5 and 31. Around them:
#: an unanswered ring-group leg sharing a linkedid with the leg that answered, a busy call,
#: a call answered for 0 seconds, a failed one; all four layouts of cdr_csv.
CALLS = [
    Call("acme-pbx", day(2), 65, uniqueid="1767344400.1"),
    Call("acme-pbx", day(2, 10), 19, layout=16),  # no uniqueid: a digest of the record
    Call("ACME-PBX", day(3), 1, uniqueid="1767430800.2", layout=18),  # identifier, any case
    Call("acme-pbx", day(4), 0, "NO ANSWER", uniqueid="1767517200.3", layout=21,
         linkedid="1767517200.3", dst="201"),
    Call("acme-pbx", day(4), 60, uniqueid="1767517200.4", layout=21, linkedid="1767517200.3",
         dst="202"),
    Call("acme-pbx", day(5), 0, "BUSY", uniqueid="1767603600.5"),
    Call("acme-pbx", day(5, 11), 0, uniqueid="1767610800.6"),  # answered, billsec 0
    Call("acme-pbx", day(6), 61, uniqueid="1767690000.7", layout=21, linkedid="1767690000.7"),
    Call("beta", day(7), 5, uniqueid="1767776400.8"),
    Call("Beta", day(8), 31, uniqueid="1767862800.9", layout=18),
    Call("beta", day(8, 12), 0, "FAILED", uniqueid="1767873600.10"),
]
EXPECTED = {  # increments: (Acme's minutes, Beta's minutes), worked by hand
    "1/1": (D("3.433335"), D("0.600001")),  # each call rounded up to 6 places
    "6/6": (D("3.7"), D("0.7")),
    "30/6": (D("4.2"), D("1.1")),
    "60/60": (D("7"), D("2")),
}


@pytest.mark.parametrize("rule", list(EXPECTED))
def test_asterisk_minutes_per_client_under_each_increment_rule(desk: Desk, clock, rule):
    set_up(desk, clock, rule)
    result = usage.import_usage(desk, io.BytesIO(asterisk_csv(CALLS)), format="asterisk")
    assert (result.recorded, result.skipped, result.duplicates, result.rejected) == \
        (7, 4, 0, ())
    assert (minutes(desk, "Acme"), minutes(desk, "Beta")) == EXPECTED[rule]


def test_a_reimport_or_an_overlapping_later_export_records_nothing_twice(desk: Desk, clock):
    set_up(desk, clock, "6/6")
    first = asterisk_csv(CALLS[:6])
    usage.import_usage(desk, io.BytesIO(first), format="asterisk")
    again = usage.import_usage(desk, io.BytesIO(first), format="asterisk")
    assert (again.recorded, again.duplicates, again.skipped) == (0, 4, 2)
    later = usage.import_usage(desk, io.BytesIO(asterisk_csv(CALLS)), format="asterisk")
    assert (later.recorded, later.duplicates, later.skipped) == (3, 4, 4)
    assert (minutes(desk, "Acme"), minutes(desk, "Beta")) == EXPECTED["6/6"]


def test_a_spreadsheets_resaved_copy_reads_and_records_nothing_new(desk: Desk, clock):
    set_up(desk, clock, "60/60")
    original = asterisk_csv(CALLS)
    copy = resaved(original)
    assert b"2026/1/2 9:00," in copy and b'"' in copy  # quotes only where needed
    usage.import_usage(desk, io.BytesIO(original), format="asterisk")
    result = usage.import_usage(desk, io.BytesIO(copy), format="asterisk")
    # Even the record without a uniqueid: its digest reads its times to the minute.
    assert (result.recorded, result.duplicates, result.skipped, result.rejected) == \
        (0, 7, 4, ())


def test_a_resaved_copy_alone_bills_the_same(desk: Desk, clock):
    set_up(desk, clock, "30/6")
    result = usage.import_usage(desk, io.BytesIO(resaved(asterisk_csv(CALLS))),
                                format="asterisk")
    assert (result.recorded, result.skipped) == (7, 4)
    assert (minutes(desk, "Acme"), minutes(desk, "Beta")) == EXPECTED["30/6"]


def test_a_bad_line_rejects_only_itself(desk: Desk, clock):
    set_up(desk, clock)
    good = asterisk_csv(CALLS[:3]).splitlines(keepends=True)
    data = b"".join([good[0],
                     b'"acme-pbx","4155550100","200","from-internal","""Bob <100>\n',  # stray
                     good[1],
                     b'"acme-pbx","1","2","x","y","SIP/1","SIP/2","Dial","",'
                     b'"2026-01-02 25:00:00","","2026-01-02 10:00:00",9,9,"ANSWERED",'
                     b'"DOCUMENTATION","bad-time"\n',
                     b'"nobody","1","2","x","y","SIP/1","SIP/2","Dial","",'
                     b'"2026-01-02 09:00:00","","2026-01-02 10:00:00",9,9,"ANSWERED",'
                     b'"DOCUMENTATION","who"\n',
                     good[2]])
    result = usage.import_usage(desk, io.BytesIO(data), format="asterisk")
    assert result.recorded == 3
    assert [r.line for r in result.rejected] == [2, 4, 5]
    reasons = [r.reason for r in result.rejected]
    assert reasons[0].startswith("line: malformed CSV")
    assert reasons[1].startswith("start: '2026-01-02 25:00:00'")
    assert reasons[2].startswith("accountcode: no client is identified by 'nobody'")


def test_local_times_across_a_daylight_saving_change(make_database, clock):
    """New York falls back on 2026-11-01: 01:30 happens twice (refused, naming the zone and
    both offsets); 00:30 and 03:00 are one hour and five hours apart in UTC... as they are."""
    from tests.conftest import new_desk

    desk = new_desk(make_database(), clock, timezone="America/New_York")
    clock.set(datetime(2026, 10, 1, tzinfo=UTC))
    catalog.add_plan(desk, name="Voice", fee="0", included={"minutes": "100"})
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Voice")
    clock.set(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
    calls = [Call("Acme", datetime(2026, 11, 1, 0, 30), 60, uniqueid="a"),
             Call("Acme", datetime(2026, 11, 1, 1, 30), 60, uniqueid="b"),  # twice
             Call("Acme", datetime(2026, 11, 1, 3, 0), 60, uniqueid="c"),
             Call("Acme", datetime(2026, 3, 8, 2, 30), 60, uniqueid="d")]  # never (spring)
    result = usage.import_usage(desk, io.BytesIO(asterisk_csv(calls)), format="asterisk")
    assert result.recorded == 2
    assert [r.line for r in result.rejected] == [2, 4]
    assert "happens twice in America/New_York" in result.rejected[0].reason
    assert "-04:00" in result.rejected[0].reason and "-05:00" in result.rejected[0].reason
    assert "does not exist in America/New_York" in result.rejected[1].reason
    with desk.database.session(write=False) as session:
        times = dict(session.execute(select(UsageEvent.event_id,
                                            UsageEvent.occurred_at)).all())
    assert times == {"asterisk:a": datetime(2026, 11, 1, 4, 30, tzinfo=UTC),  # EDT
                     "asterisk:c": datetime(2026, 11, 1, 8, 0, tzinfo=UTC)}  # EST
    desk.close()


def test_freeswitch_cdrs(desk: Desk, clock):
    set_up(desk, clock, "6/6")
    data = freeswitch_csv([
        ("acme-pbx", day(2), 65, "NORMAL_CLEARING", "6f1c-01"),
        ("acme-pbx", day(2, 10), 0, "NO_ANSWER", "6f1c-02"),
        ("Beta", day(3), 7, "NORMAL_CLEARING", "6f1c-03"),
        ("acme-pbx", day(3, 11), 0, "USER_BUSY", "6f1c-04")])
    result = usage.import_usage(desk, io.BytesIO(data), format="freeswitch")
    assert (result.recorded, result.skipped, result.rejected) == (2, 2, ())
    assert (minutes(desk, "Acme"), minutes(desk, "Beta")) == (D("1.1"), D("0.2"))
    again = usage.import_usage(desk, io.BytesIO(data), format="freeswitch")
    assert (again.recorded, again.duplicates) == (0, 2)


def test_twilio_counts_segments_and_skips_failed_and_canceled(desk: Desk, clock):
    set_up(desk, clock)
    body = 'Your code is 123456, "quoted",\nand a second line'
    data = twilio_csv([
        ("AC123", "SM01", "2026-01-02T09:00:00Z", "delivered", 1, "outbound-api", "hi"),
        ("AC123", "SM02", "Fri, 02 Jan 2026 10:00:00 +0000", "delivered", 3, "outbound-api",
         body * 2),
        ("AC123", "SM03", "2026-01-03T09:00:00Z", "failed", 2, "outbound-api", "x"),
        ("AC123", "SM04", "2026-01-03T10:00:00Z", "canceled", 1, "outbound-api", "x"),
        ("AC123", "SM05", "2026-01-04 09:00:00", "received", 2, "inbound", "reply"),
        ("AC123", "SM06", "2026-01-04 09:30:00", "undelivered", 4, "outbound-api", "x"),
        ("beta", "SM07", "2026-01-05T09:00:00+01:00", "sent", 1, "outbound-reply", "ok")])
    result = usage.import_usage(desk, io.BytesIO(data), format="twilio-messages")
    assert (result.recorded, result.skipped, result.rejected) == (5, 2, ())
    sms = {name: clients.client_detail(desk, name).resources["sms"].included_used
           for name in ("Acme", "Beta")}
    assert sms == {"Acme": D(10), "Beta": D(1)}
    assert usage.import_usage(desk, io.BytesIO(data), format="twilio-messages").duplicates == 5


def test_a_twilio_file_without_its_header_is_refused_whole(desk: Desk, clock):
    set_up(desk, clock)
    with pytest.raises(usage.UsageFileError, match="no Status, SentDate"):
        usage.import_usage(desk, io.BytesIO(b"From,To,Body\n1,2,3\n"),
                           format="twilio-messages")


def test_event_ids_are_kept_apart_per_source(desk: Desk, clock):
    """The same id `42` from Asterisk, FreeSWITCH and a mapping: three events."""
    from quotadesk.services.usage_sources import mappings

    set_up(desk, clock)
    mappings.add_source(desk, name="Carrier", client="account", quantity="secs",
                        time="when", event_id="id")
    usage.import_usage(desk, io.BytesIO(asterisk_csv([Call("Acme", day(2), 60,
                                                           uniqueid="42")])),
                       format="asterisk")
    usage.import_usage(desk, io.BytesIO(freeswitch_csv([("Acme", day(2), 60, "OK", "42")])),
                       format="freeswitch")
    result = usage.import_usage(
        desk, io.BytesIO(b"id,account,secs,when\n42,Acme,60,2026-01-02 09:00:00\n"),
        format="carrier")
    assert result.recorded == 1
    assert minutes(desk, "Acme") == D(3)


def test_a_mapping_with_names_skip_rules_increments_and_its_own_zone(desk: Desk, clock):
    from quotadesk.services.usage_sources import mappings

    set_up(desk, clock, "30/6")
    m = mappings.add_source(desk, name="Carrier X", client="Account", quantity="Seconds",
                            time="Start", event_id="Call ID", time_format="%d/%m/%Y %H:%M",
                            timezone="Europe/Paris", skip_if=["Status=no answer",
                                                              "Status=busy"])
    assert (m.resource, m.unit) == ("minutes", "seconds")
    data = (b"Call ID;Account;Seconds;Start;Status\n"
            b"c1;acme-pbx;61;02/01/2026 10:00;ANSWERED\n"
            b"c2;acme-pbx;40;02/01/2026 10:05;NO ANSWER\n"
            b"c3;Beta;7;02/01/2026 11:00;answered\n"
            b"c4;Beta;9;02/01/2026 11:05;Busy\n"
            b"c5;Beta;0;02/01/2026 11:06;answered\n")
    with pytest.raises(usage.UsageFileError):  # a comma-separated mapping: no such columns
        usage.import_usage(desk, io.BytesIO(data), format="Carrier X")
    m2 = mappings.add_source(desk, name="Carrier X semicolons", client="account",
                             quantity="SECONDS", time="start", event_id="call id",
                             delimiter=";", time_format="%d/%m/%Y %H:%M",
                             timezone="Europe/Paris",
                             skip_if=["Status=no answer", "5=busy"])
    result = usage.import_usage(desk, io.BytesIO(data), format=m2.name)
    assert (result.recorded, result.skipped, result.rejected) == (2, 3, ())
    assert (minutes(desk, "Acme"), minutes(desk, "Beta")) == (D("1.1"), D("0.5"))
    with desk.database.session(write=False) as session:
        at = session.scalar(select(UsageEvent.occurred_at).where(
            UsageEvent.event_id == f"source-{m2.id}:c1"))
    assert at == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def test_a_mapping_without_header_names_columns_by_number(desk: Desk, clock):
    from quotadesk.services.usage_sources import mappings

    set_up(desk, clock)
    mappings.add_source(desk, name="sms log", client="2", quantity="3", time="1",
                        resource_column="4", header="no", delimiter="tab")
    data = (b"2026-01-02T09:00:00Z\tBeta\t3\tsms\n"
            b"2026-01-02T09:01:00Z\tBeta\t2.5\tminutes\n"
            b"2026-01-02T09:02:00Z\tBeta\t0\tsms\n"
            b"2026-01-02T09:03:00Z\tBeta\t1\tfax\n"
            b"2026-01-02T09:04:00Z\tBeta\t1\n")
    result = usage.import_usage(desk, io.BytesIO(data), format="SMS LOG")
    assert (result.recorded, result.skipped) == (2, 1)
    assert [r.line for r in result.rejected] == [4, 5]
    detail = clients.client_detail(desk, "Beta")
    assert (detail.resources["sms"].included_used, detail.resources["minutes"].included_used) \
        == (D(3), D("2.5"))  # minutes given directly: no increments
    # Without an event id column, a digest: the same file again records nothing.
    assert usage.import_usage(desk, io.BytesIO(data), format="sms log").duplicates == 2


def test_increments_are_those_of_the_subscription_at_the_events_time(desk: Desk, clock):
    """A snapshot: editing the plan changes nothing running; re-subscribing on Jan 5th to a
    60/60 plan bills calls from then on in whole minutes, the calls before as before."""
    set_up(desk, clock, "1/1")
    catalog.edit_plan(desk, plan="Voice", increments="6/6")
    catalog.add_plan(desk, name="Per minute", fee="10.00", included={"minutes": "1000"},
                     increments="60/60")
    clock.set(datetime(2026, 1, 5, tzinfo=UTC))
    clients.subscribe(desk, client="Acme", plan="Per minute")
    clock.set(NOW)
    calls = [Call("Acme", day(3), 61, uniqueid="before"),
             Call("Acme", day(6), 61, uniqueid="after")]
    usage.import_usage(desk, io.BytesIO(asterisk_csv(calls)), format="asterisk")
    assert minutes(desk, "Acme") == D("1.016667") + D(2)
    assert clients.client_detail(desk, "Acme").subscription.terms.increments == (60, 60)
    assert [p.increments for p in catalog.list_plans(desk)] == [(60, 60), (6, 6)]


@pytest.mark.parametrize("backend", ["sqlite"])  # the writer process writes SQLite files
def test_the_writer_process_imports_a_source_in_batches_as_in_turn(desk: Desk, clock):
    set_up(desk, clock, "6/6")
    result = usage.import_usage(desk, io.BytesIO(asterisk_csv(CALLS * 1)), format="asterisk",
                                batch_size=2, pipelined=True)
    assert (result.recorded, result.skipped) == (7, 4)
    assert (minutes(desk, "Acme"), minutes(desk, "Beta")) == EXPECTED["6/6"]


def test_identifiers_are_unique_across_clients_and_found_before_names(desk: Desk, clock):
    set_up(desk, clock)
    with pytest.raises(DuplicateName, match="already identifies client 'Acme'"):
        identifiers.identify_client(desk, client="Beta", identifiers=["ACME-PBX"])
    # Beta's identifier "acme" is found before the client named Acme.
    assert identifiers.identify_client(desk, client="Beta", identifiers=["acme", "acme"]) \
        == ("acme",)
    usage.import_usage(desk, io.BytesIO(asterisk_csv([Call("Acme", day(2), 60,
                                                           uniqueid="x")])),
                       format="asterisk")
    assert (minutes(desk, "Acme"), minutes(desk, "Beta")) == (D(0), D(1))
    assert clients.client_detail(desk, "Acme").identifiers == ("acme-pbx", "AC123")
    assert identifiers.unidentify_client(desk, client="Acme", identifier="ac123") == \
        ("acme-pbx",)
    with pytest.raises(NotFound):
        identifiers.unidentify_client(desk, client="Acme", identifier="AC123")
    assert identifiers.set_identifiers(desk, client="Acme", identifiers=["pbx-2", "acme-pbx"]) \
        == ("acme-pbx", "pbx-2")
