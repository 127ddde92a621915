"""Bulk inserts for the hot paths (usage events, ledger entries): a million rows an import.

On SQLite the rows go straight to the driver's executemany in the exact storage format the
column types use, skipping per-row statement processing; elsewhere through SQLAlchemy Core.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Table, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from quotadesk.models.base import ExactDecimal, UTCDateTime
from quotadesk.services.rules.quantities import STORED_TEXT, stored_text_of

#: Statements recorded to run elsewhere (an import's writer process): SQL and its rows, in
#: SQLite's storage form, in the order they must run.
Recorded = list[tuple[str, list[tuple[Any, ...]]]]

def stored_time(moment: datetime) -> str:
    """A time in SQLite's storage form, as `UTCDateTime` stores it there (SQLAlchemy's
    DATETIME format: naive UTC with microseconds), so that comparisons in SQL agree with
    rows written through the ORM."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return utc.isoformat(" ", "microseconds")[:26]


def _sqlite_datetime_column() -> Callable[[datetime | None], str | None]:
    """A converter for one column of one bulk insert; it remembers its last value, since a
    batch repeats the same `recorded_at` on every row."""
    last: list[Any] = [None, None]

    def convert(value: datetime | None) -> str | None:
        if value is None:
            return None
        if value is not last[0]:
            if value.tzinfo is None:  # as UTCDateTime refuses it
                raise ValueError("naive datetime given to a UTC column")
            last[0], last[1] = value, stored_time(value)
        return last[1]  # type: ignore[no-any-return]

    return convert


def _kind(column_type: Any) -> str | None:
    if isinstance(column_type, ExactDecimal):
        return "decimal"
    if isinstance(column_type, UTCDateTime):
        return "datetime"
    if isinstance(column_type, Boolean):
        return "bool"
    if isinstance(column_type, Date):
        return "date"
    return None


RowConverter = Callable[[tuple[Any, ...]], tuple[Any, ...]]
_FACTORIES: dict[tuple[str | None, ...], Callable[..., RowConverter]] = {}


def _row_converter(kinds: tuple[str | None, ...]) -> RowConverter:
    """A function from a row of Python values to SQLite's storage format, compiled once per
    column layout: `(r[0], t1(r[1]), ...)`, with zeros, booleans and recent decimals
    converted inline (a million rows an import: no call per value where none is needed)."""
    factory = _FACTORIES.get(kinds)
    if factory is None:
        parts: list[str] = []
        for i, kind in enumerate(kinds):
            value = f"r[{i}]"
            if kind == "decimal":
                parts.append(f"(None if {value} is None else '0' if not {value} else "
                             f"(known({value}) or fresh({value})))")
            elif kind == "datetime":  # a str: already in storage form (resolver.stored_utc)
                parts.append(f"({value} if {value}.__class__ is str else t{i}({value}))")
            elif kind == "bool":
                parts.append(f"(None if {value} is None else 1 if {value} else 0)")
            elif kind == "date":  # SQLAlchemy's DATE on SQLite: ISO text
                parts.append(f"(None if {value} is None else {value}.isoformat())")
            else:
                parts.append(value)
        params = ", ".join(f"t{i}" for i, kind in enumerate(kinds) if kind == "datetime")
        factory = eval(f"lambda {params}: lambda r: ({', '.join(parts)},)",
                       {"known": STORED_TEXT.get, "fresh": stored_text_of})
        _FACTORIES[kinds] = factory
    return factory(*(_sqlite_datetime_column() for kind in kinds if kind == "datetime"))


def bulk_insert(session: Session, table: Table, columns: Sequence[str],
                rows: Sequence[tuple[Any, ...]], *, stored_form: bool = False,
                record: Recorded | None = None) -> None:
    """Insert `rows` (tuples in `columns` order, Python values) in one executemany. With
    `stored_form` (SQLite only), the values are already in SQLite's storage form. With
    `record` (SQLite only), the statement is appended there instead of run."""
    if not rows:
        return
    sql = _insert_sql(table, columns)
    if stored_form:
        _run_stored(session, sql, rows if isinstance(rows, list) else list(rows), record)
        return
    if session.get_bind().dialect.name != "sqlite":
        assert record is None
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    convert = _row_converter(tuple(_kind(table.c[name].type) for name in columns))
    _run_stored(session, sql, list(map(convert, rows)), record)


def _run_stored(session: Session, sql: str, rows: list[tuple[Any, ...]],
                record: Recorded | None) -> None:
    assert session.get_bind().dialect.name == "sqlite"
    if record is None:
        session.connection().exec_driver_sql(sql, rows)
    else:
        record.append((sql, rows))


def _insert_sql(table: Table, columns: Sequence[str]) -> str:
    names = ", ".join(f'"{name}"' for name in columns)  # "end", "key": keywords
    return f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"


def bulk_update(session: Session, table: Table, columns: Sequence[str], keys: Sequence[str],
                rows: Sequence[tuple[Any, ...]], *, record: Recorded | None = None) -> None:
    """`UPDATE table SET columns WHERE keys` for each row, in order: tuples of the new values
    in `columns` order, then the keys in `keys` order, in one executemany (with `record`,
    SQLite only, appended there instead of run)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        assert record is None
        names = [*columns, *(f"b_{key}" for key in keys)]
        statement = update(table).where(and_(*(table.c[key] == bindparam(f"b_{key}")
                                               for key in keys)))
        session.execute(statement.values({c: bindparam(c) for c in columns}),
                        [dict(zip(names, row, strict=True)) for row in rows])
        return
    layout = [*columns, *keys]
    convert = _row_converter(tuple(_kind(table.c[name].type) for name in layout))
    assignments = ", ".join(f'"{name}" = ?' for name in columns)  # "end" is a keyword
    conditions = " AND ".join(f'"{name}" = ?' for name in keys)
    sql = f"UPDATE {table.name} SET {assignments} WHERE {conditions}"
    _run_stored(session, sql, list(map(convert, rows)), record)


#: Bound parameters per lookup query: SQLite has allowed 32,766 since 3.32 (999 before).
LOOKUP_CHUNK = 5000 if sqlite3.sqlite_version_info >= (3, 32) else 900


def existing(session: Session, column: Any, values: Sequence[Any]) -> set[Any]:
    """Which of `values` are already in `column` (one query per few thousand values)."""
    found: set[Any] = set()
    sqlite = session.get_bind().dialect.name == "sqlite"
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start:start + LOOKUP_CHUNK]
        if sqlite:
            sql = (f"SELECT {column.name} FROM {column.table.name} "
                   f"WHERE {column.name} IN ({', '.join('?' * len(chunk))})")
            found.update(value for (value,) in
                         session.connection().exec_driver_sql(sql, tuple(chunk)))
        else:
            found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found
