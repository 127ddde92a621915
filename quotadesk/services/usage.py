"""Recording usage: one event from the window or CLI, or a whole CSV export in batches."""

from __future__ import annotations

import os
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from quotadesk.db import plain_database_error, sqlite_path
from quotadesk.models import Client, UsageEvent
from quotadesk.models.base import table_of
from quotadesk.services.book import ClientBook, Journal, load_books
from quotadesk.services.bulk import Recorded, existing, stored_time
from quotadesk.services.desk import EXACT, Desk, Tx, write_op
from quotadesk.services.dto import ImportResult, Rejection, UsageResult
from quotadesk.services.errors import (
    ClockBehind,
    DatabaseBusy,
    InvalidValue,
    QuotaDeskError,
    echo,
)
from quotadesk.services.import_writer import ImportWriter, WriterStopped, batch_message
from quotadesk.services.lookup import clean_text, find, name_key
from quotadesk.services.quantities import (
    MAX_AMOUNT,
    MINUTE_PLACES,
    Resource,
    parse_quantity,
    parse_resource,
)
from quotadesk.services.timeline import EARLIEST, END, in_range, local_to_utc, out_of_range
from quotadesk.services.usage_reader import (
    BAD_CSV,
    BAD_ENCODING,
    MAX_LINE,
    TOO_LONG,
    UsageFileError,
    UsageReader,
)

HEADER = ("event_id", "client", "resource", "quantity", "occurred_at")
MAX_EVENT_ID = 200
BATCH_SIZE = 100_000


class ImportStopped(QuotaDeskError):
    """An import the database (disk full, database gone, locked past the timeout) or the file
    (unreadable part-way) stopped: `result` says exactly what was recorded before the stop,
    whole batches each committed, with `result.stopped` saying why; nothing else was written
    (SPEC §7, §8)."""

    field = "import"

    def __init__(self, result: ImportResult) -> None:
        kept = (f"the {result.recorded:,} events recorded before the stop were kept"
                if result.recorded else "no event was recorded before the stop")
        super().__init__(f"import stopped: {result.stopped}; {kept}")
        self.result = result


def parse_time(value: object, tz: ZoneInfo, field: str = "occurred_at") -> datetime:
    """An ISO 8601 time in ASCII digits; one with no zone is in the database's time zone
    (SPEC §7), and must happen exactly once there (SPEC §8)."""
    text = str(value).strip()
    if not text:
        raise InvalidValue(f"{field}: a time is required", field)
    if not text.isascii():
        raise InvalidValue(f"{field}: {echo(text)} is not an ISO 8601 time (in ASCII digits)",
                           field)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{field}: {echo(text)} is not an ISO 8601 time", field) from None
    return in_utc(moment, tz, field, text)


def in_utc(moment: datetime, tz: ZoneInfo, field: str, shown: object = None) -> datetime:
    """The same instant in UTC, within 1970-01-01 … 2999-12-31 (SPEC §8). A naive time is in
    the database's time zone, refused if a daylight-saving change makes it ambiguous or
    impossible there. `shown`: the time as given, for a message."""
    if shown is None:
        shown = moment.isoformat()
    if moment.tzinfo is None:
        return local_to_utc(moment, tz, field, shown)
    if moment.tzinfo is not UTC:
        try:
            moment = moment.astimezone(UTC)
        except (OverflowError, ValueError):  # within a day of year 1 or 9999
            raise out_of_range(field, shown) from None
    return in_range(moment, field, shown)


def clean_event_id(value: object) -> str | None:
    if value is None:
        return None
    text = clean_text(value, "event_id", MAX_EVENT_ID)
    return text or None


