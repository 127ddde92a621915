"""Sending the outbox over SMTP (SPEC §9), never inside a billing transaction.

Each message is claimed in a short transaction of its own (so two desks never send it
twice), sent with `smtplib`, then marked `sent` with the server's reply in another. A crash
between the server's acceptance and that mark leaves the claim behind: the next run takes it
over (at once when the claiming process is gone from this machine, after `LEASE` otherwise)
and sends it again with the same Message-ID, so the client's mail program shows one message.
"""

from __future__ import annotations

import os
import smtplib
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sqlalchemy import or_, select, true, update

from quotadesk.models import EmailOutbox
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.settings import KEYS, Settings, show_settings
from quotadesk.services.smtp_session import (
    KEYRING_SERVICE,
    PASSWORD_ENV,
    MailNotSet,
    MailServerRefused,
    Server,
    Unreachable,
    classify,
    close_session,
    last_reply,
    open_session,
    reason,
    smtp_password,
    store_password,
)
from quotadesk.services.unit_of_work import Desk, Tx, write_op

#: Waits after each failed attempt: five attempts spread over about a day (21 h 10 min).
RETRY_DELAYS = (timedelta(minutes=10), timedelta(hours=1), timedelta(hours=4),
                timedelta(hours=16))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: A claim older than this is taken over, whoever made it (a desk on another machine died).
LEASE = timedelta(minutes=15)
#: Messages claimed per transaction; each is marked sent in a transaction of its own.
CLAIM_BATCH = 10
HOST = socket.gethostname()[:100]

Attachment = tuple[str, str, bytes]  # file name, MIME type, content
Attach = Callable[[str], Attachment | None]


@dataclass(frozen=True)
class SendResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0


# -- claiming and marking ------------------------------------------------------------------
def _claim_token() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _abandoned(claimed_by: str | None) -> bool:
    """A claim whose process is gone from this machine (it crashed or was killed)."""
    host, _, rest = (claimed_by or "").partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False  # this process's own claim (an earlier run of the window's sender)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


@write_op
def _claim(tx: Tx, token: str, skip: tuple[int, ...], count: int) -> list[EmailOutbox]:
    """Take up to `count` messages due: queued and due, or left claimed by a process that
    died (on this machine) or that held them longer than `LEASE` (anywhere)."""
    session = tx.session
    due = or_(EmailOutbox.next_attempt_at.is_(None), EmailOutbox.next_attempt_at <= tx.now)
    not_skipped = EmailOutbox.id.not_in(skip) if skip else true()
    claimed = session.execute(select(EmailOutbox.id, EmailOutbox.claimed_by, EmailOutbox.claimed_at)
                              .where(EmailOutbox.status == "sending", not_skipped)
                              .order_by(EmailOutbox.id)).all()
    seen: list[tuple[int, str, str | None]] = [
        (row_id, "sending", by) for row_id, by, at in claimed
        if _abandoned(by) or (at is not None and at < tx.now - LEASE)]
    seen += [(row_id, "queued", None) for row_id in session.scalars(
        select(EmailOutbox.id).where(EmailOutbox.status == "queued", due, not_skipped)
        .order_by(EmailOutbox.id).limit(count))]
    taken: list[int] = []
    stale = {row_id for row_id, status, _by in seen if status == "sending"}
    if stale:
        # Sent twice already, each time without the answer being recorded (the sender was
        # stopped twice mid-way): a third copy is never sent (SPEC §9: at most once more).
        for m in session.scalars(select(EmailOutbox).where(
                EmailOutbox.id.in_(stale), EmailOutbox.unconfirmed >= 2)):
            m.status, m.sent_at, m.claimed_by, m.claimed_at = "sent", tx.now, None, None
            m.reply = ("not confirmed: the sender stopped twice before the server's answer "
                       "was recorded; it was sent, probably twice, with the same Message-ID")
            stale.discard(m.id)
        seen = [entry for entry in seen if entry[1] == "queued" or entry[0] in stale]
    for row_id, status, by in seen[:count]:
        # Taken only if nobody changed it since it was read: another desk that took it first
        # makes this update match no row.
        result = session.execute(update(EmailOutbox).where(
            EmailOutbox.id == row_id, EmailOutbox.status == status,
            EmailOutbox.claimed_by.is_(None) if by is None else EmailOutbox.claimed_by == by)
            .values(status="sending", claimed_by=token, claimed_at=tx.now)
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) == 1:
            taken.append(row_id)
    messages = list(session.scalars(select(EmailOutbox).where(EmailOutbox.id.in_(taken))
                                    .order_by(EmailOutbox.id))) if taken else []
    for m in messages:
        session.expunge(m)
    return messages


