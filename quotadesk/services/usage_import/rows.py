"""The lines of a usage CSV as rows to rate: the header, and each line through the resolver.

A file's format (QuotaDesk's own CSV here; the platforms' in `services.usage_sources`) says
how its records are read: the field counts and delimiter for the reader, then, from the first
record, a parser that turns each record into a `Row`, or says why it is skipped or rejected.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from quotadesk.services.errors import InvalidValue, QuotaDeskError
from quotadesk.services.usage_import.reader import (
    BAD_CSV,
    BAD_ENCODING,
    MAX_LINE,
    TOO_LONG,
    UsageFileError,
    UsageReader,
)
from quotadesk.services.usage_import.resolver import UsageResolver

if TYPE_CHECKING:
    from quotadesk.services.unit_of_work import Desk

HEADER = ("event_id", "client", "resource", "quantity", "occurred_at")

#: A parsed line: (line number, event id, client id, resource, quantity, time in UTC, that
#: time as SQLite stores it or None). A plain tuple: a million of them an import.
Row = tuple[int, str | None, int, str, Decimal, datetime, str | None]
Record = tuple[int, list[str]]  # (first line, fields or a reader's marker)


class Skipped(Exception):
    """A record the source says is not billable (an unanswered call, a failed message): it is
    counted as skipped, neither recorded nor rejected (SPEC §11)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LineParser(Protocol):
    def parse(self, line: int, fields: list[str]) -> Row:
        """The record as a row to rate; raises `Skipped`, or a QuotaDeskError (rejected)."""
        ...


class ImportFormat(Protocol):
    """How a file of one format is read."""

    @property
    def name(self) -> str: ...

    @property
    def widths(self) -> Collection[int]:
        """The field counts a record may have."""
        ...

    @property
    def delimiter(self) -> str: ...

    def start(self, desk: Desk, reader: UsageReader, render_times: bool
              ) -> tuple[LineParser, Iterator[Record]]:
        """Read the header, if the format has one (a `UsageFileError` if it is wrong), and
        what the parser needs from the database; returns the parser and the records left.
        (A format may set `reader.widths` once it has seen the first record.)"""
        ...


def unreadable(fields: list[str], widths: str) -> QuotaDeskError:
    """Why a record that is not `widths` fields long is rejected (a reader's marker says
    what was wrong with the line itself)."""
    if fields == [BAD_ENCODING]:
        return InvalidValue("encoding: the line is not valid UTF-8", "encoding")
    if fields and fields[0] == BAD_CSV:
        return InvalidValue(f"line: malformed CSV ({fields[1]})", "line")
    if fields == [TOO_LONG]:
        return InvalidValue(f"line: longer than {MAX_LINE:,} characters", "line")
    return InvalidValue(f"expected {widths} fields, found {len(fields)}", "line")


def check_header(first: tuple[int, list[str]] | None) -> None:
    """The file's first record must be the header (SPEC §7)."""
    if first is None:
        raise UsageFileError("file: the file is empty (expected the header "
                             + ",".join(HEADER) + ")", "file")
    if first[1] == [TOO_LONG]:
        raise UsageFileError(f"file: the first line is longer than {MAX_LINE:,} characters: "
                             "not a usage export (the header must be "
                             + ",".join(HEADER) + ")", "file")
    if tuple(f.strip().lower() for f in first[1]) != HEADER:
        raise UsageFileError("file: the header must be " + ",".join(HEADER), "file")


class RowParser:
    """Checks a record's shape, then resolves its cells as `record_usage` resolves its
    arguments (the same `UsageResolver`, with its memory of recurring cells).
    `render_times`: keep the times' SQLite storage form (on SQLite only)."""

    def __init__(self, resolver: UsageResolver, render_times: bool) -> None:
        self.resolve = resolver.resolve
        self.render_times = render_times

    def parse(self, line: int, fields: list[str]) -> Row:
        if len(fields) != 5:
            raise unreadable(fields, str(len(HEADER)))
        event_id, client, resource, quantity, occurred = fields
        resolved = self.resolve(client, resource, quantity, occurred, event_id)
        if self.render_times:
            return (line,) + resolved  # noqa: RUF005 (faster: a million lines)
        return (line, *resolved[:5], None)


class QuotaDeskFormat:
    """QuotaDesk's own CSV (SPEC §7): the header, then `event_id,client,resource,quantity,
    occurred_at`; clients by name or id (§8)."""

    name = "quotadesk"
    widths = (len(HEADER),)
    delimiter = ","

    def start(self, desk: Desk, reader: UsageReader, render_times: bool
              ) -> tuple[LineParser, Iterator[Record]]:
        from quotadesk.services.references import ClientNames

        records = iter(reader)
        check_header(next(records, None))
        with desk.database.session(write=False) as session:
            names = ClientNames(session)
        return RowParser(UsageResolver(desk.timezone, names.find, remember=True),
                         render_times), records
