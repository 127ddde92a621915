"""Draw the QuotaDesk app icon and write the PNG, ICO and ICNS files in resources/icons/.

Run from anywhere: ``python packaging/make_icons.py``. Needs only PySide6 (drawn with QPainter
on an offscreen platform); the ICO and ICNS containers are written here by hand, so neither
Pillow nor iconutil is needed. The generated files are committed: nothing at run time draws them.

The icon: a rounded square in a deep teal-to-blue gradient holding a white quota gauge: a pale
270-degree track, a white "used" arc, an amber segment marking the alert zone (80 %-95 %), and a
needle. Small sizes drop the needle and thicken the strokes so they stay legible.
"""

from __future__ import annotations

import argparse
import math
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QRadialGradient,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "icons"

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 256)
# ICNS element types holding PNG data, and their pixel sizes (the @2x types reuse bigger art).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),
)

TEAL = QColor("#14868C")
DEEP_BLUE = QColor("#0B3954")
AMBER = QColor("#FFB547")
WHITE = QColor("#FFFFFF")

# The gauge spans 270 degrees, open at the bottom; Qt angles are counter-clockwise from 3 o'clock.
GAUGE_START = 225.0
GAUGE_SPAN = 270.0
USED = 0.62  # how full the drawn gauge is
ALERT_FROM, ALERT_TO = 0.80, 0.95


def _arc(painter: QPainter, rect: QRectF, start_frac: float, end_frac: float) -> None:
    """Stroke the part of the gauge between two fractions (0 = empty end, 1 = full end)."""
    start = GAUGE_START - GAUGE_SPAN * start_frac
    span = -GAUGE_SPAN * (end_frac - start_frac)
    path = QPainterPath()
    path.arcMoveTo(rect, start)
    path.arcTo(rect, start, span)
    painter.drawPath(path)


