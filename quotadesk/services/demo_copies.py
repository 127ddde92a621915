"""A big demo agency from a small walked one: each further client is a copy of a template
client (the engine made its rows) under its own name, written with one INSERT … SELECT per
table, so that 100,000 clients take seconds instead of the hours a walk would.

Which tables hold a client's rows is read from the schema, not listed here: a table is copied
when it refers (by foreign key) to the clients or to another copied table; ids move by a
fixed offset per copy; a required unique text key of a copied row gets the copy's number (an
optional one, a usage event's id, is left empty) and a unique count moves past the
templates' (invoices are then numbered again, gapless, in the order they were made). So a
table added later is copied without changing this module. The audit log and the outbox are
not copied (copies have no history of their own, and no mail is owed to them).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    Table,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from quotadesk.models import Base, Client, PaymentRequest
from quotadesk.models.base import table_of
from quotadesk.services.references import name_key
from quotadesk.services.unit_of_work import Desk, Tx, write_op

#: Tables never copied, and so neither are the tables that refer to them.
NOT_COPIED = frozenset({"audit_log", "email_outbox"})
#: Copies written per statement round (bounds a transaction's size at 100,000 clients).
ROUND = 500

COMPANIES = [
    "Northwind Traders", "Bluebird Dental", "Harbor & Pine Realty", "Kessler Auto Group",
    "Lumen Fitness", "Café Mirabelle", "Orbit Logistics", "Greenleaf Landscaping",
    "Summit Insurance Brokers", "Atlas Plumbing", "Brightside Tutors", "Cobalt IT Services",
    "Driftwood Surf School", "Elm Street Veterinary", "Foxglove Florists", "Granite Legal LLP",
    "Helios Solar", "Ivy League Admissions", "Juniper Spa", "Keystone Roofing",
    "Lighthouse Charity", "Maple & Co Bakery", "Nimbus Travel", "Oakridge Clinic",
    "Pinnacle Realty", "Quayside Marina", "Riverbend Pharmacy", "Saffron Kitchen",
    "Tidewater Boats", "Umbra Studios", "Vantage Recruiting", "Willow Care Homes",
    "Xenon Labs", "Yellowstone Tours", "Zephyr Cycles", "Ångström Optics", "Brasserie Zoë",
    "São Paulo Imports", "Müller Haustechnik", "Łódź Textiles",
]
FIRST = [
    "Northwind", "Bluebird", "Harbor", "Kessler", "Lumen", "Mirabelle", "Orbit", "Greenleaf",
    "Summit", "Atlas", "Brightside", "Cobalt", "Driftwood", "Elm Street", "Foxglove",
    "Granite", "Helios", "Ivy", "Juniper", "Keystone", "Lighthouse", "Maple", "Nimbus",
    "Oakridge", "Pinnacle", "Quayside", "Riverbend", "Saffron", "Tidewater", "Umbra",
    "Vantage", "Willow", "Xenon", "Yellowstone", "Zephyr", "Ångström", "Zoë", "São Paulo",
    "Müller", "Łódź", "Copperfield", "Redwood", "Silverline", "Bayview", "Crescent",
    "Evergreen", "Falcon", "Golden Gate", "Highland", "Ironwood", "Jasper", "Kingfisher",
    "Lakeside", "Meadowbrook", "Northstar", "Oceanic", "Prairie", "Quartz", "Rosewood",
    "Sterling", "Thornbury", "Unity", "Westbrook", "Yorkshire", "Zenith", "Aurora", "Beacon",
    "Cedar", "Delta", "Emerald", "Fairview", "Gateway", "Horizon", "Island", "Jubilee",
    "Kensington", "Liberty", "Magnolia", "Nova", "Olympus", "Phoenix", "Regent", "Sapphire",
    "Trinity", "Victoria", "Wren", "Čapek", "Øresund", "Élan", "Ñandú",
]
TRADES = [
    "Plumbing", "Dental", "Realty", "Auto Group", "Fitness", "Logistics", "Landscaping",
    "Insurance Brokers", "Tutors", "IT Services", "Veterinary", "Florists", "Legal",
    "Solar", "Spa", "Roofing", "Bakery", "Travel", "Clinic", "Marina", "Pharmacy",
    "Kitchen", "Boats", "Studios", "Recruiting", "Care Homes", "Labs", "Tours", "Cycles",
    "Optics", "Imports", "Textiles", "Electrical", "Accountants", "Architects", "Catering",
    "Cleaning", "Consulting", "Opticians", "Physiotherapy", "Storage", "Print Shop",
    "Removals", "Hair Salon", "Garden Centre", "Pet Grooming", "Driving School", "Brewery",
    "Coffee Roasters", "Wine Bar",
]
FORMS = ["", " Ltd", " & Co", " Group", " LLC", " Partners", " GmbH", " & Sons"]
BRANCHES = ["", " North", " South", " East", " West", " Central", " City", " Harbourside"]


def demo_names(count: int) -> list[str]:
    """`count` distinct company names: the seeds' forty first, then believable others."""
    names = COMPANIES[:count]
    taken = {name_key(n) for n in names}
    for candidate in _generated():
        if len(names) >= count:
            break
        if name_key(candidate) not in taken:
            taken.add(name_key(candidate))
            names.append(candidate)
    return names


