"""The span-of-control engine: every SpanRule judged against the reporting tree (reads only).

:func:`evaluate` measures a set of positions (or the whole organization) in a fixed number of
queries, whatever the organization's size:

1. the span rules with their allowed reports and their limits per kind of report (3
   queries),
2. the positions judged: those whose role has a rule (1),
3. direct reports per position and role, all and filled: one GROUP BY (1),
4. filled positions in each whole team, from the tree's lft/rght (1; on PostgreSQL a binary
   search in one sorted array of the filled positions' lft values per tree),
5. direct reports whose role their manager's rule does not allow (1).

A limit per kind of report ("2–3 team leads and/or 1–10 agents") counts the direct reports
whose role it names. Its minimum applies only when the manager has some of that kind: a
manager of agents alone is not short of team leads. Breaking one is a "too few" or "too
many direct reports" finding whose message names the kind; a position has one finding of
each kind, so the rule's own limits and those per kind that break the same way share one
(the worst one's figures, every one in the message).

:func:`judge` is the rule itself, pure arithmetic on one position's figures; drafts judge
their own trees with it. Storing what :func:`evaluate` finds is :mod:`staffing.spans.marks`'
job.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from orgdesign.kernel.words import a_or_an
from roles.models import SpanLimit, SpanRule
from staffing.models import Finding, Position

Kind, Severity, Basis = Finding.Kind, Finding.Severity, Finding.Basis
MANAGER_KINDS = Finding.SPAN_KINDS - {Kind.REPORT_NOT_ALLOWED}


@dataclass(frozen=True)
class Limit:
    """A limit on one kind of direct report (roles.SpanLimit)."""

    id: int
    name: str  # one report of the kind, singular: "team lead"
    roles: frozenset[int]
    min_count: int | None
    max_count: int | None


@dataclass(frozen=True)
class Rule:
    id: int
    role_id: int
    role_name: str
    min_direct: int | None
    max_direct: int | None
    min_team: int | None
    max_team: int | None
    counts: str
    allowed: frozenset[int]
    allowed_names: tuple[str, ...]
    limits: tuple[Limit, ...] = ()


@dataclass(frozen=True)
class Measured:
    """One judged position's figures."""

    id: int
    title: str
    filled: bool
    direct_all: int
    direct_filled: int
    team_all: int
    team_filled: int
    # the direct reports by role, as (role id, all, filled): read for the limits per kind
    by_role: tuple[tuple[int, int, int], ...] = ()

    def of_kind(self, limit: Limit) -> tuple[int, int]:
        """How many direct reports are of ``limit``'s kind: (all, filled)."""
        counted = [(n, nf) for role, n, nf in self.by_role if role in limit.roles]
        return sum(n for n, _ in counted), sum(nf for _, nf in counted)


@dataclass(frozen=True)
class Computed:
    """A finding as the rules see it now; compared with the stored open finding."""

    position_id: int
    kind: str
    position_title: str
    rule_id: int | None
    severity: str
    message: str
    basis: str = ""
    measured: int | None = None
    measured_all: int | None = None
    measured_filled: int | None = None
    allowed_min: int | None = None
    allowed_max: int | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.position_id, self.kind)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def gap(value: int, low: int | None, high: int | None) -> float:
    """How far outside its limits ``value`` is, as a share of the limit it breaks."""
    if high is not None and value > high:
        return (value - high) / max(high, 1)
    return (low - value) / max(low, 1)


def severity_for(value: int, low: int | None, high: int | None) -> str:
    """Critical when the value is half the limit or more outside it; a warning otherwise."""
    return Severity.CRITICAL if gap(value, low, high) >= 0.5 else Severity.WARNING


@dataclass(frozen=True)
class Counted:
    """A limit on direct reports and what it counts: the rule's own (every direct report)
    or one kind's (``per_kind``: a minimum applies only when there are some of that kind)."""

    noun: str  # one report, singular
    all: int
    filled: int
    low: int | None
    high: int | None
    per_kind: bool = False

    def value(self, basis: str) -> int:
        return self.all if basis == Basis.ALL else self.filled

    def broken(self, basis: str) -> str | None:
        """TOO_FEW_DIRECT, TOO_MANY_DIRECT or None."""
        value = self.value(basis)
        if self.low is not None and value < self.low and (value or not self.per_kind):
            return Kind.TOO_FEW_DIRECT
        if self.high is not None and value > self.high:
            return Kind.TOO_MANY_DIRECT
        return None

    def wanted(self, kind: str) -> str:
        """The limit in words; a kind's minimum, said where it is missed, allows none."""
        text = f"{SpanRule.range_display(self.low, self.high)} {self.noun}s"
        if self.per_kind:
            text = SpanLimit.limit_text(self.noun, self.low, self.high)
            if kind == Kind.TOO_MANY_DIRECT:
                text = text.removesuffix(" or none")
        return text


