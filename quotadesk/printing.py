"""Printing a laid-out page to PDF with Qt's own QTextDocument and QPdfWriter: the locale's
paper, the agency's name and the document's title on every page, "Page 2 of 3" below, and
tables that break across pages with their header row repeated (QTextDocument does that for
a `<thead>` once the document has a page size).

It needs a Qt application object (for fonts). The command line has none: a QApplication is
made on the offscreen platform the first time, on the thread that calls (which must then be
the main thread); a QApplication rather than a QGuiApplication, so that a window made later
in the same process (or a test) finds the kind of application it needs. Where the window's
application exists, any thread may print: nothing here touches a widget, and QTextDocument,
QPdfWriter and QPainter on a PDF are usable in worker threads.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from quotadesk import __version__
from quotadesk.services.documents.layout import INK, MUTED, Page

DPI = 600
MARGIN_MM = 16.0
HEADER_MM = 11.0
FOOTER_MM = 10.0
BODY_PT = 9.0
_app_lock = threading.Lock()
_made_app: list[object] = []


class NoGuiThread(RuntimeError):
    """Documents were asked for off the main thread in a process with no Qt application."""


def ensure_application() -> None:
    """A Qt application for the fonts: the running one, or an offscreen one made here."""
    # The window's guard against the bindings' reference-count bug (views/qt_compat.py):
    # a mail run prints many documents, thousands of binding calls.
    import quotadesk.views  # noqa: F401

    with _app_lock:
        if QGuiApplication.instance() is not None:
            return
        if threading.current_thread() is not threading.main_thread():
            raise NoGuiThread("documents: the first document of a process without a window "
                              "must be made on its main thread")
        from PySide6.QtWidgets import QApplication

        # Offscreen whatever QT_QPA_PLATFORM says: a server has no display to connect to.
        _made_app.append(QApplication(["quotadesk", "-platform", "offscreen"]))


def page_size(paper: str) -> QPageSize:
    return QPageSize(QPageSize.PageSizeId.Letter if paper == "Letter"
                     else QPageSize.PageSizeId.A4)


def _font(points: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(["DejaVu Sans", "Segoe UI", "Helvetica Neue", "Arial", "Sans Serif"])
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(points)
    font.setBold(bold)
    # No ligatures: "fi" stays two letters for whoever copies or extracts the text.
    font.setFeature(QFont.Tag("liga"), 0)
    return font


def render_pdf(page: Page, paper: str) -> bytes:
    """The PDF of `page` on `paper` ("A4" or "Letter")."""
    ensure_application()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(DPI)
    writer.setPageLayout(QPageLayout(page_size(paper), QPageLayout.Orientation.Portrait,
                                     QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter))
    writer.setTitle(page.title)
    writer.setCreator(f"QuotaDesk {__version__}")
    mm = DPI / 25.4
    width, height = writer.width(), writer.height()
    margin, header, footer = MARGIN_MM * mm, HEADER_MM * mm, FOOTER_MM * mm
    body = QSizeF(width - 2 * margin, height - 2 * margin - header - footer)

    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    document.setDefaultFont(_font(BODY_PT))
    document.setDocumentMargin(0)
    document.setHtml(page.html)
    document.setPageSize(body)
    count = document.pageCount()

    painter = QPainter()
    if not painter.begin(writer):
        raise OSError("documents: the PDF could not be started")
    try:
        for number in range(count):
            if number:
                writer.newPage()
            top = margin + header
            painter.save()
            painter.translate(margin, top - number * body.height())
            context = QAbstractTextDocumentLayout.PaintContext()
            context.clip = QRectF(0, number * body.height(), body.width(), body.height())
            painter.setClipRect(context.clip)
            document.documentLayout().draw(painter, context)
            painter.restore()
            _running_header(painter, page, QRectF(margin, margin, body.width(), header))
            _footer(painter, number + 1, count,
                    QRectF(margin, height - margin - footer, body.width(), footer))
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def _running_header(painter: QPainter, page: Page, box: QRectF) -> None:
    """The agency's name on the left, the document on the right, each cut short with an
    ellipsis rather than running into the other."""
    painter.save()
    text_box = box.adjusted(0, 0, 0, -box.height() * 0.35)
    half = text_box.width() / 2 - text_box.width() * 0.02
    bottom = Qt.AlignmentFlag.AlignBottom
    painter.setPen(INK)
    painter.setFont(_font(10, bold=True))
    painter.drawText(text_box, int(Qt.AlignmentFlag.AlignLeft | bottom), _elided(
        painter, page.running or "—", half))
    painter.setFont(_font(9))
    painter.setPen(MUTED)
    painter.drawText(text_box, int(Qt.AlignmentFlag.AlignRight | bottom), _elided(
        painter, page.right, half))
    painter.setPen(MUTED)
    y = box.bottom() - box.height() * 0.2
    painter.drawLine(int(box.left()), int(y), int(box.right()), int(y))
    painter.restore()


def _elided(painter: QPainter, text: str, width: float) -> str:
    return painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(width))


def _footer(painter: QPainter, number: int, count: int, box: QRectF) -> None:
    painter.save()
    painter.setPen(MUTED)
    painter.setFont(_font(8.5))
    painter.drawText(box, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
                     f"Page {number} of {count}")
    painter.restore()
