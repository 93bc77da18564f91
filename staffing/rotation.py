"""Squads over time, read from the assignment history: who is in a squad now and since when,
who joined and left it, where each person has served, and who is due to rotate on.

A person's time in a squad is a *run*: their consecutive assignments in that squad, read as
one (a promotion or a new position in the same squad does not restart the clock; a day's
gap between two assignments does not either, a longer one does). Assignments without a
squad are runs too, so that they separate the runs around them.

"Due to rotate": an engineer (someone whose role belongs to the squad's tier; a team lead
in the squad is a member, but does not rotate) whose run in the squad has lasted the
squad's ``rotate_after_months`` or longer, counted in calendar months from the day they
joined. Every read here is a fixed number of queries, whatever the number of people.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from orgdesign.kernel.days import add_months
from roles.models import Role
from staffing.models import Assignment, Person, Position
from staffing.scope import Scope
from staffing.selectors import as_months, visible, visible_people
from tiers.models import Squad

MOVEMENTS = 20  # joins and leaves shown for a squad
NEXT_DAY = datetime.timedelta(days=1)


@dataclass
class Run:
    """A person's unbroken time in one squad (``squad_id`` None: in a post without one)."""

    person_id: int
    squad_id: int | None
    start: datetime.date
    end: datetime.date | None  # None: still there

    def days(self, as_of: datetime.date) -> int:
        return max(0, (min(self.end or as_of, as_of) - self.start).days)

    def follows(self, before: "Run | None") -> bool:
        """Whether this run starts where ``before`` ends (at most a day later)."""
        return before is not None and before.end is not None and self.start <= before.end + NEXT_DAY


def runs_of(rows: Iterable[tuple[int, int | None, datetime.date, datetime.date | None]]):
    """Each person's runs, oldest first, from assignment rows (person id, squad id, start,
    end) in any order: {person id: [Run, …]}."""
    ordered = sorted(rows, key=lambda r: (r[0], r[2], r[3] is None, r[3] or r[2]))
    found: dict[int, list[Run]] = {}
    for person_id, squad_id, start, end in ordered:
        runs = found.setdefault(person_id, [])
        last = runs[-1] if runs else None
        joined = Run(person_id, squad_id, start, end)
        if last is not None and last.squad_id == squad_id and joined.follows(last):
            last.end = None if end is None else max(end, last.end)
        else:
            runs.append(joined)
    return found


def _assignment_rows(people):
    """The assignment rows of ``people`` (a queryset of ids or persons) for runs_of."""
    return Assignment.objects.filter(person__in=people).values_list(
        "person_id", "squad_id", "start_date", "end_date"
    )


def due_on(run: Run, squad: Squad, role: Role | None) -> datetime.date | None:
    """The day ``run`` reaches ``squad``'s rotation time; None where no rotation applies
    (no time set, or a role outside the squad's tier such as its team lead)."""
    months = squad.rotate_after_months
    if not months or role is None or role.tier_id != squad.tier_id:
        return None
    return add_months(run.start, months)


# --- one squad: its members and its movements ----------------------------------------------


class InSquad:
    """Time in a squad (``days``, ``due_on``, ``as_of`` are the dataclass's fields)."""

    @property
    def months(self) -> Decimal:
        return as_months(self.days)

    @property
    def due(self) -> bool:
        return self.due_on is not None and self.due_on <= self.as_of


@dataclass
class Member(InSquad):
    person: Person
    position: Position
    since: datetime.date  # the start of their run in the squad
    days: int
    due_on: datetime.date | None  # None: no rotation applies to them
    as_of: datetime.date


def squad_members(scope: Scope, squad: Squad, *, as_of: datetime.date | None = None):
    """The people in ``squad`` now whom ``scope`` sees (their current assignment is in the
    squad and their position is in the scope's part), those due to rotate first, then the
    longest in the squad. Two queries (none when the scope sees nothing)."""
    as_of = as_of or timezone.localdate()
    current = list(
        Assignment.objects.filter(
            squad=squad, end_date__isnull=True, position__in=visible(scope).values("pk")
        ).select_related("person", "position__role")
    )
    runs = runs_of(_assignment_rows([a.person_id for a in current])) if current else {}
    members = []
    for assignment in current:
        run = runs[assignment.person_id][-1]
        members.append(
            Member(
                assignment.person,
                assignment.position,
                run.start,
                run.days(as_of),
                due_on(run, squad, assignment.position.role),
                as_of,
            )
        )
    members.sort(key=lambda m: (not m.due, -m.days, m.person.family_name, m.person.pk))
    return members


