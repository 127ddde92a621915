"""Saved mappings (SPEC §11): which columns of another platform's CSV hold what."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from quotadesk.models import UsageSource
from quotadesk.services.errors import DuplicateName, InvalidValue, NotFound, echo
from quotadesk.services.references import clean_name, clean_text, name_key, resolve_ref
from quotadesk.services.rules.quantities import Resource, parse_resource
from quotadesk.services.unit_of_work import Tx, read_op, write_op

#: The formats QuotaDesk reads itself: no mapping takes one of these names.
BUILT_IN = ("quotadesk", "asterisk", "freeswitch", "twilio-messages")
UNITS = ("seconds", "minutes", "units")
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


@dataclass(frozen=True)
class SourceMapping:
    """A mapping's settings, checked. Columns are header names or 1-based numbers, as given."""

    name: str
    client: str
    quantity: str
    time: str
    resource: str | None = "minutes"  # None: read from `resource_column`
    resource_column: str | None = None
    unit: str = "units"  # seconds (minutes, with the plan's increments), minutes or units
    event_id: str | None = None
    header: bool = True
    delimiter: str = ","
    time_format: str | None = None
    timezone: str | None = None  # None: the database's
    skip_if: tuple[tuple[str, str], ...] = ()
    id: int | None = None  # None: not saved

    @property
    def namespace(self) -> str:
        """What keeps this mapping's event ids apart from every other source's."""
        return f"source-{self.id if self.id is not None else 'new'}:"


def _column(value: object, field: str, header: bool) -> str:
    text = clean_text(value if value is not None else "", field, 200)
    if not text:
        raise InvalidValue(f"{field}: give a column (a header name or a number from 1)", field)
    if text.isascii() and text.isdigit():
        if int(text) < 1:
            raise InvalidValue(f"{field}: column numbers start at 1", field)
        return str(int(text))
    if not header:
        raise InvalidValue(f"{field}: {echo(text)}: a file without a header names its columns "
                           "by number (from 1)", field)
    return text


