"""Applying add-on packs to a client's wallet, revoking unused units, reading the ledger."""

from __future__ import annotations

import unicodedata
import uuid

from sqlalchemy import select

from quotadesk.models import (
    AddonPack,
    Client,
    LedgerEntry,
    PackApplication,
    PackAssignment,
    PaymentRequest,
    WalletLot,
)
from quotadesk.services.account_store import PendingWrites, load_accounts
from quotadesk.services.errors import (
    AddonsDisabled,
    IdempotencyConflict,
    InvalidValue,
    NotFound,
    PackNotAssigned,
    echo,
)
from quotadesk.services.references import clean_text, find, record_id
from quotadesk.services.results import ApplyResult, LedgerRow, RevokeResult
from quotadesk.services.rules.topup import PackTerms
from quotadesk.services.unit_of_work import Tx, read_op, write_op

PAYMENT_STATUSES = ("pending", "paid")
MESSAGES = {
    "pending": "Addon pack credited. Payment request created as pending.",
    "paid": "Addon pack credited. Payment request created and marked as paid.",
}
FREE_MESSAGE = "Addon pack credited. No payment request was created: the pack is free."
MAX_REASON = 2000
MAX_KEY = 200


def new_application_key() -> str:
    """One key per Apply dialog (or CLI call without --key): a retry reuses it."""
    return uuid.uuid4().hex


def application_key(value: object) -> str:
    """An idempotency key as given (SPEC §8): never empty or blank, compared exactly,
    untrimmed; at most 200 characters of valid text."""
    if not isinstance(value, str):
        raise InvalidValue("key: an idempotency key is text", "key")
    if not value.strip():
        raise InvalidValue("key: an idempotency key cannot be empty", "key")
    if len(value) > MAX_KEY:
        raise InvalidValue(f"key: at most {MAX_KEY} characters", "key")
    if "\x00" in value or any(unicodedata.category(ch) == "Cs" for ch in value):
        raise InvalidValue("key: must be valid Unicode text", "key")
    return value


def _message(status: str, request_id: int | None) -> str:
    return MESSAGES[status] if request_id is not None else FREE_MESSAGE


@write_op
def apply_pack(tx: Tx, *, client: object, pack: object, status: str,
               key: str | None = None) -> ApplyResult:
    """Credit a pack to the wallet and request its payment, exactly once per key (SPEC §3)."""
    session = tx.session
    if status not in PAYMENT_STATUSES:
        raise InvalidValue(f"status: must be pending or paid, not {echo(status)}", "status")
    key = new_application_key() if key is None else application_key(key)
    row = find(session, Client, client)
    pack_row = find(session, AddonPack, pack)
    previous = session.scalars(select(PackApplication).where(PackApplication.key == key)).first()
    if previous is not None:
        if (previous.client_id, previous.pack_id, previous.status) != (row.id, pack_row.id, status):
            raise IdempotencyConflict(
                f"key: {echo(key)} was already used for a different application", "key")
        lot_id = session.scalar(select(WalletLot.id).where(
            WalletLot.application_id == previous.id))
        request_id = session.scalar(select(PaymentRequest.id).where(
            PaymentRequest.application_id == previous.id))
        assert lot_id is not None
        return ApplyResult(lot_id, request_id, _message(status, request_id), repeated=True)
    journal = PendingWrites(tx)
    book = load_accounts(journal, [row.id])[row.id]
    book.catch_up(tx.now)
    terms, _period = book.require_active()
    if not terms.addons:
        raise AddonsDisabled()
    assigned = session.scalar(select(PackAssignment.pack_id).where(
        PackAssignment.client_id == row.id, PackAssignment.pack_id == pack_row.id))
    if assigned is None:
        raise PackNotAssigned(f"pack: {pack_row.name!r} is not assigned to {row.name!r}", "pack")
    # The same application an automatic top-up makes (rules/account.py: apply_pack).
    lot_id, request_id = book.apply_pack(pack_terms(pack_row), status, key)
    journal.flush()
    tx.audit("pack.apply", "client", row.id, pack=pack_row.name, lot=lot_id, status=status,
             key=key, payment_request=request_id)
    return ApplyResult(lot_id, request_id, _message(status, request_id))


def pack_terms(pack: AddonPack) -> PackTerms:
    return PackTerms(pack.id, pack.name, pack.resource, pack.units, pack.price,
                     pack.expires_months)


@write_op
def revoke_lot(tx: Tx, *, lot_id: int, reason: str) -> RevokeResult:
    """Take back a lot's unused units, with a reason; consumed units are never taken back."""
    session = tx.session
    text = clean_text(reason or "", "reason", MAX_REASON)
    if not text:
        raise InvalidValue("reason: say why the units are revoked", "reason")
    lot_row = session.get(WalletLot, record_id(lot_id, "lot"))
    if lot_row is None:
        raise NotFound(f"lot: no wallet lot with id {lot_id}", "lot")
    journal = PendingWrites(tx)
    book = load_accounts(journal, [lot_row.client_id])[lot_row.client_id]
    book.catch_up(tx.now)
    lot = next((x for x in book.lots[lot_row.resource] if x.id == lot_id), None)
    if lot is None or lot.remaining <= 0:
        raise InvalidValue(f"lot: lot {lot_id} has no unused units left to revoke", "lot")
    units = book.revoke(lot, text, tx.now)
    journal.flush()
    tx.audit_about([lot_row.client_id], "lot.revoke", "lot", lot_id, units=units, reason=text)
    return RevokeResult(lot_id, units)


@read_op
def ledger(tx: Tx, client: object, limit: int = 500) -> list[LedgerRow]:
    """The client's wallet movements, newest first."""
    row = find(tx.session, Client, client)
    query = (select(LedgerEntry, AddonPack.name)
             .join(WalletLot, WalletLot.id == LedgerEntry.lot_id)
             .join(AddonPack, AddonPack.id == WalletLot.pack_id)
             .where(LedgerEntry.client_id == row.id)
             .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc()).limit(limit))
    return [LedgerRow(e.id, e.at, e.kind, e.resource, e.units, e.lot_id, name, e.reason)
            for e, name in tx.session.execute(query)]


