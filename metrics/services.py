"""Changes owned by the metrics app: the framework catalogue load, observations, snapshots."""

import datetime
from collections import Counter
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from metrics import framework as kpi_framework
from metrics.models import KPI, HeadcountSnapshot, KPIObservation
from roles import framework as role_framework
from staffing.models import Position
from tiers import framework as tier_framework


def framework_load(*, reset: bool = False) -> Counter:
    """Load the default tiers, squads, roles, paths, span rules, skills and KPIs.

    Idempotent: missing rows are created; rows edited locally are kept unless ``reset``.
    Returns a count of outcomes per kind of row.
    """
    outcome: Counter = Counter()
    with transaction.atomic():
        tier_framework.load(reset=reset, outcome=outcome)
        role_framework.load(reset=reset, outcome=outcome)
        kpi_framework.load(reset=reset, outcome=outcome)
    return outcome


def kpi_observation_record(
    *,
    kpi: KPI,
    period_start: datetime.date,
    period_end: datetime.date,
    value: Decimal,
    scope: Position | None = None,
    note: str = "",
) -> KPIObservation:
    with transaction.atomic():
        observation = KPIObservation(
            kpi=kpi,
            scope=scope,
            period_start=period_start,
            period_end=period_end,
            value=value,
            note=note,
        )
        observation.full_clean()
        observation.save()
    return observation


def headcount_snapshot_take(
    *, scope: Position | None = None, taken_at: datetime.datetime | None = None
) -> HeadcountSnapshot:
    """Count the positions of ``scope`` (or the whole organization) and keep the result: the
    totals and, per tier, role, location and squad, filled, open and planned with the names
    as they were (two queries and the insert)."""
    from metrics.dashboard import headcount

    if scope is not None:
        scope = Position.objects.get(pk=scope.pk)
    count = headcount(scope)
    breakdown = {
        key: {
            group.key: {
                "name": group.name,
                "filled": group.filled,
                "open": group.open,
                "planned": group.planned,
                "total": group.total,
                **({"colour": group.colour, "rank": group.rank} if key == "tier" else {}),
            }
            for group in groups
        }
        for key, groups in count.by.items()
    }
    totals = count.totals
    with transaction.atomic():
        snapshot = HeadcountSnapshot.objects.create(
            taken_at=taken_at or timezone.now(),
            scope=scope,
            scope_title=scope.title if scope else "",
            total=totals.total,
            filled=totals.filled,
            open=totals.open,
            planned=totals.planned,
            breakdown=breakdown,
        )
    return snapshot


class ImportRefused(Exception):
    """An import that changed nothing, with every problem found: (row, column, message)."""

    def __init__(self, problems: list[tuple[int, str, str]]):
        super().__init__(f"{len(problems)} problem(s); nothing was imported.")
        self.problems = problems


OBSERVATION_COLUMNS = ("kpi", "period_start", "period_end", "value", "scope", "note")


def kpi_observations_import(*, actor, rows: list[dict], replace: bool = False) -> tuple[int, int]:
    """Record KPI observations from CSV rows (``kpi`` code, ``period_start``, ``period_end``,
    ``value``, optional ``scope`` position id, optional ``note``): all of them or none.

    Every row is checked before anything is written; any problem raises ImportRefused with
    all of them by row (the header is row 1). A value already recorded for the same KPI, team
    and period is a problem unless ``replace``. Returns (created, replaced)."""
    from staffing.scope import scope_for

    problems: list[tuple[int, str, str]] = []
    kpis = {kpi.code: kpi for kpi in KPI.objects.all()}
    scope = scope_for(actor)
    ids = {r.get("scope", "").strip() for r in rows if (r.get("scope") or "").strip().isdigit()}
    positions = {str(p.pk): p for p in Position.objects.filter(pk__in=ids)}
    seen: dict[tuple, int] = {}
    ready: list[KPIObservation] = []
    for number, row in enumerate(rows, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        kpi = kpis.get(row.get("kpi", ""))
        if kpi is None:
            problems.append((number, "kpi", f"Unknown KPI code “{row.get('kpi', '')}”."))
        dates = {}
        for column in ("period_start", "period_end"):
            try:
                dates[column] = datetime.date.fromisoformat(row.get(column, ""))
            except ValueError:
                problems.append((number, column, "Give a date as YYYY-MM-DD."))
        try:
            value = Decimal(row.get("value", "").replace(",", ""))
            if not value.is_finite():
                raise ArithmeticError
        except (ArithmeticError, ValueError):
            value = None
            problems.append((number, "value", "Give a number, such as 4.6 or 75."))
        position = None
        if row.get("scope"):
            position = positions.get(row["scope"])
            if position is None or not scope.can_see(position):
                problems.append(
                    (number, "scope", f"No position {row['scope']} in the part you can see.")
                )
                position = None
        if kpi is None or len(dates) < 2 or value is None:
            continue
        observation = KPIObservation(
            kpi=kpi,
            scope=position,
            period_start=dates["period_start"],
            period_end=dates["period_end"],
            value=value,
            note=row.get("note", "")[:200],
        )
        try:
            observation.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as invalid:
            for column, messages in invalid.message_dict.items():
                problems += [(number, column, message) for message in messages]
            continue
        key = (kpi.pk, getattr(position, "pk", None), observation.period_start)
        if key in seen:
            problems.append(
                (number, "period_start", f"Same KPI, team and period as row {seen[key]}.")
            )
            continue
        seen[key] = number
        ready.append(observation)
    existing = set()
    if ready:
        match = Q()
        for o in ready:
            match |= Q(kpi=o.kpi, scope=o.scope, period_start=o.period_start)
        existing = set(
            KPIObservation.objects.filter(match).values_list("kpi_id", "scope_id", "period_start")
        )
    if existing and not replace:
        for o in ready:
            if (o.kpi_id, o.scope_id, o.period_start) in existing:
                problems.append(
                    (seen[(o.kpi_id, o.scope_id, o.period_start)], "period_start",
                     "A value is already recorded for this KPI, team and period (tick "
                     "“replace” to overwrite it).")
                )  # fmt: skip
    if problems:
        raise ImportRefused(sorted(problems))
    replaced = 0
    with transaction.atomic():
        for o in ready:
            if (o.kpi_id, o.scope_id, o.period_start) in existing:
                KPIObservation.objects.filter(
                    kpi=o.kpi, scope=o.scope, period_start=o.period_start
                ).update(period_end=o.period_end, value=o.value, note=o.note)
                replaced += 1
            else:
                o.save()
    return len(ready) - replaced, replaced
