"""Importing a usage CSV in batches: in turn in this process, or pipelined to a writer process."""

from __future__ import annotations

import dataclasses
import os
import re
import sqlite3
from collections.abc import Iterator
from decimal import localcontext
from pathlib import Path
from typing import IO

from sqlalchemy.exc import DBAPIError

from quotadesk.db import plain_database_error, sqlite_path
from quotadesk.models import UsageEvent
from quotadesk.models.base import table_of
from quotadesk.services import outbox
from quotadesk.services.bulk_statements import Recorded
from quotadesk.services.changes import Area, Changes, note
from quotadesk.services.errors import DatabaseBusy, QuotaDeskError
from quotadesk.services.results import ImportResult
from quotadesk.services.unit_of_work import EXACT, Desk, Tx, fixed_clock
from quotadesk.services.usage_import import batches as rating
from quotadesk.services.usage_import.batches import (
    Batch,
    Books,
    CancelFn,
    ProgressFn,
    Totals,
    batches,
    import_batch,
)
from quotadesk.services.usage_import.reader import UsageFileError, UsageReader
from quotadesk.services.usage_import.rows import HEADER, ImportFormat, QuotaDeskFormat
from quotadesk.services.usage_import.writer import ImportWriter, WriterStopped, batch_message

BATCH_SIZE = 100_000


class ImportStopped(QuotaDeskError):
    """An import the database (disk full, database gone, locked past the timeout) or the file
    (unreadable part-way) stopped: `result` says exactly what was recorded before the stop,
    whole batches each committed, with `result.stopped` saying why; nothing else was written
    (SPEC §7, §8)."""

    field = "import"

    def __init__(self, result: ImportResult) -> None:
        kept = (f"the {result.recorded:,} events recorded before the stop were kept"
                if result.recorded else "no event was recorded before the stop")
        super().__init__(f"import stopped: {result.stopped}; {kept}")
        self.result = result


def import_usage(desk: Desk, source: str | os.PathLike[str] | IO[bytes], *,
                 batch_size: int = BATCH_SIZE, progress: ProgressFn | None = None,
                 cancelled: CancelFn | None = None, pipelined: bool | None = None,
                 format: str | ImportFormat | None = None) -> ImportResult:
    """Import a usage CSV (SPEC §7): each batch all-or-nothing, committed in file order.

    `format`: QuotaDesk's own CSV (None or "quotadesk"), a platform's (`asterisk`,
    `freeswitch`, `twilio-messages`) or a saved mapping's name (SPEC §11); records the source
    says are not billable are counted as skipped.

    A bad line rejects only itself. Cancelling stops between batches; what was committed
    stays, and a second run counts those events as duplicates. A large file on a SQLite file
    database is written by a second process while the next batch is rated (`pipelined`:
    None decides by the file's size). The file is read as a stream (reader): memory stays
    bounded whatever it holds.

    If the database refuses to take more (disk full, database gone, locked past the timeout)
    or the file cannot be read further, the import stops: `ImportStopped` carries the result
    of the batches committed before the stop, which are kept.
    """
    reading = file_format(desk, format)
    with UsageReader(source, reading.widths, reading.delimiter) as reader:
        parser, rows = reading.start(desk, reader,
                                     render_times=desk.database.engine.dialect.name == "sqlite")
        database = sqlite_path(desk.database.url)
        if pipelined is None:
            pipelined = _pipeline_wanted(source)
        totals = Totals()
        done = finished = False
        stop: Exception | None = None
        try:
            with desk.database.bulk_load():
                try:
                    if pipelined and database is not None:
                        # The writer waits for the first batch: a smaller one gets it going
                        # sooner.
                        opening = batch_size // 8 if batch_size >= RAMP_FROM else batch_size
                        done = _import_pipelined(
                            desk, database,
                            batches(rows, parser, batch_size, opening, reader.left),
                            totals, progress, cancelled)
                    else:
                        done = _import_in_turn(
                            desk, batches(rows, parser, batch_size, batch_size), totals,
                            progress, cancelled)
                except _STOPS as error:
                    stop = error
                finished = True
        except (DBAPIError, sqlite3.Error):
            # Folding the log back into the file once the batches are written failed (the
            # disk is full): what was committed is in the log, and stays there until a later
            # commit folds it back.
            if not finished:
                raise
    if totals.recorded:
        # A writer process committed the batches: say here what they changed (usage and
        # what it draws on, for clients not told apart).
        note(Changes.of(Area.USAGE, Area.WALLET, Area.PAYMENTS, Area.CAMPAIGNS,
                        Area.SUBSCRIPTION, Area.CLIENTS))
        # The payment reminders now due, once for the whole import (its batches queue none:
        # pipelined or in turn, an import stores the same rows), at its last batch's time.
        if totals.last_now is not None:
            outbox.queue_reminders(dataclasses.replace(desk, clock=fixed_clock(totals.last_now)))
    if stop is not None:
        raise ImportStopped(totals.result(cancelled=False, stopped=_stop_reason(stop))) \
            from stop
    return totals.result(cancelled=not done)


