"""Usage-source benchmark (SPEC §11): a 1,000,000-record Asterisk Master.csv against plain
sqlite3.

    python benchmarks/import_sources.py [--clients 10000] [--records 1000000] [--keep DIR]
                                        [--in-turn] [--profile FILE]

Builds the agency of benchmarks/import_usage.py (CLIENTS clients, mixed plans and wallet
lots), gives every client an accountcode (`client identify`) and its subscription one of the
increment rules 1/1, 6/6, 30/6 and 60/60, and writes the file cdr_csv writes: every text
field quoted, a caller id with doubled quotes, a uniqueid on every record, one record in ten
unanswered (skipped), one in eight a second leg of a call (21 fields, one linkedid), local
times. It imports it through the real path (`import_usage(..., format="asterisk")`: reading,
client by identifier, increments, rating, batches written by the writer process) and, in the
same run, times a plain `sqlite3` `executemany` of the resulting rows into an empty table
with the same indexes; it prints both and their ratio (goal: at most 3).
"""

from __future__ import annotations

import argparse
import cProfile
import random
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_usage import NOW, START, baseline, build_template, clone

from quotadesk.db import open_database
from quotadesk.services import clients, reports, setup, usage
from quotadesk.services.unit_of_work import Desk, fixed_clock

RULES = [(1, 1), (6, 6), (30, 6), (60, 60)]


def identify_everyone(desk: Desk) -> None:
    """An accountcode per client, and an increment rule per subscription, in SQL (as the
    commands would write them, a hundred thousand times faster)."""
    with desk.database.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO client_identifiers (client_id, identifier, identifier_key, "
            "created_at) SELECT id, 'pbx-' || id, 'pbx-' || id, created_at FROM clients"))
        for i, (first, step) in enumerate(RULES):
            conn.execute(text(
                f"UPDATE subscriptions SET increment_first = {first}, increment_next = {step} "
                f"WHERE id % {len(RULES)} = {i}"))


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def write_master_csv(path: Path, accounts: list[int], count: int) -> None:
    rng = random.Random(1000003)
    span = (NOW - START).total_seconds() - 3600
    with path.open("w", newline="", encoding="utf-8") as out:
        for n in range(count):
            account = f"pbx-{accounts[rng.randrange(len(accounts))]}"
            start = START + timedelta(seconds=60 + span * n / count)
            stamp = start.strftime("%Y-%m-%d %H:%M:%S")
            answered = rng.random() >= 0.1
            billsec = rng.randint(1, 900) if answered else 0
            answer = (start + timedelta(seconds=4)).strftime("%Y-%m-%d %H:%M:%S") \
                if answered else ""
            end = (start + timedelta(seconds=4 + billsec)).strftime("%Y-%m-%d %H:%M:%S")
            src = f"4155{n % 1000000:06d}"
            uniqueid = f"{int(start.timestamp())}.{n}"
            fields = [_q(account), _q(src), _q("18005550199"), _q("from-internal"),
                      _q(f'"Caller {n % 997}" <{src}>'), _q(f"SIP/{src}-{n:08x}"),
                      _q("SIP/trunk-0001" if answered else ""), _q("Dial"),
                      _q("SIP/trunk/18005550199,60,tT"), _q(stamp), _q(answer), _q(end),
                      str(billsec + 4), str(billsec),
                      _q("ANSWERED" if answered else "NO ANSWER"), _q("DOCUMENTATION"),
                      _q(uniqueid)]
            if n % 8 == 7:  # a second leg of the call before: 21 fields, one linkedid
                fields += [_q(""), _q(""), _q(f"{int(start.timestamp())}.{n - 1}"), "2"]
            out.write(",".join(fields) + "\n")


