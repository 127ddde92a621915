"""One function per command: call the service, print its result (SPEC §7)."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import Any

from quotadesk.cli.output import Output, UsageError
from quotadesk.cli.values import on_off, pairs, whole_number
from quotadesk.services import billing, catalog, clients, reports, setup, usage, wallet
from quotadesk.services.errors import InvalidValue, QuotaDeskError, echo
from quotadesk.services.results import ClientDetail, ImportResult
from quotadesk.services.rules.quantities import RESOURCES, text
from quotadesk.services.unit_of_work import Desk


# -- commands ------------------------------------------------------------------------------
def cmd_init(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    result = setup.init_database(desk, currency=args.currency, timezone=args.timezone)
    desk.forget_settings()
    out.emit(dict(result), [f"Database ready at {desk.database.shown} "
                            f"({result['currency']}, {result['timezone']})"])


def cmd_demo(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    from quotadesk.services.demo import load_demo

    summary = load_demo(desk, clients=whole_number(args.clients, "clients"))
    out.emit(summary, lambda: [f"Demo data loaded: {summary['clients']} clients, "
                               f"{summary['plans']} plans, {summary['packs']} add-on packs, "
                               f"{summary['usage_events']} usage events."])


def _plan_json(out: Output, p: Any) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "fee": out.money(p.fee), "anchor": p.anchor,
            "included": {k: text(v) for k, v in p.included.items()},
            "overage": {k: format(v, "f") for k, v in p.overage.items()},
            "addons": p.addons, "due_days": p.due_days, "alerts": list(p.alerts),
            "increments": f"{p.increments[0]}/{p.increments[1]}"}


def _plan_line(out: Output, p: Any) -> str:
    included = ", ".join(f"{text(v)} {k}" for k, v in p.included.items()) or "no allowance"
    overage = ", ".join(f"{k} {format(v, 'f')}" for k, v in p.overage.items()) or "none"
    return (f"{p.id:>4}  {p.name}  fee {out.money(p.fee)}  {p.anchor}  included: {included}  "
            f"overage: {overage}  add-ons {'On' if p.addons else 'Off'}  due {p.due_days}d  "
            f"alerts {','.join(map(str, p.alerts))}  "
            f"increments {p.increments[0]}/{p.increments[1]}")


def _plan_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.fee is not None:
        options["fee"] = args.fee
    if args.anchor is not None:
        options["anchor"] = args.anchor
    if args.included:
        options["included"] = pairs(args.included, "--included")
    if args.overage:
        options["overage"] = pairs(args.overage, "--overage")
    if args.addons is not None:
        options["addons"] = on_off(args.addons)
    if args.due_days is not None:
        options["due_days"] = args.due_days
    if args.alerts is not None:
        options["alerts"] = args.alerts
    if args.increments is not None:
        options["increments"] = args.increments
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
        "identifiers": list(d.identifiers),
    }


def client_lines(out: Output, d: ClientDetail) -> list[str]:
    sub = d.subscription
    contact = f"<{d.email}>" if d.email else "no e-mail address: nothing sent"
    lines = [f"{d.name} (id {d.id})  {contact}"]
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
    if d.identifiers:
        lines.append("  Identifiers: " + ", ".join(d.identifiers))
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
    r = wallet.revoke_lot(desk, lot_id=whole_number(args.lot, "lot"), reason=args.reason)
    out.emit({"lot_id": r.lot_id, "revoked": text(r.units)},
             [f"Revoked {text(r.units)} unused units of lot {r.lot_id}."])


def _campaign_json(c: Any) -> dict[str, Any]:
    return {"id": c.id, "client": c.client, "name": c.name, "resource": c.resource,
            "status": c.status}


def cmd_campaign_add(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    c = clients.add_campaign(desk, client=args.client, name=args.name, resource=args.resource)
    out.emit(_campaign_json(c), [f"Campaign {c.id} added: {c.status}"])


def cmd_campaign_change(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    c = clients.change_campaign(desk, campaign_id=whole_number(args.id, "id"), action=args.action)
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
    batch = whole_number(args.batch_size, "batch_size")
    if not 1 <= batch <= 1_000_000:
        raise InvalidValue("batch_size: between 1 and 1,000,000 rows", "batch_size")
    try:
        r = usage.import_usage(desk, args.file, batch_size=batch, format=args.format)
    except usage.ImportStopped as stop:
        # The one exit 1 after which data was written (SPEC §7): the full result still
        # says exactly what was recorded before the stop; main() then says why, and exits 1.
        _import_report(out, stop.result, args.format)
        raise
    _import_report(out, r, args.format)


def _import_report(out: Output, r: ImportResult, source: str = "quotadesk") -> None:
    data = {"recorded": r.recorded, "duplicates": r.duplicates, "skipped": r.skipped,
            "rejected": [{"line": x.line, "reason": x.reason} for x in r.rejected],
            "stopped": r.stopped}
    lines = [f"recorded: {r.recorded}", f"duplicates: {r.duplicates}",
             f"rejected: {len(r.rejected)}", *(f"  line {x.line}: {x.reason}" for x in r.rejected)]
    if r.skipped or source.strip().lower() != "quotadesk":  # (a platform's records, §11)
        lines.insert(2, f"skipped (not billable): {r.skipped}")
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
            "reference": p.reference, "invoice_number": p.invoice_number,
            "net": out.money(p.net), "tax": out.money(p.tax)}


def _payment_line(out: Output, p: Any) -> str:
    return (f"{p.id:>6}  {p.invoice_number}  {p.client}  {p.type:<7} {out.money(p.amount):>12}  "
            f"due {p.due_date}  {p.status}{' OVERDUE' if p.overdue else ''}  {p.reference}")


def cmd_payments(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = billing.list_payments(desk, args.client, args.status)
    out.emit([_payment_json(out, p) for p in rows],
             lambda: [_payment_line(out, p) for p in rows] or ["No payment requests."])


def cmd_pay(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    p = billing.mark_paid(desk, request_id=whole_number(args.id, "id"))
    out.emit(_payment_json(out, p), [f"Payment request {p.id} marked paid."])


def cmd_fail(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    p = billing.mark_failed(desk, request_id=whole_number(args.id, "id"))
    out.emit(_payment_json(out, p), [f"Payment request {p.id} marked failed."])


def cmd_history(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = billing.billing_history(desk, args.client)
    data = [{"date": out.day(h.date), "kind": h.kind, "package_type": h.package_type,
             "resource": h.resource, "credits": text(h.credits), "amount": out.money(h.amount),
             "status": h.status, "expires_at": out.time(h.expires_at),
             "automatic": h.automatic, "reason": h.reason} for h in rows]

    def lines() -> list[str]:
        # For people: local times to the minute, amounts in the currency (SPEC §1).
        from quotadesk.cli.desk_commands import local_time
        from quotadesk.services.rules.money import format_money

        result = []
        for h in rows:
            unit = "minutes" if h.resource == "minutes" else "credits"
            if h.kind == "purchase":
                amount = format_money(h.amount or Decimal(0), desk.currency)
                result.append(f"{local_time(out, h.date)}  {h.package_type}  "
                              f"{text(h.credits)} {unit}  {amount}  {h.status}"
                              f"{'  (auto top-up)' if h.automatic else ''}")
            else:
                expiry = local_time(out, h.expires_at) if h.expires_at else "never"
                why = f"; reason: {h.reason}" if h.reason else ""
                result.append(f"{local_time(out, h.date)}  {h.package_type}  "
                              f"{text(h.credits)} {unit} {h.kind} (expiry {expiry}{why})")
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
        raise InvalidValue(f"what: export payments, clients or history, not {echo(args.what)}",
                           "what")
    out.emit({"file": args.file, "rows": count}, [f"Wrote {count} rows to {args.file}"])


def cmd_backup(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    path = setup.backup(desk, args.file)
    out.emit({"backup": str(path)}, [f"Backed up to {path}"])


def restore_lines(source: str, r: setup.Restored) -> list[str]:
    if r.safety_copy is not None:
        return [f"Restored from {source}; the database as it was is kept in {r.safety_copy}"]
    if r.damaged_kept is not None:
        return [f"Restored from {source}; the damaged database was moved to {r.damaged_kept}"]
    return [f"Restored from {source}"]


def restore_json(source: str, r: setup.Restored) -> dict[str, Any]:
    return {"restored": source,
            "safety_copy": None if r.safety_copy is None else str(r.safety_copy),
            "damaged_kept": None if r.damaged_kept is None else str(r.damaged_kept)}


class Refused(QuotaDeskError):
    """A command that ran but whose outcome is a failure (verify found problems)."""
