"""The times in a platform's records: ISO 8601, `YYYY-MM-DD HH:MM:SS`, a spreadsheet's re-save
(`2020/2/10 22:41`), RFC 2822 (Twilio) or a mapping's strftime format; local in the source's
time zone, with SPEC §8's refusal of ambiguous and impossible local times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

from quotadesk.services.bulk_statements import stored_time
from quotadesk.services.errors import InvalidValue, echo
from quotadesk.services.usage_import.resolver import in_utc

#: A re-saved spreadsheet's times: the year first, one-digit months, days and hours, perhaps
#: no seconds (`2020/2/10 22:41`, `2020-2-10 9:05:07`).
LENIENT = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})"
                     r"(?::(\d{2})(?:\.(\d{1,6}))?)?", re.ASCII)
_NOT_SECONDS = re.compile(r":\d{2}(\.\d+)?$")
_fromisoformat = datetime.fromisoformat
_UNSEEN = timedelta(days=2)  # (no zone's offset): an hour not looked at yet


class SourceTimes:
    """Reads one source's times as (UTC time, its SQLite storage form).

    Nearly every record of a CDR file reads `YYYY-MM-DD HH:MM:SS` in local time: the offset
    of each local hour is found once (an hour in which a daylight-saving change happens is
    checked record by record instead), so a million records cost a dictionary look-up and
    one parse each."""

    def __init__(self, tz: ZoneInfo, field: str, time_format: str | None = None,
                 rfc2822: bool = False) -> None:
        self.tz = tz
        self.field = field
        self.time_format = time_format
        self.rfc2822 = rfc2822
        self._hours: dict[str, timedelta | None] = {}

    def read(self, text: str) -> tuple[datetime, str]:
        if self.time_format is None and len(text) == 19 and text[13] == ":" and \
                text[16] == ":" and text.isascii():
            offset = self._hours.get(text[:13], _UNSEEN)
            if offset is _UNSEEN:
                offset = self._hours[text[:13]] = self._hour_offset(text)
            if offset is not None:
                try:  # read as UTC at once: one C call (+00:00 gives UTC itself)
                    moment = _fromisoformat(text + "+00:00")
                except ValueError:  # (a minute or second out of range): said below
                    pass
                else:
                    if not offset:  # (`text` + ".000000" is that form when it has no T)
                        return moment, (text + ".000000" if text[10] == " "
                                        else f"{text[:10]} {text[11:]}.000000")
                    moment -= offset
                    return moment, stored_time(moment)
        moment = self.parse(text)
        return moment, stored_time(moment)

    def _hour_offset(self, text: str) -> timedelta | None:
        """The UTC offset of every second of this local hour, or None if it has none (not a
        plain local time, out of range, or a daylight-saving change within the hour)."""
        try:
            naive = _fromisoformat(text)
        except ValueError:
            return None
        if naive.tzinfo is not None or text[10] not in " T" or not 1971 <= naive.year <= 2998:
            return None
        start = naive.replace(minute=0, second=0)
        ends = [start.replace(tzinfo=self.tz, fold=f) for f in (0, 1)] + \
               [start.replace(minute=59, second=59, tzinfo=self.tz, fold=f) for f in (0, 1)]
        offsets = {end.utcoffset() for end in ends}
        if len(offsets) != 1:
            return None
        offset = offsets.pop()
        if offset is None:
            return None
        # An hour that does not exist gives one offset for both folds, yet does not survive
        # the round trip through UTC.
        for moment in (start, start.replace(minute=59, second=59)):
            if (moment - offset).replace(tzinfo=UTC).astimezone(self.tz) \
                    .replace(tzinfo=None) != moment:
                return None
        return offset

    def parse(self, value: str) -> datetime:
        """The general path: every accepted form, refused with a message naming the field."""
        field = self.field
        text = value.strip()
        if not text:
            raise InvalidValue(f"{field}: a time is required", field)
        if not text.isascii():
            raise InvalidValue(f"{field}: {echo(text)} is not a time (in ASCII digits)", field)
        if self.time_format is not None:
            try:
                moment = datetime.strptime(text, self.time_format)
            except ValueError:
                raise InvalidValue(f"{field}: {echo(text)} does not match the time format "
                                   f"{self.time_format}", field) from None
            return in_utc(moment, self.tz, field, text)
        match = LENIENT.fullmatch(text)
        if match is not None:
            year, month, day, hour, minute, second, fraction = match.groups()
            try:
                moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                                  int(second or 0), int((fraction or "0").ljust(6, "0")))
            except ValueError:
                raise InvalidValue(f"{field}: {echo(text)} is not a valid date and time",
                                   field) from None
            return in_utc(moment, self.tz, field, text)
        iso = text[:-4] + "+00:00" if text[-4:] in (" UTC", " GMT") else text
        try:
            return in_utc(_fromisoformat(iso), self.tz, field, text)
        except ValueError:
            pass
        if self.rfc2822:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                pass
            else:
                return in_utc(moment, self.tz, field, text)
        forms = "ISO 8601, RFC 2822" if self.rfc2822 else "ISO 8601"
        raise InvalidValue(f"{field}: {echo(text)} is not a time ({forms}, or YYYY-MM-DD "
                           "HH:MM:SS)", field)


def minute_of(text: str) -> str:
    """A record's time as a digest sees it: to the minute, the form normalised, so that a
    spreadsheet's re-save of a file (`2020/2/10 22:41`) digests as the original does."""
    match = LENIENT.fullmatch(text.strip())
    if match is None:
        return text.strip()
    year, month, day, hour, minute = match.groups()[:5]
    return f"{year}-{int(month):02d}-{int(day):02d} {int(hour):02d}:{minute}"


__all__ = ["SourceTimes", "minute_of"]