@write_op
def record_usage(tx: Tx, *, client: object, resource: object, quantity: object,
                 at: datetime | str | None = None, event_id: object = None) -> UsageResult:
    """Record one usage event; a repeated event id is a duplicate and changes nothing."""
    session = tx.session
    row = find(session, Client, client)
    res = parse_resource(resource)
    qty = parse_quantity(res, quantity)
    if at is not None and not isinstance(at, datetime):
        at = parse_time(at, tx.tz, "at")
    moment = tx.now.astimezone(UTC) if at is None else in_utc(at, tx.tz, "at")
    key = clean_event_id(event_id)
    if key is not None and session.scalar(
            select(UsageEvent.id).where(UsageEvent.event_id == key)) is not None:
        return UsageResult(id=None, duplicate=True)
    journal = Journal(tx)
    book = load_books(journal, [row.id])[row.id]
    book.catch_up(tx.now)
    split = book.consume(res.value, qty, moment, key)
    period = book.period
    assert period is not None
    event_row_id = book.last_event_id
    journal.flush()
    return UsageResult(id=event_row_id, duplicate=False, included=split.included,
                       wallet=split.wallet, overage_units=split.overage_units,
                       overage_amount=split.overage_amount, unserved=split.unserved,
                       late=moment < period.start, blocked=book.blocked[res.value])


#: A parsed line: (line number, event id, client id, resource, quantity, time in UTC, that
#: time as SQLite stores it or None). A plain tuple: a million of them an import.
_Row = tuple[int, str | None, int, str, Decimal, datetime, str | None]


class _ClientIndex:
    """Client lookup for an import: exact name, then ignoring case, then numeric id."""

    def __init__(self, desk: Desk) -> None:
        with desk.database.session(write=False) as session:
            rows = session.execute(select(Client.id, Client.name, Client.name_key)).all()
        self.exact = {name: cid for cid, name, _ in rows}
        self.folded = {key: cid for cid, _, key in rows}
        self.ids = {cid for cid, _, _ in rows}

    def find(self, ref: str) -> int:
        text = unicodedata.normalize("NFC", ref).strip()
        found = self.exact.get(text)
        if found is None:
            found = self.folded.get(name_key(text))
        if found is None and text.isascii() and text.isdigit() and len(text) <= 19 and \
                int(text) in self.ids:
            found = int(text)
        if found is None:
            raise InvalidValue(f"client: unknown client {text[:80]!r}", "client")
        return found


ProgressFn = Callable[[int], None]
CancelFn = Callable[[], bool]


def import_usage(desk: Desk, source: str | os.PathLike[str] | IO[bytes], *,
                 batch_size: int = BATCH_SIZE, progress: ProgressFn | None = None,
                 cancelled: CancelFn | None = None,
                 pipelined: bool | None = None) -> ImportResult:
    """Import a usage CSV (SPEC §7): each batch all-or-nothing, committed in file order.

    A bad line rejects only itself. Cancelling stops between batches; what was committed
    stays, and a second run counts those events as duplicates. A large file on a SQLite file
    database is written by a second process while the next batch is rated (`pipelined`:
    None decides by the file's size). The file is read as a stream (usage_reader): memory
    stays bounded whatever it holds.

    If the database refuses to take more (disk full, database gone, locked past the timeout)
    or the file cannot be read further, the import stops: `ImportStopped` carries the result
    of the batches committed before the stop, which are kept.
    """
    with UsageReader(source, len(HEADER)) as reader:
        rows = iter(reader)
        try:
            first = next(rows)
        except StopIteration:
            raise UsageFileError("file: the file is empty (expected the header "
                                 + ",".join(HEADER) + ")", "file") from None
        if first[1] == [TOO_LONG]:
            raise UsageFileError(f"file: the first line is longer than {MAX_LINE:,} characters: "
                                 "not a usage export (the header must be "
                                 + ",".join(HEADER) + ")", "file")
        header = tuple(f.strip().lower() for f in first[1])
        if header != HEADER:
            raise UsageFileError("file: the header must be " + ",".join(HEADER), "file")
        parser = _RowParser(_ClientIndex(desk), desk.timezone,
                            render_times=desk.database.engine.dialect.name == "sqlite")
        database = sqlite_path(desk.database.url)
        if pipelined is None:
            pipelined = _pipeline_wanted(source)
        totals = _Totals()
        done = finished = False
        stop: Exception | None = None
        try:
            with desk.database.bulk_load():
                try:
                    if pipelined and database is not None:
                        # The writer waits for the first batch: a smaller one gets it going
                        # sooner.
                        opening = batch_size // 8 if batch_size >= RAMP_FROM else batch_size
                        done = _import_pipelined(
                            desk, database, _batches(rows, parser, batch_size, opening),
                            totals, progress, cancelled)
                    else:
                        done = _import_in_turn(
                            desk, _batches(rows, parser, batch_size, batch_size), totals,
                            progress, cancelled)
                except _STOPS as error:
                    stop = error
                finished = True
        except (DBAPIError, sqlite3.Error):
            # Folding the log back into the file once the batches are written failed (the
            # disk is full): what was committed is in the log, and stays there until a later
            # commit folds it back.
            if not finished:
                raise
    if stop is not None:
        raise ImportStopped(totals.result(cancelled=False, stopped=_stop_reason(stop))) \
            from stop
    return totals.result(cancelled=not done)


