"""The first records of a usage file as they would be recorded, before anything is written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import IO

from sqlalchemy import select

from quotadesk.models import Client, Subscription, UsageEvent
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.unit_of_work import Desk
from quotadesk.services.usage_import.pipeline import file_format
from quotadesk.services.usage_import.reader import BAD_CSV, BAD_ENCODING, TOO_LONG, UsageReader
from quotadesk.services.usage_import.rows import ImportFormat, Row, Skipped
from quotadesk.services.usage_sources.formats import MappingFormat
from quotadesk.services.usage_sources.mappings import SourceMapping

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class PreviewRow:
    line: int
    #: "record", "duplicate" (recorded before: nothing changes), "skip" or "reject".
    outcome: str
    client: str | None = None
    resource: str | None = None
    quantity: Decimal | None = None
    at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class UsagePreview:
    rows: tuple[PreviewRow, ...]
    #: The file's first line, split: a mapping's columns are chosen among these.
    columns: tuple[str, ...]


def preview_usage(desk: Desk, source: str | os.PathLike[str] | IO[bytes],
                  format: str | SourceMapping | None = None,
                  limit: int = PREVIEW_ROWS) -> UsagePreview:
    """The first `limit` records of the file read exactly as the import reads them: each
    with its client, resource, quantity and time, or why it would be skipped or rejected.
    Reads the database, writes nothing. A file the import would refuse whole raises as the
    import does (`UsageFileError`)."""
    reading: ImportFormat = MappingFormat(format) if isinstance(format, SourceMapping) \
        else file_format(desk, format)
    columns: tuple[str, ...] = ()
    parsed: list[tuple[int, Row | None, str, str]] = []
    with UsageReader(source, reading.widths, reading.delimiter) as reader:
        watched = _FirstRecord(reader)
        parser, rest = reading.start(desk, watched, render_times=False)  # type: ignore[arg-type]
        for line, fields in rest:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            try:
                parsed.append((line, parser.parse(line, fields), "record", ""))
            except Skipped as skip:
                parsed.append((line, None, "skip", skip.reason))
            except QuotaDeskError as error:
                parsed.append((line, None, "reject", error.message))
            if len(parsed) >= limit:
                break
        first = watched.first
        if first is not None and first[1] and first[1][0] not in (BAD_CSV, BAD_ENCODING,
                                                                   TOO_LONG):
            columns = tuple(cell.strip() for cell in first[1])
    return UsagePreview(tuple(_judged(desk, parsed)), columns)


class _FirstRecord:
    """A reader as a format sees it, remembering the first record read (the header, or
    the first record of a file without one)."""

    def __init__(self, reader: UsageReader) -> None:
        self.reader = reader
        self.first: tuple[int, list[str]] | None = None

    @property
    def widths(self) -> object:
        return self.reader.widths

    @widths.setter
    def widths(self, value: tuple[int, ...]) -> None:
        self.reader.widths = value

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for record in self.reader:
            if self.first is None:
                self.first = record
            yield record


def _judged(desk: Desk, parsed: list[tuple[int, Row | None, str, str]]) -> list[PreviewRow]:
    """What rating would say first: an event recorded before, a client with no
    subscription."""
    rows = [row for _line, row, _outcome, _reason in parsed if row is not None]
    with desk.database.session(write=False) as session:
        ids = [row[1] for row in rows if row[1] is not None]
        seen = set(session.scalars(select(UsageEvent.event_id).where(
            UsageEvent.event_id.in_(ids)))) if ids else set()
        client_ids = {row[2] for row in rows}
        names = dict(session.execute(select(Client.id, Client.name).where(
            Client.id.in_(client_ids))).all()) if client_ids else {}
        active = set(session.scalars(select(Subscription.client_id).where(
            Subscription.client_id.in_(client_ids), Subscription.status == "active"))) \
            if client_ids else set()
    result = []
    for line, row, outcome, reason in parsed:
        if row is None:
            result.append(PreviewRow(line, outcome, reason=reason))
            continue
        _line, event_id, client_id, resource, quantity, at, _stored = row
        if event_id is not None and event_id in seen:
            outcome, reason = "duplicate", "recorded before: nothing changes"
        elif client_id not in active:
            outcome, reason = "reject", "subscription: the client has no active subscription"
        elif event_id is not None:
            seen.add(event_id)  # the same id again further down: a duplicate
        result.append(PreviewRow(line, outcome, names.get(client_id), resource, quantity, at,
                                 reason))
    return result


__all__ = ["PREVIEW_ROWS", "PreviewRow", "UsagePreview", "file_columns", "preview_usage"]


def file_columns(source: str | os.PathLike[str], delimiter: str = ",") -> tuple[str, ...]:
    """The cells of a file's first line (a header, or the first record): what a mapping
    chooses its columns among. Empty if the file cannot be read."""
    try:
        with UsageReader(source, (), delimiter) as reader:
            for _line, fields in reader:
                if fields and fields[0] not in (BAD_CSV, BAD_ENCODING, TOO_LONG):
                    return tuple(cell.strip() for cell in fields)
                return ()
    except (OSError, QuotaDeskError):
        return ()
    return ()
