"""The outbox (SPEC §9): what the desk owes its clients by mail, queued in the same
transaction as the write that causes it; listed, opened and retried from here. Sending is
`mail_sender`'s, outside any billing transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, exists, func, insert, literal, or_, select, update

from quotadesk.models import Client, EmailOutbox, PaymentRequest
from quotadesk.services.changes import note_rows
from quotadesk.services.errors import InvalidValue, NotFound
from quotadesk.services.references import find, record_id
from quotadesk.services.results import OutboxMessage
from quotadesk.services.rules import mail_text
from quotadesk.services.rules.account import last_day
from quotadesk.services.rules.money import money_text
from quotadesk.services.rules.periods import local_date
from quotadesk.services.settings import Settings, current
from quotadesk.services.unit_of_work import Tx, read_op, write_op

NO_ADDRESS = "no e-mail address"
TYPE_WORDS = {"Plan": "the plan fee", "Pack": "an add-on package", "Overage": "overage"}


class MailComposer:
    """Renders the messages of one transaction with the settings it sees (templates are
    compiled once per process and source)."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.settings: Settings = current(tx)
        self.templates = self.settings.templates()
        self.domain = _domain(self.settings["smtp.from"] or self.settings["agency.email"])

    # -- contexts ------------------------------------------------------------------------
    def _base(self, name: str, email: str | None) -> dict[str, Any]:
        s = self.settings
        return {"client": {"name": name, "email": email or ""},
                "agency": {"name": s["agency.name"], "email": s["agency.email"],
                           "address": s["agency.address"], "tax_id": s["agency.tax_id"]}}

    def request_context(self, request: dict[str, Any], name: str, email: str | None
                        ) -> dict[str, Any]:
        context = self._base(name, email)
        reference = str(request["reference"])
        detail = reference.split(" · ", 1)[1] if " · " in reference else reference
        description = TYPE_WORDS.get(str(request["type"]), str(request["type"]))
        context["request"] = {
            "number": request.get("invoice_number") or f"#{request['id']}",
            "amount": money_text(Decimal(request["amount"]), self.tx.currency),
            "currency": self.tx.currency, "due_date": _day(request["due_date"]),
            "type": request["type"], "description": f"{description} ({detail})",
            "reference": reference, "status": request["status"]}
        return context

    # -- rows ----------------------------------------------------------------------------
    def message(self, *, kind: str, client_id: int, email: str | None, context: dict[str, Any],
                key: str | None = None, alert_id: int | None = None,
                request_id: int | None = None, attachment: str | None = None) -> dict[str, Any]:
        subject, body, html = mail_text.render(self.templates[kind], context)
        to = email or None
        row_id = self.tx.new_id(EmailOutbox.__table__)
        # Stable and unique: this database's token, the row, and the moment (a restored
        # backup numbers its new rows again, at other moments).
        message_id = (f"<{row_id}.{self.tx.now:%Y%m%d%H%M%S%f}."
                      f"{self.settings.message_id_token}@{self.domain}>")
        return {
            "id": row_id, "client_id": client_id, "kind": kind,
            "key": key, "alert_id": alert_id, "payment_request_id": request_id,
            "attachment": attachment, "to_address": to, "subject": subject[:300], "body": body,
            "html_body": html, "message_id": message_id,
            "status": "queued" if to else "failed", "attempts": 0, "next_attempt_at": None,
            "claimed_by": None, "claimed_at": None, "unconfirmed": 0,
            "created_at": self.tx.now, "sent_at": None,
            "reply": None, "error": None if to else NO_ADDRESS}

    def alert(self, *, client_id: int, name: str, email: str | None, alert_id: int,
              resource: str, kind: str, threshold: int | None, period_start: datetime,
              period_end: datetime, addons: bool) -> dict[str, Any] | None:
        if not self.settings.on("mail.alerts"):
            return None
        tz = self.tx.tz
        context = self._base(name, email)
        context["period"] = {"start": _day(local_date(period_start, tz)),
                             "end": _day(last_day(period_end, tz)),
                             "reset": _day(local_date(period_end, tz))}
        context["alert"] = {"kind": kind, "resource": mail_text.RESOURCE_WORDS[resource],
                            "state": mail_text.alert_state(kind, threshold),
                            "percent": threshold, "addons": addons}
        return self.message(kind="alert", client_id=client_id, email=email, context=context,
                            alert_id=alert_id)

    def request(self, request: dict[str, Any], name: str, email: str | None
                ) -> dict[str, Any] | None:
        if not self.settings.on("mail.requests"):
            return None
        return self.message(kind="request", client_id=int(request["client_id"]), email=email,
                            context=self.request_context(request, name, email),
                            key=f"request:{request['id']}", request_id=int(request["id"]),
                            attachment=f"invoice:{request['id']}")

    def reminder(self, request: dict[str, Any], days: int, today: date, name: str,
                 email: str | None) -> dict[str, Any]:
        context = self.request_context(request, name, email)
        context["reminder"] = {"days": days,
                               "days_overdue": (today - _as_date(request["due_date"])).days}
        return self.message(kind="reminder", client_id=int(request["client_id"]), email=email,
                            context=context, key=f"reminder:{request['id']}:{days}",
                            request_id=int(request["id"]), attachment=f"invoice:{request['id']}")


