"""Secrets in the operating system's credential store (`keyring`), never in a file.

A PostgreSQL URL's password is kept there under the URL without it; the window's settings
keep only that URL (SPEC §8 "Files and secrets").
"""

from __future__ import annotations

import logging

from quotadesk.db.files import masked, with_password, without_password

SERVICE = "QuotaDesk"
log = logging.getLogger(__name__)


class CredentialStoreMissing(Exception):
    """This machine has no usable credential store (a headless server, say)."""


def remember(url: str) -> str:
    """Keep the URL's password in the credential store; the URL to save without it.
    Raises CredentialStoreMissing when the password could not be kept."""
    bare, password = without_password(url)
    if password is None:
        return url
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, bare, password)
    except (KeyringError, RuntimeError) as error:
        log.warning("no credential store for the database password: %s", type(error).__name__)
        raise CredentialStoreMissing(str(error)) from None
    return bare


def recall(url: str) -> str:
    """The URL with its password from the credential store (as it is when none is kept)."""
    if "://" not in url or url.startswith("sqlite"):
        return url
    bare, password = without_password(url)
    if password is not None:
        return url
    import keyring
    from keyring.errors import KeyringError

    try:
        stored = keyring.get_password(SERVICE, bare)
    except (KeyringError, RuntimeError):
        return url
    return url if stored is None else with_password(bare, stored)


__all__ = ["CredentialStoreMissing", "masked", "recall", "remember", "without_password"]
