"""Promotion readiness: for each person, the next roles on their paths with every
prerequisite judged.

* **Time in role**: days in the current role from the assignment history (several stints
  add up, overlaps count once, gaps not at all) against the path's minimum months.
* **CSAT**: the person's CSAT over the last ``CSAT_WINDOW_DAYS`` (periods that end inside
  the window, weighted by surveys when given) against the current role's target.
* **Further criteria**: each line of the path's criteria, met once a manager signs it off.

A path is *ready now* when everything is met, *ready on* a date when only time in role is
short (the date it will be met), and otherwise *missing* what is unmet. Nothing is stored:
editing a path or a target changes every answer at once. One person or a whole subtree is
judged in the same fixed number of queries. A list of any size is sorted, filtered and
counted by the same rules written in SQL (:mod:`metrics.verdicts`), and only the page shown
is judged here.
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from metrics.models import PerformanceObservation
from roles.models import PromotionPath, Role
from staffing.models import Assignment, CriterionSignoff, Person, Position
from staffing.selectors import DAYS_PER_MONTH, days_in

CSAT_WINDOW_DAYS = 91  # about three months
TREE_ORDER = ("tree_id", "lft")  # people in the order of the chart, where nothing else orders

READY, READY_ON, MISSING = "ready", "ready_on", "missing"
STATUS_LABELS = {READY: "Ready now", READY_ON: "Ready on a date", MISSING: "Missing something"}
STATUS_ORDER = {READY: 0, READY_ON: 1, MISSING: 2}


@dataclass
class Check:
    kind: str  # "tenure", "csat" or "criterion"
    label: str
    met: bool | None  # None: does not apply (e.g. the role has no CSAT target)
    detail: str
    ready_on: datetime.date | None = None
    signed_by: str = ""

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "label": self.label,
            "met": self.met,
            "detail": self.detail,
            "ready_on": self.ready_on.isoformat() if self.ready_on else None,
        }


@dataclass
class PathReadiness:
    path: PromotionPath
    checks: list[Check]

    @property
    def to_role(self) -> Role:
        return self.path.to_role

    @property
    def missing(self) -> list[Check]:
        return [c for c in self.checks if c.met is False]

    @property
    def status(self) -> str:
        missing = self.missing
        if not missing:
            return READY
        if all(c.kind == "tenure" for c in missing):
            return READY_ON
        return MISSING

    @property
    def ready_on(self) -> datetime.date | None:
        if self.status != READY_ON:
            return None
        return max(c.ready_on for c in self.missing)

    @property
    def summary(self) -> str:
        status = self.status
        if status == READY:
            return "Ready now"
        if status == READY_ON:
            return f"Ready on {self.ready_on:%d %b %Y}"
        return "Missing: " + "; ".join(c.label.lower() for c in self.missing)

    # what staffing.services.promotion_apply reads of the judgement it is given
    @property
    def ready(self) -> bool:
        return self.status == READY

    def record(self) -> list[dict]:
        """The prerequisites as judged, to keep on the Promotion."""
        return [
            {"path": str(self.path), "status": self.status, **check.as_dict()}
            for check in self.checks
        ]


@dataclass
class PersonReadiness:
    person: Person
    position: Position
    role: Role
    days_in_role: int
    csat: Decimal | None
    csat_periods: int
    paths: list[PathReadiness] = field(default_factory=list)

    @property
    def months_in_role(self) -> Decimal:
        return (Decimal(self.days_in_role) / DAYS_PER_MONTH).quantize(Decimal("0.1"))

    @property
    def best(self) -> PathReadiness | None:
        """The path the person is nearest to: ready first, then the earliest date."""
        if not self.paths:
            return None
        far = datetime.date.max
        return min(
            self.paths,
            key=lambda p: (STATUS_ORDER[p.status], p.ready_on or far, len(p.missing)),
        )


def needed_days(path: PromotionPath) -> int | None:
    """Days in the from-role the path asks for (None: no minimum)."""
    if path.min_months is None:
        return None
    return math.ceil(path.min_months * DAYS_PER_MONTH)


def _tenure_check(path: PromotionPath, role: Role, days: int, as_of) -> Check:
    months = (Decimal(days) / DAYS_PER_MONTH).quantize(Decimal("0.1"))
    needed = needed_days(path)
    if needed is None:
        return Check("tenure", "Time in role", None, f"No minimum; {months} months so far.")
    about = "about " if path.approximate else ""
    wanted = f"{about}{path.min_months} months as {role.name}"
    if days >= needed:
        return Check("tenure", "Time in role", True, f"{months} months; {wanted} needed.")
    ready_on = as_of + datetime.timedelta(days=needed - days)
    return Check(
        "tenure",
        "Time in role",
        False,
        f"{months} months; {wanted} needed (met on {ready_on:%d %b %Y}).",
        ready_on=ready_on,
    )


def _csat_check(role: Role, csat: Decimal | None, periods: int) -> Check:
    if role.csat_target is None:
        return Check("csat", "CSAT", None, f"{role.name} has no CSAT target.")
    target = f"{role.csat_target.normalize():f} %"
    if csat is None:
        return Check(
            "csat", "CSAT", False, f"No CSAT recorded in the last three months; target {target}."
        )
    shown = f"{csat:.1f} % over {periods} period{'s' if periods != 1 else ''}"
    if csat >= role.csat_target:
        return Check("csat", "CSAT", True, f"{shown}; target {target}.")
    return Check("csat", "CSAT", False, f"{shown}; below the target of {target}.")


def _criterion_checks(path: PromotionPath, signed: dict[tuple[int, str], tuple]) -> list[Check]:
    checks = []
    for criterion in path.criteria_items:
        found = signed.get((path.pk, criterion))
        if found is None:
            checks.append(Check("criterion", criterion, False, "Not signed off yet."))
        else:
            by, at = found
            checks.append(
                Check(
                    "criterion",
                    criterion,
                    True,
                    f"Signed off by {by or 'a manager'} on {at:%d %b %Y}.",
                    signed_by=by,
                )
            )
    return checks


def readiness(positions: QuerySet, *, as_of: datetime.date | None = None) -> list[PersonReadiness]:
    """Readiness of everyone holding one of ``positions`` (a queryset), in tree order.

    Five queries whatever the number of people: positions with holders and roles,
    assignments, paths, CSAT observations and sign-offs."""
    as_of = as_of or timezone.localdate()
    held = list(
        positions.filter(holder__isnull=False)
        .select_related("holder", "role__tier", "location")
        .order_by(*TREE_ORDER)
    )
    if not held:
        return []
    holders = positions.filter(holder__isnull=False).values("holder_id")
    periods: dict[tuple[int, int], list] = defaultdict(list)
    for person_id, role_id, start, end in Assignment.objects.filter(
        person_id__in=holders
    ).values_list("person_id", "role_id", "start_date", "end_date"):
        periods[(person_id, role_id)].append((start, end))
    roles = {p.role_id for p in held}
    paths: dict[int, list[PromotionPath]] = defaultdict(list)
    for path in (
        PromotionPath.objects.filter(from_role_id__in=roles, to_role__is_active=True)
        .select_related("to_role__tier")
        .order_by("to_role__level", "to_role__name")
    ):
        paths[path.from_role_id].append(path)
    since = as_of - datetime.timedelta(days=CSAT_WINDOW_DAYS)
    csat: dict[int, list[tuple[Decimal, int]]] = defaultdict(list)
    for person_id, value, n in PerformanceObservation.objects.filter(
        person_id__in=holders,
        metric=PerformanceObservation.Metric.CSAT,
        period_end__gt=since,
        period_end__lte=as_of,
    ).values_list("person_id", "value", "sample_size"):
        csat[person_id].append((value, n or 1))
    signed: dict[int, dict[tuple[int, str], tuple]] = defaultdict(dict)
    for person_id, path_id, criterion, by, at in CriterionSignoff.objects.filter(
        person_id__in=holders
    ).values_list("person_id", "path_id", "criterion", "signed_by_name", "signed_at"):
        signed[person_id][(path_id, criterion)] = (by, at)

    out = []
    for position in held:
        person, role = position.holder, position.role
        days = days_in(periods.get((person.pk, role.pk), []), as_of)
        rows = csat.get(person.pk, [])
        weight = sum(n for _, n in rows)
        average = (
            (sum(v * n for v, n in rows) / weight).quantize(Decimal("0.01")) if weight else None
        )
        csat_check = _csat_check(role, average, len(rows))
        judged = PersonReadiness(person, position, role, days, average, len(rows))
        for path in paths.get(role.pk, []):
            checks = [_tenure_check(path, role, days, as_of), csat_check]
            checks += _criterion_checks(path, signed.get(person.pk, {}))
            judged.paths.append(PathReadiness(path, checks))
        out.append(judged)
    return out


def person_readiness(
    person: Person, *, as_of: datetime.date | None = None
) -> PersonReadiness | None:
    """One person's readiness (None when they hold no position)."""
    found = readiness(Position.objects.filter(holder=person), as_of=as_of)
    return found[0] if found else None


def promotion_readiness(
    person: Person, to_role: Role, as_of: datetime.date
) -> PathReadiness | None:
    """``person``'s readiness for ``to_role`` on ``as_of`` (None when no path of their
    current role leads there, or they hold no position): the judgement
    :func:`staffing.services.promotion_apply` is given, and calls inside its transaction."""
    judged = person_readiness(person, as_of=as_of)
    if judged is None:
        return None
    return next((p for p in judged.paths if p.to_role.pk == to_role.pk), None)
