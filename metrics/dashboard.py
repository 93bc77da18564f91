"""What the director dashboard shows, worked out from the organization in a fixed number of
queries whatever its size.

* Headcount: one GROUP BY over the scope by (tier, role, location, squad, status), rolled up
  here into each dimension, the totals and the tier shares.
* Structure: one GROUP BY of direct reports per manager in the scope and one list of the
  positions whose role has a span rule; distributions are judged against the rules.
* Findings: open span-of-control findings of the scope by kind and severity, the worst listed.
* Growth advisories: read from the figures above (no query of their own).
* KPIs and trends: the catalogue's targets against observations, and headcount snapshots.
"""

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q

from metrics.models import KPI, HeadcountSnapshot, KPIObservation
from orgdesign.words import a_or_an
from roles.models import SpanRule
from staffing import capacity
from staffing.models import Finding, Position
from staffing.selectors import Group, Headcount
from staffing.selectors import headcount as count_positions
from tiers.models import Tier

STATUSES = ("filled", "open", "planned")
DIMENSIONS = {
    "tier": "Tier",
    "role": "Role",
    "location": "Location",
    "squad": "Squad",
}
FRONT_LINE = (Tier.Kind.FRONTLINE, Tier.Kind.TECHNICAL, Tier.Kind.EXPERT)

# growth advisories: the figures at which each one speaks up (our reading of the framework)
# about ten agents: process and tooling work becomes a job of its own (the capacity plan
# proposes the same team at the same point)
OPS_TEAM_AT_AGENTS = capacity.OPS_TEAM_AT_AGENTS
NEW_TIER_AT_AGENTS = 12  # two full teams in the top tier: its queue holds easy and hard work
TRIAGE_AT_AREAS = 3  # three specialist areas or more: routing needs a deliberate step
GO_TO_PERSON = 1  # an area held by one person


def scope_positions(root: Position | None):
    positions = Position.objects.all()
    return positions if root is None else positions.subtree_of(root)


def headcount(root: Position | None) -> Headcount:
    """Positions of the scope by tier, role, location and squad (four queries)."""
    return count_positions(scope_positions(root))


def headcount_from_snapshot(snapshot: HeadcountSnapshot) -> Headcount:
    """The headcount as a snapshot kept it."""
    by = {}
    for key in DIMENSIONS:
        kept = snapshot.breakdown.get(key, {})
        by[key] = sorted(
            (
                Group(
                    code,
                    row.get("name", code),
                    row["filled"],
                    row["open"],
                    row["planned"],
                    row.get("colour", ""),
                    row.get("rank", 0),
                )
                for code, row in kept.items()
            ),
            key=(lambda g: g.rank) if key == "tier" else (lambda g: (-g.total, g.name)),
        )
    totals = Group("all", "All positions", snapshot.filled, snapshot.open, snapshot.planned)
    return Headcount(totals, by)


# -- tiers against the framework ----------------------------------------------------------


@dataclass
class TierShare:
    name: str
    colour: str
    positions: int
    share: float  # % of front-line positions
    low: Decimal | None
    high: Decimal | None

    @property
    def verdict(self) -> str:
        if self.low is None and self.high is None:
            return "no figure in the framework"
        if self.low is not None and self.share < self.low:
            return "below the framework"
        if self.high is not None and self.share > self.high:
            return "above the framework"
        return "within the framework"

    @property
    def expected(self) -> str | None:
        if self.low is None and self.high is None:
            return None
        low = f"{self.low.normalize():f}" if self.low is not None else "0"
        high = f"{self.high.normalize():f}" if self.high is not None else "100"
        return f"{low}–{high} %"


def tier_shares(count: Headcount, tiers: list[Tier]) -> list[TierShare]:
    """Each front-line tier's share of the front-line positions, against the framework's
    share of volume for it (Tier 3: 5–10 %). Headcount stands in for volume here."""
    by_code = {g.key: g for g in count.by["tier"]}
    front = [tier for tier in tiers if tier.kind in FRONT_LINE and tier.staffed]
    total = sum(by_code[t.code].total for t in front if t.code in by_code)
    shares = []
    for tier in front:
        n = by_code[tier.code].total if tier.code in by_code else 0
        share = round(100 * n / total, 1) if total else 0.0
        shares.append(
            TierShare(
                tier.name, tier.colour, n, share, tier.volume_share_min, tier.volume_share_max
            )
        )
    return shares


# -- span of control --------------------------------------------------------------------


def median(values: list[int]) -> int | float | None:
    """The median in one form wherever it is shown: a whole number when it is one ("2", not
    "2.0"), else one decimal ("2.5"). None for no values."""
    if not values:
        return None
    middle = statistics.median(values)
    return int(middle) if middle == int(middle) else round(float(middle), 1)


