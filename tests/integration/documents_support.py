"""Reading documents back (SPEC §10): the text of each page as a reader extracts it, the
paper, and the figures written the way the document writes them."""

from __future__ import annotations

import io
import unicodedata
from decimal import Decimal

from pypdf import PdfReader

from quotadesk.services.rules.document_text import DocumentText

LOCALE = "en_US"


def flat(text: str) -> str:
    """Whitespace of any kind (tabs, line breaks in wrapped cells, no-break spaces) as one
    space, so that a table row reads as its cells in order."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def pages(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF-"), "not a PDF"
    reader = PdfReader(io.BytesIO(content))
    return [flat(page.extract_text()) for page in reader.pages]


def text_of(content: bytes) -> str:
    return " ".join(pages(content))


def paper(content: bytes) -> tuple[int, int]:
    """The first page's size in points: (612, 792) is Letter, (595, 842) is A4."""
    box = PdfReader(io.BytesIO(content)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


class Figures:
    """Money, quantities and dates written as the documents write them for a locale."""

    def __init__(self, currency: str = "USD", locale: str = LOCALE) -> None:
        self.text = DocumentText(currency, locale)

    def money(self, amount: Decimal | str) -> str:
        return flat(self.text.money(Decimal(amount)))

    def qty(self, number: Decimal | str) -> str:
        return flat(self.text.qty(Decimal(number)))

    def day(self, value: object) -> str:
        return flat(self.text.day(value))  # type: ignore[arg-type]

    def days(self, first: object, last: object) -> str:
        return flat(self.text.days(first, last))  # type: ignore[arg-type]

    def rate(self, rate: Decimal | str) -> str:
        return flat(self.text.rate(Decimal(rate)))
