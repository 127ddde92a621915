"""The desk's settings (SPEC §9, §10): the agency, the mail server, what is mailed, tax and
invoice numbering, and the mail templates. Kept in the database, so every desk of a team
shares them; the SMTP password is not among them (it lives in the credential store)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, select

from quotadesk.models import Setting
from quotadesk.services.errors import InvalidValue, echo
from quotadesk.services.rules import mail_text
from quotadesk.services.rules.quantities import decimal_to_text
from quotadesk.services.unit_of_work import Tx, read_op, write_op

EMAIL_FORM = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
HOST_FORM = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,253}$")
SECRET = "smtp.password"
#: Keys where an empty value means something ("no reminders"), not "back to the default".
EMPTY_ALLOWED = ("mail.reminders",)
#: Set once by `init`, shown but never changed here.
FIXED = ("currency", "timezone")


def email_address(value: str, key: str = "email") -> str:
    """An e-mail address checked for its form only (the desk works offline: no DNS)."""
    value = value.strip()
    if len(value) > 254 or not EMAIL_FORM.match(value):
        raise InvalidValue(f"{key}: {echo(value)} is not an e-mail address (name@example.com)",
                           key)
    return value


def _text(limit: int, *, lines: bool = False) -> Callable[[str, str], str]:
    def check(key: str, value: str) -> str:
        value = value.replace("\\n", "\n").replace("\r\n", "\n") if lines else value
        value = "\n".join(line.strip() for line in value.strip().split("\n")) if lines \
            else value.strip()
        if len(value) > limit:
            raise InvalidValue(f"{key}: at most {limit} characters", key)
        if any(ord(c) < 32 and c != "\n" for c in value):
            raise InvalidValue(f"{key}: control characters are not allowed", key)
        return value
    return check


def _address(key: str, value: str) -> str:
    return email_address(value, key) if value.strip() else ""


def _host(key: str, value: str) -> str:
    value = value.strip()
    if value and not HOST_FORM.match(value):
        raise InvalidValue(f"{key}: {echo(value)} is not a host name or address", key)
    return value


def _port(key: str, value: str) -> str:
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise InvalidValue(f"{key}: a port number from 1 to 65535, not {echo(value)}", key)
    return str(int(value))


def _seconds(key: str, value: str) -> str:
    if not value.strip().isdigit() or not 1 <= int(value) <= 600:
        raise InvalidValue(f"{key}: seconds from 1 to 600, not {echo(value)}", key)
    return str(int(value))


def _choice(*choices: str) -> Callable[[str, str], str]:
    def check(key: str, value: str) -> str:
        value = value.strip().lower()
        if value not in choices:
            raise InvalidValue(f"{key}: {' or '.join(choices)}, not {echo(value)}", key)
        return value
    return check


def _days(key: str, value: str) -> str:
    parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
    if not all(p.isdigit() and 1 <= int(p) <= 365 for p in parts):
        raise InvalidValue(f"{key}: days after the due date, from 1 to 365, separated by commas "
                           f"(e.g. 3,10), not {echo(value)}", key)
    return ",".join(str(d) for d in sorted({int(p) for p in parts}))


def _rate(key: str, value: str) -> str:
    try:
        rate = Decimal(value.strip().rstrip("%").strip())
    except InvalidOperation:
        raise InvalidValue(f"{key}: a percentage from 0 to 100, not {echo(value)}", key) from None
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise InvalidValue(f"{key}: a percentage from 0 to 100, not {echo(value)}", key)
    if rate != rate.quantize(Decimal("0.0001")):
        raise InvalidValue(f"{key}: at most 4 decimal places", key)
    return decimal_to_text(rate)


def _prefix(key: str, value: str) -> str:
    value = value.strip()
    if len(value) > 20 or any(c.isspace() or ord(c) < 32 for c in value):
        raise InvalidValue(f"{key}: at most 20 characters, no spaces", key)
    return value


def _template(kind: str, part: str) -> Callable[[str, str], str]:
    def check(key: str, value: str) -> str:
        value = value.replace("\r\n", "\n")
        if part == "subject":
            value = value.strip()
            if "\n" in value:
                raise InvalidValue(f"{key}: a subject is one line", key)
        if not value.strip():
            raise InvalidValue(f"{key}: empty (set it to \"\" to go back to the default)", key)
        if len(value) > 20_000:
            raise InvalidValue(f"{key}: at most 20000 characters", key)
        mail_text.check_template(key, kind, part, value)
        return value
    return check


@dataclass(frozen=True)
class SettingKey:
    name: str
    default: str
    check: Callable[[str, str], str]
    label: str


KEYS: dict[str, SettingKey] = {k.name: k for k in (
    SettingKey("agency.name", "", _text(200), "the agency's name"),
    SettingKey("agency.address", "", _text(1000, lines=True), "the agency's postal address"),
    SettingKey("agency.email", "", _address, "the agency's e-mail address"),
    SettingKey("agency.tax_id", "", _text(64), "the agency's tax id"),
    SettingKey("smtp.host", "", _host, "the SMTP server"),
    SettingKey("smtp.port", "587", _port, "its port"),
    SettingKey("smtp.security", "starttls", _choice("starttls", "ssl", "none"), "starttls, ssl or none"),
    SettingKey("smtp.timeout", "30", _seconds, "seconds to wait for the server"),
    SettingKey("smtp.user", "", _text(254), "the SMTP login (empty: no login)"),
    SettingKey("smtp.from", "", _address, "the From address"),
    SettingKey("mail.alerts", "on", _choice("on", "off"), "mail usage alerts"),
    SettingKey("mail.requests", "on", _choice("on", "off"), "mail new payment requests"),
    SettingKey("mail.reminders", "3,10", _days, "reminder days after the due date"),
    SettingKey("tax.rate", "0", _rate, "tax rate in percent"),
    SettingKey("tax.name", "VAT", _text(40), "the tax's name"),
    SettingKey("invoice.prefix", "INV-", _prefix, "invoice number prefix"),
    *(SettingKey(f"template.{kind}.{part}", mail_text.DEFAULTS[kind][part],
                 _template(kind, part), f"the {kind} e-mail's {part}")
      for kind in mail_text.KINDS for part in ("subject", "body")),
)}


class Settings(Mapping[str, str]):
    """Every known setting with its value (the default where none is stored)."""

    def __init__(self, stored: Mapping[str, str]) -> None:
        #: Set once per database (migration 0004): what makes its Message-IDs its own.
        self.message_id_token = stored.get("mail.message_ids", "quotadesk")
        self._values = {name: stored.get(name, key.default) for name, key in KEYS.items()}
        self._values.update({k: stored[k] for k in FIXED if k in stored})

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def on(self, key: str) -> bool:
        return self._values[key] == "on"

    @property
    def smtp_set(self) -> bool:
        """SMTP is set when the host and the From address are (SPEC §9)."""
        return bool(self._values["smtp.host"] and self._values["smtp.from"])

    @property
    def reminder_days(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self._values["mail.reminders"].split(",") if d)

    @property
    def tax_rate(self) -> Decimal:
        return Decimal(self._values["tax.rate"])

    def templates(self) -> dict[str, dict[str, str]]:
        return {kind: {part: self._values[f"template.{kind}.{part}"] for part in ("subject", "body")}
                for kind in mail_text.KINDS}


def current(tx: Tx) -> Settings:
    """The settings as this transaction sees them."""
    cached = tx.session.info.get("settings")
    if cached is None:
        rows = tx.session.execute(select(Setting.key, Setting.value)).all()
        cached = tx.session.info["settings"] = Settings(dict(rows))
    return cached


@read_op
def show_settings(tx: Tx) -> Settings:
    return current(tx)


def check_setting(key: str, value: str) -> str:
    """The value as it will be stored; a refusal names the key and the rule."""
    if key == SECRET:
        raise InvalidValue(f"{key}: kept in the credential store, not in the database "
                           "(`settings set smtp.password -` reads it from standard input)", key)
    if key in FIXED:
        raise InvalidValue(f"{key}: set once when the database was created", key)
    known = KEYS.get(key)
    if known is None:
        raise InvalidValue(f"setting: unknown key {echo(key)} (see `quotadesk settings show`)",
                           "setting")
    if not isinstance(value, str):
        raise InvalidValue(f"{key}: a text value", key)
    return known.check(key, value) if value.strip() else ""


@write_op
def change_settings(tx: Tx, values: Mapping[str, str]) -> dict[str, str]:
    """Change several settings at once (all or none); an empty value goes back to the
    default. Returns the values now in force for the keys given."""
    checked = {key: check_setting(key, value) for key, value in values.items()}
    session = tx.session
    stored = dict(session.execute(select(Setting.key, Setting.value)).all())
    changed: dict[str, str] = {}
    now_in_force: dict[str, str] = {}
    for key, value in checked.items():
        before = stored.get(key, KEYS[key].default)
        after = value if value or key in EMPTY_ALLOWED else KEYS[key].default
        if after == KEYS[key].default:
            if key in stored:
                session.execute(delete(Setting).where(Setting.key == key))
        elif key in stored:
            session.get_one(Setting, key).value = after
        else:
            session.add(Setting(key=key, value=after))
        now_in_force[key] = after
        if after != before:
            changed[key] = after
    if changed:
        tx.audit("settings.change", "settings", None,
                 changed={k: ("(template)" if k.startswith("template.") else v)
                          for k, v in changed.items()})
    session.info.pop("settings", None)
    tx.desk.forget_settings()
    return now_in_force


def set_setting(desk: object, key: str, value: str) -> dict[str, str]:
    return change_settings(desk, {key: value})  # type: ignore[arg-type]
