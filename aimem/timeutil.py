"""Times: UTC epoch floats inside, ISO 8601 at the edges, relative forms in filters."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

_RELATIVE = re.compile(r"^\s*(\d+)\s*(h|d|w|m|y)\s*$", re.I)
_UNITS_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}
# the epoch seconds a datetime can show: 0001-01-01 .. 9999-12-31T23:59:59
MIN_EPOCH, MAX_EPOCH = -62135596800.0, 253402300799.0


def valid_epoch(ts: float | None) -> float | None:
    """``ts`` when it is a time ISO 8601 can show, else None (1e300 is no date)."""
    if ts is None or not MIN_EPOCH <= ts <= MAX_EPOCH:  # NaN compares False: None too
        return None
    return ts


def to_epoch(value: object) -> float | None:
    """Epoch seconds from None, a number (seconds, or milliseconds when huge), or an ISO string.

    Returns None for values that carry no usable time (None, "", garbage).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        v = float(value)
        if v != v or v in (float("inf"), float("-inf")):
            return None
        return valid_epoch(v / 1000.0 if abs(v) > 1e11 else v)
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        try:
            return to_epoch(float(s))
        except ValueError:
            pass
        try:
            dt = datetime.fromisoformat(s.replace(" ", "T", 1) if "T" not in s else s)
        except ValueError:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return valid_epoch(dt.timestamp())
    return None


def iso(ts: float | None, precise: bool = False) -> str | None:
    """ISO 8601 UTC with a Z: seconds for people, microseconds when ``precise`` and non-zero."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    if precise and dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_when(text: str, *, end: bool = False, now: float | None = None) -> float:
    """A filter time: ISO date/datetime, `7d`, `2w`, `3m`, `1y`, `12h`, `today`, `yesterday`.

    With ``end`` a bare date means the end of that day (so ``--until 2024-05-01``
    includes the whole day). Raises ValueError with a message for people.
    """
    now = time.time() if now is None else now
    s = text.strip().lower()
    today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if s in ("today", "yesterday"):
        day = today if s == "today" else today - timedelta(days=1)
        return (day + timedelta(days=1) if end else day).timestamp()
    if s == "now":
        return now
    m = _RELATIVE.match(s)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        seconds = n * 3600 if unit == "h" else n * _UNITS_DAYS[unit] * 86400
        return now - seconds
    ts = to_epoch(text) if not re.fullmatch(r"\s*\d+(\.\d+)?\s*", text) else None
    if ts is None:
        raise ValueError(
            f"cannot read {text!r} as a time: use an ISO date such as 2024-05-01, "
            "or 7d, 2w, 3m, 1y, yesterday"
        )
    if end and re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        ts += 86400
    return ts


_MONTHS = {name: i for i, name in enumerate(
    ("january february march april may june july august september october november "
     "december").split(), 1)}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_MENTION = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?)?(?P<mon>{_MONTH_RE})\.?"
    rf"(?:\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?)?,?\s+(?P<year>(?:19|20)\d\d)\b"
    r"|\b(?P<iy>(?:19|20)\d\d)-(?P<im>\d\d)(?:-(?P<id>\d\d))?\b", re.I)
DAY_SLACK = 7 * 86400  # a day named in a question: the talk about it is rarely on that very day


def date_mentions(text: str) -> list[tuple[float, float]]:
    """Time windows (start, end) for the dates a text names: "7 July, 2023", "July 2023",
    "2023-07-07", "2023-07". A day gives the week either side of it, a month the month.

    Search uses them as a soft hint ("what did we decide in March 2024"), never as a filter.
    """
    out: list[tuple[float, float]] = []
    for m in _DATE_MENTION.finditer(text):
        try:
            if m.group("iy"):
                year, month, day = int(m.group("iy")), int(m.group("im")), m.group("id")
            else:
                year, month = int(m.group("year")), _MONTHS[m.group("mon").lower()]
                day = m.group("d1") or m.group("d2")
            if day:
                t = datetime(year, month, int(day), tzinfo=UTC).timestamp()
                out.append((t - DAY_SLACK, t + 86400 + DAY_SLACK))
            else:
                start = datetime(year, month, 1, tzinfo=UTC)
                end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
                out.append((start.timestamp(), end.timestamp()))
        except ValueError:  # 31 February, month 13: not a date
            continue
    return out
