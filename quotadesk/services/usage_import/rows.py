"""The lines of a usage CSV as rows to rate: the header, and each line through the resolver."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from quotadesk.services.errors import InvalidValue
from quotadesk.services.usage_import.reader import (
    BAD_CSV,
    BAD_ENCODING,
    MAX_LINE,
    TOO_LONG,
    UsageFileError,
)
from quotadesk.services.usage_import.resolver import UsageResolver

HEADER = ("event_id", "client", "resource", "quantity", "occurred_at")

#: A parsed line: (line number, event id, client id, resource, quantity, time in UTC, that
#: time as SQLite stores it or None). A plain tuple: a million of them an import.
Row = tuple[int, str | None, int, str, Decimal, datetime, str | None]


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
            if fields == [BAD_ENCODING]:
                raise InvalidValue("encoding: the line is not valid UTF-8", "encoding")
            if fields and fields[0] == BAD_CSV:
                raise InvalidValue(f"line: malformed CSV ({fields[1]})", "line")
            if fields == [TOO_LONG]:
                raise InvalidValue(f"line: longer than {MAX_LINE:,} characters", "line")
            raise InvalidValue(f"expected {len(HEADER)} fields, found {len(fields)}", "line")
        event_id, client, resource, quantity, occurred = fields
        resolved = self.resolve(client, resource, quantity, occurred, event_id)
        if self.render_times:
            return (line,) + resolved  # noqa: RUF005 (faster: a million lines)
        return (line, *resolved[:5], None)
