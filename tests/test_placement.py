"""Plans that land in the right teams (staffing.scenarios.placement): a capacity plan drafted
on the demo organizations and on a generated one puts every new position under a manager
whose team does that work, within span rules and allowed reports, and says where."""

import copy
import re
from collections import Counter

import pytest

from demo import organizations
from roles.models import Role
from staffing import demand, selectors
from staffing.models import Finding, ScenarioPosition
from staffing.scenarios import from_plan, placement
from staffing.scenarios.read import draft_shape
from tests.conftest import scaled


def grown(factor: float) -> dict:
    """The capacity page's example day (about what the synapse demo answers today) with
    ``factor`` times the contacts on every channel."""
    data = copy.deepcopy(demand.example())
    for channel in data["channels"]:
        channel["per_day"] *= factor
    return data


OVER = (Finding.Kind.REPORT_NOT_ALLOWED, Finding.Kind.TOO_MANY_DIRECT, Finding.Kind.TEAM_TOO_LARGE)


def not_allowed(scenario) -> set[tuple]:
    """The draft's findings of a report the rules do not allow, or of a team over its
    limits (direct or whole), by the live position's id (a new row by its own, negated)."""
    shape, sources = draft_shape(scenario)
    return {
        (sources[f.position_id][0] or -f.position_id, f.kind)
        for f in shape.judge()
        if f.kind in OVER
    }


def draft(factor: float, root=None):
    plan = selectors.capacity_plan(grown(factor))
    scenario, notes = from_plan.scenario_from_plan(
        actor=None, name=f"{factor}× volume", wanted=plan.by_role, root=root
    )
    added = list(
        ScenarioPosition.objects.filter(scenario=scenario, source__isnull=True).select_related(
            "role__tier", "parent__role", "squad"
        )
    )
    return scenario, notes, added


def assert_placed_by_the_rules(scenario, added):
    """Every new position: allowed under its manager, in a team doing its work, explained."""
    rows = {r.pk: r for r in ScenarioPosition.objects.filter(scenario=scenario, removed=False)}
    related = ("span_rule__allowed_reports", "span_rule__limits__roles")
    roles = {r.pk: r for r in Role.objects.select_related("tier", "span_rule")
             .prefetch_related(*related)}  # fmt: skip
    kids: Counter = Counter(r.parent_id for r in rows.values())
    kid_roles: Counter = Counter((r.parent_id, r.role_id) for r in rows.values())
    work_under: dict[int, set] = {}
    for row in rows.values():
        work = placement.work_of(roles[row.role_id])
        if work is not None and row.parent_id:
            work_under.setdefault(row.parent_id, set()).add(work)
    new_ids = {r.pk for r in added}
    for row in added:
        manager = roles[row.parent.role_id]
        assert manager.allows_report(roles[row.role_id]), (row.title, row.parent.title)
        work = placement.work_of(roles[row.role_id])
        if work is not None:
            # its manager's other reports do the same work (a new team does only it)
            assert work_under[row.parent_id] == {work} or row.parent_id not in new_ids, (
                row.title,
                row.parent.title,
                work_under[row.parent_id],
            )
            assert work in work_under[row.parent_id]
        rule = getattr(manager, "span_rule", None)
        if rule is not None and rule.max_direct is not None and row.parent_id in new_ids:
            assert kids[row.parent_id] <= rule.max_direct, row.parent.title
        for limit in rule.limits.all() if rule is not None else ():
            of_kind = sum(kid_roles[row.parent_id, role.pk] for role in limit.roles.all())
            if limit.max_count is not None and row.parent_id in new_ids:
                assert of_kind <= limit.max_count, (row.parent.title, limit.name)


