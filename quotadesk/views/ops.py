"""The one way a view runs a service: off the UI thread, with progress and cancel where asked,
refusals routed to one display, unexpected failures to one report dialog, results handed back
on the main thread, and after a write one broadcast of what changed (like Anki's CollectionOp
and OpChanges).
"""

from __future__ import annotations

import gc
import inspect
import itertools
import logging
import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from quotadesk import __version__
from quotadesk.services.changes import Area, Changes, merged, recording  # noqa: F401 - Area for the views
from quotadesk.services.errors import QuotaDeskError, as_refusal

log = logging.getLogger(__name__)


# -- what changed -------------------------------------------------------------------------
# `Changes` and its `Area`s are the services' (changes.py): every write says what it wrote,
# and `OpRunner` broadcasts that after each operation.


# -- progress and cancel ------------------------------------------------------------------
class OpCancelled(Exception):
    """Raised inside an operation's worker when the user pressed Cancel."""


class Progress:
    """Handed to a long operation in its worker thread: report how far it got, ask to stop."""

    def __init__(self, runner: OpRunner, op_id: int) -> None:
        self._runner = runner
        self._op_id = op_id
        self._cancel = threading.Event()
        self.maximum = 0

    def set_maximum(self, maximum: int) -> None:
        self.maximum = max(0, int(maximum))
        self._runner._progressed.emit(self._op_id, -1, self.maximum, None)

    def report(self, value: int, text: str | None = None) -> None:
        self._runner._progressed.emit(self._op_id, int(value), self.maximum, text)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Stop here if asked to: for services whose only hook is a progress callback."""
        if self._cancel.is_set():
            raise OpCancelled()


# -- the runner ---------------------------------------------------------------------------
@dataclass
class _Outcome:
    value: Any = None
    #: What the operation's writes changed (recorded as they committed).
    written: Changes = field(default_factory=Changes.none)
    refusal: QuotaDeskError | None = None
    error: BaseException | None = None
    report: str = ""
    cancelled: bool = False
    skipped: bool = False


@dataclass
class _Op:
    id: int
    parent: QWidget | None
    label: str
    on_done: Callable[[Any], None] | None
    on_refused: Callable[[QuotaDeskError], None] | None
    on_cancelled: Callable[[], None] | None
    on_settled: Callable[[], None] | None
    latest: tuple[int, str] | None
    progress: Progress | None = None
    dialog: QProgressDialog | None = None


class _Job(QRunnable):
    def __init__(self, runner: OpRunner, op: _Op, fn: Callable[..., Any]) -> None:
        super().__init__()
        self.runner = runner
        self.op_id = op.id
        self.progress = op.progress if _takes_argument(fn) else None
        self.latest = op.latest
        self.fn = fn

    def run(self) -> None:
        outcome = _Outcome()
        try:
            if self.latest is not None and self.runner._newest.get(self.latest) != self.op_id:
                outcome.skipped = True  # a newer load for the same panel was queued meanwhile
            else:
                with recording() as found:
                    try:
                        outcome.value = self.fn(self.progress) if self.progress is not None \
                            else self.fn()
                    finally:
                        outcome.written = merged(found)
        except OpCancelled:
            outcome.cancelled = True
        except QuotaDeskError as refusal:
            outcome.refusal = refusal
        except BaseException as error:
            refusal = as_refusal(error)  # a read-only file, a full disk: a plain dialog
            if refusal is not None:
                outcome.refusal = refusal
            else:
                outcome.error = error
                outcome.report = traceback.format_exc()
        self.runner._finished.emit(self.op_id, outcome)


def _takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
               for p in parameters)


class OpRunner(QObject):
    """Runs operations in a private thread pool and broadcasts `changed` after writes."""

    #: One broadcast after every write: a `Changes` value saying which areas and clients.
    changed = Signal(object)
    #: How many operations are running (for the status bar).
    busy_changed = Signal(int)
    #: Emitted on the main thread after each operation settles (tests wait on it).
    settled = Signal(int)

    _finished = Signal(int, object)
    _progressed = Signal(int, int, int, object)

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._ops: dict[int, _Op] = {}
        self._ids = itertools.count(1)
        self._newest: dict[tuple[int, str], int] = {}
        #: Unexpected failures seen (their reports), newest last; tests assert it stays empty.
        self.failures: list[str] = []
        self._finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> int:
        return len(self._ops)

    def run_op(self, parent: QWidget | None, fn: Callable[..., Any],
               on_done: Callable[[Any], None] | None = None, *, progress: str | None = None,
               cancellable: bool = False, label: str = "",
               on_refused: Callable[[QuotaDeskError], None] | None = None,
               on_cancelled: Callable[[], None] | None = None,
               on_settled: Callable[[], None] | None = None,
               latest: str | None = None) -> int:
        """Run `fn()` off the UI thread (`fn(progress)` if it takes an argument and `progress`
        names a progress dialog, so it can report and see Cancel). Then, on the main thread:
        `on_done(result)`; or the refusal to `on_refused` (default: the nearest widget up from
        `parent` with a `show_refusal`); or an unexpected error to the report dialog.
        What its writes changed (recorded as they committed) is broadcast afterwards.
        `latest` names a load of which only the newest result matters (older ones are dropped).
        """
        op_id = next(self._ids)
        key = None
        if latest is not None:
            key = (id(parent), latest)
            self._newest[key] = op_id
        op = _Op(op_id, parent, label or progress or "", on_done, on_refused, on_cancelled,
                 on_settled, key)
        if progress is not None:
            op.progress = Progress(self, op_id)
            op.dialog = self._progress_dialog(parent, progress, op.progress, cancellable)
        self._ops[op_id] = op
        self.busy_changed.emit(len(self._ops))
        self.pool.start(_Job(self, op, fn))
        return op_id

    def wait_idle(self, msecs: int = 30_000) -> bool:
        """Block until no worker runs (at shutdown, and in tests before the desk closes)."""
        return bool(self.pool.waitForDone(msecs))

    # -- main-thread side ------------------------------------------------------------------
    def _progress_dialog(self, parent: QWidget | None, text: str, progress: Progress,
                         cancellable: bool) -> QProgressDialog:
        dialog = _OpProgressDialog(text, self.tr("Cancel") if cancellable else "", 0, 0, parent)
        dialog.setObjectName("opProgress")
        dialog.setAccessibleName(text)
        dialog.setWindowTitle(self.tr("QuotaDesk"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.setRange(0, 0)  # busy until the operation says how much there is
        dialog.setMinimumWidth(380)
        dialog.cancellable = cancellable

        def cancel() -> None:
            progress._cancel.set()
            dialog.setLabelText(self.tr("Stopping after the current step…"))

        if cancellable:
            dialog.canceled.connect(cancel)
        else:
            dialog.setCancelButton(None)
        dialog.show()
        return dialog

    @Slot(int, int, int, object)
    def _on_progress(self, op_id: int, value: int, maximum: int, text: object) -> None:
        op = self._ops.get(op_id)
        if op is None or op.dialog is None or not shiboken6.isValid(op.dialog):
            return
        if maximum > 0 and op.dialog.maximum() != maximum:
            op.dialog.setRange(0, maximum)
        if value >= 0 and maximum > 0:
            op.dialog.setValue(min(value, maximum))
        if text and not op.progress.cancelled():  # type: ignore[union-attr]
            op.dialog.setLabelText(str(text))

    @Slot(int, object)
    def _on_finished(self, op_id: int, outcome: _Outcome) -> None:
        op = self._ops.pop(op_id)
        self.busy_changed.emit(len(self._ops))
        if op.dialog is not None and shiboken6.isValid(op.dialog):
            op.dialog.finish()
        stale = op.latest is not None and self._newest.get(op.latest) != op_id
        if op.latest is not None and not stale:
            del self._newest[op.latest]
        alive = op.parent is None or shiboken6.isValid(op.parent)
        try:
            if outcome.error is not None:
                self._report_failure(op, outcome)
            elif alive and not stale and not outcome.skipped:
                if outcome.refusal is not None:
                    self._route_refusal(op, outcome.refusal)
                elif outcome.cancelled:
                    if op.on_cancelled is not None:
                        op.on_cancelled()
                elif op.on_done is not None:
                    op.on_done(outcome.value)
            if not outcome.skipped:
                self._broadcast(outcome)
            if alive and op.on_settled is not None:
                op.on_settled()
        except Exception as error:
            self._report_failure(op, _Outcome(error=error, report=traceback.format_exc()))
        self.settled.emit(op_id)

    def _broadcast(self, outcome: _Outcome) -> None:
        """Tell every panel what the operation's writes changed: what they recorded as they
        committed (a refused or failed operation may still have committed some batches)."""
        if outcome.written:
            self.changed.emit(outcome.written)

    def _route_refusal(self, op: _Op, refusal: QuotaDeskError) -> None:
        if op.on_refused is not None:
            op.on_refused(refusal)
            return
        show_refusal(op.parent, refusal)

    def _report_failure(self, op: _Op, outcome: _Outcome) -> None:
        report = failure_report(op.label, outcome.report)
        self.failures.append(report)
        log.error("unexpected failure in %s\n%s", op.label or "an operation", outcome.report)
        parent = op.parent if op.parent is not None and shiboken6.isValid(op.parent) else None
        ErrorReportDialog(report, parent.window() if parent is not None else None).open()


class _OpProgressDialog(QProgressDialog):
    """A progress dialog that Escape or the close button cannot dismiss unless cancellable."""

    cancellable = False

    def reject(self) -> None:
        if self.cancellable:
            super().reject()

    def finish(self) -> None:
        self.cancellable = True
        self.close()
        self.deleteLater()


# -- garbage collection on the main thread ------------------------------------------------
#: Loads of a large list running (and since when): the collector waits for them (below).
_HELD: list[float] = [0, 0.0]
#: The longest the collector waits for them.
HOLD_LIMIT_S = 30.0


def hold_collection() -> None:
    """A load of 100,000 rows starts in a worker: the collector leaves its rows alone until
    they are frozen (a walk over half a million young objects is a pause of the UI thread
    of a tenth of a second). Balanced by `release_collection`."""
    if not _HELD[0]:
        _HELD[1] = time.monotonic()
    _HELD[0] += 1


def release_collection() -> None:
    _HELD[0] = max(0, int(_HELD[0]) - 1)


class MainThreadGarbageCollector(QObject):
    """Python's cyclic collector runs in whichever thread happens to allocate; if it frees a
    cycle holding a Qt widget while a worker thread runs a service, the widget is destroyed
    off the UI thread and the process crashes. So automatic collection is switched off and
    done here, on the main thread, every second when there is something to collect (the
    approach Anki's GUI takes)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect_if_due)
        self.timer.start()

    def collect_if_due(self) -> None:
        if _HELD[0] and time.monotonic() - _HELD[1] < HOLD_LIMIT_S:
            return  # a large list is being read: its rows are frozen once it has arrived
        young, middle, old = gc.get_count()
        if young >= gc.get_threshold()[0]:
            # By generation, as CPython's own collector does: a tick walks what was made
            # since the last one, the whole heap only every hundredth time (a full walk of a
            # 100,000-client list is a pause of the UI thread; the list is frozen after each
            # load, see gc.freeze in client_list).
            self.collect(2 if old >= 10 else 1 if middle >= 10 else 0)

    @staticmethod
    def collect(generation: int = 2) -> int:
        return gc.collect(generation)


# -- where refusals and failures go -------------------------------------------------------
def show_refusal(widget: QWidget | None, refusal: QuotaDeskError) -> None:
    """The one display of a refusal: the nearest widget (up from `widget`) that shows refusals
    itself, e.g. a dialog beside the field at fault; else a message box."""
    current = widget
    while current is not None and shiboken6.isValid(current):
        handler = getattr(current, "show_refusal", None)
        if callable(handler):
            handler(refusal)
            return
        current = current.parentWidget()
    from quotadesk.views.widgets import refusal_text

    box = QMessageBox(QMessageBox.Icon.Warning, _tr("Not done"), refusal_text(refusal),
                      QMessageBox.StandardButton.Ok, widget)
    box.setObjectName("refusalBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def failure_report(label: str, trace: str) -> str:
    from PySide6 import __version__ as pyside_version

    return "\n".join([
        f"QuotaDesk {__version__} — unexpected error" + (f" in: {label}" if label else ""),
        f"Python {platform.python_version()} · PySide6 {pyside_version} · {platform.platform()}",
        f"Executable: {sys.executable}",
        "",
        trace.rstrip(),
    ])


class ErrorReportDialog(QDialog):
    """Unexpected failures: what happened, and a report the user can copy and send."""

    def __init__(self, report: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorReport")
        self.setWindowTitle(self.tr("Something went wrong"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(640, 420)
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr(
            "The operation stopped because of an unexpected error. The database stays "
            "consistent: every operation is saved whole or not at all. Please copy this report "
            "and send it to whoever looks after QuotaDesk."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.report = QPlainTextEdit(report)
        self.report.setReadOnly(True)
        self.report.setObjectName("errorReportText")
        self.report.setAccessibleName(self.tr("Error report"))
        self.report.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.report, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton(self.tr("Copy report"))
        self.copy_button.setAccessibleName(self.tr("Copy report"))
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.report.toPlainText())
        self.copy_button.setText(self.tr("Copied"))


def _tr(text: str) -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("ops", text)
