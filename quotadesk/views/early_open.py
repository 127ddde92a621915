"""The window's first database, opened while the window is still being built: at start-up
the database is opened and its client list read in the background at once, so that the
seconds a large list takes to read run beside the window's construction instead of after
it. The window then takes what has arrived (`MainWindow.open_database(..., early=...)`),
and the client list shows it instead of reading it again."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, Signal

from quotadesk.services.client_listing import client_count
from quotadesk.services.errors import QuotaDeskError
from quotadesk.views.client_list import FIRST_SCREENFUL, SCREENFUL_APART_FROM
from quotadesk.views.client_list_model import ClientListing, load_client_listing
from quotadesk.views.desk_context import DeskContext, DeskFacts
from quotadesk.views.ops import hold_collection, release_collection


class EarlyOpen(QObject):
    """`opened` once the database is open (`facts`, and the first screenful of a long list
    in `first`), refused (`refusal`) or failed (neither: the failure was reported as any
    operation's is); `listed` once the whole list (`listing`) is read, or could not be
    (None: the client list reads it itself)."""

    opened = Signal()
    listed = Signal()

    def __init__(self, ctx: DeskContext, path_or_url: str | None) -> None:
        super().__init__(ctx)
        from quotadesk.views.database_actions import open_desk

        self.path_or_url = path_or_url
        self.facts: DeskFacts | None = None
        self.first: ClientListing | None = None
        self.listing: ClientListing | None = None
        self.refusal: QuotaDeskError | None = None
        self.is_opened = self.is_listed = False
        locale = ctx.locale
        ready: Future[DeskFacts | None] = Future()

        def open_and_first() -> tuple[DeskFacts, ClientListing | None]:
            try:
                facts = open_desk(path_or_url, locale)
            except BaseException:
                ready.set_result(None)
                raise
            ready.set_result(facts if facts.initialised else None)
            if not facts.initialised:
                return facts, None
            # A short list from a local file arrives whole in a moment; a server's reads wait
            # on the network.
            if facts.desk.database.path is not None and client_count(
                    facts.desk) < SCREENFUL_APART_FROM:
                return facts, None
            return facts, load_client_listing(facts.desk, locale, FIRST_SCREENFUL)

        def whole() -> ClientListing | None:
            facts = ready.result()
            return None if facts is None else load_client_listing(facts.desk, locale)

        # The whole list is read beside the first screenful (two workers), as a reload does.
        hold_collection()
        ctx.run_op(None, open_and_first, self._opened, label=self.tr("Open database"),
                   on_refused=self._refused, on_settled=self._tell_opened)
        ctx.run_op(None, whole, self._listed, label=self.tr("Loading clients"),
                   on_settled=self._list_settled)

    def _opened(self, result: tuple[DeskFacts, ClientListing | None]) -> None:
        self.facts, self.first = result

    def _refused(self, refusal: QuotaDeskError) -> None:
        self.refusal = refusal

    def _tell_opened(self) -> None:
        self.is_opened = True
        self.opened.emit()

    def _listed(self, listing: ClientListing | None) -> None:
        self.listing = listing

    def _list_settled(self) -> None:
        release_collection()
        self.is_listed = True
        self.listed.emit()

    def when(self, signal: Any, done: bool, slot: Any) -> None:
        """Call `slot` now if `done`, else once `signal` fires."""
        if done:
            slot()
        else:
            signal.connect(slot)