#: What stops an import part-way (SPEC §8: the database refuses to take more, or the file
#: cannot be read further). Anything else is a bug, and propagates as such.
_STOPS = (DBAPIError, sqlite3.Error, DatabaseBusy, WriterStopped, UsageFileError)


def _stop_reason(error: Exception) -> str:
    """Why an import stopped, in one line a person can act on."""
    if isinstance(error, QuotaDeskError):
        return error.message
    text = plain_database_error(error)
    # Said of a refused command; an import that stopped kept what it had committed.
    text = re.sub(r"\s*\(nothing was written\)\s*$", "", text)
    return f"database: {text}"


#: Files from this size up are imported with a writer process (a few batches' worth: below
#: it, starting the process costs more than the overlap saves).
PIPELINE_BYTES = 8 << 20


def _pipeline_wanted(source: str | os.PathLike[str] | IO[bytes]) -> bool:
    """By the file's size, unless QUOTADESK_IMPORT_WRITER says `always` or `never` (a way
    out where a second process cannot be started)."""
    choice = os.environ.get("QUOTADESK_IMPORT_WRITER", "").strip().lower()
    if choice in ("always", "never"):
        return choice == "always"
    try:
        return isinstance(source, (str, os.PathLike)) and \
            os.path.getsize(source) >= PIPELINE_BYTES
    except OSError:
        return False  # the reader says what is wrong with the file


class _Batch:
    """Consecutive lines of the file: the rows to rate, the lines refused before rating, and
    (once rated) what became of the rows."""

    __slots__ = ("duplicates", "line", "message", "recorded", "refused", "rejected", "rows",
                 "seen")

    def __init__(self) -> None:
        self.rows: list[_Row] = []
        self.rejected: list[Rejection] = []  # lines that did not parse
        self.line = 0  # the last line read into this batch
        self.recorded = self.duplicates = 0
        self.refused: list[Rejection] = []  # rows the rules refused
        self.seen: set[str] = set()  # event ids stored once this batch is
        self.message = b""  # its statements, for the writer process


#: Pipelined batches of at least this size start smaller (an eighth, a quarter, a half).
RAMP_FROM = 10_000


def _batches(lines: Iterator[tuple[int, list[str]]], parser: _RowParser,
             size: int, first: int) -> Iterator[_Batch]:
    """Batches of `size` rows, the first of `first` and each next one twice the one before
    until `size`."""
    batch = _Batch()
    limit = max(1, min(first, size))
    for line, fields in lines:
        batch.line = line
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line
        try:
            batch.rows.append(parser.parse(line, fields))
        except QuotaDeskError as error:
            batch.rejected.append(Rejection(line, error.message))
            continue
        if len(batch.rows) >= limit:
            yield batch
            batch = _Batch()
            limit = min(size, limit * 2)
    if batch.rows or batch.rejected:
        yield batch


