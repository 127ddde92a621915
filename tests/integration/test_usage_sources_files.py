"""Files shaped like the ones the platforms write (SPEC §11), for the usage-source tests
(and a check that they are shaped so).

Asterisk's cdr_csv quotes every text field (doubling the quotes inside a caller id such as
`"Alice" <100>`) and leaves the numbers bare; an unanswered call has an empty `answer`
and billsec 0; a call through a ring group or a transfer leaves several records (legs) with
one `linkedid` on Asterisk 1.8+ (21 fields). A spreadsheet's re-save drops the quotes and
writes times as `2026/1/5 9:30`.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Call:
    """One CDR leg."""

    account: str
    start: datetime  # local, naive
    billsec: int
    disposition: str = "ANSWERED"
    uniqueid: str | None = None
    layout: int = 17  # 16, 17, 18 or 21 fields
    linkedid: str | None = None
    src: str = "4155550100"
    dst: str = "200"
    clid: str = '"Alice" <4155550100>'
    ring: int = 5

    def fields(self) -> list[object]:
        answered = self.disposition == "ANSWERED"
        answer = self.start + timedelta(seconds=self.ring) if answered else None
        end = (answer or self.start) + timedelta(seconds=self.billsec if answered else 30)
        channel = f"SIP/{self.src[-3:]}-{zlib.crc32(f'{self.start}{self.dst}'.encode()):08x}"
        row: list[object] = [
            self.account, self.src, self.dst, "from-internal", self.clid, channel,
            f"SIP/{self.dst}-00000abc" if answered else "", "Dial",
            f"SIP/{self.dst},30,tT", _stamp(self.start), _stamp(answer), _stamp(end),
            int((end - self.start).total_seconds()), self.billsec, self.disposition,
            "DOCUMENTATION"]
        if self.layout >= 17:
            row.append(self.uniqueid or "")
        if self.layout >= 18:
            row.append("note, with a comma")
        if self.layout == 21:
            row += ["", self.linkedid or self.uniqueid or "", 7]
        return row


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def asterisk_csv(calls: Iterable[Call]) -> bytes:
    """Master.csv as cdr_csv writes it: text quoted (quotes doubled), numbers bare, no
    header."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    for call in calls:
        writer.writerow(call.fields())
    return out.getvalue().encode()


def resaved(data: bytes) -> bytes:
    """The same file opened in a spreadsheet and saved again as CSV: quotes only where a
    field needs them, times as `2026/1/5 9:30` (the seconds gone)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(data.decode())):
        writer.writerow([_spreadsheet_time(cell) for cell in row])
    return out.getvalue().encode()


def _spreadsheet_time(cell: str) -> str:
    try:
        moment = datetime.strptime(cell, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return cell
    return f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute:02d}"


# -- FreeSWITCH ---------------------------------------------------------------------------
def freeswitch_csv(calls: Iterable[tuple[str, datetime, int, str, str]]) -> bytes:
    """mod_cdr_csv's `example` template: every field quoted. Each call: (accountcode, start,
    billsec, hangup_cause, uuid)."""
    lines = []
    for account, start, billsec, cause, uuid in calls:
        answer = start + timedelta(seconds=4) if billsec else None
        end = (answer or start) + timedelta(seconds=billsec or 20)
        fields = ['Alice "Al" Smith', "4155550100", "18005550199", "default", _stamp(start),
                  _stamp(answer), _stamp(end), str(int((end - start).total_seconds())),
                  str(billsec), cause, uuid, f"b-{uuid}" if billsec else "", account, "PCMU",
                  "PCMU"]
        lines.append(",".join('"' + f.replace('"', '""') + '"' for f in fields))
    return ("\n".join(lines) + "\n").encode()


# -- Twilio -------------------------------------------------------------------------------
TWILIO_HEADER = ("From,To,Body,Status,SentDate,ApiVersion,NumSegments,ErrorCode,AccountSid,"
                 "Sid,Direction,Price,PriceUnit")


def twilio_csv(messages: Sequence[tuple[str, str, str, str, int, str, str]]) -> bytes:
    """Twilio's message log export. Each message: (AccountSid, Sid, SentDate, Status,
    NumSegments, Direction, Body)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TWILIO_HEADER.split(","))
    for account, sid, sent, status, segments, direction, body in messages:
        writer.writerow(["+14155550100", "+14155550199", body, status, sent, "2010-04-01",
                         segments, "30008" if status == "failed" else "", account, sid,
                         direction, "-0.00790" if status != "failed" else "", "USD"])
    return out.getvalue().encode()


def test_the_generated_files_are_shaped_like_the_platforms():
    line = asterisk_csv([Call("acme", datetime(2026, 1, 5, 9, 30), 65, uniqueid="1.1")])
    assert line.startswith(b'"acme","4155550100","200","from-internal",'
                           b'"""Alice"" <4155550100>","SIP/100-')
    assert b'"2026-01-05 09:30:00","2026-01-05 09:30:05","2026-01-05 09:31:10",70,65,' \
           b'"ANSWERED","DOCUMENTATION","1.1"\n' in line
    unanswered = asterisk_csv([Call("acme", datetime(2026, 1, 5, 9, 30), 0, "NO ANSWER",
                                    layout=16)])
    assert b'"2026-01-05 09:30:00","","2026-01-05 09:30:30",30,0,"NO ANSWER"' in unanswered
    assert next(csv.reader(io.StringIO(resaved(line).decode())))[9] == "2026/1/5 9:30"
    assert freeswitch_csv([("acme", datetime(2026, 1, 5, 9, 30), 0, "NO_ANSWER", "u")]) \
        .count(b'","') == 14
