"""A real SMTP server for the tests: aiosmtpd on a loopback port, plain, STARTTLS or SMTPS
with certificates from trustme, AUTH LOGIN/PLAIN checked against one password, and faults a
test switches on (a refused recipient, a temporary failure, a session closed during DATA, a
stall). Also a credential store for tests, kept in a file so that CLI subprocesses share it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from keyring.backend import KeyringBackend

USER = "desk@agency.test"
PASSWORD = "s3cret-Pa55 with spaces"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Recorder:
    """aiosmtpd's handler: keeps what was accepted; `fault` makes it misbehave."""

    received: list[Received] = field(default_factory=list)
    fault: str | None = None  # "reject-rcpt" | "temporary" | "close-in-data" | "stall" | "reject-data"
    stall: float = 30.0
    delay: float = 0.0  # seconds per accepted message, to spread a run over time
    lock: threading.Lock = field(default_factory=threading.Lock)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.fault == "reject-rcpt":
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if self.fault == "temporary":
            return "451 4.3.0 Temporary local problem, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fault == "close-in-data":
            server.transport.close()  # the client is waiting for the answer to DATA
            return "421 closing"
        if self.fault == "stall":
            await asyncio.sleep(self.stall)
            return "451 4.4.2 too slow"
        if self.fault == "reject-data":
            return "554 5.7.1 Message rejected as spam"
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = bytes(envelope.content)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          parsed, raw))  # type: ignore[arg-type]
            number = len(self.received)
        return f"250 2.0.0 Ok: queued as Q{number:05d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MailServer:
    host: str
    port: int
    security: str
    recorder: Recorder
    ca_file: Path | None
    user: str | None

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def settings(self) -> dict[str, str]:
        """What `settings set` needs to send through this server."""
        values = {"smtp.host": self.host, "smtp.port": str(self.port),
                  "smtp.security": self.security, "smtp.from": "billing@agency.test",
                  "agency.name": "Northwind Agency", "smtp.user": self.user or ""}
        return values


@contextmanager
def smtp_server(tmp_path: Path, security: str = "none", *, user: str | None = None,
                password: str = PASSWORD, login_only: bool = False) -> Iterator[MailServer]:
    """Start a server (security "none", "starttls" or "ssl"); stop it afterwards.
    `login_only`: offer AUTH LOGIN alone (else LOGIN and PLAIN)."""
    import trustme

    recorder = Recorder()
    ca_file: Path | None = None
    context: ssl.SSLContext | None = None
    if security != "none":
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        recorder.logins.append(f"{mechanism}:{'ok' if ok else 'refused'}")
        return AuthResult(success=ok, handled=False)

    port = free_port()
    kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": port}
    if user is not None:
        kwargs.update(authenticator=authenticate, auth_required=True,
                      auth_require_tls=security == "starttls")
        if login_only:
            kwargs["auth_exclude_mechanism"] = ["PLAIN"]
    if security == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    elif security == "ssl":
        kwargs.update(ssl_context=context, server_hostname="127.0.0.1")
    controller = Controller(recorder, ready_timeout=10.0, **kwargs)
    controller.start()
    previous = os.environ.get("SSL_CERT_FILE")
    if ca_file is not None:
        os.environ["SSL_CERT_FILE"] = str(ca_file)  # what ssl.create_default_context reads
    try:
        yield MailServer("127.0.0.1", port, security, recorder, ca_file, user)
    finally:
        if ca_file is not None:
            if previous is None:
                os.environ.pop("SSL_CERT_FILE", None)
            else:
                os.environ["SSL_CERT_FILE"] = previous
        controller.stop()


class FileKeyring(KeyringBackend):
    """A credential store in a JSON file named by $QUOTADESK_TEST_KEYRING (tests only): a CLI
    subprocess given PYTHON_KEYRING_BACKEND=tests.mail_server.FileKeyring shares it."""

    priority = 1  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return Path(os.environ["QUOTADESK_TEST_KEYRING"])

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\t{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\t{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}\t{username}", None)
        self.path.write_text(json.dumps(data))