@dataclass
class Movement:
    """Someone joining or leaving a squad. ``other``: the squad they came from or went to,
    when they moved straight between posts; ``moved``: whether they did (False: they came
    from no post, e.g. a new hire, or left for none)."""

    day: datetime.date
    person: Person
    joined: bool
    moved: bool
    other: Squad | None = None


def squad_movements(scope: Scope, user, squad: Squad, *, limit: int = MOVEMENTS) -> list[Movement]:
    """The latest ``limit`` joins and leaves of ``squad`` by people the viewer sees (as the
    people pages do: visible_people), newest first; a change of post inside the squad is
    neither. Three queries: the assignments of everyone who was ever in the squad, the
    people of the movements shown and the squads they came from or went to."""
    ever = Assignment.objects.filter(
        squad=squad, person__in=visible_people(scope, user).values("pk")
    ).values("person_id")
    found: list[tuple[datetime.date, int, bool, Run | None]] = []
    for runs in runs_of(_assignment_rows(ever)).values():
        for n, run in enumerate(runs):
            if run.squad_id != squad.pk:
                continue
            before = runs[n - 1] if n else None
            found.append((run.start, run.person_id, True, before if run.follows(before) else None))
            if run.end is not None:
                after = runs[n + 1] if n + 1 < len(runs) else None
                moved = after is not None and after.follows(run)
                found.append((run.end, run.person_id, False, after if moved else None))
    # newest first; on one day a leave after the join it follows
    found.sort(key=lambda f: (f[0], not f[2]), reverse=True)
    found = found[:limit]
    people = Person.objects.in_bulk({f[1] for f in found})
    squads = Squad.objects.in_bulk({f[3].squad_id for f in found if f[3] and f[3].squad_id})
    return [
        Movement(
            day, people[pk], joined, other is not None, squads.get(getattr(other, "squad_id", None))
        )
        for day, pk, joined, other in found
    ]


# --- people: where they served ------------------------------------------------------------


@dataclass
class Served:
    """A person's time in one squad, all their runs there together."""

    squad: Squad
    days: int
    runs: int

    @property
    def months(self) -> Decimal:
        return as_months(self.days)


def squad_runs(runs: list[Run]) -> list[Run]:
    """The runs in a squad (the posts without one left out), oldest first."""
    return [run for run in runs if run.squad_id is not None]


def person_rotations(person: Person) -> list[tuple[Run, Squad]]:
    """Every run of ``person`` in a squad, oldest first, with the squad: two queries."""
    runs = squad_runs(runs_of(_assignment_rows([person.pk])).get(person.pk, []))
    squads = Squad.objects.in_bulk({run.squad_id for run in runs})
    return [(run, squads[run.squad_id]) for run in runs]


@dataclass
class Engineer(InSquad):
    """A person in a seat of a tier with squads, with where they have served."""

    person: Person
    position: Position
    squad: Squad | None  # where they are now; None: in a post without a squad
    since: datetime.date | None
    days: int
    due_on: datetime.date | None
    served: list[Served] = field(default_factory=list)
    as_of: datetime.date = field(default_factory=timezone.localdate)
    # new to the tier and started in another squad than its entry squad: the one they should
    # have started in (None: nothing to flag)
    outside_entry: Squad | None = None


NEW_IN_TIER_DAYS = 365  # how long an engineer counts as new to their tier


def started_outside(
    runs: list[Run], squads: dict[int, Squad], entry: Squad | None, as_of: datetime.date
) -> Squad | None:
    """``entry`` when the person is new to its tier (their first squad of that tier began
    within NEW_IN_TIER_DAYS) and that first squad was another: new engineers start in the
    entry squad. None otherwise."""
    if entry is None:
        return None
    first = next((r for r in squad_runs(runs) if squads[r.squad_id].tier_id == entry.tier_id), None)
    if first is None or first.squad_id == entry.pk:
        return None
    return entry if (as_of - first.start).days <= NEW_IN_TIER_DAYS else None


