"""The documents' pages as the HTML subset Qt's QTextDocument lays out: blocks, and tables
whose header row (`<thead>`) is repeated on every page they run onto. No Qt here: `pdf.py`
prints what this writes. Every figure comes from the data as the services computed it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from quotadesk.services.documents.data import (
    Agency,
    InvoiceData,
    StatementData,
    StatementRequest,
)
from quotadesk.services.rules.document_text import DocumentText, resource_name
from quotadesk.services.rules.tax import rate_text

INK = "#1f2933"
MUTED = "#52606d"
RULE = "#9aa5b1"
HEAD_BG = "#e4e7eb"


@dataclass(frozen=True)
class Page:
    """What `pdf.py` needs besides the body: the running header and the document's title."""

    title: str
    running: str  # left of every page's header: the agency's name
    right: str  # right of every page's header: the invoice number, or the client
    html: str


#: QTextDocument reads HTML lengths in CSS pixels (1/96 inch) whatever the device.
CSS_DPI = 96
#: Lengths in points below one whole point, exact.
HAIRLINE, TIGHT_PADDING, CELL_PADDING = Decimal("0.5"), Decimal("1.5"), Decimal("2.5")


@dataclass(frozen=True)
class Sizes:
    """Lengths in HTML pixels, from points."""

    dpi: int

    def pt(self, points: Decimal | int) -> int:
        return max(1, round(Decimal(points) * self.dpi / 72))


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _table(headers: list[tuple[str, str, str]], rows: list[list[str]], size: Sizes,
           *, width: str = "100%", title: str = "") -> str:
    """`headers`: (text, alignment, width) per column; each row's cells are HTML already.
    A `title` is the first header row: repeated with the column names on every page the table
    runs onto, and never left alone at the foot of a page."""
    caption = ""
    if title:
        caption = (f'<tr><th colspan="{len(headers)}" align="left" style="border-style:none; '
                   f'font-size:11pt; padding-top:{size.pt(12)}px; padding-left:0px;">'
                   f"{_e(title)}</th></tr>")
    ruled = f"border-width:{size.pt(HAIRLINE)}px; border-style:solid; border-color:{RULE};"
    head = "".join(
        f'<th align="{align}"{_width(w)} style="background-color:{HEAD_BG}; {ruled}">'
        f"{_e(text)}</th>" for text, align, w in headers)
    body = "".join(
        "<tr>" + "".join(f'<td align="{headers[i][1]}" style="{ruled}{_keep(headers[i])}">'
                         f"{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows)
    return (f'<table width="{width}" cellspacing="0" cellpadding="{size.pt(CELL_PADDING)}" '
            f'border="0" style="border-collapse:collapse; margin-top:{size.pt(4)}px;">'
            f"<thead>{caption}<tr>{head}</tr></thead>{body}</table>")


def _width(width: str) -> str:
    return f' width="{width}"' if width else ""


#: Columns of dates, kept on one line like the figures.
DATE_COLUMNS = frozenset({"Issued", "Due"})


def _keep(header: tuple[str, str, str]) -> str:
    """Figures (the right-aligned columns) and dates are never broken over two lines: the
    column widens instead."""
    text, align, _width = header
    return " white-space:nowrap;" if align == "right" or text in DATE_COLUMNS else ""


def _agency_block(agency: Agency) -> str:
    lines = [f'<span style="font-size:14pt; font-weight:600;">{_e(agency.name or "—")}</span>']
    lines += [_e(line) for line in agency.address]
    if agency.email:
        lines.append(_e(agency.email))
    if agency.tax_id:
        lines.append(f"Tax ID: {_e(agency.tax_id)}")
    return "<br/>".join(lines)


def _facts(rows: list[tuple[str, str]]) -> str:
    return "".join(f'<tr><td style="color:{MUTED};">{_e(k)}</td><td width="14"></td>'
                   f'<td align="right">{v}</td></tr>' for k, v in rows)


def _heading(text: str, size: Sizes) -> str:
    return (f'<p style="margin-top:{size.pt(14)}px; margin-bottom:{size.pt(2)}px; '
            f'font-size:11pt; font-weight:600;">{_e(text)}</p>')


def _top(agency: Agency, title: str, facts: list[tuple[str, str]], size: Sizes) -> str:
    return (f'<table width="100%" cellspacing="0" cellpadding="0"><tr>'
            f'<td width="55%" valign="top">{_agency_block(agency)}</td>'
            f'<td width="45%" valign="top" align="right">'
            f'<p align="right" style="font-size:18pt; font-weight:600; margin-bottom:'
            f'{size.pt(4)}px;">{_e(title)}</p>'
            f'<table cellspacing="0" cellpadding="{size.pt(TIGHT_PADDING)}" align="right">'
            f"{_facts(facts)}</table></td></tr></table>")


def _client_block(label: str, name: str, email: str | None, size: Sizes) -> str:
    lines = [f'<span style="color:{MUTED};">{_e(label)}</span>',
             f'<span style="font-weight:600;">{_e(name)}</span>']
    if email:
        lines.append(_e(email))
    return f'<p style="margin-top:{size.pt(16)}px;">{"<br/>".join(lines)}</p>'


def invoice_page(data: InvoiceData, text: DocumentText, size: Sizes) -> Page:
    facts = [("Invoice number", f"<b>{_e(data.number)}</b>"),
             ("Issue date", _e(text.day(data.issued))),
             ("Due date", _e(text.day(data.due)))]
    if data.period is not None:
        facts.append(("Period", _e(text.days(*data.period))))
    facts.append(("Status", f"<b>{_e(text.status(data.status, data.paid_on))}</b>"))
    rows = []
    for line in data.lines:
        has_units = line.quantity is not None and line.resource is not None
        quantity = text.units(line.quantity, line.resource) if has_units and line.quantity \
            is not None else (text.qty(line.quantity) if line.quantity is not None else "")
        price = text.money(line.unit_price) if line.unit_price is not None else ""
        if data.type == "Pack":
            price = text.money(line.amount)  # a pack's price is for the pack, not per unit
            quantity = text.units(line.quantity, line.resource) if has_units and \
                line.quantity is not None else "1"
        rows.append([_e(line.description), _e(quantity), _e(price), _e(text.money(line.amount))])
    lines_table = _table([("Description", "left", "46%"), ("Quantity", "right", "18%"),
                          ("Unit price" if data.type != "Pack" else "Price", "right", "18%"),
                          ("Amount", "right", "18%")], rows, size, title="Items")
    totals: list[tuple[str, str]] = []
    if data.rounding:
        totals.append(("Lines", text.money(data.subtotal)))
        totals.append((f"Rounding to {data.currency}'s minor unit", text.money(data.rounding)))
    totals.append(("Net", text.money(data.net)))
    totals.append((f"{data.tax_name or 'Tax'} at {text.rate(data.tax_rate)}",
                   text.money(data.tax)))
    totals_rows = "".join(
        f'<tr><td align="right" style="color:{MUTED};">{_e(k)}</td>'
        f'<td align="right" width="30%">{_e(v)}</td></tr>' for k, v in totals)
    totals_rows += (f'<tr><td align="right" style="font-weight:600; font-size:11pt;">Total</td>'
                    f'<td align="right" style="font-weight:600; font-size:11pt;">'
                    f"{_e(text.money(data.total))}</td></tr>")
    html = (_top(data.agency, "Invoice", facts, size)
            + _client_block("Bill to", data.client_name, data.client_email, size)
            + lines_table
            + f'<table width="100%" cellspacing="0" cellpadding="{size.pt(CELL_PADDING)}" '
              f'style="margin-top:{size.pt(6)}px;">{totals_rows}</table>'
            + f'<p style="margin-top:{size.pt(14)}px; color:{MUTED};">'
              f"Reference: {_e(data.reference)}<br/>"
              f"Amounts in {_e(data.currency)}. Tax rate {_e(rate_text(data.tax_rate))} % "
              f"as in force when the invoice was issued.</p>")
    return Page(f"Invoice {data.number}", data.agency.name,
                f"Invoice {data.number}", _document(html, text))


def _request_rows(requests: tuple[StatementRequest, ...], text: DocumentText) -> list[list[str]]:
    return [[_e(r.number), _e(text.day(r.issued)), _e(r.type), _e(text.day(r.due)),
             _e(text.status(r.status, r.paid_on)), _e(text.money(r.net)), _e(text.money(r.tax)),
             _e(text.money(r.amount))] for r in requests]


#: No fixed widths: the columns share the page by what they hold (figures and dates whole).
REQUEST_HEADERS = [("Invoice", "left", ""), ("Issued", "left", ""), ("Type", "left", ""),
                   ("Due", "left", ""), ("Status", "left", ""), ("Net", "right", ""),
                   ("Tax", "right", ""), ("Amount", "right", "")]


def statement_page(data: StatementData, text: DocumentText, size: Sizes) -> Page:
    facts = [("Client", f"<b>{_e(data.client_name)}</b>"),
             ("From", _e(text.day(data.first_day))), ("To", _e(text.day(data.last_day))),
             ("Issued", _e(text.day(data.issued)))]
    parts = [_top(data.agency, "Statement", facts, size),
             _client_block("Statement for", data.client_name, data.client_email, size)]
    usage_rows = []
    for period in data.periods:
        label = text.days(period.first_day, period.last_day)
        if period.open:
            label += " (open: so far)"
        for u in period.usage:
            if not (u.included or u.included_used or u.wallet_used or u.overage_units
                    or u.unserved):
                continue
            usage_rows.append([_e(label), _e(resource_name(u.resource)),
                               _e(text.qty(u.included_used)) + f' <span style="color:{MUTED};">'
                               f"/ {_e(text.qty(u.included))}</span>",
                               _e(text.qty(u.wallet_used)), _e(text.qty(u.overage_units)),
                               _e(text.money(u.overage_amount)), _e(text.qty(u.unserved))])
    if usage_rows:
        parts.append(_table([("Period", "left", "25%"), ("Resource", "left", "15%"),
                             ("Included used", "right", "16%"), ("Wallet used", "right", "11%"),
                             ("Overage", "right", "10%"), ("Overage net", "right", "12%"),
                             ("Unserved", "right", "11%")], usage_rows, size,
                            title="Usage by period"))
    else:
        parts.append(_heading("Usage by period", size) + "<p>No usage in these days.</p>")
    if data.wallet:
        parts.append(_table(
            [("Resource", "left", "16%"), ("Opening", "right", "14%"),
             ("Credited", "right", "14%"), ("Consumed", "right", "14%"),
             ("Expired", "right", "14%"), ("Revoked", "right", "14%"),
             ("Closing", "right", "14%")],
            [[_e(resource_name(w.resource)), _e(text.qty(w.opening)), _e(text.qty(w.credited)),
              _e(text.qty(w.consumed)), _e(text.qty(w.expired)), _e(text.qty(w.revoked)),
              f"<b>{_e(text.qty(w.closing))}</b>"] for w in data.wallet], size,
            title="Add-on wallet"))
        parts.append(f'<p style="color:{MUTED};">Opening + credited − consumed − expired − '
                     f"revoked = closing, in units, from the wallet's ledger.</p>")
    else:
        parts.append(_heading("Add-on wallet", size) + "<p>No add-on credits.</p>")
    if data.requests:
        parts.append(_table(REQUEST_HEADERS, _request_rows(data.requests, text), size,
                            title="Payment requests"))
    else:
        parts.append(_heading("Payment requests", size) +
                     "<p>No payment requests in these days.</p>")
    if data.other_due:
        parts.append(_table(REQUEST_HEADERS, _request_rows(data.other_due, text), size,
                            title="Other requests still due"))
    parts.append(f'<table width="100%" cellspacing="0" cellpadding="{size.pt(3)}" '
                 f'style="margin-top:{size.pt(10)}px;"><tr>'
                 f'<td align="right" style="font-size:12pt; font-weight:600;">Total still due</td>'
                 f'<td align="right" width="25%" style="font-size:12pt; font-weight:600;">'
                 f"{_e(text.money(data.total_due))}</td></tr></table>")
    parts.append(f'<p style="color:{MUTED};">Every pending request, overdue or not, whenever it '
                 f"was issued. Amounts in {_e(data.currency)}.</p>")
    return Page(f"Statement {data.client_name}", data.agency.name,
                f"Statement · {data.client_name}", _document("".join(parts), text))


def _document(body: str, text: DocumentText) -> str:
    return f'<html><body style="color:{INK};">{body}</body></html>'
