"""GUI fixtures: a window on the test desk, and helpers that act as a user would."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QRadioButton,
    QTabWidget,
    QWidget,
)
from sqlalchemy import event

import quotadesk.views  # noqa: F401 - the binding guard, before any widget is made
from quotadesk.app import application
from quotadesk.db import open_database
from quotadesk.services import catalog, clients
from quotadesk.services.unit_of_work import Desk
from quotadesk.views.desk_context import DeskContext, read_desk_facts
from quotadesk.views.main_window import MainWindow
from tests.conftest import MovableClock, new_desk

W = TypeVar("W", bound=QWidget)
TIMEOUT = 15_000


@pytest.fixture
def backend() -> str:
    """The window is tested on SQLite only: the services' tests cover every backend."""
    return "sqlite"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test's desk starts from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    open_database(path).dispose()
    return path


@pytest.fixture
def desk(tmp_path: Path, clock: MovableClock, migrated_database: Path) -> Iterator[Desk]:
    """Like the shared `desk` (a fresh SQLite desk, UTC, USD), without migrating each time."""
    path = tmp_path / "desk.db"
    shutil.copyfile(migrated_database, path)
    d = new_desk(path, clock)
    # A throwaway file: no fsync per commit (the window's behaviour does not depend on it).
    event.listen(d.database.engine, "connect", _no_sync)
    d.database.engine.dispose()
    yield d
    d.close()


def _no_sync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


@pytest.fixture(scope="session", autouse=True)
def styled_application(qapp: Any) -> Iterator[Any]:
    """The tests see the window as users do: Fusion, the palette and the style sheet; and,
    as in the app, Python's garbage is collected on the main thread only."""
    app = application()
    gc.disable()
    yield app
    gc.enable()


@pytest.fixture(autouse=True)
def collect_on_the_main_thread() -> Iterator[None]:
    """After each test (its widgets closed): delete what Qt was asked to delete, then collect
    the test's garbage here, before the next test starts worker threads."""
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def ctx(qtbot: Any) -> Iterator[DeskContext]:
    context = DeskContext(locale="en_US")
    yield context
    context.wait_idle()
    QApplication.processEvents()
    failures, context.failures = list(context.failures), []
    context.deleteLater()
    assert not failures, failures[0]


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def bare_window(ctx: DeskContext, qtbot: Any, settings: QSettings) -> Iterator[MainWindow]:
    """A window with no database open yet."""
    win = MainWindow(ctx, settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    ctx.wait_idle()
    if ctx.desk is not None:
        ctx.desk.close()
    win.close()
    win.deleteLater()


@pytest.fixture
def window(ctx: DeskContext, desk: Any, qtbot: Any, settings: QSettings) -> Iterator[MainWindow]:
    """The main window on the `desk` fixture's database, its client list loaded."""
    win = MainWindow(ctx, settings)
    qtbot.addWidget(win)
    win.resize(1400, 860)
    win.show()
    with qtbot.waitSignal(win.client_list.loaded, timeout=TIMEOUT):
        win.adopt(read_desk_facts(desk), rollover=False)
    settle(qtbot, ctx)
    yield win
    win.close()
    win.deleteLater()


@pytest.fixture
def acme(desk: Any) -> int:
    """Seed 000's walk-through: a 500-minute plan, a 100 Minutes Pack assigned to Acme."""
    catalog.add_plan(desk, name="Voice 500", fee="49.00", included={"minutes": "500"})
    catalog.add_plan(desk, name="Voice Basic (no add-ons)", fee="19.00",
                     included={"minutes": "200"}, addons=False)
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00", description="100 minutes for a fixed price")
    catalog.add_pack(desk, name="Additional SMS", resource="sms", units="500", price="20.00",
                     expires_months=12, description="Batch of extra SMS credits")
    client = clients.add_client(desk, name="Acme", email="ops@acme.test")
    clients.subscribe(desk, client=client.id, plan="Voice 500")
    clients.assign_packs(desk, client=client.id, packs=["100 Minutes Pack"])
    return client.id


# -- acting as a user -----------------------------------------------------------------------
def settle(qtbot: Any, ctx: DeskContext) -> None:
    """Wait until every background operation (and the reloads it caused) has finished."""
    qtbot.waitUntil(lambda: ctx.running == 0, timeout=TIMEOUT)


def click(qtbot: Any, widget: QWidget) -> None:
    # A widget added to a shown panel appears, and is laid out, on the next event-loop turn.
    qtbot.waitUntil(lambda: widget.isVisible() and not widget.rect().isEmpty(),
                    timeout=TIMEOUT)
    assert widget.isEnabled(), f"{widget.objectName() or widget} is disabled"
    if isinstance(widget, (QCheckBox, QRadioButton)):
        # The indicator, not the middle of a row-wide widget (outside its text).
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton,
                         pos=QPoint(8, widget.height() // 2))
    else:
        qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_row(qtbot: Any, view: QAbstractItemView, row: int, column: int = 0) -> None:
    index = view.model().index(row, column)
    view.scrollTo(index)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def row_of(view: QAbstractItemView, text: str, column: int = 0) -> int:
    model = view.model()
    for row in range(model.rowCount()):
        if model.index(row, column).data() == text:
            return row
    raise AssertionError(f"no row {text!r} in {view.objectName()}")


def column_texts(view: QAbstractItemView, column: int) -> list[str]:
    model = view.model()
    return [model.index(row, column).data() for row in range(model.rowCount())]


def open_tab(qtbot: Any, tabs: QTabWidget, title: str) -> QWidget:
    bar = tabs.tabBar()
    for i in range(tabs.count()):
        if tabs.tabText(i).replace("&", "") == title:
            qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(i).center())
            assert tabs.currentIndex() == i
            return tabs.widget(i)
    raise AssertionError(f"no tab {title!r}")


def open_client(qtbot: Any, win: MainWindow, name: str) -> None:
    """Click the client's row in the list and wait for the page to load."""
    table = win.client_list.table
    with qtbot.waitSignal(win.client_page.loaded, timeout=TIMEOUT):
        click_row(qtbot, table, row_of(table, name))
    settle(qtbot, win.ctx)


def dialog_of(parent: QWidget, cls: type[W], name: str | None = None) -> W:
    found = [w for w in parent.findChildren(cls) if w.isVisible()
             and (name is None or w.objectName() == name)]
    assert found, f"no visible {cls.__name__}"
    return found[-1]


def center(widget: QWidget) -> QPoint:
    return widget.rect().center()