class _Totals:
    def __init__(self) -> None:
        self.recorded = self.duplicates = 0
        self.rejected: list[Rejection] = []

    def add(self, batch: _Batch, progress: ProgressFn | None) -> None:
        self.recorded += batch.recorded
        self.duplicates += batch.duplicates
        self.rejected += batch.rejected
        self.rejected += batch.refused
        if progress is not None and batch.rows:
            progress(batch.line)

    def result(self, cancelled: bool, stopped: str | None = None) -> ImportResult:
        self.rejected.sort(key=lambda r: r.line)
        return ImportResult(self.recorded, self.duplicates, tuple(self.rejected),
                            cancelled=cancelled, stopped=stopped)


def _import_in_turn(desk: Desk, batches: Iterator[_Batch], totals: _Totals,
                    progress: ProgressFn | None, cancelled: CancelFn | None) -> bool:
    """Rate and write each batch in one transaction of this process. False if cancelled."""
    cache = _Books()
    for n, batch in enumerate(batches):
        if n and cancelled is not None and cancelled():
            return False
        if batch.rows:
            _import_batch(desk, batch, cache)
            cache.committed()
        totals.add(batch, progress)
    return True


def _import_pipelined(desk: Desk, database: Path, batches: Iterator[_Batch], totals: _Totals,
                      progress: ProgressFn | None, cancelled: CancelFn | None) -> bool:
    """Rate batch n+1 while the writer process writes batch n. False if cancelled.

    Where the writer process cannot be started (a caller that is itself a daemonic process,
    an embedding executable that cannot start itself again), the import runs in turn."""
    try:
        writer = ImportWriter(database)
    except Exception:
        return _import_in_turn(desk, batches, totals, progress, cancelled)
    try:
        writer.lock()  # what is read for the first batch stays true until it is written
    except WriterStopped:
        writer.close()
        return _import_in_turn(desk, batches, totals, progress, cancelled)
    try:
        done = _write_pipelined(_PipelineRater(desk, writer), batches, totals, progress,
                                cancelled)
    except BaseException:
        writer.kill()  # a batch still being written is rolled back: it was never reported
        raise
    writer.close()
    return done


def _write_pipelined(rater: _PipelineRater, batches: Iterator[_Batch], totals: _Totals,
                     progress: ProgressFn | None, cancelled: CancelFn | None) -> bool:
    writer = rater.writer
    sent: _Batch | None = None  # written, or being written, by the writer
    try:
        for batch in batches:
            if not batch.rows:  # lines refused before rating (the last batch): after `sent`
                if sent is not None:
                    rater.settle(sent, None)
                    totals.add(sent, progress)
                    sent = None
                totals.add(batch, progress)
                continue
            rater.rate(batch, after=sent)
            if sent is not None:
                rater.settle(sent, batch)
                totals.add(sent, progress)
                sent = None
                if cancelled is not None and cancelled():
                    return False  # `batch` is rated, but nothing of it is written
            writer.write(batch.message)
            sent = batch
    except UsageFileError:
        # The file cannot be read further: the batch being written is settled first, so
        # that the result counts it exactly if it was committed.
        if sent is not None:
            rater.settle(sent, None)
            totals.add(sent, progress)
        raise
    if sent is not None:
        rater.settle(sent, None)
        totals.add(sent, progress)
    return True