@write_op
def _begin(tx: Tx, row_id: int, token: str) -> None:
    """Note, before the server is given the message, that a copy may reach it: if this
    process stops before the answer is recorded, the next sender knows (see `_claim`)."""
    tx.session.execute(update(EmailOutbox).where(
        EmailOutbox.id == row_id, EmailOutbox.claimed_by == token)
        .values(unconfirmed=EmailOutbox.unconfirmed + 1)
        .execution_options(synchronize_session=False))


@write_op
def _finish(tx: Tx, row_id: int, token: str, outcome: str, detail: str) -> str:
    """Record what happened to a claimed message: "sent", "failed" (at once), "attempt" (a
    temporary failure: counted, retried later or failed after the last) or "defer" (the
    server was not reached: not counted). Returns the message's status now."""
    m = tx.session.get(EmailOutbox, row_id, with_for_update=True)
    if m is None or m.claimed_by != token:
        return "lost"  # another desk took the claim over (it outlived the lease)
    m.claimed_by = m.claimed_at = None
    m.unconfirmed = 0  # the server answered (or was never given it)
    if outcome == "sent":
        m.status, m.sent_at, m.reply, m.error, m.next_attempt_at = \
            "sent", tx.now, detail[:2000], None, None
    elif outcome == "failed":
        m.attempts += 1
        m.status, m.error, m.next_attempt_at = "failed", detail[:2000], None
    elif outcome == "attempt":
        m.attempts += 1
        m.error = detail[:2000]
        if m.attempts >= MAX_ATTEMPTS:
            m.status, m.next_attempt_at = "failed", None
        else:
            m.status, m.next_attempt_at = "queued", tx.now + RETRY_DELAYS[m.attempts - 1]
    else:
        m.status = "queued"
        m.error = detail[:2000]
    return m.status


def build_message(m: EmailOutbox, server: Server, attach: Attach | None, now: datetime
                  ) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr((server.sender_name, server.sender)) if server.sender_name \
        else server.sender
    message["To"] = m.to_address or ""
    if server.reply_to and server.reply_to != server.sender:
        message["Reply-To"] = server.reply_to
    message["Subject"] = m.subject
    message["Date"] = format_datetime(m.created_at if m.created_at else now)
    message["Message-ID"] = m.message_id
    message.set_content(m.body)
    if m.html_body:
        message.add_alternative(m.html_body, subtype="html")
    if m.attachment and attach is not None:
        document = attach(m.attachment)
        if document is not None:
            name, mime, content = document
            maintype, _, subtype = mime.partition("/")
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message


def send_due(desk: Desk, limit: int | None = None, *, attach: Attach | None = None,
             password: Callable[[], str] | None = None) -> SendResult:
    """Send what is due now (`mail send`, and the window's sender every minute)."""
    server = Server.of(current_settings(desk))
    token = _claim_token()
    sent = failed = deferred = 0
    tried: set[int] = set()
    smtp: smtplib.SMTP | None = None
    batch: list[EmailOutbox] = []
    try:
        while limit is None or sent + failed + deferred < limit:
            if not batch:
                room = CLAIM_BATCH if limit is None else min(
                    CLAIM_BATCH, limit - sent - failed - deferred)
                batch = _claim(desk, token, (), room)
                if not batch or any(m.id in tried for m in batch):
                    break  # (a message tried in this run is due again only after a wait)
                tried.update(m.id for m in batch)
            m = batch.pop(0)
            row_id = m.id
            try:
                message = build_message(m, server, attach, desk.clock())
            except Exception as error:  # a document that cannot be made: the message waits
                _finish(desk, row_id, token, "attempt", f"attachment: {reason(error)}")
                deferred += 1
                continue
            if smtp is None:
                try:
                    smtp = open_session(server, password)
                except Unreachable as error:
                    # The others due first (ours are still claimed), then ours.
                    deferred += _defer_due(desk, f"not sent yet: {error}") + 1 + len(batch)
                    for waiting in (m, *batch):
                        _finish(desk, waiting.id, token, "defer", f"not sent yet: {error}")
                    batch = []
                    break
                except MailServerRefused as refusal:
                    for waiting in (m, *batch):
                        _finish(desk, waiting.id, token, "defer",
                                f"not sent yet: {refusal.message}")
                    raise
            _begin(desk, row_id, token)
            try:
                refused = smtp.send_message(message, from_addr=server.sender,
                                            to_addrs=[m.to_address or ""])
                reply = last_reply(smtp)
            except (OSError, smtplib.SMTPException) as error:
                status = _finish(desk, row_id, token, classify(error), reason(error))
                failed += status == "failed"
                deferred += status == "queued"
                if not isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
                    close_session(smtp)  # a broken session: the next message opens a new one
                    smtp = None
                continue
            if refused:
                status = _finish(desk, row_id, token, "failed", str(refused))
                failed += 1
                continue
            _finish(desk, row_id, token, "sent", reply)
            sent += 1
    finally:
        if smtp is not None:
            close_session(smtp)
        if batch:  # stopped by an error: what was claimed and not tried waits again
            _release(desk, token, tuple(m.id for m in batch))
        if sent or failed:
            _audit_run(desk, sent, failed, deferred)
    return SendResult(sent, failed, deferred)


