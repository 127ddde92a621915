"""The command line's grammar: every command, its arguments and its help."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from quotadesk import __version__
from quotadesk.cli import (
    commands,
    desk_commands,
    document_commands,
    mail_commands,
    source_commands,
)
from quotadesk.cli.output import Output, UsageError
from quotadesk.services import usage
from quotadesk.services.unit_of_work import Desk


class Parser(argparse.ArgumentParser):
    """Exit 2 for a malformed command line; options only in full (a script that says `--fe`
    gets an error, not a guess)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        if len(message) > 300:  # argparse repeats what was typed: a huge value, not whole
            message = message[:300] + "…"
        raise UsageError(f"{self.prog}: error: {message}")


# -- the parser ----------------------------------------------------------------------------
def _plan_args(p: argparse.ArgumentParser, *, edit: bool) -> None:
    p.add_argument("--fee", metavar="AMOUNT", help="recurring fee per period")
    p.add_argument("--anchor", metavar="calendar|anniversary",
                   help="periods start on the 1st (calendar, default) or the subscription's day")
    p.add_argument("--included", nargs="+", action="extend", metavar="RES=QTY",
                   help="included allowance per period, e.g. minutes=500 sms=1000 "
                        "(may be repeated)")
    p.add_argument("--overage", nargs="+", action="extend", metavar="RES=RATE",
                   help="billable rate per unit beyond the free pools, e.g. minutes=0.05 "
                        "(RES=none to remove; may be repeated)")
    p.add_argument("--addons", metavar="on|off", help="Add-on packs · On/Off (default on)")
    p.add_argument("--due-days", metavar="N", help="Payment due after period start (days, 0-365)")
    p.add_argument("--alerts", metavar="80,95", help="alert thresholds in percent")
    p.add_argument("--increments", metavar="FIRST/NEXT",
                   help="voice billing increments in seconds for usage given in seconds "
                        "(default 1/1; e.g. 60/60, 30/6, 6/6)")
    if edit:
        p.add_argument("--rename", metavar="NEW_NAME", help="a new name for the plan")


