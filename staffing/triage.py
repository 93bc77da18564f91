"""The triage rota: at each location, experienced Tier 1 advocates take turns sorting and
routing the incoming work, a week at a time (reads only; the rota is written by
:func:`staffing.services.triage_week_set`, the findings by :mod:`staffing.checks`).

* Who may be on triage: the holder of a position at the location whose role belongs to a
  tier that triages (``Tier.triages``: Tier 1 in the default catalogue), on the advocacy
  track, at ``TRIAGE_MIN_LEVEL`` or above: Customer Advocates and Senior Customer
  Advocates, not associates, who are still learning the queue.
* A gap: a week of a location that has open hours and Tier 1 people (anyone holding a
  position there in a tier that triages) and nobody on its rota who may be on triage now
  (someone put on the rota who has since moved away or changed role no longer counts).
* Who sees a location's rota: those who see the whole organization, and directors and
  managers whose part has people at the location (the same rule as a location's
  findings, staffing.models.staffing_locations). Who edits it: those who edit the whole
  organization, and directors and managers whose editable part has people there; each
  changes the people they see, and those they do not see stay on the rota.

Every read is a fixed number of queries, whatever the number of locations and weeks.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from orgdesign.kernel.days import monday
from roles.models import Role
from staffing.models import Location, Person, Position, TriageWeek, staffing_locations
from staffing.scope import Scope
from staffing.selectors import visible_people

TRIAGE_MIN_LEVEL = 2  # level 1 of the advocacy track is the associate, not yet on triage
WEEKS_JUDGED = 2  # the checks judge this week and the next
WEEKS_SHOWN = 4  # the page shows this week and the three after it
WEEK = datetime.timedelta(days=7)


def weeks_from(start: datetime.date, n: int) -> list[datetime.date]:
    first = monday(start)
    return [first + k * WEEK for k in range(n)]


def judged_weeks(today: datetime.date | None = None) -> list[datetime.date]:
    """The weeks the triage check judges: this one and the next."""
    return weeks_from(today or timezone.localdate(), WEEKS_JUDGED)


def triage_roles_q(prefix: str = "") -> Q:
    """A filter for the roles whose holders may be on triage (``prefix`` names the role from
    another model, e.g. ``"role__"``)."""
    return Q(
        **{
            f"{prefix}tier__triages": True,
            f"{prefix}track": Role.Track.ADVOCACY,
            f"{prefix}level__gte": TRIAGE_MIN_LEVEL,
        }
    )


def may_triage(location: Location | int) -> QuerySet:
    """The positions whose holders may be on triage at ``location``."""
    return Position.objects.filter(
        triage_roles_q("role__"), location=location, holder__isnull=False, holder__is_active=True
    )


def visible_locations(scope: Scope) -> QuerySet:
    """The locations whose rota ``scope`` sees (see the module's docstring)."""
    if scope.sees_all:
        return Location.objects.all()
    if scope.root is None:
        return Location.objects.none()
    visible = scope.filter_visible(Position.objects.all())
    return Location.objects.filter(pk__in=staffing_locations(visible))


def editable_locations(scope: Scope) -> QuerySet:
    """The locations whose rota ``scope`` may change."""
    if scope.edits_all:
        return Location.objects.all()
    if scope.root is None:
        return Location.objects.none()
    editable = scope.filter_editable(Position.objects.all())
    return Location.objects.filter(pk__in=staffing_locations(editable))


# --- gaps: the triage check's judgement --------------------------------------------------


@dataclass(frozen=True)
class Gap:
    location_id: int
    location_name: str
    week: datetime.date
    tier1_people: int


def gaps(weeks: list[datetime.date], locations: list[int] | None = None) -> list[Gap]:
    """The weeks of ``weeks`` at the locations (``locations``: ids, None: all) that have open
    hours and Tier 1 people and nobody on triage. Three queries."""
    if not weeks:
        return []
    places = Location.objects.all()
    if locations is not None:
        places = places.filter(pk__in=locations)
    open_places = {loc.pk: loc for loc in places if loc.has_open_hours}
    if not open_places:
        return []
    tier1 = dict(
        Position.objects.filter(
            location__in=list(open_places), holder__isnull=False, role__tier__triages=True
        )
        .order_by()
        .values("location_id")
        .annotate(n=Count("pk"))
        .values_list("location_id", "n")
    )
    # (location, week) pairs with at least one person on the rota who may triage there now
    covered = set(
        TriageWeek.objects.filter(  # one person meets every condition: a single filter()
            triage_roles_q("people__position__role__"),
            location__in=list(tier1),
            week__in=weeks,
            people__position__location=F("location"),
            people__is_active=True,
        )
        .order_by()
        .values_list("location_id", "week")
        .distinct()
    )
    found = []
    for location_id, n in sorted(tier1.items(), key=lambda item: open_places[item[0]].name):
        for week in weeks:
            if (location_id, week) not in covered:
                found.append(Gap(location_id, open_places[location_id].name, week, n))
    return found


# --- the page ---------------------------------------------------------------------------


@dataclass
class Cell:
    location: Location
    week: datetime.date
    people: list[Person] = field(default_factory=list)  # on the rota and seen by the viewer
    hidden: int = 0  # on the rota, in parts the viewer does not see
    tier1: int = 0
    editable: bool = False
    gap: bool = False  # what the triage check finds (gaps), in the weeks it judges
    judged: bool = False  # this week or the next: a gap here is a finding


@dataclass
class Rota:
    weeks: list[datetime.date]
    rows: list[tuple[Location, list[Cell]]]

    @property
    def gaps(self) -> int:
        return sum(1 for _, cells in self.rows for cell in cells if cell.gap)


def rota(scope: Scope, user, weeks: list[datetime.date]) -> Rota:
    """The rota of the locations ``scope`` sees for ``weeks``, this week and the next flagged
    where the triage check finds a gap (the weeks it keeps findings for; a later week is not
    planned yet rather than a gap): nine queries, whatever the number of locations and
    weeks."""
    locations = list(visible_locations(scope).order_by("name"))
    ids = [loc.pk for loc in locations]
    editable = set(editable_locations(scope).filter(pk__in=ids).values_list("pk", flat=True))
    tier1 = dict(
        Position.objects.filter(location__in=ids, holder__isnull=False, role__tier__triages=True)
        .order_by()
        .values("location_id")
        .annotate(n=Count("pk"))
        .values_list("location_id", "n")
    )
    seen = set(visible_people(scope, user).values_list("pk", flat=True)) if ids else set()
    through = TriageWeek.people.through
    entries = through.objects.filter(
        triageweek__location__in=ids, triageweek__week__in=weeks
    ).values_list("triageweek__location_id", "triageweek__week", "person_id")
    per: dict[tuple[int, datetime.date], list[int]] = {}
    for location_id, week, person_id in entries:
        per.setdefault((location_id, week), []).append(person_id)
    people = Person.objects.in_bulk({pid for on in per.values() for pid in on if pid in seen})
    judged = [week for week in weeks if week in judged_weeks()]
    found = {(g.location_id, g.week) for g in gaps(judged, ids)} if ids and judged else set()
    rows = []
    for loc in locations:
        cells = []
        for week in weeks:
            on = per.get((loc.pk, week), [])
            shown = sorted(
                (people[pid] for pid in on if pid in people),
                key=lambda p: (p.family_name, p.given_name, p.pk),
            )
            cells.append(
                Cell(
                    loc,
                    week,
                    shown,
                    len(on) - len(shown),
                    tier1.get(loc.pk, 0),
                    loc.pk in editable,
                    (loc.pk, week) in found,
                    week in judged,
                )
            )
        rows.append((loc, cells))
    return Rota(weeks, rows)


def candidates(scope: Scope, user, location: Location) -> list[Person]:
    """Those the viewer may put on triage at ``location``: the holders of positions there
    who may triage, among the people the viewer sees. One query."""
    return list(
        visible_people(scope, user)
        .filter(pk__in=may_triage(location).values("holder_id"))
        .select_related("position__role")
        .order_by("family_name", "given_name", "pk")
    )
