"""Days written by people and programs: one strict reading of ``YYYY-MM-DD`` for every
``as_of``, date filter and uploaded cell. Python's ``date.fromisoformat`` alone also takes
``20250101`` and ``0001-01-01`` (where date arithmetic then overflows), so the format and
the range are checked here, before anything computes with the day."""

import datetime
import re

from django.core.exceptions import ValidationError

EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2100, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadDay(ValueError):
    """What was written is not a day in range; ``str()`` says why, for the person."""


def read_day(raw, *, earliest=EARLIEST, latest=LATEST) -> datetime.date:
    """The day ``raw`` names, or :class:`BadDay` with the reason."""
    text = str(raw).strip()
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise BadDay(f"“{text[:40]}” is not a date; write it as YYYY-MM-DD.") from None
    if day < earliest:
        raise BadDay(f"Give a date from {earliest.isoformat()} on.")
    if day > latest:
        raise BadDay(f"Give a date up to {latest.isoformat()}.")
    return day


def parse_day(raw, *, name: str = "as_of", earliest=EARLIEST, latest=LATEST) -> datetime.date:
    """:func:`read_day`, refused as a ValidationError naming the field ``name``."""
    try:
        return read_day(raw, earliest=earliest, latest=latest)
    except BadDay as problem:
        raise ValidationError({name: str(problem)}) from None