def _domain(address: str) -> str:
    domain = address.rpartition("@")[2].strip(" >") if "@" in address else ""
    return domain or "quotadesk.invalid"


def _as_date(value: object) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else \
        date.fromisoformat(str(value)[:10])


def _day(value: object) -> str:
    return _as_date(value).isoformat()


# -- reminders ------------------------------------------------------------------------------
def due_reminders(tx: Tx, client_ids: Collection[int] | None,
                  composer: MailComposer | None = None) -> list[dict[str, Any]]:
    """Outbox rows for the reminders now due (SPEC §9): a request still pending N days after
    its due date, for each N of `mail.reminders`, once; never before the day."""
    composer = composer or MailComposer(tx)
    days = list(dict.fromkeys(composer.settings.reminder_days))
    if not days or (client_ids is not None and not client_ids):
        return []
    today = local_date(tx.now, tx.tz)
    # Only the reminders not yet queued are read: the outbox's unique key answers in the
    # database (a desk with 100,000 clients holds tens of thousands of old reminders).
    found: list[tuple[int, PaymentRequest, int, str, str | None]] = []
    for place, n in enumerate(days):
        key = literal("reminder:") + cast(PaymentRequest.id, String) + literal(f":{n}")
        query = (select(PaymentRequest, Client.name, Client.email)
                 .join(Client, Client.id == PaymentRequest.client_id)
                 .where(PaymentRequest.status == "pending",
                        PaymentRequest.due_date <= today - timedelta(days=n),
                        ~exists().where(EmailOutbox.key == key)))
        for chunk in _chunks(client_ids):
            q = query if chunk is None else query.where(PaymentRequest.client_id.in_(chunk))
            found.extend((r.id, r, place, name, email)
                         for r, name, email in tx.session.execute(q).all())
    # In the order of the requests, then of `mail.reminders` (the order they always had).
    found.sort(key=lambda item: (item[0], item[2]))
    return [composer.reminder(request_fields(r), days[place], today, name, email)
            for _, r, place, name, email in found]


def request_fields(r: PaymentRequest) -> dict[str, Any]:
    """A stored request as `MailComposer` reads one (the row PendingWrites inserts)."""
    return {c: getattr(r, c) for c in ("id", "client_id", "type", "amount", "due_date",
                                       "status", "reference", "invoice_number")}


def _chunks(ids: Collection[int] | None) -> Iterable[Sequence[int] | None]:
    if ids is None:
        yield None
        return
    listed = sorted(ids)
    for start in range(0, len(listed), 500):
        yield listed[start:start + 500]


def insert_messages(tx: Tx, rows: list[dict[str, Any]]) -> None:
    if rows:
        tx.session.execute(insert(EmailOutbox), rows)
        note_rows(tx.session, "email_outbox", {int(r["client_id"]) for r in rows})


@write_op
def queue_reminders(tx: Tx) -> int:
    """Every reminder now due, for every client (the nightly rollover's last step)."""
    rows = due_reminders(tx, None)
    insert_messages(tx, rows)
    return len(rows)


@write_op
def queue_statement(tx: Tx, client: object, start: date, end: date, due: Decimal) -> OutboxMessage:
    """Queue a statement e-mail for a client (SPEC §10: kind "statement"), the statement PDF
    attached when it is sent."""
    row = find(tx.session, Client, client)
    if end < start:
        raise InvalidValue("to: the statement ends before it starts", "to")
    composer = MailComposer(tx)
    context = composer._base(row.name, row.email)
    context["statement"] = {"start": start.isoformat(), "end": end.isoformat(),
                            "due": money_text(due, tx.currency), "currency": tx.currency}
    message = composer.message(kind="statement", client_id=row.id, email=row.email,
                               context=context,
                               attachment=f"statement:{row.id}:{start.isoformat()}:{end.isoformat()}")
    insert_messages(tx, [message])
    tx.audit("mail.statement", "client", row.id, start=start.isoformat(), end=end.isoformat())
    return _info(tx, tx.session.get_one(EmailOutbox, message["id"]), row.name)


# -- reading and retrying --------------------------------------------------------------------
def _info(tx: Tx, m: EmailOutbox, client: str | None) -> OutboxMessage:
    return OutboxMessage(
        id=m.id, client=client, client_id=m.client_id, to=m.to_address, subject=m.subject,
        kind=m.kind, status=m.status, attempts=m.attempts, created_at=m.created_at,
        sent_at=m.sent_at, next_attempt_at=m.next_attempt_at, error=m.error, reply=m.reply,
        body=m.body, html_body=m.html_body, message_id=m.message_id, attachment=m.attachment)


