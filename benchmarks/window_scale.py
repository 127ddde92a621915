"""The window at 10,000 and 100,000 clients against plain Qt, whole processes alternated with
their baselines in the same run (issue 15's table):

- start to the painted, filled client list, against a bare QMainWindow + QTableView (10k) and
  against a plain sqlite3 query of the same rows into a minimal Python table model (100k);
- the first screenful painted (before the rest has arrived);
- a filter keystroke at 100k (median, p95, max; from setText to the view repainted) and
  against Qt's C++ QSortFilterProxyModel over the same texts;
- a sort by each column; the longest UI-thread stall while loading, scrolling and typing;
- peak memory (max RSS), against the minimal model.

    python benchmarks/window_scale.py --db /tmp/d100k.db [--runs 3] [--code /path/to/tree]

`--code` runs the window of another source tree (a checkout of the previous version: `git
archive HEAD | tar -x -C /tmp/base`) for a before/after table; both must read the database's
schema without migrating it (run the script itself with `PYTHONPATH` set to the newer tree).
The database is made with `quotadesk demo --clients N` beforehand. The machine's load average
is printed: on a shared machine, compare ratios measured in the same run, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
KEYS = ["a", "at", "atl", "atla", "atlas", "atlas ", "atlas p", "atlas pl", "atlas p", "atlas ",
        "atlas", "atla", "atl", "at", "a", "", "s", "so", "sol", "sola", "solar", "sola", "sol",
        "so", "s", ""]


def _app():
    from quotadesk.app import application

    try:
        return application(styled=False)  # as run_gui: styled once the window is built
    except TypeError:  # a previous version (--code): styled at once
        return application()


def _painted(app, view) -> None:
    view.viewport().repaint()
    app.processEvents()


def _settled(app, view) -> None:
    """What the event loop does after a change, as a user sees it: the delayed layout and
    the paints it asked for, then (if none came) a paint of the list. (Forcing a repaint
    before the event loop ran, as `_painted` does, paints the list twice: once before the
    view's delayed layout and once after.)"""
    watch = _paints(view)
    before = watch.count
    app.processEvents()
    if watch.count == before:
        view.viewport().repaint()
    app.processEvents()


def _paints(view):
    """A counter of the list's paints, installed once per view."""
    watch = getattr(view, "_bench_paints", None)
    if watch is None:
        from PySide6.QtCore import QEvent, QObject

        class Watch(QObject):
            count = 0

            def eventFilter(self, _obj, event):
                if event.type() == QEvent.Type.Paint:
                    self.count += 1
                return False

        watch = Watch(view)
        view.viewport().installEventFilter(watch)
        view._bench_paints = watch
    return watch


def child_bare(_db: str, _count: int) -> dict[str, float]:
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    view = QTableView()
    view.setModel(QStandardItemModel(0, 6))
    window.setCentralWidget(view)
    window.resize(1500, 900)
    window.show()
    _painted(app, view)
    return {"painted": time.time(), "rss_mib": _rss()}


def child_floor(db: str, count: int) -> dict[str, float]:
    """The bare window after importing what any read of the list through the service layer
    needs (SQLAlchemy, its ORM and QuotaDesk's mapped tables): where the start's floor is."""
    import sqlalchemy.dialects.sqlite  # the dialect a SQLite file is opened with
    import sqlalchemy.orm  # noqa: F401

    import quotadesk.models  # noqa: F401

    return child_bare(db, count)


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_minimal(db: str, count: int) -> dict[str, float]:
    """The same rows by a plain sqlite3 query (QuotaDesk's own SQL) in a minimal model."""
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    app = QApplication(sys.argv[:1])

    class Minimal(QAbstractTableModel):
        rows: list[tuple[object, ...]] = []  # noqa: RUF012 - one instance

        def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
            return len(self.rows)

        def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
            return 6

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole:
                return str(self.rows[index.row()][index.column() + 1])
            return None

    window = QMainWindow()
    view = QTableView()
    model = Minimal()
    view.setModel(model)
    window.setCentralWidget(view)
    window.resize(1500, 900)
    window.show()
    connection = sqlite3.connect(db)
    sql = Path(db + ".list.sql").read_text(encoding="utf-8")
    params = json.loads(Path(db + ".list.json").read_text(encoding="utf-8"))
    model.beginResetModel()
    model.rows = connection.execute(sql, params).fetchall()
    model.endResetModel()
    _painted(app, view)
    assert model.rowCount() == count, model.rowCount()
    return {"painted": time.time(), "rss_mib": _rss()}


def child_window(db: str, count: int, measure: bool) -> dict[str, object]:
    from PySide6.QtCore import QSettings, Qt, QTimer

    app = _app()
    from quotadesk.views.ops import MainThreadGarbageCollector

    collector = MainThreadGarbageCollector(app)  # as app.run_gui
    beats = {"last": time.perf_counter(), "longest": 0.0}

    def beat() -> None:
        now = time.perf_counter()
        beats["longest"] = max(beats["longest"], now - beats["last"])
        beats["last"] = now

    settings = QSettings(f"/tmp/window-scale-{os.getpid()}.ini", QSettings.Format.IniFormat)
    timer = QTimer()
    timer.setInterval(2)
    timer.timeout.connect(beat)
    try:
        from quotadesk.app import open_window
    except ImportError:  # the previous version: its run_gui's steps
        ctx, window = _previous_open(db, settings)
    else:
        ctx, window = open_window(db, settings=settings, locale="en_US", on_built=lambda w: (
            w.resize(1500, 900)))
    # The window's own first paint (before it, nothing is on screen to wait for) is timed
    # apart from the stalls.
    started = time.perf_counter()
    app.processEvents()
    shell_paint = time.perf_counter() - started
    timer.start()
    beat()
    beats["longest"] = 0.0
    view = window.client_list.table
    first = None
    while view.model().rowCount() < count:
        app.processEvents()
        if first is None and view.model().rowCount():
            _painted(app, view)
            first = time.time()
        time.sleep(0.0005)
    _painted(app, view)
    result: dict[str, object] = {"painted": time.time(), "first": first or time.time()}
    if measure:
        scroll = view.verticalScrollBar()
        for step in range(40):
            scroll.setValue(scroll.maximum() * step // 40)
            _settled(app, view)
        result["keys"] = keystrokes(app, window.client_list.search, view)
        # The stall: load, scroll and typing (a sort is timed on its own, below).
        result["stall"] = beats["longest"]
        result["shell"] = shell_paint
        result["sorts"] = sorts(app, view, Qt.SortOrder.AscendingOrder)
    timer.stop()
    collector.timer.stop()
    result["rss_mib"] = _rss()
    window.close()
    ctx.wait_idle()
    return result


def _previous_open(db: str, settings):
    from quotadesk.views.desk_context import DeskContext
    from quotadesk.views.main_window import MainWindow

    try:
        from quotadesk.db import check_in_background
    except ImportError:
        pass
    else:
        check_in_background()
    ctx = DeskContext(locale="en_US")
    window = MainWindow(ctx, settings)
    window.resize(1500, 900)
    window.show()
    import gc

    gc.freeze()
    window.open_database(db)
    return ctx, window


def keystrokes(app, line_edit, view) -> list[float]:
    times = []
    for text in KEYS * 2:
        started = time.perf_counter()
        line_edit.setText(text)
        _settled(app, view)
        times.append(time.perf_counter() - started)
    return times


def sorts(app, view, order) -> list[float]:
    times = []
    for column in (1, 2, 3, 4, 5, 0):
        started = time.perf_counter()
        view.sortByColumn(column, order)
        _settled(app, view)
        times.append(time.perf_counter() - started)
    return times


def child_qt_filter(db: str, _count: int) -> dict[str, object]:
    """Qt's C++ filter over the same names, e-mails and plans (the keystroke baseline)."""
    from PySide6.QtCore import QSortFilterProxyModel, Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QLineEdit, QTableView

    app = QApplication(sys.argv[:1])
    rows = sqlite3.connect(db).execute("SELECT name, email FROM clients").fetchall()
    model = QStandardItemModel(len(rows), 2)
    for r, (name, email) in enumerate(rows):
        model.setItem(r, 0, QStandardItem(name))
        model.setItem(r, 1, QStandardItem(email or ""))
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    view = QTableView()
    view.setModel(proxy)
    view.resize(1500, 900)
    view.show()
    edit = QLineEdit()
    edit.textChanged.connect(proxy.setFilterFixedString)
    return {"keys": keystrokes(app, edit, view)}


def write_list_sql(db: str) -> None:
    """QuotaDesk's client list query as SQLite runs it, for the minimal model to run too."""
    from sqlalchemy import event

    from quotadesk.services.client_listing import client_list_rows
    from quotadesk.services.unit_of_work import Desk

    desk = Desk.open(db)
    seen: list[tuple[str, object]] = []
    event.listen(desk.database.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, params, _ctx, _many: seen.append((sql, params)))
    client_list_rows(desk)
    desk.close()
    sql, params = next((s, p) for s, p in seen if "group_concat" in s)
    Path(db + ".list.sql").write_text(sql, encoding="utf-8")
    Path(db + ".list.json").write_text(json.dumps(list(params)), encoding="utf-8")  # type: ignore


def run(kind: str, db: str, count: int, code: str | None = None) -> dict[str, object]:
    env = dict(os.environ)
    if code:
        env["QUOTADESK_CODE"] = code
        env["PYTHONPATH"] = code
    started = time.time()
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--db", db,
                          "--count", str(count)], env=env, capture_output=True, text=True,
                         check=True, cwd=code or str(HERE.parent))
    result = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("painted", "first"):
        if key in result:
            result[key] = result[key] - started
    return result


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", help="the window of this source tree instead of this one's")
    parser.add_argument("--child")
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        kind = args.child
        functions = {"bare": child_bare, "minimal": child_minimal, "qtfilter": child_qt_filter,
                     "floor": child_floor,
                     "window": lambda d, c: child_window(d, c, False),
                     "measure": lambda d, c: child_window(d, c, True)}
        print(json.dumps(functions[kind](args.db, args.count)))
        return 0
    count = sqlite3.connect(args.db).execute("SELECT count(*) FROM clients").fetchone()[0]
    write_list_sql(args.db)
    run("window", args.db, count, args.code)  # warm: today's backup taken, file cached
    rows: dict[str, list[dict[str, object]]] = {"window": [], "bare": [], "minimal": [],
                                                "floor": []}
    for _ in range(args.runs):  # alternated, so that the machine's load hits each alike
        for kind in ("window", "bare", "minimal", "floor"):
            rows[kind].append(run(kind, args.db, count, args.code if kind == "window" else None))

    def med(kind: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in rows[kind])  # type: ignore[arg-type]

    measured = run("measure", args.db, count, args.code)
    qt = run("qtfilter", args.db, count)
    keys, qt_keys = measured["keys"], qt["keys"]
    print(f"{count:,} clients; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs;"
          f" {args.runs} alternated runs each, medians; code: {args.code or 'this tree'}")
    print(f"start to first screenful painted: {med('window', 'first'):.2f} s")
    print(f"start to painted, filled list:    {med('window', 'painted'):.2f} s; bare Qt window "
          f"{med('bare', 'painted'):.2f} s ({med('window', 'painted') / med('bare', 'painted'):.1f}"
          f"x); minimal model, same rows {med('minimal', 'painted'):.2f} s "
          f"({med('window', 'painted') / med('minimal', 'painted'):.2f}x)")
    print(f"bare Qt window after importing SQLAlchemy, its ORM and the mapped tables (the "
          f"floor of any read through the services): {med('floor', 'painted'):.2f} s "
          f"({med('floor', 'painted') / med('bare', 'painted'):.1f}x bare)")
    print(f"filter keystroke: median {statistics.median(keys) * 1000:.1f} ms, p95 "  # type: ignore
          f"{p95(keys) * 1000:.1f} ms, max {max(keys) * 1000:.1f} ms; Qt's C++ proxy: "  # type: ignore
          f"median {statistics.median(qt_keys) * 1000:.1f} ms, p95 "  # type: ignore
          f"{p95(qt_keys) * 1000:.1f} ms")  # type: ignore
    print("sort by column (plan, status, included, wallet, pending, name): " + ", ".join(
        f"{t * 1000:.0f} ms" for t in measured["sorts"]))  # type: ignore
    print(f"longest UI-thread stall (load, scroll, typing): "
          f"{float(measured['stall']) * 1000:.0f} ms; the window's first paint before it "
          f"{float(measured['shell']) * 1000:.0f} ms")  # type: ignore[arg-type]
    print(f"peak memory: {med('window', 'rss_mib'):.0f} MiB; minimal model "
          f"{med('minimal', 'rss_mib') if 'rss_mib' in rows['minimal'][0] else 0:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
