"""How the command line answers: exit statuses, JSON (exact strings for numbers) or lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from quotadesk.services.rules.money import money_text
from quotadesk.services.rules.quantities import text
from quotadesk.services.unit_of_work import Desk

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line is malformed (exit 2)."""


class Output:
    """Prints a result as JSON (exact strings for numbers) or as lines for people."""

    def __init__(self, desk: Desk, as_json: bool) -> None:
        self.desk = desk
        self.as_json = as_json

    def money(self, amount: Decimal | None) -> str | None:
        return None if amount is None else money_text(amount, self.desk.currency)

    def time(self, moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(self.desk.timezone).isoformat()

    def day(self, moment: datetime | None) -> str | None:
        """A local calendar date, YYYY-MM-DD (SPEC §7: dates)."""
        return None if moment is None else moment.astimezone(self.desk.timezone).date().isoformat()

    def emit(self, data: Any, lines: Callable[[], Sequence[str]] | Sequence[str] = ()) -> None:
        if self.as_json:
            json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=_json_default)
            sys.stdout.write("\n")
        else:
            for line in (lines() if callable(lines) else lines):
                print(line)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return text(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
