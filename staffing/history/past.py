"""The organization's past, read from the audit trail (see :mod:`orgdesign.kernel.audit`).

:func:`past_org` rebuilds the reporting tree as it stood at the end of a day: the last
historical row of every position up to then (one query), deletions left out, and the
nested-set fields computed again from the parents, since the stored lft/rght of a past
tree are not kept (every move rewrites them for many rows).
"""

import datetime
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, F, Max, Min, Q
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from orgdesign.kernel import days
from roles.models import Role
from staffing.models import Finding, Location, Person, Position
from staffing.scope import Scope
from staffing.tree import compute_layout
from tiers.models import Squad

EARLIEST = days.EARLIEST


def check_day(day: datetime.date, *, name: str = "as_of") -> datetime.date:
    """``day`` if it is between 1900 and today; a ValidationError naming ``name``."""
    today = timezone.localdate()
    if day > today:
        raise ValidationError({name: "That date is in the future; the organization's past ends "
                                     f"today ({today.isoformat()})."})  # fmt: skip
    if day < EARLIEST:
        raise ValidationError({name: f"Give a date from {EARLIEST.isoformat()} on."})
    return day


def parse_day(raw: str, *, name: str = "as_of") -> datetime.date:
    """A date written YYYY-MM-DD, from 1900 to today; a ValidationError naming ``name``."""
    return check_day(days.parse_day(raw, name=name), name=name)


def end_of(day: datetime.date) -> datetime.datetime:
    """The first moment after ``day`` in the site's time zone."""
    start = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start, timezone.get_current_timezone())


@dataclass(slots=True)
class PastPosition:
    """A position as it was: the fields of its last historical row, with its place in the
    past tree (``tree_id``, ``lft``, ``rght``, ``level``) computed again."""

    pk: int
    title: str
    role_id: int
    squad_id: int | None
    location_id: int | None
    status: str
    holder_id: int | None
    parent_id: int | None
    external_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime  # when this version was written
    tree_id: int = 0
    lft: int = 0
    rght: int = 0
    level: int = 0
    direct_reports: int = 0
    open_findings: int = 0  # span-of-control findings open at the time (see attach)
    # filled by attach(): the related objects, for cards and the API
    role: object = None
    squad: object = None
    location: object = None
    holder: object = None
    parent: object = None

    @property
    def id(self) -> int:
        return self.pk

    @property
    def team_size(self) -> int:
        return (self.rght - self.lft - 1) // 2

    @property
    def is_vacant(self) -> bool:
        return self.holder_id is None

    @property
    def has_children(self) -> bool:
        return self.rght - self.lft > 1

    has_reports = has_children  # a past tree is one tree per top position: no divisions

    def get_status_display(self) -> str:
        return dict(Position.Status.choices).get(self.status, self.status)

    def __str__(self) -> str:
        return self.title


PAST_FIELDS = (
    "id",
    "title",
    "role_id",
    "squad_id",
    "location_id",
    "status",
    "holder_id",
    "parent_id",
    "external_id",
    "created_at",
    "history_date",
)


@dataclass
class PastOrg:
    day: datetime.date
    positions: dict[int, PastPosition]  # in tree order
    children: dict[int | None, list[int]]
    order: list[int] = field(default_factory=list)  # the ids in tree order
    index: dict[int, int] = field(default_factory=dict)  # id → place in ``order``

    def subtree(self, pk: int) -> list[PastPosition]:
        """``pk`` and everyone below it on that day, in tree order (a slice: a subtree is
        contiguous in tree order)."""
        start = self.index.get(pk)
        if start is None:
            return []
        end = start + self.positions[pk].team_size + 1
        return [self.positions[member] for member in self.order[start:end]]

    def roots(self) -> list[PastPosition]:
        return [self.positions[pk] for pk in self.children.get(None, [])]


def _latest_versions(moment: datetime.datetime):
    """The last historical row of every position written before ``moment``, as tuples of
    ``history_type`` and PAST_FIELDS: DISTINCT ON where PostgreSQL has it (twice as fast
    as the window at 100,000 positions), a window function elsewhere."""
    historical = Position.history.model
    rows = historical.objects.filter(history_date__lt=moment)
    if connection.features.can_distinct_on_fields:
        rows = rows.order_by("id", "-history_date", "-history_id").distinct("id")
    else:
        rows = rows.annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("id")],
                order_by=[F("history_date").desc(), F("history_id").desc()],
            )
        ).filter(newest=1)
    return rows.values_list("history_type", *PAST_FIELDS)


