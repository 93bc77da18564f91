"""A year of the demo organization's past: when each position now loaded came to be and
when its holder took it (:func:`demo_past`), and the history rewritten to match
(:func:`backdate_history`). Demo data only.
"""

import datetime
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from staffing.models import Assignment, Position

HISTORY_DAYS = 365


@dataclass
class PastOfPosition:
    """When a demo position came to be and when its holder took it: the position was open
    from ``created`` until ``filled`` (``filled`` None: as it is now since ``created``)."""

    created: datetime.datetime
    filled: datetime.datetime | None = None

    def at(self, moment: datetime.datetime, status: str) -> str | None:
        """The position's status at ``moment`` (None: it did not exist yet)."""
        if moment < self.created:
            return None
        if self.filled is not None and moment < self.filled:
            return Position.Status.OPEN
        return status


def _moment(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    naive = datetime.datetime.combine(day, datetime.time(hour, minute))
    return timezone.make_aware(naive, timezone.get_current_timezone())


def demo_past(
    *, days: int = HISTORY_DAYS, seed: int = 17, today: datetime.date | None = None
) -> dict[int, PastOfPosition]:
    """A plausible past for the organization now loaded, consistent with its assignments:
    what existed when its history began ``days`` ago, and what came since.

    A position whose holder started before the window existed throughout. One whose holder
    started within it was either a vacancy from the start (about a quarter: the backlog the
    year filled) or a new position opened 10–60 days before its holder came (growth). Open
    positions opened at the start or during the year; planned ones in the last four
    months. A manager's position is never younger than its reports' (it is opened, vacant
    if need be, when its first report is). Every change lies on a day before today."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    start = today - datetime.timedelta(days=days)
    began = _moment(start, 8)
    holders_since = dict(
        Assignment.objects.filter(end_date=None, position__isnull=False).values_list(
            "position_id", "start_date"
        )
    )
    rows = list(Position.objects.order_by("-level", "pk").values_list("pk", "parent_id", "status"))
    last_day = today - datetime.timedelta(days=1)

    def day_between(low: datetime.date, high: datetime.date) -> datetime.date:
        low, high = max(low, start), min(high, last_day)
        return low + datetime.timedelta(days=rng.randint(0, max(0, (high - low).days)))

    created: dict[int, datetime.date] = {}
    filled: dict[int, datetime.date] = {}
    for pk, _parent, status in rows:
        since = holders_since.get(pk)
        if status == Position.Status.FILLED and since is not None and since > start:
            filled[pk] = min(since, last_day)
            if rng.random() < 0.25:
                created[pk] = start  # a vacancy when history began, filled since
            else:
                lead = datetime.timedelta(days=rng.randint(10, 60))
                created[pk] = max(start, min(since, last_day) - lead)
        elif status == Position.Status.OPEN:
            created[pk] = (
                start
                if rng.random() < 0.5
                else day_between(
                    start + datetime.timedelta(days=30), today - datetime.timedelta(days=5)
                )
            )
        elif status == Position.Status.PLANNED:
            created[pk] = day_between(today - datetime.timedelta(days=120), last_day)
        else:
            created[pk] = start
    for pk, parent, _status in rows:  # deepest first: a manager opens with its first report
        if parent is not None and created[pk] < created[parent]:
            created[parent] = created[pk]
    past = {}
    for pk, _parent, _status in rows:
        opened = began if created[pk] == start else _moment(created[pk], 9, rng.randint(0, 59))
        taken = filled.get(pk)
        if taken is not None and taken <= created[pk]:
            taken = None  # the holder came the day it opened
        past[pk] = PastOfPosition(opened, _moment(taken, 10, rng.randint(0, 59)) if taken else None)
    return past


def backdate_history(past: dict[int, PastOfPosition], *, actor=None) -> int:
    """Rewrite the history of the positions and assignments now loaded as ``past`` says it
    happened (demo data only): the state when history began, each position opened since
    (by ``actor``, "Position added") and each vacancy filled ("Vacancy filled"), and each
    assignment from the day it began, or from the start. The history of positions and
    assignments no longer loaded (an organization replaced) is dropped with it, so past
    charts show this organization only. Returns the historical rows written.

    The rows are what the services would have written: the same tracked fields, a "+" row
    with the position as it was opened and a "~" row with it as it is now, the change
    reason the service's name, the user its actor; created_at and updated_at follow."""
    positions = Position.history.model
    assignments = Assignment.history.model
    began = min((p.created for p in past.values()), default=timezone.now())
    with transaction.atomic():
        positions.objects.all().delete()
        assignments.objects.all().delete()
        names = [f.attname for f in positions.tracked_fields]
        rows, changed = [], []
        for position in Position.objects.filter(pk__in=past).order_by("pk"):
            story = past[position.pk]
            position.created_at = story.created
            position.updated_at = story.filled or story.created
            changed.append(position)
            now = {name: getattr(position, name) for name in names}
            at_start = story.created == began
            first = dict(now)
            if story.filled is not None:
                first.update(status=Position.Status.OPEN, holder_id=None)
            rows.append(
                positions(
                    history_date=story.created,
                    history_type="+",
                    history_user=None if at_start else actor,
                    history_change_reason="seed_demo" if at_start else "position_create",
                    **first,
                )
            )
            if story.filled is not None:
                rows.append(
                    positions(
                        history_date=story.filled,
                        history_type="~",
                        history_user=actor,
                        history_change_reason="person_assign",
                        **now,
                    )
                )
        Position.objects.bulk_update(changed, ["created_at", "updated_at"], batch_size=2000)
        fills = {pk: story.filled for pk, story in past.items() if story.filled}
        names = [f.attname for f in assignments.tracked_fields]
        for assignment in Assignment.objects.order_by("pk"):
            now = {name: getattr(assignment, name) for name in names}
            when = fills.get(assignment.position_id) if assignment.end_date is None else None
            opened = when or max(began, _moment(assignment.start_date, 10))
            first = dict(now)
            ended = assignment.end_date is not None and _moment(assignment.end_date, 10) > opened
            if ended:
                first["end_date"] = None
            rows.append(
                assignments(
                    history_date=opened,
                    history_type="+",
                    history_user=None if opened == began else actor,
                    history_change_reason="seed_demo" if opened == began else "person_assign",
                    **first,
                )
            )
            if ended:
                rows.append(
                    assignments(
                        history_date=_moment(assignment.end_date, 10),
                        history_type="~",
                        history_user=actor,
                        history_change_reason="promotion_apply",
                        **now,
                    )
                )
        for model in (positions, assignments):
            model.objects.bulk_create([r for r in rows if isinstance(r, model)], batch_size=5000)
    return len(rows)
