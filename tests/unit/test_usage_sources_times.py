"""The quick path of a source's local times gives exactly what the general path gives, every
minute of a day that a daylight-saving change shortens or lengthens (SPEC §8, §11)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from quotadesk.services.bulk_statements import stored_time
from quotadesk.services.errors import InvalidValue
from quotadesk.services.usage_sources.times import SourceTimes, minute_of


@pytest.mark.parametrize("zone, day", [("America/New_York", datetime(2026, 3, 8)),
                                       ("America/New_York", datetime(2026, 11, 1)),
                                       ("Australia/Lord_Howe", datetime(2026, 4, 5)),
                                       ("UTC", datetime(2026, 1, 1))])
def test_the_quick_path_agrees_with_the_general_one(zone, day):
    quick, general = SourceTimes(ZoneInfo(zone), "start"), SourceTimes(ZoneInfo(zone), "start")
    for minute in range(0, 24 * 60, 1):
        for second in (0, 59):
            text = (day + timedelta(minutes=minute, seconds=second)).strftime(
                "%Y-%m-%d %H:%M:%S")
            try:
                expected = general.parse(text)
            except InvalidValue as refusal:
                with pytest.raises(InvalidValue) as again:
                    quick.read(text)
                assert again.value.message == refusal.message
                continue
            assert quick.read(text) == (expected, stored_time(expected)), text


@pytest.mark.parametrize("text, expected", [
    ("2026/1/5 9:30", "2026-01-05 09:30:00"), ("2026-1-5 09:30:07", "2026-01-05 09:30:07"),
    ("2026-01-05T09:30:00Z", "2026-01-05 09:30:00"), ("2026-01-05 09:30", "2026-01-05 09:30:00"),
    ("2026-01-05 10:30:00 +0100", "2026-01-05 09:30:00"),
    ("2026-01-05 09:30:00 UTC", "2026-01-05 09:30:00")])
def test_a_spreadsheets_times_are_read(text, expected):
    moment, _stored = SourceTimes(ZoneInfo("UTC"), "start").read(text)
    assert moment.strftime("%Y-%m-%d %H:%M:%S") == expected


def test_rfc_2822_only_where_the_source_writes_it_and_strftime_formats():
    assert SourceTimes(ZoneInfo("UTC"), "SentDate", rfc2822=True).read(
        "Mon, 05 Jan 2026 09:30:00 +0100")[1] == "2026-01-05 08:30:00.000000"
    with pytest.raises(InvalidValue, match="not a time"):
        SourceTimes(ZoneInfo("UTC"), "start").read("Mon, 05 Jan 2026 09:30:00 +0100")
    paris = SourceTimes(ZoneInfo("Europe/Paris"), "time", "%d/%m/%Y %H:%M")
    assert paris.read("05/01/2026 09:30")[1] == "2026-01-05 08:30:00.000000"
    with pytest.raises(InvalidValue, match="does not match the time format"):
        paris.read("2026-01-05 09:30")
    with pytest.raises(InvalidValue, match="ASCII"):
        paris.read("٠٥/01/2026 09:30")


def test_a_digest_reads_times_to_the_minute_whatever_their_form():
    assert minute_of("2026/1/5 9:30") == minute_of(" 2026-01-05 09:30:59 ") == \
        "2026-01-05 09:30"
    assert minute_of("") == ""
