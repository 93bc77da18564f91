"""Promotion readiness: for each person, the next roles on their paths with every
prerequisite judged.

* **Time in role**: days in the current role from the assignment history (several stints
  add up, overlaps count once, gaps not at all) against the path's minimum months.
* **CSAT**: the person's CSAT over the last ``CSAT_WINDOW_DAYS`` (periods that end inside
  the window, weighted by surveys when given) against the current role's target.
* **Further criteria**: each line of the path's criteria, met once a manager signs it off.
* **Specialist squads**, where the path asks for them (``squad_months``): time in every
  specialist squad of the current role's tier, each at least that many months, read from the
  squad history as the rotation page reads it (:func:`staffing.rotation.runs_of`: several
  spells in a squad add up, a squad the person is in now counts up to ``as_of``). Never
  signed off: moving people between squads is what meets it.

A path is *ready now* when everything is met, *ready on* a date when only time in role is
short (the date it will be met), and otherwise *missing* what is unmet. Nothing is stored:
editing a path or a target changes every answer at once. One person or a whole subtree is
judged in the same fixed number of queries. Months are shown as everywhere else
(:func:`staffing.selectors.as_months`, rounded half up). A list of any size is sorted, filtered and
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
from staffing.rotation import runs_of
from staffing.selectors import DAYS_PER_MONTH, as_months, days_in
from tiers.models import Squad, Tier

CSAT_WINDOW_DAYS = 91  # about three months
TREE_ORDER = ("tree_id", "lft")  # people in the order of the chart, where nothing else orders

READY, READY_ON, MISSING = "ready", "ready_on", "missing"
STATUS_LABELS = {READY: "Ready now", READY_ON: "Ready on a date", MISSING: "Missing something"}
STATUS_ORDER = {READY: 0, READY_ON: 1, MISSING: 2}


@dataclass
class Check:
    kind: str  # "tenure", "csat", "criterion" or "squads"
    label: str
    met: bool | None  # None: does not apply (e.g. the role has no CSAT target)
    detail: str
    ready_on: datetime.date | None = None
    signed_by: str = ""
    short: str = ""  # what is missing, in a few words for the summary (default: the label)

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
        return "Missing: " + "; ".join(c.short or c.label.lower() for c in self.missing)

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
        return as_months(self.days_in_role)

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


def squad_days(path: PromotionPath) -> int | None:
    """Days in each specialist squad the path asks for (None: it asks for none)."""
    if path.squad_months is None:
        return None
    return math.ceil(path.squad_months * DAYS_PER_MONTH)


def _tenure_check(path: PromotionPath, role: Role, days: int, as_of) -> Check:
    months = as_months(days)
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


def _names(squads: list[Squad]) -> str:
    return ", ".join(squad.name for squad in squads)


def _squads_check(
    path: PromotionPath, tier: Tier, squads: list[Squad], served: dict[int, int], now: int | None
) -> Check:
    """Time in every specialist squad of ``tier`` (``squads``, by name) against the path's
    ``squad_months``. ``served``: days in each squad the person had joined by the day judged;
    ``now``: the squad they are in on that day."""
    label = "Time in each specialist squad"
    if not squads:
        return Check("squads", label, None, f"{tier.name} has no specialist squads.")
    needed, months = squad_days(path), path.squad_months
    wanted = f"{months} month{'s' if months != 1 else ''}"
    done = [s for s in squads if served.get(s.pk, -1) >= needed]
    short = [s for s in squads if 0 <= served.get(s.pk, -1) < needed]
    never = [s for s in squads if s.pk not in served]

    def spent(squad: Squad) -> str:
        here = ", there now" if squad.pk == now else ""
        return f"{squad.name} ({as_months(served[squad.pk])} months{here})"

    parts = [f"{wanted} in each of the {len(squads)} specialist squads of {tier.name} needed"]
    if never:
        parts.append(f"not yet in: {_names(never)}")
    if short:
        parts.append(f"under {wanted} in: " + ", ".join(spent(s) for s in short))
    if done:
        parts.append("done: " + ", ".join(spent(s) for s in done))
    detail = "; ".join(parts) + "."
    if not never and not short:
        return Check("squads", label, True, detail)
    missing = []
    if never:
        missing.append(f"not yet in: {_names(never)}")
    if short:
        missing.append(f"under {wanted} in: {_names(short)}")
    return Check("squads", label, False, detail, short="; ".join(missing))


def _served(runs, as_of: datetime.date) -> tuple[dict[int, int], int | None]:
    """Days in each squad a person had joined by ``as_of`` (all their spells there added, as
    the rotation page adds them) and the squad they are in on that day."""
    served: dict[int, int] = {}
    now = None
    for run in runs:
        if run.squad_id is None or run.start > as_of:
            continue
        served[run.squad_id] = served.get(run.squad_id, 0) + run.days(as_of)
        if run.end is None or run.end > as_of:
            now = run.squad_id
    return served, now


def readiness(positions: QuerySet, *, as_of: datetime.date | None = None) -> list[PersonReadiness]:
    """Readiness of everyone holding one of ``positions`` (a queryset), in tree order.

    Five queries whatever the number of people: positions with holders and roles,
    assignments, paths, CSAT observations and sign-offs; six when a path of their roles asks
    for time in the specialist squads (the squads)."""
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
    squad_rows = []
    # in id order: runs_of keeps the order of rows that start and end on the same days, and
    # metrics.verdicts breaks those ties by id too
    for person_id, role_id, squad_id, start, end in (
        Assignment.objects.filter(person_id__in=holders)
        .order_by("pk")
        .values_list("person_id", "role_id", "squad_id", "start_date", "end_date")
    ):
        periods[(person_id, role_id)].append((start, end))
        squad_rows.append((person_id, squad_id, start, end))
    roles = {p.role_id for p in held}
    paths: dict[int, list[PromotionPath]] = defaultdict(list)
    for path in (
        PromotionPath.objects.filter(from_role_id__in=roles, to_role__is_active=True)
        .select_related("to_role__tier")
        .order_by("to_role__level", "to_role__name")
    ):
        paths[path.from_role_id].append(path)
    # the roles with a step that asks for time in the specialist squads, and their holders
    rotating = {
        role_id
        for role_id, steps in paths.items()
        if any(p.squad_months is not None for p in steps)
    }
    rotators = {p.holder_id for p in held if p.role_id in rotating}
    specialists: dict[int, list[Squad]] = defaultdict(list)
    runs = {}
    if rotators:
        tiers = {p.role.tier_id for p in held if p.role_id in rotating}
        squads = Squad.objects.filter(tier_id__in=tiers, kind=Squad.Kind.SPECIALIST)
        for squad in squads.order_by("name"):
            specialists[squad.tier_id].append(squad)
        runs = runs_of(row for row in squad_rows if row[0] in rotators)
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
        served = _served(runs.get(person.pk, []), as_of) if role.pk in rotating else None
        for path in paths.get(role.pk, []):
            checks = [_tenure_check(path, role, days, as_of), csat_check]
            checks += _criterion_checks(path, signed.get(person.pk, {}))
            if path.squad_months is not None:
                checks.append(_squads_check(path, role.tier, specialists[role.tier_id], *served))
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
