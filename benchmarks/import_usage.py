"""Import benchmark: 1,000,000 usage events into 10,000 clients, against plain sqlite3.

    python benchmarks/import_usage.py [--clients 10000] [--events 1000000] [--keep DIR]
                                      [--in-turn] [--profile FILE]

Builds a database of CLIENTS clients with mixed plans and wallet lots (100 made through the
real services, then cloned with SQL and checked by `verify`), writes a usage CSV, and imports it
through the real path (`quotadesk.services.usage.import_usage`: parsing, rating, batched
commits, written by the importer's writer process while the next batch is rated; `--in-turn`
imports in one process instead). In the same run it times a plain `sqlite3` `executemany` of
the same rows into an empty table with the same indexes, and prints both times and their
ratio. It also times `client_detail` before and after the import: balances are maintained
counters, so reading a client must not grow with the number of events.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Integer, UniqueConstraint, text

from quotadesk.db import CACHE_KIB, open_database
from quotadesk.models import Base
from quotadesk.services import catalog, clients, reports, setup, usage, wallet
from quotadesk.services.unit_of_work import Desk, fixed_clock

TEMPLATE = 100
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
PLANS = [
    ("Voice 2000", {"minutes": "2000"}, {"minutes": "0.04"}),
    ("Voice 600 hard cap", {"minutes": "600"}, {}),
    ("Messaging", {"sms": "3000", "email": "20000"}, {}),
    ("Omni", {"minutes": "1000", "sms": "1000", "email": "5000"}, {"sms": "0.02"}),
]
PACKS = [("100 Minutes Pack", "minutes", "100", None), ("Additional SMS", "sms", "500", 12),
         ("Additional emails", "email", "5000", 12)]
CLONED = ["clients", "resource_states", "subscriptions", "subscription_terms", "periods",
          "period_usage", "pack_assignments", "pack_applications", "wallet_lots",
          "ledger_entries", "payment_requests"]


def build_template(desk: Desk) -> None:
    desk.clock = fixed_clock(START)
    for name, included, overage in PLANS:
        catalog.add_plan(desk, name=name, fee="25.00", included=included, overage=overage)
    for name, resource, units, months in PACKS:
        catalog.add_pack(desk, name=name, resource=resource, units=units, price="10.00",
                         expires_months=months)
    for i in range(TEMPLATE):
        name = f"Client {i:03d}"
        clients.add_client(desk, name=name, email=f"c{i}@example.test")
        plan = PLANS[i % len(PLANS)][0]
        clients.subscribe(desk, client=name, plan=plan)
        resource = ["minutes", "minutes", "sms", "sms"][i % 4]
        pack = {"minutes": "100 Minutes Pack", "sms": "Additional SMS"}[resource]
        clients.assign_packs(desk, client=name, packs=[pack])
        for _ in range(i % 3):
            wallet.apply_pack(desk, client=name, pack=pack, status="paid")


def clone(desk: Desk, copies: int) -> None:
    """Copy the template's clients `copies` times with shifted ids: a consistent state (every
    other unique column, such as an invoice's number, shifted or suffixed too)."""
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with desk.database.engine.begin() as conn:
        maxima = {name: conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {name}")).scalar()
                  for name in CLONED if "id" in tables[name].c}
        highest = {(name, c.name): conn.execute(text(
            f"SELECT COALESCE(MAX({c.name}), 0) FROM {name}")).scalar()
            for name in CLONED for c in tables[name].c if isinstance(c.type, Integer)}
        for k in range(1, copies):
            for name in CLONED:
                table = tables[name]
                unique = {c.name for c in table.c if c.unique} | {
                    next(iter(u.columns)).name for u in table.constraints
                    if isinstance(u, UniqueConstraint) and len(u.columns) == 1}
                exprs = []
                for column in table.c:
                    expr = column.name
                    refs = [fk.column.table.name for fk in column.foreign_keys]
                    if column.name == "id" and name in maxima:
                        expr = f"id + {k * maxima[name]}"
                    elif refs and refs[0] in maxima:
                        expr = f"{column.name} + {k * maxima[refs[0]]}"
                    elif column.name in unique:
                        expr = (f"{column.name} + {k * highest[name, column.name]}"
                                if isinstance(column.type, Integer)
                                else f"{column.name} || ' #{k}'")
                    exprs.append(expr)
                cols = ", ".join(c.name for c in table.c)
                where = ""
                if name in maxima:
                    where = f" WHERE id <= {maxima[name]}"
                elif name in ("resource_states", "pack_assignments"):
                    where = f" WHERE client_id <= {maxima['clients']}"
                elif name == "subscription_terms":
                    where = f" WHERE subscription_id <= {maxima['subscriptions']}"
                elif name == "period_usage":
                    where = f" WHERE period_id <= {maxima['periods']}"
                conn.execute(text(f"INSERT INTO {name} ({cols}) SELECT {', '.join(exprs)} "
                                  f"FROM {name}{where}"))


