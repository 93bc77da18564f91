"""Read queries over people and positions."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from roles.models import Role
from staffing.models import Assignment, Finding, Person, Position

DAYS_PER_MONTH = Decimal("30.436875")  # 365.2425 / 12


def tenure_days(person: Person, role: Role, *, as_of: datetime.date | None = None) -> int:
    """Days ``person`` has spent in ``role`` up to ``as_of``; overlapping periods count once."""
    as_of = as_of or timezone.localdate()
    periods = sorted(
        (start, min(end or as_of, as_of))
        for start, end in Assignment.objects.filter(
            person=person, role=role, start_date__lte=as_of
        ).values_list("start_date", "end_date")
    )
    total, cursor = 0, None
    for start, end in periods:
        if cursor is not None and start < cursor:
            start = cursor
        if end > start:
            total += (end - start).days
        cursor = max(cursor or end, end)
    return total


def tenure_months(person: Person, role: Role, *, as_of: datetime.date | None = None) -> Decimal:
    """Months in ``role`` (average month length), to one decimal place."""
    days = tenure_days(person, role, as_of=as_of)
    return (Decimal(days) / DAYS_PER_MONTH).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


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


HEADCOUNT_GROUPS = {
    "tier": ("role__tier_id", "role__tier__code", "role__tier__name"),
    "role": ("role_id", "role__code", "role__name"),
    "location": ("location_id", "location__code", "location__name"),
    "squad": ("squad_id", "squad__code", "squad__name"),
}
STATUS_COUNTS = {
    "total": Count("id"),
    "filled": Count("id", filter=Q(status=Position.Status.FILLED)),
    "open": Count("id", filter=Q(status=Position.Status.OPEN)),
    "planned": Count("id", filter=Q(status=Position.Status.PLANNED)),
}


def headcount_breakdown(queryset) -> dict[str, list[dict]]:
    """Positions of ``queryset`` counted by tier, role, location and squad: filled, open and
    planned in each group (one GROUP BY per dimension; "none" groups positions without one)."""
    breakdown = {}
    for key, (pk, code, name) in HEADCOUNT_GROUPS.items():
        rows = queryset.order_by().values(pk, code, name).annotate(**STATUS_COUNTS)
        breakdown[key] = sorted(
            (
                {
                    "id": row[pk],
                    "code": row[code] or "none",
                    "name": row[name] or "None",
                    **{k: row[k] for k in STATUS_COUNTS},
                }
                for row in rows
            ),
            key=lambda row: (-row["total"], row["name"]),
        )
    return breakdown


def headcount_totals(queryset) -> dict[str, int]:
    """Total, filled, open and planned positions of ``queryset`` (one query)."""
    return queryset.order_by().aggregate(**STATUS_COUNTS)


def with_card_figures(queryset):
    """``queryset`` with what a position's card shows: role and tier, squad, location,
    holder and manager loaded, and ``direct_reports`` and ``open_findings`` counted, all in
    the one query (team size comes from lft/rght)."""
    direct = (
        Position.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    findings = (
        Finding.objects.open()
        .filter(position=OuterRef("pk"))
        .order_by()
        .values("position")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.select_related("role__tier", "squad", "location", "holder", "parent").annotate(
        direct_reports=Coalesce(Subquery(direct, output_field=IntegerField()), 0),
        open_findings=Coalesce(Subquery(findings, output_field=IntegerField()), 0),
    )


def open_finding_messages(position_ids) -> dict[int, list[Finding]]:
    """The open findings of these positions, most severe first (one query)."""
    found: dict[int, list[Finding]] = {}
    rows = Finding.objects.open().filter(position_id__in=list(position_ids)).by_severity()
    for finding in rows.only("position_id", "kind", "severity", "message"):
        found.setdefault(finding.position_id, []).append(finding)
    return found
