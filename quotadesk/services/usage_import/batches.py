"""An import's batches: cut from the file's rows, rated over the clients' books, and counted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from quotadesk.models import UsageEvent
from quotadesk.models.base import table_of
from quotadesk.services.account_store import PendingWrites, load_accounts
from quotadesk.services.bulk_statements import Recorded, existing, stored_time
from quotadesk.services.errors import (
    ClockBehind,
    FutureUsage,
    NoActiveSubscription,
    QuotaDeskError,
)
from quotadesk.services.results import ImportResult, Rejection
from quotadesk.services.rules.account import ClientAccount
from quotadesk.services.rules.timeline import refuse_if_behind
from quotadesk.services.unit_of_work import Tx, write_op
from quotadesk.services.usage_import.rows import LineParser, Row, Skipped

ProgressFn = Callable[[int], None]
CancelFn = Callable[[], bool]


class Batch:
    """Consecutive lines of the file: the rows to rate, the lines refused before rating, and
    (once rated) what became of the rows."""

    __slots__ = ("duplicates", "line", "message", "now", "recorded", "refused", "rejected",
                 "rows", "seen", "skipped")

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.rejected: list[Rejection] = []  # lines that did not parse
        self.skipped = 0  # records the source says are not billable
        self.line = 0  # the last line read into this batch
        self.recorded = self.duplicates = 0
        self.refused: list[Rejection] = []  # rows the rules refused
        self.seen: set[str] = set()  # event ids stored once this batch is
        self.message = b""  # its statements, for the writer process
        self.now: datetime | None = None  # the clock it was rated at


def batches(lines: Iterator[tuple[int, list[str]]], parser: LineParser,
            size: int, first: int, left: Callable[[], tuple[int, int] | None] | None = None
            ) -> Iterator[Batch]:
    """Batches of `size` rows, the first of `first` and each next one twice the one before
    until `size`. `left`: (bytes read, bytes in all) of the file, to cut the last two batches
    evenly (`_toward_the_end`)."""
    batch = Batch()
    limit = smallest = max(1, min(first, size))
    parse = parser.parse
    append = batch.rows.append
    taken = 0  # rows and skipped records in `batch`
    line = 0
    for line, fields in lines:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line
        try:
            append(parse(line, fields))
        except Skipped:
            batch.skipped += 1  # (counted towards the batch: a file of skipped records
        except QuotaDeskError as error:  # still reports progress and can be cancelled)
            batch.rejected.append(Rejection(line, error.message))
            continue
        taken += 1
        if taken >= limit:
            batch.line = line  # the last line read into it
            yield batch
            batch = Batch()
            append = batch.rows.append
            taken = 0
            limit = min(size, limit * 2)
            if left is not None and limit > smallest:
                limit = _toward_the_end(limit, smallest, line, left())
    batch.line = line
    if batch.rows or batch.rejected or batch.skipped:
        yield batch


def _toward_the_end(limit: int, smallest: int, line: int,
                    left: tuple[int, int] | None) -> int:
    """The next batch's size near the end of the file: what is left (by the bytes still to
    read, at the lines' length so far) in two halves rather than a full batch and a small
    one. The writer process writes the last batch while nothing is left to rate: after a
    half, it has only a half to write, with no batch more. (Whole numbers throughout: the
    lines ahead are line × unread / read.)"""
    if left is None or line <= 0:
        return limit
    read, size = left
    if read <= 0:
        return limit
    ahead = line * (size - read)  # × read: the lines still ahead
    if limit * read < ahead < 2 * limit * read:
        return max(smallest, ahead // (2 * read) + 1)
    return limit


class Totals:
    """What the committed batches recorded, found duplicate and rejected."""

    def __init__(self) -> None:
        self.recorded = self.duplicates = self.skipped = 0
        self.rejected: list[Rejection] = []
        self.last_now: datetime | None = None  # the clock of the last batch committed

    def add(self, batch: Batch, progress: ProgressFn | None) -> None:
        self.last_now = batch.now or self.last_now
        self.recorded += batch.recorded
        self.duplicates += batch.duplicates
        self.skipped += batch.skipped
        self.rejected += batch.rejected
        self.rejected += batch.refused
        if progress is not None and (batch.rows or batch.skipped):
            progress(batch.line)

    def result(self, cancelled: bool, stopped: str | None = None) -> ImportResult:
        self.rejected.sort(key=lambda r: r.line)
        return ImportResult(self.recorded, self.duplicates, tuple(self.rejected),
                            cancelled=cancelled, stopped=stopped, skipped=self.skipped)


class Books:
    """The books of an import's clients, kept from one batch to the next.

    Loading ten thousand books costs more than rating a batch of their events, and between
    two batches nothing can change them but another write. In an import in turn, on SQLite,
    two counters tell whether one happened: `PRAGMA data_version` moves when another
    connection commits, and the connection's `total_changes` when anything (another thread's
    service included) writes through this one. If either moved, if the previous batch did not
    commit, or on PostgreSQL (where the row locks are taken again each batch), the books are
    loaded afresh.

    `carried`: the books are the importer's own state ahead of the database (a pipelined
    import, whose writer process refuses a batch if anything else wrote): always kept.
    """

    def __init__(self, carried: bool = False) -> None:
        self.books: dict[int, ClientAccount] = {}
        self.carried = carried
        self.mark: tuple[Any, ...] | None = None
        self.pending: tuple[Any, ...] | None = None

    def take(self, journal: PendingWrites, client_ids: set[int]) -> dict[int, ClientAccount]:
        mark, self.mark = self.mark, None  # an attempt that does not commit leaves no mark
        if not self.carried and (mark is None or mark != _write_mark(journal.tx.session)):
            self.books = {}
        books = {}
        for client_id in client_ids:
            book = self.books.get(client_id)
            if book is not None:
                book.journal = journal
                journal.books.append(book)
                books[client_id] = book
        missing = client_ids - books.keys()
        if missing:
            loaded = load_accounts(journal, missing)
            self.books.update(loaded)
            books.update(loaded)
        return books

    def written(self, session: Any) -> None:
        """Call after the batch's last write: the state to find at the next batch."""
        session.flush()
        self.pending = _write_mark(session)

    def committed(self) -> None:
        self.mark, self.pending = self.pending, None