def kind_counts(limits: Iterable[Limit], by_role) -> list[Counted]:
    """Each limit per kind of report with the direct reports ``by_role`` it counts."""
    m = Measured(0, "", True, 0, 0, 0, 0, tuple(by_role))
    return [Counted(limit.name, *m.of_kind(limit), limit.min_count, limit.max_count,
                    per_kind=True) for limit in limits]  # fmt: skip


def judge(m: Measured, rule: Rule) -> list[Computed]:
    """The findings of one manager position under its role's rule."""
    found: list[Computed] = []
    base = {"position_id": m.id, "position_title": m.title, "rule_id": rule.id}
    basis = rule.counts
    counting = "vacancies included" if basis == Basis.ALL else "filled positions only"
    direct = [Counted("direct report", m.direct_all, m.direct_filled, rule.min_direct,
                      rule.max_direct), *kind_counts(rule.limits, m.by_role)]  # fmt: skip
    for kind in (Kind.TOO_FEW_DIRECT, Kind.TOO_MANY_DIRECT):
        broken = [counted for counted in direct if counted.broken(basis) == kind]
        if broken:
            found.append(_direct_finding(base, kind, broken, rule, counting))
    low, high = rule.min_team, rule.max_team
    value = m.team_all if basis == Basis.ALL else m.team_filled
    if low is not None and value < low:
        kind = Kind.TEAM_TOO_SMALL
    elif high is not None and value > high:
        kind = Kind.TEAM_TOO_LARGE
    else:
        kind = None
    if kind is not None:
        text = (
            f"A team of {value} in all; {a_or_an(rule.role_name)}'s whole team should be "
            f"{SpanRule.range_display(low, high)} ({counting})."
        )
        found.append(
            Computed(
                **base,
                kind=kind,
                severity=severity_for(value, low, high),
                message=text,
                basis=basis,
                measured=value,
                measured_all=m.team_all,
                measured_filled=m.team_filled,
                allowed_min=low,
                allowed_max=high,
            )
        )
    if not m.filled:
        if m.direct_all:
            text = f"Vacant, with {plural(m.direct_all, 'direct report')} and nobody leading them."
            severity = Severity.WARNING
        else:
            text = "Vacant, and no team reports to it yet."
            severity = Severity.INFO
        found.append(
            Computed(
                **base,
                kind=Kind.MANAGER_VACANT,
                severity=severity,
                message=text,
                measured=m.direct_all,
                measured_all=m.direct_all,
                measured_filled=m.direct_filled,
            )
        )
    if m.direct_all and not m.direct_filled:
        found.append(
            Computed(
                **base,
                kind=Kind.NO_FILLED_REPORTS,
                severity=Severity.WARNING,
                message=(
                    f"All {plural(m.direct_all, 'direct report')} "
                    f"{'is a vacancy' if m.direct_all == 1 else 'are vacancies'}: "
                    "nobody is in the team yet."
                ),
                basis=Basis.FILLED,
                measured=0,
                measured_all=m.direct_all,
                measured_filled=0,
            )
        )
    return found


def _direct_finding(
    base: dict, kind: str, broken: list[Counted], rule: Rule, counting: str
) -> Computed:
    """One "too few" or "too many direct reports" finding for the limits ``broken`` the
    same way (a position has one finding of each kind): the rule's own and those per kind
    of report. Its figures are the worst one's; its message names every one."""
    basis = rule.counts
    worst = max(broken, key=lambda c: gap(c.value(basis), c.low, c.high))  # the first of ties
    manager = a_or_an(rule.role_name)
    if broken == [worst] and not worst.per_kind:  # the rule's own limit alone
        text = (
            f"{plural(worst.value(basis), 'direct report')}; {manager} should have "
            f"{SpanRule.range_display(worst.low, worst.high)} ({counting})."
        )
    else:
        have = " and ".join(plural(c.value(basis), c.noun) for c in broken)
        want = ", and ".join(c.wanted(kind) for c in broken)
        text = f"{have}; {manager} should have {want} ({counting})."
    value = worst.value(basis)
    return Computed(
        **base,
        kind=kind,
        severity=severity_for(value, worst.low, worst.high),
        message=text[:300],
        basis=basis,
        measured=value,
        measured_all=worst.all,
        measured_filled=worst.filled,
        allowed_min=worst.low,
        allowed_max=worst.high,
    )