@write_op
def _audit_run(tx: Tx, sent: int, failed: int, deferred: int) -> None:
    """One audit entry per sending run that sent or failed something (SPEC §12), not one
    per message: the outbox keeps each message's own record."""
    tx.audit("mail.send", "email", None, sent=sent, failed=failed, deferred=deferred)


@write_op
def _release(tx: Tx, token: str, ids: tuple[int, ...]) -> None:
    tx.session.execute(update(EmailOutbox).where(EmailOutbox.id.in_(ids),
                                                 EmailOutbox.claimed_by == token)
                       .values(status="queued", claimed_by=None, claimed_at=None)
                       .execution_options(synchronize_session=False))


@write_op
def _defer_due(tx: Tx, error: str) -> int:
    """The server cannot be reached: every message due now waits for the next run, its
    last error saying why, no attempt counted."""
    due = or_(EmailOutbox.next_attempt_at.is_(None), EmailOutbox.next_attempt_at <= tx.now)
    result = tx.session.execute(
        update(EmailOutbox).where(EmailOutbox.status == "queued", due)
        .values(error=error[:2000]).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


#: The settings as a desk reads them now (one read transaction).
current_settings = show_settings


def send_test(desk: Desk, to: str, changes: Mapping[str, str] | None = None,
              password: Callable[[], str] | None = None) -> str:
    """Send one test e-mail now (the Settings dialog's button), with the settings as they
    would be after `changes` (not saved); the server's reply."""
    from quotadesk.services.settings import check_setting, email_address

    values = dict(current_settings(desk))
    for key, value in (changes or {}).items():
        values[key] = check_setting(key, value) or KEYS[key].default
    server = Server.of(Settings(values))
    to = email_address(to, "to")
    message = EmailMessage()
    message["From"] = formataddr((server.sender_name, server.sender)) if server.sender_name \
        else server.sender
    message["To"] = to
    message["Subject"] = "QuotaDesk test e-mail"
    message["Message-ID"] = f"<test.{uuid.uuid4().hex}@{server.sender.rpartition('@')[2]}>"
    message.set_content(f"This test e-mail was sent by QuotaDesk through {server.host}:"
                        f"{server.port} ({server.security}). Mail to clients will go out the "
                        "same way.\n")
    try:
        smtp = open_session(server, password)
    except Unreachable as error:
        raise QuotaDeskError(f"smtp.host: cannot reach {error}", "smtp.host") from None
    try:
        smtp.send_message(message, from_addr=server.sender, to_addrs=[to])
        return last_reply(smtp)
    except (OSError, smtplib.SMTPException) as error:
        raise QuotaDeskError(f"to: the server did not take the test e-mail ({reason(error)})",
                             "to") from None
    finally:
        close_session(smtp)


__all__ = ["KEYRING_SERVICE", "PASSWORD_ENV", "MailNotSet", "MailServerRefused", "SendResult",
           "send_due", "send_test", "smtp_password", "store_password"]
