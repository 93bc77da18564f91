"""Changes owned by the metrics app: the framework catalogue load, observations, snapshots."""

import datetime
from collections import Counter, defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from metrics import framework as kpi_framework
from metrics.models import KPI, HeadcountSnapshot, KPIObservation
from orgdesign.kernel import days
from orgdesign.kernel.audit import audited
from orgdesign.kernel.csvfile import ImportRefused, Problem
from roles import framework as role_framework
from roles.models import Role
from staffing import services as staffing_services
from staffing.models import Person, Position
from staffing.scope import Scope, scope_for
from tiers import framework as tier_framework


@audited
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


DUPLICATE_OBSERVATION = "A value is already recorded for this KPI, team and period."
REPLACE_HINT = " Choose “replace” to overwrite it."
OBSERVATION_FIELDS = ("kpi", "scope", "period_start", "period_end", "value", "note")


def _observation_problems(scope: Scope, observation: KPIObservation) -> dict[str, list[str]]:
    """What is wrong with ``observation`` for an actor of ``scope`` (nothing: an empty dict).

    The team must be one the actor sees; a whole-organization value needs an actor who sees
    the whole organization. Uniqueness is left to the callers, which look it up in bulk."""
    problems: dict[str, list[str]] = defaultdict(list)
    if observation.scope is None:
        if not scope.sees_all:
            problems["scope"].append(
                "Name the team (its top position): only someone who sees the whole "
                "organization records organization-wide values."
            )
    elif not scope.can_see(observation.scope):
        problems["scope"].append(
            f"No position {observation.scope.pk} in the part of the organization you see."
        )
    try:
        # kpi and scope are objects already checked: no query per row for them
        observation.full_clean(
            exclude=["kpi", "scope"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as invalid:
        for column, messages in invalid.message_dict.items():
            problems[column] += messages
    return dict(problems)


def _same_period(observation: KPIObservation):
    return KPIObservation.objects.filter(
        kpi=observation.kpi, scope=observation.scope, period_start=observation.period_start
    )


def _duplicate(hint: str = "") -> ValidationError:
    """409 over the API: the request is fine, the data already holds a value there."""
    return ValidationError(
        {"period_start": ValidationError(DUPLICATE_OBSERVATION + hint, code="conflict")}
    )


def _require_visible(actor, observation: KPIObservation) -> None:
    scope = scope_for(actor)
    if not (scope.can_see(observation.scope) if observation.scope_id else scope.sees_all):
        raise PermissionDenied("That observation is outside the part of the organization you see.")


def kpi_observation_record(
    *,
    actor,
    kpi: KPI,
    period_start: datetime.date,
    period_end: datetime.date,
    value: Decimal,
    scope: Position | None = None,
    note: str = "",
    replace: bool = False,
) -> tuple[KPIObservation, bool]:
    """Record one KPI value for a team (``scope``, its top position) or the whole
    organization. A value already recorded for the same KPI, team and period is a conflict
    unless ``replace``, which overwrites it. Returns (the observation, whether it is new)."""
    observation = KPIObservation(
        kpi=kpi,
        scope=scope,
        period_start=period_start,
        period_end=period_end,
        value=value,
        note=note,
    )
    problems = _observation_problems(scope_for(actor), observation)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        existing = _same_period(observation).select_for_update().first()
        if existing is None:
            try:
                with transaction.atomic():
                    observation.save()
            except IntegrityError:  # recorded by someone else a moment ago
                existing = _same_period(observation).select_for_update().first()
            else:
                return observation, True
        if not replace:
            raise _duplicate(REPLACE_HINT)
        existing.period_end, existing.value, existing.note = period_end, value, note
        existing.save(update_fields=["period_end", "value", "note"])
    return existing, False


def kpi_observation_update(*, actor, observation: KPIObservation, **changes) -> KPIObservation:
    """Change a recorded value (or its KPI, team, period or note); the same checks as when
    it was recorded, and no second value for the same KPI, team and period."""
    unknown = set(changes) - set(OBSERVATION_FIELDS)
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        observation = KPIObservation.objects.select_for_update().get(pk=observation.pk)
        _require_visible(actor, observation)
        for name, value in changes.items():
            setattr(observation, name, value)
        problems = _observation_problems(scope_for(actor), observation)
        if problems:
            raise ValidationError(problems)
        if _same_period(observation).exclude(pk=observation.pk).exists():
            raise _duplicate()
        try:
            with transaction.atomic():
                observation.save()
        except IntegrityError:
            raise _duplicate() from None
    return observation


def kpi_observation_delete(*, actor, observation: KPIObservation) -> None:
    with transaction.atomic():
        _require_visible(actor, observation)
        observation.delete()


def headcount_snapshot_take(
    *, actor=None, scope: Position | None = None, taken_at: datetime.datetime | None = None
) -> HeadcountSnapshot:
    """Count the positions of ``scope`` (or the whole organization) and keep the result: the
    totals and, per tier, role, location and squad, filled, open and planned with the names
    as they were (two queries and the insert). A snapshot is a record kept for the part it
    counts: taken by the system (``actor`` None), admins, or a director or manager for a
    part they lead; those who only read (HR) take none."""
    from metrics.dashboard import headcount

    if scope is not None:
        scope = Position.objects.get(pk=scope.pk)
    if not scope_for(actor).can_record_for(scope):
        raise PermissionDenied(
            "Snapshots are taken by those who lead that part of the organization."
        )
    with transaction.atomic():
        snapshot = snapshot_of(headcount(scope), scope=scope, taken_at=taken_at or timezone.now())
        snapshot.save()
    return snapshot


def snapshot_of(count, *, scope: Position | None, taken_at: datetime.datetime) -> HeadcountSnapshot:
    """The snapshot (unsaved) that keeps ``count``, a :class:`staffing.selectors.Headcount`
    of ``scope``: the totals and, per tier, role, location and squad, filled, open and
    planned with the names as they were."""
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
    return HeadcountSnapshot(
        taken_at=taken_at,
        scope=scope,
        scope_title=scope.title if scope else "",
        total=totals.total,
        filled=totals.filled,
        open=totals.open,
        planned=totals.planned,
        breakdown=breakdown,
    )


OBSERVATION_COLUMNS = ("kpi", "period_start", "period_end", "value", "scope", "note")


def kpi_observations_import(
    *, actor, rows: list[dict], replace: bool = False, first_row: int = 2
) -> tuple[int, int]:
    """Record KPI observations from CSV rows (``kpi`` code, ``period_start``, ``period_end``,
    ``value``, optional ``scope`` position id, optional ``note``): all of them or none.

    Every row is checked as :func:`kpi_observation_record` checks one before anything is
    written; any problem raises ImportRefused with all of them by row (the header is row
    1). A value already recorded for the same KPI, team and period is a problem unless
    ``replace``. A fixed number of queries, however many rows. Returns (created, replaced).

    ``first_row`` numbers the first row in the problems: 2 for a CSV file (its header is
    row 1), 0 for a list of rows given over the API."""
    problems: list[tuple[int, str, str]] = []
    kpis = {kpi.code: kpi for kpi in KPI.objects.all()}
    scope = scope_for(actor)
    ids = {r.get("scope", "").strip() for r in rows if (r.get("scope") or "").strip().isdigit()}
    positions = {str(p.pk): p for p in Position.objects.filter(pk__in=ids)}
    seen: dict[tuple, int] = {}
    ready: list[KPIObservation] = []
    for number, row in enumerate(rows, start=first_row):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        kpi = kpis.get(row.get("kpi", ""))
        if kpi is None:
            problems.append((number, "kpi", f"Unknown KPI code “{row.get('kpi', '')}”."))
        dates = {}
        for column in ("period_start", "period_end"):
            try:
                dates[column] = days.read_day(row.get(column, ""))
            except days.BadDay as problem:
                problems.append((number, column, str(problem)))
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
                continue
        if kpi is None or len(dates) < 2 or value is None:
            continue
        observation = KPIObservation(
            kpi=kpi,
            scope=position,
            period_start=dates["period_start"],
            period_end=dates["period_end"],
            value=value,
            note=row.get("note", ""),
        )
        found = _observation_problems(scope, observation)
        if found:
            problems += [(number, c, m) for c, messages in found.items() for m in messages]
            continue
        key = (kpi.pk, getattr(position, "pk", None), observation.period_start)
        if key in seen:
            problems.append(
                (number, "period_start", f"Same KPI, team and period as row {seen[key]}.")
            )
            continue
        seen[key] = number
        ready.append(observation)
    existing: dict[tuple, int] = {}
    if ready:
        match = Q()
        for o in ready:
            match |= Q(kpi=o.kpi, scope=o.scope, period_start=o.period_start)
        existing = {
            (kpi_id, scope_id, start): pk
            for pk, kpi_id, scope_id, start in KPIObservation.objects.filter(match).values_list(
                "pk", "kpi_id", "scope_id", "period_start"
            )
        }
    if existing and not replace:
        for key in existing:
            problems.append((seen[key], "period_start", DUPLICATE_OBSERVATION + REPLACE_HINT))
    if problems:
        raise ImportRefused([Problem(*problem) for problem in sorted(problems)])
    with transaction.atomic():
        new = [o for o in ready if (o.kpi_id, o.scope_id, o.period_start) not in existing]
        KPIObservation.objects.bulk_create(new)
        changed = []
        for o in ready:
            pk = existing.get((o.kpi_id, o.scope_id, o.period_start))
            if pk is not None:
                o.pk = pk
                changed.append(o)
        KPIObservation.objects.bulk_update(changed, ["period_end", "value", "note"])
    return len(new), len(changed)


@audited
def person_promote(
    *,
    actor,
    person: Person,
    to_role: Role,
    position: Position | None = None,
    override_reason: str = "",
    effective: datetime.date | None = None,
):
    """Promote ``person`` along a promotion path from their current role to ``to_role``.

    The change is :func:`staffing.services.promotion_apply` (in the person's own position,
    or in ``position``, an open one of the new role), given this app's judgement of the
    path's prerequisites (:func:`metrics.readiness.promotion_readiness`): a promotion that
    is not ready now needs ``override_reason``, a sentence saying why it goes ahead anyway.
    Returns the recorded Promotion."""
    from metrics import readiness

    return staffing_services.promotion_apply(
        actor=actor,
        person=person,
        to_role=to_role,
        position=position,
        effective=effective or timezone.localdate(),
        override_reason=override_reason,
        readiness=readiness.promotion_readiness,
    )
