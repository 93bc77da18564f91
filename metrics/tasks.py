"""Celery entry points of the metrics app."""

from celery import shared_task
from django.db import transaction

from metrics.models import HeadcountSnapshot
from metrics.services import headcount_snapshot_take
from staffing.models import Position
from staffing.scope import SCOPED_GROUPS


def snapshot_scopes() -> list[int]:
    """The positions whose dashboards keep a trend: every top position, every position held
    by a director or manager (their dashboard's scope), and every scope snapshot before."""
    tops = Position.objects.filter(parent__isnull=True).values_list("pk", flat=True)
    led = Position.objects.filter(holder__user__groups__name__in=SCOPED_GROUPS).values_list(
        "pk", flat=True
    )
    before = (
        HeadcountSnapshot.objects.filter(scope__isnull=False)
        .values_list("scope_id", flat=True)
        .distinct()
    )
    return sorted({*tops, *led, *before})


@shared_task(acks_late=True)
def take_headcount_snapshots() -> int:
    """Snapshot the whole organization and every scope of :func:`snapshot_scopes`, all or
    nothing."""
    with transaction.atomic():
        count = 1
        headcount_snapshot_take()
        for root_id in snapshot_scopes():
            headcount_snapshot_take(scope=Position(pk=root_id))
            count += 1
    return count
