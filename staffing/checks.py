"""Findings of the checks other than span of control, stored like the span findings: a
finding is opened when its check first sees the problem, kept (its message brought up to
date) while the problem lasts, and resolved, never deleted, when the check no longer sees it.

Each check owns its findings (``Finding.source``) and opens and resolves only those; the
span engine (staffing.spans) owns the rest and leaves these alone.

* Entry squad (``Finding.Kind.OUTSIDE_ENTRY_SQUAD``, on a position): a new engineer whose
  first squad of their tier was not its entry squad, judged by
  :func:`staffing.rotation.outside_entry_squad`, the function the rotation page flags
  them with.
* Triage (``Finding.Kind.NO_TRIAGE``, on a location's week): a location with open hours
  and Tier 1 people and nobody on triage this week or the next, judged by
  :func:`staffing.triage.gaps`. The findings of weeks that have ended are resolved: there
  is nothing left to staff.

When they run: after every edit that marks positions for the span job (a fill, a move, a
change of role, squad or location, an import, a scenario made live: staffing.spans.marks
runs :func:`positions_changed` in the job's own transaction, for the same positions), after
every change of a triage rota (in the service's transaction), after a location's open
hours change, and every night over the whole organization (time alone ends "new to the
tier" and moves the weeks on).
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from staffing import rotation, triage
from staffing.models import Finding, Position

Kind, Severity, Source = Finding.Kind, Finding.Severity, Finding.Source

# One advisory lock serializes the writers of these findings ("checks" as a number).
CHECKS_LOCK_KEY = 0x636865636B73


@dataclass(frozen=True)
class Found:
    """A finding as a check sees it now; compared with the stored open finding."""

    kind: str
    severity: str
    message: str
    position_title: str
    position_id: int | None = None
    location_id: int | None = None
    week: datetime.date | None = None

    @property
    def key(self) -> tuple:
        return (self.position_id, self.location_id, self.week, self.kind)


@dataclass
class Counts:
    opened: int = 0
    updated: int = 0
    resolved: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            self.opened + other.opened,
            self.updated + other.updated,
            self.resolved + other.resolved,
        )


COMPARED = ("severity", "message", "position_title")


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHECKS_LOCK_KEY])


def _reconcile(source: str, found: Iterable[Found], in_scope: Q) -> Counts:
    """Make the open findings of ``source`` matching ``in_scope`` equal ``found``. Call inside
    a transaction."""
    _lock()
    now = timezone.now()
    found = {f.key: f for f in found}
    stored = Finding.objects.open().filter(in_scope, source=source)
    current = {(f.position_id, f.location_id, f.week, f.kind): f for f in stored}
    new = [
        Finding(
            source=source,
            kind=f.kind,
            severity=f.severity,
            message=f.message[:300],
            position_title=f.position_title[:120],
            position_id=f.position_id,
            location_id=f.location_id,
            week=f.week,
            first_seen=now,
            updated_at=now,
        )
        for key, f in found.items()
        if key not in current
    ]
    return Counts(*Finding.objects.settle(current, found, new, COMPARED, now))


# --- entry squad ---------------------------------------------------------------------------


def entry_squad_check(ids: Iterable[int] | None = None, *, as_of=None) -> Counts:
    """Judge the holders of the positions ``ids`` (None: every position) and store the
    entry-squad findings. Four queries and the writes."""
    _lock()  # before reading: a concurrent edit's own check then sees this one's outcome
    positions = Position.objects.all()
    in_scope = Q()
    if ids is not None:
        ids = sorted(set(ids))
        positions = positions.filter(pk__in=ids)
        in_scope = Q(position_id__in=ids)
    found = []
    for position, entry, first in rotation.outside_entry_squad(positions, as_of=as_of):
        found.append(
            Found(
                kind=Kind.OUTSIDE_ENTRY_SQUAD,
                severity=Severity.WARNING,
                message=(
                    f"{position.holder.full_name} started in {first} rather than {entry}, the "
                    "entry squad where new engineers learn the general work before they "
                    "specialise."
                ),
                position_title=position.title,
                position_id=position.pk,
            )
        )
    return _reconcile(Source.ENTRY_SQUAD, found, in_scope)


# --- triage --------------------------------------------------------------------------------


def triage_check(
    *, locations: Iterable[int] | None = None, today: datetime.date | None = None
) -> Counts:
    """Judge this week and the next at ``locations`` (ids; None: every location) and store
    the triage findings; the open findings of weeks that have ended are resolved. Four
    queries and the writes."""
    _lock()  # before reading: a concurrent rota edit's own check then sees this one's outcome
    weeks = triage.judged_weeks(today)
    in_scope = Q(week__lte=weeks[-1])
    if locations is not None:
        locations = sorted(set(locations))
        in_scope &= Q(location_id__in=locations)
    found = [
        Found(
            kind=Kind.NO_TRIAGE,
            severity=Severity.WARNING,
            message=(
                f"{gap.location_name} is open in the week of {gap.week.day} {gap.week:%B} and has "
                f"{gap.tier1_people} Tier 1 {'person' if gap.tier1_people == 1 else 'people'}, "
                "but nobody on its triage rota who can sort the incoming work."
            ),
            position_title=gap.location_name,
            location_id=gap.location_id,
            week=gap.week,
        )
        for gap in triage.gaps(weeks, locations)
    ]
    return _reconcile(Source.TRIAGE, found, in_scope)


# --- when they run -------------------------------------------------------------------------


def positions_changed(ids: list[int] | None) -> Counts:
    """After edits marked ``ids`` (None: the whole organization): the entry-squad check of
    those positions and the triage check of every location (a fill, a move or a change of
    location changes who works where; it is a few queries). Call inside a transaction."""
    return entry_squad_check(ids) + triage_check()


def position_deleted(position: Position) -> Counts:
    """Resolve the open findings of these checks on a position about to be deleted."""
    _lock()
    now = timezone.now()
    resolved = (
        Finding.objects.open()
        .filter(position=position)
        .exclude(source=Source.SPANS)
        .update(resolved_at=now, updated_at=now)
    )
    return Counts(resolved=resolved)
