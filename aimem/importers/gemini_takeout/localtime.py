"""Google Takeout's localized HTML times (``docs/formats.md`` §0.4): ``Aug 8, 2026,
6:39:27 PM CEST``, ``18 Sept 2025, 12:02:52 CET``, ``2026年6月19日 12:23:08 CST`` … to
UTC epoch seconds, with the zone abbreviations and month names of common locales."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_SPACES = re.compile(r"\s+")


# Zone abbreviations as Google writes them, in hours east of UTC. Ambiguous ones take
# their most common meaning in Takeout files: IST = India, CST = US Central (China
# when the date is written with 年).
ZONES: dict[str, float] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "IST": 5.5,
    "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2, "SEČ": 1, "SELČ": 2, "EET": 2, "EEST": 3,
    "OEZ": 2, "OESZ": 3, "MSK": 3, "TRT": 3, "GST": 4, "PKT": 5, "NPT": 5.75, "ICT": 7,
    "WIB": 7, "HKT": 8, "SGT": 8, "PHT": 8, "AWST": 8, "JST": 9, "KST": 9, "ACST": 9.5,
    "ACDT": 10.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "HST": -10, "AKST": -9,
    "AKDT": -8, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5,
    "EST": -5, "EDT": -4, "AST": -4, "ADT": -3, "NST": -3.5, "NDT": -2.5, "BRT": -3,
    "BRST": -2, "ART": -3, "CLT": -4, "CLST": -3, "COT": -5, "PET": -5, "SAST": 2,
    "CAT": 2, "EAT": 3, "WAT": 1, "IDT": 3,
}
# Month names (and their abbreviations, matched by prefix) in a few common locales.
MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "sept": 9, "october": 10, "november": 11, "december": 12,
    "januar": 1, "februar": 2, "märz": 3, "mär": 3, "mai": 5, "juni": 6, "juli": 7,
    "oktober": 10, "dezember": 12, "dez": 12, "okt": 10,
    "janvier": 1, "janv": 1, "février": 2, "févr": 2, "fév": 2, "mars": 3, "avril": 4,
    "avr": 4, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "septembre": 9, "octobre": 10,
    "novembre": 11, "décembre": 12, "déc": 12,
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5,
    "junio": 6, "julio": 7, "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9,
    "octubre": 10, "noviembre": 11, "diciembre": 12, "dic": 12,
    "janeiro": 1, "fevereiro": 2, "fev": 2, "março": 3, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "set": 9, "outubro": 10, "out": 10, "dezembro": 12,
    "gennaio": 1, "gen": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "mag": 5, "giugno": 6,
    "giu": 6, "luglio": 7, "lug": 7, "ottobre": 10, "ott": 10,
    "januari": 1, "februari": 2, "maart": 3, "mrt": 3, "mei": 5, "augustus": 8,
    "augusti": 8, "maj": 5,
}
_MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
               "sep": 9, "oct": 10, "nov": 11, "dec": 12}
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_DMY = re.compile(r"(?<!\d)(\d{1,2})\s*([./-])\s*(\d{1,2})\s*[./-]\s*(\d{4})(?!\d)")
_AMPM = re.compile(r"^\s*(am|pm|a\.\s?m\.|p\.\s?m\.)(?![a-z])", re.I)
_OFFSET = re.compile(r"^(?:GMT|UTC|UT)?\s*([+\-\u2212])\s*(\d{1,2})(?::?(\d{2}))?$", re.I)
_PM_MARKS = ("下午", "午後", "오후")
_AM_MARKS = ("上午", "午前", "오전")


def parse_local_time(text: str) -> tuple[float | None, float | None]:
    """``(utc, naive_local)`` epoch seconds from a Takeout HTML time, None where unreadable.

    ``Aug 8, 2026, 6:39:27 PM CEST`` (U+202F before PM too), ``18 Sept 2025, 12:02:52
    CET``, ``1. 1. 2026 10:00:00 SEČ``, ``May 19, 2026, 7:07:02 PM GMT-03:00``,
    ``2026年6月19日 12:23:08 CST``. ``utc`` is None when the zone is missing or
    unknown; both are None when the date or the clock cannot be read.
    """
    try:
        return _parse_local_time(text)
    except (ValueError, OverflowError):
        return None, None


def _parse_local_time(text: str) -> tuple[float | None, float | None]:
    s = _SPACES.sub(" ", text.replace("\xa0", " ").replace("\u202f", " ")
                    .replace("\u2009", " ")).strip()
    if not s or len(s) > 80:
        return None, None
    clock = _CLOCK.search(s)
    if not clock:
        return None, None
    date_part, rest = s[:clock.start()], s[clock.end():]
    hour, minute, second = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
    ampm = _AMPM.match(rest)
    pm = am = False
    if ampm:
        pm = ampm.group(1)[0].lower() == "p"
        am = not pm
        rest = rest[ampm.end():]
    pm = pm or any(m in s for m in _PM_MARKS)
    am = am or any(m in s for m in _AM_MARKS)
    if pm or am:
        if not 1 <= hour <= 12:
            return None, None
        hour = hour % 12 + (12 if pm else 0)
    date = _date(date_part)
    if date is None:
        return None, None
    naive = datetime(*date, hour, minute, second, tzinfo=UTC)
    zone = rest.strip(" ,")
    offset = _zone(zone, cjk="年" in s)
    local = naive.timestamp()
    if offset is None:
        return None, local
    return (naive - timedelta(hours=offset)).timestamp(), local


def _date(s: str) -> tuple[int, int, int] | None:
    if m := _YMD.search(s):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m := _DMY.search(s):
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if m.group(2) == "/" and b > 12 >= a:  # 8/28/2026: month first
            a, b = b, a
        return year, b, a
    year_m = re.search(r"(?<!\d)(\d{4})(?!\d)", s)
    if not year_m:
        return None
    month = None
    for word in re.findall(r"[^\W\d_]+", s.casefold()):
        month = MONTHS.get(word) or _MONTH_ABBR.get(word[:3] if len(word) == 3 else "")
        if month:
            break
    if month is None:
        return None
    days = [int(d) for d in re.findall(r"(?<!\d)(\d{1,2})(?!\d)", s[:year_m.start()]
                                       + " " + s[year_m.end():])]
    if not days:
        return None
    return int(year_m.group(1)), month, days[0]


def _zone(zone: str, cjk: bool) -> float | None:
    if not zone:
        return None
    if m := _OFFSET.match(zone):
        sign = -1 if m.group(1) in "-\u2212" else 1
        return sign * (int(m.group(2)) + int(m.group(3) or 0) / 60)
    key = zone.upper()
    if key == "CST" and cjk:
        return 8.0
    return ZONES.get(key)
