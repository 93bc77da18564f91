"""From a capacity plan to a draft: the positions a plan asks for, added to a new scenario
under the managers that lead that work.
"""

from collections import Counter

from django.db import transaction

from roles.models import Role
from staffing.models import (
    Position,
    Scenario,
    ScenarioPosition,
)
from staffing.scenarios.drafts import draft_remove, scenario_create
from staffing.services import field_error


def scenario_from_plan(
    *, actor, name: str, wanted: dict[str, int], root: Position | None = None
) -> tuple[Scenario, list[str]]:
    """A draft of ``root``'s part of the organization reshaped to hold ``wanted`` people
    per role code (a capacity plan's ``by_role``): open positions are added where a role is
    short, leaders first so that agents find a team lead with room, each under the manager
    with the fewest reports that its span rule still allows; vacancies of a role in excess
    are removed (filled positions never are). Returns the draft and notes on what it could
    not do."""
    scenario = scenario_create(actor=actor, name=name, root=root)
    notes: list[str] = []
    with transaction.atomic():
        roles = {r.code: r for r in Role.objects.filter(code__in=wanted)}
        unknown = sorted(set(wanted) - set(roles))
        if unknown:
            raise field_error("wanted", f"Unknown role codes: {', '.join(unknown)}.")
        rules = Role.objects.filter(span_rule__isnull=False)
        limits = dict(rules.values_list("code", "span_rule__max_direct"))
        rows = list(scenario.positions.filter(removed=False).select_related("role"))
        kids: Counter = Counter(r.parent_id for r in rows if r.parent_id)
        top = next((r for r in rows if r.parent_id is None), None)
        have = Counter(r.role.code for r in rows)
        made: Counter = Counter()
        # the management ladder first (top down), then everyone else
        order = [c for c in reversed(LEADER_ORDER) if c in wanted]
        order += [c for c in wanted if c not in LEADER_ORDER]
        for code in order:
            role, gap = roles[code], wanted[code] - have[code]
            if gap > 0:
                above = PARENT_ROLE.get(code)
                for _ in range(gap):
                    parents = [r for r in rows if r.role.code in above] if above else []
                    room = [
                        p for p in parents
                        if limits.get(p.role.code) is None or kids[p.pk] < limits[p.role.code]
                    ]  # fmt: skip
                    parent = min(room, key=lambda p: (kids[p.pk], p.pk)) if room else top
                    if parent is None:
                        notes.append(f"No place for a new {role.name}: the draft is empty.")
                        break
                    if not room and above:
                        notes.append(f"A new {role.name} went under {parent.title}: no "
                                     f"{' or '.join(sorted(above))} had room.")  # fmt: skip
                    made[code] += 1
                    title = (  # new leaders are told apart: their teams are listed under them
                        f"{role.name} (new {made[code]})" if code in LEADER_ORDER else role.name
                    )
                    added = ScenarioPosition.objects.create(
                        scenario=scenario, parent=parent, title=title, role=role,
                        status=Position.Status.OPEN,
                    )  # fmt: skip
                    rows.append(added)
                    kids[parent.pk] += 1
            elif gap < 0:
                spare = [
                    r for r in rows
                    if r.role_id == role.pk and not r.holder_id and not kids[r.pk]
                    and not r.removed
                ]  # fmt: skip
                spare.sort(key=lambda r: (r.source_id is not None, -r.pk))  # drafts' own first
                for r in spare[:-gap]:
                    draft_remove(actor=actor, scenario=scenario, position=r)
                    r.removed = True
                    kids[r.parent_id] -= 1
                if len(spare) < -gap:
                    notes.append(f"{-gap - len(spare)} {role.name} position(s) over the plan "
                                 "are filled or lead a team; they stay.")  # fmt: skip
        scenario.description = "Drafted from a capacity plan." + (
            " " + " ".join(notes) if notes else ""
        )
        scenario.save(update_fields=["description", "updated_at"])
    return scenario, notes


# who a new position of a role reports to, and the order leaders are added in
PARENT_ROLE = {
    "advocate": {"team-lead"},
    "associate-advocate": {"team-lead"},
    "tse": {"team-lead", "advocate-manager"},
    "architect": {"advocate-manager", "senior-advocate-manager"},
    "team-lead": {"advocate-manager"},
    "advocate-manager": {"senior-advocate-manager", "director"},
    "senior-advocate-manager": {"director"},
    "systems-specialist": {"ops-manager", "advocate-manager"},
    "ops-manager": {"director"},
}
LEADER_ORDER = ("team-lead", "advocate-manager", "senior-advocate-manager", "director")
