"""A desk process for the invoice-number race: applies priced packs (each makes a payment
request, and so takes an invoice number), then exits.

    python -m tests.integration.invoice_race_worker URL WORKER ROUNDS CLIENTS
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from quotadesk.services import wallet
from quotadesk.services.unit_of_work import Desk, fixed_clock

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)


def main(url: str, worker: int, rounds: int, clients: int) -> int:
    desk = Desk.open(url, clock=fixed_clock(NOW))
    for i in range(rounds):
        # Every worker on every client in turn: requests of the same and of different
        # clients race for the one count.
        wallet.apply_pack(desk, client=f"Client {(i + worker) % clients}", pack="SMS 50",
                          status="paid" if i % 2 else "pending", key=f"w{worker}-{i}")
    desk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], *map(int, sys.argv[2:5])))
