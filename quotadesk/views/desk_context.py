"""The window's central object: the open desk, how to write its numbers, the one way to run
its services, and the `changed` broadcast every panel listens to."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject

from quotadesk.services.unit_of_work import Desk
from quotadesk.views.formatting import Formatter, system_locale
from quotadesk.views.ops import Changes, OpRunner


@dataclass(frozen=True)
class DeskFacts:
    """What the window needs to know about an open desk, read once off the UI thread."""

    desk: Desk
    initialised: bool
    currency: str | None
    timezone: str | None
    #: The file or its folder cannot be written: open for browsing, every change refused.
    read_only: bool = False
    #: The database as a person may see it (a path, or a URL with its password as ***).
    shown: str = ""


def read_desk_facts(desk: Desk) -> DeskFacts:
    """Run in a worker: reads the settings once, so that the UI thread never has to."""
    desk.forget_settings()
    settings = desk.settings()
    return DeskFacts(desk, "currency" in settings, settings.get("currency"),
                     settings.get("timezone"), desk.database.read_only, desk.database.shown)


class DeskContext(OpRunner):
    """One per window. `desk` is None until a database is open and set up."""

    def __init__(self, parent: QObject | None = None, locale: str | None = None) -> None:
        super().__init__(parent)
        self.desk: Desk | None = None
        self.locale = locale or system_locale()
        self.fmt = Formatter(locale=self.locale)

    def adopt(self, facts: DeskFacts) -> None:
        """Make `facts.desk` the open desk and tell every panel to load from it."""
        assert facts.initialised and facts.currency and facts.timezone
        previous = self.desk
        self.desk = facts.desk
        self.fmt = Formatter(facts.currency, ZoneInfo(facts.timezone), self.locale)
        if previous is not None and previous is not facts.desk:
            self.wait_idle()
            previous.close()
        self.changed.emit(Changes.everything())