def load_limits() -> dict[int, tuple[Limit, ...]]:
    """The limits per kind of report, by the id of their span rule (1 query)."""
    rows = SpanLimit.objects.order_by("rule_id", "pk").values_list(
        "rule_id", "pk", "name", "min_count", "max_count", "roles"
    )
    found: dict[int, dict[int, Limit]] = {}
    for rule_id, pk, name, low, high, role in rows:
        limits = found.setdefault(rule_id, {})
        limit = limits.get(pk) or Limit(pk, name, frozenset(), low, high)
        roles = limit.roles | {role} if role is not None else limit.roles
        limits[pk] = Limit(pk, name, roles, low, high)
    return {rule_id: tuple(limits.values()) for rule_id, limits in found.items()}


def load_rules() -> dict[int, Rule]:
    """Span rules by the id of their role (3 queries)."""
    rules = {}
    limits = load_limits()
    for rule in SpanRule.objects.select_related("role").prefetch_related("allowed_reports"):
        allowed = sorted(rule.allowed_reports.all(), key=lambda role: (role.level, role.name))
        rules[rule.role_id] = Rule(
            id=rule.pk,
            role_id=rule.role_id,
            role_name=rule.role.name,
            min_direct=rule.min_direct,
            max_direct=rule.max_direct,
            min_team=rule.min_team,
            max_team=rule.max_team,
            counts=rule.counts,
            allowed=frozenset(role.pk for role in allowed),
            allowed_names=tuple(role.name for role in allowed),
            limits=limits.get(rule.pk, ()),
        )
    return rules


# A row per judged position: id, title, role id, filled, direct reports (all, filled), whole
# team (all, filled), the roles among its direct reports that its rule does not allow, and
# (when its rule has limits per kind of report) its direct reports by role, all and filled.
Row = tuple[int, str, int, bool, int, int, int, int, list[int], tuple[tuple[int, int, int], ...]]

_PG_MEASURE = """
WITH rules AS (
    SELECT r.id, r.role_id, r.min_direct, r.max_direct, r.min_team, r.max_team,
           coalesce(array_agg(a.role_id) FILTER (WHERE a.role_id IS NOT NULL), '{{}}') AS allowed
    FROM {rule} r LEFT JOIN {allowed} a ON a.spanrule_id = r.id
    GROUP BY r.id
),
kind_roles AS (
    SELECT l.rule_id, l.id, l.min_count, l.max_count, lr.role_id
    FROM {limit} l JOIN {limit_roles} lr ON lr.spanlimit_id = l.id
),
judged AS (
    SELECT p.id, p.title, p.role_id, p.tree_id, p.lft, p.rght, p.trees_under,
           p.holder_id IS NOT NULL AS filled, r.id AS rule_id,
           r.min_direct, r.max_direct, r.min_team, r.max_team, r.allowed,
           EXISTS (SELECT 1 FROM kind_roles k WHERE k.rule_id = r.id) AS per_kind
    FROM {position} p JOIN rules r ON r.role_id = p.role_id
    WHERE TRUE {only_judged}
),
groups AS (
    SELECT c.parent_id, c.role_id, count(*) AS n, count(c.holder_id) AS nf
    FROM {position} c
    WHERE c.parent_id IS NOT NULL {only_children}
    GROUP BY c.parent_id, c.role_id
),
direct AS (
    SELECT g.parent_id, sum(g.n)::int AS n, sum(g.nf)::int AS nf,
           coalesce(array_agg(g.role_id) FILTER (
               WHERE cardinality(j.allowed) > 0 AND NOT g.role_id = ANY(j.allowed)), '{{}}') AS bad,
           array_agg(ARRAY[g.role_id, g.n, g.nf] ORDER BY g.role_id) FILTER (WHERE j.per_kind)
               AS by_role
    FROM groups g JOIN judged j ON j.id = g.parent_id
    GROUP BY g.parent_id
),
kinds AS (
    -- direct reports per kind of report, where a rule has limits per kind
    SELECT g.parent_id, sum(g.n) AS n, sum(g.nf) AS nf, k.min_count AS lo, k.max_count AS hi
    FROM groups g JOIN judged j ON j.id = g.parent_id
    JOIN kind_roles k ON k.rule_id = j.rule_id AND k.role_id = g.role_id
    GROUP BY g.parent_id, k.id, k.min_count, k.max_count
),
kinds_out AS (
    -- a minimum per kind applies only when some of that kind report (on either basis)
    SELECT DISTINCT parent_id FROM kinds
    WHERE n > hi OR nf > hi OR (n > 0 AND n < lo) OR (nf > 0 AND nf < lo)
),
filled AS (
    -- the lft of every filled position, sorted, per tree: width_bucket(x, a) counts the
    -- elements <= x by binary search, so a team's filled size is two lookups, not a scan
    SELECT tree_id, array_agg(lft) AS a
    FROM (SELECT tree_id, lft FROM {position}
          WHERE holder_id IS NOT NULL {only_trees}
          ORDER BY tree_id, lft) s
    GROUP BY tree_id
),
measured AS (
    SELECT j.id, j.title, j.role_id, j.filled,
           coalesce(d.n, 0) AS n, coalesce(d.nf, 0) AS nf,
           (j.rght - j.lft - 1) / 2 AS team,
           coalesce(width_bucket(j.rght, f.a) - width_bucket(j.lft, f.a), 0) AS team_filled,
           coalesce(d.bad, '{{}}') AS bad, d.by_role, k.parent_id IS NOT NULL AS kinds_out,
           j.min_direct, j.max_direct, j.min_team, j.max_team, j.trees_under
    FROM judged j
    LEFT JOIN direct d ON d.parent_id = j.id
    LEFT JOIN filled f ON f.tree_id = j.tree_id
    LEFT JOIN kinds_out k ON k.parent_id = j.id
)
-- one row at least, carrying how many positions were judged (id is NULL when none is shown)
SELECT m.id, m.title, m.role_id, m.filled, m.n, m.nf, m.team, m.team_filled, m.bad,
       m.by_role, c.total, m.trees_under
FROM (SELECT count(*) AS total FROM judged) c
LEFT JOIN (SELECT * FROM measured {prefilter}) m ON TRUE
"""

