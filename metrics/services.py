"""Changes owned by the metrics app: the framework catalogue load, observations, snapshots."""

import datetime
from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from metrics import framework as kpi_framework
from metrics.models import KPI, HeadcountSnapshot, KPIObservation
from roles import framework as role_framework
from staffing.models import Position
from staffing.selectors import headcount_breakdown, headcount_totals
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
    """Count the positions of ``scope`` (or the whole organization) and keep the result."""
    queryset = Position.objects.all()
    if scope is not None:
        scope = Position.objects.get(pk=scope.pk)
        queryset = queryset.subtree_of(scope)
    totals = headcount_totals(queryset)
    breakdown = {
        key: {
            row["code"]: {k: row[k] for k in ("total", "filled", "open", "planned")} for row in rows
        }
        for key, rows in headcount_breakdown(queryset).items()
    }
    filled, open_, planned = totals["filled"], totals["open"], totals["planned"]
    with transaction.atomic():
        snapshot = HeadcountSnapshot.objects.create(
            taken_at=taken_at or timezone.now(),
            scope=scope,
            scope_title=scope.title if scope else "",
            total=filled + open_ + planned,
            filled=filled,
            open=open_,
            planned=planned,
            breakdown=breakdown,
        )
    return snapshot