# Past trees are rebuilt in about 1.5 s at 100,000 positions, and opening a team of the
# past chart needs the same tree again: the last two are kept per process, keyed by the
# day and the newest historical row (an index lookup; any later write makes a new key).
_PAST_CACHE: OrderedDict[tuple, "PastOrg"] = OrderedDict()
_PAST_CACHE_SIZE = 2
_PAST_LOCK = threading.Lock()


def forget_past() -> None:
    with _PAST_LOCK:
        _PAST_CACHE.clear()


def past_org(day: datetime.date) -> PastOrg:
    """Every position that existed at the end of ``day``, as it was then: one query for
    the newest version (cached), one for the tree itself when it is not cached."""
    newest = Position.history.model.objects.aggregate(n=Max("history_id"))["n"]
    key = (day, newest)
    with _PAST_LOCK:
        if key in _PAST_CACHE:
            _PAST_CACHE.move_to_end(key)
            return _PAST_CACHE[key]
    org = _build_past_org(day)
    with _PAST_LOCK:
        _PAST_CACHE[key] = org
        while len(_PAST_CACHE) > _PAST_CACHE_SIZE:
            _PAST_CACHE.popitem(last=False)
    return org


def _build_past_org(day: datetime.date) -> PastOrg:
    positions: dict[int, PastPosition] = {}
    for kind, *values in _latest_versions(end_of(day)).iterator(chunk_size=5000):
        if kind != "-":
            past = PastPosition(*values)
            positions[past.pk] = past
    for past in positions.values():
        if past.parent_id not in positions:
            past.parent_id = None  # a manager missing from the history: shown at the top
    layout = compute_layout(
        (p.pk, p.parent_id, (p.title.casefold(), p.pk)) for p in positions.values()
    )
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, place in layout.fields.items():  # one tree per top position: a past day's
        past = positions[pk]  # tree is drawn in memory, never stored or locked
        past.tree_id, past.lft, past.rght, past.level = place[:4]
    ordered = sorted(layout.fields, key=lambda pk: (positions[pk].tree_id, positions[pk].lft))
    for pk in ordered:
        past = positions[pk]
        children[past.parent_id].append(pk)
        if past.parent_id is not None:
            positions[past.parent_id].direct_reports += 1
    return PastOrg(
        day=day,
        positions={pk: positions[pk] for pk in ordered},
        children=children,
        order=ordered,
        index={pk: n for n, pk in enumerate(ordered)},
    )


def history_start() -> datetime.datetime | None:
    """When the first position was recorded: the organization before it is not known."""
    return Position.history.aggregate(first=Min("history_date"))["first"]


def visible_past(scope: Scope, org: PastOrg) -> list[PastPosition]:
    """The part of the past tree ``scope`` sees: everything for those who see everything;
    for a manager, the team under their own position as it was then (nothing if their
    position did not exist yet)."""
    if scope.sees_all:
        return list(org.positions.values())
    if scope.root is None:
        return []
    return org.subtree(scope.root.pk)


def attach(positions: list[PastPosition], org: PastOrg) -> None:
    """Load the roles (with tiers), squads, locations and holders of ``positions`` and the
    span-of-control findings open on them at the time, in five queries, and point each at
    its manager in the same day's tree."""

    def load(model, ids, **related):
        query = model.objects.filter(pk__in={i for i in ids if i is not None})
        if related:
            query = query.select_related(*related["select"])
        return query.in_bulk()

    roles = load(Role, (p.role_id for p in positions), select=["tier"])
    squads = load(Squad, (p.squad_id for p in positions))
    locations = load(Location, (p.location_id for p in positions))
    holders = load(Person, (p.holder_id for p in positions))
    for past in positions:
        past.role = roles.get(past.role_id)
        past.squad = squads.get(past.squad_id)
        past.location = locations.get(past.location_id)
        past.holder = holders.get(past.holder_id)
        if past.parent_id is not None:
            past.parent = org.positions.get(past.parent_id)
    moment = end_of(org.day)
    findings = dict(
        Finding.objects.filter(position_id__in=[p.pk for p in positions], first_seen__lt=moment)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=moment))
        .order_by()
        .values_list("position_id")
        .annotate(n=Count("pk"))
    )
    for past in positions:
        past.open_findings = findings.get(past.pk, 0)
