"""The demo organization's metrics: monthly CSAT for its people (so that promotion
readiness has something to judge), a year of nightly headcount snapshots (so the
dashboard's trends draw) and KPI observations for recent periods. Demo data only; real
values come from the admin, the uploads and the nightly task."""

import bisect
import datetime
import random
from collections import Counter

from django.utils import timezone

from metrics.models import HeadcountSnapshot, PerformanceObservation
from metrics.periods import closed_periods
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


# --- a year of nightly snapshots, from the same past as the history ---------------------------

SNAPSHOT_HOUR = 3  # when the nightly snapshot runs (CELERY_BEAT_SCHEDULE)


def seed_snapshots(past: dict, *, now: datetime.datetime | None = None) -> int:
    """The nightly snapshots the task would have taken over the demo's past (``past``, from
    :func:`demo.past.demo_past`): the whole organization and every scope the task
    snapshots, each night from the day after history began, counted from the positions
    that existed then in the state they were in, through the same counting and the same
    snapshot fields as :func:`metrics.services.headcount_snapshot_take`. Returns the rows."""
    from metrics.services import snapshot_of
    from metrics.tasks import snapshot_scopes
    from staffing.selectors import count_rows, headcount_names

    now = now or timezone.now()
    rows = list(
        Position.objects.values_list(
            "pk", "role_id", "location_id", "squad_id", "status", "tree_id", "lft", "rght"
        )
    )
    scopes = [None, *Position.objects.filter(pk__in=snapshot_scopes()).order_by("pk")]

    def within(scope, row) -> bool:
        if row[5] != scope.tree_id:
            return row[5] in trees[scope.pk]
        return scope.lft <= row[6] and row[7] <= scope.rght

    trees = {s.pk: {t for t, _ in s.trees_below()} for s in scopes if s is not None}
    members = {
        None: [row[:5] for row in rows],
        **{
            scope.pk: [row[:5] for row in rows if within(scope, row)]
            for scope in scopes
            if scope is not None
        },
    }
    names = headcount_names()
    first = min(story.created for story in past.values()).date()
    day = first + datetime.timedelta(days=1)
    # the counts change only when a position opens or is filled: counted once per change
    changes = sorted(
        {story.created for story in past.values()}
        | {story.filled for story in past.values() if story.filled}
    )
    counted: dict[tuple, object] = {}
    kept = []
    while True:
        taken_at = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(SNAPSHOT_HOUR)),
            timezone.get_current_timezone(),
        )
        if taken_at > now:
            break
        for scope in scopes:
            if scope is not None and past[scope.pk].at(taken_at, scope.status) is None:
                continue  # that team's top position did not exist yet
            key = (getattr(scope, "pk", None), bisect.bisect_right(changes, taken_at))
            if key not in counted:
                grouped: Counter = Counter()
                for pk, role_id, location_id, squad_id, status in members[key[0]]:
                    then = past[pk].at(taken_at, status)
                    if then is not None:
                        grouped[(role_id, location_id, squad_id, then)] += 1
                counted[key] = count_rows([(*k, n) for k, n in grouped.items()], names)
            kept.append(snapshot_of(counted[key], scope=scope, taken_at=taken_at))
        day += datetime.timedelta(days=1)
    HeadcountSnapshot.objects.bulk_create(kept, batch_size=1000)
    return len(kept)


# --- KPI observations for recent periods -----------------------------------------------------

# code: (lowest and highest starting value, step per period, decimals, measured per team)
KPI_VALUES = {
    "fcr": ((70, 80), 1.5, 1, True),
    "csat": ((4.3, 4.75), 0.06, 2, True),
    "nps": ((35, 58), 4, 0, False),
    "aht": ((6.8, 9.2), 0.35, 1, True),
    "sla": ((92, 98.5), 0.8, 1, True),
    "resolution-time": ((15, 30), 2.0, 1, True),
    "self-service": ((32, 44), 1.2, 1, False),
    "kb-use": ((52, 68), 1.5, 1, True),
    "retention": ((93.5, 97.5), 0.5, 1, False),
    "cost-share": ((6.5, 9), 0.3, 1, False),
    "asat": ((3.6, 4.4), 0.1, 2, False),
}
PERIODS = {"weekly": 12, "monthly": 12, "quarterly": 4, "yearly": 2}
KPI_TEAM_ROLES = ("vp", "director", "senior-advocate-manager", "advocate-manager")


def seed_kpis(*, actor, seed: int = 19, today: datetime.date | None = None) -> int:
    """KPI observations for the last complete periods of each KPI (12 months, 4 quarters,
    2 years): the whole organization's for every KPI, and for the teams of the support
    leaders (the VP, directors and managers of agents) the KPIs measured per team. Values
    start near the target and wander from period to period, some on target, some not.
    Recorded through :func:`metrics.services.kpi_observations_import`, one team at a time,
    as an upload would record them. Returns the rows."""
    from metrics.models import KPI
    from metrics.services import kpi_observations_import

    today = today or timezone.localdate()
    rng = random.Random(seed)
    kpis = [kpi for kpi in KPI.objects.order_by("code") if kpi.code in KPI_VALUES]
    teams = Position.objects.filter(role__code__in=KPI_TEAM_ROLES)
    recorded = 0
    for scope in [None, *teams.order_by("pk")]:
        rows = []
        for kpi in kpis:
            (low, high), step, decimals, per_team = KPI_VALUES[kpi.code]
            if scope is not None and not per_team:
                continue
            value = rng.uniform(low, high)
            for first, last in closed_periods(kpi.review_period, today, PERIODS[kpi.review_period]):
                value = min(max(value + rng.uniform(-step, step), low - step), high + step)
                rows.append(
                    {
                        "kpi": kpi.code,
                        "period_start": first.isoformat(),
                        "period_end": last.isoformat(),
                        "value": f"{value:.{decimals}f}",
                        "scope": str(scope.pk) if scope else "",
                    }
                )
        created, _ = kpi_observations_import(actor=actor, rows=rows, replace=True)
        recorded += created
    return recorded
