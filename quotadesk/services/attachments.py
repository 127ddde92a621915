"""The documents a queued e-mail carries (SPEC §9, §10), made when it is sent: the invoice of
a payment request, a client's statement. Nothing of them is kept in the outbox."""

from __future__ import annotations

from datetime import date

from quotadesk.models import PaymentRequest
from quotadesk.services.mail_sender import Attach, Attachment
from quotadesk.services.unit_of_work import Desk, Tx, read_op


@read_op
def _invoice_number(tx: Tx, request_id: int) -> str:
    return tx.session.get_one(PaymentRequest, request_id).invoice_number


def attach_documents(desk: Desk) -> Attach:
    """What `mail send` and the window's sender attach: "invoice:ID" → the invoice PDF,
    "statement:CLIENT:FROM:TO" → the statement PDF."""

    def attach(spec: str) -> Attachment | None:
        from quotadesk.services import documents

        kind, _, rest = spec.partition(":")
        if kind == "invoice":
            request_id = int(rest)
            return (f"{_invoice_number(desk, request_id)}.pdf", "application/pdf",
                    documents.invoice_pdf(desk, request_id))
        if kind == "statement":
            client, start, end = rest.split(":")
            return (f"statement-{start}-{end}.pdf", "application/pdf",
                    documents.statement_pdf(desk, int(client), date.fromisoformat(start),
                                            date.fromisoformat(end)))
        return None

    return attach
