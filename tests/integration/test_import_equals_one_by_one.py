"""An import in batches leaves the database exactly as recording its lines one by one does.

Hypothesis writes a usage CSV (several clients named in other cases, by id and unknown; all
three resources; whole and decimal quantities, written in several ways; repeated event ids;
late, future and local times; bad lines of every kind) over clients whose allowances and lots
are small, so that events exhaust them: blocks, alerts, their emails, overage and campaigns
paused for quota all happen. The clock moves on between batches (hours to a month), so
periods roll over between events. The file is imported with a random batch size, in turn or
through the writer process; on a twin database, each line is recorded with `record_usage`,
the clock set to what the import read for that line's batch. Both databases must then be
equal table by table, row by row, ids included; and every line the import rejected before
rating it, `record_usage` refuses with the same message.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from pprint import pformat
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import event as statistic
from hypothesis import strategies as st

from quotadesk.db import open_database
from quotadesk.models import EmailOutbox
from quotadesk.services import catalog, clients, usage, wallet
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.unit_of_work import Desk
from tests.conftest import MovableClock, new_desk
from tests.integration.test_rules_support import table_dump

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ZONE = "Europe/Berlin"
HEADER = "event_id,client,resource,quantity,occurred_at\n"
AUDIT_TABLES = ("audit_log", "audit_clients")


def _fill(desk: Desk) -> None:
    """Small allowances and lots: a few events exhaust them."""
    catalog.add_plan(desk, name="Capped", fee="10.00", included={"sms": "5", "minutes": "3"},
                     alerts="50,100")
    catalog.add_plan(desk, name="Metered", fee="0", anchor="anniversary",
                     included={"minutes": "4.5", "email": "3"},
                     overage={"minutes": "0.02", "sms": "0.05"})
    catalog.add_pack(desk, name="SMS 4", resource="sms", units="4", price="1.00")
    catalog.add_pack(desk, name="Minutes 2.5", resource="minutes", units="2.5", price="2.00",
                     expires_months=1)
    for name, email, plan in (("Acme", "ops@acme.test", "Capped"), ("Bolt", None, "Metered"),
                              ("Cyan", "cyan@example.test", None),
                              ("Dune", "dune@example.test", "Capped")):
        clients.add_client(desk, name=name, email=email)
        if plan is not None:
            clients.subscribe(desk, client=name, plan=plan)
            clients.assign_packs(desk, client=name, packs=["SMS 4", "Minutes 2.5"])
            clients.add_campaign(desk, client=name, name=f"{name} texts", resource="sms")
    wallet.apply_pack(desk, client="Acme", pack="SMS 4", status="paid", key="a")
    wallet.apply_pack(desk, client="Dune", pack="Minutes 2.5", status="pending", key="d")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("one-by-one") / "template.db"
    desk = new_desk(path, MovableClock(T0), ZONE)
    _fill(desk)
    desk.close()
    return path


# -- the file -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Good:
    """A line that resolves (it may still be refused when rated: no subscription, future)."""

    event_id: str
    client: str
    resource: str
    quantity: str
    ago: timedelta  # before its batch's clock (negative: in the future)
    shape: str  # how the time is written


GOOD_CLIENTS = ["Acme", "acme", " ACME ", "Bolt", "bOLT", "1", "2", "Cyan", "Dune", "4"]
EVENT_IDS = st.one_of(st.just(""), st.sampled_from([f"ev-{n}" for n in range(8)]),
                      st.sampled_from([" ev-1 ", "ev-2 "]))
MINUTES = st.one_of(
    st.integers(1, 4_000_000).map(lambda micro: str(micro / 1_000_000).rstrip("0")),
    st.integers(1, 9_000_000).map(lambda micro: f"{micro // 1_000_000}.{micro % 1_000_000:06d}"),
    st.sampled_from(["1", "2.50", "0.5", "007", "3.000000"]))
WHOLE = st.one_of(st.integers(1, 6).map(str), st.sampled_from(["02", "10"]))
AGO = st.one_of(st.integers(0, 3 * 86_400), st.integers(0, 45 * 86_400),
                st.integers(20 * 86_400, 70 * 86_400),  # late, often
                st.integers(-86_400, -1)).map(lambda s: timedelta(seconds=s))  # future


@st.composite
def good_lines(draw: st.DrawFn) -> Good:
    resource = draw(st.sampled_from(["sms", "SMS", " minutes", "minutes", "email"]))
    quantity = draw(MINUTES if "minutes" in resource else WHOLE)
    return Good(draw(EVENT_IDS), draw(st.sampled_from(GOOD_CLIENTS)), resource, quantity,
                draw(AGO), draw(st.sampled_from(["Z", "+00:00", "micro", "+05:30", "local"])))


BAD_LINES = st.sampled_from([
    "b-1,Acme,voice,1,2026-01-05T08:00:00Z",  # resource
    "b-2,Nobody,sms,1,2026-01-05T08:00:00Z",  # client
    "b-3,Acme,sms,1.5,2026-01-05T08:00:00Z",  # whole units
    "b-4,Acme,minutes,0,2026-01-05T08:00:00Z",  # not > 0
    "b-5,Acme,minutes,1.0000001,2026-01-05T08:00:00Z",  # places
    "b-6,Acme,email,-2,2026-01-05T08:00:00Z",
    "b-7,Acme,sms,NaN,2026-01-05T08:00:00Z",
    "b-8,Bolt,sms,1,yesterday",  # time
    "b-9,Bolt,sms,1,",
    "b-10,Bolt,sms,1,2026-03-29T02:30:00",  # skipped by the clocks in Berlin
    "b-11,Nobody,voice,x,never",  # several bad values: the first is said
    "ev-1,Acme,sms,٣,2026-01-05T08:00:00Z",  # a good id on a bad line: not a duplicate
    "b-12,Acme,sms,1",  # fields
    "b-13,Acme,sms,1,2026-01-05T08:00:00Z,extra",
])


def _time(moment: datetime, shape: str) -> str:
    if shape == "Z":
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    if shape == "micro":
        return moment.replace(microsecond=123456).isoformat()
    if shape == "+05:30":
        return moment.astimezone(ZoneInfo("Asia/Kolkata")).isoformat()
    if shape == "local":
        local = moment.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None)
        zone = ZoneInfo(ZONE)
        if local.replace(tzinfo=zone, fold=0).utcoffset() == \
                local.replace(tzinfo=zone, fold=1).utcoffset():
            return local.isoformat()
    return moment.isoformat()


@dataclass
class Plan:
    lines: list[str]
    batch_of: list[int | None]  # each line's batch (None: rejected before rating)
    clocks: list[datetime]  # the clock each batch reads


def _plan(specs: list[Good | str], size: int, steps: list[timedelta]) -> Plan:
    lines: list[str] = []
    batch_of: list[int | None] = []
    clocks = [T0 + steps[0]]
    rows = 0
    for spec in specs:
        if isinstance(spec, str):
            lines.append(spec)
            batch_of.append(None)
            continue
        batch = rows // size
        while len(clocks) <= batch:
            clocks.append(clocks[-1] + steps[len(clocks) % len(steps)])
        rows += 1
        at = _time(clocks[batch] - spec.ago, spec.shape)
        lines.append(",".join((spec.event_id, spec.client, spec.resource, spec.quantity, at)))
        batch_of.append(batch)
    return Plan(lines, batch_of, clocks)


def _differences(imported: dict[str, list[Any]], recorded: dict[str, list[Any]]
                 ) -> dict[str, tuple[list[Any], list[Any]]]:
    """Per table, the rows only the import wrote and those only recording one by one wrote."""
    return {name: ([r for r in rows if r not in recorded[name]],
                   [r for r in recorded[name] if r not in rows])
            for name, rows in imported.items() if rows != recorded[name]}


_BEFORE: dict[Path, dict[str, int]] = {}


def _note_coverage(tables: dict[str, list[Any]], template: Path) -> None:
    """What the example made happen (see --hypothesis-show-statistics)."""
    if template not in _BEFORE:
        desk = Desk(open_database(template, migrate_schema=False))
        try:
            _BEFORE[template] = {name: len(rows) for name, rows in table_dump(desk).items()}
        finally:
            desk.close()
    before = _BEFORE[template]
    for table in ("alerts", "email_outbox", "periods", "payment_requests", "ledger_entries"):
        if len(tables[table]) > before[table]:
            statistic(f"new {table}")
    if any(row[2] for row in tables["resource_states"]):
        statistic("a resource blocked")
    if any(row[4] == "paused_quota" for row in tables["campaigns"]):
        statistic("a campaign paused for quota")
    if any(row[8] for row in tables["usage_events"]):
        statistic("a late event")
    if any(row[11] for row in tables["usage_events"]):
        statistic("overage")


def _without_reminders(tables: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The outbox as the import and the lines one by one must agree on it: the same alert
    and request e-mails. Reminders differ by design (SPEC §9: each write for a client queues
    its reminders now due; an import queues them once, after its last batch), and so do the
    outbox's ids and Message-IDs, which number those rows among the others."""
    columns = [c.name for c in EmailOutbox.__table__.columns]
    keep = [i for i, name in enumerate(columns) if name not in ("id", "message_id")]
    kind = columns.index("kind")
    outbox = sorted((tuple(row[i] for i in keep) for row in tables["email_outbox"]
                     if row[kind] != "reminder"), key=repr)
    return {**tables, "email_outbox": outbox}