class _PipelineRater:
    """Rates batches for the writer process: books, row ids and event ids carried from one
    batch to the next, since the batches before are not (yet) in the database."""

    def __init__(self, desk: Desk, writer: ImportWriter) -> None:
        """`writer` holds the write lock for the first batch."""
        self.desk = desk
        self.writer = writer
        self.cache = _Books(carried=True)
        self.id_marks: dict[str, int] = {}
        self.fresh = False  # True: nothing carried is known to be true any more

    def rate(self, batch: _Batch, after: _Batch | None) -> None:
        if self.fresh:
            self.writer.lock()  # what is read now stays true until this batch is written
            self.cache = _Books(carried=True)
            self.id_marks = {}
            self.fresh = False
        with localcontext(EXACT), self.desk.database.session(write=False) as session:
            session.info["id_marks"] = self.id_marks  # the next ids after the unwritten rows
            statements: Recorded = []
            journal = _rate(Tx(session, self.desk.clock(), self.desk), batch, self.cache,
                            after.seen if after is not None else None, statements)
            # Ids taken but not used (duplicates, refused lines) are handed back, as a commit
            # does: the next batch numbers its rows on from the last one written, as in turn.
            for table, pool in session.info.get("id_pools", {}).items():
                if pool:
                    self.id_marks[table] = pool[-1]
            if journal.event_ids:
                self.id_marks[table_of(UsageEvent).name] = journal.event_ids[-1]
        batch.message = batch_message(statements)

    def settle(self, sent: _Batch, rated: _Batch | None) -> None:
        """Wait until `sent` is committed. If another connection committed first, `sent` was
        stale, and so is `rated` (rated on top of it): both are rated again under the lock."""
        if self.writer.written():
            return
        self.fresh = True
        self.rate(sent, after=None)
        self.writer.write(sent.message)
        if rated is not None:
            self.rate(rated, after=sent)
        if not self.writer.written():  # impossible: written under the lock taken to rate it
            raise WriterStopped("import: the writer refused a batch rated under its lock")


class _RowParser:
    """Validates CSV rows; memoises the lookups that repeat across a million lines."""

    def __init__(self, clients: _ClientIndex, tz: ZoneInfo, render_times: bool) -> None:
        self.clients = clients
        self.tz = tz
        self.render_times = render_times
        self.client_ids: dict[str, int] = {}
        # By the resource cell as written: the resource, its name, and the quantities seen
        # with it. The same few quantities recur ("1" SMS, "12" SMS, "1.5" minutes): each
        # text is checked once (up to a bound, past which the rest are checked every time).
        self.resources: dict[str, tuple[Resource, str, dict[str, Decimal]]] = {}

    def parse(self, line: int, fields: list[str]) -> _Row:
        if len(fields) != 5:
            if fields == [BAD_ENCODING]:
                raise InvalidValue("encoding: the line is not valid UTF-8", "encoding")
            if fields and fields[0] == BAD_CSV:
                raise InvalidValue(f"line: malformed CSV ({fields[1]})", "line")
            if fields == [TOO_LONG]:
                raise InvalidValue(f"line: longer than {MAX_LINE:,} characters", "line")
            raise InvalidValue(f"expected {len(HEADER)} fields, found {len(fields)}", "line")
        event_id, client, resource, quantity, occurred = fields
        known = self.resources.get(resource)
        if known is None:
            res = parse_resource(resource)
            same = next((k for k in self.resources.values() if k[0] is res), None)
            known = self.resources[resource] = same or (res, res.value, {})
        client_id = self.client_ids.get(client)
        if client_id is None:
            client_id = self.client_ids[client] = self.clients.find(client)
        number = known[2].get(quantity)
        if number is None:
            number = fast_quantity(known[0], quantity)
            if len(known[2]) < 50_000:
                known[2][quantity] = number
        # The usual event id and time: plain ASCII, and ISO 8601 in UTC.
        if event_id.isascii() and len(event_id) <= MAX_EVENT_ID and "\x00" not in event_id:
            key = event_id.strip() or None
        else:
            key = clean_event_id(event_id)
        try:  # (digits other than ASCII are refused: SPEC §8)
            moment = _fromisoformat(occurred) if occurred.isascii() else None
        except ValueError:
            moment = None
        stored = None
        if moment is None or moment.tzinfo is not UTC:
            moment = parse_time(occurred, self.tz)
        else:
            if not _EARLIEST <= moment < _END:
                in_range(moment, "occurred_at", occurred)
            if self.render_times:
                stored = _stored_utc(occurred)
        return (line, key, client_id, known[1], number, moment, stored)


