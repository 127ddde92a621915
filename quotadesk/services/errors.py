"""Named domain errors: every refusal says which field or rule, and nothing was written."""

from __future__ import annotations

ADDONS_DISABLED_TEXT = (
    "Add-on packs are disabled for this subscription. The plan snapshot for this client has "
    "add-ons turned off. Turn on add-ons on the billing plan product (or re-subscribe after "
    "changing the plan), then refresh - you cannot assign packs or apply credits until add-ons "
    "are enabled on the plan."
)


#: How much of a value a message repeats back (a 100 KB address is not echoed whole).
ECHO_LIMIT = 80
#: The longest message a refusal carries, whatever went into it (one line, read by people).
MESSAGE_LIMIT = 600


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """A value given by a person or a file, for a message: quoted, at most `limit`
    characters of it, then "…"."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)


class QuotaDeskError(Exception):
    """Base of every refusal. `field` names the input or rule at fault."""

    field: str = "rule"

    def __init__(self, message: str, field: str | None = None) -> None:
        if len(message) > MESSAGE_LIMIT:
            message = message[:MESSAGE_LIMIT] + "…"
        super().__init__(message)
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self.args[0])


class InvalidValue(QuotaDeskError):
    """A value the user typed is malformed, out of bounds or of the wrong kind."""


class NotFound(QuotaDeskError):
    """An unknown client, plan, pack, lot, campaign or payment request."""


class DuplicateName(QuotaDeskError):
    """Names are unique per kind, ignoring case."""


class NoActiveSubscription(QuotaDeskError):
    field = "subscription"


class AddonsDisabled(QuotaDeskError):
    field = "addons"

    def __init__(self) -> None:
        super().__init__(ADDONS_DISABLED_TEXT)


class PackNotAssigned(QuotaDeskError):
    field = "pack"


class IdempotencyConflict(QuotaDeskError):
    field = "key"


class InvalidTransition(QuotaDeskError):
    field = "status"


class FutureUsage(QuotaDeskError):
    field = "occurred_at"


class ClockBehind(QuotaDeskError):
    """A write whose clock is earlier than the latest moment recorded for its client: time
    runs forward for each client (SPEC §8)."""

    field = "now"
    #: Behind by so little that a live clock may have lost a race with another desk.
    racing = False


class DatabaseNotInitialised(QuotaDeskError):
    field = "database"


class DatabaseBusy(QuotaDeskError):
    """Another desk held the database for longer than we were willing to wait."""

    field = "database"


class DatabaseFailure(QuotaDeskError):
    """The database refused a write or a read (read-only, full disk, locked, unreachable):
    said plainly, like any other refusal."""

    field = "database"


def as_refusal(error: BaseException) -> QuotaDeskError | None:
    """A failure of the database or the disk as a plain refusal (None for a real bug)."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    from quotadesk.db import plain_database_error
    from quotadesk.db.files import DatabaseUnusable, UnsafeTarget

    if isinstance(error, QuotaDeskError):
        return error
    if isinstance(error, DatabaseUnusable | UnsafeTarget):
        prefix = "" if isinstance(error, UnsafeTarget) else "database: "
        return DatabaseFailure(prefix + error.message)
    if isinstance(error, SQLAlchemyError | sqlite3.Error | OSError):
        return DatabaseFailure("database: " + plain_database_error(error))
    return None
