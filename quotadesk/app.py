"""The desktop window's bootstrap: the QApplication, its style and icon, settings, the first
database, and `--self-test` for the frozen build."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

APP_NAME = "QuotaDesk"


def resources_dir() -> Path:
    """resources/ beside the package, or inside the PyInstaller bundle when frozen."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def application(styled: bool = True) -> object:
    """The one QApplication, named, with its palette, font and icon; and its style sheet
    unless `styled` is False (then `apply_style` gives it, once the first window is built:
    widgets made under a style sheet are polished again at every step of being put
    together, which made the window take five times as long to build)."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    import quotadesk.views  # noqa: F401 - applies the binding guard before any Qt object
    from quotadesk import __version__

    app = QApplication.instance()
    if app is None:
        QCoreApplication.setOrganizationName(APP_NAME)
        QCoreApplication.setApplicationName(APP_NAME)
        QCoreApplication.setApplicationVersion(__version__)
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setStyle("Fusion")
    app.setPalette(palette())
    font = app.font()
    font.setPointSize(10)
    app.setFont(font)
    resources = resources_dir()
    icon = resources / "icons" / "quotadesk.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    if styled:
        apply_style(app)
    return app


def apply_style(app: Any) -> None:
    """The application's style sheet (resources/style.qss), set once."""
    style = resources_dir() / "style.qss"
    if not app.styleSheet() and style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))


def palette() -> object:
    """The base colours (the style sheet only adds what a palette cannot say)."""
    from PySide6.QtGui import QColor, QPalette

    colours = {
        QPalette.ColorRole.Window: "#f3f5f8", QPalette.ColorRole.WindowText: "#1f2937",
        QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f8f9fb",
        QPalette.ColorRole.Text: "#1f2937", QPalette.ColorRole.Button: "#ffffff",
        QPalette.ColorRole.ButtonText: "#1f2937", QPalette.ColorRole.Highlight: "#dbe6fb",
        QPalette.ColorRole.HighlightedText: "#111827", QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f2937", QPalette.ColorRole.PlaceholderText: "#9ca3af",
    }
    result = QPalette()
    for role, colour in colours.items():
        result.setColor(role, QColor(colour))
    return result


def run_gui(db: str | None = None, now: str | None = None, self_test: bool = False) -> int:
    """Open the window on `db` (None: $QUOTADESK_DB, else the user data directory); `now`
    fixes the clock. `self_test` exercises services and window offscreen and exits."""
    if self_test:
        return self_test_main()
    from PySide6.QtWidgets import QApplication

    from quotadesk.views.ops import MainThreadGarbageCollector

    os.umask(0o077)  # every file QuotaDesk writes is its owner's alone (SPEC §8)
    log_file = start_logging()
    app = application(styled=False)  # styled once the window is built (open_window)
    assert isinstance(app, QApplication)
    collector = MainThreadGarbageCollector(app)
    ctx, _window = open_window(db, now, on_built=lambda w: install_excepthook(w, log_file))
    code = app.exec()
    ctx.wait_idle()
    if ctx.desk is not None:
        ctx.desk.close()
    collector.timer.stop()
    return int(code)


def open_window(db: str | None, now: str | None = None, settings: Any = None,
                locale: str | None = None, on_built: Callable[[Any], None] | None = None
                ) -> tuple[Any, Any]:
    """The desk and its window, shown, opening `db` (None: the one chosen last time). The
    database is opened and its client list read while the window is being built (unless
    the clock is fixed: the list is read at the fixed time, once the window has it)."""
    import gc

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from quotadesk.db import check_in_background
    from quotadesk.views.desk_context import DeskContext
    from quotadesk.views.early_open import EarlyOpen

    settings = settings if settings is not None else QSettings()
    ctx = DeskContext(locale=locale)
    check_in_background()  # the first screenful does not wait for the file's check
    chosen = db if db is not None else remembered_database(settings)
    early = EarlyOpen(ctx, chosen) if now is None else None
    from quotadesk.views.main_window import MainWindow

    window = MainWindow(ctx, settings)
    apply_style(QApplication.instance())  # after the build (see application)
    if on_built is not None:
        on_built(window)
    window.show()
    # What is alive now (the modules, the window) lives as long as the process: out of the
    # collector's way, so that a collection on the UI thread walks only what came since.
    gc.freeze()
    window.open_database(chosen, now=now, early=early)
    return ctx, window


def log_dir() -> Path:
    import appdirs

    return Path(appdirs.user_log_dir(APP_NAME, APP_NAME))


def start_logging() -> Path:
    """Warnings and unexpected errors go to quotadesk.log in the user log directory."""
    import logging
    from logging.handlers import RotatingFileHandler

    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "quotadesk.log"
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)  # the log is its owner's alone, like every file QuotaDesk writes
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def install_excepthook(parent: object, log_file: Path) -> None:
    """An exception nobody caught: logged, and shown with a report the user can copy."""
    import logging

    from quotadesk.views.ops import ErrorReportDialog

    def hook(kind: type[BaseException], error: BaseException, tb: object) -> None:
        report = "".join(traceback.format_exception(kind, error, tb))  # type: ignore[arg-type]
        logging.getLogger("quotadesk").error("unexpected error\n%s", report)
        dialog = ErrorReportDialog(f"{report}\n(also written to {log_file})", parent)  # type: ignore[arg-type]
        dialog.open()

    sys.excepthook = hook


