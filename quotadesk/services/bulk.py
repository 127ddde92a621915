"""Bulk inserts for the hot paths (usage events, ledger entries): a million rows an import.

On SQLite the rows go straight to the driver's executemany in the exact storage format the
column types use, skipping per-row statement processing; elsewhere through SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Table, insert
from sqlalchemy.orm import Session

from quotadesk.models.base import ExactDecimal, UTCDateTime, decimal_to_text


def _sqlite_decimal(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if not value:
        return "0"
    return decimal_to_text(value)


def _sqlite_datetime_column() -> Callable[[datetime | None], str | None]:
    """A converter for one column of one bulk insert; it remembers its last value, since a
    batch repeats the same `recorded_at` on every row."""
    last: list[Any] = [None, None]

    def convert(value: datetime | None) -> str | None:
        if value is None:
            return None
        if value is last[0]:
            return last[1]  # type: ignore[no-any-return]
        moment = value if value.tzinfo is UTC else value.astimezone(UTC)
        # SQLAlchemy's SQLite DATETIME storage format (naive UTC, microseconds), so that
        # comparisons in SQL agree with rows written through the ORM.
        text = moment.isoformat(" ", "microseconds")[:26]
        last[0], last[1] = value, text
        return text

    return convert


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


Converter = Callable[[Any], Any] | None


def _converter(column_type: Any) -> Converter:
    if isinstance(column_type, ExactDecimal):
        return _sqlite_decimal
    if isinstance(column_type, UTCDateTime):
        return _sqlite_datetime_column()
    if isinstance(column_type, Boolean):
        return _sqlite_bool
    return None


_ROW_CONVERTERS: dict[tuple[Converter, ...], Callable[[tuple[Any, ...]], tuple[Any, ...]]] = {}


def _row_converter(converters: tuple[Converter, ...]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """One compiled function per column layout: `(r[0], c1(r[1]), ...)` with no per-value loop."""
    cached = _ROW_CONVERTERS.get(converters)
    if cached is None:
        names = {f"c{i}": conv for i, conv in enumerate(converters) if conv is not None}
        parts = [f"c{i}(r[{i}])" if conv is not None else f"r[{i}]"
                 for i, conv in enumerate(converters)]
        cached = eval(f"lambda r: ({', '.join(parts)},)", names)
        _ROW_CONVERTERS[converters] = cached
    return cached


def bulk_insert(session: Session, table: Table, columns: Sequence[str],
                rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert `rows` (tuples in `columns` order, Python values) in one executemany."""
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    convert = _row_converter(tuple(_converter(table.c[name].type) for name in columns))
    prepared = list(map(convert, rows))
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
           f"VALUES ({', '.join('?' * len(columns))})")
    session.connection().exec_driver_sql(sql, prepared)
