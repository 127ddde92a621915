"""Values typed on the command line: RES=VALUE pairs, on/off, whole numbers (ASCII digits)."""

from __future__ import annotations

from collections.abc import Sequence

from quotadesk.services.errors import InvalidValue, echo


def pairs(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """RES=VALUE pairs from every use of the option; a resource given twice is refused."""
    field = option.lstrip("-")
    result: dict[str, str] = {}
    for item in values or ():
        if "=" not in item:
            raise InvalidValue(f"{field}: expected RES=VALUE, got {echo(item)}", field)
        key, _, value = item.partition("=")
        key = key.strip()
        if any(known.lower() == key.lower() for known in result):
            raise InvalidValue(f"{field}: {echo(key)} is given twice", field)
        result[key] = value.strip()
    return result


def on_off(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered not in {"on", "off"}:
        raise InvalidValue(f"addons: use on or off, not {echo(value)}", "addons")
    return lowered == "on"


def whole_number(value: str, field: str) -> int:
    """A whole number in ASCII digits (SPEC §8: `٣` is not 3)."""
    text = value.strip()
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidValue(f"{field}: {echo(value)} is not a whole number", field)
    if len(digits) > 18:
        raise InvalidValue(f"{field}: {echo(value)} is out of range", field)
    return int(text)