def remembered_database(settings: object) -> str | None:
    """The database chosen last time, unless $QUOTADESK_DB says otherwise."""
    if os.environ.get("QUOTADESK_DB"):
        return None
    value = settings.value("database/last")  # type: ignore[attr-defined]
    if not value:
        return None
    text = str(value)
    if text.startswith("sqlite:///") and not Path(text[len("sqlite:///"):]).exists():
        return None
    from quotadesk.services import credentials

    # Settings keep a server URL without its password: that is in the credential store.
    return credentials.recall(text)


# -- self-test ------------------------------------------------------------------------------
class SelfTestFailed(Exception):
    pass


def _wait(condition: Callable[[], bool], what: str, timeout_s: int = 30) -> None:
    from PySide6.QtCore import QEventLoop, QThread
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SelfTestFailed(f"timed out waiting for {what}")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        QThread.msleep(5)


def self_test_main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import qInstallMessageHandler

    def quiet(_mode: object, _context: object, message: str) -> None:
        # The offscreen platform's notice about window size hints is noise here.
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(quiet)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="quotadesk-self-test-") as tmp:
            _self_test(Path(tmp))
    except Exception as error:
        print(f"QuotaDesk self-test FAILED: {error}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return 1
    print(f"QuotaDesk self-test passed in {time.monotonic() - started:.1f} s")
    return 0


def _self_test(folder: Path) -> None:
    from decimal import Decimal

    from PySide6.QtCore import QSettings

    from quotadesk.services import catalog, clients, setup, wallet
    from quotadesk.services.unit_of_work import Desk

    desk = Desk.open(str(folder / "self-test.db"))
    try:
        setup.init_database(desk, currency="USD", timezone="UTC")
        catalog.add_plan(desk, name="Self-test plan", fee="10.00", included={"minutes": "50"})
        client = clients.add_client(desk, name="Self-test client", email="ops@example.com")
        catalog.add_pack(desk, name="Self-test pack", resource="minutes", units="100",
                         price="15.00")
        clients.subscribe(desk, client=client.id, plan="Self-test plan")
        clients.assign_packs(desk, client=client.id, packs=["Self-test pack"])
        result = wallet.apply_pack(desk, client=client.id, pack="Self-test pack",
                                   status="pending", key=wallet.new_application_key())
        if "credited" not in result.message:
            raise SelfTestFailed(f"unexpected apply message {result.message!r}")
        balance = clients.client_detail(desk, client.id).resources["minutes"].wallet
        if balance != Decimal(100):
            raise SelfTestFailed(f"the wallet holds {balance} minutes, expected 100")
        _self_test_window(desk, client.id, QSettings(str(folder / "settings.ini"),
                                                     QSettings.Format.IniFormat))
        _self_test_import(desk, folder)
    finally:
        desk.close()


def _self_test_import(desk: Any, folder: Path) -> None:
    """A usage import through the writer process (in the frozen app, this executable started
    again by multiprocessing): 60 minutes, 50 included and 10 from the pack. The writer must
    start and answer (the import alone would fall back to one process without it)."""
    from quotadesk.services import clients, usage
    from quotadesk.services.usage_import.writer import ImportWriter

    writer = ImportWriter(folder / "self-test.db")
    try:
        writer.lock()
    finally:
        writer.close()

    source = folder / "usage.csv"
    at = desk.clock().strftime("%Y-%m-%dT%H:%M:%S")
    source.write_text("event_id,client,resource,quantity,occurred_at\n" + "".join(
        f"self-test-{n},Self-test client,minutes,20,{at}\n" for n in range(3)), "utf-8")
    result = usage.import_usage(desk, source, batch_size=2, pipelined=True)
    minutes = clients.client_detail(desk, "Self-test client").resources["minutes"]
    if (result.recorded, minutes.included_used, minutes.wallet) != (3, 50, 90):
        raise SelfTestFailed(f"the usage import gave {result}, {minutes}")


def _self_test_window(desk: object, client_id: int, settings: object) -> None:
    from quotadesk.views.desk_context import DeskContext, read_desk_facts
    from quotadesk.views.main_window import MainWindow

    application()
    ctx = DeskContext()
    window = MainWindow(ctx, settings)  # type: ignore[arg-type]
    try:
        window.show()
        window.adopt(read_desk_facts(desk), rollover=False)  # type: ignore[arg-type]
        _wait(lambda: window.client_list.model.rowCount() == 1, "the client list")
        window.client_list.select_client(client_id)
        _wait(lambda: window.client_page.data is not None, "the client page")
        tile = window.client_page.billing.wallet.tiles["minutes"].value.text()
        if not tile.startswith("100 "):
            raise SelfTestFailed(f"the wallet tab shows {tile!r}, expected 100 minutes")
        if ctx.failures:
            raise SelfTestFailed("unexpected error in the window:\n" + ctx.failures[0])
        from quotadesk.views.client_page import usage_charts

        if not usage_charts.CHARTS:
            raise SelfTestFailed("QtCharts is missing: the usage charts cannot be drawn")
    finally:
        window.close()
        ctx.wait_idle()
        # Qt objects go on the main thread, never with a garbage collection elsewhere.
        window.deleteLater()
        ctx.deleteLater()
        from PySide6.QtCore import QCoreApplication, QEvent

        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
