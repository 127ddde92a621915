"""Hostile values for the fuzz tests in `test_fuzz.py`: text, numbers, references, times and
usage CSV files, each one a Hypothesis strategy.

Nothing here touches a database; the properties and the seeded world live in `test_fuzz.py`.
"""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st


def pick(values: Any) -> st.SearchStrategy[Any]:
    """`sampled_from`, with a short repr (Hypothesis prints strategies; some values are huge)."""
    options = tuple(values)

    def option(index: int) -> Any:
        return options[index]

    return st.integers(0, len(options) - 1).map(option)


# -- text ----------------------------------------------------------------------------------
SQL_TEXT = (
    "'; DROP TABLE clients; --", "\" OR 1=1 --", "' OR ''='", "Robert'); DROP TABLE students;--",
    "%", "_", "\\", "%_%", "a%", "_cme", "A_me", "%cme", "\\%", "';--", "1; SELECT 1",
)
FORMULA_TEXT = ("=1+1", "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "=HYPERLINK(\"http://x\",\"y\")",
                "=SUM(A1)", "\t=1+1")
CONTROL_TEXT = ("\x00", "a\x00b", "\x07", "\x1b[31mred", "\x7f", "a\rb", "a\nb", "\x85",
                "\x1c", "\x0b")
SURROGATE_TEXT = ("\ud800", "a\udcffb", "\udfff", "\udc80", "x\ud83dy")
WHITESPACE_TEXT = ("", " ", "   ", "\t", "\u00a0", "\u3000", "\u2028", "\u2029", "\u2003 \u2003")
UNICODE_TEXT = (
    "👩‍👩‍👧‍👦", "🚀", "Zoë 🚀", "\u202eevil\u202c", "مرحبا", "שלום עולם", "e\u0301", "\u00c5",
    "\u212b", "ß", "ẞ", "ﬃ", "İ", "ǅ", "ΣΑΣ", "\u200b", "\ufeff", "\ufffe", "\U0010ffff",
    "Ａｃｍｅ", "ａｃｍｅ", "\u0301a", "한국어", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
)
NUMERIC_TEXT = ("0", "-1", "1", "2", "3", "1e3", "١٢٣", "٣", "²", "⅕", "Ⅻ", "9" * 30, "9" * 5000,
                "None", "null", "NaN", "undefined", "True")
LONG_TEXT = ("x" * 200, "x" * 201, " " + "x" * 200 + " ", "é" * 199 + "e\u0301",
             "ß" * 200, "ﬃ" * 100, "🚀" * 200, "a" * 2000, "a" * 2001, "a" * 20_000)

SPECIAL_TEXT: tuple[str, ...] = (SQL_TEXT + FORMULA_TEXT + CONTROL_TEXT + SURROGATE_TEXT
                                 + WHITESPACE_TEXT + UNICODE_TEXT + NUMERIC_TEXT + LONG_TEXT)

#: Every code point Python can hold in a str, surrogates included.
any_char = st.characters(categories=["L", "M", "N", "P", "S", "Z", "C"])


def _repeat(pair: tuple[str, int]) -> str:
    return pair[0] * pair[1]


# The special values are weighted up: each is a known way to break a parser or a driver.
hostile_text: st.SearchStrategy[str] = st.one_of(
    pick(SPECIAL_TEXT),
    pick(SPECIAL_TEXT),
    pick(SPECIAL_TEXT),
    st.text(max_size=24),
    st.text(alphabet=any_char, max_size=12),
    st.builds(lambda a, b: a + b, pick(SPECIAL_TEXT), st.text(max_size=8)),
    st.tuples(st.characters(), st.integers(150, 3000)).map(_repeat),
)

# -- numbers -------------------------------------------------------------------------------
SPECIAL_NUMBERS: tuple[object, ...] = (
    -1, 0, -0, 1, 10**9, 10**9 + 1, 10**30, -(10**30), 2**63, True, False, None,
    float("nan"), float("inf"), float("-inf"), -0.0, 0.0, 0.1, 1.5, 1e9, 2.0, 1e300,
    Decimal("NaN"), Decimal("sNaN"), Decimal("-NaN"), Decimal("Infinity"), Decimal("-Infinity"),
    Decimal("-0"), Decimal("0E-30"), Decimal("1E+9"), Decimal("1E+10"), Decimal("1000000000.00"),
    Decimal("1000000000.000001"), Decimal("0.0000001"), Decimal("0.000001"), Decimal("0.001"),
    Decimal("1.000000000000000000000000000001"), Decimal("999999999.99999999999999999999999"),
    Decimal("1E-1000000"), Decimal("1E+1000000"), Fraction(1, 3), Fraction(4, 2),
    "1e3", "1E+9", "1e10", "1e-7", "-0", "+5", " 5 ", "5.", ".5", "0x10", "1_000", "1__0", "_1",
    "١٢٣", "²", "5,5", "1 000", "Infinity", "nan", "-inf", "sNaN", "1e999999999", "1e-999999999",
    "9" * 30, "0." + "0" * 40 + "1", "1." + "0" * 40 + "1", "", " ", "abc", "=1+1", "-2+3",
    "0.01", "0.005", "12.50", "100", "999999999.99", "1000000000", "1000000000.01", "-5",
    "1.0000001", "0.1234567", "3.000000", "٣.٥",
)

hostile_number: st.SearchStrategy[object] = st.one_of(
    pick(SPECIAL_NUMBERS),
    pick(SPECIAL_NUMBERS),
    pick(SPECIAL_NUMBERS),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.decimals(min_value=-10, max_value=10**10, places=8),
    st.text(alphabet="0123456789.eE+-_ ", max_size=14),
    hostile_text,
)


def valid_quantity(resource: str) -> st.SearchStrategy[object]:
    whole = st.integers(1, 10**9)
    forms = [whole, whole.map(str), whole.map(Decimal)]
    if resource == "minutes":
        frac = st.decimals(min_value=Decimal("0.000001"), max_value=10**6, places=6)
        forms += [frac, frac.map(str)]
    return st.one_of(*forms)


def valid_money() -> st.SearchStrategy[object]:
    amount = st.decimals(min_value=0, max_value=10**9, places=2)
    return st.one_of(amount, amount.map(str), st.integers(0, 10**9))


def exact_value(value: object) -> Decimal:
    """The exact number a caller meant by `value` (for values the engine accepted)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, Fraction):
        assert value.denominator == 1, value
        return Decimal(value.numerator)
    return Decimal(str(value).strip().replace("_", ""))


# -- references ------------------------------------------------------------------------------
hostile_id: st.SearchStrategy[object] = st.one_of(
    pick((0, -1, 10**9, 2**31, 2**63, 10**30, -(10**30), True, False, None, 1.0, 1.5,
                     float("nan"), float("inf"), "1", " 1 ", "x", "", "1; DROP TABLE clients",
                     "١", Decimal(1), Decimal("1.5"))),
    st.integers(),
    hostile_text,
)

hostile_ref: st.SearchStrategy[object] = st.one_of(
    hostile_text,
    pick((0, -1, 10**9, 2**31, 2**63, 10**30, -(10**30), True, False, None, 1.5,
                     float("nan"), Decimal(1))),
    st.integers(),
)

# -- times -----------------------------------------------------------------------------------
HOSTILE_MOMENTS = (
    datetime.min, datetime.max, datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-12))),
    datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
    datetime(1970, 1, 1), datetime(2026, 1, 10, 9, 0, 1, tzinfo=UTC),
    datetime(2026, 1, 10, 9, 0, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC),
    datetime(2026, 1, 10, 10, 0, tzinfo=timezone(timedelta(hours=2))),
    datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
)


def moments(now: datetime) -> st.SearchStrategy[datetime]:
    offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
    return st.one_of(
        pick(HOSTILE_MOMENTS),
        pick(HOSTILE_MOMENTS),
        st.datetimes(),
        st.datetimes(timezones=offsets),
        st.integers(-400 * 86400, 86400).map(lambda s: now + timedelta(seconds=s)),
    )


# -- usage CSV files -------------------------------------------------------------------------
HEADER = "event_id,client,resource,quantity,occurred_at"
_BREAK = re.compile(r"\r\n|\r|\n")


def csv_field(text: str, force_quote: bool = False) -> str:
    """One CSV field, quoted when it must be (or when asked)."""
    if force_quote or any(ch in text for ch in ',"\r\n') or text != text.strip(" "):
        return '"' + text.replace('"', '""') + '"'
    return text


@dataclass
class Record:
    """One generated line of a usage file, with what a correct importer must do with it.

    expect: "ok" (recorded or a duplicate), "reject" (always rejected, at parsing),
    "reject_event" (a valid line the rules refuse: future time, no subscription; it carries
    a fresh or no event id so it cannot be a duplicate), "any" (hostile; either outcome) or
    "blank" (skipped, not a data line).
    """

    fields: list[str]
    expect: str
    encoding: str = "utf-8"  # or "latin-1", "bad-bytes", "surrogate", "stray-quote"
    quote_all: bool = False
    terminator: str = "\n"
    data: bytes = b""
    first_line: int = 0
    last_line: int = 0

    @property
    def event_id(self) -> str:
        return self.fields[0].strip() if self.fields else ""


def record_bytes(record: Record) -> bytes:
    line = ",".join(csv_field(f, record.quote_all) for f in record.fields)
    if record.encoding == "latin-1":
        return line.encode("latin-1", errors="replace")
    if record.encoding == "surrogate":
        return line.encode("utf-8", errors="surrogatepass")
    if record.encoding == "stray-quote":
        # a character after a closing quote: a malformed line that must reject only itself
        first, second, *rest = record.fields
        return ",".join([first, f'"{second}"x', *rest]).encode("utf-8")
    if record.encoding == "bad-bytes":
        raw = line.encode("utf-8")
        cut = len(raw) // 2
        return raw[:cut] + b"\xff\xc3(\x80" + raw[cut:]
    return line.encode("utf-8")


@dataclass
class UsageFile:
    records: list[Record]
    prefix: bytes = b""            # a UTF-8 BOM, or nothing
    whole: str = "utf-8"           # "utf-16" re-encodes the whole file (unreadable)
    header: str = HEADER
    data: bytes = field(default=b"", init=False)

    def build(self) -> bytes:
        """Serialise, and note each record's first and last physical line (CR, LF, CRLF)."""
        chunks = [self.prefix + self.header.encode("utf-8") + b"\n"]
        line = 2
        for record in self.records:
            record.data = record_bytes(record)
            text = record.data.decode("utf-8", errors="surrogateescape")
            record.first_line = line
            record.last_line = line + len(_BREAK.findall(text))
            chunks.append(record.data + record.terminator.encode("ascii"))
            line = record.last_line + 1
        self.data = b"".join(chunks)
        text = self.data.decode("utf-8", errors="surrogateescape")
        # No CR of one record merges with a LF opening the next (see `usage_file`).
        assert len(_BREAK.findall(text)) == line - 1, "line breaks were miscounted"
        if self.whole == "utf-16":
            self.data = codecs.BOM_UTF16_LE + text.encode("utf-16-le", errors="surrogatepass")
        return self.data


TIME_OK = ("2026-01-05", "2026-01-05T10:00", "2026-01-05 10:00:00.123456",
           "2026-01-05T10:00:00+05:30", "2026-01-09T23:59:59Z", "20260105T100000",
           "2026-01-10T09:00:00Z", "2026-01-10T11:00:00+02:00", "2025-12-20T08:00:00",
           " 2026-01-06T07:00:00 ", "2026-01-01T00:00:00-00:00", "1970-01-01T00:00Z")
TIME_FUTURE = ("2026-01-10T09:00:01Z", "2026-01-11", "2030-01-01T00:00:00",
               "2026-01-10T09:00:00-00:01", "9999-12-31")
TIME_BAD = ("", " ", "2026-13-01", "2026-02-30", "05/01/2026", "now", "yesterday",
            "2026-01-05T25:00", "2026-01-05T10:00:00+25:00", "2026-01-05 10:00 UTC",
            "1e3", "=NOW()", "'; DROP TABLE usage_events; --", "2026-01-05\x00", "½",
            # SPEC §8: before 1970 (UTC), and digits other than ASCII
            "0001-01-01", "1969-12-31T23:59:59Z", "2026-01-0٥T10:00")
TIME_EXTREME = ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+01:00",
                "9999-12-31T23:59:59.999999-00:01", "0001-01-01T00:00:00+14:00")

