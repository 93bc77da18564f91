"""The rules of ``Assignment`` rows, shared by the services (one change at a time) and the
import (a whole file at once): which assignments end and which start when holders are
placed, leave, or keep a position whose role or squad changes; on which days; and which
start dates are refused. Callers read and write the rows and word the refusals; the
decisions are here.
"""

import datetime
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from staffing.models import Assignment

RESHAPED_NOTE = "Role or squad changed"  # the new assignment of a holder whose post changes

# start-date problems (callers word them)
BEFORE_LATEST = "before_latest"  # before the person's latest assignment starts
ON_LATEST = "on_latest"  # an explicit start on the very day the latest assignment started
BEFORE_DISPLACED = "before_displaced"  # before the position's present holder started
BEFORE_HIRE = "before_hire"  # before the person's hire date


def start_problems(
    start: datetime.date,
    *,
    latest_start: datetime.date | None = None,
    same_day_refused: bool = False,
    displaced_since: datetime.date | None = None,
    hire_date: datetime.date | None = None,
) -> list[str]:
    """What is wrong with a new assignment starting on ``start``: none, or some of
    BEFORE_LATEST / ON_LATEST, BEFORE_DISPLACED, BEFORE_HIRE, in that order.

    ``latest_start``: when the person's latest assignment started (none: never placed).
    ``same_day_refused``: the start was given explicitly by a file, where a start on the
    latest assignment's own day is an edited export keeping the old post's start.
    ``displaced_since``: when the latest assignment of the person the new one replaces in
    the position started. ``hire_date``: the person's hire date, when known and checked."""
    found = []
    if latest_start is not None and start < latest_start:
        found.append(BEFORE_LATEST)
    elif latest_start is not None and same_day_refused and start == latest_start:
        found.append(ON_LATEST)
    if displaced_since is not None and start < displaced_since:
        found.append(BEFORE_DISPLACED)
    if hire_date is not None and start < hire_date:
        found.append(BEFORE_HIRE)
    return found


def ends_before_start(end: datetime.date, started: datetime.date | None) -> bool:
    """Whether ending an assignment that started on ``started`` on ``end`` is refused."""
    return started is not None and end < started


def close(assignment: Assignment, end: datetime.date, *, note: str = "") -> Assignment:
    """End ``assignment`` on ``end`` (never before its start), keeping a note it has; not
    saved (one row: full_clean and save; many: bulk_update ``end_date`` and ``note``)."""
    assignment.end_date = max(end, assignment.start_date)
    if note and not assignment.note:
        assignment.note = note
    return assignment


@dataclass(frozen=True)
class Change:
    """One position in a change: its holder before and after (person ids; None: vacant),
    whether its role or squad changes, the day a newly placed holder starts or a leaving
    holder leaves (None: today), and the note of a newly placed holder's assignment."""

    position: Hashable
    before: Hashable | None
    after: Hashable | None
    reshaped: bool = False
    day: datetime.date | None = None
    note: str = ""


@dataclass(frozen=True)
class Start:
    position: Hashable
    person: Hashable
    day: datetime.date
    note: str


@dataclass
class Plan:
    """What a change does to assignments: whose current assignment ends on which day, and
    which new assignments start (in the order of the changes)."""

    ending: dict = field(default_factory=dict)  # person → end day
    starting: list[Start] = field(default_factory=list)


def plan(changes: Iterable[Change], *, today: datetime.date) -> Plan:
    """The assignments that end and start for ``changes``:

    - a holder newly placed starts one on the change's day (ending the one they had, on
      that day);
    - a holder who stays while the role or squad changes starts another from today (the
      current one ends today);
    - a holder who leaves without being placed anywhere in the change ends theirs on the
      change's day: the day the position's new holder starts, or the day they leave."""
    changes = list(changes)
    result = Plan()
    for change in changes:
        if change.after is not None and change.after != change.before:
            day = change.day or today
            result.starting.append(Start(change.position, change.after, day, change.note))
            result.ending[change.after] = day
        elif change.after is not None and change.reshaped:
            result.starting.append(Start(change.position, change.after, today, RESHAPED_NOTE))
            result.ending[change.after] = today
    for change in changes:
        if change.before is not None and change.after != change.before:
            result.ending.setdefault(change.before, change.day or today)
    return result
