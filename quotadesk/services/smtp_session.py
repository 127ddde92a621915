"""An SMTP session for the desk (SPEC §9): the server of the settings, its password from the
credential store or the environment, TLS as set, and what each failure means for a message.
Nothing here touches the database."""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.settings import Settings

PASSWORD_ENV = "QUOTADESK_SMTP_PASSWORD"
KEYRING_SERVICE = "QuotaDesk SMTP"


class MailNotSet(QuotaDeskError):
    """`mail send` with no SMTP server set (exit 1)."""

    field = "smtp.host"


class MailServerRefused(QuotaDeskError):
    """The server refused the desk itself (login, STARTTLS): nothing can be sent until a
    person changes a setting; every message stays queued."""

@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    user: str
    sender: str
    sender_name: str
    reply_to: str
    timeout: int  # seconds

    @classmethod
    def of(cls, s: Settings) -> Server:
        if not s.smtp_set:
            raise MailNotSet("smtp: not set (set smtp.host and smtp.from with `quotadesk "
                             "settings set`, or in File → Settings…)", "smtp.host")
        return cls(s["smtp.host"], int(s["smtp.port"]), s["smtp.security"], s["smtp.user"],
                   s["smtp.from"], s["agency.name"], s["agency.email"], int(s["smtp.timeout"]))


# -- the password --------------------------------------------------------------------------
def keyring_user(user: str, host: str) -> str:
    return f"{user}@{host}"


def smtp_password(user: str, host: str) -> str:
    """The SMTP password: `QUOTADESK_SMTP_PASSWORD` where set (a headless server), else the
    operating system's credential store."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    try:
        import keyring
        from keyring.errors import KeyringError

        stored = keyring.get_password(KEYRING_SERVICE, keyring_user(user, host))
    except (KeyringError, RuntimeError):
        stored = None
    if not stored:
        raise MailServerRefused(
            f"smtp.password: no password kept for {user} on this machine (run `quotadesk "
            f"settings set smtp.password -`, or set {PASSWORD_ENV} for a nightly job)",
            "smtp.password")
    return str(stored)


def store_password(user: str, host: str, password: str) -> None:
    """Keep the SMTP password in the credential store (never in the database or a file)."""
    import keyring
    from keyring.errors import KeyringError

    if not user or not host:
        raise QuotaDeskError("smtp.user: set smtp.host and smtp.user before the password",
                             "smtp.user")
    try:
        keyring.set_password(KEYRING_SERVICE, keyring_user(user, host), password)
    except (KeyringError, RuntimeError):
        raise QuotaDeskError(
            "smtp.password: this machine has no credential store; a nightly job reads "
            f"{PASSWORD_ENV} instead", "smtp.password") from None

# -- SMTP ----------------------------------------------------------------------------------
class _KeepsReply:
    """Keeps the server's answer to DATA ("250 2.0.0 Ok: queued as …"), which smtplib's
    `send_message` drops, for the outbox to show."""

    last_reply: tuple[int, bytes] = (250, b"OK")

    def data(self, msg: Any) -> tuple[int, bytes]:
        code, text = super().data(msg)  # type: ignore[misc]
        self.last_reply = (code, text)
        return code, text


class _SMTP(_KeepsReply, smtplib.SMTP):
    pass


class _SMTPS(_KeepsReply, smtplib.SMTP_SSL):
    pass


class Unreachable(Exception):
    """No SMTP session could be opened: nothing was tried, no attempt is counted."""


def open_session(server: Server, password: Callable[[], str] | None = None) -> smtplib.SMTP:
    """A logged-in SMTP session. Raises Unreachable (no session), MailServerRefused (the
    server refused this desk: login, STARTTLS)."""
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if server.security == "ssl":
            smtp = _SMTPS(server.host, server.port, timeout=server.timeout, context=context)
        else:
            smtp = _SMTP(server.host, server.port, timeout=server.timeout)
    except (OSError, smtplib.SMTPException) as error:
        raise Unreachable(f"{server.host}:{server.port}: {reason(error)}") from None
    try:
        smtp.ehlo()
        if server.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise MailServerRefused(
                    f"smtp.security: {server.host} does not offer STARTTLS (choose ssl, or "
                    "none only on a trusted network)", "smtp.security")
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.user:
            secret = (password or (lambda: smtp_password(server.user, server.host)))()
            try:
                smtp.login(server.user, secret)
            except smtplib.SMTPAuthenticationError as error:
                raise MailServerRefused(
                    f"smtp.password: {server.host} refused the login for {server.user} "
                    f"({reason(error)})", "smtp.password") from None
            except smtplib.SMTPNotSupportedError:
                raise MailServerRefused(
                    f"smtp.user: {server.host} offers no login on this connection (set "
                    "smtp.security to starttls or ssl)", "smtp.user") from None
    except ssl.SSLCertVerificationError as error:
        close_session(smtp)
        raise MailServerRefused(f"smtp.host: the certificate of {server.host} cannot be "
                                f"trusted ({error.verify_message})", "smtp.host") from None
    except (MailServerRefused, QuotaDeskError):
        close_session(smtp)
        raise
    except (OSError, smtplib.SMTPException) as error:
        close_session(smtp)
        raise Unreachable(f"{server.host}:{server.port}: {reason(error)}") from None
    return smtp


def close_session(smtp: smtplib.SMTP) -> None:
    """QUIT, or at least close the socket."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        with contextlib.suppress(OSError):
            smtp.close()


def reason(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        raw = error.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return f"{error.smtp_code} {' '.join(text.split())}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(error.recipients.values()))
        return reason(smtplib.SMTPResponseException(code, answer))
    if isinstance(error, TimeoutError | socket.timeout) or "timed out" in str(error):
        return "no answer in time"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return " ".join(str(error).split()) or type(error).__name__

def classify(error: BaseException) -> str:
    """"failed" (a permanent refusal of this message) or "attempt" (try again later)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return "failed" if codes and all(500 <= c < 600 for c in codes) else "attempt"
    if isinstance(error, smtplib.SMTPResponseException):
        return "failed" if 500 <= error.smtp_code < 600 else "attempt"
    return "attempt"  # a broken session, a timeout: the server may come back

def last_reply(smtp: smtplib.SMTP) -> str:
    """The server's answer to the end of DATA ("250 2.0.0 Ok: queued as …")."""
    code, text = getattr(smtp, "last_reply", (250, b"OK"))
    return f"{code} {text.decode('utf-8', 'replace')}"
