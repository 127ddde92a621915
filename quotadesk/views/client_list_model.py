"""The client list's table model, built for 100,000 clients: the rows are the service's plain
tuples; the model shows an index list of them (sorted, then filtered) that it replaces
whole, so a keystroke costs one pass over precomputed search texts (fewer when the text
grows: the previous result is narrowed; none for a needle seen lately) and a sort one
`sorted` over precomputed keys; cell text is made when a cell is first painted, never for
rows nobody looks at."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush

from quotadesk.services.client_listing import ClientListRow, client_list_rows
from quotadesk.services.unit_of_work import Desk
from quotadesk.views.formatting import DASH, Formatter, blocked_list, collation_key, tr
from quotadesk.views.tables import LEFT, RIGHT, TONES

AnyIndex = QModelIndex | QPersistentModelIndex
ZERO = Decimal(0)
NO_AMOUNT = Decimal("Infinity")  # sorts after every amount
SHORT_UNITS = {"minutes": "min", "sms": "SMS", "email": "email"}
#: Status filter keys; a row's state is one of the first three.
STATES = ("active", "blocked", "none")
STATUS_FILTERS = ("all", *STATES, "overdue")
_DISPLAY, _ACCESSIBLE = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole
_ALIGNMENT, _FOREGROUND = Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ForegroundRole
_TOOLTIP, _USER = Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.UserRole
_SERVED = frozenset({_DISPLAY, _ACCESSIBLE, _ALIGNMENT, _FOREGROUND, _TOOLTIP, _USER})
_SHOWN = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_BRUSHES = {tone: QBrush(colour) for tone, colour in TONES.items()}
COLUMNS = 6
#: How many row numbers the remembered filter results may hold in all (8 bytes each).
_REMEMBERED = 1_000_000
#: How many rows' cell texts are kept (a screenful is thirty; a scroll passes thousands).
_TEXTS_KEPT = 20_000


@dataclass(frozen=True)
class ClientListing:
    """A client list load, prepared in the worker: the rows in name order (by the locale's
    collation), each one's search text and state, and where each client id is."""

    rows: list[ClientListRow]
    search: list[str]
    states: bytes
    ids: list[int]
    positions: dict[int, int]
    complete: bool = True
    #: Sort keys by column (made in the worker for a whole list).
    keys: dict[int, list[Any]] = field(default_factory=dict)


def state_of(row: ClientListRow) -> int:
    return 2 if row.plan is None else 1 if row.blocked else 0


def load_client_listing(desk: Desk, locale: str, limit: int | None = None) -> ClientListing:
    """Worker side of a load: the one query, then the order, the search texts and each
    column's sort keys (so that a click on a header only sorts)."""
    found = client_list_rows(desk, limit)
    keys = [collation_key(row.name, locale) for row in found]
    rows = [found[i] for i in sorted(range(len(found)), key=keys.__getitem__)]
    ids = [row.id for row in rows]
    listing = ClientListing(
        rows=rows,
        search=[f"{r.name}\n{r.email or ''}\n{r.plan or ''}".casefold() for r in rows],
        states=bytes(map(state_of, rows)), ids=ids,
        positions={cid: i for i, cid in enumerate(ids)}, complete=limit is None)
    if limit is None:
        for column in range(1, 6):
            listing.keys[column] = column_keys(listing, column, locale)
    return listing


def column_keys(listing: ClientListing, column: int, locale: str) -> list[Any]:
    """What a column sorts by, for each row: the plan by collation (no plan last), the
    status (active, blocked by which, none), the first allowance left, the wallet, the
    pending amount."""
    rows = listing.rows
    if column == 1:
        plan_keys: dict[str | None, str] = {None: "\U0010ffff"}
        for row in rows:
            if row.plan not in plan_keys:
                plan_keys[row.plan] = collation_key(row.plan or "", locale)
        return [plan_keys[row.plan] for row in rows]
    # Rows share their blocks, allowances and wallets (the service reads each distinct
    # text once): each distinct one is worked out once.
    if column == 2:
        bits = {"minutes": 1, "sms": 2, "email": 4}
        blocks: dict[tuple[str, ...], int] = {}
        for row in rows:
            if row.blocked not in blocks:
                blocks[row.blocked] = sum(bits.get(r, 0) for r in row.blocked)
        return [state * 8 + blocks[row.blocked]
                for state, row in zip(listing.states, rows, strict=True)]
    if column == 3:
        left: dict[Any, Decimal] = {(): NO_AMOUNT}
        for row in rows:
            if row.allowances not in left:
                _, included, used = row.allowances[0]
                left[row.allowances] = max(ZERO, included - used)
        return [left[row.allowances] for row in rows]
    if column == 4:
        held: dict[Any, tuple[Decimal, Decimal, Decimal]] = {}
        for row in rows:
            if row.wallet not in held:
                held[row.wallet] = _wallet_amounts(row)
        return [held[row.wallet] for row in rows]
    return [row.pending for row in rows]


