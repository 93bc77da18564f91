"""What the director dashboard shows, worked out from the organization in a fixed number of
queries whatever its size.

* Headcount: one GROUP BY over the scope by (tier, role, location, squad, status), rolled up
  here into each dimension, the totals and the tier shares.
* Structure: one GROUP BY of direct reports per manager in the scope and one list of the
  positions whose role has a span rule; distributions are judged against the rules.
* Findings: open findings of the scope (span of control, entry squad, triage) by kind and
  severity, the worst listed.
* Growth advisories: read from the figures above (no query of their own).
* KPIs and trends: the catalogue's targets against observations, and headcount snapshots.
"""

import datetime
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from metrics import periods
from metrics.models import KPI, HeadcountSnapshot, KPIObservation
from orgdesign.kernel.words import a_or_an
from roles.models import SpanLimit, SpanRule
from staffing import capacity
from staffing.models import Finding, Position, staffing_locations, subtree_q, team_size_of
from staffing.selectors import Group, Headcount
from staffing.selectors import headcount as count_positions
from staffing.spans import engine
from tiers.models import FRONT_LINE_KINDS, Tier

STATUSES = ("filled", "open", "planned")
DIMENSIONS = {
    "tier": "Tier",
    "role": "Role",
    "location": "Location",
    "squad": "Squad",
}
FRONT_LINE = FRONT_LINE_KINDS  # one definition: tiers.models

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


# -- the whole organization's mix, which advice on a part weighs ----------------------------


@dataclass
class Mix:
    """Positions by tier (all of them) and by squad (all, and filled), keyed by id: the
    figures the tier shares and the growth advice read."""

    tiers: dict[int, int]
    squads: dict[int, tuple[int, int]]  # squad id → (positions, filled)

    def in_tier(self, tier: Tier) -> int:
        return self.tiers.get(tier.pk, 0)


def mix_of(count: Headcount) -> Mix:
    """The mix of a headcount already taken (no query)."""
    return Mix(
        {g.id: g.total for g in count.by["tier"] if g.id is not None},
        {g.id: (g.total, g.filled) for g in count.by["squad"] if g.id is not None},
    )


def organization_mix() -> Mix:
    """The whole organization's positions by tier and squad: one GROUP BY."""
    rows = (
        Position.objects.order_by()
        .values_list("role__tier_id", "squad_id")
        .annotate(n=Count("id"), filled=Count("id", filter=Q(status=Position.Status.FILLED)))
    )
    tiers: Counter = Counter()
    squads: dict[int, tuple[int, int]] = {}
    for tier_id, squad_id, n, filled in rows:
        tiers[tier_id] += n
        if squad_id is not None:
            total, full = squads.get(squad_id, (0, 0))
            squads[squad_id] = (total + n, full + filled)
    return Mix(dict(tiers), squads)


def part_differences(part: Mix, org: Mix, tiers: list[Tier], *, whose: str) -> list[str]:
    """Where a part of the organization lacks a tier the organization has: one sentence per
    tier, so nobody is told to build what already exists elsewhere. ``whose``: "Your part"
    or "This part"."""
    said = []
    for tier in tiers:
        if not tier.staffed or tier.kind not in (*FRONT_LINE, Tier.Kind.OPERATIONS):
            continue
        here, everywhere = part.in_tier(tier), org.in_tier(tier)
        if here == 0 and everywhere > 0:
            said.append(
                f"{whose} has no {tier.name} positions; the organization has {everywhere}, "
                "in other parts of it."
            )
    return said


# -- tiers against the framework ----------------------------------------------------------


def _percent(n: int, total: int) -> float:
    return round(100 * n / total, 1) if total else 0.0


@dataclass
class TierShare:
    name: str
    colour: str
    positions: int
    share: float  # % of front-line positions of the scope
    low: Decimal | None
    high: Decimal | None
    # the whole organization's, when the scope is a part of it (None: the scope is all of it)
    org_positions: int | None = None
    org_share: float | None = None

    @property
    def judged_share(self) -> float:
        """The share held against the framework: the whole organization's, since the
        framework's shares are of the organization's volume, not of one part's."""
        return self.share if self.org_share is None else self.org_share

    @property
    def verdict(self) -> str:
        if self.low is None and self.high is None:
            return "no figure in the framework"
        if self.low is not None and self.judged_share < self.low:
            return "below the framework"
        if self.high is not None and self.judged_share > self.high:
            return "above the framework"
        return "within the framework"

    @property
    def expected(self) -> str | None:
        if self.low is None and self.high is None:
            return None
        low = f"{self.low.normalize():f}" if self.low is not None else "0"
        high = f"{self.high.normalize():f}" if self.high is not None else "100"
        return f"{low}–{high} %"