@dataclass
class Seats:
    """The filled positions of a tier with squads among some positions, with what judging
    their holders takes: each holder's runs, the squads, and each tier's entry squad."""

    positions: list[Position]
    runs: dict[int, list[Run]]
    squads: dict[int, Squad]
    entries: dict[int, Squad]  # tier id → its entry squad

    def outside_entry(self, position: Position, as_of: datetime.date) -> Squad | None:
        """The entry squad ``position``'s holder should have started in (started_outside)."""
        mine = self.runs.get(position.holder_id, [])
        return started_outside(mine, self.squads, self.entries.get(position.role.tier_id), as_of)


def squad_seats(positions) -> Seats:
    """:class:`Seats` of ``positions`` (a queryset): three queries (one when no tier has
    squads)."""
    squads = Squad.objects.select_related("tier").in_bulk()
    tiers = {squad.tier_id for squad in squads.values()}
    seats = positions.filter(holder__isnull=False, role__tier__in=tiers)
    found = list(seats.select_related("holder", "role")) if tiers else []
    runs = runs_of(_assignment_rows(seats.values("holder_id"))) if found else {}
    entries = {squad.tier_id: squad for squad in squads.values() if squad.kind == Squad.Kind.ENTRY}
    return Seats(found, runs, squads, entries)


def outside_entry_squad(positions, *, as_of: datetime.date | None = None):
    """The engineers among the holders of ``positions`` (a queryset) who are new to their
    tier and started outside its entry squad, as (position, the entry squad, the squad they
    started in) triples: what the rotation page flags and what the entry-squad findings
    store (staffing.checks). Three queries."""
    as_of = as_of or timezone.localdate()
    # only someone who joined a squad within the year can be new to its tier: the others
    # are left out before their histories are read (most of a large organization)
    cutoff = as_of - datetime.timedelta(days=NEW_IN_TIER_DAYS)
    joined = Assignment.objects.filter(squad__isnull=False, start_date__gte=cutoff)
    seats = squad_seats(positions.filter(holder__in=joined.values("person_id")))
    found = []
    for position in seats.positions:
        entry = seats.outside_entry(position, as_of)
        if entry is not None:
            runs = squad_runs(seats.runs.get(position.holder_id, []))
            first = next(r for r in runs if seats.squads[r.squad_id].tier_id == entry.tier_id)
            found.append((position, entry, seats.squads[first.squad_id]))
    return found


def rotation_list(scope: Scope, *, as_of: datetime.date | None = None) -> list[Engineer]:
    """The holders of the positions ``scope`` sees whose role belongs to a tier with squads
    (Tier 2's engineers in the default catalogue), each with their current squad, how long
    they have been in it, whether they are due to rotate, and the squads they served in
    (first served first). Those due first, then the longest in their squad. Three queries:
    the positions, the assignments of their holders and the squads."""
    as_of = as_of or timezone.localdate()
    seats = squad_seats(visible(scope))
    squads = seats.squads
    found = []
    for position in seats.positions:
        mine = seats.runs.get(position.holder_id, [])
        now = mine[-1] if mine and mine[-1].end is None and mine[-1].squad_id else None
        squad = squads[now.squad_id] if now else None
        served: dict[int, Served] = {}
        for run in squad_runs(mine):
            entry = served.setdefault(run.squad_id, Served(squads[run.squad_id], 0, 0))
            entry.days += run.days(as_of)
            entry.runs += 1
        found.append(
            Engineer(
                position.holder,
                position,
                squad,
                now.start if now else None,
                now.days(as_of) if now else 0,
                due_on(now, squad, position.role) if now else None,
                list(served.values()),
                as_of,
                seats.outside_entry(position, as_of),
            )
        )
    found.sort(key=lambda e: (not e.due, -e.days, e.person.family_name, e.person.pk))
    return found