@dataclass
class SpanFigures:
    """The positions of one role with a span rule, and how their teams measure up."""

    role: str
    role_code: str
    rule: SpanRule
    direct: list[int] = field(default_factory=list)  # on the rule's basis
    team: list[int] = field(default_factory=list)  # everyone below, vacancies included

    @property
    def positions(self) -> int:
        return len(self.direct)

    def _judge(self, values: list[int], low: int | None, high: int | None) -> dict:
        below = sum(1 for v in values if low is not None and v < low)
        above = sum(1 for v in values if high is not None and v > high)
        return {
            "min": min(values, default=None),
            "median": median(values),
            "max": max(values, default=None),
            "below": below,
            "above": above,
            "within": len(values) - below - above,
            "range": SpanRule.range_display(low, high),
        }

    @property
    def direct_judged(self) -> dict:
        return self._judge(self.direct, self.rule.min_direct, self.rule.max_direct)

    @property
    def team_judged(self) -> dict | None:
        if self.rule.min_team is None and self.rule.max_team is None:
            return None
        return self._judge(self.team, self.rule.min_team, self.rule.max_team)

    @property
    def histogram(self) -> list[tuple[int, int]]:
        """(direct reports, positions with that many), every value from the least to the most."""
        counts = Counter(self.direct)
        if not counts:
            return []
        low = min(min(counts), self.rule.min_direct or min(counts))
        high = max(max(counts), self.rule.max_direct or max(counts))
        return [(value, counts.get(value, 0)) for value in range(low, high + 1)]


