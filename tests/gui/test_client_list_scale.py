"""The client list built for 100,000 clients, at test size: the open client stays selected
across filter and sort, stays open when the filter hides it (and the list says so), double
click opens a client, names sort by the locale's collation, each plan shows its own
allowances; the model's index lists against a plain reference."""

from __future__ import annotations

import random
import sqlite3
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from quotadesk.services import catalog, clients, usage, wallet
from quotadesk.services.client_listing import ClientListRow
from quotadesk.views.client_list import ClientListModel
from quotadesk.views.client_list_model import ClientListing, state_of
from quotadesk.views.dialogs.client import ClientDialog
from quotadesk.views.dialogs.packs import ApplyPackDialog
from tests.gui.conftest import (
    TIMEOUT,
    click,
    column_texts,
    dialog_of,
    open_client,
    open_tab,
    row_of,
    settle,
)

C = ClientListModel.Column
NAMES = ["Atlas Plumbing", "Bluebird Dental", "Umbra Studios", "Ångström Optics", "Zephyr Cycles",
         "Łódź Textiles", "Lumen Fitness"]


@pytest.fixture
def agency(qtbot, desk, acme, window):
    """Acme (seed 000) and seven more clients, Atlas Plumbing with a pending fee."""
    catalog.add_plan(desk, name="Messaging", fee="29.00", included={"sms": "2000"})
    for name in NAMES:
        client = clients.add_client(desk, name=name)
        if name in ("Atlas Plumbing", "Lumen Fitness"):
            clients.subscribe(desk, client=client.id, plan="Voice 500")
        elif name == "Bluebird Dental":
            clients.subscribe(desk, client=client.id, plan="Messaging")
    reload(qtbot, window)
    return {c.name: c.id for c in clients.list_clients(desk)}


def reload(qtbot, window):
    with qtbot.waitSignal(window.client_list.loaded, timeout=TIMEOUT):
        window.client_list.reload()
    settle(qtbot, window.ctx)


def selected_name(window):
    table = window.client_list.table
    rows = table.selectionModel().selectedRows()
    return rows[0].data() if rows else None


def test_names_sort_by_the_locales_collation(qtbot, agency, window):
    assert column_texts(window.client_list.table, C.NAME) == [
        "Acme", "Ångström Optics", "Atlas Plumbing", "Bluebird Dental", "Łódź Textiles",
        "Lumen Fitness", "Umbra Studios", "Zephyr Cycles"]
    window.client_list.table.sortByColumn(C.NAME, Qt.SortOrder.DescendingOrder)
    assert column_texts(window.client_list.table, C.NAME)[-3:] == [
        "Atlas Plumbing", "Ångström Optics", "Acme"]


def test_selection_stays_on_the_client_across_filter_and_sort(qtbot, agency, window):
    panel = window.client_list
    open_client(qtbot, window, "Atlas Plumbing")
    assert selected_name(window) == "Atlas Plumbing"
    qtbot.keyClicks(panel.search, "l")  # Atlas, Bluebird, Łódź, Lumen … still shown
    assert selected_name(window) == "Atlas Plumbing"
    panel.table.sortByColumn(C.PLAN, Qt.SortOrder.DescendingOrder)
    assert selected_name(window) == "Atlas Plumbing"
    assert panel.table.currentIndex().row() == row_of(panel.table, "Atlas Plumbing")
    panel.table.sortByColumn(C.PENDING, Qt.SortOrder.AscendingOrder)
    panel.search.clear()
    assert selected_name(window) == "Atlas Plumbing"
    assert panel.selected_id() == agency["Atlas Plumbing"]
    assert window.client_page.name.text() == "Atlas Plumbing"