def build_parser() -> Parser:
    parser = Parser(prog="quotadesk", description=(
        "QuotaDesk: plans, add-on packs, wallets, usage and billing for agencies that resell "
        "voice minutes, SMS and email. With no command, opens the desktop window."))
    parser.add_argument("--db", metavar="PATH_OR_URL",
                        help="SQLite file or SQLAlchemy URL (default: $QUOTADESK_DB, else "
                             "quotadesk.db in the user data directory)")
    parser.add_argument("--now", metavar="ISO8601",
                        help="the clock for this command (no zone: the database's time zone)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--version", action="version", version=f"QuotaDesk {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation (a temporary database, the window "
                             "offscreen) and exit 0 when it works")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def command(name: str, handler: Callable[..., None], help: str,
                parent: Any = sub) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    p = command("gui", cmd_gui, "open the desktop window")
    p = command("init", commands.cmd_init, "create the database with its currency and time zone")
    p.add_argument("--currency", default="USD", help="ISO 4217 code (default USD)")
    p.add_argument("--timezone", metavar="ZONE", help="IANA zone for period boundaries "
                                                      "(default: this machine's)")
    p = command("demo", commands.cmd_demo, "fill an empty database with realistic demo data")
    p.add_argument("--clients", default="36", metavar="N", help="how many clients (default 36)")

    plan = command("plan", _group_help, "billing plans: add, edit, list")
    plans = plan.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    p = command("add", commands.cmd_plan_add, "add a billing plan", plans)
    p.add_argument("name", metavar="NAME")
    _plan_args(p, edit=False)
    p = command("edit", commands.cmd_plan_edit, "edit a plan (existing subscriptions keep their snapshot)",
                plans)
    p.add_argument("name", metavar="NAME")
    _plan_args(p, edit=True)
    command("list", commands.cmd_plan_list, "list the plans", plans)

    pack = command("pack", _group_help, "add-on packs: add, list")
    packs = pack.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    p = command("add", commands.cmd_pack_add, "add an add-on pack to the catalog", packs)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--resource", required=True, metavar="RES", help="minutes, sms or email")
    p.add_argument("--units", required=True, metavar="N", help="units credited by the pack")
    p.add_argument("--price", required=True, metavar="AMOUNT")
    p.add_argument("--expires-months", metavar="N",
                   help="lots expire N months after applying (default: never expires)")
    p.add_argument("--description", metavar="TEXT")
    command("list", commands.cmd_pack_list, "list the add-on packs", packs)

    client = command("client", _group_help, "clients: add, list, show")
    clients_ = client.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    p = command("add", commands.cmd_client_add, "add a client", clients_)
    p.add_argument("name", metavar="NAME")
    p.add_argument("--email", metavar="ADDRESS", help="contact address for usage alerts")
    command("list", commands.cmd_client_list, "list the clients", clients_)
    p = command("show", commands.cmd_client_show, "a client's subscription, balances, lots, campaigns",
                clients_)
    p.add_argument("client", metavar="CLIENT")
    source_commands.register_client_actions(command, clients_)  # identify, unidentify

    p = command("subscribe", commands.cmd_subscribe,
                "subscribe a client to a plan (or re-subscribe: fresh snapshot, wallet kept)")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("plan", metavar="PLAN")
    p = command("cancel", commands.cmd_cancel, "cancel a client's subscription (closes the period now)")
    p.add_argument("client", metavar="CLIENT")
    p = command("assign", commands.cmd_assign, "assign add-on packs the client may buy")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("packs", nargs="+", metavar="PACK")
    p = command("unassign", commands.cmd_unassign, "remove a pack assignment")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("pack", metavar="PACK")
    p = command("apply", commands.cmd_apply, "credit a pack to the wallet and create its payment request")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("pack", metavar="PACK")
    p.add_argument("--status", required=True, metavar="pending|paid",
                   help="the payment request's status")
    p.add_argument("--key", metavar="KEY", help="idempotency key: the same key applies once")
    p = command("revoke", commands.cmd_revoke, "take back the unused units of a lot")
    p.add_argument("lot", metavar="LOT")
    p.add_argument("--reason", required=True, metavar="TEXT")

    campaign = command("campaign", _group_help, "campaigns: add, pause, resume, finish, list")
    campaigns = campaign.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)
    p = command("add", commands.cmd_campaign_add, "add a campaign", campaigns)
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--resource", required=True, metavar="RES")
    for action in ("pause", "resume", "finish"):
        p = command(action, commands.cmd_campaign_change, f"{action} a campaign", campaigns)
        p.add_argument("id", metavar="ID")
    p = command("list", commands.cmd_campaign_list, "list campaigns", campaigns)
    p.add_argument("client", nargs="?", metavar="CLIENT")

    p = command("usage", commands.cmd_usage, "record one usage event")
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("resource", metavar="RESOURCE")
    p.add_argument("quantity", metavar="QUANTITY")
    p.add_argument("--id", metavar="EVENT_ID", help="external event id (a repeat is a duplicate)")
    p.add_argument("--at", metavar="ISO8601", help="when it happened (default now)")
    p = command("import-usage", commands.cmd_import_usage,
                "import a usage CSV (event_id,client,resource,quantity,occurred_at), or "
                "a platform's export with --format")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", default="quotadesk", metavar="NAME",
                   help="quotadesk (default), asterisk, freeswitch, twilio-messages, or a "
                        "mapping saved with `source add`")
    p.add_argument("--batch-size", default=str(usage.BATCH_SIZE), metavar="N",
                   help=f"rows per transaction (default {usage.BATCH_SIZE}); each batch is "
                        "all-or-nothing, and a re-run skips what was committed")
    command("rollover", commands.cmd_rollover, "close every period that ended by now")
    p = command("payments", commands.cmd_payments, "list payment requests")
    p.add_argument("client", nargs="?", metavar="CLIENT")
    p.add_argument("--status", metavar="STATUS", help="pending, paid, failed or overdue")
    p = command("pay", commands.cmd_pay, "mark a payment request paid")
    p.add_argument("id", metavar="ID")
    p = command("fail", commands.cmd_fail, "mark a pending payment request failed")
    p.add_argument("id", metavar="ID")
    p = command("history", commands.cmd_history, "a client's billing history")
    p.add_argument("client", metavar="CLIENT")
    p = command("alerts", commands.cmd_alerts, "recorded usage alerts")
    p.add_argument("client", nargs="?", metavar="CLIENT")
    command("verify", commands.cmd_verify, "recompute every balance from the ledger and check invariants")
    p = command("export", commands.cmd_export, "write payments, clients or a client's history as CSV "
                "(cells that spreadsheets would run as formulas are neutralised)")
    p.add_argument("what", metavar="payments|clients|history")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--client", metavar="CLIENT")
    p.add_argument("--status", metavar="STATUS", help="payments: pending, paid, failed, overdue")
    p = command("backup", commands.cmd_backup, "write a consistent copy of the database")
    p.add_argument("file", metavar="FILE")
    p = command("restore", cmd_restore, "replace the database with a checked backup")
    p.add_argument("file", metavar="FILE")

    def group(name: str, help: str) -> Any:
        """A command with actions (`mail send`, `source add`): returns what `command` takes
        as `parent` for each action."""
        g = command(name, _group_help, help)
        return g.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser)

    # Commands of the later features live beside their handlers, each module adding its own.
    for module in (mail_commands, document_commands, source_commands, desk_commands):
        module.register(command, group)
    return parser


def _group_help(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    raise UsageError(f"quotadesk {args.command}: error: an action is required "
                     f"(see quotadesk {args.command} --help)")


def cmd_restore(desk: Desk | None, args: argparse.Namespace, out: Output | None) -> None:
    raise AssertionError("handled in main(): a damaged database is restored unopened")  # pragma: no cover


def cmd_gui(desk: Desk | None, args: argparse.Namespace, out: Output | None) -> None:
    raise AssertionError("handled in main()")  # pragma: no cover