_fromisoformat = datetime.fromisoformat
_EARLIEST, _END = EARLIEST, END


def _stored_utc(text: str) -> str | None:
    """SQLite's storage form of a UTC time written the usual way ("2026-03-01T09:00:30Z",
    "…+00:00", with or without six decimals of a second), already parsed as such: by slicing
    rather than formatting the parsed value, a million times an import."""
    size = len(text)
    if size not in (20, 25, 27, 32) or text[4] != "-" or text[7] != "-" or text[13] != ":" \
            or text[16] != ":":
        return None
    if (size == 25 and text.endswith("+00:00")) or (size == 20 and text[19] == "Z"):
        return f"{text[:10]} {text[11:19]}.000000"
    if ((size == 32 and text.endswith("+00:00")) or (size == 27 and text[26] == "Z")) \
            and text[19] == ".":
        return f"{text[:10]} {text[11:26]}"
    return None


def fast_quantity(resource: Resource, value: str) -> Decimal:
    """parse_quantity, with a quick path for the plain numbers an export is made of: ASCII
    digits, and for minutes at most six decimal places."""
    if value.isascii():
        whole, dot, places = value.partition(".")
        if whole.isdigit() and len(whole) <= 10 and (not dot or (
                resource is Resource.MINUTES and places.isdigit() and
                len(places) <= MINUTE_PLACES)):
            number = Decimal(value)
            if 0 < number <= MAX_AMOUNT:
                return number
    return parse_quantity(resource, value)


class _Books:
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
        self.books: dict[int, ClientBook] = {}
        self.carried = carried
        self.mark: tuple[Any, ...] | None = None
        self.pending: tuple[Any, ...] | None = None

    def take(self, journal: Journal, client_ids: set[int]) -> dict[int, ClientBook]:
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
            loaded = load_books(journal, missing)
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


@write_op
def _import_batch(tx: Tx, batch: _Batch, cache: _Books) -> None:
    _rate(tx, batch, cache, None, None)
    cache.written(tx.session)


def _rate(tx: Tx, batch: _Batch, cache: _Books, unwritten: set[str] | None,
          record: Recorded | None) -> Journal:
    """Rate a batch's rows and write them (or `record` the statements that would): event ids
    already stored, or in `unwritten` (a batch still being written), are duplicates."""
    rows = batch.rows
    session = tx.session
    event_ids = [row[1] for row in rows if row[1] is not None]
    seen = existing(session, table_of(UsageEvent).c.event_id, event_ids)
    if unwritten:
        seen.update(event_id for event_id in event_ids if event_id in unwritten)
    journal = Journal(tx, record)
    books = cache.take(journal, {row[2] for row in rows})
    behind: dict[int, str] = {}  # clients with a moment after this import's clock: their lines
    for client_id, book in books.items():  # are rejected, with the reason (SPEC §8)
        try:
            book.catch_up(tx.now)
        except ClockBehind as error:
            behind[client_id] = error.message
    journal.reserve_event_ids(len(rows))
    journal.stored_now = stored_time(tx.now)
    recorded = duplicates = 0
    refused: list[Rejection] = []
    for line, event_id, client_id, resource, quantity, at, stored_at in rows:
        if event_id is not None:
            if event_id in seen:
                duplicates += 1
                continue
            seen.add(event_id)
        try:
            if behind and client_id in behind:
                raise ClockBehind(behind[client_id])
            books[client_id].consume(resource, quantity, at, event_id, stored_at)
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


__all__ = ["HEADER", "ImportStopped", "Resource", "UsageFileError", "import_usage", "parse_time",
           "record_usage"]
