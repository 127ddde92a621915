"""Recording usage: one event from the window or CLI, or a whole CSV export in batches."""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from quotadesk.models import Client, UsageEvent
from quotadesk.models.base import table_of
from quotadesk.services.book import ClientBook, Journal, load_books
from quotadesk.services.bulk import existing, stored_time
from quotadesk.services.desk import Desk, Tx, write_op
from quotadesk.services.dto import ImportResult, Rejection, UsageResult
from quotadesk.services.errors import InvalidValue, QuotaDeskError
from quotadesk.services.lookup import clean_text, find, name_key
from quotadesk.services.quantities import (
    MAX_AMOUNT,
    MINUTE_PLACES,
    Resource,
    parse_quantity,
    parse_resource,
)

HEADER = ("event_id", "client", "resource", "quantity", "occurred_at")
MAX_EVENT_ID = 200
BATCH_SIZE = 100_000


class UsageFileError(QuotaDeskError):
    """The file itself cannot be read as a usage export (missing, unreadable, wrong header)."""

    field = "file"


def parse_time(value: object, tz: ZoneInfo, field: str = "occurred_at") -> datetime:
    """An ISO 8601 time; one with no zone is in the database's time zone (SPEC §7)."""
    text = str(value).strip()
    if not text:
        raise InvalidValue(f"{field}: a time is required", field)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{field}: {text!r} is not an ISO 8601 time", field) from None
    return in_utc(moment, tz, field)


