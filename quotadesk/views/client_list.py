"""The client list: search as you type, a status filter, sorting on raw values, and the
add / edit / cancel actions. Selecting a row opens the client."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from quotadesk.services import clients
from quotadesk.services.results import ClientSummary
from quotadesk.services.unit_of_work import Desk
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import DASH, Formatter, blocked_list, tr
from quotadesk.views.ops import Area, Changes
from quotadesk.views.tables import (
    RowFilterProxy,
    RowModel,
    fit_columns,
    make_table,
    refit_soon,
)
from quotadesk.views.widgets import plain_label

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ClientRow:
    """One client list row, with its display text prepared off the UI thread."""

    id: int
    name: str
    email: str
    plan: str
    state: str  # "active", "blocked" or "none"
    blocked: tuple[str, ...]
    status_text: str
    minutes_left: Decimal | None
    minutes_text: str
    wallet: tuple[Decimal, Decimal, Decimal]
    wallet_text: str
    pending: Decimal
    pending_text: str
    overdue: int
    search: str


def client_row(s: ClientSummary, fmt: Formatter) -> ClientRow:
    if s.plan is None:
        state, status = "none", tr("No subscription")
    elif s.blocked:
        state, status = "blocked", tr("Blocked: {resources}").format(
            resources=blocked_list(s.blocked))
    else:
        state, status = "active", tr("Active")
    wallet = (s.wallet.get("minutes", ZERO), s.wallet.get("sms", ZERO),
              s.wallet.get("email", ZERO))
    parts = []
    for amount, word in zip(wallet, (tr("min"), tr("SMS"), tr("email")), strict=True):
        if amount:
            parts.append(f"{fmt.qty(amount)} {word}")
    return ClientRow(
        id=s.id, name=s.name, email=s.email or "", plan=s.plan or "", state=state,
        blocked=s.blocked, status_text=status, minutes_left=s.included_minutes_left,
        minutes_text=fmt.qty(s.included_minutes_left) if s.included_minutes_left is not None
        else DASH,
        wallet=wallet, wallet_text=" · ".join(parts) or DASH, pending=s.pending_amount,
        pending_text=fmt.money(s.pending_amount) if s.pending_amount else DASH,
        overdue=s.overdue,
        search=" ".join((s.name, s.email or "", s.plan or "")).casefold())


def load_client_rows(desk: Desk, fmt: Formatter) -> list[ClientRow]:
    """Worker side of a client list load: the service, then the display text."""
    return [client_row(s, fmt) for s in clients.list_clients(desk)]


class ClientListModel(RowModel[ClientRow]):
    Column = IntEnum("Column", "NAME PLAN STATUS MINUTES_LEFT WALLET PENDING", start=0)

    numeric = frozenset({Column.MINUTES_LEFT, Column.WALLET, Column.PENDING})

    def headers(self) -> list[str]:
        return [self.tr("Name"), self.tr("Plan"), self.tr("Status"),
                self.tr("Included\nminutes left"), self.tr("Wallet\nbalance"),
                self.tr("Pending\namount")]

    def display(self, row: ClientRow, column: int) -> str:
        c = self.Column
        return {c.NAME: row.name, c.PLAN: row.plan or DASH, c.STATUS: row.status_text,
                c.MINUTES_LEFT: row.minutes_text, c.WALLET: row.wallet_text,
                c.PENDING: row.pending_text}[c(column)]

    def raw(self, row: ClientRow, column: int) -> Any:
        c = self.Column
        return {c.NAME: row.name.casefold(), c.PLAN: row.plan.casefold(),
                c.STATUS: (row.state, row.blocked), c.MINUTES_LEFT: row.minutes_left,
                c.WALLET: row.wallet, c.PENDING: row.pending}[c(column)]

    def tone(self, row: ClientRow, column: int) -> str:
        if column == self.Column.STATUS:
            return {"blocked": "bad", "none": "muted"}.get(row.state, "ok")
        if column == self.Column.PENDING and row.overdue:
            return "bad"
        return ""

    def tooltip(self, row: ClientRow, column: int) -> str | None:
        if column == self.Column.PENDING and row.overdue:
            return self.tr("{count} overdue payment request(s)").format(count=row.overdue)
        if column == self.Column.NAME:
            return f"{row.name}\n{row.email}" if row.email else row.name
        if column in (self.Column.PLAN, self.Column.WALLET):
            return self.display(row, column)  # whole, where the column is too narrow
        return None


#: The status filter's choices: (key, label); the predicate is in `ClientListPanel`.
STATUS_FILTERS = ("all", "active", "blocked", "none", "overdue")


class _SearchBox(QLineEdit):
    """Down arrow moves from the search box into the list."""

    down = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.down.emit()
            return
        super().keyPressEvent(event)


class ClientListPanel(QWidget):
    """The left side of the window. Emits `client_selected(id or None)`."""

    client_selected = Signal(object)
    add_requested = Signal()
    edit_requested = Signal(int)
    cancel_requested = Signal(int)
    loaded = Signal()

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("clientListPanel")
        self.model = ClientListModel(self)
        self.proxy = RowFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._selected: int | None = None
        self._fitted = False  # column widths fitted to the rows, or restored

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 6, 12)
        layout.setSpacing(8)
        title = plain_label(self.tr("Clients"), name="panelTitle")
        layout.addWidget(title)

        self.search = _SearchBox()
        self.search.setObjectName("clientSearch")
        self.search.setPlaceholderText(self.tr("Search clients by name, e-mail or plan…"))
        self.search.setAccessibleName(self.tr("Search clients"))
        self.search.setClearButtonEnabled(True)
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("statusFilter")
        self.status_filter.setAccessibleName(self.tr("Status filter"))
        labels = {"all": self.tr("All statuses"), "active": self.tr("Active"),
                  "blocked": self.tr("Blocked"), "none": self.tr("No subscription"),
                  "overdue": self.tr("Overdue payments")}
        for key in STATUS_FILTERS:
            self.status_filter.addItem(labels[key], key)
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(self.status_filter)
        layout.addLayout(row)

        self.table = make_table(self.model, self.tr("Client list"), proxy=self.proxy, stretch=0)
        self.table.setObjectName("clientTable")
        fit_columns(self.table, {0: 150, 1: 125, 2: 125, 3: 85, 4: 110, 5: 90})
        layout.addWidget(self.table, 1)

        bottom = QHBoxLayout()
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        bottom.addWidget(self.count, 1)
        self.add_button = QPushButton(self.tr("&Add client…"))
        self.edit_button = QPushButton(self.tr("&Edit…"))
        self.cancel_button = QPushButton(self.tr("Cancel &subscription…"))
        for button, name in ((self.add_button, self.tr("Add client")),
                             (self.edit_button, self.tr("Edit client")),
                             (self.cancel_button, self.tr("Cancel subscription"))):
            button.setAccessibleName(name)
            bottom.addWidget(button)
        layout.addLayout(bottom)

        self.search.textChanged.connect(self._filter_changed)
        self.search.down.connect(self._focus_table)
        self.status_filter.currentIndexChanged.connect(self._filter_changed)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        # A filter change can insert or remove rows in many ranges: count once afterwards.
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(0)
        self._count_timer.timeout.connect(self._update_count)
        for signal in (self.proxy.modelReset, self.proxy.rowsInserted, self.proxy.rowsRemoved,
                       self.proxy.layoutChanged):
            signal.connect(lambda *_args: self._count_timer.start())
        self.add_button.clicked.connect(self.add_requested)
        self.edit_button.clicked.connect(self._edit)
        self.cancel_button.clicked.connect(self._cancel)
        self.table.doubleClicked.connect(lambda _i: self._edit())
        ctx.changed.connect(self._on_changed)
        self._update_buttons()
        self._update_count()

    # -- loading ---------------------------------------------------------------------------
    def _on_changed(self, changes: Changes) -> None:
        if changes.touches(Area.CLIENTS, Area.SUBSCRIPTION, Area.USAGE, Area.WALLET,
                           Area.PAYMENTS):
            self.reload()

    def reload(self) -> None:
        desk, fmt = self.ctx.desk, self.ctx.fmt
        if desk is None:
            self.model.set_rows([])
            return
        self.ctx.run_op(self, lambda: load_client_rows(desk, fmt), self._loaded,
                        latest="client-list", label=self.tr("Loading clients"))

    def _loaded(self, rows: list[ClientRow]) -> None:
        self.model.set_rows(rows)
        if not self._fitted and rows:
            # Once, unless the widths a person set last time were restored: every plan name
            # and wallet balance readable, the last column taking what is left.
            # After this event: the layout has given the table its width by then.
            refit_soon(self.table, self.model)
            self._fitted = True
        self._reselect()
        self._update_buttons()
        self._update_count()
        self.loaded.emit()

    # -- filtering ---------------------------------------------------------------------------
    def _filter_changed(self) -> None:
        needle = self.search.text().strip().casefold()
        status = self.status_filter.currentData() or "all"
        if not needle and status == "all":
            self.proxy.set_predicate(None)
        else:
            def accept(row: ClientRow) -> bool:
                if needle and needle not in row.search:
                    return False
                if status == "all":
                    return True
                if status == "overdue":
                    return row.overdue > 0
                return row.state == status

            self.proxy.set_predicate(accept)
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(self.tr("{shown} of {total} clients").format(shown=shown, total=total)
                           if shown != total else self.tr("{total} clients").format(total=total))

    # -- selection ---------------------------------------------------------------------------
    def selected_id(self) -> int | None:
        return self._selected

    def select_client(self, client_id: int | None) -> None:
        """Select a client's row (clearing the search if it hides it)."""
        if client_id is None:
            self.table.selectionModel().clearSelection()
            self.table.selectionModel().clearCurrentIndex()
            self._set_selected(None)
            return
        source_row = self.model.row_of(client_id)
        if source_row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(source_row, 0))
        if not index.isValid():
            self.search.clear()
            self.status_filter.setCurrentIndex(0)
            index = self.proxy.mapFromSource(self.model.index(source_row, 0))
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def _reselect(self) -> None:
        if self._selected is not None and self.model.row_of(self._selected) is not None:
            current = self.table.selectionModel().currentIndex()
            row = self.proxy.row_at(current.row()) if current.isValid() else None
            if row is None or row.id != self._selected:
                QTimer.singleShot(0, lambda: self.select_client(self._selected))

    def _current_changed(self, current: Any, _previous: Any) -> None:
        row = self.proxy.row_at(current.row()) if current.isValid() else None
        self._set_selected(row.id if row is not None else None)

    def _set_selected(self, client_id: int | None) -> None:
        changed = client_id != self._selected
        self._selected = client_id
        self._update_buttons()
        if changed:
            self.client_selected.emit(client_id)

    def _update_buttons(self) -> None:
        has = self._selected is not None
        self.edit_button.setEnabled(has)
        row_number = self.model.row_of(self._selected) if has else None
        subscribed = row_number is not None and self.model.rows[row_number].state != "none"
        self.cancel_button.setEnabled(subscribed)

    def _focus_table(self) -> None:
        self.table.setFocus(Qt.FocusReason.TabFocusReason)
        if not self.table.currentIndex().isValid() and self.proxy.rowCount():
            self.table.selectRow(0)

    def _edit(self) -> None:
        if self._selected is not None:
            self.edit_requested.emit(self._selected)

    def _cancel(self) -> None:
        if self._selected is not None:
            self.cancel_requested.emit(self._selected)

    def row(self, client_id: int) -> ClientRow | None:
        number = self.model.row_of(client_id)
        return None if number is None else self.model.rows[number]

    def names(self) -> list[tuple[int, str]]:
        return [(r.id, r.name) for r in self.model.rows]

    # -- settings --------------------------------------------------------------------------
    def save_state(self, settings: QSettings) -> None:
        settings.setValue("clientList/header", self.table.horizontalHeader().saveState())

    def restore_state(self, settings: QSettings) -> None:
        state = settings.value("clientList/header")
        if state is not None:
            self.table.horizontalHeader().restoreState(state)
            self._fitted = True