def draw_icon(size: int, *, macos: bool = False) -> QImage:
    """Render the icon at ``size`` pixels; ``macos`` uses Apple's grid (824/1024 body, margins)."""
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.scale(size / 1024.0, size / 1024.0)  # draw in a 1024-unit design space

    small = size <= 32
    tiny = size <= 20
    medium = 32 < size < 128  # keep the needle, thicken it, drop the floor bar
    if macos:
        body = QRectF(100, 100, 824, 824)
        radius = 185.0
    elif small:
        body = QRectF(0, 0, 1024, 1024)  # every pixel counts at 16-32 px
        radius = 200.0
    else:
        body = QRectF(40, 40, 944, 944)
        radius = 210.0

    if macos:  # Apple's icons sit on a soft drop shadow
        for i, alpha in enumerate((18, 14, 10, 6)):
            grow = 6.0 + 8.0 * i
            shadow = body.adjusted(-grow / 2, -grow / 2 + 12, grow / 2, grow / 2 + 12)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 0, 0, alpha))
            p.drawRoundedRect(shadow, radius + grow / 2, radius + grow / 2)

    grad = QLinearGradient(body.topLeft(), body.bottomRight())
    grad.setColorAt(0.0, TEAL)
    grad.setColorAt(1.0, DEEP_BLUE)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(grad))
    p.drawRoundedRect(body, radius, radius)

    if not small:  # a soft top light gives the flat square some depth
        glow = QRadialGradient(QPointF(body.center().x(), body.top()), body.width() * 0.9)
        glow.setColorAt(0.0, QColor(255, 255, 255, 46))
        glow.setColorAt(1.0, QColor(255, 255, 255, 0))
        p.setBrush(QBrush(glow))
        p.drawRoundedRect(body, radius, radius)

    # Gauge geometry, relative to the body so the macOS grid scales it too.
    scale = body.width() / 944.0
    cx = body.center().x()
    cy = body.center().y() + 40 * scale
    r = (300 if not small else 330) * scale
    stroke = (150 if tiny else 130 if small else 108 if medium else 92) * scale
    rect = QRectF(cx - r, cy - r, 2 * r, 2 * r)

    pen = QPen(QColor(255, 255, 255, 70), stroke, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(pen)
    _arc(p, rect, 0.0, 1.0)

    pen.setColor(AMBER)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    p.setPen(pen)
    _arc(p, rect, ALERT_FROM, ALERT_TO if not small else 1.0)

    pen.setColor(WHITE)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    _arc(p, rect, 0.0, USED)

    if not small:
        # Needle from the hub towards the end of the used arc.

        angle = math.radians(GAUGE_START - GAUGE_SPAN * USED)
        tip = QPointF(
            cx + math.cos(angle) * (r - stroke * 1.05), cy - math.sin(angle) * (r - stroke * 1.05)
        )
        needle = QPen(
            WHITE, (64 if medium else 44) * scale, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap
        )
        p.setPen(needle)
        p.drawLine(QPointF(cx, cy), tip)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(WHITE)
        hub = (80 if medium else 62) * scale
        p.drawEllipse(QPointF(cx, cy), hub, hub)
        p.setBrush(DEEP_BLUE)
        p.drawEllipse(QPointF(cx, cy), 26 * scale, 26 * scale)
        if not medium:
            # A short bar in the gauge's open bottom: the quota's "floor".
            p.setBrush(QColor(255, 255, 255, 200))
            bar = QRectF(cx - 120 * scale, cy + r * 0.62, 240 * scale, 40 * scale)
            p.drawRoundedRect(bar, 20 * scale, 20 * scale)
    else:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(WHITE)
        hub = (120 if tiny else 100) * scale
        p.drawEllipse(QPointF(cx, cy), hub, hub)

    p.end()
    return img


def png_bytes(img: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, "PNG"):
        raise RuntimeError("could not encode PNG")
    buf.close()
    return bytes(data.data())


def dib_bytes(img: QImage) -> bytes:
    """An ICO 'BMP' entry: BITMAPINFOHEADER + bottom-up 32-bit BGRA rows + 1-bit AND mask."""
    img = img.convertToFormat(QImage.Format.Format_ARGB32)  # straight alpha, BGRA in memory (LE)
    w, h = img.width(), img.height()
    stride = img.bytesPerLine()
    raw = bytes(img.constBits())[: stride * h]
    rows = [raw[y * stride : y * stride + w * 4] for y in range(h)]
    if sys.byteorder != "little":  # ARGB32 is stored as native uint32s
        rows = [b"".join(row[i : i + 4][::-1] for i in range(0, len(row), 4)) for row in rows]
    xor = b"".join(reversed(rows))
    mask_stride = ((w + 31) // 32) * 4
    mask = bytes(mask_stride * h)  # all zero: alpha decides, the mask is only for legacy readers
    header = struct.pack("<IiiHHIIiiII", 40, w, h * 2, 1, 32, 0, len(xor) + len(mask), 0, 0, 0, 0)
    return header + xor + mask


def ico_bytes(images: dict[int, QImage]) -> bytes:
    """A multi-size .ico: BMP entries below 256 px (read everywhere), PNG for 256 px."""
    sizes = sorted(images)
    blobs = [png_bytes(images[s]) if s >= 256 else dib_bytes(images[s]) for s in sizes]
    out = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    for s, blob in zip(sizes, blobs, strict=True):
        dim = 0 if s >= 256 else s
        out += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
    return out + b"".join(blobs)


def icns_bytes(images: dict[int, QImage]) -> bytes:
    """An .icns with PNG elements and a table of contents, as iconutil writes it."""
    elements = [(kind, png_bytes(images[px])) for kind, px in ICNS_TYPES]
    toc = b"TOC " + struct.pack(">I", 8 + 8 * len(elements))
    toc += b"".join(kind + struct.pack(">I", 8 + len(data)) for kind, data in elements)
    body = toc + b"".join(kind + struct.pack(">I", 8 + len(data)) + data for kind, data in elements)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, help="output folder (default: resources/icons)"
    )
    args = parser.parse_args(argv)
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    plain = {s: draw_icon(s) for s in sorted(set(PNG_SIZES) | set(ICO_SIZES))}
    mac = {s: draw_icon(s, macos=True) for s in sorted({px for _, px in ICNS_TYPES})}

    written = []
    for s in PNG_SIZES:
        path = out / f"quotadesk-{s}.png"
        path.write_bytes(png_bytes(plain[s]))
        written.append(path)
    # Qt picks up "name@2x.png" beside "name.png" by itself for high-DPI screens.
    (out / "quotadesk.png").write_bytes(png_bytes(plain[256]))
    (out / "quotadesk@2x.png").write_bytes(png_bytes(plain[512]))
    (out / "quotadesk.ico").write_bytes(ico_bytes({s: plain[s] for s in ICO_SIZES}))
    (out / "quotadesk.icns").write_bytes(icns_bytes(mac))
    written += [
        out / n for n in ("quotadesk.png", "quotadesk@2x.png", "quotadesk.ico", "quotadesk.icns")
    ]
    for path in written:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"wrote {shown} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