def _generated() -> Iterator[str]:
    rng = random.Random(4711)
    for branch, form in itertools.product(BRANCHES, FORMS):
        combos = [f"{first} {trade}{form}{branch}" for first in FIRST for trade in TRADES]
        rng.shuffle(combos)
        yield from combos


def email_for(name: str) -> str:
    slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:24] or "client"
    return f"billing@{slug}.example"


def copy_clients(desk: Desk, names: list[str], templates: int) -> int:
    """Add a client per name, each a copy of template client `i % templates` (by id order)."""
    spans = _spans(desk)
    done = 0
    for first in range(0, len(names), ROUND * templates):
        done += _copy_round(desk, names[first:first + ROUND * templates], templates, first,
                            spans)
    _advance_sequences(desk)
    _renumber_invoices(desk)
    return done


def copied_tables() -> list[Table]:
    """The tables holding a client's rows, parents first (from the schema's foreign keys)."""
    copied: dict[str, Table] = {}
    skipped = set(NOT_COPIED)
    for table in Base.metadata.sorted_tables:
        if table.name == "clients" or table.name in NOT_COPIED:
            continue
        targets = {fk.column.table.name for fk in table.foreign_keys}
        if targets & skipped:
            skipped.add(table.name)
        elif targets & (set(copied) | {"clients"}):
            copied[table.name] = table
    return list(copied.values())


@write_op
def _spans(tx: Tx) -> dict[str, int]:
    """Each copied table's largest id before any copy: a copy's ids move by whole spans."""
    spans = {"clients": _max_id(tx, table_of(Client))}
    for table in copied_tables():
        if "id" in table.c:
            spans[table.name] = _max_id(tx, table)
        for column in _unique_counters(table):  # (an invoice's place in the count)
            spans[f"{table.name}.{column.name}"] = int(
                tx.session.execute(select(func.max(column))).scalar() or 0)
    return spans


def _unique_counters(table: Table) -> list[Any]:
    """Whole-number columns unique on their own that are neither ids nor references."""
    return [column for column in table.c if isinstance(column.type, Integer)
            and not column.primary_key and not column.foreign_keys
            and any(unique == {column.name} for unique in _unique_sets(table))]


