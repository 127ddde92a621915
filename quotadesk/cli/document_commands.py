"""Documents: `invoice`, `statement` (SPEC §10)."""

from __future__ import annotations

import argparse
from typing import Any

from quotadesk.cli.output import Output
from quotadesk.cli.values import whole_number
from quotadesk.services.unit_of_work import Desk


def register(command: Any, group: Any) -> None:
    """Add this module's commands: `command(name, handler, help, parent)` returns an argparse
    parser; `group(name, help)` makes a command with actions and returns its `parent`."""
    p = command("invoice", cmd_invoice, "write a payment request's invoice as a PDF")
    p.add_argument("id", metavar="ID", help="the payment request's id (see `payments`)")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write")
    p = command("statement", cmd_statement,
                "write a client's statement as a PDF: usage per period, the wallet's "
                "movements, the requests issued and what is still due")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("--from", dest="start", metavar="DATE",
                   help="first local day, YYYY-MM-DD (default: the last closed period)")
    p.add_argument("--to", dest="end", metavar="DATE",
                   help="last local day, YYYY-MM-DD (default: today, or the last closed "
                        "period's last day when --from is not given either)")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write")


def cmd_invoice(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    from quotadesk.services import documents

    path, data = documents.write_invoice(desk, whole_number(args.id, "id"), args.out)
    out.emit({"file": str(path), "id": data.request_id, "invoice_number": data.number,
              "net": out.money(data.net), "tax": out.money(data.tax),
              "amount": out.money(data.total), "status": data.status},
             [f"Wrote invoice {data.number} to {path}"])


def cmd_statement(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    from quotadesk.services import documents

    path, data = documents.write_statement(desk, args.client, args.out, args.start, args.end)
    out.emit({"file": str(path), "client": data.client_name,
              "from": data.first_day.isoformat(), "to": data.last_day.isoformat(),
              "periods": len(data.periods), "requests": len(data.requests),
              "total_due": out.money(data.total_due)},
             [f"Wrote the statement of {data.client_name} for {data.first_day.isoformat()} – "
              f"{data.last_day.isoformat()} to {path}"])
