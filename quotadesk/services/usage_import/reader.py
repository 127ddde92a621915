"""Reading a usage CSV as records, streamed: work and memory bounded whatever the file holds."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from collections import deque
from collections.abc import Collection, Iterator
from functools import partial
from typing import IO, Any

from quotadesk.services.errors import QuotaDeskError

#: A physical line longer than this (characters, terminator included) is rejected on its own.
MAX_LINE = 65_536
#: The most physical lines, and characters, one record may span (a quoted field with breaks).
MAX_RECORD_LINES = 100
MAX_RECORD_CHARS = 65_536

#: Markers in place of a record's fields (a cell can never start with NUL and be alone: a
#: NUL-only field would be the whole line, and these are never produced from the file).
BAD_ENCODING = "\x00bad-encoding"
BAD_CSV = "\x00bad-csv"  # [BAD_CSV, what is wrong]
TOO_LONG = "\x00too-long"

#: Characters per read: a line that fills a read (and does not end there) is too long.
_READ = MAX_LINE + 1
_BAD_BYTE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of bytes not UTF-8


class UsageFileError(QuotaDeskError):
    """The file itself cannot be read as a usage export (missing, unreadable, wrong header)."""

    field = "file"


class _Overrun(Exception):
    """A record runs on past the bounds (raised through the CSV reader)."""


Line = tuple[int, str | None]  # (line number, text; None: longer than MAX_LINE)


class UsageReader:
    """The records of a usage CSV as `(line, fields)`, `line` the record's first physical line;
    `fields` may be one of the markers above instead. Close it (or use it as a context
    manager) when done: it closes a file it opened, and leaves a stream it was given open.

    SPEC §8: "A quoted field may span lines …", and a bad line rejects only itself.
    The file is read a physical line at a time (universal newlines: LF, CRLF or a lone CR, as
    `open(newline="")` splits them), each line decoded on its own, so that:

    - a line with bytes that are not UTF-8 rejects only its record (`BAD_ENCODING`);
    - a line longer than `MAX_LINE` characters is rejected on its own (`TOO_LONG`) and skipped
      without ever being held whole (`/dev/zero`, a 50 MB line);
    - a line without a quote, nearly every line of an export, is split right here; one with a
      quote goes to the CSV reader, which may read on for a quoted field that spans lines. A
      record that parses into the expected number of fields is one record, whatever it spans. One
      that does not (an error, the end of the file inside a quote, or the wrong number of fields
      once it spans lines) rejects only its first physical line (`BAD_CSV`), and reading resumes
      at the next line: one stray quote never hides the lines after it. A record may span at most
      `MAX_RECORD_LINES` lines and `MAX_RECORD_CHARS` characters; beyond that it does not parse,
      so a stray quote costs a bounded amount of work, never a re-read of the rest of the file.
    """

    def __init__(self, source: str | os.PathLike[str] | IO[bytes], width: int | Collection[int],
                 delimiter: str = ",") -> None:
        #: The field counts a record may have (an Asterisk CDR has 16, 17, 18 or 21): a
        #: quoted field that spans lines makes one record only if it gives one of them. A
        #: format may set them once it has read its first record.
        self.widths: Collection[int] = (width,) if isinstance(width, int) else width
        self.delimiter = delimiter
        self.name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "the file"
        raw: Any
        if isinstance(source, (str, os.PathLike)):
            try:
                raw = open(source, "rb")  # noqa: SIM115 (closed by close())
            except IsADirectoryError:
                raise UsageFileError(f"file: {self.name} is a folder, not a usage file",
                                     "file") from None
            except OSError as error:
                raise self.unreadable(error) from None
            self._owned = True
        else:
            raw = source
            self._owned = False
        try:
            self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape",
                                          newline="")
        except (AttributeError, TypeError, OSError, ValueError) as error:
            if self._owned:
                raw.close()
            raise UsageFileError(f"file: cannot read {self.name}: {error}", "file") from None
        self._lines: Iterator[str] = iter(partial(self._text.readline, _READ), "")
        self._number = 0  # the last physical line taken from the file
        self._pending: deque[Line] = deque()  # taken but not yet read as a record's start
        self._ahead: str | None = None  # read from the file while skipping a long line
        self._long: str | None = None  # the last part read of a long line still being skipped
        self._feed = _Feed(self)
        self._csv = csv.reader(self._feed, strict=True, delimiter=delimiter)
        self._one_line()

    def __enter__(self) -> UsageReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self._text.close()
        else:
            with contextlib.suppress(ValueError):
                self._text.detach()  # the caller's stream stays open

    def left(self) -> tuple[int, int] | None:
        """(bytes read so far, the file's size in bytes) (read ahead by a buffer), or None
        if it cannot be told (a stream)."""
        try:
            size = os.fstat(self._text.buffer.fileno()).st_size
            return (min(size, self._text.buffer.tell()), size) if size else None
        except (OSError, ValueError, AttributeError):  # (io.UnsupportedOperation included)
            return None

    def unreadable(self, error: OSError) -> UsageFileError:
        return UsageFileError(f"file: cannot read {self.name}: {error.strerror or error}",
                              "file")

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return self._records()

    def _one_line(self) -> None:
        """A CSV reader of one line at a time, all in C (a list's `pop` feeds it): the quick
        path for a quoted line that is a whole record, as nearly every line of a platform's
        export is (Asterisk quotes every text field). A line that is not one (its quoted
        field runs on, a stray quote) raises, and is read by `_start` as before."""
        self._slot: list[str | None] = [None]
        self._line_csv = csv.reader(iter(self._slot.pop, None), strict=True,
                                    delimiter=self.delimiter)

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        try:
            number = 0
            slot, line_csv = self._slot, self._line_csv
            while True:
                for text in self._lines:
                    number += 1
                    if '"' in text and (len(text) < _READ or text[-1] == "\n"):
                        slot.append(text)
                        try:
                            fields = next(line_csv)
                        except (csv.Error, StopIteration):
                            self._one_line()
                            slot, line_csv = self._slot, self._line_csv
                        else:
                            if text.isascii() or not _BAD_BYTE.search(text):
                                yield number, fields
                            else:
                                yield number, [BAD_ENCODING]
                            continue
                    if '"' in text or (len(text) == _READ and text[-1] != "\n"):
                        self._number = number
                        yield self._start(number, self._fresh(text))
                        self._skip_long()
                        number = self._number
                        if self._pending or self._ahead is not None:
                            break  # lines to read again first
                    elif text.isascii() or not _BAD_BYTE.search(text):
                        body = text.rstrip("\r\n")  # a line holds no CR or LF but its end
                        yield number, body.split(self.delimiter) if body else []
                    else:
                        yield number, [BAD_ENCODING]
                else:
                    if not self._pending and self._ahead is None:
                        return
                self._number = number
                while (line := self._queued()) is not None:
                    yield self._start(*line)
                    self._skip_long()
                number = self._number
        except OSError as error:  # the file became unreadable part-way
            raise self.unreadable(error) from None

    # -- physical lines ----------------------------------------------------------------------
    def _fresh(self, text: str) -> str | None:
        """A line just read from the file (numbered by the caller): None if it is too long,
        the rest of it then skipped before the next line is read."""
        if len(text) == _READ and text[-1] != "\n":
            self._long = text
            return None
        return text

    def _skip_long(self) -> None:
        """Skip the rest of a long line, a read at a time (never held whole)."""
        last = self._long
        self._long = None
        while last is not None:
            part = next(self._lines, None)
            if part is None:
                return
            if last[-1] == "\r":  # the line ended at that CR, unless a LF follows it
                if part != "\n":
                    self._ahead = part  # the next line: read as such
                return
            if len(part) < _READ or part[-1] == "\n":
                return  # its end
            last = part

    def _queued(self) -> Line | None:
        """The next line pushed back, or read ahead while skipping a long line."""
        if self._pending:
            return self._pending.popleft()
        if self._ahead is not None:
            text, self._ahead = self._ahead, None
            self._number += 1
            return self._number, self._fresh(text)
        return None

    def take(self) -> Line | None:
        """The next physical line (a record's continuation): pushed back ones first."""
        line = self._queued()
        if line is not None:
            return line
        self._skip_long()
        if self._ahead is not None:
            return self._queued()
        text = next(self._lines, None)
        if text is None:
            return None
        self._number += 1
        return self._number, self._fresh(text)

    # -- records -----------------------------------------------------------------------------
    def _start(self, number: int, text: str | None) -> tuple[int, list[str]]:
        """The record that starts with this line."""
        if text is None:
            return number, [TOO_LONG]
        if '"' not in text:
            if text.isascii() or not _BAD_BYTE.search(text):
                body = text.rstrip("\r\n")
                return number, body.split(self.delimiter) if body else []
            return number, [BAD_ENCODING]
        feed = self._feed
        feed.begin(text)
        problem = None
        try:
            fields = next(self._csv, [])
        except csv.Error as error:
            problem = ("a quote opened on this line is never closed" if feed.ended
                       else str(error))
        except _Overrun as error:
            problem = str(error)
        more = feed.taken
        if problem is None and (not more or len(fields) in self.widths):
            bad = feed.bad or (not text.isascii() and _BAD_BYTE.search(text))
            return number, [BAD_ENCODING] if bad else fields
        if problem is None:
            problem = (f"a quoted field opened on this line runs on to line {more[-1][0]}, "
                       f"giving {len(fields)} fields, not {_counts(self.widths)}")
        # It does not parse into a record: only its first line is rejected, and the lines
        # it took are read again, each as the start of a record.
        self._pending.extendleft(reversed(more))
        self._csv = csv.reader(feed, strict=True, delimiter=self.delimiter)  # afresh
        return number, [BAD_CSV, problem]


def _counts(widths: Collection[int]) -> str:
    """Field counts as said in a message: "5", "16, 17, 18 or 21"."""
    numbers = [str(n) for n in sorted(widths)]
    return numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} or {numbers[-1]}"


class _Feed:
    """What the CSV reader reads for one record: its first line, then, while a quoted field
    runs on, the next lines, up to the bounds."""

    def __init__(self, reader: UsageReader) -> None:
        self.reader = reader
        self.first: str | None = None
        self.taken: list[Line] = []
        self.size = 0
        self.bad = False
        self.ended = False

    def begin(self, text: str) -> None:
        self.first = text
        self.taken = []
        self.size = len(text)
        self.bad = False
        self.ended = False

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        first = self.first
        if first is not None:
            self.first = None
            return first
        if len(self.taken) + 1 >= MAX_RECORD_LINES:
            raise _Overrun(f"a quoted field opened on this line does not close within "
                           f"{MAX_RECORD_LINES} lines")
        line = self.reader.take()
        if line is None:
            self.ended = True
            raise StopIteration
        self.taken.append(line)
        _number, text = line
        if text is None:
            raise _Overrun(f"a quoted field opened on this line runs into a line longer "
                           f"than {MAX_LINE:,} characters")
        self.size += len(text)
        if self.size > MAX_RECORD_CHARS:
            raise _Overrun(f"a quoted field opened on this line does not close within "
                           f"{MAX_RECORD_CHARS:,} characters")
        if not text.isascii() and _BAD_BYTE.search(text):
            self.bad = True
        return text


__all__ = ["BAD_CSV", "BAD_ENCODING", "MAX_LINE", "TOO_LONG", "UsageFileError", "UsageReader"]
