"""Invoice numbers (SPEC §10): one gapless count per database, taken by the transaction
that creates the request, so a rollback gives its numbers back.

The count is the highest `invoice_seq` stored plus one. On SQLite the writing transaction
holds the database's write lock (BEGIN IMMEDIATE), so nobody else can take the same number;
the next numbers of the same transaction are counted on in `session.info["id_marks"]`, which
a pipelined import carries from one batch to the next exactly as it carries row ids. On
PostgreSQL a transaction-scoped advisory lock queues the desks that create requests: under
READ COMMITTED the maximum read after the lock is granted includes the previous holder's
committed rows, and a rolled-back holder leaves no number behind. (A sequence would be
faster and leave gaps after every rollback; the unique constraint on `invoice_seq` is the
last guard either way.)
"""

from __future__ import annotations

from sqlalchemy import func, select, text

from quotadesk.models import PaymentRequest
from quotadesk.services.unit_of_work import Tx

MARK = "payment_requests.invoice_seq"
#: The advisory lock that queues invoice numbering on PostgreSQL ("QDIN").
LOCK_KEY = 0x5144494E


def next_invoice_seq(tx: Tx) -> int:
    """The next number of the count, for a request this transaction inserts."""
    session = tx.session
    marks: dict[str, int] = session.info.setdefault("id_marks", {})
    last = marks.get(MARK)
    if last is None:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        last = session.execute(select(func.max(PaymentRequest.invoice_seq))).scalar() or 0
    marks[MARK] = last + 1
    return last + 1
