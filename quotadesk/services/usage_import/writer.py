"""An import's writer: a second process that writes each batch while the next is rated."""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing
import os
import pickle
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quotadesk.services.errors import DatabaseBusy, QuotaDeskError

if TYPE_CHECKING:
    from quotadesk.services.bulk_statements import Recorded

# The writer process imports this module only (and the rows it receives are plain values):
# it never loads SQLAlchemy.

#: Attempts at the write lock, each waiting up to the busy timeout (as a service call makes).
LOCK_ATTEMPTS = 6


class WriterStopped(QuotaDeskError):
    """The writer process ended without answering (killed, out of memory)."""

    field = "import"


class ImportWriter:
    """The importer's side: start the process, hand it batches, learn what became of them.

    Rating a batch (Python) and writing it (SQLite's B-trees) take about as long as each other; in
    one process they queue behind one another, and threads cannot overlap them (the GIL is taken
    back between every two rows of an executemany). Here the importer rates batch n+1 while this
    process writes batch n, each batch still one transaction, committed in file order.

    A batch is rated on the state the batches before it leave. Before writing one, the writer
    checks that no other connection committed since its own last commit (`PRAGMA data_version`
    moves only for other connections' commits); if one did, the batch is refused as stale and the
    importer rates it again from what is stored. The first batch, and a batch rated again, are
    rated while the writer holds the write lock, so they cannot be stale.
    """

    def __init__(self, database: Path) -> None:
        from quotadesk.db import BUSY_TIMEOUT_MS, SQLITE_PRAGMAS

        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self._channel, child = context.Pipe()
        settings = (*SQLITE_PRAGMAS, "PRAGMA wal_autocheckpoint=0")  # checkpointed at the end
        self._process = context.Process(
            target=serve, args=(str(database), BUSY_TIMEOUT_MS, settings, child, os.getpid()),
            name="quotadesk-import-writer", daemon=True)
        try:
            with _main_not_rerun():
                self._process.start()
        except BaseException:
            self._channel.close()
            raise
        finally:
            child.close()
        self.waiting = False

    def lock(self) -> None:
        """Take the write lock for the next batch: from now until it is written, no other
        connection commits, so what is read now is what the batch will be written over."""
        self._send(pack(("lock",)))
        self._answer()

    def write(self, batch: bytes) -> None:
        """Send a batch's statements (`batch_message`); `written` says what became of them."""
        assert not self.waiting
        self._send(batch)
        self.waiting = True

    def written(self) -> bool:
        """Wait for the batch sent last: True once committed, False if it was stale (nothing
        of it written)."""
        assert self.waiting
        self.waiting = False
        return self._answer() == "done"

    def _send(self, message: bytes) -> None:
        try:
            self._channel.send_bytes(message)
        except OSError:
            raise self._stopped() from None

    def _answer(self) -> str:
        try:
            answer = self._channel.recv()
        except (EOFError, OSError):
            raise self._stopped() from None
        if answer[0] == "error":
            raise _database_error(answer[1], answer[2])
        return str(answer[0])

    def _stopped(self) -> WriterStopped:
        self._process.join(5)
        return WriterStopped(
            f"import: the writer process stopped (exit code {self._process.exitcode}); "
            "the batches reported so far are committed, and importing the file again "
            "records the rest")

    def close(self) -> None:
        """Stop the process once it is idle (every batch sent has been answered)."""
        with contextlib.suppress(OSError):
            self._channel.send_bytes(pack(("stop",)))
        self._channel.close()
        self._process.join(30)
        if self._process.is_alive():
            self.kill()

    def kill(self) -> None:
        """Stop the process at once (the import failed): a batch it is writing is rolled back,
        as SQLite rolls back any transaction its process did not commit."""
        self._channel.close()
        self._process.kill()
        self._process.join()


#: Two imports starting at once (two windows' worker threads) hide and restore `__main__`'s
#: file one after the other.
_STARTING = threading.Lock()


