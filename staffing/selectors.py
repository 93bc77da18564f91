"""Read queries over people and positions."""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from roles.models import Role
from roles.selectors import roles_that_take
from staffing.models import (
    Assignment,
    Finding,
    Location,
    Person,
    Position,
    chain_sql,
    subtree_q,
)
from staffing.scope import Scope
from tiers.models import Squad, Tier

DAYS_PER_MONTH = Decimal("30.436875")  # 365.2425 / 12


def days_in(periods, as_of: datetime.date) -> int:
    """Days covered by ``periods`` ((start, end or None) pairs) up to ``as_of``; overlapping
    periods count once, and gaps between them not at all."""
    clipped = sorted((start, min(end or as_of, as_of)) for start, end in periods if start <= as_of)
    total, cursor = 0, None
    for start, end in clipped:
        if cursor is not None and start < cursor:
            start = cursor
        if end > start:
            total += (end - start).days
        cursor = max(cursor or end, end)
    return total


def tenure_days(person: Person, role: Role, *, as_of: datetime.date | None = None) -> int:
    """Days ``person`` has spent in ``role`` up to ``as_of``; overlapping periods count once."""
    as_of = as_of or timezone.localdate()
    periods = Assignment.objects.filter(person=person, role=role).values_list(
        "start_date", "end_date"
    )
    return days_in(periods, as_of)


def as_months(days: int) -> Decimal:
    """Days as months of average length, to one decimal place."""
    return (Decimal(days) / DAYS_PER_MONTH).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def tenure_months(person: Person, role: Role, *, as_of: datetime.date | None = None) -> Decimal:
    """Months in ``role`` (average month length), to one decimal place."""
    return as_months(tenure_days(person, role, as_of=as_of))


def current_assignment(person: Person) -> Assignment | None:
    return person.assignments.filter(end_date__isnull=True).select_related("role").first()


def direct_report_counts(queryset) -> dict[int, int]:
    """Number of direct reports per position id, from one GROUP BY."""
    rows = (
        Position.objects.filter(parent__in=queryset.values("id"))
        .order_by()
        .values("parent_id")
        .annotate(n=Count("id"))
    )
    return {row["parent_id"]: row["n"] for row in rows}


HEADCOUNT_DIMENSIONS = ("tier", "role", "location", "squad")


@dataclass
class Group:
    key: str
    name: str
    filled: int = 0
    open: int = 0
    planned: int = 0
    colour: str = ""
    rank: int = 0
    id: int | None = None  # the tier, role, location or squad; None: positions without one

    @property
    def code(self) -> str:
        return self.key

    @property
    def total(self) -> int:
        return self.filled + self.open + self.planned

    def add(self, status: str, n: int) -> None:
        setattr(self, status, getattr(self, status) + n)


@dataclass
class Headcount:
    totals: Group
    by: dict[str, list[Group]]

    @property
    def fill_rate(self) -> float | None:
        staffed = self.totals.filled + self.totals.open
        return round(100 * self.totals.filled / staffed, 1) if staffed else None


def headcount(positions) -> Headcount:
    """The ``positions`` (a queryset) counted by tier, role, location and squad: filled, open
    and planned in each group and in total. Tiers come in rank order, the rest largest first.

    One GROUP BY on the position table alone (joining the names in would double its time at
    100,000 positions), then the names from the small tables: four queries in all."""
    rows = (
        positions.order_by()
        .values_list("role_id", "location_id", "squad_id", "status")
        .annotate(n=Count("id"))
    )
    return count_rows(list(rows))


def headcount_names() -> tuple[dict, dict, dict]:
    """The roles (with tiers), locations and squads a headcount names: three queries."""
    roles = {r.pk: r for r in Role.objects.select_related("tier")}
    locations = {
        pk: (code, name) for pk, code, name in Location.objects.values_list("pk", "code", "name")
    }
    squads = {
        pk: (code, name) for pk, code, name in Squad.objects.values_list("pk", "code", "name")
    }
    return roles, locations, squads