#: Shrinking re-runs whole imports (minutes): a failure is reported as found.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


def _copy(template: Path, directory: Path, name: str, clock: Any) -> Desk:
    path = directory / f"{name}.db"
    shutil.copyfile(template, path)
    return Desk(open_database(path, migrate_schema=False), clock=clock)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, phases=PHASES,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=st.lists(st.one_of(good_lines(), good_lines(), good_lines(), BAD_LINES),
                      min_size=1, max_size=40),
       size=st.integers(1, 9),
       steps=st.lists(st.sampled_from([timedelta(hours=7), timedelta(days=3),
                                       timedelta(days=12), timedelta(days=31)]),
                      min_size=1, max_size=4),
       pipelined=st.sampled_from([False, False, True]))
def test_an_import_equals_recording_its_lines_one_by_one(
        template: Path, tmp_path_factory: pytest.TempPathFactory, specs: list[Good | str],
        size: int, steps: list[timedelta], pipelined: bool) -> None:
    plan = _plan(specs, size, steps)
    directory = tmp_path_factory.mktemp("example")
    reads: list[datetime] = []

    def import_clock() -> datetime:  # read once for each batch the import rates
        reads.append(plan.clocks[len(reads)])
        return reads[-1]

    one_clock = MovableClock(plan.clocks[0])
    imported = _copy(template, directory, "imported", import_clock)
    recorded = _copy(template, directory, "recorded", one_clock)
    try:
        data = (HEADER + "".join(line + "\n" for line in plan.lines)).encode()
        result = usage.import_usage(imported, io.BytesIO(data), batch_size=size,
                                    pipelined=pipelined)
        assert reads == plan.clocks[:len(reads)]
        assert len(reads) == len({b for b in plan.batch_of if b is not None})

        refused: dict[int, str] = {}
        accepted = duplicates = 0
        batch = 0
        for number, (line, batch_of) in enumerate(zip(plan.lines, plan.batch_of,
                                                      strict=True), start=2):
            batch = batch if batch_of is None else batch_of
            one_clock.set(plan.clocks[batch])
            cells = line.split(",")
            if len(cells) != 5:
                refused[number] = f"expected 5 fields, found {len(cells)}"
                continue
            event_id, client, resource, quantity, at = cells
            try:
                outcome = usage.record_usage(recorded, client=client, resource=resource,
                                             quantity=quantity, at=at, event_id=event_id)
            except QuotaDeskError as error:
                # The one-event path names its time argument `at`, the file `occurred_at`.
                refused[number] = error.message.replace("at: ", "occurred_at: ", 1) \
                    if error.message.startswith("at: ") else error.message
                continue
            if outcome.duplicate:
                duplicates += 1
            else:
                accepted += 1

        assert (result.recorded, result.duplicates) == (accepted, duplicates)
        assert {r.line: r.reason for r in result.rejected} == refused
        # The audit log differs by design (SPEC §12): an import is one entry, each line
        # recorded by itself is one.
        tables = table_dump(imported, skip=AUDIT_TABLES)
        differences = _differences(_without_reminders(tables),
                                   _without_reminders(table_dump(recorded, skip=AUDIT_TABLES)))
        assert not differences, pformat(differences)
        _note_coverage(tables, template)
    finally:
        imported.close()
        recorded.close()
        shutil.rmtree(directory, ignore_errors=True)