def test_a_client_hidden_by_the_filter_stays_open_and_the_list_says_so(qtbot, agency, window):
    panel = window.client_list
    open_client(qtbot, window, "Atlas Plumbing")
    qtbot.keyClicks(panel.search, "blue")
    assert column_texts(panel.table, C.NAME) == ["Bluebird Dental"]
    assert panel.selected_id() == agency["Atlas Plumbing"]
    assert window.client_page.name.text() == "Atlas Plumbing"
    assert window.stack.currentWidget() is window.client_page
    assert panel.hidden_notice.isVisible()
    assert panel.hidden_notice.text() == "Atlas Plumbing is hidden by the filter"
    panel.search.clear()
    assert not panel.hidden_notice.isVisible()
    assert selected_name(window) == "Atlas Plumbing"


def test_blocked_filter_and_apply_keep_the_clients_page_open(qtbot, desk, acme, agency,
                                                               window):
    """Issue 16, rough edge 1: the pack unblocks Acme, who leaves the Blocked list; the
    page (and its success banner) stays on Acme."""
    usage.record_usage(desk, client=acme, resource="minutes", quantity="501")
    reload(qtbot, window)
    panel = window.client_list
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("blocked"))
    assert column_texts(panel.table, C.NAME) == ["Acme"]
    open_client(qtbot, window, "Acme")
    open_tab(qtbot, window.client_page.tabs, "Billing")
    open_tab(qtbot, window.client_page.billing, "Addon Packs")
    tab = window.client_page.billing.addon_packs
    click(qtbot, tab.cards[0].apply_button)
    dialog = dialog_of(window, ApplyPackDialog)
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert panel.model.rowCount() == 0  # Acme is active now: not in the Blocked list
    assert panel.selected_id() == acme
    assert window.client_page.name.text() == "Acme"
    assert window.stack.currentWidget() is window.client_page
    assert tab.result.text.text().startswith("Addon pack credited.")
    assert panel.hidden_notice.text() == "Acme is hidden by the filter"


def test_double_click_opens_the_client_not_the_edit_dialog(qtbot, agency, window):
    table = window.client_list.table
    index = table.model().index(row_of(table, "Umbra Studios"), C.NAME)
    table.scrollTo(index)
    with qtbot.waitSignal(window.client_page.loaded, timeout=TIMEOUT):
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton,
                          pos=table.visualRect(index).center())
    settle(qtbot, window.ctx)
    assert window.client_page.name.text() == "Umbra Studios"
    assert not [d for d in window.findChildren(ClientDialog) if d.isVisible()]
    assert not [d for d in window.findChildren(QDialog)
                if d.isVisible() and d.windowTitle().startswith("Edit")]


def test_included_left_shows_each_plans_own_allowances(qtbot, desk, agency, window):
    usage.record_usage(desk, client=agency["Bluebird Dental"], resource="sms", quantity="150")
    usage.record_usage(desk, client=agency["Atlas Plumbing"], resource="minutes",
                       quantity="20.5")
    reload(qtbot, window)
    table = window.client_list.table
    cell = table.model().index
    assert cell(row_of(table, "Bluebird Dental"), C.INCLUDED_LEFT).data() == "1,850 SMS"
    assert cell(row_of(table, "Atlas Plumbing"), C.INCLUDED_LEFT).data() == "479.5 min"
    assert cell(row_of(table, "Umbra Studios"), C.INCLUDED_LEFT).data() == "—"
    assert table.model().headerData(C.INCLUDED_LEFT, Qt.Orientation.Horizontal) == (
        "Included\nleft")


def test_pending_money_sorts_by_amount(qtbot, desk, acme, agency, window):
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="pending")
    reload(qtbot, window)
    table = window.client_list.table
    table.sortByColumn(C.PENDING, Qt.SortOrder.DescendingOrder)
    assert column_texts(table, C.PENDING)[:3] == ["$64.00", "$49.00", "$49.00"]
    assert table.model().index(0, C.PENDING).data(Qt.ItemDataRole.UserRole) == Decimal("64")


