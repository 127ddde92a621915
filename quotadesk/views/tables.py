"""Table models over cached rows (never querying), and the filter proxy in front of them.

Each model serves `data()` from rows a load prepared in its worker thread; columns are an
IntEnum; `Qt.ItemDataRole.UserRole` gives a column's raw value and sorting orders by it. The
proxy filters with one predicate evaluated once per source row and cached, and hands sorting
to the source model, which sorts its Python rows by the same raw values: with 10,000 clients
a keystroke then costs one pass over cached flags instead of a Python call per comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTableView, QWidget

if TYPE_CHECKING:
    from quotadesk.views.desk_context import DeskContext

Row = TypeVar("Row")
AnyIndex = QModelIndex | QPersistentModelIndex

WIDE_COLUMN = 170  # the column that holds names
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter

TONES = {"bad": QColor("#b42318"), "warn": QColor("#9a6700"), "ok": QColor("#1a7f37"),
         "muted": QColor("#6b7280")}


_SERVED_ROLES = frozenset({
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.UserRole,
    Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.ToolTipRole})


def _orderable(value: Any) -> tuple[int, Any]:
    """Sort key that puts missing values last and never compares None with a number."""
    return (1, 0) if value is None else (0, value)


class RowModel(QAbstractTableModel, Generic[Row]):
    """Rows of frozen dataclasses; subclasses say how each column reads and sorts."""

    Column: type[IntEnum]
    numeric: frozenset[int] = frozenset()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self._sort: tuple[int, Qt.SortOrder] | None = None

    # -- to override ---------------------------------------------------------------------
    def headers(self) -> Sequence[str]:
        raise NotImplementedError

    def display(self, row: Row, column: int) -> str:
        raise NotImplementedError

    def raw(self, row: Row, column: int) -> Any:
        """The raw value of a cell: what UserRole returns and sorting orders by."""
        return self.display(row, column).casefold()

    def tone(self, row: Row, column: int) -> str:
        return ""

    def tooltip(self, row: Row, column: int) -> str | None:
        return None

    def key(self, row: Row) -> Hashable:
        return getattr(row, "id", id(row))

    # -- Qt ------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.Column)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _SERVED_ROLES or not index.isValid():
            return None  # painting asks for many roles per cell: answer the rest at once
        row = self.rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.display(row, column)
        if role == Qt.ItemDataRole.UserRole:
            return self.raw(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if column in self.numeric else LEFT
        if role == Qt.ItemDataRole.ForegroundRole:
            tone = self.tone(row, column)
            return QBrush(TONES[tone]) if tone else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.headers()[section]
            if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
                return self.headers()[section].replace("\n", " ")  # a header on two lines
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return RIGHT if section in self.numeric else LEFT
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- rows ----------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Row]) -> None:
        """Take freshly loaded rows. Same rows in the same order: only changed cells are
        announced (selection and scroll stay put); otherwise a reset."""
        new = list(rows)
        if self._sort is not None:
            new = self._sorted(new, *self._sort)
        old = self.rows
        if len(old) == len(new) and all(self.key(a) == self.key(b) for a, b in zip(
                old, new, strict=True)):
            changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
            self.rows = new
            if changed:
                last = len(self.Column) - 1
                self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], last))
            return
        self.beginResetModel()
        self.rows = new
        self.endResetModel()

    def row_of(self, key: Hashable) -> int | None:
        for number, row in enumerate(self.rows):
            if self.key(row) == key:
                return number
        return None

    def _sorted(self, rows: list[Row], column: int, order: Qt.SortOrder) -> list[Row]:
        return sorted(rows, key=lambda r: _orderable(self.raw(r, column)),
                      reverse=order == Qt.SortOrder.DescendingOrder)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.Column):
            return
        self.layoutAboutToBeChanged.emit()
        positions = {id(row): number for number, row in enumerate(self.rows)}
        self.rows = self._sorted(self.rows, column, order)
        self._sort = (column, order)
        moved = {positions[id(row)]: number for number, row in enumerate(self.rows)}
        old = self.persistentIndexList()
        self.changePersistentIndexList(
            old, [self.index(moved[i.row()], i.column()) if i.isValid() else i for i in old])
        self.layoutChanged.emit()


class DeskRowModel(RowModel[Row]):
    """A `RowModel` whose cells are worded by the open desk's formatter (`self.ctx.fmt`)."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx


class RowFilterProxy(QSortFilterProxyModel):
    """Filters with one cached predicate pass; sorting is delegated to the source model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(Qt.ItemDataRole.UserRole)
        self.setDynamicSortFilter(True)
        self._predicate: Callable[[Any], bool] | None = None
        self._accepted = bytearray()
        self._accepted_for: object = None
        self._model: RowModel[Any] | None = None

    def setSourceModel(self, model: RowModel[Any]) -> None:  # type: ignore[override]
        self._model = model
        super().setSourceModel(model)

    def source(self) -> RowModel[Any]:
        assert self._model is not None
        return self._model

    def set_predicate(self, predicate: Callable[[Any], bool] | None) -> None:
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self._set(predicate)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # PySide6 < 6.9
            self._set(predicate)
            self.invalidateRowsFilter()

    def _set(self, predicate: Callable[[Any], bool] | None) -> None:
        self._predicate = predicate
        self._accepted_for = None

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        # Called once per source row on every filter change: keep it to a lookup. The flags
        # are recomputed in one pass whenever the model's row list is a new list.
        if self._predicate is None:
            return True
        rows = self._model.rows  # type: ignore[union-attr]
        if rows is not self._accepted_for:
            predicate = self._predicate
            self._accepted = bytearray(1 if predicate(row) else 0 for row in rows)
            self._accepted_for = rows
        return self._accepted[source_row] == 1

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.source().sort(column, order)

    def row_at(self, proxy_row: int) -> Any:
        source = self.mapToSource(self.index(proxy_row, 0))
        return self.source().rows[source.row()] if source.isValid() else None


def selected_row(view: QTableView, kind: type[Row]) -> Row | None:
    """The row selected in `view`, read through its filter proxy, if it is a `kind`."""
    rows = view.selectionModel().selectedRows()
    if not rows:
        return None
    proxy = view.model()
    assert isinstance(proxy, RowFilterProxy)
    row = proxy.row_at(rows[0].row())
    return row if isinstance(row, kind) else None


def make_table(model: RowModel[Any], name: str, *, proxy: RowFilterProxy | None = None,
               sortable: bool = True, stretch: int | None = None) -> QTableView:
    """A read-only, row-selecting, keyboard-friendly table over `model` (through `proxy`)."""
    view = QTableView()
    front = proxy if proxy is not None else RowFilterProxy(view)
    if proxy is None:
        front.setSourceModel(model)
    return table_over(view, front, name, sortable=sortable, stretch=stretch)


def table_over(view: QTableView, model: QAbstractItemModel, name: str, *,
               sortable: bool = True, stretch: int | None = None) -> QTableView:
    """`view` made the desk's read-only, row-selecting table over `model`, named `name`."""
    view.setObjectName(name.replace(" ", "_"))
    view.setAccessibleName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setTabKeyNavigation(False)
    view.setShowGrid(False)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(28)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    # Interactive columns and a stretching last one: a Stretch column in the middle gets only
    # what the others leave, which in a narrow pane is nothing.
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    view.setProperty("wideColumn", -1 if stretch is None else stretch)
    header.setDefaultAlignment(LEFT)
    if sortable:
        # No initial sort: rows keep the service's order until a header is clicked.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
    return view


def header_width(view: QTableView, column: int) -> int:
    """Room for a column's (bold, maybe two-line) header text and the sort arrow."""
    model = view.model()
    text = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
    font = QFont(view.horizontalHeader().font())
    font.setBold(True)
    metrics = QFontMetrics(font)
    # Room for the sort arrow on the column sorted by; the others only need the margins.
    # (Clicking a narrow header may then elide its text a little; the tooltip holds it.)
    header = view.horizontalHeader()
    sorted_here = view.isSortingEnabled() and header.sortIndicatorSection() == column
    padding = 34 if sorted_here else 18
    return max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0) + padding


def fit_columns(view: QTableView, widths: dict[int, int] | None = None) -> None:
    """Set column widths, never narrower than the column's header."""
    widths = widths or {}
    wide = view.property("wideColumn")
    for column in range(view.model().columnCount()):
        wanted = widths.get(column, view.columnWidth(column))
        if column == wide:
            wanted = max(wanted, WIDE_COLUMN)
        view.setColumnWidth(column, max(wanted, header_width(view, column)))


def fit_to_contents(view: QTableView, model: RowModel[Any], *, cap: int = 240,
                    sample: int = 2000) -> None:
    """Size every column to its longest text among the first `sample` rows (at most `cap`
    pixels, never narrower than its header), the last one taking what is left. If that is
    more than the view shows, the wide column (names) gives way first, then the other text
    columns wider than 150 pixels, each down to 110 (or its header), their longer texts
    elided (a tooltip holds them whole)."""
    metrics = QFontMetrics(view.font())
    rows = model.rows[:sample]
    count = model.columnCount()
    widths = []
    for column in range(count):
        longest = max((metrics.horizontalAdvance(model.display(row, column)) for row in rows),
                      default=0)
        widths.append(max(min(cap, longest + 14), header_width(view, column)))
    # The stretching last column never gets narrower than its header's own size hint.
    widths[-1] = max(widths[-1], view.horizontalHeader().sectionSizeHint(count - 1))
    wide = view.property("wideColumn")
    order = [wide] if isinstance(wide, int) and 0 <= wide < count - 1 else []
    order += sorted((c for c in range(count - 1) if c not in order and widths[c] > 150),
                    key=lambda c: -widths[c])
    if not view.isVisible():
        # A hidden tab's table has no width of its own yet: fit the contents now, and fit
        # again to the room it has when it is shown.
        for column in range(count - 1):
            view.setColumnWidth(column, widths[column])
        if view.property("refitOnShow") is None:
            view.setProperty("refitOnShow", True)
            view.installEventFilter(_RefitOnShow(view, model))
        return
    # Room for the vertical scroll bar, which the rows just set may not have shown yet.
    room = view.viewport().width()
    if not view.verticalScrollBar().isVisible():
        room -= view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
    excess = sum(widths) - room
    for column in order:
        if excess <= 0:
            break
        floor = max(110, header_width(view, column))
        give = min(excess, max(0, widths[column] - floor))
        widths[column] -= give
        excess -= give
    for column in range(count - 1):
        view.setColumnWidth(column, widths[column])


def refit_soon(view: QTableView, model: RowModel[Any]) -> None:
    """`fit_to_contents` once the event loop has laid the view out with its new rows."""
    QTimer.singleShot(0, view, lambda: fit_to_contents(view, model))


class _RefitOnShow(QObject):
    """Fits a table hidden at its last render when it is shown (once per render)."""

    def __init__(self, view: QTableView, model: RowModel[Any]) -> None:
        super().__init__(view)
        self.view, self.model = view, model

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            self.view.removeEventFilter(self)
            self.view.setProperty("refitOnShow", None)
            refit_soon(self.view, self.model)
            self.deleteLater()
        return False