@read_op
def list_messages(tx: Tx, client: object = None, status: str | None = None,
                  limit: int | None = 1000) -> list[OutboxMessage]:
    """The outbox, newest first (`mail list`)."""
    query = (select(EmailOutbox, Client.name)
             .outerjoin(Client, Client.id == EmailOutbox.client_id))
    if client is not None:
        query = query.where(EmailOutbox.client_id == find(tx.session, Client, client).id)
    if status is not None:
        if status not in ("queued", "sent", "failed"):
            raise InvalidValue(f"status: queued, sent or failed, not {status!r}", "status")
        # A message being sent right now is still waiting, as far as anyone reading knows.
        query = query.where(EmailOutbox.status.in_(("queued", "sending")) if status == "queued"
                            else EmailOutbox.status == status)
    query = query.order_by(EmailOutbox.created_at.desc(), EmailOutbox.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_info(tx, m, name) for m, name in tx.session.execute(query).all()]


@read_op
def get_message(tx: Tx, message_id: object) -> OutboxMessage:
    m = tx.session.get(EmailOutbox, record_id(message_id, "message"))
    if m is None:
        raise NotFound(f"message: no message {message_id}", "message")
    client = tx.session.get(Client, m.client_id) if m.client_id is not None else None
    return _info(tx, m, client.name if client else None)


@write_op
def retry_message(tx: Tx, message_id: object) -> OutboxMessage:
    """Queue a failed message again (`mail retry ID`), to the client's address as it is now."""
    m = tx.session.get(EmailOutbox, record_id(message_id, "message"), with_for_update=True)
    if m is None:
        raise NotFound(f"message: no message {message_id}", "message")
    if m.status != "failed":
        raise InvalidValue(f"message: message {m.id} is {_status_word(m.status)}, not failed; "
                           "only a failed message can be retried", "message")
    client = tx.session.get(Client, m.client_id) if m.client_id is not None else None
    address = client.email if client is not None else m.to_address
    if not address:
        raise InvalidValue(f"email: {client.name if client else 'the client'} has no e-mail "
                           "address; add one, then retry", "email")
    m.to_address = address
    m.status, m.attempts, m.next_attempt_at, m.error = "queued", 0, None, None
    m.claimed_by = m.claimed_at = None
    m.unconfirmed = 0
    tx.audit("mail.retry", "email", m.id, to=address)
    return _info(tx, m, client.name if client else None)


def _status_word(status: str) -> str:
    return "being sent" if status == "sending" else status


@read_op
def outbox_summary(tx: Tx) -> tuple[int, datetime | None]:
    """(messages waiting, the last time one was sent), for the status bar."""
    waiting = tx.session.scalar(select(func.count(EmailOutbox.id)).where(
        or_(EmailOutbox.status == "queued", EmailOutbox.status == "sending"))) or 0
    last = tx.session.scalar(select(func.max(EmailOutbox.sent_at)))
    return int(waiting), last


# -- previews (the Settings dialog's template editor) ---------------------------------------
@read_op
def preview_message(tx: Tx, kind: str, subject: str, body: str, client: object = None
                    ) -> tuple[str, str, str]:
    """(subject, text, HTML) of a template as `client` would receive it now, with their
    latest payment request and period where they have them (else the sample's)."""
    from quotadesk.services.rules.mail_text import SAMPLE

    composer = MailComposer(tx)
    context: dict[str, Any] = {**SAMPLE, **composer._base(
        SAMPLE["client"]["name"], SAMPLE["client"]["email"])}
    if client is not None:
        row = find(tx.session, Client, client)
        context.update(composer._base(row.name, row.email))
        request = tx.session.scalars(select(PaymentRequest).where(
            PaymentRequest.client_id == row.id).order_by(PaymentRequest.id.desc())).first()
        if request is not None:
            context["request"] = composer.request_context(
                request_fields(request), row.name, row.email)["request"]
    for key in ("subject", "body"):
        mail_text.check_template(f"template.{kind}.{key}", kind, key,
                                 subject if key == "subject" else body)
    return mail_text.render({"subject": subject, "body": body}, context)


@read_op
def preview_clients(tx: Tx, limit: int = 500) -> list[tuple[int, str]]:
    """Clients to preview a template for: those with an address first, by name."""
    return [(cid, name) for cid, name in tx.session.execute(
        select(Client.id, Client.name).order_by(Client.email.is_(None), Client.name_key)
        .limit(limit)).all()]


@write_op
def settle_demo_history(tx: Tx, before: datetime) -> int:
    """A demo agency has been sending its mail all along: what it queued before `before`
    to a client with an address is sent, when it was queued."""
    result = tx.session.execute(
        update(EmailOutbox)
        .where(EmailOutbox.status == "queued", EmailOutbox.created_at < before,
               EmailOutbox.to_address.is_not(None))
        .values(status="sent", sent_at=EmailOutbox.created_at,
                reply="250 2.0.0 Ok: queued (demo)")
        .execution_options(synchronize_session=False))
    note_rows(tx.session, "email_outbox", None)
    return int(getattr(result, "rowcount", 0) or 0)