# -- the model against a plain reference, without a database ---------------------------------
def _listing(count: int, seed: int = 5) -> ClientListing:
    rng = random.Random(seed)
    words = ["atlas", "blue", "cobalt", "delta", "ember", "fjord", "grove"]
    rows = []
    for i in range(count):
        plan = rng.choice([None, "Voice", "Messaging"])
        rows.append(ClientListRow(
            i + 1, f"{rng.choice(words).title()} {rng.choice(words)} {i}", None, plan,
            (("minutes", Decimal(500), Decimal(rng.randint(0, 600))),) if plan else (),
            (), ("minutes",) if plan and rng.random() < 0.2 else (),
            Decimal(rng.choice([0, 0, 29, 49, 64])), rng.choice([0, 0, 0, 1])))
    rows.sort(key=lambda r: r.name.casefold())
    return ClientListing(rows, [f"{r.name}\n\n{r.plan or ''}".casefold() for r in rows],
                         bytes(map(state_of, rows)), [r.id for r in rows],
                         {r.id: i for i, r in enumerate(rows)})


def test_model_filters_narrow_sorts_and_finds_rows_like_a_plain_reference(qtmodeltester):
    listing = _listing(3000)
    model = ClientListModel()
    model.set_listing(listing)
    qtmodeltester.check(model)
    steps = [("a", "all"), ("at", "all"), ("atl", "all"), ("atl", "blocked"), ("", "none"),
             ("bl", "overdue"), ("blue", "overdue"), ("", "all")]
    for column in (C.PENDING, C.STATUS, C.NAME, C.PLAN):
        model.sort(column, Qt.SortOrder.DescendingOrder)
        for needle, status in steps:
            model.set_filter(needle, status)
            expected = [r for r in _reference_order(listing.rows, column)
                        if needle in r.name.casefold() + "\n\n" + (r.plan or "").casefold()
                        and (status == "all" or (status == "overdue" and r.overdue)
                             or ("active", "blocked", "none")[state_of(r)] == status)]
            shown = [model.client_at(i) for i in range(model.rowCount())]
            assert [r.id for r in shown] == [r.id for r in expected], (column, needle, status)
            for place, row in enumerate(shown[:50]):
                assert model.row_of(row.id) == place
            hidden = set(listing.ids) - {r.id for r in shown}
            assert all(model.row_of(cid) is None for cid in list(hidden)[:50])
    qtmodeltester.check(model)


def _reference_order(rows, column):
    by_name = list(rows)
    if column == C.NAME:
        return list(reversed(by_name))
    return sorted(by_name, key=_reference_key(column), reverse=True)


def _reference_key(column):
    return {C.PENDING: lambda r: r.pending, C.STATUS: lambda r: (
        state_of(r) * 8 + (1 if r.blocked else 0)),
        C.PLAN: lambda r: "\U0010ffff" if r.plan is None else r.plan.casefold()}[column]


def test_the_demos_names_sort_as_icu_does(qtbot):
    """The collation key against Qt's QCollator (ICU) on the demo's 100,000 names' kinds."""
    from functools import cmp_to_key

    from PySide6.QtCore import QCollator, QLocale

    from quotadesk.services.demo_copies import demo_names
    from quotadesk.views.formatting import collation_key

    names = demo_names(3000)
    collator = QCollator(QLocale("en_US"))
    assert sorted(names, key=collation_key) == sorted(names, key=cmp_to_key(collator.compare))
    swedish = sorted(["Umbra", "Ångström", "Zephyr", "Östra"],
                     key=lambda n: collation_key(n, "sv_SE"))
    assert swedish == sorted(swedish, key=cmp_to_key(QCollator(QLocale("sv_SE")).compare))


def test_integrity_check_beside_the_first_reads_refuses_a_damaged_file(
        qtbot, ctx, bare_window, tmp_path):
    """SPEC §8: every open is checked. The window's check runs beside the first reads; a
    damaged file is then refused as an open refuses it, and nothing is written to it."""
    from quotadesk import cli
    from quotadesk.db import check_in_background

    db = tmp_path / "q.db"
    assert cli.main(["--db", str(db), "--now", "2026-01-10T09:00:00Z", "init",
                     "--timezone", "UTC"]) == 0
    for name in ("Acme", "Atlas Plumbing", "Umbra Studios"):
        assert cli.main(["--db", str(db), "--now", "2026-01-10T09:00:00Z", "client", "add",
                         name]) == 0
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = "
                        "'sqlite_autoindex_clients_1'").fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(db.read_bytes())
    data[(root - 1) * page + 8:(root - 1) * page + 40] = b"\x00\x07" * 16  # the index page
    db.write_bytes(bytes(data))
    check_in_background()
    try:
        bare_window.open_database(str(db))
        # (A read of the damaged page may be refused first: the check's verdict follows.)
        qtbot.waitUntil(lambda: bare_window.dialogs.get("refusal") is not None
                        and "is damaged" in bare_window.dialogs["refusal"].text(),
                        timeout=TIMEOUT)
    finally:
        check_in_background(False)
    assert "File → Restore" in bare_window.dialogs["refusal"].text()
    assert ctx.desk is None and bare_window.restore_action.isEnabled()