def file_format(desk: Desk, format: str | ImportFormat | None) -> ImportFormat:
    """The format a file is read in: QuotaDesk's own, or a usage source's by name."""
    if format is None or (isinstance(format, str) and format.strip().lower() == "quotadesk"):
        return QuotaDeskFormat()
    if isinstance(format, str):
        from quotadesk.services.usage_sources.formats import source_format

        return source_format(desk, format)
    return format


#: What stops an import part-way (SPEC §8: the database refuses to take more, or the file
#: cannot be read further). Anything else is a bug, and propagates as such.
_STOPS = (DBAPIError, sqlite3.Error, DatabaseBusy, WriterStopped, UsageFileError)


def _stop_reason(error: Exception) -> str:
    """Why an import stopped, in one line a person can act on."""
    if isinstance(error, QuotaDeskError):
        return error.message
    text = plain_database_error(error)
    # Said of a refused command; an import that stopped kept what it had committed.
    text = re.sub(r"\s*\(nothing was written\)\s*$", "", text)
    return f"database: {text}"


#: Files from this size up are imported with a writer process (a few batches' worth: below
#: it, starting the process costs more than the overlap saves).
PIPELINE_BYTES = 8 << 20
#: Pipelined batches of at least this size start smaller (an eighth, a quarter, a half).
RAMP_FROM = 10_000


def _pipeline_wanted(source: str | os.PathLike[str] | IO[bytes]) -> bool:
    """By the file's size, unless QUOTADESK_IMPORT_WRITER says `always` or `never` (a way
    out where a second process cannot be started)."""
    choice = os.environ.get("QUOTADESK_IMPORT_WRITER", "").strip().lower()
    if choice in ("always", "never"):
        return choice == "always"
    try:
        return isinstance(source, (str, os.PathLike)) and \
            os.path.getsize(source) >= PIPELINE_BYTES
    except OSError:
        return False  # the reader says what is wrong with the file


def _import_in_turn(desk: Desk, batches: Iterator[Batch], totals: Totals,
                    progress: ProgressFn | None, cancelled: CancelFn | None) -> bool:
    """Rate and write each batch in one transaction of this process. False if cancelled."""
    cache = Books()
    for n, batch in enumerate(batches):
        if n and cancelled is not None and cancelled():
            return False
        if batch.rows:
            import_batch(desk, batch, cache)
            cache.committed()
        totals.add(batch, progress)
    return True


