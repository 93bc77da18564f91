"""Reporting periods: the weeks, months, quarters and years KPIs are recorded and reviewed
for (``KPI.review_period``). Weeks run Monday to Sunday; the others are calendar ones."""

import datetime
from dataclasses import dataclass

from orgdesign.kernel.days import add_months, monday

ONE_DAY = datetime.timedelta(days=1)


def period_containing(review: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period of the kind ``review`` that ``day`` falls in, as (first day, last day)."""
    if review == "weekly":
        first = monday(day)
        return first, first + datetime.timedelta(days=6)
    if review == "monthly":
        first = day.replace(day=1)
    elif review == "quarterly":
        first = day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    else:
        first = day.replace(month=1, day=1)
    months = {"monthly": 1, "quarterly": 3}.get(review, 12)
    return first, add_months(first, months) - ONE_DAY


def closed_periods(
    review: str, today: datetime.date, count: int
) -> list[tuple[datetime.date, datetime.date]]:
    """The last ``count`` complete periods of the kind ``review`` before ``today``, oldest
    first, as (first day, last day)."""
    found = []
    first, _last = period_containing(review, today)
    for _ in range(count):
        first, last = period_containing(review, first - ONE_DAY)
        found.append((first, last))
    return list(reversed(found))


@dataclass(frozen=True)
class Review:
    """Whether a KPI's review is due: its last complete period should have a value.

    ``state``: "up to date" (the last complete period has one), "due" (that one is
    missing), "overdue" (more than one is), or "never recorded"."""

    state: str
    missing: int  # complete periods since the last value (up to a year's worth counted)
    since: datetime.date | None  # the day the oldest missing review fell due
    next_due: datetime.date  # the day the next review falls due (the current period's end + 1)

    period: str = "monthly"  # the kind of period it is reviewed by

    @property
    def needs_attention(self) -> bool:
        return self.state != "up to date"

    @property
    def detail(self) -> str:
        """What follows the state in a table cell: "next due 2027-01-01", "since …"."""
        noun = NOUNS.get(self.period, "period")
        if self.state == "up to date":
            return f"next due {self.next_due:%Y-%m-%d}"
        if self.state == "overdue":
            return f"{self.missing} {noun}s, since {self.since:%Y-%m-%d}"
        return f"since {self.since:%Y-%m-%d}" if self.since else ""

    @property
    def text(self) -> str:
        """In a few words: "due since 2026-10-01", "overdue: 3 quarters with no value"."""
        noun = NOUNS.get(self.period, "period")
        if self.state == "up to date":
            return f"up to date; next due {self.next_due:%Y-%m-%d}"
        if self.state == "never recorded":
            return "never recorded"
        if self.state == "due":
            return f"due since {self.since:%Y-%m-%d}"
        return f"overdue: {self.missing} {noun}s with no value, since {self.since:%Y-%m-%d}"


NOUNS = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}


def review_of(review: str, last_end: datetime.date | None, today: datetime.date) -> Review:
    """The review state of a KPI reviewed ``review`` whose latest value covers a period
    ending ``last_end`` (None: no value yet), on ``today``."""
    _first, current_end = period_containing(review, today)
    next_due = current_end + ONE_DAY
    counted = {"weekly": 52, "monthly": 12, "quarterly": 4}.get(review, 2)
    closed = closed_periods(review, today, counted)
    # a value that ends inside a period counts for it (a week recorded Monday to Friday)
    missing = [period for period in closed if last_end is None or period[0] > last_end]
    if last_end is None:
        return Review("never recorded", len(missing), None, next_due, review)
    if not missing:
        return Review("up to date", 0, None, next_due, review)
    since = missing[0][1] + ONE_DAY
    state = "due" if len(missing) == 1 else "overdue"
    return Review(state, len(missing), since, next_due, review)
