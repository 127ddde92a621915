"""Help ▸ About: the version, where the database and the logs are, the licences."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from quotadesk import __version__
from quotadesk.app import log_dir
from quotadesk.services.setup import default_location
from quotadesk.views.widgets import plain_label


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, database: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(self.tr("About QuotaDesk"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        icon = QLabel()
        window_icon = self.windowIcon() if not self.windowIcon().isNull() else QIcon()
        icon.setPixmap(window_icon.pixmap(64, 64))
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(plain_label(self.tr("QuotaDesk {version}").format(version=__version__),
                                     name="clientTitle"), 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(plain_label(self.tr(
            "A back-office desk for agencies that resell voice minutes, SMS and email: billing "
            "plans, add-on packs, wallets, usage, payment requests and billing history."),
            wrap=True))
        where = database or str(default_location())
        details = plain_label(self.tr(
            "Database: {where}\nLog files: {logs}\n\nBuilt with Qt and PySide6 (LGPL-3.0), "
            "SQLAlchemy and Alembic (MIT), Babel (BSD-3-Clause), appdirs (MIT), tzlocal (MIT), "
            "tzdata (Apache-2.0), psycopg (LGPL-3.0) and Python (PSF License). Their licence "
            "texts ship with the installed packages.").format(where=where, logs=log_dir()),
            wrap=True)
        details.setObjectName("aboutDetails")
        details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(420, self.sizeHint().height())
