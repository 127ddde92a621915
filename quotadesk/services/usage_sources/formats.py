"""The formats the platforms write (SPEC §11): Asterisk's and FreeSWITCH's CDR CSV, Twilio's
message log, and any CSV through a saved mapping. Each turns a record into a row to rate (the
same rows, batches and writer as QuotaDesk's own CSV), or says why it is skipped or rejected."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from quotadesk.services.errors import InvalidValue, NotFound, QuotaDeskError, echo
from quotadesk.services.references import clean_text
from quotadesk.services.rules.increments import Increments
from quotadesk.services.rules.quantities import Resource, parse_resource
from quotadesk.services.usage_import.reader import (
    BAD_CSV,
    BAD_ENCODING,
    TOO_LONG,
    UsageFileError,
    UsageReader,
)
from quotadesk.services.usage_import.resolver import MAX_EVENT_ID, usage_quantity
from quotadesk.services.usage_import.rows import (
    LineParser,
    Record,
    Row,
    Skipped,
    unreadable,
)
from quotadesk.services.usage_sources.identifiers import ClientFinder
from quotadesk.services.usage_sources.increments_book import IncrementsBook
from quotadesk.services.usage_sources.mappings import BUILT_IN, SourceMapping, find_source
from quotadesk.services.usage_sources.times import SourceTimes, minute_of

if TYPE_CHECKING:
    from quotadesk.services.unit_of_work import Desk

ASTERISK_WIDTHS = (16, 17, 18, 21)
FREESWITCH_FIELDS = ("caller_id_name", "caller_id_number", "destination_number", "context",
                     "start_stamp", "answer_stamp", "end_stamp", "duration", "billsec",
                     "hangup_cause", "uuid", "bleg_uuid", "accountcode", "read_codec",
                     "write_codec")
TWILIO_HEADER = ("From", "To", "Body", "Status", "SentDate", "ApiVersion", "NumSegments",
                 "ErrorCode", "AccountSid", "Sid", "Direction", "Price", "PriceUnit")
_MARKERS = (BAD_CSV, BAD_ENCODING, TOO_LONG)


class SourceParser:
    """What every source's records share: the client by identifier or name, the time in the
    source's zone, seconds through the client's increments, and event ids kept apart per
    source (`namespace`), from the source or a digest of the record."""

    def __init__(self, finder: ClientFinder, book: IncrementsBook, times: SourceTimes,
                 namespace: str, render_times: bool) -> None:
        self.finder = finder
        self.book = book
        self.times = times
        self.namespace = namespace
        self.render_times = render_times
        self.id_room = MAX_EVENT_ID - len(namespace)  # an id this long fits with its prefix

    def client(self, ref: str, field: str) -> int:
        try:
            return self.finder.find(ref)
        except NotFound:
            text = ref.strip()
            if not text:
                raise InvalidValue(f"{field}: empty: the record names no client",
                                   field) from None
            raise InvalidValue(f"{field}: no client is identified by {echo(text)} (give a "
                               f"client that identifier: client identify CLIENT {text})",
                               field) from None

    def event_id(self, raw: str, fields: list[str], times: tuple[int, ...]) -> str:
        """The source's own id, or without one a digest of the whole record (its times to
        the minute, so that a spreadsheet's re-save of the file digests the same)."""
        text = raw.strip()
        if text:
            if not text.isascii() or "\x00" in text:
                text = clean_text(text, "event_id", 4 * MAX_EVENT_ID)
            key = self.namespace + text
            if len(key) <= MAX_EVENT_ID:
                return key
            return f"{self.namespace}~{hashlib.sha256(text.encode()).hexdigest()}"
        parts = [minute_of(f) if i in times else f.strip() for i, f in enumerate(fields)]
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogateescape"))
        return f"{self.namespace}#{digest.hexdigest()[:40]}"

    def row(self, line: int, event_id: str, client_id: int, resource: str,
            quantity: Decimal, time_text: str) -> Row:
        at, stored = self.times.read(time_text)
        return (line, event_id, client_id, resource, quantity, at,
                stored if self.render_times else None)


#: Seconds as written → canonical text: a CDR file repeats a few thousand values.
_SECONDS: dict[str, str] = {}


def seconds_of(value: str, field: str) -> str:
    """A number of seconds ≥ 0 as canonical text ("0" for none)."""
    known = _SECONDS.get(value)
    if known is not None:
        return known
    text = value.strip()
    if text.isdigit() and text.isascii() and len(text) <= 10:
        canonical = str(int(text))
        if len(_SECONDS) < 100_000:
            _SECONDS[value] = canonical
        return canonical
    try:
        number = Decimal(text) if text.isascii() else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0 or number > 10**10 or \
            "e" in text.lower():
        raise InvalidValue(f"{field}: {echo(text)} is not a number of seconds", field)
    return format(number.normalize(), "f") if number else "0"


