"""Recording usage: one event from the window or CLI; a whole CSV export through usage_import."""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from typing import Any

from sqlalchemy import select

from quotadesk.models import Client, UsageEvent
from quotadesk.services.account_store import PendingWrites, load_accounts
from quotadesk.services.references import find
from quotadesk.services.results import ImportResult, UsageResult
from quotadesk.services.rules.quantities import Resource
from quotadesk.services.unit_of_work import Desk, Tx, write_op
from quotadesk.services.usage_import.pipeline import (
    BATCH_SIZE,
    HEADER,
    ImportStopped,
)
from quotadesk.services.usage_import.pipeline import import_usage as import_usage_batches
from quotadesk.services.usage_import.reader import UsageFileError
from quotadesk.services.usage_import.resolver import UsageResolver, parse_time


@write_op
def record_usage(tx: Tx, *, client: object, resource: object, quantity: object,
                 at: datetime | str | None = None, event_id: object = None) -> UsageResult:
    """Record one usage event; a repeated event id is a duplicate and changes nothing."""
    session = tx.session
    resolver = UsageResolver(tx.tz, lambda ref: find(session, Client, ref).id)
    key, client_id, res, qty, moment, _stored = resolver.resolve(
        client, resource, quantity, at, event_id, "at", now=tx.now)
    if key is not None and session.scalar(
            select(UsageEvent.id).where(UsageEvent.event_id == key)) is not None:
        return UsageResult(id=None, duplicate=True)
    journal = PendingWrites(tx)
    book = load_accounts(journal, [client_id])[client_id]
    book.catch_up(tx.now)
    split = book.consume(res, qty, moment, key)
    period = book.period
    assert period is not None
    event_row_id = book.last_event_id
    journal.flush()
    tx.audit("usage.record", "client", client_id, resource=res, quantity=qty,
             event_id=key, at=moment.isoformat())
    return UsageResult(id=event_row_id, duplicate=False, included=split.included,
                       wallet=split.wallet, overage_units=split.overage_units,
                       overage_amount=split.overage_amount, unserved=split.unserved,
                       late=moment < period.start, blocked=book.blocked[res])


def import_usage(desk: Desk, source: Any, **options: Any) -> ImportResult:
    """Import a usage file (usage_import.pipeline.import_usage), then record the whole import
    as one audit entry (SPEC §12), about the clients whose events it recorded."""
    from quotadesk.services import audit

    before = audit.last_event_row(desk)
    try:
        result = import_usage_batches(desk, source, **options)
    except ImportStopped as stop:
        with contextlib.suppress(Exception):  # the database that stopped it may refuse this
            _audit_import(desk, source, stop.result, before)
        raise
    _audit_import(desk, source, result, before)
    return result


def _audit_import(desk: Desk, source: Any, result: ImportResult, before: int) -> None:
    from quotadesk.services import audit

    if not result.recorded:
        return  # nothing was written
    name = os.path.basename(os.fspath(source)) if isinstance(source, (str, os.PathLike)) \
        else None
    audit.record_import(desk, before, {
        "file": name, "recorded": result.recorded, "duplicates": result.duplicates,
        "rejected": len(result.rejected), "stopped": result.stopped,
        "cancelled": result.cancelled})


__all__ = ["BATCH_SIZE", "HEADER", "ImportStopped", "Resource", "UsageFileError", "import_usage",
           "parse_time", "record_usage"]
