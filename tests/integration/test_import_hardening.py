"""SPEC §8 for the usage importer on hostile files and a failing database: one stray quote never
hides the lines after it, a quoted field may span lines, a line of any length is rejected on
its own with bounded memory and work, and an import the database (or the file) stops part-way
says exactly what was recorded before the stop.
"""

from __future__ import annotations

import errno
import io
import sqlite3
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from quotadesk.services import catalog, clients, usage
from quotadesk.services.unit_of_work import Desk
from quotadesk.services.usage_import import reader as usage_reader
from quotadesk.services.usage_import.reader import MAX_LINE, MAX_RECORD_LINES
from tests.conftest import MovableClock, new_desk

HEADER = "event_id,client,resource,quantity,occurred_at"
AT = "2026-01-10T08:00:00Z"


def good(n: int | str) -> str:
    return f"g-{n},Acme,sms,1,{AT}"


def _bytes(lines: list[str], end: str = "\n") -> bytes:
    return (end.join([HEADER, *lines]) + end).encode("utf-8")


@pytest.fixture
def acme(tmp_path: Path) -> Iterator[Desk]:
    """A SQLite file desk: Acme with a million SMS included (every event is recorded)."""
    desk = new_desk(tmp_path / "hardening.db", MovableClock(datetime(2026, 1, 10, 9, tzinfo=UTC)))
    catalog.add_plan(desk, name="Bulk", fee="0", included={"sms": "1000000"})
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Bulk")
    yield desk
    desk.close()


def _stored(desk: Desk) -> list[str]:
    """The event ids as stored, in order."""
    path = desk.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return [row[0] for row in conn.execute("SELECT event_id FROM usage_events ORDER BY id")]


def _import(desk: Desk, data: bytes, **kwargs: Any) -> usage.ImportResult:
    return usage.import_usage(desk, io.BytesIO(data), **kwargs)


# -- one stray quote never hides the lines after it ------------------------------------------
@pytest.mark.parametrize("pipelined", [False, True], ids=["in turn", "writer process"])
def test_a_stray_quote_rejects_only_its_line_and_the_thousand_lines_after_are_read(
        acme: Desk, pipelined: bool) -> None:
    """The reproduction: a good row, an unclosed quote, then 1,000 good rows. It was
    "recorded 1, rejected 1": the 1,000 lines were neither recorded nor reported."""
    lines = [good(0), f'ub-1,"Acme,sms,1,{AT}', *(good(n) for n in range(1, 1001))]

    result = _import(acme, _bytes(lines), batch_size=250, pipelined=pipelined)

    assert (result.recorded, result.duplicates) == (1001, 0)
    assert [r.line for r in result.rejected] == [3]
    assert "quote" in result.rejected[0].reason
    assert _stored(acme) == [f"g-{n}" for n in range(1001)]