@contextlib.contextmanager
def _main_not_rerun() -> Iterator[None]:
    """Start the process without running the caller's main script again in it.

    A spawned process normally imports the parent's `__main__` first (for functions defined
    there); `serve` lives in this module, so that is never needed, and a script without an
    `if __name__ == "__main__"` guard would run whole a second time. The main module's file
    and spec are hidden while the start-up data is taken, as for an interactive session."""
    with _STARTING:
        main = sys.modules.get("__main__")
        if main is None:
            yield
            return
        missing = object()
        file = main.__dict__.pop("__file__", missing)
        spec = getattr(main, "__spec__", None)
        main.__spec__ = None
        try:
            yield
        finally:
            if file is not missing:
                main.__file__ = file
            main.__spec__ = spec


def batch_message(statements: Recorded) -> bytes:
    """A batch's statements as sent to the writer: packed while the writer is still busy
    with the batch before, so that it finds the next one ready. Rows of SQLite's storage
    values (None, int, float, str, bytes) go by `marshal`, which packs and unpacks them
    about twice as fast as pickle (between two processes of the same Python); any other
    value by pickle."""
    try:
        return _MARSHALLED + marshal.dumps(("batch", statements))
    except ValueError:  # a value marshal does not take
        return pack(("batch", statements))


def pack(message: tuple[Any, ...]) -> bytes:
    return _PICKLED + pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


_MARSHALLED, _PICKLED = b"M", b"P"


def unpack(data: bytes) -> Any:
    body = memoryview(data)[1:]
    return marshal.loads(body) if data[:1] == _MARSHALLED else pickle.loads(body)


def _database_error(kind: str, message: str) -> Exception:
    from sqlalchemy import exc

    if "locked" in message.lower() or "busy" in message.lower():
        return DatabaseBusy("database: another desk kept it locked; try again in a moment")
    if not hasattr(sqlite3, kind):  # not the database's refusal: the writer itself failed
        return WriterStopped(f"import: the writer process failed ({kind}: {message}); the "
                             "batches reported so far are committed")
    orig = getattr(sqlite3, kind)(message)
    wrapper = {"IntegrityError": exc.IntegrityError,
               "OperationalError": exc.OperationalError}.get(kind, exc.DatabaseError)
    return wrapper("(import batch)", None, orig)


# -- the writer process -------------------------------------------------------------------
def serve(database: str, busy_timeout_ms: int, pragmas: tuple[str, ...], channel: Connection,
          importer: int) -> None:
    """Run batches until told to stop (or the importer goes away), on a connection set up as
    the importer's own are (`pragmas`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the importer's to handle
    _die_with(importer)
    connection = sqlite3.connect(database, timeout=busy_timeout_ms / 1000,
                                 isolation_level=None, check_same_thread=False)
    try:
        for pragma in pragmas:
            connection.execute(pragma)
        _serve(connection, channel)
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        connection.close()


def _die_with(importer: int) -> None:
    """On Linux, an importer killed outright takes its writer with it at once (a batch being
    written is rolled back, as if the importer had written it). Elsewhere the writer ends the
    batch it is writing, then finds the importer gone and stops."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != importer:  # already gone before that took effect
        raise SystemExit(0)


def _serve(connection: sqlite3.Connection, channel: Connection) -> None:
    locked = False
    version: Any = None  # data_version inside our last transaction
    while True:
        try:
            message = unpack(channel.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            if message[0] == "stop":
                return
            if not locked:
                _begin(connection)
                locked = True
                if message[0] == "batch" and _data_version(connection) != version:
                    connection.execute("ROLLBACK")
                    locked = False
                    channel.send(("stale",))
                    continue
            if message[0] == "lock":
                channel.send(("locked",))
                continue
            for sql, rows in message[1]:
                connection.executemany(sql, rows)
            version = _data_version(connection)  # inside the transaction: nobody else wrote
            connection.execute("COMMIT")
            locked = False
            channel.send(("done",))
        except Exception as error:  # told to the importer, which stops the import
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            locked = False
            version = None  # whatever the database holds now, no batch is rated on it
            channel.send(("error", type(error).__name__, str(error)))


def _begin(connection: sqlite3.Connection) -> None:
    delay = 0.05
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or attempt == LOCK_ATTEMPTS:
                raise
            time.sleep(delay)
            delay *= 2


def _data_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA data_version").fetchone()[0])