EMPTY = ClientListing([], [], b"", [], {})


@dataclass(frozen=True)
class ClientRow:
    """One client's row as the list words it (for the window and tests; made on demand)."""

    id: int
    name: str
    email: str
    plan: str
    state: str
    blocked: tuple[str, ...]
    status_text: str
    minutes_left: Decimal | None
    minutes_text: str
    included_text: str
    wallet: tuple[Decimal, Decimal, Decimal]
    wallet_text: str
    pending: Decimal
    pending_text: str
    overdue: int


class _Visible(Sequence[ClientListRow]):
    """The rows shown, in order, without copying them (`fit_to_contents` samples these)."""

    def __init__(self, model: ClientListModel) -> None:
        self.model = model

    def __len__(self) -> int:
        return len(self.model.visible)

    def __getitem__(self, item: Any) -> Any:
        rows, visible = self.model.listing.rows, self.model.visible
        if isinstance(item, slice):
            return [rows[i] for i in visible[item]]
        return rows[visible[item]]

    def __iter__(self) -> Iterator[ClientListRow]:
        rows = self.model.listing.rows
        return (rows[i] for i in self.model.visible)


class ClientListModel(QAbstractTableModel):
    Column = IntEnum("Column", [("NAME", 0), ("PLAN", 1), ("STATUS", 2), ("INCLUDED_LEFT", 3),
                                ("MINUTES_LEFT", 3), ("WALLET", 4), ("PENDING", 5)])
    numeric = frozenset({3, 4, 5})

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        #: The cells' texts by row number (worded with `fmt`), made when first shown.
        self._texts: dict[int, tuple[str, ...]] = {}
        self._fmt = Formatter()
        self.listing = EMPTY
        #: Row numbers of `listing.rows` in the order sorted by (name order until sorted).
        self.order: list[int] = []
        self._position: list[int] | None = None  # where each row is in `order`
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._keys: dict[int, list[Any]] = {}
        self._ranks: dict[int, list[int]] = {}
        #: Row numbers of `listing.rows` shown, in `order`'s order.
        self.visible: list[int] = []
        self.needle = ""
        self.status = "all"
        self._by_status: dict[str, list[int]] = {}
        #: Rows found for each needle lately (for the status and order shown): a needle
        #: typed again, or shortened by Backspace, is answered without a search, and a
        #: longer one searches only what its longest remembered start found.
        self._found: dict[str, list[int]] = {}
        self._found_size = 0
        self.rows = _Visible(self)

    # -- what is shown ---------------------------------------------------------------------
    @property
    def fmt(self) -> Formatter:
        return self._fmt

    @fmt.setter
    def fmt(self, fmt: Formatter) -> None:
        """Words and numbers in the desk's money and locale (the kept texts are worded
        again)."""
        if fmt is not self._fmt:
            self._fmt = fmt
            self._texts.clear()

    def set_listing(self, listing: ClientListing) -> None:
        """Take a fresh load. The same clients in the same order: the cells are announced as
        changed and nothing moves; otherwise one reset."""
        same = listing.ids == self.listing.ids
        self.listing = listing
        self._keys.clear()
        self._ranks.clear()
        self._texts.clear()
        old = self.visible
        self._order_rows()
        self._refilter()
        if same and self.visible == old:
            if old:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(old) - 1, len(self.Column) - 1))
            return
        self.beginResetModel()
        self.endResetModel()

    def set_filter(self, needle: str, status: str) -> None:
        if needle == self.needle and status == self.status:
            return
        if status != self.status:
            self._forget_found()
        self.needle, self.status = needle, status
        self.beginResetModel()
        self._refilter()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.Column):
            return
        self._sort = (column, order)
        self.beginResetModel()
        self._order_rows()
        self._refilter()
        self.endResetModel()

    def _order_rows(self) -> None:
        count = len(self.listing.rows)
        self._by_status.clear()
        self._forget_found()
        self._position = None
        if self._sort is None or self._sort[0] == self.Column.NAME:
            self.order = list(range(count))
            if self._sort is not None and self._sort[1] == Qt.SortOrder.DescendingOrder:
                self.order.reverse()
            return
        column, order = self._sort
        ranks = self._sort_ranks(column)
        # Stable on the name order: equal keys stay in alphabetical order.
        self.order = sorted(range(count), key=ranks.__getitem__,
                            reverse=order == Qt.SortOrder.DescendingOrder)

    def _sort_keys(self, column: int) -> list[Any]:
        keys = self.listing.keys.get(column) or self._keys.get(column)
        if keys is None:
            keys = self._keys[column] = column_keys(self.listing, column, self.fmt.locale)
        return keys

    def _sort_ranks(self, column: int) -> list[int]:
        """Each row's place among the column's distinct values (a few hundred, however many
        clients): a sort then compares small integers, not amounts or tuples of them."""
        ranks = self._ranks.get(column)
        if ranks is None:
            keys = self._sort_keys(column)
            place = {key: i for i, key in enumerate(sorted(set(keys)))}
            ranks = self._ranks[column] = [place[key] for key in keys]
        return ranks

    def _refilter(self) -> None:
        """The shown rows: the sorted ones of the chosen status whose search text holds the
        needle; a needle remembered is not searched again, and a longer one searches only
        what its longest remembered start found."""
        candidates = self._by_status.get(self.status)
        if candidates is None:
            candidates = self._by_status[self.status] = self._status_rows(self.status)
        needle = self.needle
        if not needle:
            self.visible = candidates
            return
        found = self._found.pop(needle, None)
        if found is not None:  # kept as the latest used (the oldest unused goes first)
            self._found[needle] = found
        else:
            for end in range(len(needle) - 1, 0, -1):  # (the needle before a keystroke
                start = self._found.get(needle[:end])  # that lengthened it is remembered)
                if start is not None:
                    candidates = start
                    break
            search = self.listing.search
            found = [i for i in candidates if needle in search[i]]
            self._remember_found(needle, found)
        self.visible = found

    def _remember_found(self, needle: str, found: list[int]) -> None:
        while self._found and self._found_size + len(found) > _REMEMBERED:
            oldest = next(iter(self._found))
            self._found_size -= len(self._found.pop(oldest))
        self._found[needle] = found
        self._found_size += len(found)

    def _forget_found(self) -> None:
        self._found.clear()
        self._found_size = 0

    def _status_rows(self, status: str) -> list[int]:
        if status == "all":
            return self.order
        if status == "overdue":
            rows = self.listing.rows
            return [i for i in self.order if rows[i].overdue]
        code = STATES.index(status)
        states = self.listing.states
        return [i for i in self.order if states[i] == code]

    # -- finding rows ----------------------------------------------------------------------
    def row_of(self, client_id: int | None) -> int | None:
        """The shown row of a client, or None: a dictionary look-up and a binary search."""
        number = self.listing.positions.get(client_id) if client_id is not None else None
        if number is None:
            return None
        position = self._positions()
        found = bisect_left(self.visible, position[number], key=position.__getitem__)
        return found if found < len(self.visible) and self.visible[found] == number else None

    def _positions(self) -> list[int]:
        if self._position is None:
            position = [0] * len(self.order)
            for place, number in enumerate(self.order):
                position[number] = place
            self._position = position
        return self._position

    def client_at(self, row: int) -> ClientListRow | None:
        return self.listing.rows[self.visible[row]] if 0 <= row < len(self.visible) else None

    def client(self, client_id: int) -> ClientListRow | None:
        number = self.listing.positions.get(client_id)
        return None if number is None else self.listing.rows[number]

    def total(self) -> int:
        return len(self.listing.rows)

    # -- Qt --------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.visible)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMNS

    def headers(self) -> list[str]:
        return [self.tr("Name"), self.tr("Plan"), self.tr("Status"),
                self.tr("Included\nleft"), self.tr("Wallet\nbalance"),
                self.tr("Pending\namount")]

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        if role in (Qt.ItemDataRole.AccessibleTextRole, Qt.ItemDataRole.ToolTipRole):
            return self.headers()[section].replace("\n", " ")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if section in self.numeric else LEFT
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return _SHOWN if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _SERVED or not index.isValid():
            return None  # a painted cell asks for a dozen roles: the rest answered at once
        number = self.visible[index.row()]
        return self._value(self.listing.rows[number], number, index.column(), role)

    def _value(self, row: ClientListRow, number: int, column: int, role: int) -> Any:
        if role in (_DISPLAY, _ACCESSIBLE):
            texts = self._texts.get(number)
            if texts is None:
                if len(self._texts) >= _TEXTS_KEPT:
                    self._texts.clear()
                texts = self._texts[number] = tuple(
                    self.display(row, c) for c in range(COLUMNS))
            return texts[column]
        if role == _ALIGNMENT:
            return RIGHT if column in self.numeric else LEFT
        if role == _FOREGROUND:
            tone = self.tone(row, column)
            return _BRUSHES[tone] if tone else None
        if role == _TOOLTIP:
            return self.tooltip(row, column)
        if role == _USER:
            return self._sort_keys(column)[number] if column else \
                collation_key(row.name, self.fmt.locale)
        return None

    # -- words -----------------------------------------------------------------------------
    def display(self, row: ClientListRow, column: int) -> str:
        c = self.Column
        if column == c.NAME:
            return row.name
        if column == c.PLAN:
            return row.plan or DASH
        if column == c.STATUS:
            return status_text(row)
        if column == c.INCLUDED_LEFT:
            return included_text(row, self.fmt)
        if column == c.WALLET:
            return " · ".join(f"{self.fmt.qty(units)} {tr(SHORT_UNITS[r])}"
                              for r, units in row.wallet if units) or DASH
        return self.fmt.money(row.pending) if row.pending else DASH

    def tone(self, row: ClientListRow, column: int) -> str:
        if column == self.Column.STATUS:
            return "bad" if row.blocked and row.plan else "muted" if row.plan is None else "ok"
        if column == self.Column.PENDING and row.overdue:
            return "bad"
        return ""

    def tooltip(self, row: ClientListRow, column: int) -> str | None:
        if column == self.Column.PENDING and row.overdue:
            return self.tr("{count} overdue payment request(s)").format(count=row.overdue)
        if column == self.Column.NAME:
            return f"{row.name}\n{row.email}" if row.email else row.name
        if column in (self.Column.PLAN, self.Column.WALLET, self.Column.INCLUDED_LEFT):
            return self.display(row, column)  # whole, where the column is too narrow
        return None

    def client_row(self, row: ClientListRow) -> ClientRow:
        minutes = next(((i, u) for r, i, u in row.allowances if r == "minutes"), None)
        left = None if row.plan is None else max(ZERO, minutes[0] - minutes[1]) if minutes \
            else ZERO
        return ClientRow(
            id=row.id, name=row.name, email=row.email or "", plan=row.plan or "",
            state=STATES[state_of(row)], blocked=row.blocked, status_text=status_text(row),
            minutes_left=left, minutes_text=self.fmt.qty(left),
            included_text=included_text(row, self.fmt), wallet=_wallet_amounts(row),
            wallet_text=self.display(row, self.Column.WALLET), pending=row.pending,
            pending_text=self.display(row, self.Column.PENDING), overdue=row.overdue)


def status_text(row: ClientListRow) -> str:
    if row.plan is None:
        return tr("No subscription")
    if row.blocked:
        return tr("Blocked: {resources}").format(resources=blocked_list(row.blocked))
    return tr("Active")


def included_text(row: ClientListRow, fmt: Formatter) -> str:
    """What is left of each allowance the client's plan includes: "380 min", "1,200 SMS ·
    6,000 email" (an SMS-only plan shows its SMS, not 0 minutes)."""
    if row.plan is None or not row.allowances:
        return DASH
    return " · ".join(f"{fmt.qty(max(ZERO, included - used))} {tr(SHORT_UNITS[r])}"
                      for r, included, used in row.allowances)


def _wallet_amounts(row: ClientListRow) -> tuple[Decimal, Decimal, Decimal]:
    held = dict(row.wallet)
    return (held.get("minutes", ZERO), held.get("sms", ZERO), held.get("email", ZERO))
