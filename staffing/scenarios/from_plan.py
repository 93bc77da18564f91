"""From a capacity plan to a draft: the positions a plan asks for, added to a new scenario
under the managers that lead that work (:mod:`staffing.scenarios.placement` decides where).
"""

from collections import Counter

from django.db import transaction

from roles.models import Role
from staffing.models import Position, Scenario
from staffing.scenarios import placement
from staffing.scenarios.drafts import draft_remove, scenario_create
from staffing.services import field_error
from tiers.models import Tier

# the most new positions a draft from a plan may add, whatever the part's size: a plan
# typed with a slip of the finger (a million contacts a day) is refused at once rather than
# drafted for minutes
MOST_NEW = 500


def scenario_from_plan(
    *, actor, name: str, wanted: dict[str, int], root: Position | None = None
) -> tuple[Scenario, list[str]]:
    """A draft of ``root``'s part of the organization reshaped to hold ``wanted`` people
    per role code (a capacity plan's ``by_role``).

    Where a role is short, open positions are added where the catalogue's rules put them
    (:mod:`staffing.scenarios.placement`: under a manager whose team does that work, with
    room and allowed to lead the role, or in a new team with the leaders it needs). Leaders
    the plan asks for are drafted first, each for the work the new people are in, so that
    the new people fill their teams. Vacancies of a role in excess are removed (filled
    positions and leaders never are: the plan's count of leaders is an estimate). Returns
    the draft and a line per tier saying where the new people went, and what could not be
    done."""
    notes: list[str] = []
    with transaction.atomic():  # the draft too: a refusal leaves none behind
        roles = {r.code: r for r in Role.objects.filter(code__in=wanted)}
        unknown = sorted(set(wanted) - set(roles))
        if unknown:
            raise field_error("wanted", f"Unknown role codes: {', '.join(unknown)}.")
        scenario = scenario_create(actor=actor, name=name, root=root)
        placing = placement.Placement(scenario)
        roles = {code: placing.roles[role.pk] for code, role in roles.items()}
        have = Counter(row.role.code for row in placing.rows.values())
        gaps = {code: wanted[code] - have[code] for code in wanted}
        asked = sum(gap for gap in gaps.values() if gap > 0)
        most = max(MOST_NEW, 2 * len(placing.rows))
        if asked > most:
            raise field_error(
                "plan",
                f"The plan asks for {asked:,} new positions; a draft from a plan adds at most "
                f"{most:,} here (twice the positions of this part, or {MOST_NEW:,}). Plan the "
                "growth in steps.",
            )
        people = {code: gap for code, gap in gaps.items() if gap > 0 and _does_work(roles[code])}
        growth = Counter()
        for code, gap in people.items():
            growth[placement.work_of(roles[code])] += gap
        # the leaders the plan asks for, top rung first, each for a share of the new work
        leaders = [code for code in gaps if gaps[code] > 0 and code not in people]
        for code in sorted(leaders, key=lambda c: -roles[c].level):
            role = roles[code]
            if role.heads_division:
                notes.append(f"{gaps[code]} more {role.name} position(s) in the plan: a draft "
                             "adds no division heads; add them by hand.")  # fmt: skip
                continue
            works = _shares(gaps[code], growth, placing.reach(role))
            for work in works:
                placing.add_leader(role, work)
            if len(works) < gaps[code]:
                notes.append(f"{gaps[code] - len(works)} more {role.name} position(s) in the "
                             "plan: no new people here for them to lead.")  # fmt: skip
        # then the people, tier by tier
        for code in sorted(people, key=lambda c: (roles[c].tier.rank, roles[c].level, c)):
            for _ in range(people[code]):
                placing.place(roles[code])
        placing.write()
        notes += placing.report.lines({tier.code: tier.name for tier in Tier.objects.all()})
        for code, gap in gaps.items():  # fewer people: spare vacancies go (leaders stay)
            if gap < 0 and _does_work(roles[code]):
                notes += _remove_spare(actor, scenario, roles[code], -gap)
        scenario.description = "Drafted from a capacity plan. " + " ".join(notes)
        scenario.save(update_fields=["description", "updated_at"])
    return scenario, notes


def _does_work(role: Role) -> bool:
    """Whether ``role`` does the work itself (an agent or a specialist) rather than lead it."""
    return placement.work_of(role) is not None and not role.is_manager


def _shares(count: int, growth: Counter, reach: set[str]) -> list[str]:
    """``count`` new leaders shared out over the work they can lead, in proportion to the
    new people in it (largest remainders); the work with the most growth first."""
    weights = {work: n for work, n in growth.items() if work in reach and n > 0}
    if not weights:
        return []
    total = sum(weights.values())
    exact = {work: count * n / total for work, n in weights.items()}
    out = {work: int(value) for work, value in exact.items()}
    rest = sorted(exact, key=lambda work: (out[work] - exact[work], work))
    for work in rest[: count - sum(out.values())]:
        out[work] += 1
    return [work for work in sorted(out, key=lambda w: -weights[w]) for _ in range(out[work])]


def _remove_spare(actor, scenario: Scenario, role: Role, excess: int) -> list[str]:
    """Remove up to ``excess`` vacant ``role`` positions that lead no one (the draft's own
    first, then the newest)."""
    rows = list(scenario.positions.filter(removed=False, role=role, holder__isnull=True))
    leading = set(
        scenario.positions.filter(removed=False, parent__in=rows).values_list("parent", flat=True)
    )
    spare = [row for row in rows if row.pk not in leading]
    spare.sort(key=lambda row: (row.source_id is not None, -row.pk))
    for row in spare[:excess]:
        draft_remove(actor=actor, scenario=scenario, position=row)
    if len(spare) < excess:
        return [f"{excess - len(spare)} {role.name} position(s) over the plan are filled or "
                "lead a team; they stay."]  # fmt: skip
    return []
