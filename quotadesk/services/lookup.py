"""Finding clients, plans and packs by name (exact, then ignoring case) or numeric id."""

from __future__ import annotations

import unicodedata
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from quotadesk.models import AddonPack, Client, Plan
from quotadesk.services.errors import DuplicateName, InvalidValue, NotFound

T = TypeVar("T", Client, Plan, AddonPack)
MAX_NAME = 200

KIND_WORD: dict[Any, str] = {Client: "client", Plan: "plan", AddonPack: "pack"}


def clean_name(value: object, field: str = "name") -> str:
    """Names are trimmed, any Unicode, non-empty, at most 200 characters, no control chars."""
    name = unicodedata.normalize("NFC", str(value)).strip()
    if not name:
        raise InvalidValue(f"{field}: must not be empty", field)
    if len(name) > MAX_NAME:
        raise InvalidValue(f"{field}: at most {MAX_NAME} characters", field)
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise InvalidValue(f"{field}: must not contain control characters", field)
    return name


def name_key(name: str) -> str:
    return name.casefold()


def find(session: Session, model: type[T], ref: object) -> T:
    """Exact name, then ignoring case, then a numeric id (SPEC §8)."""
    word = KIND_WORD[model]
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.get(model, ref)
        if found is None:
            raise NotFound(f"{word}: no {word} with id {ref}", word)
        return found
    text = str(ref).strip()
    row = session.scalars(select(model).where(model.name == text)).first()
    if row is None:
        row = session.scalars(select(model).where(model.name_key == name_key(text))).first()
    if row is None and text.isdigit():
        row = session.get(model, int(text))
    if row is None:
        raise NotFound(f"{word}: unknown {word} {text!r}", word)
    return row


def ensure_unique(session: Session, model: type[T], name: str, exclude_id: int | None = None) -> None:
    word = KIND_WORD[model]
    existing = session.scalars(select(model).where(model.name_key == name_key(name))).first()
    if existing is not None and existing.id != exclude_id:
        raise DuplicateName(f"name: a {word} named {existing.name!r} already exists", "name")
