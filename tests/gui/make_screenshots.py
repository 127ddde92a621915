"""Screenshots of every screen for a visual check (not a test): run under Xvfb.

    quotadesk --db /tmp/gui-demo.db demo
    xvfb-run -a -s "-screen 0 1600x1000x24" python tests/gui/make_screenshots.py /tmp/gui-demo.db "" main
    cp /tmp/gui-demo.db /tmp/future.db
    xvfb-run -a -s "-screen 0 1600x1000x24" \\
        python tests/gui/make_screenshots.py /tmp/future.db 2027-12-20T10:00 future
    cp /tmp/gui-demo.db /tmp/import.db
    xvfb-run -a -s "-screen 0 1600x1000x24" \\
        python tests/gui/make_screenshots.py /tmp/import.db "" import

The `import` mode imports a usage export of 250,000 lines (over 8 MiB: written by the
importer's writer process) through the window's dialog, timing it.

PNG files go to screenshots/ (git-ignored).
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from quotadesk.app import _wait, application
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.main_window import MainWindow

OUT = Path(__file__).resolve().parents[2] / "screenshots"
OUT.mkdir(exist_ok=True)
db, now, mode = sys.argv[1], (sys.argv[2] or None), sys.argv[3]
app = application()
ctx = DeskContext(locale="en_US")
settings = QSettings("/tmp/shots-settings.ini", QSettings.Format.IniFormat)
settings.clear()
w = MainWindow(ctx, settings)
w.resize(1500, 920)
w.show()
w.open_database(db, now)
_wait(lambda: ctx.desk is not None and w.client_list.model.rowCount() > 0 and ctx.running == 0, "open", 120)
_wait(lambda: w.agency.totals is not None and ctx.running == 0, "agency")

def settle():
    _wait(lambda: ctx.running == 0, "idle")
    for _ in range(5):
        QApplication.processEvents()
        time.sleep(0.02)

def shot(widget, name):
    settle()
    widget.grab().save(str(OUT / name))
    print("saved", name)

def open_client(name):
    cid = next(r.id for r in w.client_list.model.rows if r.name == name)
    w.client_list.select_client(cid)
    _wait(lambda: w.client_page.data is not None and w.client_page.data.client_id == cid, name)
    settle()
    return cid

if mode == "main":
    shot(w, "01-main-agency.png")
    open_client("Café Mirabelle")
    w.client_page.tabs.setCurrentIndex(0)
    shot(w, "02-blocked-client-overview-no-addons.png")
    w.client_page.tabs.setCurrentIndex(1)
    w.client_page.billing.setCurrentIndex(1)
    shot(w, "03-addon-packs-amber-warning.png")
    open_client("Kessler Auto Group")
    w.client_page.tabs.setCurrentIndex(0)
    shot(w, "04-blocked-client-overview.png")
    w.client_page.tabs.setCurrentIndex(1)
    w.client_page.billing.setCurrentIndex(1)
    shot(w, "05-billing-addon-packs.png")
    tab = w.client_page.billing.addon_packs
    dialog = tab.apply(tab.data.detail.assigned_packs[0])
    settle()
    shot(dialog, "06-apply-dialog.png")
    dialog.reject()
    w.client_page.tabs.setCurrentIndex(2)
    shot(w, "07-portal-preview-blocked.png")
    w.show_agency()
    shot(w, "08-agency-card.png")
    w.open_plans()
    settle()
    shot(w.dialogs["plans"], "09-plans-editor.png")
    w.dialogs["plans"].close()
    w.open_packs()
    settle()
    shot(w.dialogs["packs"], "10-packs-editor.png")
    w.dialogs["packs"].close()
    d = w.record_usage()
    settle()
    shot(d, "11-record-usage.png")
    d.close()
    d = w.import_usage()
    settle()
    shot(d, "12-import-usage.png")
    d.close()
    open_client("Harbor & Pine Realty")
    w.client_page.tabs.setCurrentIndex(1)
    w.client_page.billing.setCurrentIndex(1)
    w.client_page.billing.addon_packs.start_edit()
    settle()
    shot(w, "13-assign-edit.png")
elif mode == "import":
    from quotadesk.services import clients as client_service
    from quotadesk.services.usage_import.pipeline import PIPELINE_BYTES

    csv_path = Path("/tmp/shots-usage.csv")
    listing = [c for c in client_service.list_clients(ctx.desk) if c.plan]
    at = ctx.desk.clock().replace(microsecond=0, tzinfo=None).isoformat()
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        rows = csv.writer(out)
        rows.writerow(["event_id", "client", "resource", "quantity", "occurred_at"])
        for n in range(250_000):
            client = listing[n % len(listing)]
            rows.writerow([f"shot-{n:07d}", client.name, "sms", "1", at])
    assert csv_path.stat().st_size >= PIPELINE_BYTES
    d = w.import_usage()
    d.path.setText(str(csv_path))
    started = time.perf_counter()
    d.accept_button.click()
    _wait(lambda: d.summary.isVisible() and ctx.running == 0, "import", 600)
    print(f"imported through the window in {time.perf_counter() - started:.1f} s")
    shot(d, "30-import-large-file.png")
    d.close()
    shot(w, "31-after-large-import.png")
else:
    open_client("Brightside Tutors")
    w.client_page.tabs.setCurrentIndex(1)
    for i, name in enumerate(["subscription", "addon-packs", "wallet", "payments", "history"]):
        w.client_page.billing.setCurrentIndex(i)
        shot(w, f"20-billing-{i+1}-{name}.png")
    w.client_page.tabs.setCurrentIndex(2)
    shot(w, "21-portal-preview.png")
w.close()
ctx.wait_idle()
print("failures", ctx.failures)
