"""The span-of-control engine: every SpanRule judged against the reporting tree (reads only).

:func:`evaluate` measures a set of positions (or the whole organization) in a fixed number of
queries, whatever the organization's size:

1. the span rules with their allowed reports (2 queries),
2. the positions judged: those whose role has a rule (1),
3. direct reports per position, all and filled: one GROUP BY (1),
4. filled positions in each whole team, from the tree's lft/rght (1; on PostgreSQL a binary
   search in one sorted array of the filled positions' lft values per tree),
5. direct reports whose role their manager's rule does not allow (1).

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
from roles.models import SpanRule
from staffing.models import Finding, Position

Kind, Severity, Basis = Finding.Kind, Finding.Severity, Finding.Basis
MANAGER_KINDS = Finding.SPAN_KINDS - {Kind.REPORT_NOT_ALLOWED}


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


def severity_for(value: int, low: int | None, high: int | None) -> str:
    """Critical when the value is half the limit or more outside it; a warning otherwise."""
    if high is not None and value > high:
        gap = (value - high) / max(high, 1)
    else:
        gap = (low - value) / max(low, 1)
    return Severity.CRITICAL if gap >= 0.5 else Severity.WARNING


def judge(m: Measured, rule: Rule) -> list[Computed]:
    """The findings of one manager position under its role's rule."""
    found: list[Computed] = []
    base = {"position_id": m.id, "position_title": m.title, "rule_id": rule.id}
    basis = rule.counts
    counting = "vacancies included" if basis == Basis.ALL else "filled positions only"
    figures = (
        ("direct", m.direct_all, m.direct_filled, rule.min_direct, rule.max_direct),
        ("team", m.team_all, m.team_filled, rule.min_team, rule.max_team),
    )
    for what, all_, filled, low, high in figures:
        value = all_ if basis == Basis.ALL else filled
        if low is not None and value < low:
            kind = Kind.TOO_FEW_DIRECT if what == "direct" else Kind.TEAM_TOO_SMALL
        elif high is not None and value > high:
            kind = Kind.TOO_MANY_DIRECT if what == "direct" else Kind.TEAM_TOO_LARGE
        else:
            continue
        limits = SpanRule.range_display(low, high)
        if what == "direct":
            text = (
                f"{plural(value, 'direct report')}; {a_or_an(rule.role_name)} should have {limits} "
                f"({counting})."
            )
        else:
            text = (
                f"A team of {value} in all; {a_or_an(rule.role_name)}'s whole team should be "
                f"{limits} ({counting})."
            )
        found.append(
            Computed(
                **base,
                kind=kind,
                severity=severity_for(value, low, high),
                message=text,
                basis=basis,
                measured=value,
                measured_all=all_,
                measured_filled=filled,
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


def load_rules() -> dict[int, Rule]:
    """Span rules by the id of their role (2 queries)."""
    rules = {}
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
        )
    return rules


# A row per judged position: id, title, role id, filled, direct reports (all, filled), whole
# team (all, filled), and the roles among its direct reports that its rule does not allow.
Row = tuple[int, str, int, bool, int, int, int, int, list[int]]

_PG_MEASURE = """
WITH rules AS (
    SELECT r.id, r.role_id, r.min_direct, r.max_direct, r.min_team, r.max_team,
           coalesce(array_agg(a.role_id) FILTER (WHERE a.role_id IS NOT NULL), '{{}}') AS allowed
    FROM {rule} r LEFT JOIN {allowed} a ON a.spanrule_id = r.id
    GROUP BY r.id
),
judged AS (
    SELECT p.id, p.title, p.role_id, p.tree_id, p.lft, p.rght, p.trees_under,
           p.holder_id IS NOT NULL AS filled,
           r.min_direct, r.max_direct, r.min_team, r.max_team, r.allowed
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
               WHERE cardinality(j.allowed) > 0 AND NOT g.role_id = ANY(j.allowed)), '{{}}') AS bad
    FROM groups g JOIN judged j ON j.id = g.parent_id
    GROUP BY g.parent_id
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
           coalesce(d.bad, '{{}}') AS bad,
           j.min_direct, j.max_direct, j.min_team, j.max_team, j.trees_under
    FROM judged j
    LEFT JOIN direct d ON d.parent_id = j.id
    LEFT JOIN filled f ON f.tree_id = j.tree_id
)
-- one row at least, carrying how many positions were judged (id is NULL when none is shown)
SELECT m.id, m.title, m.role_id, m.filled, m.n, m.nf, m.team, m.team_filled, m.bad, c.total,
       m.trees_under
FROM (SELECT count(*) AS total FROM judged) c
LEFT JOIN (SELECT * FROM measured {prefilter}) m ON TRUE
"""

# Only positions that may have a finding travel to Python: a superset of what judge() flags
# (any figure outside its limits on either basis, a vacancy, no filled report, a bad report).
_PG_PREFILTER = """WHERE NOT filled OR nf = 0 OR cardinality(bad) > 0 OR trees_under > 0
   OR n < min_direct OR nf < min_direct OR n > max_direct OR nf > max_direct
   OR team < min_team OR team_filled < min_team OR team > max_team OR team_filled > max_team
"""


def _measure_postgresql(ids: list[int] | None, *, prefilter: bool) -> tuple[list[Row], int]:
    """All figures in one statement; returns the rows and how many positions were judged."""
    sql = _PG_MEASURE.format(
        rule=SpanRule._meta.db_table,
        allowed=SpanRule.allowed_reports.through._meta.db_table,
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
    rows = [row[:9] for row in fetched if row[0] is not None]
    spanning = {row[0] for row in fetched if row[0] is not None and row[10]}
    return _with_trees_below(rows, spanning), fetched[0][9]


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
            row = (*row[:6], team, row[7] + filled, row[8])
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
        allowed = rules[role_id].allowed
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
    for pk, title, role_id, filled, n, nf, team, team_filled, bad in rows:
        rule = rules[role_id]
        measured = Measured(pk, title, filled, n, nf, team, team_filled)
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