RESOURCES_OK = ("sms", "minutes", "email", " SMS ", "Minutes", "EMAIL")
RESOURCES_BAD = ("", "voice", "sms,", "smss", "MINUTES\x00", "=1+1", "'; DROP TABLE x; --",
                 "ｓｍｓ", "%", "_")


def quantity_text(resource: str) -> st.SearchStrategy[str]:
    res = resource.strip().lower()
    whole = st.integers(1, 10**9).map(str)
    forms = [whole, pick(("1", "5", "1e3", "1E+9", " 7 ", "1_000", "10.000"))]
    if res == "minutes":
        forms += [st.decimals(min_value=Decimal("0.000001"), max_value=1000, places=6).map(str),
                  pick(("0.5", "2.25", "0.000001", "1.500000"))]
    return st.one_of(*forms)


QUANTITY_BAD = ("0", "-1", "-0", "", "abc", "NaN", "Infinity", "-inf", "sNaN", "1e999999999",
                "1e-999999999", "1000000001", "1E+10", "9" * 40, "0x10", "1/2", "=1+1", "-2+3",
                "1,5", "1.0000001", "١٢", "１")  # (SPEC §8: ASCII digits only)
QUANTITY_BAD_WHOLE = ("1.5", "0.1", "2.000001")


@dataclass(frozen=True)
class ImportWorld:
    """What the seeded database holds, as the file generator needs it."""

    active: tuple[str, ...]       # client references with an active subscription
    inactive: tuple[str, ...]     # known clients without one
    seen_ids: tuple[str, ...]     # event ids already recorded