def count_rows(rows, names: tuple[dict, dict, dict] | None = None) -> Headcount:
    """A :class:`Headcount` from ``rows`` of (role id, location id, squad id, status, number
    of positions), as :func:`headcount` groups them; ``names`` from :func:`headcount_names`
    (loaded here when not given)."""
    roles, locations, squads = names or headcount_names()
    nowhere = ("none", "No location")
    no_squad = ("none", "No squad")
    groups: dict[str, dict[str, Group]] = {key: {} for key in HEADCOUNT_DIMENSIONS}
    totals = Group("all", "All positions")
    for role_id, location_id, squad_id, status, n in rows:
        role = roles[role_id]
        for key, pk, code, name in (
            ("tier", role.tier_id, role.tier.code, role.tier.name),
            ("role", role_id, role.code, role.name),
            ("location", location_id, *locations.get(location_id, nowhere)),
            ("squad", squad_id, *squads.get(squad_id, no_squad)),
        ):
            group = groups[key].setdefault(code, Group(code, name, id=pk))
            if key == "tier":
                group.colour, group.rank = role.tier.colour, role.tier.rank
            group.add(status, n)
        totals.add(status, n)
    ordered = {
        "tier": sorted(groups["tier"].values(), key=lambda g: g.rank),
        **{
            key: sorted(groups[key].values(), key=lambda g: (-g.total, g.name))
            for key in ("role", "location", "squad")
        },
    }
    return Headcount(totals, ordered)


@dataclass
class TierToday:
    """A tier of the catalogue with the positions a viewer sees in it."""

    tier: Tier
    count: Group  # its positions: filled, open, planned
    roles: list[Role]  # the roles of the tier still given out
    squads: list[tuple[Squad, Group]]  # its squads, each with its positions
    share: float | None = None  # % of the front line's people (front-line tiers only)


@dataclass
class TiersToday:
    tiers: list[TierToday]
    front_line: int  # people in the front-line tiers: what a tier's share is a share of
    sees: bool  # whether the viewer sees any part of the organization


def tiers_today(scope: Scope, tiers: list[Tier]) -> TiersToday:
    """Each of ``tiers`` (their squads loaded) with the positions ``scope`` sees in it, by
    status, and each front-line tier's share of the front line's people: its filled
    positions over those of every front-line tier. People stand in for tickets here.

    Two queries whatever the organization's size: the roles, and one GROUP BY on the
    position table alone (by role, squad and status; none when the scope sees nothing)."""
    roles = list(Role.objects.all())
    tier_of = {role.pk: role.tier_id for role in roles}
    by_tier = {t.pk: Group(t.code, t.name, colour=t.colour, rank=t.rank, id=t.pk) for t in tiers}
    by_squad: dict[int, Group] = {}
    sees = scope.sees_all or scope.root is not None
    if sees:
        rows = (
            visible(scope)
            .order_by()
            .values_list("role_id", "squad_id", "status")
            .annotate(n=Count("id"))
        )
        for role_id, squad_id, status, n in rows:
            group = by_tier.get(tier_of[role_id])
            if group is not None:
                group.add(status, n)
            if squad_id is not None:
                by_squad.setdefault(squad_id, Group(str(squad_id), "", id=squad_id)).add(status, n)
    front_line = sum(by_tier[t.pk].filled for t in tiers if t.is_front_line)
    found = []
    for tier in tiers:
        count = by_tier[tier.pk]
        share = None
        if tier.is_front_line and front_line:
            share = round(100 * count.filled / front_line, 1)
        found.append(
            TierToday(
                tier,
                count,
                [role for role in roles if role.tier_id == tier.pk and role.is_active],
                [(sq, by_squad.get(sq.pk) or Group(sq.code, sq.name)) for sq in tier.squads.all()],
                share,
            )
        )
    return TiersToday(found, front_line, sees)


def direct_reports_count():
    """An annotation: how many positions report to the row's position (a subquery)."""
    direct = (
        Position.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(direct, output_field=IntegerField()), 0)