def _write_mark(session: Any) -> tuple[Any, ...] | None:
    if session.get_bind().dialect.name != "sqlite":
        return None
    connection = session.connection().connection.driver_connection
    version = connection.execute("PRAGMA data_version").fetchone()[0]
    return (connection, connection.total_changes, version)


def _refused_before_catch_up(book: ClientAccount, now: datetime, resource: str,
                             quantity: Decimal, at: datetime) -> QuotaDeskError | None:
    """Why an event is refused, for a client not yet caught up in this batch, if it is
    refused whatever the catch-up does: a clock behind the client, no subscription, a future
    time. Such an event causes no catch-up, as `record_usage`'s refusal rolls its catch-up
    back. `consume` says it (before it writes anything) in its own words."""
    try:
        refuse_if_behind(now, book.latest, book.name, book.journal.tz)
        if at > now or book.terms is None or book.period is None:
            book.consume(resource, quantity, at, None)
            raise AssertionError("consume took an event it refuses before a catch-up")
    except (ClockBehind, FutureUsage, NoActiveSubscription) as error:
        return error
    return None


def _stored(session: Any, event_ids: list[str]) -> set[str]:
    """Which of these event ids are stored already. On SQLite, one look at the index first:
    if it holds none from the smallest to the largest of them (a new export's ids, as a
    rule), it holds none of them. (SQLite compares text as UTF-8 bytes, which order as
    Python orders the strings.)"""
    column = table_of(UsageEvent).c.event_id
    if event_ids and session.get_bind().dialect.name == "sqlite":
        sql = (f"SELECT 1 FROM {column.table.name} WHERE {column.name} BETWEEN ? AND ? "
               "LIMIT 1")
        if session.connection().exec_driver_sql(
                sql, (min(event_ids), max(event_ids))).first() is None:
            return set()
    return existing(session, column, event_ids)


@write_op
def import_batch(tx: Tx, batch: Batch, cache: Books) -> None:
    """Rate and write one batch in this process: one transaction."""
    rate_batch(tx, batch, cache, None, None)
    cache.written(tx.session)


def rate_batch(tx: Tx, batch: Batch, cache: Books, unwritten: set[str] | None,
               record: Recorded | None) -> PendingWrites:
    """Rate a batch's rows and write them (or `record` the statements that would): event ids
    already stored, or in `unwritten` (a batch still being written), are duplicates.

    Each row is what `record_usage` does with the same event: a duplicate changes nothing;
    otherwise its client is caught up to the batch's clock (once: the clock is read once a
    batch), then the event is rated."""
    rows = batch.rows
    session = tx.session
    event_ids = [row[1] for row in rows if row[1] is not None]
    seen = _stored(session, event_ids)
    if unwritten:
        seen.update(event_id for event_id in event_ids if event_id in unwritten)
    journal = PendingWrites(tx, record)
    journal.remind = False  # reminders are queued once, after the whole import
    batch.now = tx.now
    books = cache.take(journal, {row[2] for row in rows})
    ready: dict[int, ClientAccount] = {}  # clients caught up to now in this batch
    behind: dict[int, str] = {}  # clients with a moment after this import's clock: their
    now = tx.now  # lines are rejected, with the reason (SPEC §8)
    journal.reserve_event_ids(len(rows))
    journal.stored_now = stored_time(now)
    recorded = duplicates = 0
    refused: list[Rejection] = []
    for line, event_id, client_id, resource, quantity, at, stored_at in rows:
        if event_id is not None:
            if event_id in seen:
                duplicates += 1
                continue
            seen.add(event_id)
        book = ready.get(client_id)
        if book is None:  # the client's first event recorded in this batch, if accepted
            book = books[client_id]
            reason = behind.get(client_id)
            if reason is None:
                error = _refused_before_catch_up(book, now, resource, quantity, at)
                if error is not None:
                    reason = error.message
                    if isinstance(error, ClockBehind):
                        behind[client_id] = reason
            if reason is not None:
                refused.append(Rejection(line, reason))
                if event_id is not None:
                    seen.discard(event_id)
                continue
            book.catch_up(now)
            ready[client_id] = book
        try:
            book.consume(resource, quantity, at, event_id, stored_at)
        except QuotaDeskError as error:
            refused.append(Rejection(line, error.message))
            if event_id is not None:
                seen.discard(event_id)  # refused: the id may come again on a good line
            continue
        recorded += 1
    journal.flush()
    batch.recorded, batch.duplicates, batch.refused, batch.seen = \
        recorded, duplicates, refused, seen
    return journal
