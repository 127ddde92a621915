"""Mail and settings: `settings show|set`, `mail list|send|retry` (SPEC §9)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from quotadesk.cli.output import Output, UsageError
from quotadesk.cli.values import whole_number
from quotadesk.services import mail_sender, outbox
from quotadesk.services.attachments import attach_documents
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.results import OutboxMessage
from quotadesk.services.settings import SECRET, change_settings, show_settings
from quotadesk.services.unit_of_work import Desk


def register(command: Any, group: Any) -> None:
    """Add this module's commands (see parser.build_parser)."""
    settings = group("settings", "the agency, the mail server, tax, invoice numbers, templates")
    command("show", cmd_settings_show, "every setting as it is now (secrets never shown)",
            settings)
    p = command("set", cmd_settings_set, "change a setting (an empty VALUE goes back to the "
                "default; `-` reads VALUE from standard input)", settings)
    p.add_argument("key", metavar="KEY")
    p.add_argument("value", metavar="VALUE")

    mail = group("mail", "the outbox: list, send, retry")
    p = command("list", cmd_mail_list, "the outbox, newest first", mail)
    p.add_argument("client", nargs="?", metavar="CLIENT")
    p.add_argument("--status", metavar="queued|sent|failed")
    p = command("send", cmd_mail_send, "send what is due now (for the nightly job)", mail)
    p.add_argument("--limit", metavar="N", help="send at most N messages")
    p = command("retry", cmd_mail_retry, "queue a failed message again", mail)
    p.add_argument("id", metavar="ID")


# -- settings ------------------------------------------------------------------------------
def _password_state(values: Any) -> str:
    if os.environ.get(mail_sender.PASSWORD_ENV):
        return f"from {mail_sender.PASSWORD_ENV}"
    if not values["smtp.user"]:
        return "not needed (no smtp.user)"
    try:
        mail_sender.smtp_password(values["smtp.user"], values["smtp.host"])
    except QuotaDeskError:
        return "not set"
    return "kept in the credential store"


def cmd_settings_show(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    values = show_settings(desk)
    data = dict(values)
    data[SECRET] = _password_state(values)

    def lines() -> list[str]:
        shown = []
        for key, value in data.items():
            first, *rest = value.split("\n") if value else [""]
            shown.append(f"{key} = {first}{' …' if rest else ''}")
        return shown

    out.emit(data, lines)


def cmd_settings_set(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    value = args.value
    if value == "-":
        if sys.stdin is None or sys.stdin.closed:
            raise UsageError("quotadesk settings set: error: `-` reads standard input, "
                             "and there is none")
        value = sys.stdin.read()
        if args.key == SECRET or "\n" not in value.rstrip("\n"):
            value = value.rstrip("\r\n")
    if args.key == SECRET:
        values = show_settings(desk)
        if not value:
            raise QuotaDeskError("smtp.password: empty (nothing was stored)", SECRET)
        mail_sender.store_password(values["smtp.user"], values["smtp.host"], value)
        out.emit({SECRET: "kept in the credential store"},
                 [f"The SMTP password for {values['smtp.user']} is kept in the credential "
                  "store."])
        return
    now = change_settings(desk, {args.key: value})
    out.emit(now, [f"{key} = {v.split(chr(10))[0]}" for key, v in now.items()])


# -- mail ----------------------------------------------------------------------------------
def message_json(out: Output, m: OutboxMessage) -> dict[str, Any]:
    return {"id": m.id, "client": m.client, "to": m.to, "subject": m.subject, "kind": m.kind,
            "status": "queued" if m.status == "sending" else m.status, "attempts": m.attempts,
            "created_at": out.time(m.created_at), "sent_at": out.time(m.sent_at),
            "error": m.error}


def _message_line(out: Output, m: OutboxMessage) -> str:
    status = "queued" if m.status == "sending" else m.status
    when = f"sent {out.time(m.sent_at)}" if m.sent_at else f"queued {out.time(m.created_at)}"
    tail = f"  ({m.error})" if m.error and status != "sent" else ""
    return (f"{m.id:>6}  {status:<7} {m.kind:<9} {m.client or '-'}  <{m.to or 'no address'}>  "
            f"{m.subject}  · {when}, {m.attempts} attempt{'s' if m.attempts != 1 else ''}{tail}")


def cmd_mail_list(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = outbox.list_messages(desk, args.client, args.status, limit=None)
    out.emit([message_json(out, m) for m in rows],
             lambda: [_message_line(out, m) for m in rows] or ["The outbox is empty."])


def cmd_mail_send(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    limit = None
    if args.limit is not None:
        limit = whole_number(args.limit, "limit")
        if limit < 1:
            raise QuotaDeskError("limit: at least 1", "limit")
    result = mail_sender.send_due(desk, limit, attach=attach_documents(desk))
    data = {"sent": result.sent, "failed": result.failed, "deferred": result.deferred}
    out.emit(data, [f"Sent {result.sent}, failed {result.failed}, deferred {result.deferred}."])


def cmd_mail_retry(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    m = outbox.retry_message(desk, args.id)
    out.emit(message_json(out, m), [f"Message {m.id} is queued again, to {m.to}."])