# Only positions that may have a finding travel to Python: a superset of what judge() flags
# (any figure outside its limits on either basis, a vacancy, no filled report, a bad report,
# a kind of report outside its limits).
_PG_PREFILTER = """WHERE NOT filled OR nf = 0 OR cardinality(bad) > 0 OR trees_under > 0
   OR kinds_out OR n < min_direct OR nf < min_direct OR n > max_direct OR nf > max_direct
   OR team < min_team OR team_filled < min_team OR team > max_team OR team_filled > max_team
"""


def _measure_postgresql(ids: list[int] | None, *, prefilter: bool) -> tuple[list[Row], int]:
    """All figures in one statement; returns the rows and how many positions were judged."""
    sql = _PG_MEASURE.format(
        rule=SpanRule._meta.db_table,
        allowed=SpanRule.allowed_reports.through._meta.db_table,
        limit=SpanLimit._meta.db_table,
        limit_roles=SpanLimit.roles.through._meta.db_table,
        position=Position._meta.db_table,
        only_judged="AND p.id = ANY(%(ids)s)" if ids is not None else "",
        only_children="AND c.parent_id = ANY(%(ids)s)" if ids is not None else "",
        only_trees=(
            f"AND tree_id IN (SELECT tree_id FROM {Position._meta.db_table} "
            "WHERE id = ANY(%(ids)s))"
            if ids is not None
            else ""
        ),
        prefilter=_PG_PREFILTER if prefilter else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": ids})
        fetched = cursor.fetchall()
    rows = [
        (*row[:9], tuple(tuple(kid) for kid in row[9] or ()))
        for row in fetched
        if row[0] is not None
    ]
    spanning = {row[0] for row in fetched if row[0] is not None and row[11]}
    return _with_trees_below(rows, spanning), fetched[0][10]


def _with_trees_below(rows: list[Row], spanning: set[int]) -> list[Row]:
    """Add to the whole-team figures of the positions in ``spanning`` (those with division
    heads below: staffing.tree) the trees of those heads, which their lft/rght range does
    not hold. Two queries per such position (a VP's rule, if it had one)."""
    if not spanning:
        return rows
    fixed = []
    for row in rows:
        if row[0] in spanning:
            position = Position.objects.get(pk=row[0])
            trees = position.trees_below()
            filled = Position.objects.filter(
                tree_id__in=[tree_id for tree_id, _ in trees], holder__isnull=False
            ).count()
            team = row[6] + sum(size for _, size in trees)
            row = (*row[:6], team, row[7] + filled, *row[8:])
        fixed.append(row)
    return fixed


def _measure_portable(rules: dict[int, Rule], ids: list[int] | None) -> tuple[list[Row], int]:
    """The same figures with the ORM, for SQLite (the demo): one query per figure."""
    below = (
        Position.objects.filter(
            tree_id=OuterRef("tree_id"),
            lft__gt=OuterRef("lft"),
            lft__lt=OuterRef("rght"),
            holder__isnull=False,
        )
        .order_by()
        .values("tree_id")
        .annotate(c=Count("pk"))
        .values("c")
    )
    judged = Position.objects.filter(role_id__in=list(rules))
    groups = Position.objects.order_by().filter(parent_id__isnull=False)
    if ids is not None:
        judged = judged.filter(pk__in=ids)
        groups = groups.filter(parent_id__in=ids)
    team_filled = Coalesce(Subquery(below, output_field=IntegerField()), 0)
    positions = judged.annotate(team_filled=team_filled).values_list(
        "pk", "title", "role_id", "holder_id", "lft", "rght", "team_filled", "trees_under"
    )
    direct: dict[int, list] = {}
    for parent, role, n, nf in (
        groups.values("parent_id", "role_id")
        .annotate(n=Count("pk"), nf=Count("holder_id"))
        .values_list("parent_id", "role_id", "n", "nf")
    ):
        direct.setdefault(parent, []).append((role, n, nf))
    rows: list[Row] = []
    spanning = set()
    for pk, title, role_id, holder_id, lft, rght, filled_below, under in positions:
        if under:
            spanning.add(pk)
        allowed, per_kind = rules[role_id].allowed, rules[role_id].limits
        children = direct.get(pk, ())
        rows.append(
            (
                pk,
                title,
                role_id,
                holder_id is not None,
                sum(n for _, n, _ in children),
                sum(nf for _, _, nf in children),
                (rght - lft - 1) // 2,
                filled_below,
                [role for role, _, _ in children if allowed and role not in allowed],
                tuple(sorted(children)) if per_kind else (),
            )
        )
    return _with_trees_below(rows, spanning), len(rows)


def evaluate(
    ids: Iterable[int] | None = None, *, prefilter: bool = True
) -> tuple[dict[tuple[int, str], Computed], int]:
    """The findings the rules give now for ``ids`` (None: the whole organization).

    Manager findings are computed for the positions in ``ids`` whose role has a span rule;
    "reports where the rules do not allow it" for the direct reports of those positions and
    for the positions in ``ids`` themselves (the scope :func:`reconcile` resolves in).
    Returns the findings by (position id, kind) and how many positions were judged.
    ``prefilter=False`` sends every judged position through :func:`judge` (for tests).
    """
    ids = None if ids is None else sorted(set(ids))
    if ids == []:
        return {}, 0
    rules = load_rules()
    if not rules:
        return {}, 0
    if connection.vendor == "postgresql":
        rows, checked = _measure_postgresql(ids, prefilter=prefilter)
    else:
        rows, checked = _measure_portable(rules, ids)

    computed: dict[tuple[int, str], Computed] = {}
    misplaced = Q()
    for pk, title, role_id, filled, n, nf, team, team_filled, bad, by_role in rows:
        rule = rules[role_id]
        measured = Measured(pk, title, filled, n, nf, team, team_filled, by_role)
        for finding in judge(measured, rule):
            computed[finding.key] = finding
        if bad:
            misplaced |= Q(parent_id=pk, role_id__in=bad)
    if ids is not None:
        # A marked position is also judged as a report, against its own parent's rule: the
        # stored findings in scope include its "reports where not allowed" (see reconcile),
        # and its parent may not be marked (a rule change marks only that role's positions).
        parents_with_lists = [pk for pk, rule in rules.items() if rule.allowed]
        misplaced |= Q(pk__in=ids, parent__role_id__in=parents_with_lists)
    if misplaced:
        fields = ("pk", "title", "role_id", "role__name", "parent__title", "parent__role_id")
        for pk, title, role_id, role_name, parent_title, parent_role in Position.objects.filter(
            misplaced
        ).values_list(*fields):
            rule = rules[parent_role]
            if role_id in rule.allowed:
                continue
            finding = misplaced_finding(pk, title, role_name, parent_title, rule)
            computed[finding.key] = finding
    return computed, checked


def misplaced_finding(
    pk: int, title: str, role_name: str, parent_title: str, rule: Rule
) -> Computed:
    """The finding of a position whose role its manager's rule does not allow as a report."""
    allowed = rule.allowed_names
    shown = ", ".join(allowed[:3]) + (f" and {len(allowed) - 3} more" if len(allowed) > 3 else "")
    text = (
        f"{a_or_an(role_name, start=True)} reports to {parent_title}, "
        f"{a_or_an(rule.role_name)} position whose rule does not list {role_name} among its "
        f"direct reports (it lists {shown})."
    )
    return Computed(
        position_id=pk,
        kind=Kind.REPORT_NOT_ALLOWED,
        position_title=title,
        rule_id=rule.id,
        severity=Severity.WARNING,
        message=text[:300],
    )
