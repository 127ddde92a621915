"""Named domain errors: every refusal says which field or rule, and nothing was written."""

from __future__ import annotations

ADDONS_DISABLED_TEXT = (
    "Add-on packs are disabled for this subscription. The plan snapshot for this client has "
    "add-ons turned off. Turn on add-ons on the billing plan product (or re-subscribe after "
    "changing the plan), then refresh - you cannot assign packs or apply credits until add-ons "
    "are enabled on the plan."
)


class QuotaDeskError(Exception):
    """Base of every refusal. `field` names the input or rule at fault."""

    field: str = "rule"

    def __init__(self, message: str, field: str | None = None) -> None:
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


class DatabaseNotInitialised(QuotaDeskError):
    field = "database"


class DatabaseBusy(QuotaDeskError):
    """Another desk held the database for longer than we were willing to wait."""

    field = "database"
