"""The desk's trail and automatic top-up: `audit`, `topup set|clear|list` (SPEC §12)."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from quotadesk.cli.output import Output
from quotadesk.services import audit, topup
from quotadesk.services.rules.quantities import text
from quotadesk.services.unit_of_work import Desk


def register(command: Any, group: Any) -> None:
    """Add this module's commands: `command(name, handler, help, parent)` returns an argparse
    parser; `group(name, help)` makes a command with actions and returns its `parent`."""
    p = command("audit", cmd_audit, "the audit log: who changed what, when (newest first)")
    p.add_argument("--client", metavar="CLIENT",
                   help="entries about this client (its subscription, lots, requests, rules)")
    p.add_argument("--since", metavar="DATE", help="from this local date on (YYYY-MM-DD)")
    p.add_argument("--action", metavar="ACTION",
                   help="this action only (e.g. pack.apply; `payment` for every payment.*)")

    actions = group("topup", "automatic top-up rules: set, clear, list")
    p = command("set", cmd_topup_set, "apply PACK whenever usage leaves the client's wallet "
                "for its resource below N units", actions)
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("pack", metavar="PACK")
    p.add_argument("--below", required=True, metavar="N", help="the wallet threshold, in units")
    p.add_argument("--status", default="pending", metavar="pending|paid",
                   help="the payment request's status (default pending)")
    p = command("clear", cmd_topup_clear, "remove a client's top-up rule for PACK", actions)
    p.add_argument("client", metavar="CLIENT")
    p.add_argument("pack", metavar="PACK")
    p = command("list", cmd_topup_list, "list top-up rules", actions)
    p.add_argument("client", nargs="?", metavar="CLIENT")


def cmd_audit(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = audit.list_audit(desk, args.client, args.since, args.action, limit=None)
    out.emit([{"at": out.time(r.at), "actor": r.actor, "action": r.action, "entity": r.entity,
               "entity_id": r.entity_id, "detail": r.detail, "clients": list(r.clients)}
              for r in rows],
             lambda: [f"{local_time(out, r.at)}  {r.actor}  {r.action}  {r.entity}"
                      f"{'' if r.entity_id is None else ' ' + str(r.entity_id)}"
                      f"{' (' + ', '.join(r.clients) + ')' if 0 < len(r.clients) <= 3 else ''}"
                      f"{'  ' + r.detail_line() if r.detail else ''}" for r in rows]
             or ["No audit entries."])


def local_time(out: Output, moment: datetime | None) -> str:
    """A time as people read it: local, to the minute."""
    if moment is None:
        return "-"
    return moment.astimezone(out.desk.timezone).strftime("%Y-%m-%d %H:%M")


def _topup_json(out: Output, r: topup.TopupInfo) -> dict[str, Any]:
    return {"id": r.id, "client": r.client, "pack": r.pack, "resource": r.resource,
            "below": text(r.below), "status": r.status, "armed": r.armed,
            "active": r.idle is None, "idle_reason": r.idle}


def _topup_line(r: topup.TopupInfo) -> str:
    state = "active" if r.idle is None else f"does nothing: {r.idle}"
    return (f"{r.client}: when the wallet falls below {text(r.below)} {r.resource}, apply "
            f"{r.pack}, payment {r.status} ({state})")


def cmd_topup_set(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    r = topup.set_topup(desk, client=args.client, pack=args.pack, below=args.below,
                        status=args.status)
    out.emit(_topup_json(out, r), [f"Top-up rule saved. {_topup_line(r)}"])


def cmd_topup_clear(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    topup.clear_topup(desk, client=args.client, pack=args.pack)
    out.emit({"cleared": True}, ["Top-up rule removed."])


def cmd_topup_list(desk: Desk, args: argparse.Namespace, out: Output) -> None:
    rows = topup.list_topups(desk, args.client)
    out.emit([_topup_json(out, r) for r in rows],
             lambda: [_topup_line(r) for r in rows] or ["No top-up rules."])
