"""`invoice ID --out FILE.pdf` and `statement CLIENT [--from] [--to] --out FILE.pdf` as a
script runs them (SPEC §7, §10): the PDF written 0600 with the figures `payments` prints,
refusals one line with exit 1 and nothing written, a malformed command line exit 2."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from tests.integration.documents_support import Figures, paper, text_of

from .conftest import Cli, check_refusal


def test_invoice_and_statement_from_the_command_line(cli: Cli, tmp_path: Path):
    cli.ok("settings", "set", "tax.rate", "20")
    cli.ok("settings", "set", "agency.name", "Northwind Telecom")
    applied = cli.ok("apply", "Acme", "100 Minutes Pack", "--status", "pending",
                     now="2026-01-12T10:00:00Z")
    cli.ok("usage", "Acme", "minutes", "612.5", now="2026-01-20T10:00:00Z")
    cli.ok("rollover", now="2026-02-02T08:00:00Z")
    payments = {p["id"]: p for p in cli.ok("payments", "Acme", now="2026-02-02T08:00:00Z")}
    pack = payments[applied["payment_request_id"]]
    assert (pack["net"], pack["tax"], pack["amount"]) == ("15.00", "3.00", "18.00")
    assert pack["invoice_number"].startswith("INV-") and len(pack["invoice_number"]) == 10

    out = tmp_path / "invoice.pdf"
    done = cli.ok("invoice", str(pack["id"]), "--out", str(out), now="2026-02-02T08:00:00Z")
    assert done == {"file": str(out), "id": pack["id"], "invoice_number": pack["invoice_number"],
                    "net": "15.00", "tax": "3.00", "amount": "18.00", "status": "overdue"}
    assert os.stat(out).st_mode & 0o777 == 0o600
    content = out.read_bytes()
    assert paper(content) in ((612, 792), (595, 842))
    text = text_of(content)
    for figure in ("15.00", "3.00", "18.00", pack["invoice_number"], "Northwind Telecom",
                   "Status Overdue"):
        assert figure in text, figure

    overage = next(p for p in payments.values() if p["type"] == "Overage")
    # 12.5 minutes × 0.05 = 0.625 → 0.63 net, 0.126 → 0.13 tax
    assert (overage["net"], overage["tax"], overage["amount"]) == ("0.63", "0.13", "0.76")

    statement = tmp_path / "statement.pdf"
    done = cli.ok("statement", "Acme", "--out", str(statement), now="2026-02-02T08:00:00Z")
    assert (done["from"], done["to"], done["periods"]) == ("2026-01-10", "2026-01-31", 1)
    due = sum(Decimal(p["amount"]) for p in payments.values() if p["status"] == "pending")
    assert done["total_due"] == f"{due:.2f}"
    text = text_of(statement.read_bytes())
    assert f"Total still due {Figures().money(due)}".replace("$", "") in text.replace("$", "")
    for p in payments.values():
        assert p["invoice_number"] in text
    assert os.stat(statement).st_mode & 0o777 == 0o600


def test_document_refusals_write_nothing(cli: Cli, tmp_path: Path):
    cli.ok("pay", "1")  # a write first: the database as the refusals must leave it
    cases = [
        (("invoice", "999", "--out", str(tmp_path / "a.pdf")), ["payment", "999"]),
        (("invoice", "x1", "--out", str(tmp_path / "a.pdf")), ["id"]),
        (("statement", "Nobody", "--out", str(tmp_path / "b.pdf")), ["client", "Nobody"]),
        (("statement", "Acme", "--out", str(tmp_path / "b.pdf")), ["no closed period"]),
        (("statement", "Acme", "--from", "2026-02-01", "--to", "2026-01-01", "--out",
          str(tmp_path / "b.pdf")), ["to"]),
        (("statement", "Acme", "--from", "01/02/2026", "--out", str(tmp_path / "b.pdf")),
         ["from", "YYYY-MM-DD"]),
        (("invoice", "1", "--out", str(tmp_path / "missing" / "a.pdf")), ["folder"]),
    ]
    cli.refused_each(cases, tmp_path)
    assert not list(tmp_path.glob("*.pdf"))
    # Never over the open database (by any path) or a backup.
    result = cli.run("invoice", "1", "--out", str(cli.db))
    check_refusal(result, ["database"])
    backup = tmp_path / "backup.db"
    cli.ok("backup", str(backup))
    result = cli.run("statement", "Acme", "--from", "2026-01-01", "--out", str(backup))
    check_refusal(result, ["database"])
    assert cli.run("invoice", "1").rc == 2  # --out is required
