"""Recording usage: one event from the window or CLI, or a whole CSV export in batches."""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from quotadesk.models import Client, UsageEvent
from quotadesk.services.book import Journal, load_books
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
ID_CHUNK = 500


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
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


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
    moment = tx.now if at is None else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tx.tz)
    moment = moment.astimezone(UTC)
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


@dataclass(slots=True)
class _Row:
    line: int
    event_id: str | None
    client_id: int
    resource: str
    quantity: Decimal
    at: datetime


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
    lines = _CountedLines(io.StringIO(text, newline=""))
    while True:
        # A line the CSV reader cannot parse (a stray quote) rejects only itself: a fresh
        # reader carries on from the next line.
        reader = csv.reader(lines, strict=True)
        try:
            for fields in reader:
                if not clean and any(_BAD_BYTE.search(f) for f in fields):
                    yield lines.count, [_BAD_ENCODING]
                    continue
                yield lines.count, fields
            return
        except csv.Error as error:
            yield lines.count, [_BAD_CSV, str(error)]


class _CountedLines:
    """The file's physical lines, counted as the CSV reader takes them."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.count = 0

    def __iter__(self) -> _CountedLines:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.count += 1
        return line


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
    parser = _RowParser(_ClientIndex(desk), desk.timezone)
    recorded = duplicates = 0
    rejected: list[Rejection] = []
    batch: list[_Row] = []
    lines = 0

    def run_batch() -> None:
        nonlocal recorded, duplicates
        result = _import_batch(desk, batch)
        recorded += result[0]
        duplicates += result[1]
        rejected.extend(result[2])
        batch.clear()
        if progress is not None:
            progress(lines)

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

    def __init__(self, clients: _ClientIndex, tz: ZoneInfo) -> None:
        self.clients = clients
        self.tz = tz
        self.client_ids: dict[str, int] = {}
        self.resources: dict[str, Resource] = {}
        self.resource_names: dict[Resource, str] = {r: r.value for r in Resource}

    def parse(self, line: int, fields: list[str]) -> _Row:
        if len(fields) != len(HEADER):
            if fields == [_BAD_ENCODING]:
                raise InvalidValue("encoding: the line is not valid UTF-8", "encoding")
            if fields and fields[0] == _BAD_CSV:
                raise InvalidValue(f"line: malformed CSV ({fields[1]})", "line")
            raise InvalidValue(f"expected {len(HEADER)} fields, found {len(fields)}", "line")
        event_id, client, resource, quantity, occurred = fields
        res = self.resources.get(resource)
        if res is None:
            res = self.resources[resource] = parse_resource(resource)
        client_id = self.client_ids.get(client)
        if client_id is None:
            client_id = self.client_ids[client] = self.clients.find(client)
        return _Row(line, clean_event_id(event_id), client_id, self.resource_names[res],
                    fast_quantity(res, quantity), parse_time(occurred, self.tz))


def fast_quantity(resource: Resource, value: str) -> Decimal:
    """parse_quantity, with a quick path for the plain numbers an export is made of."""
    try:
        number = Decimal(value)
    except ArithmeticError:
        return parse_quantity(resource, value)
    if number.is_finite() and 0 < number <= MAX_AMOUNT:
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= (
                -MINUTE_PLACES if resource is Resource.MINUTES else 0):
            return number
    return parse_quantity(resource, value)


@write_op
def _import_batch(tx: Tx, rows: list[_Row]) -> tuple[int, int, list[Rejection]]:
    session = tx.session
    wanted = [r.event_id for r in rows if r.event_id is not None]
    seen: set[str] = set()
    for start in range(0, len(wanted), ID_CHUNK):
        chunk = wanted[start:start + ID_CHUNK]
        seen.update(session.scalars(select(UsageEvent.event_id).where(
            UsageEvent.event_id.in_(chunk))))
    journal = Journal(tx)
    books = load_books(journal, {r.client_id for r in rows})
    for book in books.values():
        book.catch_up(tx.now)
    recorded = duplicates = 0
    rejected: list[Rejection] = []
    for row in rows:
        if row.event_id is not None and row.event_id in seen:
            duplicates += 1
            continue
        try:
            books[row.client_id].consume(row.resource, row.quantity, row.at, row.event_id)
        except QuotaDeskError as error:
            rejected.append(Rejection(row.line, error.message))
            continue
        if row.event_id is not None:
            seen.add(row.event_id)
        recorded += 1
    journal.flush()
    return recorded, duplicates, rejected


__all__ = ["HEADER", "Resource", "UsageFileError", "import_usage", "parse_time", "record_usage"]