@pytest.mark.parametrize(("lines", "recorded", "rejected"), [
    # A quote that never closes (the end of the file inside it).
    ([f'a-1,"Acme,sms,1,{AT}', good(1), good(2)], ["g-1", "g-2"], [2]),
    # One that closes two lines on, giving 3 fields: the lines between are read again.
    ([f'a-1,"Acme,sms,1,{AT}', good(1), good(2), 'x",1'], ["g-1", "g-2"], [2, 5]),
    # One that would close past the bound on the lines a record may span.
    ([f'a-1,"Acme,sms,1,{AT}', *(good(n) for n in range(MAX_RECORD_LINES + 20)), '",x'],
     [f"g-{n}" for n in range(MAX_RECORD_LINES + 20)], [2, MAX_RECORD_LINES + 23]),
    # A CSV error on a later line of a record that spans lines rejects only its first line.
    ([f'a-1,"Acme,sms,1,{AT}', good(1), 'x"y,1,2,3,4', good(2)], ["g-1", "g-2"], [2, 4]),
], ids=["never closed", "closed far away", "past the bound", "error on a later line"])
def test_a_record_that_does_not_parse_rejects_only_its_first_physical_line(
        acme: Desk, lines: list[str], recorded: list[str], rejected: list[int]) -> None:
    result = _import(acme, _bytes(lines))

    assert [r.line for r in result.rejected] == rejected
    assert result.rejected[0].reason.startswith("line: malformed CSV (")
    assert _stored(acme) == recorded and result.recorded == len(recorded)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_quoted_field_may_span_lines_and_such_a_record_is_one_record(
        acme: Desk, end: str) -> None:
    lines = [
        '"m-1\nsecond line",Acme,sms,1,' + AT,     # 2-3: recorded, its id holds the break
        '"m-2\nx",Acme,sms,abc,' + AT,             # 4-5: rejected as a whole, at line 4
        good(1),                                   # 6
        f'a-1,"Acme,sms,1,{AT}',                   # 7-9: 5 fields, so one record: unknown
        good(2),                                   #      client "Acme,sms,1,…", rejected
        f'b-1,Acme",sms,1,{AT}',                   #      whole at its first line
        good(3),                                   # 10
    ]
    data = _bytes([line.replace("\n", end) for line in lines], end)

    result = _import(acme, data)

    assert [r.line for r in result.rejected] == [4, 7]
    assert "quantity" in result.rejected[0].reason and "client" in result.rejected[1].reason
    assert _stored(acme) == [f"m-1{end}second line", "g-1", "g-3"]


def test_a_record_spanning_lines_with_bytes_that_are_not_utf8_is_rejected_whole(
        acme: Desk) -> None:
    data = _bytes(['"e-1\nx",Acme,sms,1,' + AT, good(1)]).replace(b"\nx", b"\n\xff")

    result = _import(acme, data)

    assert [(r.line, "UTF-8" in r.reason) for r in result.rejected] == [(2, True)]
    assert _stored(acme) == ["g-1"]