def test_remembered_filters_answer_as_a_plain_search(monkeypatch):
    """Needles typed, shortened by Backspace, pasted and typed again, across sorts, status
    filters and fresh loads of the list, with room for every result remembered and then with
    so little that old ones keep being dropped: each answer is the plain search's."""
    import quotadesk.views.client_list_model as list_model

    listings = [_listing(3000, seed=11), _listing(2500, seed=12)]
    model = ClientListModel()
    model.set_listing(listings[0])
    rng = random.Random(3)
    needle, status, sort = "", "all", (C.NAME, Qt.SortOrder.AscendingOrder)
    for step in range(800):
        budget = 10**7 if step < 400 else 4000
        monkeypatch.setattr(list_model, "_REMEMBERED", budget)
        move = rng.random()
        if move < 0.45:
            needle += rng.choice("atlsbue ro0123456789")
        elif move < 0.8:
            needle = needle[:-rng.randint(1, 3)]
        elif move < 0.88:
            needle = rng.choice(["", "atlas", "blue 1", "grove", "9", "ember d"])
        elif move < 0.93:
            status = rng.choice(["all", "active", "blocked", "none", "overdue"])
        elif move < 0.97:
            sort = (rng.choice([C.NAME, C.PLAN, C.PENDING, C.STATUS]),
                    rng.choice([Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder]))
            model.sort(*sort)
        else:  # a fresh load (a write elsewhere) while a needle is typed
            model.set_listing(listings[step % 2])
        model.set_filter(needle, status)
        listing = model.listing
        ordered = _reference_order(listing.rows, sort[0])
        if sort[0] == C.NAME and sort[1] == Qt.SortOrder.AscendingOrder:
            ordered = list(listing.rows)
        elif sort[1] == Qt.SortOrder.AscendingOrder:
            ordered = sorted(listing.rows, key=_reference_key(sort[0]))
        search = {r.id: text for r, text in zip(listing.rows, listing.search, strict=True)}
        expected = [r.id for r in ordered if needle in search[r.id] and (
            status == "all" or (status == "overdue" and r.overdue)
            or ("active", "blocked", "none")[state_of(r)] == status)]
        shown = [model.client_at(i).id for i in range(model.rowCount())]
        assert shown == expected, (step, needle, status, sort)
        assert model._found_size <= budget + len(model.visible)
    assert model._found  # it did remember some


def test_cell_texts_follow_a_new_listing_and_a_new_money_format():
    from quotadesk.views.formatting import Formatter

    listing = _listing(50)
    model = ClientListModel()
    model.set_listing(listing)
    owing = next(r for r in range(model.rowCount()) if model.client_at(r).pending)
    cell = model.index(owing, C.PENDING)
    amount = model.client_at(owing).pending
    assert cell.data() == f"${amount:,.2f}"
    model.fmt = Formatter(currency="EUR", locale="de_DE")
    assert cell.data() == f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace(
        "X", ".") + "\xa0€"
    changed = listing.rows[model.visible[owing]]._replace(pending=Decimal("1234.5"))
    rows = list(listing.rows)
    rows[model.visible[owing]] = changed
    model.set_listing(ClientListing(rows, listing.search, listing.states, listing.ids,
                                    listing.positions))
    assert model.index(owing, C.PENDING).data() == "1.234,50\xa0€"
