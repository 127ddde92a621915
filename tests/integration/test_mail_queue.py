"""What is queued (SPEC §9): alerts, payment requests and reminders, in the same transaction
as the write that causes them; settings and templates refused when they would not work."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from quotadesk.models import EmailOutbox
from quotadesk.services import billing, catalog, clients, outbox, usage, wallet
from quotadesk.services.errors import InvalidValue
from quotadesk.services.settings import change_settings, show_settings


def agency(desk, email: str | None = "ops@atlas.test") -> None:
    catalog.add_plan(desk, name="Voice", fee="30.00", included={"minutes": "100"},
                     overage={"minutes": "0.10"}, due_days="7")
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    clients.add_client(desk, name="Atlas Plumbing", email=email)
    clients.subscribe(desk, client="Atlas Plumbing", plan="Voice")
    clients.assign_packs(desk, client="Atlas Plumbing", packs=["100 Minutes Pack"])


def mail(desk, kind: str | None = None):
    return [m for m in reversed(outbox.list_messages(desk, "Atlas Plumbing"))
            if kind is None or m.kind == kind]


def test_a_new_payment_request_queues_its_email_naming_number_amount_and_due_date(desk):
    agency(desk)

    [fee] = billing.list_payments(desk, "Atlas Plumbing")
    [message] = mail(desk, "request")
    number = getattr(fee, "invoice_number", None) or f"#{fee.id}"
    assert (message.to, message.status, message.attempts) == ("ops@atlas.test", "queued", 0)
    for text in (message.subject, message.body):
        assert number in text
        assert "30.00 USD" in text
        assert fee.due_date.isoformat() in text
    assert message.attachment == f"invoice:{fee.id}"
    assert message.html_body is not None and "<p>" in message.html_body
    assert message.message_id.startswith("<") and message.message_id.endswith(">")

    wallet.apply_pack(desk, client="Atlas Plumbing", pack="100 Minutes Pack", status="paid")
    requests = mail(desk, "request")
    assert len(requests) == 2
    assert "15.00 USD" in requests[1].body and "paid" in requests[1].body


def test_each_alert_names_the_resource_the_state_the_period_and_how_to_get_more(desk):
    agency(desk)

    usage.record_usage(desk, client="Atlas Plumbing", resource="minutes", quantity="80")
    usage.record_usage(desk, client="Atlas Plumbing", resource="minutes", quantity="20")

    alerts = mail(desk, "alert")
    assert [a.subject for a in alerts] == [
        "You have used 80% of your voice minutes for this period",
        "You have used 95% of your voice minutes for this period",
        "Your included voice minutes are used up"]
    first = alerts[0].body
    assert "80%" in first and "voice minutes" in first
    assert "2026-01-10 to 2026-01-31" in first  # the period, in local dates
    assert "purchase an add-on package" in first.lower()


def test_the_blocked_alert_offers_an_add_on_package_only_when_add_ons_are_on(desk):
    catalog.add_plan(desk, name="Fixed", fee="10.00", included={"sms": "10"}, addons="off")
    clients.add_client(desk, name="Atlas Plumbing", email="ops@atlas.test")
    clients.subscribe(desk, client="Atlas Plumbing", plan="Fixed")

    usage.record_usage(desk, client="Atlas Plumbing", resource="sms", quantity="10")
    usage.record_usage(desk, client="Atlas Plumbing", resource="sms", quantity="1")

    blocked = [a for a in mail(desk, "alert") if "Blocked" in a.subject]
    assert len(blocked) == 1
    assert "add-on" not in blocked[0].body.lower()
    assert "until the next reset on 2026-02-01" in blocked[0].body


def test_alerts_and_requests_can_be_switched_off(desk):
    change_settings(desk, {"mail.alerts": "off", "mail.requests": "off"})
    agency(desk)
    usage.record_usage(desk, client="Atlas Plumbing", resource="minutes", quantity="150")
    assert mail(desk) == []
    assert len(billing.list_alerts(desk, "Atlas Plumbing")) == 3


def test_a_client_without_an_address_gets_a_failed_message_at_once(desk):
    agency(desk, email=None)

    [message] = mail(desk, "request")
    assert (message.to, message.status, message.attempts, message.error) == (
        None, "failed", 0, "no e-mail address")
    with pytest.raises(InvalidValue, match="no e-mail address"):
        outbox.retry_message(desk, message.id)
    clients.edit_client(desk, client="Atlas Plumbing", email="new@atlas.test")
    again = outbox.retry_message(desk, message.id)
    assert (again.to, again.status, again.error) == ("new@atlas.test", "queued", None)


def test_reminders_are_queued_once_each_never_before_the_day(desk, clock):
    agency(desk)
    [fee] = billing.list_payments(desk, "Atlas Plumbing")
    due = fee.due_date
    assert due == date(2026, 1, 17)

    def touch() -> None:  # any write for the client
        usage.record_usage(desk, client="Atlas Plumbing", resource="minutes", quantity="1")

    clock.set(clock().replace(day=19))  # due + 2
    touch()
    assert mail(desk, "reminder") == []
    clock.set(clock().replace(day=20))  # due + 3
    touch()
    touch()
    [first] = mail(desk, "reminder")
    assert "3 days after its due date" in first.body and due.isoformat() in first.subject
    billing.run_rollover(desk)
    assert len(mail(desk, "reminder")) == 1
    clock.set(clock().replace(day=27))  # due + 10: the rollover queues the second
    billing.run_rollover(desk)
    reminders = mail(desk, "reminder")
    assert len(reminders) == 2 and "10 days" in reminders[1].body
    billing.mark_paid(desk, request_id=fee.id)
    clock.advance(days=30)  # the February fee (due 2026-02-08) is pending 18 days by now
    touch()
    billing.run_rollover(desk)
    later = mail(desk, "reminder")[2:]
    assert len(later) == 2 and all("was due 2026-02-08" in m.subject for m in later)


def test_no_reminder_for_a_paid_request_or_with_no_reminder_days(desk, clock):
    agency(desk)
    change_settings(desk, {"mail.reminders": ""})
    assert show_settings(desk)["mail.reminders"] == ""
    clock.advance(days=20)
    billing.run_rollover(desk)
    assert mail(desk, "reminder") == []
    change_settings(desk, {"mail.reminders": "5"})
    [fee] = [p for p in billing.list_payments(desk, "Atlas Plumbing") if p.type == "Plan"][:1]
    billing.mark_paid(desk, request_id=fee.id)
    billing.run_rollover(desk)
    assert [m for m in mail(desk, "reminder") if m.subject.count(str(fee.due_date))] == []


@pytest.mark.parametrize(("key", "value", "says"), [
    ("template.alert.body", "Hello {{ client.name", "does not render (line 1)"),
    ("template.request.subject", "{{ invoice.total }}", "does not render"),
    ("template.reminder.body", "{{ ''.__class__.__mro__ }}", "does not render"),
    ("template.alert.subject", "two\nlines", "a subject is one line"),
    ("smtp.port", "70000", "smtp.port: a port number"),
    ("smtp.security", "tls", "starttls or ssl or none"),
    ("smtp.from", "not an address", "is not an e-mail address"),
    ("mail.reminders", "3,x", "days after the due date"),
    ("tax.rate", "12.34567", "at most 4 decimal places"),
    ("currency", "EUR", "set once"),
    ("smtp.password", "hunter2", "credential store"),
    ("colour", "blue", "unknown key"),
])
def test_a_setting_that_would_not_work_is_refused_and_nothing_is_written(desk, key, value, says):
    before = dict(show_settings(desk))
    with pytest.raises(InvalidValue) as refused:
        change_settings(desk, {key: value})
    assert says in refused.value.message
    assert refused.value.message.startswith(key if key != "colour" else "setting")
    assert dict(show_settings(desk)) == before


def test_a_custom_template_is_used_for_the_next_messages(desk):
    change_settings(desk, {"template.request.subject": "Bill {{ request.number }} for "
                                                       "{{ client.name | upper }}"})
    agency(desk)
    [message] = mail(desk, "request")
    assert message.subject.startswith("Bill ") and message.subject.endswith("ATLAS PLUMBING")
    change_settings(desk, {"template.request.subject": ""})  # back to the default
    assert show_settings(desk)["template.request.subject"].startswith("Invoice")


def test_queueing_is_part_of_the_write_a_refused_write_queues_nothing(desk):
    agency(desk)
    before = len(mail(desk))
    with pytest.raises(InvalidValue):
        usage.record_usage(desk, client="Atlas Plumbing", resource="minutes", quantity="-5")
    assert len(mail(desk)) == before
    with desk.database.session(write=False) as session:
        ids = list(session.scalars(select(EmailOutbox.message_id)))
    assert len(ids) == len(set(ids))


def test_due_dates_in_messages_are_local_dates(desk, clock):
    change_settings(desk, {"agency.name": "Northwind"})
    agency(desk)
    [message] = mail(desk, "request")
    assert message.body.rstrip().endswith("Northwind")
    assert (clock().date() + timedelta(days=7)).isoformat() in message.body
