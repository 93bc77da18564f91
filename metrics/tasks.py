"""Celery entry points of the metrics app."""

from celery import shared_task
from django.db import transaction

from metrics.services import headcount_snapshot_take
from staffing.models import Position


@shared_task(acks_late=True)
def take_headcount_snapshots() -> int:
    """Snapshot the whole organization and every top-level position's tree, all or nothing."""
    with transaction.atomic():
        count = 1
        headcount_snapshot_take()
        for root_id in Position.objects.filter(parent__isnull=True).values_list("pk", flat=True):
            headcount_snapshot_take(scope=Position(pk=root_id))
            count += 1
    return count
