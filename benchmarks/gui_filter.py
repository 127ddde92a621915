"""The window with 10,000 clients: time to open, the longest UI-thread stall while it loads,
and the time each keystroke in the client search takes to filter and repaint.

Prints ratios against a baseline measured in the same run: the same keystrokes on Qt's own
C++ filter (QSortFilterProxyModel.setFilterFixedString over a QStandardItemModel holding the
same 10,000 names) in a table of the same size.

    python benchmarks/gui_filter.py [--db PATH] [--clients 10000]

The database is built once through the services (a few minutes) and reused while it holds
the wanted number of clients.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

#: Targets typed in turn: each step is one keystroke (or Backspace) from the previous one.
KEYSTROKES = ["c", "cl", "cli", "clie", "clien", "client", "client ", "client 0", "client 00",
              "client 004", "client 0042", "client 004", "client 00", "client 0", "client ",
              "client", "clien", "clie", "cli", "cl", "c", "", "9", "99", "999", "99", "9", ""]
PASSES = 3


def build(path: Path, count: int) -> None:
    from quotadesk.services import catalog, clients, setup, usage, wallet
    from quotadesk.services.unit_of_work import Desk

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    desk = Desk.open(str(path))
    setup.init_database(desk, currency="USD", timezone="UTC")
    catalog.add_plan(desk, name="Voice 500", fee="49.00", included={"minutes": "500"})
    catalog.add_plan(desk, name="Messaging", fee="29.00", included={"sms": "1000"},
                     overage={"sms": "0.02"})
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    started = time.perf_counter()
    lines = ["event_id,client,resource,quantity,occurred_at"]
    for i in range(count):
        name = f"Client {i:05d} Ltd"
        client = clients.add_client(desk, name=name, email=f"billing{i}@example.com")
        if i % 10 == 9:
            continue  # some clients without a subscription
        clients.subscribe(desk, client=client.id, plan="Messaging" if i % 3 == 0 else
                          "Voice 500")
        if i % 3 and i % 7 == 0:
            clients.assign_packs(desk, client=client.id, packs=["100 Minutes Pack"])
            wallet.apply_pack(desk, client=client.id, pack="100 Minutes Pack", status="pending")
        if i % 3 and i % 11 == 0:
            lines.append(f"u{i},{client.id},minutes,600,")
        if (i + 1) % 1000 == 0:
            print(f"  built {i + 1} clients in {time.perf_counter() - started:.0f} s",
                  flush=True)
    now = desk.clock().isoformat()
    csv = Path(f"{path}.usage.csv")
    csv.write_text("\n".join(line + now if line.endswith(",") else line for line in lines))
    usage.import_usage(desk, csv)
    desk.close()


def client_count(path: Path) -> int:
    from quotadesk.services import clients
    from quotadesk.services.unit_of_work import Desk

    if not path.exists():
        return 0
    desk = Desk.open(str(path))
    try:
        return len(clients.client_names(desk)) if desk.initialised else 0
    finally:
        desk.close()


class Stalls:
    """A 2 ms heartbeat on the UI thread: the longest gap is the longest stall."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer = QTimer()
        self.timer.setInterval(2)
        self.timer.timeout.connect(self.beat)
        self.timer.start()

    def beat(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now


def keystroke_times(app: object, line_edit: object, view: object) -> tuple[list[float],
                                                                          list[float]]:
    """Type towards each target as a user would (keys, Backspace); per keystroke-step, the
    wall time and this process's CPU time until filtered and repainted."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    wall, cpu = [], []
    for _ in range(PASSES):
        for target in KEYSTROKES:
            started, started_cpu = time.perf_counter(), time.process_time()
            while not target.startswith(line_edit.text()):  # type: ignore[attr-defined]
                QTest.keyClick(line_edit, Qt.Key.Key_Backspace)
            QTest.keyClicks(line_edit, target[len(line_edit.text()):])  # type: ignore
            view.viewport().repaint()  # type: ignore[attr-defined]
            app.processEvents()  # type: ignore[attr-defined]
            wall.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    return wall, cpu


def baseline_view(rows: list[list[str]]) -> tuple[object, object, object]:
    """The same table (same columns and texts, same size) on Qt's C++ model and filter."""
    from PySide6.QtCore import QSortFilterProxyModel, Qt
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QLineEdit, QTableView, QVBoxLayout, QWidget

    model = QStandardItemModel(len(rows), len(rows[0]))
    for r, texts in enumerate(rows):
        for c, text in enumerate(texts):
            model.setItem(r, c, QStandardItem(text))
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setFilterKeyColumn(0)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    holder = QWidget()
    layout = QVBoxLayout(holder)
    edit = QLineEdit()
    view = QTableView()
    view.setModel(proxy)
    view.verticalHeader().hide()
    layout.addWidget(edit)
    layout.addWidget(view)
    edit.textChanged.connect(proxy.setFilterFixedString)
    holder.resize(660, 860)
    holder.show()
    holder._keep = (model, proxy)  # type: ignore[attr-defined]
    return holder, edit, view


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/quotadesk-bench-10k.db")
    parser.add_argument("--clients", type=int, default=10_000)
    args = parser.parse_args()
    path = Path(args.db)
    if client_count(path) != args.clients:
        print(f"Building {args.clients} clients in {path} (once)…", flush=True)
        build(path, args.clients)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from quotadesk.app import application
    from quotadesk.views.desk_context import DeskContext
    from quotadesk.views.main_window import MainWindow

    app = application()
    assert isinstance(app, QApplication)
    settings = QSettings(str(path) + ".ini", QSettings.Format.IniFormat)
    settings.clear()
    ctx = DeskContext(locale="en_US")
    started = time.perf_counter()
    window = MainWindow(ctx, settings)
    window.resize(1500, 900)
    window.show()
    app.processEvents()
    shown = time.perf_counter() - started
    stalls = Stalls()  # from here on, the database is opened and read off the UI thread
    window.open_database(str(path))
    while window.client_list.model.rowCount() < args.clients or ctx.running:
        app.processEvents()
        time.sleep(0.001)
    loaded = time.perf_counter() - started
    stalls.beat()
    longest_stall = stalls.longest
    stalls.timer.stop()

    ours, ours_cpu = keystroke_times(app, window.client_list.search, window.client_list.table)
    model = window.client_list.model
    texts = [[model.display(row, c) for c in range(model.columnCount())] for row in model.rows]
    holder, edit, view = baseline_view(texts)
    base, base_cpu = keystroke_times(app, edit, view)

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, int(len(values) * 0.95) - 1)]

    def line(label: str, values: list[float]) -> str:
        return (f"{label}: median {statistics.median(values) * 1000:.1f} ms, "
                f"p95 {p95(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms")

    print(f"clients: {args.clients}; machine load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"window built and shown in {shown * 1000:.0f} ms (no database yet); list loaded "
          f"off the UI thread {loaded * 1000:.0f} ms after start; longest UI-thread stall "
          f"while the database opened and 10,000 rows arrived: {longest_stall * 1000:.0f} ms")
    print(line("keystroke, ours, wall    ", ours))
    print(line("keystroke, ours, CPU     ", ours_cpu))
    print(line("keystroke, baseline, wall", base))
    print(line("keystroke, baseline, CPU ", base_cpu))
    print("  (baseline: Qt's C++ QStandardItemModel + QSortFilterProxyModel, same columns, "
          "texts and size)")
    print(f"ratio ours/baseline (CPU): median "
          f"{statistics.median(ours_cpu) / statistics.median(base_cpu):.2f}, "
          f"p95 {p95(ours_cpu) / p95(base_cpu):.2f}")
    window.close()
    holder.close()  # type: ignore[attr-defined]
    ctx.wait_idle()
    if ctx.desk is not None:
        ctx.desk.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