@st.composite
def usage_record(draw: Any, world: ImportWorld, used_ids: list[str]) -> Record:
    kind = draw(pick(("ok", "ok", "ok", "ok", "dup", "reject", "reject_event",
                                 "any", "blank", "width")))
    if kind == "blank":
        return Record(draw(pick(([], [""], ["   "], ["\t"]))), "blank",
                      quote_all=draw(st.booleans()))
    if kind == "width":
        width = draw(pick((1, 2, 4, 6, 9)))
        # On one physical line: a record of the wrong width spanning lines rejects only its
        # first line, and the lines after it are read again (SPEC §8; test_import_hardening).
        fields = draw(st.lists(st.text(max_size=6).map(lambda t: _BREAK.sub(" ", t)),
                               min_size=width, max_size=width))
        if width == 1 and not fields[0].strip():
            fields = ["x"]
        return Record(fields, "reject")
    resource = draw(pick(RESOURCES_OK))
    fresh = f"ev-{len(used_ids)}-{draw(st.integers(0, 999))}"
    if kind == "dup" and (used_ids or world.seen_ids):
        event_id = draw(pick(used_ids + list(world.seen_ids)))
    else:
        # ids may hold anything but NUL and surrogates: quotes, commas, line breaks, formulas
        event_id = draw(pick((fresh, "", f" {fresh} ", f"{fresh}\nline2", f"{fresh}\r\nx",
                              f'{fresh} "quoted"', f"{fresh},comma", f"={fresh}", f"+{fresh}",
                              f"{fresh}'; DROP TABLE usage_events; --", f"{fresh} 🚀")))
    fields = [event_id, draw(pick(world.active)), resource,
              draw(quantity_text(resource)), draw(pick(TIME_OK))]
    expect = "ok"
    if kind == "reject":
        slot = draw(pick(("client", "resource", "quantity", "time", "event_id", "encoding",
                          "stray-quote")))
        if slot == "client":
            fields[1] = draw(pick(("", "Nobody", "Acme\x00", "A_me", "%%", "_", "999999", "0",
                                   "-1", "Acme;", "=SUM(A2)", "'; DROP TABLE client; --")))
        elif slot == "resource":
            fields[2] = draw(pick(RESOURCES_BAD))
        elif slot == "quantity":
            bad = QUANTITY_BAD + (QUANTITY_BAD_WHOLE if resource.strip().lower() != "minutes"
                                  else ("0.0000001",))
            fields[3] = draw(pick(bad))
        elif slot == "time":
            fields[4] = draw(pick(TIME_BAD))
        elif slot == "event_id":
            fields[0] = "e" * draw(st.integers(201, 400))
        elif slot == "stray-quote":
            fields[0] = fresh  # one physical line: a plain id, a client with no comma
            fields[1] = draw(pick(("Acme", "Globex", "=SUM(A1)", "Zoë 🚀")))
            return Record(fields, "reject", encoding="stray-quote")
        else:
            fields[1] = draw(pick(("Zoë 🚀", "Café Ünïcode", "Smith, Jones & Co")))
            fields[0] = fresh
            encoding = draw(pick(("latin-1", "bad-bytes", "surrogate")))
            if encoding == "surrogate":
                fields[0] = fresh + "\udc99"
            if encoding == "latin-1" and fields[1] == "Smith, Jones & Co":
                fields[1] = "Zoë 🚀"
            record = Record(fields, "reject", encoding=encoding)
            return record
        expect = "reject"
    elif kind == "reject_event":
        fields[0] = draw(pick((fresh, "")))
        if draw(st.booleans()) and world.inactive:
            fields[1] = draw(pick(world.inactive))
        else:
            fields[4] = draw(pick(TIME_FUTURE))
        expect = "reject_event"
    elif kind == "any":
        slot = draw(st.integers(0, 4))
        fields[slot] = draw(st.one_of(hostile_text, pick(TIME_EXTREME + TIME_BAD
                                                                    + QUANTITY_BAD)))
        # a surrogate cannot travel in a file except as bad bytes: those lines are rejected
        fields = [f.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for f in fields]
        if slot == 0 and not fields[0].strip():
            fields[0] = ""
        expect = "any"
    event = fields[0].strip()
    if expect in {"ok", "any"} and 0 < len(unicodedata.normalize("NFC", event)) <= 200 \
            and "\x00" not in event:
        used_ids.append(event)  # a valid id a later line may repeat
    return Record(fields, expect)


@st.composite
def usage_file(draw: Any, world: ImportWorld) -> UsageFile:
    used: list[str] = []
    records = draw(st.lists(usage_record(world, used), min_size=0, max_size=10))
    for record in records:
        record.quote_all = record.quote_all or draw(st.integers(0, 5)) == 0
        record.terminator = draw(pick(("\n", "\n", "\r\n", "\r")))
    for before, after in itertools.pairwise(records):
        if before.terminator == "\r" and not record_bytes(after):
            before.terminator = "\r\n"  # a CR then an empty line's LF would read as one break
    prefix = draw(pick((b"", b"", b"\xef\xbb\xbf")))
    header = draw(pick((HEADER, HEADER, HEADER, " Event_ID , CLIENT,resource,"
                                                           "quantity , occurred_at")))
    whole = draw(pick(("utf-8",) * 15 + ("utf-16",)))
    return UsageFile(records, prefix=prefix, whole=whole, header=header)
