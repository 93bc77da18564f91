"""Demo performance data: monthly CSAT for the demo organization's people, so that promotion
readiness has something to judge. Demo data only; real values come from the admin."""

import datetime
import random

from django.utils import timezone

from metrics.models import PerformanceObservation
from staffing.models import CriterionSignoff, Position

MONTHS = 4


def _month_starts(today: datetime.date, months: int) -> list[datetime.date]:
    first = today.replace(day=1)
    starts = []
    for _ in range(months):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
        starts.append(first)
    return sorted(starts)


def seed_performance(*, seed: int = 11, today: datetime.date | None = None) -> int:
    """CSAT for each of the last MONTHS complete months for everyone in a role with a CSAT
    target: most people near their target, some above and some below. Returns the rows."""
    rng = random.Random(seed)
    starts = _month_starts(today or timezone.localdate(), MONTHS)
    rows = []
    held = Position.objects.filter(holder__isnull=False, role__csat_target__isnull=False)
    for person_id, target in held.order_by("pk").values_list("holder_id", "role__csat_target"):
        level = float(target) + rng.choice([-5, -2, 0, 1, 2, 3])
        for start in starts:
            end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
            value = max(0.0, min(100.0, level + rng.uniform(-1.5, 1.5)))
            rows.append(
                PerformanceObservation(
                    person_id=person_id,
                    metric=PerformanceObservation.Metric.CSAT,
                    period_start=start,
                    period_end=end,
                    value=round(value, 1),
                    sample_size=rng.randint(20, 120),
                )
            )
    PerformanceObservation.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)


def seed_signoffs(*, seed: int = 13, share: float = 0.6) -> int:
    """Sign off the further criteria for about ``share`` of the people who meet everything
    else on a path, in their manager's name, so the demo shows some people ready now."""
    from metrics.readiness import readiness

    rng = random.Random(seed)
    now = timezone.now()
    rows = []
    for judged in readiness(Position.objects.select_related("parent__holder")):
        manager = judged.position.parent.holder if judged.position.parent else None
        for step in judged.paths:
            others = [c for c in step.missing if c.kind != "criterion"]
            if others or not step.missing or rng.random() > share:
                continue
            rows += [
                CriterionSignoff(
                    person=judged.person,
                    path=step.path,
                    criterion=c.label,
                    signed_by_name=manager.full_name if manager else "",
                    signed_at=now,
                )
                for c in step.missing
            ]
    CriterionSignoff.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