def _is_zero(text: str) -> bool:
    return bool(text) and text[0].isdigit() and text.isascii() and not text.strip("0.")


# -- Asterisk ---------------------------------------------------------------------------------
class AsteriskParser(SourceParser):
    """cdr_csv's Master.csv: accountcode, src, dst, dcontext, clid, channel, dstchannel,
    lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags, then
    uniqueid, userfield (and peeraccount, linkedid, sequence): the layout by field count."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        #: A client with one increment rule → the minutes of each billsec (as written) seen
        #: billed under it (billsec > 0): one table per rule, shared by its clients.
        self.billed: dict[int, dict[str, Decimal]] = {}
        self.by_rule: dict[Increments, dict[str, Decimal]] = {}

    def parse(self, line: int, fields: list[str]) -> Row:
        # The quick path (a million records): a record like those before it, answered, of a
        # client already found, with one rule, a billsec already billed under it, a plain
        # uniqueid. It gives exactly what `_parse` gives, which reads any other.
        if len(fields) > 16 and fields[14] == "ANSWERED":
            client_id = self.finder.found.get(fields[0])
            if client_id is not None:
                table = self.billed.get(client_id)
                quantity = table.get(fields[13]) if table is not None else None
                uniqueid = fields[16]
                if quantity is not None and uniqueid and len(uniqueid) <= self.id_room and \
                        uniqueid.isascii() and uniqueid.strip() == uniqueid and \
                        "\x00" not in uniqueid and len(fields) in ASTERISK_WIDTHS:
                    at, stored = self.times.read(fields[9])
                    return (line, self.namespace + uniqueid, client_id, "minutes", quantity,
                            at, stored if self.render_times else None)
        return self._parse(line, fields)

    def _parse(self, line: int, fields: list[str]) -> Row:
        count = len(fields)
        if count not in ASTERISK_WIDTHS:
            raise unreadable(fields, "16, 17, 18 or 21")
        disposition = fields[14]
        if disposition != "ANSWERED" and disposition.strip().upper() != "ANSWERED":
            raise Skipped(f"not answered ({disposition.strip() or 'no disposition'})")
        seconds = _SECONDS.get(fields[13]) or seconds_of(fields[13], "billsec")
        if seconds == "0":
            raise Skipped("billsec 0")
        client_id = self.finder.found.get(fields[0]) or self.client(fields[0], "accountcode")
        uniqueid = fields[16] if count > 16 else ""
        if uniqueid and uniqueid.isascii() and len(uniqueid) <= self.id_room and \
                uniqueid.strip() == uniqueid and "\x00" not in uniqueid:
            event = self.namespace + uniqueid
        else:
            event = self.event_id(uniqueid, fields, (9, 10, 11))
        at, stored = self.times.read(fields[9])
        book = self.book
        rule = book.fixed.get(client_id)
        quantity = book.known.get((rule, seconds)) if rule is not None else None
        if quantity is None:
            quantity = book.minutes(client_id, at, seconds)
        if rule is not None:
            table = self.billed.get(client_id)
            if table is None:
                table = self.billed[client_id] = self.by_rule.setdefault(rule, {})
            if len(table) < 100_000:
                table[fields[13]] = quantity
        return (line, event, client_id, "minutes", quantity, at,
                stored if self.render_times else None)


# -- FreeSWITCH -------------------------------------------------------------------------------
class FreeSwitchParser(SourceParser):
    """mod_cdr_csv's `example` template (FREESWITCH_FIELDS)."""

    def parse(self, line: int, fields: list[str]) -> Row:
        if len(fields) != len(FREESWITCH_FIELDS):
            raise unreadable(fields, str(len(FREESWITCH_FIELDS)))
        seconds = seconds_of(fields[8], "billsec")
        if seconds == "0":
            raise Skipped(f"billsec 0 ({fields[9].strip() or 'no hangup cause'})")
        client_id = self.client(fields[12], "accountcode")
        event = self.event_id(fields[10], fields, (4, 5, 6))
        at, stored = self.times.read(fields[4])
        return (line, event, client_id, "minutes", self.book.minutes(client_id, at, seconds),
                at, stored if self.render_times else None)