def with_card_figures(queryset):
    """``queryset`` with what a position's card shows: role and tier (and the role's span
    rule, for whether it may have reports), squad, location, holder and manager loaded,
    and ``direct_reports`` and ``open_findings`` counted, all in the one query (team size
    comes from lft/rght)."""
    findings = (
        Finding.objects.open()
        .filter(position=OuterRef("pk"))
        .order_by()
        .values("position")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.select_related(
        "role__tier", "role__span_rule", "squad", "location", "holder", "parent"
    ).annotate(
        direct_reports=direct_reports_count(),
        open_findings=Coalesce(Subquery(findings, output_field=IntegerField()), 0),
    )


def with_catalogue(positions: list[Position]) -> list[Position]:
    """Load the role (with its tier and span rule), squad and location of ``positions``,
    one object of each for all the positions that share it (three queries whatever their
    number): what a chart of hundreds of cards of a few dozen roles needs, instead of a
    role, tier, rule, squad and location built again for every row."""
    prefetch_related_objects(
        positions,
        Prefetch("role", queryset=Role.objects.select_related("tier", "span_rule")),
        "squad",
        "location",
    )
    return positions


NEARBY = 8  # move suggestions shown before anything is typed


def placeable_for(scope, moving: Position, positions, *, roles: list[int]):
    """Those of ``positions`` that ``moving`` may be put under: in the viewer's editing
    scope, outside its own team, not its present manager, and of one of ``roles`` (the
    search: any role that takes reports; the suggestions: those that take ``moving``'s)."""
    return (
        scope.filter_placeable(positions)
        .exclude(subtree_q(moving))
        .exclude(pk=moving.parent_id or 0)
        .filter(role_id__in=roles)
    )


def move_candidates(scope, moving: Position, *, limit: int = NEARBY) -> list[Position]:
    """Where ``moving`` most likely goes, before anything is typed: the peers of its manager
    (those of the manager's own role first), its manager's manager, then its own peers. Only
    those the viewer may put it under (the rules of ``chart.search(moving=…)``: in the
    viewer's editing scope, outside its own team, not its present manager) and whose role
    may have its role as a report. Roles, holders and locations loaded; five queries."""
    manager = Position.objects.filter(pk=moving.parent_id).values("parent_id", "role_id").first()
    if manager is None:
        return []
    grand = manager["parent_id"]
    peers_of_manager = Q(parent_id=grand) | Q(pk=grand) if grand else Q(parent__isnull=True)
    near = scope.filter_visible(Position.objects.all()).filter(
        peers_of_manager | Q(parent_id=moving.parent_id)
    )
    found = (
        placeable_for(scope, moving, near, roles=roles_that_take(moving.role))
        .select_related("role", "holder", "location")
        .order_by("title", "pk")[: limit * 5]
    )
    return nearest_first(found, moving.parent_id, grand, manager["role_id"])[:limit]


def nearest_first(found, parent_id: int, grand: int | None, manager_role: int) -> list:
    """Move suggestions in their order: the peers of the moving card's manager (``parent_id``;
    those of the manager's role first), the manager's manager (``grand``), its own peers.
    Live positions and draft rows alike."""

    def rank(p) -> tuple:
        group = 2 if p.parent_id == parent_id else 1 if p.pk == grand else 0
        return (group, p.role_id != manager_role)

    return sorted(found, key=rank)


def open_finding_messages(position_ids) -> dict[int, list[Finding]]:
    """The open findings of these positions, most severe first (one query)."""
    found: dict[int, list[Finding]] = {}
    rows = Finding.objects.open().filter(position_id__in=list(position_ids)).by_severity()
    for finding in rows.only("position_id", "kind", "severity", "message"):
        found.setdefault(finding.position_id, []).append(finding)
    return found


def capacity_plan(data: dict, catalogue=None):
    """:func:`staffing.capacity.plan` with what it takes from the catalogue: the tiers
    (unless the caller read them already), the span limits and the leaders' hands-on shares
    (three queries)."""
    from staffing import capacity

    return capacity.plan(
        data,
        span_limits=span_limits(),
        hands_on=hands_on_shares(),
        catalogue=catalogue or capacity_catalogue(),
    )


def capacity_catalogue():
    """The tier catalogue as the capacity model reads it (:class:`staffing.demand.Catalogue`):
    the tiers a plan staffs, and where self-service sends work. One query."""
    from staffing.demand import AGENT_ROLE, Catalogue, CatalogueTier
    from tiers.models import Tier

    rows, self_service = [], None
    for tier in Tier.objects.select_related("escalates_to").order_by("rank"):
        if tier.kind == Tier.Kind.SELF_SERVICE:
            self_service = self_service or (tier.name, tier.escalates_to and tier.escalates_to.code)
        elif tier.code in AGENT_ROLE and tier.staffed:
            rows.append(
                CatalogueTier(
                    tier.code,
                    tier.name,
                    tier.target_handling_minutes,
                    tuple(tier.channels or ()),
                    tier.escalates_to.code if tier.escalates_to else None,
                    None if tier.volume_share_min is None else float(tier.volume_share_min),
                    None if tier.volume_share_max is None else float(tier.volume_share_max),
                )
            )
    return Catalogue.of(rows, self_service)


def hands_on_shares() -> dict[str, float]:
    """The share of their time the leaders who supervise part-time spend on the work
    themselves, by role code (a team lead supervising 80 % of the time: 0.2). One query."""
    from roles.models import Role

    rows = Role.objects.filter(supervision_share__isnull=False).values_list(
        "code", "supervision_share"
    )
    return {code: float(100 - share) / 100 for code, share in rows if share < 100}


def span_limits() -> dict[str, tuple[int | None, int | None]]:
    """Each manager role's most direct reports and largest whole team, by role code."""
    from roles.models import SpanRule

    return {
        code: (most, largest)
        for code, most, largest in SpanRule.objects.values_list(
            "role__code", "max_direct", "max_team"
        )
    }


def visible_people(scope, user):
    """The people a viewer sees: everyone for admins and HR; otherwise those holding a
    position in the viewer's part, and the viewer themself. The people API, the person
    pages and the promotion admin all use this."""
    people = Person.objects.all()
    if scope.sees_all:
        return people
    holders = scope.filter_visible(Position.objects.all()).values("holder_id")
    own = Q(user=user) if getattr(user, "pk", None) is not None else Q(pk__in=[])
    return people.filter(Q(pk__in=holders) | own)


def placeable_people(scope):
    """The people a scope may name to fill a position: anyone, for those who change the
    whole organization; for a director or manager, people in no position, those holding a
    position the scope may change (a transfer within their part), and themselves (refused
    afterwards, with the reason). Everyone else is answered as if they did not exist: the
    fill dialogs, the API and person_assign all start here."""
    people = Person.objects.all()
    if scope.edits_all:
        return people
    if scope.root is None:
        return people.none()
    editable = scope.filter_editable(Position.objects.all()).values("holder_id")
    own = Q(pk=scope.root.holder_id) if scope.root.holder_id else Q(pk__in=[])
    return people.filter(Q(position__isnull=True) | Q(pk__in=editable) | own)


def no_such_person(pk) -> str:
    """What every entry point says of a person id it cannot place: the same words for one
    that does not exist and for one the caller may not see."""
    return f"No person with id {pk} that you can see."


def no_such_position(pk) -> str:
    """The same words for a position id that does not exist and one the caller may not see."""
    return f"No position with id {pk} that you can see."


# --- above a position ---------------------------------------------------------------------


def above(position: Position | int, *, include_self: bool = False) -> Q:
    """A filter for the managers above ``position`` (and the position itself if asked), found
    by walking the parent pointers in one recursive query: a primary-key lookup per level,
    whatever the tree's size. (Reading them from the nested sets, ``lft <= x <= rght``,
    scans every row to the left of the position in its tree.) Order the queryset yourself."""
    pk = getattr(position, "pk", position)
    chain = Q(pk__in=RawSQL(chain_sql(), [pk]))
    return chain if include_self else chain & ~Q(pk=pk)


def lineage_ids(position: Position | int | None) -> list[int]:
    """The position (an instance or an id) and everyone above it, as ids, the top first and
    the position last (one query)."""
    if position is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(chain_sql(ordered=True), [getattr(position, "pk", position)])
        return [row[0] for row in cursor.fetchall()]


# --- what a user can see ------------------------------------------------------------------


def visible(scope: Scope):
    return scope.filter_visible(Position.objects.all())


def visible_position(scope: Scope, raw) -> Position | None:
    """The position with id ``raw`` if ``scope`` can see it; None for no id; 404 otherwise."""
    if raw in (None, ""):
        return None
    if not str(raw).isdigit():
        raise Http404("No such position.")
    position = visible(scope).filter(pk=raw).first()
    if position is None:
        raise Http404("No such position in the part of the organization you can see.")
    return position