def _optional_column(value: object, field: str, header: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _column(value, field, header)


def parse_delimiter(value: object) -> str:
    text = "," if value is None else str(value)
    text = DELIMITER_NAMES.get(text.strip().lower(), text)
    if len(text) != 1 or text in ('"', "\r", "\n") or text.isalnum():
        raise InvalidValue(f"delimiter: {echo(value)} is not one character (e.g. ; or tab)",
                           "delimiter")
    return text


def parse_yes_no(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "on", "true", "1"):
        return True
    if text in ("no", "off", "false", "0"):
        return False
    raise InvalidValue(f"{field}: use yes or no, not {echo(value)}", field)


def parse_timezone(value: object) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(f"timezone: unknown time zone {echo(text)} (an IANA name such as "
                           "Europe/Paris)", "timezone") from None
    return text


def parse_time_format(value: object) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = clean_text(value, "time_format", 200)
    if "%" not in text:
        raise InvalidValue(f"time_format: {echo(text)} is not a strftime format (e.g. "
                           "%d/%m/%Y %H:%M:%S)", "time_format")
    return text


def parse_skip_if(values: Sequence[object] | None, header: bool) -> tuple[tuple[str, str], ...]:
    rules = []
    for value in values or ():
        if isinstance(value, (tuple, list)) and len(value) == 2:
            column, expected = value
        else:
            column, sep, expected = str(value).partition("=")
            if not sep:
                raise InvalidValue(f"skip_if: {echo(value)} is not COL=VALUE", "skip_if")
        rules.append((_column(column, "skip_if", header), str(expected).strip()))
    return tuple(rules)


def check_mapping(*, name: object, client: object, quantity: object, time: object,
                  resource: object = None, resource_column: object = None,
                  unit: object = None, event_id: object = None, header: object = True,
                  delimiter: object = ",", time_format: object = None, timezone: object = None,
                  skip_if: Sequence[object] | None = None) -> SourceMapping:
    """A mapping's settings as given (on the command line or in the import dialog), checked."""
    clean = clean_name(name)
    if clean.strip().lower() in BUILT_IN:
        raise InvalidValue(f"name: {clean!r} is a built-in format", "name")
    has_header = parse_yes_no(header, "header")
    if resource is not None and str(resource).strip() and resource_column is not None and \
            str(resource_column).strip():
        raise InvalidValue("resource: give --resource or --resource-column, not both",
                           "resource")
    column = _optional_column(resource_column, "resource_column", has_header)
    fixed = None if column is not None else parse_resource(
        resource if resource is not None and str(resource).strip() else "minutes").value
    unit_text = str(unit).strip().lower() if unit is not None and str(unit).strip() else \
        ("seconds" if fixed == Resource.MINUTES.value else "units")
    if unit_text not in UNITS:
        raise InvalidValue(f"unit: use seconds, minutes or units, not {echo(unit)}", "unit")
    if fixed is not None and fixed != Resource.MINUTES.value and unit_text != "units":
        raise InvalidValue(f"unit: {unit_text} is a unit of minutes, not of {fixed}", "unit")
    return SourceMapping(
        name=clean, client=_column(client, "client", has_header),
        quantity=_column(quantity, "quantity", has_header),
        time=_column(time, "time", has_header), resource=fixed, resource_column=column,
        unit=unit_text, event_id=_optional_column(event_id, "event_id", has_header),
        header=has_header, delimiter=parse_delimiter(delimiter),
        time_format=parse_time_format(time_format), timezone=parse_timezone(timezone),
        skip_if=parse_skip_if(skip_if, has_header))


def mapping_of(row: UsageSource) -> SourceMapping:
    return SourceMapping(
        id=row.id, name=row.name, client=row.client_column, quantity=row.quantity_column,
        time=row.time_column, resource=row.resource, resource_column=row.resource_column,
        unit=row.unit, event_id=row.event_id_column, header=row.header,
        delimiter=row.delimiter, time_format=row.time_format, timezone=row.timezone,
        skip_if=tuple((str(c), str(v)) for c, v in json.loads(row.skip_if or "[]")))


@write_op
def add_source(tx: Tx, /, **settings: object) -> SourceMapping:
    """Save a mapping (`source add`): the keywords of `check_mapping`."""
    mapping = check_mapping(**settings)  # type: ignore[arg-type]
    key = name_key(mapping.name)
    if tx.session.scalars(select(UsageSource).where(UsageSource.name_key == key)).first():
        raise DuplicateName(f"name: a mapping named {mapping.name!r} already exists", "name")
    row = UsageSource(
        name=mapping.name, name_key=key, client_column=mapping.client,
        quantity_column=mapping.quantity, time_column=mapping.time,
        resource=mapping.resource, resource_column=mapping.resource_column, unit=mapping.unit,
        event_id_column=mapping.event_id, header=mapping.header, delimiter=mapping.delimiter,
        time_format=mapping.time_format, timezone=mapping.timezone,
        skip_if=json.dumps([list(rule) for rule in mapping.skip_if], ensure_ascii=False),
        created_at=tx.now)
    tx.session.add(row)
    tx.session.flush()
    tx.audit("source.add", "source", row.id, name=mapping.name)
    return mapping_of(row)


@read_op
def list_sources(tx: Tx) -> list[SourceMapping]:
    return [mapping_of(row) for row in tx.session.scalars(
        select(UsageSource).order_by(UsageSource.name_key))]


@read_op
def find_source(tx: Tx, name: object) -> SourceMapping:
    """A mapping by name (exactly, then ignoring case) or id, as other names are found."""
    session = tx.session

    def by_key(key: str) -> UsageSource | None:
        return session.scalars(select(UsageSource).where(UsageSource.name_key == key)).first()

    try:
        row = resolve_ref(
            name, "format",
            lambda text: session.scalars(select(UsageSource).where(
                UsageSource.name == text)).first(), by_key,
            lambda number: session.get(UsageSource, number))
    except NotFound:
        raise NotFound(f"format: unknown format {str(name)[:80]!r} (use quotadesk, asterisk, "
                       "freeswitch, twilio-messages or a mapping saved with `source add`)",
                       "format") from None
    return mapping_of(row)


__all__ = ["BUILT_IN", "SourceMapping", "add_source", "check_mapping", "find_source",
           "list_sources", "mapping_of"]