def write_own_csv(db_path: Path, path: Path) -> None:
    """The events the Asterisk import recorded, as QuotaDesk's own CSV (the billed minutes,
    the client by id, UTC times): the same rows through the §7 path. (By id: the cloned
    clients share their template's name, which names the template's client alone.)"""
    with sqlite3.connect(db_path) as conn, path.open("w", encoding="utf-8") as out:
        out.write("event_id,client,resource,quantity,occurred_at\n")
        for event_id, client_id, quantity, at in conn.execute(
                "SELECT event_id, client_id, quantity, occurred_at FROM usage_events "
                "ORDER BY id"):
            out.write(f"{event_id},{client_id},minutes,{quantity},{at[:10]}T{at[11:19]}Z\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder")
    parser.add_argument("--profile", type=Path,
                        help="write a cProfile of the importer's process here")
    parser.add_argument("--in-turn", action="store_true",
                        help="rate and write each batch in this process (no writer process)")
    parser.add_argument("--compare", action="store_true",
                        help="also import the same events as QuotaDesk's own CSV (SPEC §7) "
                             "into a copy of the database, timed in the same run")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="quotadesk-bench-sources-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    desk = Desk(open_database(db_path), clock=fixed_clock(START))
    setup.init_database(desk, currency="USD", timezone="UTC")
    t0 = time.perf_counter()
    build_template(desk)
    clone(desk, max(1, args.clients // 100))
    identify_everyone(desk)
    desk.clock = fixed_clock(NOW)
    listing = clients.list_clients(desk)
    accounts = [c.id for c in listing if c.plan != "Messaging"]
    print(f"fixture: {len(listing)} clients ({len(accounts)} with minutes) in "
          f"{time.perf_counter() - t0:.1f} s")
    csv_path = work / "Master.csv"
    write_master_csv(csv_path, accounts, args.records)
    print(f"Master.csv: {args.records:,} records, {csv_path.stat().st_size / 1e6:.0f} MB")
    if args.compare:
        desk.database.engine.dispose()
        with sqlite3.connect(db_path) as source, sqlite3.connect(work / "own.db") as copy:
            source.backup(copy)

    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    result = usage.import_usage(desk, csv_path, format="asterisk", pipelined=not args.in_turn)
    imported = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    total = result.recorded + result.duplicates + result.skipped + len(result.rejected)
    if total != args.records or result.rejected:
        print("import lost or rejected records", total, result.rejected[:5], file=sys.stderr)
        return 1
    plain = baseline(db_path, work)
    mode = "in turn" if args.in_turn else "with its writer process"
    print(f"import-usage --format asterisk ({mode}): {result.recorded:,} recorded, "
          f"{result.skipped:,} skipped in {imported:.2f} s "
          f"({imported / args.records * 1e6:.1f} µs/record)")
    print(f"plain sqlite3 executemany of the same rows: {plain:.2f} s")
    print(f"ratio import / baseline: {imported / plain:.2f} (target <= 3)")
    if args.compare:
        own_csv = work / "usage.csv"
        write_own_csv(db_path, own_csv)
        own = Desk(open_database(work / "own.db"), clock=fixed_clock(NOW))
        started = time.perf_counter()
        mine = usage.import_usage(own, own_csv, pipelined=not args.in_turn)
        took = time.perf_counter() - started
        own.close()
        print(f"the same {mine.recorded:,} events as QuotaDesk's own CSV: {took:.2f} s, ratio "
              f"{took / plain:.2f}; the Asterisk format costs {imported / took:.2f}× that")
    started = time.perf_counter()
    again = usage.import_usage(desk, csv_path, format="asterisk", pipelined=not args.in_turn)
    print(f"the same file again: {again.recorded} recorded, {again.duplicates:,} duplicates "
          f"in {time.perf_counter() - started:.2f} s")
    report = reports.verify(desk)
    print(f"verify: {'ok' if report.ok else 'PROBLEMS'}")
    for problem in report.problems[:10]:
        print("  ", problem)
    desk.close()
    return 0 if report.ok and again.recorded == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
