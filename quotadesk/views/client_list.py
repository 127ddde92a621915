"""The client list: search as you type, a status filter, sorting by any column, and the
add / edit / cancel actions. Selecting a row (or double-clicking it) opens the client.

Built for 100,000 clients (`client_list_model`): the first screenful is read and painted
before the rest arrives; a filter or sort change keeps the client that is open, and when the
filter hides that client the page stays open and the list says so."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from quotadesk.views.client_list_model import (
    STATUS_FILTERS,
    ClientListing,
    ClientListModel,
    ClientRow,
    load_client_listing,
)
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.ops import Area, Changes, hold_collection, release_collection
from quotadesk.views.tables import fit_columns, header_width, table_over
from quotadesk.views.widgets import plain_label

if TYPE_CHECKING:
    from quotadesk.views.early_open import EarlyOpen

__all__ = ["STATUS_FILTERS", "ClientListModel", "ClientListPanel", "ClientRow",
           "load_client_listing"]

#: Rows read first, so that the window is filled before 100,000 have arrived.
FIRST_SCREENFUL = 80
#: From how many clients the first screenful is read apart at start-up from a local file
#: (below, the whole list arrives in a fifth of a second, and a second read would only hold it
#: up; from a server it is always read apart).
SCREENFUL_APART_FROM = 15_000


class _SearchBox(QLineEdit):
    """Down arrow moves from the search box into the list."""

    down = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.down.emit()
            return
        super().keyPressEvent(event)


def client_table(model: ClientListModel, name: str) -> QTableView:
    """A read-only, row-selecting, sortable table straight over the model (no proxy: the
    model filters and sorts itself)."""
    view = table_over(QTableView(), model, name, stretch=0)
    view.setObjectName("clientTable")
    # Always there: a filter that shrinks the list below a screenful does not resize the
    # rows' width (and repaint the list twice).
    view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
    return view


class ClientListPanel(QWidget):
    """The left side of the window. Emits `client_selected(id or None)`."""

    client_selected = Signal(object)
    add_requested = Signal()
    edit_requested = Signal(int)
    cancel_requested = Signal(int)
    #: A complete load was shown (the first screenful alone does not count).
    loaded = Signal()
    #: A complete load ended, shown or not (refused, failed, or overtaken by a newer one).
    settled = Signal()

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("clientListPanel")
        self.model = ClientListModel(self)
        self._selected: int | None = None
        self._fitted = False  # column widths fitted to the rows, or restored
        self._auto_widths = False  # the widths are the window's choice (not restored or set)
        self._fitting = False
        self._generation = 0  # of loads: a first screenful older than the whole is dropped
        self._shown_generation = -1
        self._early: EarlyOpen | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 6, 12)
        layout.setSpacing(8)
        layout.addWidget(plain_label(self.tr("Clients"), name="panelTitle"))

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

        self.table = client_table(self.model, self.tr("Client list"))
        fit_columns(self.table, {0: 190, 1: 125, 2: 125, 3: 95, 4: 110, 5: 90})
        layout.addWidget(self.table, 1)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(60)
        self._refit.timeout.connect(self.fit_columns)
        self.table.horizontalHeader().sectionResized.connect(self._section_resized)
        self.table.installEventFilter(self)
        # Said when the filter hides the client whose page is open (the page stays).
        self.hidden_notice = plain_label("", wrap=True, name="hint")
        self.hidden_notice.setObjectName("hiddenNotice")
        self.hidden_notice.hide()
        layout.addWidget(self.hidden_notice)

        bottom = QHBoxLayout()
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        # Its text changes with every keystroke: its width is the row's, not the text's, so
        # a new count repaints the label alone, never the layout around it.
        self.count.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        self.model.modelReset.connect(self._after_reset)
        self.add_button.clicked.connect(self.add_requested)
        self.edit_button.clicked.connect(self._edit)
        self.cancel_button.clicked.connect(self._cancel)
        # Double-click opens the client (Edit… is the button beside the list).
        self.table.doubleClicked.connect(self._open_row)
        ctx.changed.connect(self._on_changed)
        self._update_buttons()
        self.update_count()

    # -- loading ---------------------------------------------------------------------------
    def _on_changed(self, changes: Changes) -> None:
        if changes.touches(Area.CLIENTS, Area.SUBSCRIPTION, Area.USAGE, Area.WALLET,
                           Area.PAYMENTS):
            self.reload()

    def take_early(self, early: EarlyOpen) -> None:
        """The next load of `early`'s database takes what `early` read (or is reading)."""
        self._early = early
        self.say_loading()

    def say_loading(self) -> None:
        """Until the first rows of a load arrive, the count says so (not "0 clients")."""
        if not self.model.total():
            self.count.setText(self.tr("Loading clients…"))

    def reload(self) -> None:
        desk, locale = self.ctx.desk, self.ctx.fmt.locale
        self.model.fmt = self.ctx.fmt
        self._generation += 1
        generation = self._generation
        early, self._early = self._early, None
        if early is not None and early.facts is not None and early.facts.desk is desk:
            self._show_early(early, generation)
            return
        if desk is None:
            self.model.set_listing(ClientListing([], [], b"", [], {}))
            self.update_count()
            return
        if not self.model.total():
            # An empty list (a desk just opened): a screenful first, read in a moment.
            self.say_loading()
            self.ctx.run_op(self, lambda: load_client_listing(desk, locale, FIRST_SCREENFUL),
                            lambda listing: self._loaded(listing, generation),
                            latest="client-list-first", label=self.tr("Loading clients"))
        hold_collection()
        self.ctx.run_op(self, lambda: load_client_listing(desk, locale),
                        lambda listing: self._loaded(listing, generation),
                        latest="client-list", label=self.tr("Loading clients"),
                        on_settled=self._settled)

    def _settled(self) -> None:
        release_collection()
        self.settled.emit()

    def _show_early(self, early: EarlyOpen, generation: int) -> None:
        """The first screenful read at start-up now, the whole list when it has arrived."""
        if early.first is not None:
            self._loaded(early.first, generation)

        def whole() -> None:
            listing, early.listing, early.first = early.listing, None, None
            early.deleteLater()  # its work is done: the rows live in the model alone
            if listing is None:  # (not read: a failure was reported) read it again
                self.reload()
                return
            self._loaded(listing, generation)
            self.settled.emit()

        early.when(early.listed, early.is_listed, whole)

    def _loaded(self, listing: ClientListing, generation: int) -> None:
        if generation < self._shown_generation or (
                generation == self._shown_generation and not listing.complete):
            return  # a first screenful after the whole list, or an older load
        self._shown_generation = generation
        self.model.set_listing(listing)
        if not self._fitted and listing.rows:
            # Once, on the first rows that arrive (the first screenful is the same first rows
            # as the whole list's), unless the widths a person set last time were restored.
            QTimer.singleShot(0, self.table, self.fit_columns)
            self._fitted = True
        if not listing.complete:
            self.update_count()
            return
        # The rows stay until the next load: out of the collector's way (a full collection
        # over 100,000 rows is a pause of the UI thread), as Instagram does with gc.freeze.
        gc.freeze()
        self._reselect()
        self._update_buttons()
        self.update_count()
        self.loaded.emit()

    def fit_columns(self) -> None:
        """Every column as wide as its longest text among the first rows shown, names whole
        (up to 260 pixels); where that is more than the list has room for, the allowance,
        plan, wallet and status columns give way first (their tooltips hold the whole
        text), the names last."""
        view, model, c = self.table, self.model, ClientListModel.Column
        metrics = QFontMetrics(view.font())
        rows = model.rows[:FIRST_SCREENFUL]  # (the same rows whether or not read apart)
        widths = []
        for column in range(model.columnCount()):
            texts = {model.display(row, column) for row in rows}  # each distinct text once
            longest = max(map(metrics.horizontalAdvance, texts), default=0)
            cap = 260 if column == c.NAME else 200
            widths.append(max(min(cap, longest + 16), header_width(view, column)))
        last = len(widths) - 1  # it stretches, never narrower than its header's own hint
        widths[last] = max(widths[last], view.horizontalHeader().sectionSizeHint(last))
        room = view.viewport().width()
        if not view.verticalScrollBar().isVisible():
            room -= view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        excess = sum(widths) - room
        for column in (c.INCLUDED_LEFT, c.PLAN, c.WALLET, c.STATUS, c.NAME):
            if excess <= 0:
                break
            floor = max(header_width(view, column), 140 if column == c.NAME else 80)
            give = min(excess, max(0, widths[column] - floor))
            widths[column] -= give
            excess -= give
        self._fitting = True
        for column in range(last):
            view.setColumnWidth(column, widths[column])
        self._fitting = False
        self._auto_widths = True

    def _section_resized(self) -> None:
        if not self._fitting:
            self._auto_widths = False  # a person set a width: it stays as set

    def _width_changed(self) -> None:
        """The list got narrower or wider (a client's page opened beside it, the splitter
        moved): widths the window chose are chosen again, so that the amounts stay whole."""
        if self._auto_widths:
            self._refit.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.Resize and \
                event.size().width() != event.oldSize().width():  # type: ignore[attr-defined]
            self._width_changed()
        return super().eventFilter(watched, event)

    # -- filtering and sorting ---------------------------------------------------------------
    def _filter_changed(self) -> None:
        self.model.set_filter(self.search.text().strip().casefold(),
                              self.status_filter.currentData() or "all")

    def _after_reset(self) -> None:
        """A filter, sort or load replaced the rows: the open client stays selected (and in
        view) if shown; if the filter hides it, its page stays open and the list says so."""
        # The rows' layout now, not on a timer after the next paint: a count that changed
        # would otherwise paint the list a second time (the hidden row header lays out late).
        self.table.verticalHeader().doItemsLayout()
        self.table.doItemsLayout()
        self._reselect()
        self.update_count()

    def update_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.total()
        if not self.model.listing.complete and total:
            self.count.setText(self.tr("Loading clients…"))
        elif shown != total:
            self.count.setText(self.tr("{shown} of {total} clients").format(
                shown=f"{shown:,}", total=f"{total:,}"))
        else:
            self.count.setText(self.tr("{total} clients").format(total=f"{total:,}"))
        hidden = self._selected is not None and self.model.row_of(self._selected) is None \
            and self.model.listing.complete
        client = self.model.client(self._selected) if hidden and self._selected else None
        self.hidden_notice.setText(self.tr("{name} is hidden by the filter").format(
            name=client.name) if client else "")
        self.hidden_notice.setVisible(client is not None)

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
        if self.model.client(client_id) is None:
            return
        if self.model.row_of(client_id) is None:
            self.search.clear()
            self.status_filter.setCurrentIndex(0)
        self._set_selected(client_id)
        self._reselect()

    def _reselect(self) -> None:
        if self._selected is None:
            return
        if self.model.listing.complete and self.model.client(self._selected) is None:
            self._set_selected(None)  # the client is gone (restored from an older backup)
            return
        row = self.model.row_of(self._selected)
        selection = self.table.selectionModel()
        if row is None:
            selection.clearSelection()
            return
        index = self.model.index(row, 0)
        if selection.currentIndex().row() != row or not selection.isRowSelected(row):
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                      | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def _current_changed(self, current: Any, _previous: Any) -> None:
        client = self.model.client_at(current.row()) if current.isValid() else None
        if client is not None:  # (a reset clears the current row: the client stays open)
            self._set_selected(client.id)

    def _open_row(self, index: Any) -> None:
        client = self.model.client_at(index.row()) if index.isValid() else None
        if client is not None:
            self._set_selected(client.id, force=True)

    def _set_selected(self, client_id: int | None, force: bool = False) -> None:
        changed = client_id != self._selected
        self._selected = client_id
        self._update_buttons()
        self.update_count()
        if changed or force:
            self.client_selected.emit(client_id)

    def _update_buttons(self) -> None:
        client = self.model.client(self._selected) if self._selected is not None else None
        self.edit_button.setEnabled(client is not None)
        self.cancel_button.setEnabled(client is not None and client.plan is not None)

    def _focus_table(self) -> None:
        self.table.setFocus(Qt.FocusReason.TabFocusReason)
        if not self.table.currentIndex().isValid() and self.model.rowCount():
            self.table.selectRow(0)

    def _edit(self) -> None:
        if self._selected is not None:
            self.edit_requested.emit(self._selected)

    def _cancel(self) -> None:
        if self._selected is not None:
            self.cancel_requested.emit(self._selected)

    def row(self, client_id: int) -> ClientRow | None:
        client = self.model.client(client_id)
        return None if client is None else self.model.client_row(client)

    def names(self) -> list[tuple[int, str]]:
        return [(r.id, r.name) for r in self.model.listing.rows]

    # -- settings --------------------------------------------------------------------------
    def save_state(self, settings: QSettings) -> None:
        settings.setValue("clientList/header", self.table.horizontalHeader().saveState())

    def restore_state(self, settings: QSettings) -> None:
        state = settings.value("clientList/header")
        if state is not None:
            self.table.horizontalHeader().restoreState(state)
            self._fitted = True
