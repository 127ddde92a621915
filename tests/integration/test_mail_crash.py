"""`mail send` killed (SIGKILL) at random instants while it sends 200 messages: afterwards
every message reached the server at least once and at most twice, every duplicate carries
the same Message-ID, and the outbox agrees with what the server received (SPEC §9)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from quotadesk.models import Client
from quotadesk.services import clients, outbox
from quotadesk.services.outbox import MailComposer, insert_messages
from quotadesk.services.rules import mail_text
from quotadesk.services.settings import change_settings
from quotadesk.services.unit_of_work import Tx, write_op
from tests.conftest import MovableClock, new_desk
from tests.mail_server import smtp_server

MESSAGES = 200
pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")]


@write_op
def _queue(tx: Tx, count: int) -> None:
    client = tx.session.scalars(select(Client)).one()
    composer = MailComposer(tx)
    rows = []
    for i in range(count):
        context = {**mail_text.SAMPLE, "client": {"name": f"Client {i:03d}", "email": ""}}
        rows.append(composer.message(kind="alert", client_id=client.id, email="ops@atlas.test",
                                     context=context))
    insert_messages(tx, rows)


def _mail_send(db: Path, capture: bool = False) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("QUOTADESK_DB", None)
    return subprocess.Popen([sys.executable, "-m", "quotadesk", "--db", str(db), "mail", "send"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if capture else subprocess.DEVNULL, env=env)


def test_mail_send_killed_at_random_instants_sends_each_message_once_or_twice(tmp_path: Path):
    seed = int(os.environ.get("QUOTADESK_CRASH_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    db = tmp_path / "desk.db"
    desk = new_desk(db, MovableClock(datetime.now(UTC)))
    change_settings(desk, {"template.alert.subject": "Alert for {{ client.name }}"})
    clients.add_client(desk, name="Atlas Plumbing", email="ops@atlas.test")
    _queue(desk, MESSAGES)
    kills = 0
    with smtp_server(tmp_path) as server:
        change_settings(desk, server.settings())
        server.recorder.delay = 0.01  # a real server takes a moment per message
        for _ in range(8):
            run = _mail_send(db)
            time.sleep(rng.uniform(0.6, 2.5))
            if run.poll() is None:
                run.send_signal(signal.SIGKILL)
                kills += 1
            run.wait(timeout=60)
        for _ in range(2):  # then runs left alone finish the work
            run = _mail_send(db, capture=True)
            _, err = run.communicate(timeout=300)
            assert run.returncode == 0, err.decode()
        received = list(server.received)

    rows = outbox.list_messages(desk, limit=None)
    by_id = {m.message_id: m for m in rows}
    counts = Counter(r.message_id for r in received)
    ids_per_subject: dict[str, set[str]] = defaultdict(set)
    for r in received:
        ids_per_subject[str(r.message["Subject"])].add(r.message_id)
    duplicates = sum(1 for c in counts.values() if c == 2)
    print(f"seed {seed}: {kills} kills, {len(received)} received for {MESSAGES} messages, "
          f"{duplicates} sent twice")
    assert len(rows) == MESSAGES
    assert set(counts) == set(by_id)  # every message reached the server, nothing else did
    assert all(1 <= c <= 2 for c in counts.values()), (seed, counts.most_common(3))
    assert len(ids_per_subject) == MESSAGES
    assert all(len(ids) == 1 for ids in ids_per_subject.values())  # a duplicate: same Message-ID
    assert {m.status for m in rows} == {"sent"}  # the outbox agrees with the server
    for m in rows:  # the server's answer, or why there is none (stopped twice mid-way)
        assert m.reply is not None
        assert m.reply.startswith("250 ") or (
            m.reply.startswith("not confirmed") and counts[m.message_id] >= 1), m.reply
    desk.close()