@write_op
def _copy_round(tx: Tx, names: list[str], templates: int, offset: int,
                spans: dict[str, int]) -> int:
    """Copies `offset` … `offset + len(names) - 1` (0-based among the copies)."""
    session = tx.session
    clients = table_of(Client)
    template_rows = session.execute(select(
        clients.c.id, clients.c.email, clients.c.created_at).order_by(clients.c.id)).all()[
        :templates]
    first_id = template_rows[0].id
    if [r.id for r in template_rows] != list(range(first_id, first_id + templates)):
        raise AssertionError("demo templates must have consecutive ids")
    tables = copied_tables()
    # Copy n (0-based) of template t gets client id t_id + (n // templates + 1) * span: each
    # round of `templates` copies moves every id by one more span of its table.
    rows = []
    for n, name in enumerate(names, start=offset):
        template = template_rows[n % templates]
        rows.append({"id": template.id + (n // templates + 1) * spans["clients"], "name": name,
                     "name_key": name_key(name), "email": email_for(name),
                     "created_at": template.created_at})
    session.execute(insert(clients), rows)
    rounds = (offset // templates + 1, (offset + len(names) - 1) // templates + 1)
    last = offset + len(names)  # copies numbered at or beyond this are not made
    for table in tables:
        _copy_table(tx, table, spans, first_id, templates, rounds, last)
    return len(names)


def _copy_table(tx: Tx, table: Table, spans: dict[str, int], first_id: int, templates: int,
                rounds: tuple[int, int], last: int) -> None:
    k = select(literal(rounds[0], Integer).label("k")).cte("k", recursive=True)
    k = k.union_all(select((k.c.k + 1).label("k")).where(k.c.k < rounds[1]))
    shifted: set[str] = set()
    values: list[ColumnElement[Any]] = []
    # The templates' rows only: every id and reference within the span before the copies
    # (a range on an index, so later rounds do not scan the copies already made).
    source: list[ColumnElement[bool]] = []
    for column in table.c:
        target = None
        if column.primary_key and column.name == "id":
            target = table.name
        else:
            for fk in column.foreign_keys:
                if fk.column.table.name in spans:
                    target = fk.column.table.name
        if target is not None:
            shifted.add(column.name)
            source.append(column <= spans[target] if not column.nullable else
                          or_(column.is_(None), column <= spans[target]))
            values.append((column + k.c.k * spans[target]).label(column.name))
        else:
            values.append(column)
    for unique in _unique_sets(table):
        if not unique & shifted:
            for i, column in enumerate(table.c):
                if column.name in unique and isinstance(column.type, String):
                    # An optional key (a usage event's id) is left out; a required one (a
                    # pack application's idempotency key) gets the copy's number.
                    values[i] = (null() if column.nullable else
                                 column + "~" + cast(k.c.k, String)).label(column.name)
    for column in _unique_counters(table):
        values[list(table.c).index(column)] = (
            column + k.c.k * spans[f"{table.name}.{column.name}"]).label(column.name)
    owner = _client_of(table)
    # The n-th copy: n = (k - 1) * templates + (client ordinal); keep those below `last`.
    ordinal = owner - first_id
    query = select(*values).select_from(table).join(k, true()).where(
        *source, (k.c.k - 1) * templates + ordinal < last)
    tx.session.execute(insert(table).from_select([c.name for c in table.c], query))


def _client_of(table: Table) -> ColumnElement[int]:
    """The id of the client a row of `table` belongs to (through its parents if need be)."""
    if "client_id" in table.c:
        return table.c.client_id
    for column in table.c:
        for fk in column.foreign_keys:
            parent = fk.column.table
            if parent.name != "clients" and ("client_id" in parent.c):
                return select(parent.c.client_id).where(
                    fk.column == column).scalar_subquery()
    raise AssertionError(f"no way from {table.name} to its client")


def _unique_sets(table: Table) -> list[set[str]]:
    sets = [{c.name for c in table.primary_key.columns}]
    for constraint in table.constraints:
        columns = getattr(constraint, "columns", None)
        if columns is not None and type(constraint).__name__ == "UniqueConstraint":
            sets.append({c.name for c in columns})
    sets += [{c.name for c in index.columns} for index in table.indexes if index.unique]
    sets += [{c.name} for c in table.c if c.unique]
    return sets


def _max_id(tx: Tx, table: Table) -> int:
    return int(tx.session.execute(select(func.max(table.c.id))).scalar() or 0)


@write_op
def _renumber_invoices(tx: Tx) -> None:
    """Every payment request is an invoice numbered 1, 2, 3 … without gap: the copies'
    requests are numbered with the templates' in the order they were made."""
    requests = table_of(PaymentRequest)
    if "invoice_seq" not in requests.c:
        return
    from quotadesk.services.rules.tax import NUMBER_DIGITS

    session = tx.session
    # The prefix in force (every demo invoice has it): what precedes the digits.
    prefix = re.sub(r"\d+$", "", session.execute(select(requests.c.invoice_number).limit(1))
                    .scalar() or "")
    seq = requests.c.invoice_seq
    session.execute(update(requests).values(invoice_seq=-seq))  # out of each other's way
    order = select(requests.c.id, func.row_number().over(
        order_by=(requests.c.created_at, requests.c.id)).label("n")).subquery()
    printed: ColumnElement[Any]
    if session.get_bind().dialect.name == "sqlite":
        printed = func.printf("%s%0" + str(NUMBER_DIGITS) + "d", prefix, order.c.n)
    else:
        printed = literal(prefix) + func.lpad(cast(order.c.n, String), NUMBER_DIGITS, "0")
    session.execute(update(requests).values(invoice_seq=order.c.n, invoice_number=printed)
                    .where(requests.c.id == order.c.id))


@write_op
def _advance_sequences(tx: Tx) -> None:
    """PostgreSQL hands out ids from sequences: move them past the copies' explicit ids."""
    session = tx.session
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in [table_of(Client), *copied_tables()]:
        if "id" in table.c:
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"))
