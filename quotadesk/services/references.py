"""Finding clients, plans and packs by name (exact, then ignoring case) or numeric id."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from quotadesk.models import AddonPack, Client, Plan
from quotadesk.services.errors import DuplicateName, InvalidValue, NotFound

T = TypeVar("T", Client, Plan, AddonPack)
MAX_NAME = 200

KIND_WORD: dict[Any, str] = {Client: "client", Plan: "plan", AddonPack: "pack"}


def clean_name(value: object, field: str = "name") -> str:
    """Names are text: trimmed, any Unicode, non-empty, at most 200 characters, no control
    characters. Anything else (None, a number) is refused, never stored as its repr."""
    if not isinstance(value, str):
        raise InvalidValue(f"{field}: must be text", field)
    name = unicodedata.normalize("NFC", value).strip()
    if not name:
        raise InvalidValue(f"{field}: must not be empty", field)
    if len(name) > MAX_NAME:
        raise InvalidValue(f"{field}: at most {MAX_NAME} characters", field)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise InvalidValue(f"{field}: must not contain control characters or broken Unicode",
                           field)
    return name


def clean_text(value: object, field: str, limit: int) -> str:
    """Free text (descriptions, reasons, keys): trimmed, NFC, no broken Unicode, bounded."""
    if isinstance(value, str) and value.isascii():
        # The common case (a million event ids an import): ASCII is already NFC and has no
        # surrogates, so only NUL is left to refuse.
        text = value.strip()
        if "\x00" in text:
            raise InvalidValue(f"{field}: must be valid Unicode text", field)
    else:
        text = unicodedata.normalize("NFC", str(value)).strip()
        if any(unicodedata.category(ch) == "Cs" for ch in text) or "\x00" in text:
            raise InvalidValue(f"{field}: must be valid Unicode text", field)
    if len(text) > limit:
        raise InvalidValue(f"{field}: at most {limit} characters", field)
    return text


def name_key(name: str) -> str:
    return name.casefold()


#: Row ids are 32-bit integer columns on PostgreSQL (SQLite's rowids are wider): no row ever
#: has a larger id, and asking for one is "not found" rather than a database error.
MAX_ID = 2**31 - 1


def record_id(value: object, field: str) -> int:
    """A row id given by a person or a script: a whole number the database can hold."""
    if isinstance(value, bool):
        raise InvalidValue(f"{field}: {value!r} is not an id", field)
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            raise InvalidValue(f"{field}: {str(value)[:40]!r} is not an id", field)
        if len(text) > 10:
            raise NotFound(f"{field}: no {field} with that id", field)
        number = int(text)
    if not 1 <= number <= MAX_ID:
        raise NotFound(f"{field}: no {field} with id {number}", field)
    return number


def find(session: Session, model: type[T], ref: object) -> T:
    """Exact name, then ignoring case, then a numeric id (SPEC §8)."""
    return resolve_ref(
        ref, KIND_WORD[model],
        lambda text: session.scalars(select(model).where(model.name == text)).first(),
        lambda key: session.scalars(select(model).where(model.name_key == key)).first(),
        lambda number: session.get(model, number))


R = TypeVar("R")


def resolve_ref(ref: object, word: str, by_name: Callable[[str], R | None],
                by_key: Callable[[str], R | None], by_id: Callable[[int], R | None]) -> R:
    """The rule of `find`, over any store: exact name, then ignoring case (`by_key` gets the
    folded name), then a numeric id. An import passes the dicts of a `ClientNames`."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = by_id(ref) if 1 <= ref <= MAX_ID else None
        if found is None:
            raise NotFound(f"{word}: no {word} with id {ref}", word)
        return found
    text = unicodedata.normalize("NFC", str(ref)).strip()
    if not text or any(unicodedata.category(ch) == "Cs" for ch in text) or "\x00" in text:
        raise NotFound(f"{word}: unknown {word} {text[:80]!r}", word)
    row = by_name(text)
    if row is None:
        row = by_key(name_key(text))
    if row is None and text.isascii() and text.isdigit() and len(text) <= 10 and \
            1 <= int(text) <= MAX_ID:
        row = by_id(int(text))
    if row is None:
        raise NotFound(f"{word}: unknown {word} {text[:80]!r}", word)
    return row


class ClientNames:
    """Every client's name, folded name and id, read once: `find`'s rule for the million
    lines of an import, without a query per line."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Client.id, Client.name, Client.name_key)).all()
        self.exact = {name: cid for cid, name, _ in rows}
        self.folded = {key: cid for cid, _, key in rows}
        self.ids = {cid: cid for cid, _, _ in rows}

    def find(self, ref: object) -> int:
        return resolve_ref(ref, "client", self.exact.get, self.folded.get, self.ids.get)


def ensure_unique(session: Session, model: type[T], name: str, exclude_id: int | None = None) -> None:
    word = KIND_WORD[model]
    existing = session.scalars(select(model).where(model.name_key == name_key(name))).first()
    if existing is not None and existing.id != exclude_id:
        raise DuplicateName(f"name: a {word} named {existing.name!r} already exists", "name")