def tier_shares(count: Headcount, tiers: list[Tier], org: Mix | None = None) -> list[TierShare]:
    """Each front-line tier's share of the front-line positions, against the framework's
    share of volume for it (Tier 3: 5–10 %). Headcount stands in for volume here. With
    ``org`` (the scope is a part), the organization's shares too, and the verdict is theirs."""
    part = mix_of(count)
    front = [tier for tier in tiers if tier.kind in FRONT_LINE and tier.staffed]
    total = sum(part.in_tier(t) for t in front)
    org_total = sum(org.in_tier(t) for t in front) if org is not None else 0
    shares = []
    for tier in front:
        n = part.in_tier(tier)
        share = TierShare(
            tier.name, tier.colour, n, _percent(n, total), tier.volume_share_min,
            tier.volume_share_max,
        )  # fmt: skip
        if org is not None:
            share.org_positions = org.in_tier(tier)
            share.org_share = _percent(share.org_positions, org_total)
        shares.append(share)
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
    # per position, the ways its kinds of report break the rule's limits per kind (the
    # engine's TOO_FEW_DIRECT / TOO_MANY_DIRECT), and those limits in words
    kinds: list[set[str]] = field(default_factory=list)
    kinds_text: str = ""

    @property
    def positions(self) -> int:
        return len(self.direct)

    def _judge(
        self, values: list[int], low: int | None, high: int | None, kinds: list[set] = ()
    ) -> dict:
        """How many values are below, within and above ``low``–``high``; with ``kinds``, a
        position whose kinds of report break their limits counts as below or above too."""
        kinds = kinds or [set()] * len(values)
        above = sum(
            1
            for v, broken in zip(values, kinds, strict=True)
            if (high is not None and v > high) or engine.Kind.TOO_MANY_DIRECT in broken
        )
        below = sum(
            1
            for v, broken in zip(values, kinds, strict=True)
            if not ((high is not None and v > high) or engine.Kind.TOO_MANY_DIRECT in broken)
            and ((low is not None and v < low) or engine.Kind.TOO_FEW_DIRECT in broken)
        )
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
        """The direct reports against the rule's own limits and its limits per kind of
        report; ``range`` is the rule's own, ``kinds`` those per kind, in words."""
        judged = self._judge(self.direct, self.rule.min_direct, self.rule.max_direct, self.kinds)
        return {**judged, "kinds": self.kinds_text}

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
    """Per role with a span rule: the direct reports (on the rule's basis), how they stand
    against the limits per kind of report, and whole-team size of each of its positions in
    the scope. Four queries (rules, their limits, managers, report counts by role)."""
    rules = {rule.role_id: rule for rule in SpanRule.objects.select_related("role")}
    if not rules:
        return []
    limits = engine.load_limits()
    positions = scope_positions(root)
    managers = list(
        positions.filter(role_id__in=rules).values_list(
            "pk", "role_id", "tree_id", "lft", "rght", "trees_under"
        )
    )
    # every manager's reports lie inside the scope: one pass over it, grouped by manager
    per_parent = (
        positions.filter(parent__isnull=False)
        .order_by()
        .values_list("parent_id", "role_id")
        .annotate(n=Count("id"), nf=Count("holder_id"))
    )
    by_role: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for parent, role_id, n, nf in per_parent if managers else ():
        by_role[parent].append((role_id, n, nf))
    figures = {
        pk: SpanFigures(
            rule.role.name,
            rule.role.code,
            rule,
            kinds_text="; ".join(
                SpanLimit.limit_text(limit.name, limit.min_count, limit.max_count)
                for limit in limits.get(rule.pk, ())
            ),
        )
        for pk, rule in rules.items()
    }
    filled = {role_id: rule.counts == SpanRule.Counts.FILLED for role_id, rule in rules.items()}
    for pk, role_id, tree_id, lft, rght, under in managers:  # tens of thousands at 100k: lean
        row, kids = figures[role_id], by_role.get(pk, ())
        row.direct.append(sum(kid[2 if filled[role_id] else 1] for kid in kids))
        row.team.append(team_size_of(pk, tree_id, lft, rght, under))
        per_kind = limits.get(row.rule.pk)
        if per_kind:
            counted = engine.kind_counts(per_kind, kids)
            row.kinds.append({c.broken(row.rule.counts) for c in counted} - {None})
        else:
            row.kinds.append(set())
    used = [f for f in figures.values() if f.direct]
    return sorted(used, key=lambda f: (f.rule.role.level, f.role))


# -- findings ---------------------------------------------------------------------------


@dataclass
class FindingSummary:
    by_kind: list[dict]  # kind label, per severity, total
    worst: list[Finding]
    total: int


