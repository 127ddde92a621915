"""Every table model and its proxy passes Qt's model tester, with real rows in them."""

from __future__ import annotations

from PySide6.QtCore import Qt

from quotadesk.services import billing, catalog, clients, usage, wallet
from quotadesk.views.client_list import ClientListModel, load_client_listing
from quotadesk.views.client_page.billing.history import HistoryModel
from quotadesk.views.client_page.billing.payments import PaymentModel
from quotadesk.views.client_page.billing.wallet import LedgerModel, LotModel
from quotadesk.views.client_page.page import AlertModel, CampaignModel
from quotadesk.views.dialogs.catalog import PackListModel, PlanListModel
from quotadesk.views.tables import RowFilterProxy


def _check(qtmodeltester, model, rows):
    proxy = RowFilterProxy()
    proxy.setSourceModel(model)
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)
    model.set_rows(rows)
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)
    proxy.set_predicate(lambda row: True)
    proxy.sort(0, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(proxy)
    proxy.set_predicate(lambda row: False)
    qtmodeltester.check(proxy)
    assert proxy.rowCount() == 0
    proxy.set_predicate(None)
    model.set_rows(list(reversed(rows)))  # same rows, new order: a reset
    qtmodeltester.check(model)
    qtmodeltester.check(proxy)
    return proxy


def _check_client_list(qtmodeltester, listing):
    """The client list filters and sorts itself (no proxy): checked through each change."""
    model = ClientListModel()
    qtmodeltester.check(model)
    model.set_listing(listing)
    qtmodeltester.check(model)
    model.sort(ClientListModel.Column.PENDING, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    model.set_filter("no client has this", "all")
    qtmodeltester.check(model)
    assert model.rowCount() == 0
    model.set_filter("", "all")
    assert model.rowCount() == len(listing.rows)


def test_every_model_passes_the_model_tester(qtmodeltester, desk, clock, acme, ctx):
    ctx.adopt(_facts(desk))
    clients.add_campaign(desk, client=acme, name="Calls", resource="minutes")
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="pending")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="560")
    clock.advance(days=25)
    billing.run_rollover(desk)
    detail = clients.client_detail(desk, acme)
    assert detail.lots and detail.campaigns and detail.alerts

    _check_client_list(qtmodeltester, load_client_listing(desk, "en_US"))
    _check(qtmodeltester, LotModel(ctx), list(detail.lots))
    _check(qtmodeltester, LedgerModel(ctx), wallet.ledger(desk, acme))
    _check(qtmodeltester, PaymentModel(ctx), billing.list_payments(desk, acme))
    _check(qtmodeltester, HistoryModel(ctx), billing.billing_history(desk, acme))
    _check(qtmodeltester, CampaignModel(), list(detail.campaigns))
    _check(qtmodeltester, AlertModel(ctx), list(detail.alerts))
    _check(qtmodeltester, PlanListModel(ctx), catalog.list_plans(desk))
    _check(qtmodeltester, PackListModel(ctx), catalog.list_packs(desk, include_archived=True))


def test_unchanged_rows_update_in_place_and_keep_the_selection(qtbot, desk, acme, window):
    """A reload after a write announces changed cells only; the selected client stays."""
    table = window.client_list.table
    window.client_list.select_client(acme)
    qtbot.waitUntil(lambda: window.client_page.data is not None)
    resets = []
    window.client_list.model.modelReset.connect(lambda: resets.append(1))
    with qtbot.waitSignal(window.client_list.model.dataChanged):
        window.ctx.run_op(window, lambda: usage.record_usage(
            desk, client=acme, resource="minutes", quantity="10"))
    qtbot.waitUntil(lambda: window.ctx.running == 0)
    assert not resets
    assert window.client_list.selected_id() == acme
    assert table.selectionModel().currentIndex().row() == 0
    assert table.model().index(0, ClientListModel.Column.MINUTES_LEFT).data() == "490 min"


def _facts(desk):
    from quotadesk.views.desk_context import read_desk_facts

    return read_desk_facts(desk)
