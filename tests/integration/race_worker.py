"""A desk process for the concurrency tests: applies packs and records usage, then exits.

    python -m tests.integration.race_worker URL WORKER ROUNDS CLIENTS SHARED_KEYS
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from quotadesk.services import usage, wallet
from quotadesk.services.unit_of_work import Desk, fixed_clock

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)


def main(url: str, worker: int, rounds: int, clients: int, shared: int) -> int:
    desk = Desk.open(url, clock=fixed_clock(NOW))
    for i in range(rounds):
        client = f"Client {i % clients}"
        # Keys shared by every worker: each application must be credited exactly once.
        key = f"shared-{i}" if i < shared else f"w{worker}-{i}"
        pack = "SMS 100" if key.startswith("shared") else "SMS 50"
        wallet.apply_pack(desk, client=client, pack=pack, status="paid", key=key)
        usage.record_usage(desk, client=client, resource="sms", quantity="3",
                           at=NOW, event_id=f"w{worker}-ev-{i}")
        # The same event id from every worker: recorded once, duplicates elsewhere.
        usage.record_usage(desk, client=client, resource="sms", quantity="2", at=NOW,
                           event_id=f"shared-ev-{i}")
    desk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], *map(int, sys.argv[2:6])))
