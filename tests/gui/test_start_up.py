"""The window's start-up path (`app.open_window`, what `run_gui` does): the database opened
and its client list read while the window is built, and what goes wrong on the way said as
an ordinary open says it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from quotadesk import cli
from quotadesk.app import open_window
from quotadesk.db import check_in_background
from quotadesk.views.dialogs.first_run import FirstRunDialog
from quotadesk.views.early_open import EarlyOpen
from tests.gui.conftest import TIMEOUT, settle

NOW = "2026-01-10T09:00:00Z"
NAMES = ["Umbra Studios", "Acme Corp", "Ångström Optics", "Bluebird Dental", "Zephyr Air"]


@pytest.fixture
def started(qtbot: Any, settings: Any) -> Iterator[list[Any]]:
    """Windows opened by `open_window`, closed (and their desks) afterwards."""
    opened: list[Any] = []
    yield opened
    for ctx, window in opened:
        ctx.wait_idle()
        if ctx.desk is not None:
            ctx.desk.close()
        window.close()
        window.deleteLater()
        ctx.deleteLater()
    check_in_background(False)  # open_window turned it on, as run_gui does


def _start(started: list[Any], db: str, settings: Any, now: str | None = None) -> Any:
    ctx, window = open_window(db, now=now, settings=settings, locale="en_US")
    started.append((ctx, window))
    return ctx, window


def _agency(tmp_path: Any, names: list[str]) -> str:
    db = str(tmp_path / "agency.db")
    assert cli.main(["--db", db, "--now", NOW, "init", "--timezone", "UTC"]) == 0
    for name in names:
        assert cli.main(["--db", db, "--now", NOW, "client", "add", name]) == 0
    return db


def test_the_list_read_while_the_window_is_built_is_shown_whole_and_in_order(
        qtbot, started, settings, tmp_path):
    db = _agency(tmp_path, NAMES)
    ctx, window = _start(started, db, settings)
    early = ctx.findChild(EarlyOpen)
    assert early is not None  # the open began before the window was built
    read: list[Any] = []
    early.listed.connect(lambda: read.append(early.listing))
    qtbot.waitUntil(lambda: window.client_list.model.rowCount() == len(NAMES), timeout=TIMEOUT)
    settle(qtbot, ctx)
    shown = [window.client_list.model.client_at(r).name for r in range(len(NAMES))]
    assert shown == ["Acme Corp", "Ångström Optics", "Bluebird Dental", "Umbra Studios",
                     "Zephyr Air"]  # the locale's order, accents with their letter
    assert window.client_list.count.text() == "5 clients"
    # The list was read once, by the early open: the client list did not read it again.
    assert read and read[0] is not None and window.client_list.model.listing is read[0]
    # The early open lets go of the rows once they are shown: the model alone holds them.
    qtbot.waitUntil(lambda: ctx.findChild(EarlyOpen) is None, timeout=TIMEOUT)
    assert window.windowTitle() == "QuotaDesk — agency.db"
    # The integrity check ran once the list was shown, and found the file sound.
    check = ctx.desk.database.integrity
    assert check is not None
    assert check.wait(TIMEOUT / 1000) is None and check.done()
    # A client opens on its page.
    acme = window.client_list.model.client_at(0).id
    window.client_list.select_client(acme)
    qtbot.waitUntil(lambda: window.client_page.data is not None
                    and window.client_page.data.client_id == acme, timeout=TIMEOUT)
    assert window.stack.currentWidget() is window.client_page
    assert not ctx.failures


def test_a_newer_load_is_never_replaced_by_the_early_list(qtbot, started, settings, tmp_path):
    db = _agency(tmp_path, NAMES[:2])
    ctx, window = _start(started, db, settings)
    qtbot.waitUntil(lambda: ctx.desk is not None, timeout=TIMEOUT)
    # A client added elsewhere, and a reload (as a write asks) whatever the early read has
    # done by now: the newer list is the one that stays.
    assert cli.main(["--db", db, "--now", NOW, "client", "add", "Carrow Media"]) == 0
    window.client_list.reload()
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: window.client_list.model.rowCount() == 3, timeout=TIMEOUT)
    assert window.client_list.model.listing.complete
    assert "Carrow Media" in [name for _, name in window.client_list.names()]
    assert not ctx.failures


def test_a_file_that_is_not_a_database_is_refused_as_any_open_refuses_it(
        qtbot, started, settings, tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"this is not SQLite" * 100)
    ctx, window = _start(started, str(junk), settings)
    qtbot.waitUntil(lambda: window.dialogs.get("refusal") is not None, timeout=TIMEOUT)
    box = window.dialogs["refusal"]
    assert isinstance(box, QMessageBox)
    assert "notes.db is not a QuotaDesk database" in box.text()
    assert junk.read_bytes() == b"this is not SQLite" * 100
    settle(qtbot, ctx)
    assert ctx.desk is None and window.db_label.text() == "No database open"
    assert window.client_list.model.rowCount() == 0
    assert window.client_list.count.text() == "0 clients"  # no longer "Loading clients…"
    assert not ctx.failures
    box.close()


def test_a_new_file_offers_the_first_run_set_up(qtbot, started, settings, tmp_path):
    ctx, window = _start(started, str(tmp_path / "new.db"), settings)
    qtbot.waitUntil(lambda: window.findChild(FirstRunDialog) is not None, timeout=TIMEOUT)
    settle(qtbot, ctx)
    assert ctx.desk is None and window.client_list.model.rowCount() == 0
    assert window.client_list.count.text() == "0 clients"
    assert not ctx.failures


def test_a_fixed_clock_reads_the_list_at_that_time_not_early(qtbot, started, settings,
                                                              tmp_path):
    db = _agency(tmp_path, NAMES[:3])
    ctx, window = _start(started, db, settings, now="2026-03-01T10:00")
    assert ctx.findChild(EarlyOpen) is None
    qtbot.waitUntil(lambda: window.client_list.model.rowCount() == 3, timeout=TIMEOUT)
    settle(qtbot, ctx)
    assert window.clock_label.text() == "Clock fixed at 2026-03-01 10:00"
    assert not ctx.failures


def test_the_collector_waits_for_a_large_list_being_read(qtbot):
    """A collection over half a million young rows is a pause of the UI thread: while a
    list load runs, the main-thread collector leaves them alone, then carries on."""
    import gc

    from quotadesk.views import ops

    collector = ops.MainThreadGarbageCollector(interval_ms=60_000)
    try:
        collected: list[int] = []
        collector.collect = lambda generation=2: collected.append(generation) or 0  # type: ignore[method-assign]
        junk = [[n] for n in range(gc.get_threshold()[0] * 2)]  # young objects: one is due
        ops.hold_collection()
        collector.collect_if_due()
        assert collected == []
        ops.release_collection()
        collector.collect_if_due()
        assert len(collected) == 1
        del junk
    finally:
        collector.timer.stop()
        gc.enable()


def test_the_style_sheet_is_given_once_the_window_is_built(qtbot, started, settings, tmp_path):
    """run_gui starts the application unstyled (widgets made under a style sheet are polished
    again at each step of being put together): open_window styles it once the window is
    built, and the window then looks as the style sheet says."""
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance()
    sheet = app.styleSheet()
    assert "QLabel#panelTitle" in sheet
    app.setStyleSheet("")
    try:
        ctx, window = _start(started, _agency(tmp_path, NAMES[:1]), settings)
        assert app.styleSheet() == sheet
        title = next(label for label in window.client_list.findChildren(QLabel)
                     if label.objectName() == "panelTitle")
        title.ensurePolished()
        assert title.font().pointSize() == 13 and title.font().weight() >= 600
        settle(qtbot, ctx)
        assert not ctx.failures
    finally:
        app.setStyleSheet(sheet)


@pytest.mark.parametrize("apart_from, first_reads", [(15_000, []), (3, [3])])
def test_a_first_screenful_is_read_apart_only_for_a_long_list(
        qtbot, started, settings, tmp_path, monkeypatch, apart_from, first_reads):
    from quotadesk.views import early_open

    reads: list[Any] = []
    real = early_open.load_client_listing

    def load(desk: Any, locale: str, limit: int | None = None) -> Any:
        listing = real(desk, locale, limit)
        reads.append((limit, listing))
        return listing

    monkeypatch.setattr(early_open, "SCREENFUL_APART_FROM", apart_from)
    monkeypatch.setattr(early_open, "FIRST_SCREENFUL", 3)
    monkeypatch.setattr(early_open, "load_client_listing", load)
    db = _agency(tmp_path, NAMES)
    ctx, window = _start(started, db, settings)
    assert window.client_list.count.text() == "Loading clients…"  # not "0 clients"
    qtbot.waitUntil(lambda: window.client_list.model.rowCount() == len(NAMES), timeout=TIMEOUT)
    settle(qtbot, ctx)
    firsts = [listing for limit, listing in reads if limit is not None]
    assert [len(first.rows) for first in firsts] == first_reads
    for first in firsts:  # a screenful (by the stored name key) in the locale's order
        from quotadesk.views.formatting import collation_key

        names = [r.name for r in first.rows]
        assert not first.complete and set(names) <= set(NAMES)
        assert names == sorted(names, key=collation_key)
    assert [limit for limit, _ in reads if limit is None] == [None]  # the whole list, once
    assert window.client_list.model.listing.complete
    assert window.client_list.count.text() == "5 clients"
    assert not ctx.failures


def test_the_quicker_feature_check_answers_as_pysides_own():
    """PySide's question of each imported module (does its source name PySide6?) answered
    from the file's bytes, as `inspect.getsource` answered it."""
    import inspect
    import sys

    import quotadesk.services.rules.money
    import quotadesk.views.ops

    feature = sys.modules["shibokensupport.feature"]
    assert getattr(feature._mod_uses_pyside, "quick", False)
    for module in (quotadesk.views.ops, quotadesk.services.rules.money, inspect, sys):
        try:
            expected = "PySide6" in inspect.getsource(module)
        except (OSError, TypeError):
            expected = False
        assert feature._mod_uses_pyside(module) is expected, module.__name__
