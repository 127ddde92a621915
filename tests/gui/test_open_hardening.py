"""Opening databases in the window says what is true (issue classes 3, 7 and 8): a read-only
file or folder opens read-only with a plain notice, a failed daily backup is a dialog and not
only a log line, and a database password never reaches the title, a dialog or the settings."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtWidgets import QMessageBox

from quotadesk import cli
from quotadesk.app import remembered_database
from quotadesk.services import clients
from quotadesk.views.main_window import MainWindow
from tests.gui.conftest import TIMEOUT, settle


class MemoryKeyring(KeyringBackend):
    """A credential store in memory, for the tests (the real one is the OS's)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.saved.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    store = MemoryKeyring()
    keyring.set_keyring(store)
    yield store
    keyring.set_keyring(previous)


@pytest.fixture(scope="module")
def agency_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("agency") / "q.db"
    for args in (["init", "--timezone", "UTC"], ["client", "add", "Acme"]):
        assert cli.main(["--db", str(db), "--now", "2026-01-10T09:00:00Z", *args]) == 0
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    made: list[Path] = []

    def make(path: Path) -> None:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"chattr +i {path} refused ({done.stderr.strip()}): these tests need "
                        "root on a file system with immutable files")
        made.append(path)

    yield make  # type: ignore[misc]
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def notice(qtbot, win: MainWindow) -> QMessageBox:
    qtbot.waitUntil(lambda: win.dialogs.get("notice") is not None, timeout=TIMEOUT)
    box = win.dialogs["notice"]
    assert isinstance(box, QMessageBox)
    return box


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_database_opens_read_only_and_says_so(qtbot, ctx, bare_window, tmp_path,
                                                          agency_file, immutable, what):
    folder = tmp_path / "desk"
    folder.mkdir()
    db = folder / "q.db"
    shutil.copyfile(agency_file, db)
    immutable(db if what == "file" else folder)
    bare_window.open_database(str(db))
    box = notice(qtbot, bare_window)
    settle(qtbot, ctx)
    assert "q.db is read-only: it is open read-only" in box.text()
    assert "damaged" not in box.text() and "Something went wrong" not in box.text()
    assert bare_window.windowTitle() == "QuotaDesk — q.db (read-only)"
    assert bare_window.client_list.model.rowCount() == 1  # reads work
    assert ctx.failures == [] and "refusal" not in bare_window.dialogs  # no rollover failed
    box.close()
    # A write is refused with a plain dialog that says why.
    ctx.run_op(bare_window, lambda: clients.add_client(ctx.desk, name="Zed"))
    qtbot.waitUntil(lambda: bare_window.dialogs.get("refusal") is not None, timeout=TIMEOUT)
    refusal = bare_window.dialogs["refusal"]
    assert "read-only" in refusal.text() and "Traceback" not in refusal.text()
    assert ctx.failures == []
    assert db.read_bytes() == agency_file.read_bytes()
    refusal.close()


@pytest.mark.slow
def test_a_failed_daily_backup_is_a_dialog(qtbot, ctx, bare_window, tmp_path, agency_file):
    db = tmp_path / "q.db"
    shutil.copyfile(agency_file, db)
    (tmp_path / "backups").write_text("a file where the backups folder should be")
    bare_window.open_database(str(db))
    box = notice(qtbot, bare_window)
    settle(qtbot, ctx)
    assert "today's automatic backup failed" in box.text()
    assert ctx.desk is not None and bare_window.client_list.model.rowCount() == 1
    box.close()


def test_the_password_of_a_server_is_never_shown(qtbot, ctx, bare_window):
    # Nothing listens on loopback port 1: the connection is refused.
    bare_window.open_database("postgresql+psycopg://desk:s3cret-pw@127.0.0.1:1/quotadesk")
    qtbot.waitUntil(lambda: bare_window.dialogs.get("refusal") is not None, timeout=TIMEOUT)
    text = bare_window.dialogs["refusal"].text()
    assert "s3cret-pw" not in text and "desk:***@127.0.0.1:1" in text
    assert "s3cret-pw" not in bare_window.windowTitle() + bare_window.db_label.text()
    assert ctx.failures == []


@pytest.mark.slow
def test_the_settings_keep_a_server_url_without_its_password(bare_window, settings,
                                                             memory_keyring, tmp_path):
    url = "postgresql+psycopg://desk:s3cret-pw@db.example.test:5432/quotadesk"
    bare_window._remember_database(url)
    settings.sync()
    saved = Path(settings.fileName()).read_text()
    assert "s3cret-pw" not in saved and "desk@db.example.test:5432/quotadesk" in saved
    assert memory_keyring.saved == {
        ("QuotaDesk", "postgresql+psycopg://desk@db.example.test:5432/quotadesk"): "s3cret-pw"}
    assert remembered_database(settings) == url  # the window opens it again next time


def test_a_damaged_database_is_restored_from_the_window(qtbot, ctx, bare_window, tmp_path,
                                                         agency_file):
    """Its refusal says "Restore … with File → Restore…": that works with nothing open."""
    db = tmp_path / "q.db"
    shutil.copyfile(agency_file, db)
    damaged = db.read_bytes()[:9000] + b"\xff" * 3000
    db.write_bytes(damaged)
    assert not bare_window.restore_action.isEnabled()
    bare_window.open_database(str(db))
    qtbot.waitUntil(lambda: bare_window.dialogs.get("refusal") is not None, timeout=TIMEOUT)
    assert "is damaged" in bare_window.dialogs["refusal"].text()
    bare_window.dialogs["refusal"].close()
    assert ctx.desk is None and bare_window.restore_action.isEnabled()
    bare_window.restore_from(str(agency_file))
    qtbot.waitUntil(lambda: ctx.desk is not None, timeout=TIMEOUT)
    settle(qtbot, ctx)
    assert bare_window.client_list.model.rowCount() == 1
    kept = list((tmp_path / "backups").glob("q-damaged-*.db"))
    assert [k.read_bytes() for k in kept] == [damaged]
    assert ctx.failures == []
