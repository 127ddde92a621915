"""CSV exports for spreadsheets, with cells a spreadsheet would run as formulas neutralised."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from quotadesk.db.files import output_error, private_output
from quotadesk.services import billing, clients
from quotadesk.services.errors import InvalidValue
from quotadesk.services.results import PaymentInfo
from quotadesk.services.rules.money import money_text
from quotadesk.services.rules.quantities import text as quantity_text
from quotadesk.services.setup import output_file
from quotadesk.services.unit_of_work import Desk

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: object) -> str:
    """Text a person typed, made inert: `=HYPERLINK(...)` becomes `'=HYPERLINK(...)`."""
    cell = "" if value is None else str(value)
    if cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _time(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(tz).isoformat(timespec="seconds")


def _write(desk: Desk, path: str | os.PathLike[str], header: Sequence[str],
           rows: Iterable[Sequence[object]]) -> int:
    """Write the CSV whole or not at all, readable by its owner only, never over the database,
    its side files, a backup or another database (SPEC §8)."""
    target = output_file(desk, path)
    count = 0
    try:
        with private_output(target, "w", newline="", encoding="utf-8-sig") as handle:
            out = csv.writer(handle)
            out.writerow(header)
            for row in rows:
                out.writerow(row)
                count += 1
    except OSError as error:
        raise InvalidValue(output_error(target, error).message, "file") from None
    return count


def export_payments(desk: Desk, path: str | os.PathLike[str], client: object = None,
                    status: str | None = None) -> int:
    return export_payment_rows(desk, path, billing.list_payments(desk, client, status))


def export_payment_rows(desk: Desk, path: str | os.PathLike[str],
                        rows: Sequence[PaymentInfo]) -> int:
    """Payment requests already read (the window's filtered list), in `export payments`'s
    columns."""
    tz, currency = desk.timezone, desk.currency
    return _write(desk, path, ["id", "client", "type", "amount", "created", "due", "status", "paid",
                         "overdue", "reference"],
                  ([p.id, safe_cell(p.client), p.type, money_text(p.amount, currency),
                    _time(p.created_at, tz), p.due_date.isoformat(), p.status,
                    _time(p.paid_at, tz), "yes" if p.overdue else "no", safe_cell(p.reference)]
                   for p in rows))


def export_clients(desk: Desk, path: str | os.PathLike[str]) -> int:
    currency = desk.currency
    rows = clients.list_clients(desk)
    return _write(desk, path, ["id", "name", "email", "plan", "status", "minutes_left",
                         "wallet_minutes", "wallet_sms", "wallet_email", "pending_amount"],
                  ([c.id, safe_cell(c.name), safe_cell(c.email or ""), safe_cell(c.plan or ""),
                    c.status, _qty(c.included_minutes_left), _qty(c.wallet.get("minutes")),
                    _qty(c.wallet.get("sms")), _qty(c.wallet.get("email")),
                    money_text(c.pending_amount, currency)] for c in rows))


def export_history(desk: Desk, path: str | os.PathLike[str], client: object) -> int:
    tz, currency = desk.timezone, desk.currency
    rows = billing.billing_history(desk, client)
    return _write(desk, path, ["date", "kind", "package_type", "resource", "credits", "amount",
                         "status", "expires"],
                  ([_time(h.date, tz), h.kind, safe_cell(h.package_type), h.resource,
                    quantity_text(h.credits),
                    "" if h.amount is None else money_text(h.amount, currency),
                    h.status or "", _time(h.expires_at, tz)] for h in rows))


def _qty(value: Decimal | None) -> str:
    return "" if value is None else quantity_text(value)


__all__ = ["export_clients", "export_history", "export_payments", "safe_cell"]
