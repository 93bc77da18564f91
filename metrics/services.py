"""Changes owned by the metrics app: the framework catalogue load, observations, snapshots."""

import datetime
from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q
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
    """Count the positions of ``scope`` (or the whole organization) and keep the result."""
    queryset = Position.objects.all()
    if scope is not None:
        scope = Position.objects.get(pk=scope.pk)
        queryset = queryset.subtree_of(scope)
    status_counts = {
        row["status"]: row["n"]
        for row in queryset.order_by().values("status").annotate(n=Count("id"))
    }
    breakdown = {}
    for key, field in (
        ("tier", "role__tier__code"),
        ("role", "role__code"),
        ("location", "location__code"),
        ("squad", "squad__code"),
    ):
        rows = (
            queryset.order_by()
            .values(field)
            .annotate(
                total=Count("id"),
                filled=Count("id", filter=Q(status=Position.Status.FILLED)),
                open=Count("id", filter=Q(status=Position.Status.OPEN)),
                planned=Count("id", filter=Q(status=Position.Status.PLANNED)),
            )
        )
        breakdown[key] = {
            (row[field] or "none"): {k: row[k] for k in ("total", "filled", "open", "planned")}
            for row in rows
        }
    filled = status_counts.get(Position.Status.FILLED, 0)
    open_ = status_counts.get(Position.Status.OPEN, 0)
    planned = status_counts.get(Position.Status.PLANNED, 0)
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
