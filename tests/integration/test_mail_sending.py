"""Sending (SPEC §9) through a real SMTP server on loopback (aiosmtpd), with the faults a
real one has: unreachable, a refused recipient, a temporary failure, a session closed during
DATA, a stall, a wrong password. Nothing is sent twice and nothing queued is lost."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import keyring
import pytest

from quotadesk.db import open_database
from quotadesk.models import EmailOutbox
from quotadesk.services import audit, catalog, clients, mail_sender, outbox
from quotadesk.services.mail_sender import RETRY_DELAYS, MailNotSet, MailServerRefused, send_due
from quotadesk.services.settings import change_settings
from quotadesk.services.unit_of_work import Desk
from tests.conftest import new_desk
from tests.mail_server import PASSWORD, USER, FileKeyring, free_port, smtp_server


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUOTADESK_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.delenv(mail_sender.PASSWORD_ENV, raising=False)
    previous = keyring.get_keyring()
    store = FileKeyring()
    keyring.set_keyring(store)
    yield store
    keyring.set_keyring(previous)


def queue(desk, n: int = 3, email: str = "ops@client.test") -> list[int]:
    """n clients, each with a plan fee request e-mail queued."""
    catalog.add_plan(desk, name="Voice", fee="30.00", included={"minutes": "100"})
    for i in range(n):
        clients.add_client(desk, name=f"Client {i:03d}", email=email.replace("@", f"{i}@"))
        clients.subscribe(desk, client=f"Client {i:03d}", plan="Voice")
    return [m.id for m in outbox.list_messages(desk, status="queued")]


def use(desk, server, **extra: str) -> None:
    change_settings(desk, {**server.settings(), **extra})


def statuses(desk) -> Counter[str]:
    return Counter(m.status for m in outbox.list_messages(desk))


def test_mail_send_without_smtp_set_is_refused(desk):
    queue(desk, 1)
    with pytest.raises(MailNotSet, match="smtp: not set"):
        send_due(desk)
    assert statuses(desk) == {"queued": 1}


def test_a_message_goes_out_once_with_its_message_id_text_html_and_the_servers_reply(desk, tmp_path):
    queue(desk, 2)
    with smtp_server(tmp_path) as server:
        use(desk, server)
        assert send_due(desk) == mail_sender.SendResult(sent=2)
        assert send_due(desk) == mail_sender.SendResult()  # nothing left: nothing sent again
        [run] = audit.list_audit(desk, action="mail.send")  # one entry per run that sent
        assert (run.detail["sent"], run.detail["failed"]) == (2, 0)
        received = server.received
    messages = {m.message_id: m for m in outbox.list_messages(desk)}
    assert sorted(r.message_id for r in received) == sorted(messages)
    for r in received:
        m = messages[r.message_id]
        assert r.recipients == [m.to] and r.sender == "billing@agency.test"
        assert r.message["Subject"] == m.subject
        assert r.message["From"] == "Northwind Agency <billing@agency.test>"
        plain = r.message.get_body(("plain",))
        html = r.message.get_body(("html",))
        assert plain is not None and plain.get_content().replace("\r\n", "\n") == m.body
        assert html is not None and "<p>" in html.get_content()
        assert (m.status, m.attempts, m.error) == ("sent", 0, None)
        assert m.reply is not None and m.reply.startswith("250 2.0.0 Ok: queued as Q")
        assert m.sent_at == desk.clock()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_login_with_the_password_from_the_credential_store(desk, tmp_path, file_keyring, security):
    queue(desk, 1)
    with smtp_server(tmp_path, security, user=USER, login_only=True) as server:
        use(desk, server)
        with pytest.raises(MailServerRefused, match="no password kept"):
            send_due(desk)
        assert statuses(desk) == {"queued": 1}
        mail_sender.store_password(USER, server.host, PASSWORD)
        assert send_due(desk).sent == 1
        assert server.recorder.logins == ["LOGIN:ok"]  # AUTH LOGIN, the store's password
    assert file_keyring.get_password(mail_sender.KEYRING_SERVICE, f"{USER}@127.0.0.1") == PASSWORD


def test_login_with_the_password_from_the_environment(desk, tmp_path, monkeypatch):
    queue(desk, 1)
    monkeypatch.setenv(mail_sender.PASSWORD_ENV, PASSWORD)
    with smtp_server(tmp_path, "starttls", user=USER) as server:
        use(desk, server)
        assert send_due(desk).sent == 1
        assert len(server.received) == 1


def test_a_wrong_password_refuses_the_desk_and_every_message_stays_queued(desk, tmp_path,
                                                                          monkeypatch):
    queue(desk, 2)
    monkeypatch.setenv(mail_sender.PASSWORD_ENV, "wrong")
    with smtp_server(tmp_path, "starttls", user=USER) as server:
        use(desk, server)
        with pytest.raises(MailServerRefused, match=r"refused the login for desk@agency\.test"):
            send_due(desk)
        assert server.received == []
    assert [(m.status, m.attempts) for m in outbox.list_messages(desk)] == [("queued", 0)] * 2


def test_an_unreachable_server_defers_without_counting_an_attempt(desk):
    queue(desk, 3)
    change_settings(desk, {"smtp.host": "127.0.0.1", "smtp.port": str(free_port()),
                           "smtp.security": "none", "smtp.from": "billing@agency.test"})
    assert send_due(desk) == mail_sender.SendResult(deferred=3)
    rows = outbox.list_messages(desk)
    assert {(m.status, m.attempts) for m in rows} == {("queued", 0)}
    assert all("connection refused" in (m.error or "") for m in rows)


def test_a_refused_recipient_fails_at_once(desk, tmp_path):
    queue(desk, 2)
    with smtp_server(tmp_path) as server:
        use(desk, server)
        server.recorder.fault = "reject-rcpt"
        assert send_due(desk) == mail_sender.SendResult(failed=2)
        server.recorder.fault = None
        assert send_due(desk) == mail_sender.SendResult()  # failed stays failed
        assert server.received == []
    rows = outbox.list_messages(desk)
    assert {(m.status, m.attempts) for m in rows} == {("failed", 1)}
    assert all(m.error and m.error.startswith("550 5.1.1") for m in rows)
    outbox.retry_message(desk, rows[0].id)
    with smtp_server(tmp_path) as server:
        use(desk, server)
        assert send_due(desk).sent == 1


def test_a_temporary_failure_is_retried_with_backoff_then_failed_after_five(desk, tmp_path, clock):
    [message_id] = queue(desk, 1)
    with smtp_server(tmp_path) as server:
        use(desk, server)
        server.recorder.fault = "temporary"
        waits = []
        for attempt in range(1, 6):
            assert send_due(desk) == (mail_sender.SendResult(deferred=1) if attempt < 5
                                      else mail_sender.SendResult(failed=1))
            m = outbox.get_message(desk, message_id)
            assert m.attempts == attempt and m.error.startswith("451 4.3.0")
            if attempt < 5:
                assert m.status == "queued"
                waits.append(m.next_attempt_at - clock())
                assert send_due(desk) == mail_sender.SendResult()  # not due yet
                clock.set(m.next_attempt_at)
        assert outbox.get_message(desk, message_id).status == "failed"
        assert waits == list(RETRY_DELAYS)
        assert timedelta(hours=18) < sum(waits, timedelta()) < timedelta(hours=30)
        assert server.received == []


def test_a_session_closed_during_data_counts_an_attempt_and_the_retry_sends_it(desk, tmp_path,
                                                                             clock):
    [message_id] = queue(desk, 1)
    with smtp_server(tmp_path) as server:
        use(desk, server)
        server.recorder.fault = "close-in-data"
        assert send_due(desk) == mail_sender.SendResult(deferred=1)
        m = outbox.get_message(desk, message_id)
        assert (m.status, m.attempts) == ("queued", 1)
        server.recorder.fault = None
        clock.advance(minutes=11)
        assert send_due(desk).sent == 1
        assert [r.message_id for r in server.received] == [m.message_id]


def test_a_stalled_server_times_out_counts_an_attempt_and_loses_nothing(desk, tmp_path):
    [message_id] = queue(desk, 1)
    with smtp_server(tmp_path) as server:
        use(desk, server, **{"smtp.timeout": "1"})
        server.recorder.fault = "stall"
        assert send_due(desk) == mail_sender.SendResult(deferred=1)
        m = outbox.get_message(desk, message_id)
        assert (m.status, m.attempts, m.error) == ("queued", 1, "no answer in time")
        assert server.received == []


def test_a_message_rejected_with_5xx_at_data_fails_at_once(desk, tmp_path):
    [message_id] = queue(desk, 1)
    with smtp_server(tmp_path) as server:
        use(desk, server)
        server.recorder.fault = "reject-data"
        assert send_due(desk) == mail_sender.SendResult(failed=1)
    assert outbox.get_message(desk, message_id).error.startswith("554 5.7.1")


def test_limit_sends_at_most_n(desk, tmp_path):
    queue(desk, 4)
    with smtp_server(tmp_path) as server:
        use(desk, server)
        assert send_due(desk, 3).sent == 3
        assert send_due(desk, 3).sent == 1


def test_two_desks_sending_at_once_never_send_a_message_twice(db_url, clock, tmp_path):
    first = new_desk(db_url, clock)
    queue(first, 40)
    second = Desk(open_database(db_url), clock=clock)
    with smtp_server(tmp_path) as server:
        use(first, server)
        server.recorder.delay = 0.005
        results: list[mail_sender.SendResult] = []
        threads = [threading.Thread(target=lambda d=d: results.append(send_due(d)))
                   for d in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ids = [r.message_id for r in server.received]
    assert len(ids) == len(set(ids)) == 40
    assert sum(r.sent for r in results) == 40
    assert statuses(first) == {"sent": 40}
    first.close()
    second.close()


def _left_claimed(desk, message_id: int, unconfirmed: int) -> None:
    """As a sender killed mid-way leaves a message: claimed by a process that is gone."""
    with desk.database.session(write=True) as session:
        m = session.get(EmailOutbox, message_id)
        m.status, m.claimed_by, m.claimed_at = "sending", f"{mail_sender.HOST}:999999999:x", \
            desk.clock()
        m.unconfirmed = unconfirmed
        session.commit()


@pytest.mark.parametrize(("unconfirmed", "copies"), [(0, 1), (1, 1), (2, 0)])
def test_a_message_left_claimed_by_a_dead_sender_is_sent_at_most_once_more(
        desk, tmp_path, unconfirmed, copies):
    [message_id] = queue(desk, 1)
    _left_claimed(desk, message_id, unconfirmed)
    with smtp_server(tmp_path) as server:
        use(desk, server)
        send_due(desk)
        assert len(server.received) == copies
    m = outbox.get_message(desk, message_id)
    assert m.status == "sent"
    if copies:
        assert m.reply.startswith("250 ")
    else:  # sent twice before, both times stopped before the answer: no third copy
        assert m.reply.startswith("not confirmed")


def test_a_claim_of_a_live_sender_is_left_alone_until_its_lease_ends(desk, tmp_path, clock):
    [message_id] = queue(desk, 1)
    with desk.database.session(write=True) as session:
        m = session.get(EmailOutbox, message_id)
        m.status, m.claimed_by, m.claimed_at = "sending", "another-host:1:x", clock()
        session.commit()
    with smtp_server(tmp_path) as server:
        use(desk, server)
        assert send_due(desk) == mail_sender.SendResult()
        clock.advance(minutes=16)
        assert send_due(desk).sent == 1