def test_the_synapse_plan_at_twice_the_volume_lands_in_the_right_teams(synapse):
    before = not_allowed_live()
    scenario, notes, added = draft(2.0)
    assert added, notes
    assert not_allowed(scenario) <= before  # no new "report not allowed"
    assert_placed_by_the_rules(scenario, added)
    by_code = Counter(r.role.code for r in added)
    # the case: no Tier 2 or Tier 3 engineer under a Tier 1 manager
    for row in added:
        if row.role.code in ("tse", "architect"):
            assert "Tier 1" not in row.parent.title and "Dublin" not in row.parent.title
    # every tier that grew has its sentence, and every new position is in one
    said = " ".join(notes)
    for row in added:
        if placement.work_of(row.role) is not None:
            assert row.role.tier.name in said
    explained = sum(
        int(n)
        for line in notes
        if not line.startswith("New leaders")  # a line per tier or track that grew
        for n in re.findall(r"(\d+) new ", line.split(";")[0])
    )
    people = sum(n for code, n in by_code.items() if not Role.objects.get(code=code).is_manager)
    assert explained == people
    # new teams under several leaders are counted per leader, as existing teams are
    assert re.search(r"\d+ in \d+ new teams \(under [^)]+ ×\d+", said), said
    # new engineers start in the entry squad
    for row in added:
        if row.role.code == "tse":
            assert row.squad is not None and row.squad.kind == "entry"


def not_allowed_live() -> set[int]:
    """The rows of a draft of the whole organization that break the rules before any change
    (a fresh draft is the live organization)."""
    from staffing.scenarios.drafts import scenario_create

    return not_allowed(scenario_create(actor=None, name="as it is"))


def test_the_fte85_plan_lands_in_the_right_teams(fte85):
    scenario, notes, added = draft(0.5)  # about 1.5 times its 85 people
    assert added and notes
    assert not_allowed(scenario) <= not_allowed_live()
    assert_placed_by_the_rules(scenario, added)


def test_a_team_is_drafted_with_its_lead_when_no_team_has_room(synapse):
    """One and a half times the volume: the existing Tier 1 teams fill up, so new teams are
    drafted, each with a lead under a manager of Tier 1 work."""
    scenario, notes, added = draft(1.5)
    leads = [r for r in added if r.role.code == "team-lead"]
    assert leads
    assert any("new team" in line for line in notes if line.startswith("Tier 1")), notes
    for lead in leads:
        team = ScenarioPosition.objects.filter(parent=lead, removed=False)
        works = {placement.work_of(r.role) for r in team.select_related("role__tier")}
        assert len(works) <= 1, (lead.title, works)
    assert not_allowed(scenario) <= not_allowed_live()
    assert_placed_by_the_rules(scenario, added)  # new managers within 2–3 team leads


@pytest.mark.postgres
def test_a_generated_organization_plan_lands_in_the_right_teams(framework):
    size = scaled(2_000, 10_000)
    organizations.seed(positions=size)
    scenario, notes, added = draft(size / 300)  # about the size of the organization
    assert added and any(line.startswith("Tier 1") for line in notes), notes
    assert not_allowed(scenario) <= not_allowed_live()
    assert_placed_by_the_rules(scenario, added)


def test_every_new_leader_has_its_own_title_and_is_in_the_notes(synapse):
    """Leaders the plan asks for and leaders new teams need are numbered together, and the
    notes count them all."""
    from staffing.models import Position

    root = Position.objects.get(title="Director, Customer Advocacy")
    have = Counter(Position.objects.subtree_of(root).values_list("role__code", flat=True))
    wanted = {"advocate": have["advocate"] + 90, "team-lead": have["team-lead"] + 1,
              "advocate-manager": have["advocate-manager"] + 1}  # fmt: skip
    scenario, notes = from_plan.scenario_from_plan(
        actor=None, name="Growth", wanted=wanted, root=root
    )
    leaders = list(
        ScenarioPosition.objects.filter(
            scenario=scenario, source__isnull=True, role__code__in=["team-lead", "advocate-manager"]
        ).values_list("title", "role__name")
    )
    titles = [title for title, _ in leaders]
    assert len(titles) == len(set(titles)) > 2, titles
    said = next(line for line in notes if line.startswith("New leaders: "))
    for name, n in Counter(name for _, name in leaders).items():
        assert f"{n} new {name}" in said, (said, leaders)


def test_a_plan_far_beyond_the_part_is_refused_with_nothing_drafted(synapse):
    from django.core.exceptions import ValidationError

    from staffing.models import Scenario
    from staffing.services import field_error  # noqa: F401  (the refusal's shape)

    before = Scenario.objects.count()
    with pytest.raises(ValidationError) as refused:
        draft(20.0)
    assert "plan" in refused.value.message_dict
    assert "adds at most 532 here" in refused.value.message_dict["plan"][0]
    assert Scenario.objects.count() == before
