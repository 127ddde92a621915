"""Client identifiers (SPEC §11): what a platform calls a client, and finding a client by them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from quotadesk.models import Client, ClientIdentifier
from quotadesk.services.errors import DuplicateName, InvalidValue, NotFound
from quotadesk.services.references import clean_name, find, name_key, resolve_ref
from quotadesk.services.unit_of_work import Tx, write_op


def clean_identifier(value: object) -> str:
    """An identifier follows the rules of a name: trimmed text, 1-200 characters."""
    return clean_name(value, "identifier")


def identifiers_of(session: Session, client_id: int) -> tuple[str, ...]:
    """The client's identifiers, in the order they were given."""
    return tuple(session.scalars(select(ClientIdentifier.identifier).where(
        ClientIdentifier.client_id == client_id).order_by(ClientIdentifier.id)))


def _add(tx: Tx, client: Client, identifier: str) -> bool:
    """Give the client this identifier; False if it has it already."""
    key = name_key(identifier)
    held = tx.session.scalars(select(ClientIdentifier).where(
        ClientIdentifier.identifier_key == key)).first()
    if held is not None:
        if held.client_id == client.id:
            return False
        other = tx.session.get(Client, held.client_id)
        raise DuplicateName(f"identifier: {held.identifier!r} already identifies client "
                            f"{other.name if other else held.client_id!r}", "identifier")
    tx.session.add(ClientIdentifier(client_id=client.id, identifier=identifier,
                                    identifier_key=key, created_at=tx.now))
    tx.session.flush()
    return True


@write_op
def identify_client(tx: Tx, *, client: object, identifiers: Sequence[object]
                    ) -> tuple[str, ...]:
    """Add identifiers to a client (an accountcode, a caller number, an AccountSid): unique
    across clients, ignoring case; one the client has already changes nothing. Returns the
    client's identifiers. Like any edit of a client, it neither counts as a moment nor is
    refused for one (SPEC §8)."""
    row = find(tx.session, Client, client)
    if not identifiers:
        raise InvalidValue("identifier: give at least one identifier", "identifier")
    added = [text for text in dict.fromkeys(clean_identifier(i) for i in identifiers)
             if _add(tx, row, text)]
    if added:
        tx.audit("client.identify", "client", row.id, identifiers=added)
    return identifiers_of(tx.session, row.id)


@write_op
def unidentify_client(tx: Tx, *, client: object, identifier: object) -> tuple[str, ...]:
    """Take an identifier from a client (exactly, else ignoring case). Returns the client's
    identifiers."""
    row = find(tx.session, Client, client)
    text = clean_identifier(identifier)
    held = tx.session.scalars(select(ClientIdentifier).where(
        ClientIdentifier.identifier_key == name_key(text),
        ClientIdentifier.client_id == row.id)).first()
    if held is None:
        raise NotFound(f"identifier: {text!r} does not identify client {row.name!r}",
                       "identifier")
    tx.session.delete(held)
    tx.session.flush()
    tx.audit("client.unidentify", "client", row.id, identifier=held.identifier)
    return identifiers_of(tx.session, row.id)


@write_op
def set_identifiers(tx: Tx, *, client: object, identifiers: Sequence[object]
                    ) -> tuple[str, ...]:
    """Make the client's identifiers exactly these (the client page's editor), in one
    transaction: a refused one leaves them all as they were."""
    row = find(tx.session, Client, client)
    wanted = list(dict.fromkeys(clean_identifier(i) for i in identifiers))
    keys = {name_key(text) for text in wanted}
    if len(keys) != len(wanted):
        raise DuplicateName("identifier: the same identifier is given twice (identifiers "
                            "ignore case)", "identifier")
    current = list(tx.session.scalars(select(ClientIdentifier).where(
        ClientIdentifier.client_id == row.id)))
    removed = [held for held in current if held.identifier_key not in keys
               or held.identifier not in wanted]
    for held in removed:
        tx.session.delete(held)
    tx.session.flush()
    added = [text for text in wanted if _add(tx, row, text)]
    gone = [h.identifier for h in removed if h.identifier not in added]
    if added or gone:
        tx.audit("client.identifiers", "client", row.id, added=added, removed=gone)
    return identifiers_of(tx.session, row.id)


class ClientFinder:
    """Every client's identifiers and names, read once: a source's client cell names a client
    by an identifier (exactly, then ignoring case), else by its name (the same), SPEC §11.
    Never by a numeric id: an accountcode `1001` is not client 1001."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(ClientIdentifier.identifier,
                                      ClientIdentifier.identifier_key,
                                      ClientIdentifier.client_id)).all()
        names = session.execute(select(Client.id, Client.name, Client.name_key)).all()
        # In this order: an identifier exactly, ignoring case, then a name the same ways.
        self.lookups = ({text: cid for text, _key, cid in rows},
                        {key: cid for _text, key, cid in rows},
                        {name: cid for cid, name, _key in names},
                        {key: cid for cid, _name, key in names})
        self.names = {cid: name for cid, name, _key in names}
        self.found: dict[str, int] = {}  # cells already resolved, as written

    def find(self, ref: str) -> int:
        found = self.found.get(ref)
        if found is None:
            found = resolve_ref(ref, "client", self._by_text, _none, _none)
            if len(self.found) < 100_000:
                self.found[ref] = found
        return found

    def _by_text(self, text: str) -> int | None:
        by_id, by_id_key, by_name, by_name_key = self.lookups
        key = name_key(text)
        for found in (by_id.get(text), by_id_key.get(key), by_name.get(text),
                      by_name_key.get(key)):
            if found is not None:
                return found
        return None


def _none(_ref: object) -> int | None:
    return None


__all__ = ["ClientFinder", "clean_identifier", "identifiers_of", "identify_client",
           "set_identifiers", "unidentify_client"]