# -- Twilio -----------------------------------------------------------------------------------
class TwilioParser(SourceParser):
    """Twilio's message log export: units = NumSegments, `failed` and `canceled` not billed,
    whatever the direction."""

    def __init__(self, columns: dict[str, int], width: int, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.width = width
        self.status, self.sent, self.segments, self.account, self.sid = (
            columns[name.lower()] for name in ("Status", "SentDate", "NumSegments",
                                               "AccountSid", "Sid"))

    def parse(self, line: int, fields: list[str]) -> Row:
        if len(fields) != self.width:
            raise unreadable(fields, str(self.width))
        status = fields[self.status].strip().lower()
        if status in ("failed", "canceled"):
            raise Skipped(f"not billed: {status}")
        segments = fields[self.segments].strip()
        if _is_zero(segments):
            raise Skipped("0 segments")
        quantity = usage_quantity(Resource.SMS, segments) if segments else None
        if quantity is None:
            raise InvalidValue("NumSegments: empty: the message has no segment count",
                               "NumSegments")
        client_id = self.client(fields[self.account], "AccountSid")
        event = self.event_id(fields[self.sid], fields, ())
        return self.row(line, event, client_id, "sms", quantity, fields[self.sent])


# -- any CSV, by a mapping --------------------------------------------------------------------
class MappingParser(SourceParser):
    """A saved mapping's columns, resolved against the file's header (or numbers)."""

    def __init__(self, mapping: SourceMapping, columns: dict[str, int], width: int,
                 *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.width = width
        self.unit = mapping.unit
        self.client_at = columns["client"]
        self.quantity_at = columns["quantity"]
        self.time_at = columns["time"]
        self.event_at = columns.get("event_id")
        self.resource_at = columns.get("resource_column")
        self.fixed = mapping.resource
        self.skips = [(columns[f"skip_if {i}"], value.casefold(), f"{column}={value}")
                      for i, (column, value) in enumerate(mapping.skip_if)]
        self.resources: dict[str, Resource] = {}

    def parse(self, line: int, fields: list[str]) -> Row:
        if len(fields) != self.width:
            raise unreadable(fields, str(self.width))
        for column, value, rule in self.skips:
            if fields[column].strip().casefold() == value:
                raise Skipped(f"skip-if {rule}")
        resource = self._resource(fields)
        text = fields[self.quantity_at].strip()
        if _is_zero(text):
            raise Skipped("quantity 0")
        if self.unit == "seconds":
            if resource is not Resource.MINUTES:
                raise InvalidValue(f"quantity: seconds are a unit of minutes, not of "
                                   f"{resource.value}", "quantity")
            seconds = seconds_of(text, "quantity")
            client_id = self.client(fields[self.client_at], "client")
            at, stored = self.times.read(fields[self.time_at])
            event = self._event(fields)
            return (line, event, client_id, resource.value,
                    self.book.minutes(client_id, at, seconds), at,
                    stored if self.render_times else None)
        quantity = usage_quantity(resource, text)
        client_id = self.client(fields[self.client_at], "client")
        return self.row(line, self._event(fields), client_id, resource.value, quantity,
                        fields[self.time_at])

    def _resource(self, fields: list[str]) -> Resource:
        if self.resource_at is None:
            return Resource(self.fixed or Resource.MINUTES.value)
        cell = fields[self.resource_at]
        found = self.resources.get(cell)
        if found is None:
            found = parse_resource(cell)
            if len(self.resources) < 100:
                self.resources[cell] = found
        return found

    def _event(self, fields: list[str]) -> str:
        raw = fields[self.event_at] if self.event_at is not None else ""
        return self.event_id(raw, fields, (self.time_at,))


# -- the formats --------------------------------------------------------------------------
def _context(desk: Desk) -> tuple[ClientFinder, IncrementsBook]:
    with desk.database.session(write=False) as session:
        return ClientFinder(session), IncrementsBook(session)


def _first_real(records: Iterator[Record]) -> tuple[Record | None, list[Record]]:
    """The first record that is neither blank nor unreadable, and every record read to find
    it (to be read again)."""
    seen: list[Record] = []
    for record in records:
        seen.append(record)
        fields = record[1]
        if fields and not (len(fields) == 1 and not fields[0].strip()) and \
                fields[0] not in _MARKERS:
            return record, seen
    return None, seen


class AsteriskFormat:
    name = "asterisk"
    widths: tuple[int, ...] = ASTERISK_WIDTHS
    delimiter = ","
    parser_class: type[SourceParser] = AsteriskParser
    field = "start"

    def start(self, desk: Desk, reader: UsageReader, render_times: bool
              ) -> tuple[LineParser, Iterator[Record]]:
        finder, book = _context(desk)
        times = SourceTimes(desk.timezone, self.field)
        parser = self.parser_class(finder, book, times, f"{self.name}:", render_times)
        return parser, iter(reader)  # type: ignore[return-value]


class FreeSwitchFormat(AsteriskFormat):
    name = "freeswitch"
    widths = (len(FREESWITCH_FIELDS),)
    parser_class = FreeSwitchParser
    field = "start_stamp"


def header_columns(first: Record | None, wanted: str) -> list[str]:
    """The header's cells, or a `UsageFileError` saying what header was expected."""
    if first is None:
        raise UsageFileError(f"file: the file is empty (expected the header {wanted})", "file")
    fields = first[1]
    if not fields or fields[0] in _MARKERS:
        raise UsageFileError(f"file: the first line is not a header (expected {wanted})",
                             "file")
    return [f.strip() for f in fields]


class TwilioFormat:
    name = "twilio-messages"
    widths = (len(TWILIO_HEADER),)
    delimiter = ","

    def start(self, desk: Desk, reader: UsageReader, render_times: bool
              ) -> tuple[LineParser, Iterator[Record]]:
        records = iter(reader)
        header = header_columns(next(records, None), ",".join(TWILIO_HEADER))
        columns = {cell.lower(): i for i, cell in reversed(list(enumerate(header)))}
        missing = [n for n in ("Status", "SentDate", "NumSegments", "AccountSid", "Sid")
                   if n.lower() not in columns]
        if missing:
            raise UsageFileError(f"file: the header has no {', '.join(missing)} column: a "
                                 "Twilio message log starts " + ",".join(TWILIO_HEADER),
                                 "file")
        reader.widths = (len(header),)
        finder, book = _context(desk)
        times = SourceTimes(desk.timezone, "SentDate", rfc2822=True)
        return TwilioParser(columns, len(header), finder, book, times, "twilio:",
                            render_times), records


class MappingFormat:
    """A saved mapping (or, in the import dialog's preview, one not saved yet)."""

    def __init__(self, mapping: SourceMapping) -> None:
        self.mapping = mapping
        self.name = mapping.name
        self.delimiter = mapping.delimiter
        self.widths: tuple[int, ...] = ()  # from the header or the first record

    def start(self, desk: Desk, reader: UsageReader, render_times: bool
              ) -> tuple[LineParser, Iterator[Record]]:
        mapping = self.mapping
        records = iter(reader)
        if mapping.header:
            header = header_columns(next(records, None), "a header naming the columns")
            width = len(header)
        else:
            first, seen = _first_real(records)
            header = []
            width = len(first[1]) if first is not None else 1
            records = chain(seen, records)
        reader.widths = (width,)
        columns = {field: column_index(column, field, header, width)
                   for field, column in (("client", mapping.client),
                                         ("quantity", mapping.quantity),
                                         ("time", mapping.time),
                                         ("event_id", mapping.event_id),
                                         ("resource_column", mapping.resource_column),
                                         *((f"skip_if {i}", rule[0]) for i, rule in
                                           enumerate(mapping.skip_if)))
                   if column is not None}
        finder, book = _context(desk)
        tz = ZoneInfo(mapping.timezone) if mapping.timezone else desk.timezone
        times = SourceTimes(tz, "time", mapping.time_format)
        return MappingParser(mapping, columns, width, finder, book, times, mapping.namespace,
                             render_times), records


def column_index(column: str, field: str, header: list[str], width: int) -> int:
    """A mapping's column (a header name, exactly then ignoring case, or a number from 1)."""
    if column in header:
        return header.index(column)
    folded = [cell.casefold() for cell in header]
    if column.casefold() in folded:
        return folded.index(column.casefold())
    if column.isascii() and column.isdigit():
        number = int(column)
        if 1 <= number <= width:
            return number - 1
        raise UsageFileError(f"file: {field} is column {number}, but the file has {width} "
                             "columns", "file")
    raise UsageFileError(f"file: {field}: the header has no column {column!r} (it has "
                         f"{', '.join(header)[:300]})", "file")


BUILT_IN_FORMATS: dict[str, type[AsteriskFormat] | type[TwilioFormat]] = {
    "asterisk": AsteriskFormat, "freeswitch": FreeSwitchFormat,
    "twilio-messages": TwilioFormat}


def source_format(desk: Desk, name: object) -> AsteriskFormat | TwilioFormat | MappingFormat:
    """A built-in format by its name, else a saved mapping (by name or id)."""
    text = str(name).strip()
    built_in = BUILT_IN_FORMATS.get(text.lower())
    if built_in is not None:
        return built_in()
    if text.lower() in BUILT_IN:  # quotadesk: the pipeline's own
        raise QuotaDeskError(f"format: {text} is not a source format", "format")
    return MappingFormat(find_source(desk, text))


__all__ = ["ASTERISK_WIDTHS", "BUILT_IN_FORMATS", "FREESWITCH_FIELDS", "TWILIO_HEADER",
           "MappingFormat", "column_index", "source_format"]