def findings(root: Position | None, *, worst: int = 10) -> FindingSummary:
    """Open findings of the scope by kind and severity (one query) and the worst few (one
    query): on its positions (span of control, entry squad), and on the locations where it
    has people (triage)."""
    open_ = Finding.objects.open()
    if root is not None:
        staffed = staffing_locations(Position.objects.subtree_of(root))
        open_ = open_.filter(
            subtree_q(root, prefix="position__") | Q(position__isnull=True, location__in=staffed)
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
    listed = list(open_.by_severity().select_related("position", "location")[:worst])
    rows = sorted(table.values(), key=lambda r: (-r["critical"], -r["total"], r["label"]))
    return FindingSummary(rows, listed, sum(r["total"] for r in rows))


# -- growth advisories ------------------------------------------------------------------


@dataclass
class Advisory:
    title: str
    advice: str
    figure: str  # the number that set it off


def advisories(
    count: Headcount, tiers: list[Tier], org: Mix | None = None, *, whose: str = "Your part"
) -> list[Advisory]:
    """Signs that the organization has reached a growth point. ``count`` is the scope's
    headcount; ``org`` the whole organization's mix when the scope is a part of it: tiers,
    support operations, triage and squads are judged on the whole organization (a part need
    not hold every tier), and a figure names the part's own number where it differs."""
    found: list[Advisory] = []
    part = mix_of(count)
    whole = org if org is not None else part
    is_part = org is not None
    front = [t for t in tiers if t.kind in FRONT_LINE and t.staffed]

    def where(n_org: int, n_part: int) -> str:
        """After the organization's figure: the part's, when the scope is a part."""
        if not is_part:
            return ""
        return (
            f" (all in {whose.lower()})" if n_org == n_part else f" ({n_part} in {whose.lower()})"
        )

    in_org = " in the organization" if is_part else ""
    agents = sum(whole.in_tier(t) for t in front)
    operations = sum(whole.in_tier(t) for t in tiers if t.kind == Tier.Kind.OPERATIONS)
    if agents >= OPS_TEAM_AT_AGENTS and operations == 0:
        found.append(
            Advisory(
                "A support-operations team is due",
                "With this many agents, keeping workflows, tools, reporting and training in "
                "order is a job of its own. Give it to a support-operations team rather than "
                "taking an agent off the queue for it.",
                f"{agents} front-line positions{where(agents, sum(part.in_tier(t) for t in front))}"
                f" and none in support operations{in_org} (the usual point is about "
                f"{OPS_TEAM_AT_AGENTS}).",
            )
        )
    present = [t for t in front if whole.in_tier(t)]
    if present:
        top = max(present, key=lambda t: t.rank)
        nxt = next((t for t in front if t.rank > top.rank), None)
        size = whole.in_tier(top)
        if nxt is not None and size >= NEW_TIER_AT_AGENTS:
            found.append(
                Advisory(
                    f"Consider {a_or_an(nxt.name)} tier",
                    f"Once a queue this large holds both quick answers and long investigations, "
                    f"the long ones slow everyone down. Let {top.name} keep the quick work and "
                    f"send the hard cases to a tier of their own.",
                    f"{size} positions in {top.name}{where(size, part.in_tier(top))}, the highest "
                    f"tier{in_org or ' here'}; none in {nxt.name}.",
                )
            )
    # a squad of this scope rests on one person when one person holds it in the whole org
    squads = [g for g in count.by["squad"] if g.id is not None]
    alone = [g for g in squads if whole.squads.get(g.id, (0, 0))[1] == GO_TO_PERSON]
    if alone:
        names = ", ".join(g.name for g in alone[:5]) + (" …" if len(alone) > 5 else "")
        found.append(
            Advisory(
                "Areas that rest on one person",
                "When a single go-to person holds an area's knowledge, it does not scale and "
                "stops when they are away. Add specialists to the area or train a second one.",
                f"{len(alone)} squad{'s' if len(alone) != 1 else ''} with exactly one filled "
                f"position{in_org}: {names}.",
            )
        )
    areas = [pk for pk, (total, _) in whole.squads.items() if total]
    triaging = [t for t in tiers if t.triages and whole.in_tier(t)]
    if len(areas) >= TRIAGE_AT_AREAS and not triaging:
        found.append(
            Advisory(
                "Add a triage step",
                "With work spread over several specialist areas, incoming cases need someone "
                "to sort them and route each to the people who can solve it.",
                f"{len(areas)} specialist areas{in_org} and no positions in a tier that triages.",
            )
        )
    return found


def of_scope(root: Position | None) -> Q:
    """Rows recorded for ``root``'s team (its ``scope``), or for the whole organization."""
    return Q(scope=root) if root is not None else Q(scope__isnull=True)


# -- KPIs -------------------------------------------------------------------------------


@dataclass
class KpiStatus:
    kpi: KPI
    history: list[KPIObservation]  # oldest first, the last few periods
    review: periods.Review | None = None  # whether its last complete period has a value

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


def kpi_statuses(
    root: Position | None, *, count: int = 12, today: datetime.date | None = None
) -> list[KpiStatus]:
    """Every KPI with its last ``count`` observations for the scope's top position (the
    whole organization's without one), and whether its review is due by its review period
    on ``today``. Two queries."""
    today = today or timezone.localdate()
    kpis = list(KPI.objects.all())
    observations = KPIObservation.objects.filter(of_scope(root))
    history: dict[int, list[KPIObservation]] = defaultdict(list)
    for observation in observations.order_by("kpi_id", "-period_start"):
        if len(history[observation.kpi_id]) < count:
            history[observation.kpi_id].append(observation)
    out = []
    for kpi in kpis:
        status = KpiStatus(kpi, list(reversed(history.get(kpi.pk, []))))
        last_end = max((o.period_end for o in status.history), default=None)
        status.review = periods.review_of(kpi.review_period, last_end, today)
        out.append(status)
    return out


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