def span_figures(root: Position | None) -> list[SpanFigures]:
    """Per role with a span rule: the direct reports (on the rule's basis) and whole-team size
    of each of its positions in the scope. Three queries (rules, managers, report counts)."""
    rules = {rule.role_id: rule for rule in SpanRule.objects.select_related("role")}
    if not rules:
        return []
    positions = scope_positions(root)
    managers = list(positions.filter(role_id__in=rules).values_list("pk", "role_id", "lft", "rght"))
    # every manager's reports lie inside the scope: one pass over it, grouped by manager
    per_parent = (
        positions.filter(parent__isnull=False)
        .order_by()
        .values_list("parent_id")
        .annotate(n=Count("id"), nf=Count("holder_id"))
    )
    counts = {parent: (n, nf) for parent, n, nf in per_parent} if managers else {}
    figures = {pk: SpanFigures(rule.role.name, rule.role.code, rule) for pk, rule in rules.items()}
    filled = {role_id: rule.counts == SpanRule.Counts.FILLED for role_id, rule in rules.items()}
    nothing = (0, 0)
    for pk, role_id, lft, rght in managers:  # tens of thousands at 100k: kept lean
        row = figures[role_id]
        row.direct.append(counts.get(pk, nothing)[1 if filled[role_id] else 0])
        row.team.append((rght - lft - 1) // 2)
    used = [f for f in figures.values() if f.direct]
    return sorted(used, key=lambda f: (f.rule.role.level, f.role))


# -- findings ---------------------------------------------------------------------------


@dataclass
class FindingSummary:
    by_kind: list[dict]  # kind label, per severity, total
    worst: list[Finding]
    total: int


def findings(root: Position | None, *, worst: int = 10) -> FindingSummary:
    """Open span-of-control findings of the scope by kind and severity (one query) and the
    worst few (one query)."""
    open_ = Finding.objects.open()
    if root is not None:
        open_ = open_.filter(
            position__tree_id=root.tree_id,
            position__lft__gte=root.lft,
            position__lft__lt=root.rght,
        )
    table: dict[str, dict] = {}
    labels = dict(Finding.Kind.choices)
    for kind, severity, n in (
        open_.order_by().values_list("kind", "severity").annotate(n=Count("id"))
    ):
        row = table.setdefault(
            kind,
            {
                "kind": kind,
                "label": labels.get(kind, kind),
                "total": 0,
                **dict.fromkeys(Finding.SEVERITY_ORDER, 0),
            },
        )
        row[severity] += n
        row["total"] += n
    listed = list(open_.by_severity().select_related("position")[:worst])
    rows = sorted(table.values(), key=lambda r: (-r["critical"], -r["total"], r["label"]))
    return FindingSummary(rows, listed, sum(r["total"] for r in rows))


# -- growth advisories ------------------------------------------------------------------


@dataclass
class Advisory:
    title: str
    advice: str
    figure: str  # the number that set it off


def advisories(
    count: Headcount, tiers: list[Tier], *, operations_elsewhere: bool = False
) -> list[Advisory]:
    """Signs, read from the headcount, that the organization has reached a growth point.
    ``operations_elsewhere``: a support-operations team exists outside the scope (it serves
    this part too, so none is due here)."""
    found: list[Advisory] = []
    by_tier = {g.key: g for g in count.by["tier"]}
    front = [t for t in tiers if t.kind in FRONT_LINE and t.staffed]
    agents = sum(by_tier[t.code].total for t in front if t.code in by_tier)
    operations = sum(
        by_tier[t.code].total for t in tiers if t.kind == Tier.Kind.OPERATIONS and t.code in by_tier
    )
    if agents >= OPS_TEAM_AT_AGENTS and operations == 0 and not operations_elsewhere:
        found.append(
            Advisory(
                "A support-operations team is due",
                "With this many agents, keeping workflows, tools, reporting and training in "
                "order is a job of its own. Give it to a support-operations team rather than "
                "taking an agent off the queue for it.",
                f"{agents} front-line positions and none in support operations "
                f"(the usual point is about {OPS_TEAM_AT_AGENTS}).",
            )
        )
    present = [t for t in front if t.code in by_tier and by_tier[t.code].total]
    if present:
        top = max(present, key=lambda t: t.rank)
        nxt = next((t for t in front if t.rank > top.rank), None)
        size = by_tier[top.code].total
        if nxt is not None and size >= NEW_TIER_AT_AGENTS:
            found.append(
                Advisory(
                    f"Consider {a_or_an(nxt.name)} tier",
                    f"Once a queue this large holds both quick answers and long investigations, "
                    f"the long ones slow everyone down. Let {top.name} keep the quick work and "
                    f"send the hard cases to a tier of their own.",
                    f"{size} positions in {top.name}, the highest tier here; none in {nxt.name}.",
                )
            )
    alone = [g for g in count.by["squad"] if g.key != "none" and g.filled == GO_TO_PERSON]
    if alone:
        names = ", ".join(g.name for g in alone[:5]) + (" …" if len(alone) > 5 else "")
        found.append(
            Advisory(
                "Areas that rest on one person",
                "When a single go-to person holds an area's knowledge, it does not scale and "
                "stops when they are away. Add specialists to the area or train a second one.",
                f"{len(alone)} squad{'s' if len(alone) != 1 else ''} with exactly one filled "
                f"position: {names}.",
            )
        )
    areas = [g for g in count.by["squad"] if g.key != "none" and g.total]
    triaging = [t for t in tiers if t.triages and t.code in by_tier and by_tier[t.code].total]
    if len(areas) >= TRIAGE_AT_AREAS and not triaging:
        found.append(
            Advisory(
                "Add a triage step",
                "With work spread over several specialist areas, incoming cases need someone "
                "to sort them and route each to the people who can solve it.",
                f"{len(areas)} specialist areas and no positions in a tier that triages.",
            )
        )
    return found


def operations_anywhere() -> bool:
    """Whether the organization has any support-operations position (one query)."""
    return Position.objects.filter(role__tier__kind=Tier.Kind.OPERATIONS).exists()


def of_scope(root: Position | None) -> Q:
    """Rows recorded for ``root``'s team (its ``scope``), or for the whole organization."""
    return Q(scope=root) if root is not None else Q(scope__isnull=True)


# -- KPIs -------------------------------------------------------------------------------


@dataclass
class KpiStatus:
    kpi: KPI
    history: list[KPIObservation]  # oldest first, the last few periods

    @property
    def latest(self) -> KPIObservation | None:
        return self.history[-1] if self.history else None

    @property
    def previous(self) -> KPIObservation | None:
        return self.history[-2] if len(self.history) > 1 else None

    @property
    def status(self) -> str:
        if self.latest is None:
            return "no data"
        met = self.kpi.meets(self.latest.value)
        return "no target" if met is None else "on target" if met else "off target"

    @property
    def trend(self) -> str:
        if self.latest is None or self.previous is None:
            return "—"
        change = self.latest.value - self.previous.value
        if change == 0:
            return "steady"
        up = change > 0
        better = up == (self.kpi.better == KPI.Better.HIGHER)
        way, judged = ("up" if up else "down"), ("better" if better else "worse")
        return f"{way} {abs(change).normalize():f}, {judged}"


def kpi_statuses(root: Position | None, *, periods: int = 12) -> list[KpiStatus]:
    """Every KPI with its last ``periods`` observations for the scope's top position (the
    whole organization's without one). Two queries."""
    kpis = list(KPI.objects.all())
    observations = KPIObservation.objects.filter(of_scope(root))
    history: dict[int, list[KPIObservation]] = defaultdict(list)
    for observation in observations.order_by("kpi_id", "-period_start"):
        if len(history[observation.kpi_id]) < periods:
            history[observation.kpi_id].append(observation)
    return [KpiStatus(kpi, list(reversed(history.get(kpi.pk, [])))) for kpi in kpis]


# -- trends -----------------------------------------------------------------------------


def snapshots(root: Position | None, *, limit: int = 90) -> list[HeadcountSnapshot]:
    """The scope's snapshots, oldest first (the last ``limit``). One query."""
    kept = HeadcountSnapshot.objects.filter(of_scope(root))
    return list(reversed(kept.defer("breakdown").order_by("-taken_at")[:limit]))


def snapshot_as_of(root: Position | None, day: datetime.date) -> HeadcountSnapshot | None:
    """The scope's last snapshot taken on or before ``day``."""
    kept = HeadcountSnapshot.objects.filter(
        of_scope(root),
        taken_at__date__lte=day,
    )
    return kept.order_by("-taken_at").first()