def in_utc(moment: datetime, tz: ZoneInfo, field: str) -> datetime:
    """The same instant in UTC; a naive time is in the database's time zone.

    A time within a day of datetime's limits (year 1 or 9999) may have no UTC equivalent:
    refused as out of range rather than overflowing.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    elif moment.tzinfo is UTC:
        return moment
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidValue(f"{field}: {moment.isoformat()} is out of range", field) from None


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
    moment = in_utc(tx.now if at is None else at, tx.tz, "at")
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


def _reader(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    try:
        data = Path(source).read_bytes() if isinstance(source, (str, os.PathLike)) else source.read()
    except OSError as error:
        raise UsageFileError(f"file: cannot read {source}: {error.strerror}", "file") from None
    try:
        text = data.decode("utf-8-sig")
        clean = True
    except UnicodeDecodeError:
        # Keep reading: only the lines with bad bytes are rejected (see _parse_row).
        text = data.decode("utf-8-sig", errors="surrogateescape")
        clean = False
    lines = io.StringIO(text, newline="")
    before = 0  # physical lines taken by the readers before the current one
    while True:
        # A line the CSV reader cannot parse (a stray quote) rejects only itself: a fresh
        # reader carries on from the next line. A record is reported at the line it starts on.
        reader = csv.reader(lines, strict=True)
        start = before + 1
        try:
            for fields in reader:
                if not clean and any(_BAD_BYTE.search(f) for f in fields):
                    yield start, [_BAD_ENCODING]
                else:
                    yield start, fields
                start = before + reader.line_num + 1
            return
        except csv.Error as error:
            yield start, [_BAD_CSV, str(error)]
            before += reader.line_num


_BAD_BYTE = re.compile("[\udc80-\udcff]")
_BAD_ENCODING = "\x00bad-encoding"
_BAD_CSV = "\x00bad-csv"

ProgressFn = Callable[[int], None]
CancelFn = Callable[[], bool]


def import_usage(desk: Desk, source: str | os.PathLike[str] | IO[bytes], *,
                 batch_size: int = BATCH_SIZE, progress: ProgressFn | None = None,
                 cancelled: CancelFn | None = None) -> ImportResult:
    """Import a usage CSV (SPEC §7): each batch all-or-nothing, committed in file order.

    A bad line rejects only itself. Cancelling stops between batches; what was committed
    stays, and a second run counts those events as duplicates.
    """
    rows = _reader(source)
    try:
        first = next(rows)
    except StopIteration:
        raise UsageFileError("file: the file is empty (expected the header "
                             + ",".join(HEADER) + ")", "file") from None
    header = tuple(f.strip().lower() for f in first[1])
    if header != HEADER:
        raise UsageFileError("file: the header must be " + ",".join(HEADER), "file")
    parser = _RowParser(_ClientIndex(desk), desk.timezone,
                        render_times=desk.database.engine.dialect.name == "sqlite")
    recorded = duplicates = 0
    rejected: list[Rejection] = []
    batch: list[_Row] = []
    lines = 0

    cache = _Books()

    def run_batch() -> None:
        nonlocal recorded, duplicates
        result = _import_batch(desk, batch, cache)
        cache.committed()
        recorded += result[0]
        duplicates += result[1]
        rejected.extend(result[2])
        batch.clear()
        if progress is not None:
            progress(lines)

    with desk.database.bulk_load():
        for line, fields in rows:
            lines = line
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line
            try:
                batch.append(parser.parse(line, fields))
            except QuotaDeskError as error:
                rejected.append(Rejection(line, error.message))
                continue
            if len(batch) >= batch_size:
                run_batch()
                if cancelled is not None and cancelled():
                    rejected.sort(key=lambda r: r.line)
                    return ImportResult(recorded, duplicates, tuple(rejected), cancelled=True)
        if batch:
            run_batch()
    rejected.sort(key=lambda r: r.line)
    return ImportResult(recorded, duplicates, tuple(rejected))


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
            if fields == [_BAD_ENCODING]:
                raise InvalidValue("encoding: the line is not valid UTF-8", "encoding")
            if fields and fields[0] == _BAD_CSV:
                raise InvalidValue(f"line: malformed CSV ({fields[1]})", "line")
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
        try:
            moment = _fromisoformat(occurred)
        except ValueError:
            moment = None
        stored = None
        if moment is None or moment.tzinfo is not UTC:
            moment = parse_time(occurred, self.tz)
        elif self.render_times:
            stored = _stored_utc(occurred)
        return (line, key, client_id, known[1], number, moment, stored)


_fromisoformat = datetime.fromisoformat


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
    two batches nothing can change them but another write. On SQLite two counters tell whether
    one happened: `PRAGMA data_version` moves when another connection commits, and the
    connection's `total_changes` when anything (another thread's service included) writes
    through this one. If either moved, if the previous batch did not commit, or on PostgreSQL
    (where the row locks are taken again each batch), the books are loaded afresh.
    """

    def __init__(self) -> None:
        self.books: dict[int, ClientBook] = {}
        self.mark: tuple[Any, ...] | None = None
        self.pending: tuple[Any, ...] | None = None

    def take(self, journal: Journal, client_ids: set[int]) -> dict[int, ClientBook]:
        mark, self.mark = self.mark, None  # an attempt that does not commit leaves no mark
        if mark is None or mark != _write_mark(journal.tx.session):
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
def _import_batch(tx: Tx, rows: list[_Row], cache: _Books) -> tuple[int, int, list[Rejection]]:
    session = tx.session
    seen = existing(session, table_of(UsageEvent).c.event_id,
                    [row[1] for row in rows if row[1] is not None])
    journal = Journal(tx)
    books = cache.take(journal, {row[2] for row in rows})
    for book in books.values():
        book.catch_up(tx.now)
    journal.reserve_event_ids(len(rows))
    journal.stored_now = stored_time(tx.now)
    recorded = duplicates = 0
    rejected: list[Rejection] = []
    for line, event_id, client_id, resource, quantity, at, stored_at in rows:
        if event_id is not None:
            if event_id in seen:
                duplicates += 1
                continue
            seen.add(event_id)
        try:
            books[client_id].consume(resource, quantity, at, event_id, stored_at)
        except QuotaDeskError as error:
            rejected.append(Rejection(line, error.message))
            if event_id is not None:
                seen.discard(event_id)  # refused: the id may come again on a good line
            continue
        recorded += 1
    journal.flush()
    cache.written(session)
    return recorded, duplicates, rejected


__all__ = ["HEADER", "Resource", "UsageFileError", "import_usage", "parse_time", "record_usage"]
