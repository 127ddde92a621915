"""CSV exports neutralise cells that spreadsheets would run as formulas (issue 5)."""

from __future__ import annotations

import csv
from pathlib import Path

from quotadesk.services import catalog, clients, exports, wallet


def test_formula_looking_names_are_written_inert_and_numbers_stay_numbers(desk, tmp_path: Path):
    catalog.add_plan(desk, name="=HYPERLINK(\"http://x\")", fee="10.00",
                     included={"minutes": "10"})
    catalog.add_pack(desk, name="@SUM(A1)", resource="minutes", units="5", price="2.50")
    clients.add_client(desk, name="+cmd|' /C calc'!A0", email="a@b.test")
    clients.subscribe(desk, client="+cmd|' /C calc'!A0", plan="=HYPERLINK(\"http://x\")")
    clients.assign_packs(desk, client="+cmd|' /C calc'!A0", packs=["@SUM(A1)"])
    wallet.apply_pack(desk, client="+cmd|' /C calc'!A0", pack="@SUM(A1)", status="pending")

    exports.export_clients(desk, tmp_path / "clients.csv")
    with (tmp_path / "clients.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["name"] == "'+cmd|' /C calc'!A0"
    assert rows[0]["plan"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["pending_amount"] == "12.50"

    exports.export_history(desk, tmp_path / "history.csv", "+cmd|' /C calc'!A0")
    with (tmp_path / "history.csv").open(encoding="utf-8-sig", newline="") as f:
        history = list(csv.DictReader(f))
    assert [(h["package_type"], h["credits"], h["amount"]) for h in history] == [
        ("'@SUM(A1)", "5", "2.50")]

    count = exports.export_payments(desk, tmp_path / "payments.csv")
    with (tmp_path / "payments.csv").open(encoding="utf-8-sig", newline="") as f:
        payments = list(csv.DictReader(f))
    assert count == len(payments) == 2
    assert all(p["client"].startswith("'+cmd") for p in payments)
    assert sorted(p["amount"] for p in payments) == ["10.00", "2.50"]


def test_safe_cell_leaves_ordinary_text_alone():
    assert exports.safe_cell("Northwind Traders") == "Northwind Traders"
    assert exports.safe_cell("-2+3") == "'-2+3"
    assert exports.safe_cell("\t=1") == "'\t=1"
    assert exports.safe_cell(None) == ""
