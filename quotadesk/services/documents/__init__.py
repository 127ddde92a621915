"""Invoices and statements (SPEC §10): what they say, read by the services
(`invoice.py`, `statement.py`), laid out as pages (`layout.py`) and printed to PDF with Qt's
QTextDocument and QPdfWriter (`pdf.py`).

`invoice_pdf` and `statement_pdf` return the PDF's bytes (the mail sender attaches them);
`write_invoice` and `write_statement` write it to a file, 0600, never over the database or
a backup. Qt is imported only when a document is printed: the billing services that number
invoices do not load it.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from quotadesk.db.files import output_error, private_output
from quotadesk.services.documents.data import InvoiceData, StatementData
from quotadesk.services.documents.invoice import invoice_data
from quotadesk.services.documents.statement import statement_data
from quotadesk.services.errors import InvalidValue
from quotadesk.services.rules.document_text import DocumentText, paper_for
from quotadesk.services.setup import output_file
from quotadesk.services.unit_of_work import Desk


def document_locale() -> str:
    """The locale documents are written for: the user's (as the window's), en_US for "C"."""
    from PySide6.QtCore import QLocale

    name = QLocale.system().name()
    return name if name and name not in ("C", "POSIX") else "en_US"


def invoice_document(data: InvoiceData, locale: str | None = None) -> bytes:
    from quotadesk.printing import render_pdf
    from quotadesk.services.documents.layout import CSS_DPI, Sizes, invoice_page

    locale = locale or document_locale()
    page = invoice_page(data, DocumentText(data.currency, locale), Sizes(CSS_DPI))
    return render_pdf(page, paper_for(locale))


def statement_document(data: StatementData, locale: str | None = None) -> bytes:
    from quotadesk.printing import render_pdf
    from quotadesk.services.documents.layout import CSS_DPI, Sizes, statement_page

    locale = locale or document_locale()
    page = statement_page(data, DocumentText(data.currency, locale), Sizes(CSS_DPI))
    return render_pdf(page, paper_for(locale))


def invoice_pdf(desk: Desk, request_id: int, *, locale: str | None = None) -> bytes:
    """The invoice of payment request `request_id`, as PDF bytes."""
    return invoice_document(invoice_data(desk, request_id), locale)


def statement_pdf(desk: Desk, client: str | int, start: date | None = None,
                  end: date | None = None, *, locale: str | None = None) -> bytes:
    """The statement of `client` for the local days `start`–`end` (both included; both None:
    the last closed period), as PDF bytes."""
    return statement_document(statement_data(desk, client, start, end), locale)


def _write(desk: Desk, target: str | os.PathLike[str], content: bytes) -> Path:
    path = output_file(desk, target)
    try:
        with private_output(path, "wb") as handle:
            handle.write(content)
    except OSError as error:
        raise InvalidValue(output_error(path, error).message, "file") from None
    return path


def write_invoice(desk: Desk, request_id: int, target: str | os.PathLike[str], *,
                  locale: str | None = None) -> tuple[Path, InvoiceData]:
    """Write the invoice to `target` (0600; refused over the database or a backup)."""
    output_file(desk, target)  # refuse a bad target before any work
    data = invoice_data(desk, request_id)
    return _write(desk, target, invoice_document(data, locale)), data


def write_statement(desk: Desk, client: str | int, target: str | os.PathLike[str],
                    start: object = None, end: object = None, *,
                    locale: str | None = None) -> tuple[Path, StatementData]:
    """Write the statement to `target` (0600; refused over the database or a backup)."""
    output_file(desk, target)
    data = statement_data(desk, client, start, end)
    return _write(desk, target, statement_document(data, locale)), data


__all__ = ["invoice_data", "invoice_pdf", "statement_data", "statement_pdf", "write_invoice",
           "write_statement"]
