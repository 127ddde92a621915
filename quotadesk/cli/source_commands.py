"""Usage sources: `source add|list`, `client identify|unidentify` (SPEC §11)."""

from __future__ import annotations

import argparse
from typing import Any

from quotadesk.cli.output import Output
from quotadesk.services.unit_of_work import Desk
from quotadesk.services.usage_sources import identifiers, mappings
from quotadesk.services.usage_sources.mappings import SourceMapping


def register(command: Any, group: Any) -> None:
    """Add this module's commands: `command(name, handler, help, parent)` returns an argparse
    parser; `group(name, help)` makes a command with actions and returns its `parent`."""
    source = group("source", "mappings of other platforms' CSV files: add, list")
    p = command("add", cmd_source_add, "save a mapping: which columns hold the client, "
                "quantity and time (COL: a header name or a column number from 1)", source)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--client", required=True, metavar="COL",
                   help="the column naming the client (by identifier, else by name)")
    p.add_argument("--quantity", required=True, metavar="COL")
    p.add_argument("--time", required=True, metavar="COL")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--resource", metavar="RES", help="minutes (default), sms or email")
    which.add_argument("--resource-column", metavar="COL",
                       help="the column naming each record's resource")
    p.add_argument("--unit", metavar="seconds|minutes|units",
                   help="what the quantity counts (default: seconds for minutes, with the "
                        "plan's billing increments; units otherwise)")
    p.add_argument("--event-id", metavar="COL",
                   help="the column with the record's id (default: a digest of the record)")
    p.add_argument("--header", default="yes", metavar="yes|no",
                   help="the file starts with a header line (default yes)")
    p.add_argument("--delimiter", default=",", metavar="CHAR",
                   help="the field separator (default , ; `tab` for a tab)")
    p.add_argument("--time-format", metavar="STRFTIME",
                   help="e.g. %%d/%%m/%%Y %%H:%%M (default: ISO 8601 or YYYY-MM-DD HH:MM:SS)")
    p.add_argument("--timezone", metavar="ZONE",
                   help="the zone of times without an offset (default: the database's)")
    p.add_argument("--skip-if", nargs="+", action="extend", metavar="COL=VALUE",
                   help="skip a record (not billable) when any of these matches, ignoring "
                        "case (may be repeated)")
    command("list", cmd_source_list, "list the saved mappings", source)


def register_client_actions(command: Any, clients: Any) -> None:
    """`client identify` and `client unidentify`, under the `client` command."""
    p = command("identify", cmd_client_identify, "give a client identifiers that usage "
                "sources know it by (an accountcode, a caller number, an AccountSid)", clients)
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("identifiers", nargs="+", metavar="IDENT")
    p = command("unidentify", cmd_client_unidentify, "take an identifier from a client",
                clients)
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("identifier", metavar="IDENT")


def source_json(m: SourceMapping) -> dict[str, Any]:
    return {"id": m.id, "name": m.name, "client": m.client, "quantity": m.quantity,
            "time": m.time, "resource": m.resource, "resource_column": m.resource_column,
            "unit": m.unit, "event_id": m.event_id, "header": m.header,
            "delimiter": m.delimiter, "time_format": m.time_format, "timezone": m.timezone,
            "skip_if": [f"{column}={value}" for column, value in m.skip_if]}


def source_line(m: SourceMapping) -> str:
    resource = m.resource or f"column {m.resource_column}"
    parts = [f"{m.id:>4}  {m.name}  client {m.client}, quantity {m.quantity} ({m.unit}), "
             f"time {m.time}, resource {resource}"]
    if m.event_id:
        parts.append(f"event id {m.event_id}")
    if not m.header:
        parts.append("no header")
    if m.delimiter != ",":
        parts.append(f"delimiter {'tab' if m.delimiter == chr(9) else m.delimiter}")
    if m.time_format:
        parts.append(f"time format {m.time_format}")
    if m.timezone:
        parts.append(f"zone {m.timezone}")
    if m.skip_if:
        parts.append("skip if " + " or ".join(f"{c}={v}" for c, v in m.skip_if))
    return ", ".join(parts)


def cmd_source_add(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    m = mappings.add_source(
        desk, name=args.name, client=args.client, quantity=args.quantity, time=args.time,
        resource=args.resource, resource_column=args.resource_column, unit=args.unit,
        event_id=args.event_id, header=args.header, delimiter=args.delimiter,
        time_format=args.time_format, timezone=args.timezone, skip_if=args.skip_if)
    out.emit(source_json(m), [f"Mapping saved: {source_line(m)}",
                              f"Import with: quotadesk import-usage FILE --format {m.name!r}"
                              if " " in m.name else
                              f"Import with: quotadesk import-usage FILE --format {m.name}"])


def cmd_source_list(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = mappings.list_sources(desk)
    out.emit([source_json(m) for m in rows], lambda: [source_line(m) for m in rows]
             or ["No mappings yet (built-in formats: asterisk, freeswitch, twilio-messages)."])


def cmd_client_identify(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    found = identifiers.identify_client(desk, client=args.client, identifiers=args.identifiers)
    out.emit({"client": args.client, "identifiers": list(found)},
             [f"Identifiers: {', '.join(found)}"])


def cmd_client_unidentify(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    found = identifiers.unidentify_client(desk, client=args.client, identifier=args.identifier)
    out.emit({"client": args.client, "identifiers": list(found)},
             [f"Identifiers: {', '.join(found) or 'none'}"])