def _import_pipelined(desk: Desk, database: Path, batches: Iterator[Batch], totals: Totals,
                      progress: ProgressFn | None, cancelled: CancelFn | None) -> bool:
    """Rate batch n+1 while the writer process writes batch n. False if cancelled.

    Where the writer process cannot be started (a caller that is itself a daemonic process,
    an embedding executable that cannot start itself again), the import runs in turn."""
    try:
        writer = ImportWriter(database)
    except Exception:
        return _import_in_turn(desk, batches, totals, progress, cancelled)
    try:
        writer.lock()  # what is read for the first batch stays true until it is written
    except WriterStopped:
        writer.close()
        return _import_in_turn(desk, batches, totals, progress, cancelled)
    try:
        done = _write_pipelined(_PipelineRater(desk, writer), batches, totals, progress,
                                cancelled)
    except BaseException:
        writer.kill()  # a batch still being written is rolled back: it was never reported
        raise
    writer.close()
    return done


def _write_pipelined(rater: _PipelineRater, batches: Iterator[Batch], totals: Totals,
                     progress: ProgressFn | None, cancelled: CancelFn | None) -> bool:
    writer = rater.writer
    sent: Batch | None = None  # written, or being written, by the writer
    try:
        for batch in batches:
            if not batch.rows:  # lines refused before rating (the last batch): after `sent`
                if sent is not None:
                    rater.settle(sent, None)
                    totals.add(sent, progress)
                    sent = None
                totals.add(batch, progress)
                continue
            rater.rate(batch, after=sent)
            if sent is not None:
                rater.settle(sent, batch)
                totals.add(sent, progress)
                sent = None
                if cancelled is not None and cancelled():
                    return False  # `batch` is rated, but nothing of it is written
            writer.write(batch.message)
            sent = batch
    except UsageFileError:
        # The file cannot be read further: the batch being written is settled first, so
        # that the result counts it exactly if it was committed.
        if sent is not None:
            rater.settle(sent, None)
            totals.add(sent, progress)
        raise
    if sent is not None:
        rater.settle(sent, None)
        totals.add(sent, progress)
    return True


class _PipelineRater:
    """Rates batches for the writer process: books, row ids and event ids carried from one
    batch to the next, since the batches before are not (yet) in the database."""

    def __init__(self, desk: Desk, writer: ImportWriter) -> None:
        """`writer` holds the write lock for the first batch."""
        self.desk = desk
        self.writer = writer
        self.cache = Books(carried=True)
        self.id_marks: dict[str, int] = {}
        self.fresh = False  # True: nothing carried is known to be true any more

    def rate(self, batch: Batch, after: Batch | None) -> None:
        if self.fresh:
            self.writer.lock()  # what is read now stays true until this batch is written
            self.cache = Books(carried=True)
            self.id_marks = {}
            self.fresh = False
        with localcontext(EXACT), self.desk.database.session(write=False) as session:
            session.info["id_marks"] = self.id_marks  # the next ids after the unwritten rows
            statements: Recorded = []
            journal = rating.rate_batch(Tx(session, self.desk.clock(), self.desk), batch,
                                        self.cache, after.seen if after is not None else None,
                                        statements)
            # Ids taken but not used (duplicates, refused lines) are handed back, as a commit
            # does: the next batch numbers its rows on from the last one written, as in turn.
            for table, pool in session.info.get("id_pools", {}).items():
                if pool:
                    self.id_marks[table] = pool[-1]
            if journal.event_ids:
                self.id_marks[table_of(UsageEvent).name] = journal.event_ids[-1]
        batch.message = batch_message(statements)

    def settle(self, sent: Batch, rated: Batch | None) -> None:
        """Wait until `sent` is committed. If another connection committed first, `sent` was
        stale, and so is `rated` (rated on top of it): both are rated again under the lock."""
        if self.writer.written():
            return
        self.fresh = True
        self.rate(sent, after=None)
        self.writer.write(sent.message)
        if rated is not None:
            self.rate(rated, after=sent)
        if not self.writer.written():  # impossible: written under the lock taken to rate it
            raise WriterStopped("import: the writer refused a batch rated under its lock")


__all__ = ["BATCH_SIZE", "HEADER", "ImportStopped", "file_format", "import_usage"]
