"""Statement benchmark (SPEC §10): a 12-period statement of a client with 100,000 events.

    python benchmarks/statement_speed.py [--events 100000] [--backend sqlite|URL] [--keep DIR]

Builds one client on an Omnichannel-like plan (allowances, overage rates, packs that expire
and one that is revoked) and imports its usage month by month through the real import path
(so each event is rated into its own period, and the wallet's ledger gets a consume entry for
every event it covers), then closes the twelfth period. It times, in the same run:

- the baseline: reading the client's events back with one plain SELECT (ids, quantities);
- `statement_data` (the figures: period counters, the ledger summed, the requests);
- `statement_pdf` (the figures laid out and printed with QTextDocument and QPdfWriter);

and prints the times and their ratios to the baseline. `verify` checks the database after.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quotadesk.db import open_database  # noqa: E402
from quotadesk.models import UsageEvent  # noqa: E402
from quotadesk.services import (  # noqa: E402
    billing,
    catalog,
    clients,
    documents,
    reports,
    setup,
    usage,
    wallet,
)
from quotadesk.services.unit_of_work import Desk  # noqa: E402

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CLIENT = "Harbour Lights"


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def build(desk: Desk, clock: Clock, events: int, folder: Path) -> None:
    catalog.add_plan(desk, name="Omni", fee="149.00", included={
        "minutes": "5000", "sms": "5000", "email": "20000"},
        overage={"minutes": "0.045", "sms": "0.02"})
    catalog.add_pack(desk, name="Minutes 5000", resource="minutes", units="5000", price="200")
    catalog.add_pack(desk, name="SMS 20000", resource="sms", units="20000", price="300",
                     expires_months=3)
    catalog.add_pack(desk, name="Email 50000", resource="email", units="50000", price="50",
                     expires_months=2)
    clients.add_client(desk, name=CLIENT, email="accounts@harbour.example")
    clients.subscribe(desk, client=CLIENT, plan="Omni")
    clients.assign_packs(desk, client=CLIENT, packs=["Minutes 5000", "SMS 20000",
                                                     "Email 50000"])
    rng = random.Random(13)
    per_month = events // 12
    number = 0
    for month in range(12):
        first = START.replace(month=month + 1, day=1)
        clock.moment = first + timedelta(hours=1)
        for pack in ("Minutes 5000", "SMS 20000", "Email 50000"):
            applied = wallet.apply_pack(desk, client=CLIENT, pack=pack, status="paid")
        if month == 5:
            wallet.revoke_lot(desk, lot_id=applied.lot_id, reason="benchmark revoke")
        path = folder / f"usage-{month:02d}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["event_id", "client", "resource", "quantity", "occurred_at"])
            for i in range(per_month if month < 11 else events - 11 * per_month):
                number += 1
                resource = ("minutes", "sms", "email")[i % 3]
                quantity = (f"{rng.randint(1, 600) / 60:.6f}" if resource == "minutes"
                            else str(rng.randint(1, 12 if resource == "sms" else 40)))
                at = first + timedelta(days=1, seconds=i * 20)
                out.writerow([f"ev-{number}", CLIENT, resource, quantity, at.isoformat()])
        clock.moment = first + timedelta(days=27)
        result = usage.import_usage(desk, path)
        assert not result.rejected and not result.duplicates, result
    clock.moment = START.replace(year=2027, month=1, day=2)
    billing.run_rollover(desk)


def timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    best, value = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - began)
    return best, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backend", default="sqlite",
                        help="sqlite, or a PostgreSQL URL of an empty database")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="statement-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    target = str(folder / "bench.db") if args.backend == "sqlite" else args.backend
    clock = Clock(START)
    desk = Desk(open_database(target), clock=clock)
    setup.init_database(desk, currency="EUR", timezone="Europe/Berlin")
    began = time.perf_counter()
    build(desk, clock, args.events, folder)
    print(f"built {args.events:,} events in {time.perf_counter() - began:.1f} s")

    def baseline() -> int:
        with desk.database.session(write=False) as session:
            return len(session.execute(select(UsageEvent.id, UsageEvent.quantity)).all())

    base, count = timed(baseline)
    data_time, data = timed(lambda: documents.statement_data(
        desk, CLIENT, "2026-01-01", "2026-12-31"))
    pdf_time, pdf = timed(lambda: documents.statement_pdf(
        desk, CLIENT, "2026-01-01", "2026-12-31", locale="de_DE"))
    assert count == args.events and len(data.periods) == 12, (count, len(data.periods))
    (folder / "statement.pdf").write_bytes(pdf)
    print(f"baseline: SELECT of {count:,} events      {base * 1000:8.1f} ms")
    print(f"statement_data (12 periods)          {data_time * 1000:8.1f} ms "
          f"({data_time / base:.1f}x baseline)")
    print(f"statement_pdf  (12 periods, {len(pdf) // 1024} KiB)  {pdf_time * 1000:8.1f} ms "
          f"({pdf_time / base:.1f}x baseline)")
    for w in data.wallet:
        print(f"  wallet {w.resource}: {w.opening} + {w.credited} - {w.consumed} - "
              f"{w.expired} - {w.revoked} = {w.closing}")
    report = reports.verify(desk)
    print("verify:", "ok" if report.ok else report.problems)
    desk.close()
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
