"""Recording one usage event, importing a platform's usage export (off the UI thread, with a
progress dialog that can be cancelled), and running the period rollover."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from quotadesk.services import billing, usage
from quotadesk.services.errors import InvalidValue
from quotadesk.services.results import ImportResult, RolloverResult, UsageResult
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.dialogs.usage_sources import SourcePanel
from quotadesk.views.formatting import resource_label
from quotadesk.views.ops import Progress
from quotadesk.views.widgets import FormDialog, Notice, plain_label

#: Events per transaction in a window import: a batch takes under a second, so Cancel answers
#: within one. Smaller batches cost more than they save: a million events took 102 s in
#: batches of 2,000 and 54 s in batches of 20,000 (38 s with the import's writer process).
IMPORT_BATCH_SIZE = 20_000


class RecordUsageDialog(FormDialog):
    """One usage event; the dialog stays open for the next one and shows how it was covered."""

    recorded = Signal(object)

    def __init__(self, ctx: DeskContext, names: Sequence[tuple[int, str]],
                 client_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Record usage"), parent)
        self.setObjectName("recordUsageDialog")
        self.client = QComboBox()
        self.client.setObjectName("usageClient")
        self.client.setEditable(True)
        self.client.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for cid, name in names:
            self.client.addItem(name, cid)
        completer = QCompleter([name for _cid, name in names], self.client)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.client.setCompleter(completer)
        if client_id is not None:
            self.client.setCurrentIndex(max(0, self.client.findData(client_id)))
        self.resource = QComboBox()
        self.resource.setObjectName("usageResource")
        for r in ("minutes", "sms", "email"):
            self.resource.addItem(resource_label(r), r)
        self.quantity = QLineEdit()
        self.quantity.setObjectName("usageQuantity")
        self.quantity.setPlaceholderText(self.tr("e.g. 12.5 minutes, or 300 SMS"))
        self.at = QLineEdit()
        self.at.setObjectName("usageAt")
        self.at.setPlaceholderText(self.tr("now, or e.g. 2026-11-25 14:30"))
        self.event_id = QLineEdit()
        self.event_id.setObjectName("usageEventId")
        self.event_id.setPlaceholderText(self.tr("optional: a repeat is ignored as a duplicate"))
        self.add_field("client", self.tr("&Client"), self.client)
        self.add_field("resource", self.tr("&Resource"), self.resource)
        self.add_field("quantity", self.tr("&Quantity"), self.quantity)
        self.add_field(("at", "occurred_at"), self.tr("&When"), self.at)
        self.add_field("event_id", self.tr("&Event id"), self.event_id)
        self.fields["subscription"] = self.fields["client"]
        self.result = Notice("success")
        self.result.setObjectName("usageResult")
        self.result.hide()
        self.layout_.addWidget(self.result)
        self.finish_layout(self.tr("Record"), cancel_text=self.tr("Close"))
        self.resize(500, self.sizeHint().height())

    def _client_ref(self) -> object:
        text = self.client.currentText().strip()
        index = self.client.findText(text, Qt.MatchFlag.MatchFixedString)
        return self.client.itemData(index) if index >= 0 else text

    def submit(self) -> None:
        desk, tz = self.ctx.desk, self.ctx.fmt.tz
        client, resource = self._client_ref(), self.resource.currentData()
        quantity, at_text, event_id = self.quantity.text(), self.at.text().strip(), \
            self.event_id.text()
        self.result.hide()

        def fn() -> UsageResult:
            if client == "":
                raise InvalidValue("client: choose a client", "client")
            at = None if at_text.lower() in {"", "now"} else usage.parse_time(at_text, tz, "at")
            return usage.record_usage(desk, client=client, resource=resource, quantity=quantity,
                                      at=at, event_id=event_id)

        self.run(fn, self._done)

    def _done(self, result: object) -> None:
        assert isinstance(result, UsageResult)
        fmt, resource = self.ctx.fmt, self.resource.currentData()
        if result.duplicate:
            text = self.tr("Duplicate event id: it was recorded before, nothing changed.")
        else:
            parts = [self.tr("included {n}").format(n=fmt.qty(result.included)),
                     self.tr("wallet {n}").format(n=fmt.qty(result.wallet))]
            if result.overage_units:
                parts.append(self.tr("overage {n} ({amount})").format(
                    n=fmt.qty(result.overage_units), amount=fmt.money(result.overage_amount)))
            if result.unserved:
                parts.append(self.tr("unserved {n}").format(n=fmt.qty(result.unserved)))
            text = self.tr("Recorded {resource}: {parts}.").format(
                resource=resource_label(resource), parts=", ".join(parts))
            if result.late:
                text += " " + self.tr("Dated before this period: charged to it as late usage.")
            if result.blocked:
                text += " " + self.tr("The client is now blocked for {resource}.").format(
                    resource=resource_label(resource))
            self.quantity.clear()
            self.event_id.clear()
        self.result.set("", text, kind="warning" if result.blocked else "success")
        self.result.show()
        self.quantity.setFocus()
        self.recorded.emit(result)


class ImportUsageDialog(FormDialog):
    """A usage file: QuotaDesk's CSV `event_id,client,resource,quantity,occurred_at`, or what
    a calling or messaging platform writes (Asterisk, FreeSWITCH, Twilio, or any CSV through
    a mapping, SPEC §11); previewed before anything is written, imported in batches off the
    UI thread, and cancellable between batches."""

    imported = Signal(object)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Import usage file"), parent)
        self.setObjectName("importUsageDialog")
        self.layout_.addWidget(plain_label(self.tr(
            "QuotaDesk's own CSV, or a platform's export: Asterisk or FreeSWITCH call records, "
            "Twilio's message log, or any CSV through a mapping. A bad line is rejected on its "
            "own; records the platform did not bill (unanswered calls, failed messages) are "
            "skipped; importing the same file again changes nothing."), wrap=True))
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.path = QLineEdit()
        self.path.setObjectName("importPath")
        self.path.setAccessibleName(self.tr("Usage file"))
        self.browse = QPushButton(self.tr("&Browse…"))
        self.browse.setAccessibleName(self.tr("Browse for the usage file"))
        self.browse.setAutoDefault(False)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        self.add_field("file", self.tr("&File"), box)
        self.fields["file"] = (self.path, self.fields["file"][1])
        self.format_imported = "quotadesk"
        self.sources = SourcePanel(ctx)
        self.add_field("format", self.tr("F&ormat"), self.sources.format)
        self.layout_.addLayout(self.form)
        self.layout_.addWidget(self.sources, 1)
        self.summary = Notice("success")
        self.summary.setObjectName("importSummary")
        self.summary.hide()
        self.layout_.addWidget(self.summary)
        self.rejected = QPlainTextEdit()
        self.rejected.setObjectName("importRejected")
        self.rejected.setAccessibleName(self.tr("Rejected lines"))
        self.rejected.setReadOnly(True)
        self.rejected.hide()
        self.layout_.addWidget(self.rejected, 1)
        self.finish_layout(self.tr("Import"), cancel_text=self.tr("Close"), place_form=False)
        self.browse.clicked.connect(self._browse)
        self.path.textChanged.connect(lambda text: self.sources.set_path(text.strip()))
        self.resize(900, 620)

    def _browse(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Import usage file"), "", self.tr("CSV files (*.csv);;All files (*)"))
        if path:
            self.path.setText(path)

    def submit(self) -> None:
        desk, path = self.ctx.desk, self.path.text().strip()
        step_text = self.tr("Importing usage… line {line}")
        self.summary.hide()
        self.rejected.hide()
        try:
            chosen = self.sources.chosen()
        except InvalidValue as refusal:
            self.show_refusal(refusal)
            return
        self.format_imported = chosen

        def fn(progress: Progress) -> ImportResult:
            if not path:
                raise InvalidValue("file: choose a usage file", "file")
            progress.set_maximum(_line_count(path))
            try:
                return usage.import_usage(
                    desk, path, batch_size=IMPORT_BATCH_SIZE,
                    progress=lambda line: progress.report(line, step_text.format(line=line)),
                    cancelled=progress.cancelled, format=chosen)
            except usage.ImportStopped as stop:  # the disk filled up part-way: what was
                return stop.result  # recorded before the stop is kept, and shown as such

        self.run(fn, self._done, progress=self.tr("Importing usage…"), cancellable=True,
                 label=self.tr("Import usage file"))

    def _done(self, result: object) -> None:
        assert isinstance(result, ImportResult)
        count = self.ctx.fmt.count
        lines = [self.tr("Recorded: {n}").format(n=count(result.recorded)),
                 self.tr("Duplicates: {n}").format(n=count(result.duplicates)),
                 self.tr("Rejected: {n}").format(n=count(len(result.rejected)))]
        if result.skipped or self.format_imported != "quotadesk":
            lines.insert(2, self.tr("Skipped (not billable): {n}").format(
                n=count(result.skipped)))
        title = self.tr("Import finished")
        kind = "warning" if result.rejected else "success"
        if result.stopped is not None:
            title = self.tr("Import stopped")
            kind = "danger"
            lines.append(self.tr("Stopped: {reason}").format(reason=result.stopped))
            lines.append(self.tr("The events recorded before the stop were kept, and nothing "
                                 "else was written. Once the problem is fixed, import the file "
                                 "again: what was recorded is skipped as duplicates."))
        elif result.cancelled:
            title = self.tr("Import cancelled")
            kind = "warning"
            lines.append(self.tr("What was recorded before you cancelled stays; importing the "
                                 "file again skips it as duplicates."))
        self.summary.set(title, "\n".join(lines), kind=kind)
        self.summary.show()
        if result.rejected:
            self.rejected.setPlainText("\n".join(
                self.tr("line {line}: {reason}").format(line=r.line, reason=r.reason)
                for r in result.rejected))
            self.rejected.show()
        self.sources.refresh()  # what was recorded now previews as duplicates
        self.imported.emit(result)


def _line_count(path: str) -> int:
    """The lines of a regular file, for the progress bar, read a block at a time (0 for
    anything else: a pipe cannot be read twice, and /dev/zero has no end)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # (opening a pipe would wait for it)
            return 0
        with open(path, "rb") as handle:
            return sum(block.count(b"\n") for block in iter(partial(handle.read, 1 << 20), b""))
    except OSError:
        return 0  # import_usage says what is wrong with the file


def run_rollover(ctx: DeskContext, parent: QWidget, on_done: Callable[[RolloverResult], None]
                 | None = None, *, on_cancelled: Callable[[], None] | None = None,
                 quiet: bool = False) -> int:
    """Close every period that ended by now (SPEC §4), off the UI thread. With a progress
    dialog that can be cancelled between chunks of 500 clients; `quiet` (at start-up) shows
    none. What was closed before a cancel stays closed; running it again finishes the rest."""
    desk = ctx.desk
    step_text = parent.tr("Closing ended periods… {n} clients done")

    def fn(progress: Progress | None = None) -> RolloverResult:
        def step(clients: int) -> None:
            if progress is not None:
                progress.report(clients, step_text.format(n=clients))
                progress.check()  # run_rollover has no cancel hook: stop between its chunks

        return billing.run_rollover(desk, progress=step)

    return ctx.run_op(parent, fn, on_done, progress=None if quiet else parent.tr(
                          "Running the period rollover…"),
                      cancellable=not quiet, label=parent.tr("Period rollover"),
                      on_cancelled=on_cancelled)