def write_events(path: Path, names: list[tuple[str, list[str]]], count: int) -> None:
    rng = random.Random(1000003)
    span = (NOW - START).total_seconds() - 60
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["event_id", "client", "resource", "quantity", "occurred_at"])
        for n in range(count):
            name, resources = names[rng.randrange(len(names))]
            resource = resources[rng.randrange(len(resources))]
            if resource == "minutes":
                quantity = f"{rng.randint(6, 900) / 60:.6f}".rstrip("0").rstrip(".")
            else:
                quantity = str(rng.randint(1, 12) if resource == "sms" else rng.randint(5, 80))
            at = START + timedelta(seconds=30 + span * n / count)
            out.writerow([f"cdr-{n:08d}", name, resource, quantity, at.isoformat()])


def time_client_show(desk: Desk, names: list[str], rounds: int = 100, repeats: int = 5) -> float:
    """Seconds per `client_detail`: the best of `repeats` runs of `rounds` calls (as timeit
    does: the other runs measure what else the machine was doing)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for i in range(rounds):
            clients.client_detail(desk, names[i % len(names)])
        best = min(best, (time.perf_counter() - started) / rounds)
    return best


def baseline(db_path: Path, work: Path) -> float:
    """Plain sqlite3: the same rows into an empty table with the same indexes."""
    target = work / "baseline.db"
    source = sqlite3.connect(db_path)
    schema = [row[0] for row in source.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'usage_events' AND sql IS NOT NULL")]
    rows = source.execute("SELECT * FROM usage_events ORDER BY id").fetchall()
    source.close()
    conn = sqlite3.connect(target)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")  # the same pragmas as the app's
    for statement in schema:
        conn.execute(_without_foreign_keys(statement))
    conn.commit()
    marks = ",".join("?" * len(rows[0]))
    started = time.perf_counter()
    conn.executemany(f"INSERT INTO usage_events VALUES ({marks})", rows)
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _without_foreign_keys(statement: str) -> str:
    # The baseline table has the same columns and indexes; its parents don't exist there.
    lines = [line for line in statement.splitlines() if "FOREIGN KEY" not in line]
    return "\n".join(lines).replace(",\n)", "\n)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder")
    parser.add_argument("--profile", type=Path,
                        help="write a cProfile of the importer's process here")
    parser.add_argument("--in-turn", action="store_true",
                        help="rate and write each batch in this process (no writer process)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="quotadesk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    desk = Desk(open_database(db_path), clock=fixed_clock(START))
    setup.init_database(desk, currency="USD", timezone="UTC")
    t0 = time.perf_counter()
    build_template(desk)
    clone(desk, max(1, args.clients // TEMPLATE))
    desk.clock = fixed_clock(NOW)
    print(f"fixture: {args.clients} clients in {time.perf_counter() - t0:.1f} s")
    listing = clients.list_clients(desk)
    plan_resources = {name: list(inc) for name, inc, _ in PLANS}
    names = [(c.name, plan_resources[c.plan or PLANS[0][0]]) for c in listing]
    sample = [c.name for c in listing[:: max(1, len(listing) // 200)]]
    show_before = time_client_show(desk, sample)

    csv_path = work / "usage.csv"
    write_events(csv_path, names, args.events)
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    result = usage.import_usage(desk, csv_path, pipelined=not args.in_turn)
    imported = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    if result.recorded + result.duplicates + len(result.rejected) != args.events:
        print("import lost lines", result, file=sys.stderr)
        return 1
    show_after = time_client_show(desk, sample)
    plain = baseline(db_path, work)
    mode = "in turn" if args.in_turn else "with its writer process"
    print(f"import-usage ({mode}): {result.recorded} recorded, {len(result.rejected)} rejected "
          f"in {imported:.2f} s ({imported / args.events * 1e6:.1f} µs/event)")
    print(f"plain sqlite3 executemany of the same rows: {plain:.2f} s")
    print(f"ratio import / baseline: {imported / plain:.2f} (target <= 3)")
    print(f"client show: {show_before * 1000:.2f} ms with 0 events, "
          f"{show_after * 1000:.2f} ms with {result.recorded} events "
          f"(ratio {show_after / show_before:.2f})")
    started = time.perf_counter()
    report = reports.verify(desk)
    print(f"verify: {'ok' if report.ok else 'PROBLEMS'} in {time.perf_counter() - started:.1f} s "
          f"({report.checked})")
    for problem in report.problems[:10]:
        print("  ", problem)
    desk.close()
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