def test_a_stray_quote_on_every_line_costs_bounded_work(
        acme: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each stray quote reads on at most MAX_RECORD_LINES lines before it is rejected: work
    in proportion to the file, never to its square."""
    count = 2000
    taken = []
    real = usage_reader.UsageReader.take

    def counted(self: usage_reader.UsageReader) -> Any:
        taken.append(1)
        return real(self)

    monkeypatch.setattr(usage_reader.UsageReader, "take", counted)
    result = _import(acme, _bytes([f's-{n},"Acme,sms,1,{AT}' for n in range(count)]))

    assert result.recorded == 0
    assert [r.line for r in result.rejected] == list(range(2, count + 2))
    assert 0 < len(taken) <= count * MAX_RECORD_LINES


# -- lines of any length ----------------------------------------------------------------------
def test_a_line_longer_than_the_limit_is_rejected_alone_and_reading_resumes(acme: Desk) -> None:
    data = b"".join([
        _bytes([good(1)]),                               # 1-2
        b"x" * (MAX_LINE + 1) + b"\n",                   # 3: too long (LF)
        good(2).encode() + b"\n",                        # 4
        b"y" * 1_000_000 + b"\r\n",                      # 5: far too long (CRLF)
        b'"' + b"z" * (3 * MAX_LINE) + b"\r",            # 6: too long, with a quote (CR)
        b"bad\n",                                        # 7: its own line: 1 field
        b"w" * MAX_LINE + b"\r\n",                       # 8: the CRLF falls past the limit
        b"short,line\n",                                 # 9: 2 fields
        b"v" * (MAX_LINE - 1) + b"\n",                   # 10: within the limit: 1 field
        good(3).encode() + b"\n",                        # 11
        b"u" * (2 * MAX_LINE),                           # 12: too long, at the end of file
    ])

    result = _import(acme, data)

    reasons = {r.line: r.reason for r in result.rejected}
    too_long = f"line: longer than {MAX_LINE:,} characters"
    assert reasons == {3: too_long, 5: too_long, 6: too_long, 7: reasons[7], 8: too_long,
                       9: reasons[9], 10: reasons[10], 12: too_long}
    assert "found 1" in reasons[7] and "found 2" in reasons[9] and "found 1" in reasons[10]
    assert _stored(acme) == ["g-1", "g-2", "g-3"]


def test_a_huge_line_is_never_held_whole(acme: Desk, tmp_path: Path) -> None:
    """A 40 MB line costs a bounded amount of memory: it used to be read, decoded and parsed
    whole (three copies of the file and more)."""
    path = tmp_path / "huge.csv"
    with path.open("wb") as out:
        out.write(_bytes([good(1)]))
        for _ in range(40):
            out.write(b"9" * (1 << 20))
        out.write(b"\n" + good(2).encode() + b"\n")
    _import(acme, _bytes([good(0)]))  # everything an import loads lazily, loaded

    tracemalloc.start()
    try:
        result = usage.import_usage(acme, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result.recorded == 2 and [r.line for r in result.rejected] == [3]
    assert peak < 8 << 20, f"{peak / 2**20:.1f} MiB for a 40 MiB line"


# -- an import that stops part-way ------------------------------------------------------------
def _refuse_from(desk: Desk, event_id: str, message: str) -> None:
    """The database refuses to store `event_id` (as SQLite says when the disk is full)."""
    path = desk.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON usage_events WHEN "
                     f"NEW.event_id = '{event_id}' BEGIN SELECT RAISE(FAIL, '{message}'); END")


@pytest.mark.parametrize("pipelined", [False, True], ids=["in turn", "writer process"])
@pytest.mark.slow
def test_a_database_that_fills_up_stops_the_import_with_what_was_recorded(
        acme: Desk, pipelined: bool) -> None:
    lines = [good(n) for n in range(40)]
    lines[3] = f"g-3,Acme,sms,abc,{AT}"  # line 5, in the first batch: reported
    lines.append("after,the,stop")  # line 42, never read as far: not reported
    _refuse_from(acme, "g-25", "database or disk is full")

    with pytest.raises(usage.ImportStopped) as stopped:
        _import(acme, _bytes(lines), batch_size=10, pipelined=pipelined)

    result = stopped.value.result
    stored = _stored(acme)
    assert result.stopped == "database: the disk is full: free some space, then try again"
    assert 0 < result.recorded == len(stored) < 39  # whole batches, each committed
    assert stored == [f"g-{n}" for n in range(40) if n != 3][:len(stored)]
    assert "g-25" not in stored
    assert [r.line for r in result.rejected] == [5]
    assert stopped.value.message == (
        f"import stopped: {result.stopped}; the {result.recorded:,} events recorded before "
        "the stop were kept")
    assert "nothing was written" not in stopped.value.message


class _FailingStream(io.BytesIO):
    """A file whose disk fails once `limit` bytes have been read."""

    def __init__(self, data: bytes, limit: int) -> None:
        super().__init__(data)
        self.limit = limit

    def _check(self) -> None:
        if self.tell() >= self.limit:
            raise OSError(errno.EIO, "Input/output error")

    def read(self, size: int | None = -1) -> bytes:
        self._check()
        return super().read(size)

    def read1(self, size: int = -1) -> bytes:
        self._check()
        return super().read1(size)


@pytest.mark.parametrize("pipelined", [False, True], ids=["in turn", "writer process"])
@pytest.mark.slow
def test_a_file_that_becomes_unreadable_stops_the_import_with_what_was_recorded(
        acme: Desk, pipelined: bool) -> None:
    data = _bytes([good(n) for n in range(2000)])
    source = _FailingStream(data, len(data) // 2)

    with pytest.raises(usage.ImportStopped) as stopped:
        usage.import_usage(acme, source, batch_size=100, pipelined=pipelined)

    result = stopped.value.result
    stored = _stored(acme)
    assert result.stopped == "file: cannot read the file: Input/output error"
    assert 0 < result.recorded == len(stored) < 2000
    assert stored == [f"g-{n}" for n in range(len(stored))]
    again = usage.import_usage(acme, io.BytesIO(data))  # once readable, the rest goes in
    assert (again.recorded, again.duplicates) == (2000 - len(stored), len(stored))
