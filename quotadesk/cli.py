"""The command line (SPEC §7): every service is a command, for scripts and scheduled jobs.

Exit status: 0 done; 1 refused (one line on stderr naming the field or rule, nothing written);
2 the command line itself is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NoReturn

from sqlalchemy.exc import SQLAlchemyError

from quotadesk import __version__
from quotadesk.db import (
    DatabaseCorrupt,
    DatabaseUnusable,
    SchemaTooNew,
    plain_database_error,
)
from quotadesk.db.files import UnsafeTarget, clean_leftovers, shorten
from quotadesk.services import billing, catalog, clients, reports, setup, usage, wallet
from quotadesk.services.desk import Desk, fixed_clock, system_clock
from quotadesk.services.dto import ClientDetail, ImportResult
from quotadesk.services.errors import InvalidValue, QuotaDeskError, echo
from quotadesk.services.money import money_text
from quotadesk.services.quantities import RESOURCES, text

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line is malformed (exit 2)."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        if len(message) > 300:  # argparse repeats what was typed: a huge value, not whole
            message = message[:300] + "…"
        raise UsageError(f"{self.prog}: error: {message}")


class Output:
    """Prints a result as JSON (exact strings for numbers) or as lines for people."""

    def __init__(self, desk: Desk, as_json: bool) -> None:
        self.desk = desk
        self.as_json = as_json

    def money(self, amount: Decimal | None) -> str | None:
        return None if amount is None else money_text(amount, self.desk.currency)

    def time(self, moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(self.desk.timezone).isoformat()

    def day(self, moment: datetime | None) -> str | None:
        """A local calendar date, YYYY-MM-DD (SPEC §7: dates)."""
        return None if moment is None else moment.astimezone(self.desk.timezone).date().isoformat()

    def emit(self, data: Any, lines: Callable[[], Sequence[str]] | Sequence[str] = ()) -> None:
        if self.as_json:
            json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=_json_default)
            sys.stdout.write("\n")
        else:
            for line in (lines() if callable(lines) else lines):
                print(line)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _pairs(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """RES=VALUE pairs from every use of the option; a resource given twice is refused."""
    field = option.lstrip("-")
    result: dict[str, str] = {}
    for item in values or ():
        if "=" not in item:
            raise InvalidValue(f"{field}: expected RES=VALUE, got {echo(item)}", field)
        key, _, value = item.partition("=")
        key = key.strip()
        if any(known.lower() == key.lower() for known in result):
            raise InvalidValue(f"{field}: {echo(key)} is given twice", field)
        result[key] = value.strip()
    return result


def _on_off(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered not in {"on", "off"}:
        raise InvalidValue(f"addons: use on or off, not {echo(value)}", "addons")
    return lowered == "on"


def _int(value: str, field: str) -> int:
    """A whole number in ASCII digits (SPEC §8: `٣` is not 3)."""
    text = value.strip()
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidValue(f"{field}: {echo(value)} is not a whole number", field)
    if len(digits) > 18:
        raise InvalidValue(f"{field}: {echo(value)} is out of range", field)
    return int(text)


# -- commands ------------------------------------------------------------------------------
def cmd_init(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    result = setup.init_database(desk, currency=args.currency, timezone=args.timezone)
    desk.forget_settings()
    out.emit(dict(result), [f"Database ready at {desk.database.shown} "
                            f"({result['currency']}, {result['timezone']})"])


def cmd_demo(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    from quotadesk.services.demo import load_demo

    summary = load_demo(desk, clients=_int(args.clients, "clients"))
    out.emit(summary, lambda: [f"Demo data loaded: {summary['clients']} clients, "
                               f"{summary['plans']} plans, {summary['packs']} add-on packs, "
                               f"{summary['usage_events']} usage events."])


def _plan_json(out: Output, p: Any) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "fee": out.money(p.fee), "anchor": p.anchor,
            "included": {k: text(v) for k, v in p.included.items()},
            "overage": {k: format(v, "f") for k, v in p.overage.items()},
            "addons": p.addons, "due_days": p.due_days, "alerts": list(p.alerts)}


def _plan_line(out: Output, p: Any) -> str:
    included = ", ".join(f"{text(v)} {k}" for k, v in p.included.items()) or "no allowance"
    overage = ", ".join(f"{k} {format(v, 'f')}" for k, v in p.overage.items()) or "none"
    return (f"{p.id:>4}  {p.name}  fee {out.money(p.fee)}  {p.anchor}  included: {included}  "
            f"overage: {overage}  add-ons {'On' if p.addons else 'Off'}  due {p.due_days}d  "
            f"alerts {','.join(map(str, p.alerts))}")


def _plan_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.fee is not None:
        options["fee"] = args.fee
    if args.anchor is not None:
        options["anchor"] = args.anchor
    if args.included:
        options["included"] = _pairs(args.included, "--included")
    if args.overage:
        options["overage"] = _pairs(args.overage, "--overage")
    if args.addons is not None:
        options["addons"] = _on_off(args.addons)
    if args.due_days is not None:
        options["due_days"] = args.due_days
    if args.alerts is not None:
        options["alerts"] = args.alerts
    return options


def cmd_plan_add(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    options = _plan_options(args)
    if "fee" not in options:
        raise UsageError("plan add: error: the following arguments are required: --fee")
    p = catalog.add_plan(desk, name=args.name, **options)
    out.emit(_plan_json(out, p), [f"Plan added: {_plan_line(out, p)}"])


def cmd_plan_edit(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    p = catalog.edit_plan(desk, plan=args.name, name=args.rename, **_plan_options(args))
    out.emit(_plan_json(out, p), [f"Plan saved: {_plan_line(out, p)}"])


def cmd_plan_list(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    plans = catalog.list_plans(desk)
    out.emit([_plan_json(out, p) for p in plans], lambda: [_plan_line(out, p) for p in plans]
             or ["No plans yet."])


def _pack_json(out: Output, p: Any) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "resource": p.resource, "units": text(p.units),
            "price": out.money(p.price), "expires_months": p.expires_months,
            "description": p.description}


def _pack_line(out: Output, p: Any) -> str:
    validity = "never expires" if p.expires_months is None else f"expires after {p.expires_months} months"
    return f"{p.id:>4}  {p.name}  {text(p.units)} {p.resource}  {out.money(p.price)}  {validity}"


def cmd_pack_add(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    p = catalog.add_pack(desk, name=args.name, resource=args.resource, units=args.units,
                         price=args.price, expires_months=args.expires_months,
                         description=args.description or "")
    out.emit(_pack_json(out, p), [f"Pack added: {_pack_line(out, p)}"])


def cmd_pack_list(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    packs = catalog.list_packs(desk)
    out.emit([_pack_json(out, p) for p in packs], lambda: [_pack_line(out, p) for p in packs]
             or ["No add-on packs yet."])


def cmd_client_add(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    c = clients.add_client(desk, name=args.name, email=args.email)
    out.emit({"id": c.id, "name": c.name, "email": c.email}, [f"Client added: {c.id} {c.name}"])


def cmd_client_list(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = clients.list_clients(desk)
    out.emit([{"id": c.id, "name": c.name, "email": c.email, "plan": c.plan,
               "blocked": list(c.blocked)} for c in rows],
             lambda: [f"{c.id:>6}  {c.name}  {c.plan or '-'}  {c.status}" for c in rows]
             or ["No clients yet."])


def client_json(out: Output, d: ClientDetail) -> dict[str, Any]:
    sub = d.subscription
    return {
        "id": d.id, "name": d.name, "email": d.email, "blocked": list(d.blocked),
        "subscription": None if sub is None else {
            "plan": sub.plan, "status": sub.status, "period_start": out.time(sub.period_start),
            "period_end": out.time(sub.period_end), "addons": sub.addons,
            "due_days": sub.due_days},
        "resources": {r: {
            "included": text(u.included), "included_used": text(u.included_used),
            "included_left": text(u.included_left), "wallet": text(u.wallet),
            "overage_units": text(u.overage_units), "overage_amount": format(u.overage_amount, "f"),
            "unserved": text(u.unserved), "blocked": u.blocked} for r, u in d.resources.items()},
        "lots": [{"id": lot.id, "resource": lot.resource, "pack": lot.pack,
                  "units": text(lot.units), "remaining": text(lot.remaining),
                  "applied_at": out.time(lot.applied_at), "expires_at": out.time(lot.expires_at)}
                 for lot in d.lots],
        "campaigns": [{"id": c.id, "name": c.name, "resource": c.resource, "status": c.status}
                      for c in d.campaigns],
        "assigned_packs": [p.name for p in d.assigned_packs],
    }


def client_lines(out: Output, d: ClientDetail) -> list[str]:
    sub = d.subscription
    lines = [f"{d.name} (id {d.id}){'  <' + d.email + '>' if d.email else ''}"]
    if sub is None:
        lines.append("  No active subscription.")
    else:
        lines.append(f"  Plan {sub.plan}, period {out.time(sub.period_start)} to "
                     f"{out.time(sub.period_end)}, Add-on packs · {'On' if sub.addons else 'Off'}")
    for r in RESOURCES:
        u = d.resources[r.value]
        lines.append(f"  {r.value:<8} included {text(u.included_used)}/{text(u.included)} used, "
                     f"{text(u.included_left)} left; Add-on balance {text(u.wallet)}"
                     f"{' (Never expires)' if u.wallet_never_expires else ''}; overage "
                     f"{text(u.overage_units)} = {format(u.overage_amount, 'f')}; unserved "
                     f"{text(u.unserved)}{'  BLOCKED' if u.blocked else ''}")
    for lot in d.lots:
        expiry = "Never expires" if lot.expires_at is None else f"expires {out.time(lot.expires_at)}"
        lines.append(f"  lot {lot.id}: {lot.pack} {text(lot.remaining)}/{text(lot.units)} "
                     f"{lot.resource}, applied {out.time(lot.applied_at)}, {expiry}")
    for c in d.campaigns:
        lines.append(f"  campaign {c.id}: {c.name} ({c.resource}) {c.status}")
    if d.assigned_packs:
        lines.append("  Assigned packs: " + ", ".join(p.name for p in d.assigned_packs))
    return lines


def cmd_client_show(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    d = clients.client_detail(desk, args.client)
    out.emit(client_json(out, d), lambda: client_lines(out, d))


def cmd_subscribe(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    s = clients.subscribe(desk, client=args.client, plan=args.plan)
    out.emit({"plan": s.plan, "status": s.status, "period_start": out.time(s.period_start),
              "period_end": out.time(s.period_end), "addons": s.addons, "due_days": s.due_days},
             [f"Subscribed to {s.plan}; period ends {out.time(s.period_end)}"])


def cmd_cancel(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    clients.cancel(desk, client=args.client)
    out.emit({"cancelled": True}, ["Subscription cancelled."])


def cmd_assign(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    added = clients.assign_packs(desk, client=args.client, packs=args.packs)
    out.emit({"assigned": [p.name for p in added]},
             [f"Assigned: {', '.join(p.name for p in added) or 'nothing new'}"])


def cmd_unassign(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    clients.unassign_pack(desk, client=args.client, pack=args.pack)
    out.emit({"unassigned": args.pack}, ["Assignment removed."])


def cmd_apply(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    r = wallet.apply_pack(desk, client=args.client, pack=args.pack, status=args.status,
                          key=args.key)
    out.emit({"lot_id": r.lot_id, "payment_request_id": r.payment_request_id,
              "message": r.message}, [r.message])


def cmd_revoke(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    r = wallet.revoke_lot(desk, lot_id=_int(args.lot, "lot"), reason=args.reason)
    out.emit({"lot_id": r.lot_id, "revoked": text(r.units)},
             [f"Revoked {text(r.units)} unused units of lot {r.lot_id}."])


def _campaign_json(c: Any) -> dict[str, Any]:
    return {"id": c.id, "client": c.client, "name": c.name, "resource": c.resource,
            "status": c.status}


def cmd_campaign_add(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    c = clients.add_campaign(desk, client=args.client, name=args.name, resource=args.resource)
    out.emit(_campaign_json(c), [f"Campaign {c.id} added: {c.status}"])


def cmd_campaign_change(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    c = clients.change_campaign(desk, campaign_id=_int(args.id, "id"), action=args.action)
    out.emit(_campaign_json(c), [f"Campaign {c.id}: {c.status}"])


def cmd_campaign_list(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = clients.list_campaigns(desk, args.client)
    out.emit([_campaign_json(c) for c in rows],
             lambda: [f"{c.id:>5}  {c.client}  {c.name}  {c.resource}  {c.status}" for c in rows]
             or ["No campaigns."])


def cmd_usage(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    at = usage.parse_time(args.at, desk.timezone, "at") if args.at else None
    r = usage.record_usage(desk, client=args.client, resource=args.resource,
                           quantity=args.quantity, at=at, event_id=args.id)
    data = {"id": r.id, "duplicate": r.duplicate, "included": r.included, "wallet": r.wallet,
            "overage_units": r.overage_units, "overage_amount": format(r.overage_amount, "f"),
            "unserved": r.unserved, "late": r.late, "blocked": r.blocked}
    if r.duplicate:
        out.emit(data, [f"Duplicate event {args.id}: already recorded, nothing changed."])
    else:
        out.emit(data, [f"Recorded: included {text(r.included)}, wallet {text(r.wallet)}, "
                        f"overage {text(r.overage_units)}, unserved {text(r.unserved)}"
                        f"{' (late)' if r.late else ''}{' — now blocked' if r.blocked else ''}"])


def cmd_import_usage(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    batch = _int(args.batch_size, "batch_size")
    if not 1 <= batch <= 1_000_000:
        raise InvalidValue("batch_size: between 1 and 1,000,000 rows", "batch_size")
    try:
        r = usage.import_usage(desk, args.file, batch_size=batch)
    except usage.ImportStopped as stop:
        # The one exit 1 after which data was written (SPEC §7): the full result still
        # says exactly what was recorded before the stop; main() then says why, and exits 1.
        _import_report(out, stop.result)
        raise
    _import_report(out, r)


def _import_report(out: Output, r: ImportResult) -> None:
    data = {"recorded": r.recorded, "duplicates": r.duplicates,
            "rejected": [{"line": x.line, "reason": x.reason} for x in r.rejected],
            "stopped": r.stopped}
    lines = [f"recorded: {r.recorded}", f"duplicates: {r.duplicates}",
             f"rejected: {len(r.rejected)}", *(f"  line {x.line}: {x.reason}" for x in r.rejected)]
    if r.stopped is not None:
        lines.append(f"stopped: {r.stopped}; {r.recorded:,} events recorded before the stop "
                     "were kept")
    out.emit(data, lines)


def cmd_rollover(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    # The nightly job keeps a rolling copy a day (the last 7); the chores do not depend on
    # each other: a failed backup is said in one line and the rollover still runs (SPEC §8).
    problem = setup.daily_backup_problem(desk)
    if problem is not None:
        print(f"quotadesk: {problem}", file=sys.stderr)
    r = billing.run_rollover(desk)
    out.emit({"clients": r.clients, "periods_closed": r.periods_closed,
              "payment_requests": r.payment_requests},
             [f"Rollover: {r.periods_closed} periods closed for {r.clients} clients, "
              f"{r.payment_requests} payment requests created."])


def _payment_json(out: Output, p: Any) -> dict[str, Any]:
    return {"id": p.id, "client": p.client, "type": p.type, "amount": out.money(p.amount),
            "created_at": out.time(p.created_at), "due_date": p.due_date.isoformat(),
            "status": p.status, "paid_at": out.time(p.paid_at), "overdue": p.overdue,
            "reference": p.reference}


def _payment_line(out: Output, p: Any) -> str:
    return (f"{p.id:>6}  {p.client}  {p.type:<7} {out.money(p.amount):>12}  due {p.due_date}  "
            f"{p.status}{' OVERDUE' if p.overdue else ''}  {p.reference}")


def cmd_payments(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = billing.list_payments(desk, args.client, args.status)
    out.emit([_payment_json(out, p) for p in rows],
             lambda: [_payment_line(out, p) for p in rows] or ["No payment requests."])


def cmd_pay(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    p = billing.mark_paid(desk, request_id=_int(args.id, "id"))
    out.emit(_payment_json(out, p), [f"Payment request {p.id} marked paid."])


def cmd_fail(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    p = billing.mark_failed(desk, request_id=_int(args.id, "id"))
    out.emit(_payment_json(out, p), [f"Payment request {p.id} marked failed."])


def cmd_history(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = billing.billing_history(desk, args.client)
    data = [{"date": out.day(h.date), "kind": h.kind, "package_type": h.package_type,
             "resource": h.resource, "credits": text(h.credits), "amount": out.money(h.amount),
             "status": h.status, "expires_at": out.time(h.expires_at)} for h in rows]

    def lines() -> list[str]:
        result = []
        for h in rows:
            if h.kind == "purchase":
                result.append(f"{out.time(h.date)}  {h.package_type}  {text(h.credits)} credits  "
                              f"{out.money(h.amount)}  {h.status}")
            else:
                result.append(f"{out.time(h.date)}  {h.package_type}  {text(h.credits)} credits "
                              f"{h.kind} (expiry {out.time(h.expires_at) or '-'})")
        return result or ["No billing history."]

    out.emit(data, lines)


def cmd_alerts(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = billing.list_alerts(desk, args.client)
    out.emit([{"client": a.client, "resource": a.resource, "kind": a.kind,
               "threshold": a.threshold, "period_start": out.time(a.period_start),
               "at": out.time(a.at)} for a in rows],
             lambda: [f"{out.time(a.at)}  {a.client}  {a.resource}  {a.kind}"
                      f"{' ' + str(a.threshold) + '%' if a.threshold else ''}" for a in rows]
             or ["No alerts."])


def cmd_verify(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    report = reports.verify(desk)
    out.emit({"ok": report.ok, "problems": list(report.problems), "checked": report.checked},
             lambda: list(report.problems) or [
                 "All balances agree with the ledger: " + ", ".join(
                     f"{v} {k.replace('_', ' ')}" for k, v in report.checked.items())])
    if not report.ok:
        raise Refused(f"verify: {len(report.problems)} problems found")


def cmd_export(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    from quotadesk.services import exports

    if args.what == "payments":
        count = exports.export_payments(desk, args.file, args.client, args.status)
    elif args.what == "clients":
        count = exports.export_clients(desk, args.file)
    elif args.what == "history":
        if args.client is None:
            raise InvalidValue("client: history needs --client", "client")
        count = exports.export_history(desk, args.file, args.client)
    else:
        raise InvalidValue(f"what: export payments, clients or history, not {shorten(args.what)}",
                           "what")
    out.emit({"file": args.file, "rows": count}, [f"Wrote {count} rows to {args.file}"])


def cmd_backup(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    path = setup.backup(desk, args.file)
    out.emit({"backup": str(path)}, [f"Backed up to {path}"])


def cmd_restore(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    saved = setup.restore(desk, args.file)
    kept = "" if saved is None else f"; the database as it was is kept in {saved}"
    out.emit({"restored": args.file, "safety_copy": None if saved is None else str(saved)},
             [f"Restored from {args.file}{kept}"])


class Refused(QuotaDeskError):
    """A command that ran but whose outcome is a failure (verify found problems)."""


# -- the parser ----------------------------------------------------------------------------
def _plan_args(p: argparse.ArgumentParser, *, edit: bool) -> None:
    p.add_argument("--fee", metavar="AMOUNT", help="recurring fee per period")
    p.add_argument("--anchor", metavar="calendar|anniversary",
                   help="periods start on the 1st (calendar, default) or the subscription's day")
    p.add_argument("--included", nargs="+", action="extend", metavar="RES=QTY",
                   help="included allowance per period, e.g. minutes=500 sms=1000 "
                        "(may be repeated)")
    p.add_argument("--overage", nargs="+", action="extend", metavar="RES=RATE",
                   help="billable rate per unit beyond the free pools, e.g. minutes=0.05 "
                        "(RES=none to remove; may be repeated)")
    p.add_argument("--addons", metavar="on|off", help="Add-on packs · On/Off (default on)")
    p.add_argument("--due-days", metavar="N", help="Payment due after period start (days, 0-365)")
    p.add_argument("--alerts", metavar="80,95", help="alert thresholds in percent")
    if edit:
        p.add_argument("--rename", metavar="NEW_NAME", help="a new name for the plan")


def build_parser() -> Parser:
    parser = Parser(prog="quotadesk", description=(
        "QuotaDesk: plans, add-on packs, wallets, usage and billing for agencies that resell "
        "voice minutes, SMS and email. With no command, opens the desktop window."))
    parser.add_argument("--db", metavar="PATH_OR_URL",
                        help="SQLite file or SQLAlchemy URL (default: $QUOTADESK_DB, else "
                             "quotadesk.db in the user data directory)")
    parser.add_argument("--now", metavar="ISO8601",
                        help="the clock for this command (no zone: the database's time zone)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--version", action="version", version=f"QuotaDesk {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation (a temporary database, the window "
                             "offscreen) and exit 0 when it works")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def command(name: str, handler: Callable[..., None], help: str,
                parent: Any = sub) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    p = command("gui", cmd_gui, "open the desktop window")
    p = command("init", cmd_init, "create the database with its currency and time zone")
    p.add_argument("--currency", default="USD", help="ISO 4217 code (default USD)")
    p.add_argument("--timezone", metavar="ZONE", help="IANA zone for period boundaries "
                                                      "(default: this machine's)")
    p = command("demo", cmd_demo, "fill an empty database with realistic demo data")
    p.add_argument("--clients", default="36", metavar="N", help="how many clients (default 36)")

    plan = command("plan", _group_help, "billing plans: add, edit, list")
    plans = plan.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    p = command("add", cmd_plan_add, "add a billing plan", plans)
    p.add_argument("name", metavar="NAME")
    _plan_args(p, edit=False)
    p = command("edit", cmd_plan_edit, "edit a plan (existing subscriptions keep their snapshot)",
                plans)
    p.add_argument("name", metavar="NAME")
    _plan_args(p, edit=True)
    command("list", cmd_plan_list, "list the plans", plans)

    pack = command("pack", _group_help, "add-on packs: add, list")
    packs = pack.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    p = command("add", cmd_pack_add, "add an add-on pack to the catalog", packs)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--resource", required=True, metavar="RES", help="minutes, sms or email")
    p.add_argument("--units", required=True, metavar="N", help="units credited by the pack")
    p.add_argument("--price", required=True, metavar="AMOUNT")
    p.add_argument("--expires-months", metavar="N",
                   help="lots expire N months after applying (default: never expires)")
    p.add_argument("--description", metavar="TEXT")
    command("list", cmd_pack_list, "list the add-on packs", packs)

    client = command("client", _group_help, "clients: add, list, show")
    clients_ = client.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    p = command("add", cmd_client_add, "add a client", clients_)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--email", metavar="ADDRESS", help="contact address for usage alerts")
    command("list", cmd_client_list, "list the clients", clients_)
    p = command("show", cmd_client_show, "a client's subscription, balances, lots, campaigns",
                clients_)
    p.add_argument("client", metavar="CLIENT")

    p = command("subscribe", cmd_subscribe,
                "subscribe a client to a plan (or re-subscribe: fresh snapshot, wallet kept)")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("plan", metavar="PLAN")
    p = command("cancel", cmd_cancel, "cancel a client's subscription (closes the period now)")
    p.add_argument("client", metavar="CLIENT")
    p = command("assign", cmd_assign, "assign add-on packs the client may buy")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("packs", nargs="+", metavar="PACK")
    p = command("unassign", cmd_unassign, "remove a pack assignment")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("pack", metavar="PACK")
    p = command("apply", cmd_apply, "credit a pack to the wallet and create its payment request")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("pack", metavar="PACK")
    p.add_argument("--status", required=True, metavar="pending|paid",
                   help="the payment request's status")
    p.add_argument("--key", metavar="KEY", help="idempotency key: the same key applies once")
    p = command("revoke", cmd_revoke, "take back the unused units of a lot")
    p.add_argument("lot", metavar="LOT")
    p.add_argument("--reason", required=True, metavar="TEXT")

    campaign = command("campaign", _group_help, "campaigns: add, pause, resume, finish, list")
    campaigns = campaign.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    p = command("add", cmd_campaign_add, "add a campaign", campaigns)
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--resource", required=True, metavar="RES")
    for action in ("pause", "resume", "finish"):
        p = command(action, cmd_campaign_change, f"{action} a campaign", campaigns)
        p.add_argument("id", metavar="ID")
    p = command("list", cmd_campaign_list, "list campaigns", campaigns)
    p.add_argument("client", nargs="?", metavar="CLIENT")

    p = command("usage", cmd_usage, "record one usage event")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("resource", metavar="RESOURCE")
    p.add_argument("quantity", metavar="QUANTITY")
    p.add_argument("--id", metavar="EVENT_ID", help="external event id (a repeat is a duplicate)")
    p.add_argument("--at", metavar="ISO8601", help="when it happened (default now)")
    p = command("import-usage", cmd_import_usage,
                "import a usage CSV (event_id,client,resource,quantity,occurred_at)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--batch-size", default=str(usage.BATCH_SIZE), metavar="N",
                   help=f"rows per transaction (default {usage.BATCH_SIZE}); each batch is "
                        "all-or-nothing, and a re-run skips what was committed")
    command("rollover", cmd_rollover, "close every period that ended by now")
    p = command("payments", cmd_payments, "list payment requests")
    p.add_argument("client", nargs="?", metavar="CLIENT")
    p.add_argument("--status", metavar="STATUS", help="pending, paid, failed or overdue")
    p = command("pay", cmd_pay, "mark a payment request paid")
    p.add_argument("id", metavar="ID")
    p = command("fail", cmd_fail, "mark a pending payment request failed")
    p.add_argument("id", metavar="ID")
    p = command("history", cmd_history, "a client's billing history")
    p.add_argument("client", metavar="CLIENT")
    p = command("alerts", cmd_alerts, "recorded usage alerts")
    p.add_argument("client", nargs="?", metavar="CLIENT")
    command("verify", cmd_verify, "recompute every balance from the ledger and check invariants")
    p = command("export", cmd_export, "write payments, clients or a client's history as CSV "
                "(cells that spreadsheets would run as formulas are neutralised)")
    p.add_argument("what", metavar="payments|clients|history")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--client", metavar="CLIENT")
    p.add_argument("--status", metavar="STATUS", help="payments: pending, paid, failed, overdue")
    p = command("backup", cmd_backup, "write a consistent copy of the database")
    p.add_argument("file", metavar="FILE")
    p = command("restore", cmd_restore, "replace the database with a checked backup")
    p.add_argument("file", metavar="FILE")
    return parser


def _group_help(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    raise UsageError(f"quotadesk {args.command}: error: an action is required "
                     f"(see quotadesk {args.command} --help)")


def cmd_gui(desk: Desk | None, args: argparse.Namespace, out: Output | None) -> None:
    raise AssertionError("handled in main()")  # pragma: no cover


def _clock(value: str | None, desk: Desk) -> Callable[[], datetime]:
    if value is None:
        return system_clock
    moment = usage.parse_time(value, desk.timezone if desk.initialised else UTC,  # type: ignore[arg-type]
                              "now")
    return fixed_clock(moment)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    os.umask(0o077)  # every file QuotaDesk writes is its owner's alone (SPEC §8)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    if args.command in (None, "gui") or args.self_test:
        from quotadesk.app import run_gui

        return run_gui(db=args.db, now=args.now, self_test=bool(args.self_test))
    desk: Desk | None = None
    try:
        desk = Desk.open(args.db)
        if desk.database.path is not None and not desk.database.read_only:
            clean_leftovers(desk.database.path)
        if args.command != "init" and not desk.initialised:
            setup.init_database(desk)
            desk.forget_settings()
        desk.clock = _clock(args.now, desk)
        args.handler(desk, args, Output(desk, args.json))
        return EXIT_OK
    except UsageError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except QuotaDeskError as error:
        print(f"quotadesk: {error.message}", file=sys.stderr)
        return EXIT_REFUSED
    except (UnsafeTarget, DatabaseUnusable) as error:
        field = "" if isinstance(error, UnsafeTarget) else "database: "
        print(f"quotadesk: {field}{error.message}", file=sys.stderr)
        return EXIT_REFUSED
    except DatabaseCorrupt as error:
        restore = (f" Restore the latest backup with `quotadesk restore {error.latest_backup}`."
                   if error.latest_backup else " Restore a backup with `quotadesk restore FILE`.")
        print(f"quotadesk: database: {error.path} is damaged and was left untouched "
              f"({error.detail[:200]}).{restore}", file=sys.stderr)
        return EXIT_REFUSED
    except SchemaTooNew as error:
        print(f"quotadesk: database: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except BrokenPipeError:
        # `quotadesk --json payments | head`: the reader left; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except (SQLAlchemyError, sqlite3.Error, OSError) as error:
        print(f"quotadesk: database: {plain_database_error(error)}", file=sys.stderr)
        return EXIT_REFUSED
    except MemoryError:
        print("quotadesk: out of memory: the input is too large for this machine",
              file=sys.stderr)
        return EXIT_REFUSED
    except Exception as error:  # never a traceback: one line, the details in the log
        print(f"quotadesk: unexpected error ({type(error).__name__}): "
              f"{shorten(error, 200)}; details in {internal_error_log(error)}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        if desk is not None:
            desk.close()


def internal_error_log(error: BaseException) -> str:
    """Append the traceback of an unexpected error to the log file (never personal data: only
    the code's frames); its path for the message."""
    import traceback

    from quotadesk.app import log_dir

    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "quotadesk.log"
        frames = traceback.format_exception(type(error), None, error.__traceback__)
        with open(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600), "a",
                  encoding="utf-8") as log:
            log.write(f"{datetime.now(UTC).isoformat()} ERROR quotadesk.cli: "
                      f"{type(error).__name__}\n{''.join(frames)}")
        return str(path)
    except OSError:
        return "the log (which could not be written)"


if __name__ == "__main__":
    raise SystemExit(main())
