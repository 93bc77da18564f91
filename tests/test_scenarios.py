"""Scenarios: a draft copied from the live tree, edited apart from it, compared, applied in
one transaction, refused with the conflicts when the live tree changed in the same places,
and never half-applied."""

from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from roles.models import Role
from staffing import services
from staffing.models import Person, Position, Scenario, ScenarioPosition
from staffing.scenarios import apply, compare, drafts, from_plan
from staffing.tree import tree_check
from tests.factories import Org, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def draft_of(scenario: Scenario, position: Position) -> ScenarioPosition:
    return scenario.positions.get(source=position)


def manager_user(org: Org):
    user = UserFactory(groups=["director"])
    Person.objects.filter(pk=org.positions["director"].holder_id).update(user=user)
    return user


def test_a_draft_copies_the_part_of_the_org_and_leaves_live_alone(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Merge the two teams")
    live = Position.objects.subtree_of(api_org.positions["director"])
    assert scenario.root == api_org.positions["director"]
    assert scenario.positions.count() == live.count()
    lead_a = draft_of(scenario, api_org.positions["lead_a"])
    assert lead_a.parent.source == api_org.positions["manager_a"]
    assert (lead_a.base_title, lead_a.base_role) == ("Lead A", lead_a.role_id)
    before = list(live.values_list("pk", "parent_id", "title"))
    lead_b = draft_of(scenario, api_org.positions["lead_b"])
    drafts.draft_move(actor=director, scenario=scenario, position=lead_b,
                         new_parent=draft_of(scenario, api_org.positions["manager_a"]))  # fmt: skip
    drafts.draft_update(actor=director, scenario=scenario, position=lead_a, title="Lead A1")
    assert list(live.values_list("pk", "parent_id", "title")) == before
    with pytest.raises(PermissionDenied):
        drafts.scenario_create(actor=UserFactory(), name="Nothing to draft")


def test_the_diff_lists_changes_headcount_and_findings(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Reshape")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    advocate = Role.objects.get(code="advocate")
    added = drafts.draft_add(
        actor=director, scenario=scenario, parent=d("lead_a"), title="New agent", role=advocate
    )
    drafts.draft_move(
        actor=director, scenario=scenario, position=d("lead_b"), new_parent=d("manager_a")
    )
    drafts.draft_update(
        actor=director, scenario=scenario, position=d("lead_a"), title="Lead A, phones"
    )
    drafts.draft_remove(
        actor=director, scenario=scenario, position=d("manager_b"), reports="move_up"
    )
    result = compare.diff(scenario)
    assert [r.title for r in result.added] == ["New agent"]
    assert [r.title for r in result.removed] == ["Manager B"]
    assert {r.title for r in result.moved} == {"Lead B"}
    assert [(c.row.title, c.fields) for c in result.changed] == [("Lead A, phones", ["title"])]
    roles = {name: (before, after) for name, before, after in result.headcount["role"]}
    assert roles["Customer Advocate"][1] == roles["Customer Advocate"][0] + 1
    assert roles["Advocate Manager"] == (2, 1)
    # manager A now runs two leads: findings change with the shape
    assert result.findings_new or result.findings_gone
    assert added.source_id is None


def test_apply_replays_the_draft_through_the_services(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Reshape")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    advocate = Role.objects.get(code="advocate")
    new = drafts.draft_add(
        actor=director, scenario=scenario, parent=d("lead_a"), title="New agent", role=advocate
    )
    newcomer = PersonFactory()
    drafts.draft_update(actor=director, scenario=scenario, position=new, holder=newcomer)
    drafts.draft_move(
        actor=director, scenario=scenario, position=d("lead_b"), new_parent=d("manager_a")
    )
    drafts.draft_remove(actor=director, scenario=scenario, position=d("manager_b"))
    drafts.draft_update(actor=director, scenario=scenario, position=d("lead_a"), title="L A")
    summary = apply.scenario_apply(actor=director, scenario=scenario)
    assert summary == {"added": 1, "moved": 1, "changed": 1, "filled": 1, "removed": 1}
    lead_b = Position.objects.get(pk=api_org.positions["lead_b"].pk)
    assert lead_b.parent_id == api_org.positions["manager_a"].pk
    assert not Position.objects.filter(pk=api_org.positions["manager_b"].pk).exists()
    made = Position.objects.get(title="New agent")
    assert made.parent_id == api_org.positions["lead_a"].pk and made.holder == newcomer
    assert newcomer.assignments.get().note.startswith("Scenario")
    assert Position.objects.get(pk=api_org.positions["lead_a"].pk).title == "L A"
    assert tree_check().ok
    scenario.refresh_from_db()
    assert scenario.status == "applied" and scenario.applied_by == director
    assert compare.diff(scenario).added  # an applied scenario stays readable
    with pytest.raises(ValidationError):
        drafts.draft_update(actor=director, scenario=scenario, position=new, title="x")


def test_live_changes_in_the_same_places_are_conflicts_and_nothing_is_applied(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Rename")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    drafts.draft_update(actor=director, scenario=scenario, position=d("lead_a"), title="X")
    drafts.draft_move(
        actor=director, scenario=scenario, position=d("lead_b"), new_parent=d("manager_a")
    )
    # meanwhile, in the live tree: Lead A is renamed and Lead B has moved
    services.position_update(actor=None, position=api_org.positions["lead_a"], title="Lead Alpha")
    services.position_move(
        actor=None, position=api_org.positions["lead_b"], new_parent=api_org.positions["director"]
    )
    with pytest.raises(ValidationError) as refused:
        apply.scenario_apply(actor=director, scenario=scenario)
    found = refused.value.message_dict["conflicts"]
    assert any(f"{api_org.positions['lead_a'].label}: its title" in text for text in found)
    assert any(f"{api_org.positions['lead_b'].label}: its manager" in text for text in found)
    assert refused.value.error_dict["conflicts"][0].code == "conflict"
    assert Position.objects.get(pk=api_org.positions["lead_a"].pk).title == "Lead Alpha"
    assert Scenario.objects.get(pk=scenario.pk).status == "draft"
    # an unrelated live change is not a conflict
    services.position_update(actor=None, position=api_org.mine, title="Renamed agent")
    assert all("Renamed" not in text for text in apply.conflicts(scenario))


def test_a_failure_half_way_leaves_live_untouched(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Hire and fill")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    advocate = Role.objects.get(code="advocate")
    new = drafts.draft_add(
        actor=director, scenario=scenario, parent=d("lead_a"), title="New agent", role=advocate
    )
    person = PersonFactory()
    drafts.draft_update(actor=director, scenario=scenario, position=new, holder=person)
    before = Position.objects.count()
    Person.objects.filter(pk=person.pk).update(is_active=False)  # leaves before it is applied
    with pytest.raises(ValidationError):
        apply.scenario_apply(actor=director, scenario=scenario)
    assert Position.objects.count() == before  # the added position was rolled back too
    assert not Position.objects.filter(title="New agent").exists()
    assert tree_check().ok


def test_drafts_refuse_loops_strangers_and_removal_of_a_manager_with_reports(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Loops")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    with pytest.raises(ValidationError) as loop:
        drafts.draft_move(
            actor=director, scenario=scenario, position=d("manager_a"), new_parent=d("lead_a")
        )
    assert "reporting loop" in str(loop.value)
    with pytest.raises(ValidationError):
        drafts.draft_remove(actor=director, scenario=scenario, position=d("lead_a"))
    stranger = UserFactory(groups=["manager"])
    with pytest.raises(PermissionDenied):
        drafts.draft_update(actor=stranger, scenario=scenario, position=d("lead_a"), title="x")
    copy = drafts.scenario_create(actor=director, name="Copy", based_on=scenario)
    assert copy.positions.count() == scenario.positions.count()
    assert draft_of(copy, api_org.positions["lead_a"]).parent.scenario == copy
    drafts.scenario_close(actor=director, scenario=scenario, status="discarded")
    assert Scenario.objects.get(pk=scenario.pk).status == "discarded"


# --- the API --------------------------------------------------------------------------------


def test_scenarios_over_the_api(api_org: Org):
    from tests.factories import session_client, token_client

    director = manager_user(api_org)
    client = session_client(director)
    made = client.post("/api/scenarios/", {"name": "Next year"}, format="json")
    assert made.status_code == 201, made.content
    sid = made.json()["id"]
    assert made.json()["root"]["id"] == api_org.positions["director"].pk
    rows = client.get(f"/api/scenarios/{sid}/positions/", {"page_size": 1000}).json()["results"]
    by_source = {r["source"]: r for r in rows}
    lead_a = by_source[api_org.positions["lead_a"].pk]["id"]
    lead_b = by_source[api_org.positions["lead_b"].pk]["id"]
    manager_a = by_source[api_org.positions["manager_a"].pk]["id"]
    advocate = Role.objects.get(code="advocate").pk
    hire = {"title": "Hire", "role": advocate, "parent": lead_a}
    added = client.post(f"/api/scenarios/{sid}/positions/", hire, format="json")
    assert added.status_code == 201, added.content
    moved = client.patch(f"/api/scenarios/{sid}/positions/{lead_b}/", {"parent": manager_a},
                         format="json")  # fmt: skip
    assert moved.status_code == 200 and moved.json()["parent"] == manager_a
    loop = client.patch(f"/api/scenarios/{sid}/positions/{manager_a}/", {"parent": lead_a},
                        format="json")  # fmt: skip
    assert loop.status_code == 400 and "reporting loop" in str(loop.json())
    refused = client.delete(f"/api/scenarios/{sid}/positions/{lead_a}/")
    assert refused.status_code == 409  # it has reports
    agent = by_source[api_org.mine.pk]["id"]
    assert client.delete(f"/api/scenarios/{sid}/positions/{agent}/").status_code == 204
    back = client.post(f"/api/scenarios/{sid}/positions/{agent}/restore/")
    assert back.status_code == 200 and back.json()["parent"] == lead_a, back.content
    again = client.post(f"/api/scenarios/{sid}/positions/{agent}/restore/")
    assert again.status_code == 400
    diff = client.get(f"/api/scenarios/{sid}/diff/").json()
    assert [r["title"] for r in diff["added"]] == ["Hire"]
    assert [r["title"] for r in diff["moved"]] == ["Lead B"] and diff["conflicts"] == []
    # someone else sees nothing of it; a read-only token cannot apply
    other = session_client(UserFactory(groups=["manager"]))
    assert other.get(f"/api/scenarios/{sid}/").status_code == 404
    assert sid not in {s["id"] for s in other.get("/api/scenarios/").json()["results"]}
    reader = token_client(director, write=False)
    assert reader.post(f"/api/scenarios/{sid}/apply/").status_code == 403
    # a live change in the same place: 409 with the conflicts, nothing applied
    services.position_update(actor=None, position=api_org.positions["lead_b"], title="Lead Bee")
    services.position_move(
        actor=None, position=api_org.positions["lead_b"], new_parent=api_org.positions["director"]
    )
    conflict = client.post(f"/api/scenarios/{sid}/apply/")
    assert conflict.status_code == 409
    assert f"{api_org.positions['lead_b'].label}: its manager" in str(conflict.json())
    assert not Position.objects.filter(title="Hire").exists()
    # undo the live move; now it applies
    services.position_move(
        actor=None, position=api_org.positions["lead_b"], new_parent=api_org.positions["manager_b"]
    )
    applied = client.post(f"/api/scenarios/{sid}/apply/")
    assert applied.status_code == 200, applied.content
    assert applied.json()["status"] == "applied" and applied.json()["applied_summary"]["added"] == 1
    assert Position.objects.get(title="Hire").parent_id == api_org.positions["lead_a"].pk
    assert client.post(f"/api/scenarios/{sid}/discard/").status_code == 409
    assert client.post(f"/api/scenarios/{sid}/archive/").json()["status"] == "archived"


def test_a_plan_becomes_a_draft_with_positions_under_managers_with_room(api_org: Org):
    director = manager_user(api_org)
    # Lead A has 3 agents and Lead B 2 and a vacancy: ask for 6 more advocates and a third
    # team lead (a lead runs at most 10, so the managers have room for one more)
    tree = api_org.positions["director"].tree_id
    live_advocates = Position.objects.filter(tree_id=tree, role__code="advocate")
    have = live_advocates.count()
    scenario, notes = from_plan.scenario_from_plan(
        actor=director, name="From the plan", wanted={"advocate": have + 6, "team-lead": 3}
    )
    found = compare.diff(scenario)
    added = list(
        ScenarioPosition.objects.filter(pk__in=[r.pk for r in found.added]).select_related(
            "role", "parent__role"
        )
    )
    assert sorted(r.role.code for r in added) == ["advocate"] * 6 + ["team-lead"]
    new_lead = next(r for r in added if r.role.code == "team-lead")
    assert new_lead.title == "Team Lead (new 1)"
    assert new_lead.parent.role.code == "advocate-manager"
    # agents go to the team leads with the fewest reports, the new lead included
    under = Counter(r.parent_id for r in added if r.role.code == "advocate")
    assert under[new_lead.pk] >= 1
    # and the notes say where they went
    manager = new_lead.parent.title
    assert notes == [
        f"Tier 1 — Product support: 6 new Customer Advocates; {6 - under[new_lead.pk]} into "
        f"{len(under) - 1} existing teams (Lead A ×1, Lead B ×1); {under[new_lead.pk]} in 1 new "
        f"team under {manager}.",
        "New leaders: 1 new Team Lead.",
    ], notes
    fewer, _ = from_plan.scenario_from_plan(
        actor=director, name="Fewer", wanted={"advocate": have - 1}
    )
    gone = compare.diff(fewer).removed
    assert len(gone) == 1 and gone[0].holder_id is None and gone[0].base_holder is None
    drafts_before = Scenario.objects.count()
    with pytest.raises(ValidationError):
        from_plan.scenario_from_plan(actor=director, name="Bad", wanted={"wizard": 1})
    assert Scenario.objects.count() == drafts_before  # no draft left behind
    assert apply.scenario_apply(actor=director, scenario=scenario)["added"] == 7
    assert live_advocates.count() == have + 6 and tree_check().ok


def test_a_draft_from_a_plan_over_the_api(api_org: Org):
    from staffing.api.capacity import EXAMPLE_INPUT
    from tests.factories import session_client

    client = session_client(manager_user(api_org))
    made = client.post(
        "/api/scenarios/from-plan/", {"name": "Next year", "plan": EXAMPLE_INPUT}, format="json"
    )
    assert made.status_code == 201, made.content
    diff = client.get(f"/api/scenarios/{made.json()['id']}/diff/").json()
    assert len(diff["added"]) > 50  # the small org grows to the plan's size
    assert any(row["name"] == "Customer Advocate" for row in diff["headcount"]["role"])
    bad = client.post(
        "/api/scenarios/from-plan/",
        {"name": "Bad", "plan": {**EXAMPLE_INPUT, "shift_hours": 0}},
        format="json",
    )
    assert bad.status_code == 400 and "plan.shift_hours" in bad.json()
    # errors name the field by its path whatever is wrong with it
    odd = {**EXAMPLE_INPUT, "tiers": [{"tier": {"t1": 1}, "handle_minutes": 9}]}
    shaped = client.post("/api/scenarios/from-plan/", {"name": "Odd", "plan": odd}, format="json")
    assert shaped.status_code == 400 and "plan.tiers[0].tier" in shaped.json(), shaped.json()


def test_a_draft_that_only_changes_a_vacancy_status_applies(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Plan the hire")
    vacancy = scenario.positions.get(title="Open B")
    drafts.draft_update(actor=director, scenario=scenario, position=vacancy, status="planned")
    assert apply.scenario_apply(actor=director, scenario=scenario) == {"changed": 1}
    assert Position.objects.get(title="Open B").status == Position.Status.PLANNED


def test_a_position_deleted_live_is_a_conflict_not_an_addition(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Before the deletion")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    drafts.draft_move(
        actor=director, scenario=scenario, position=d("lead_a"), new_parent=d("manager_b")
    )
    agent = scenario.positions.get(source=api_org.mine)
    drafts.draft_update(actor=director, scenario=scenario, position=agent, title="Agent A0")
    services.position_delete(actor=None, position=api_org.mine, reports="refuse")
    services.position_delete(actor=None, position=api_org.positions["manager_b"],
                             reports="move_up")  # fmt: skip
    result = compare.diff(scenario)
    assert result.added == []  # the copies of deleted positions are not taken for new ones
    found = apply.conflicts(scenario)
    mine, manager_b, lead_a = (
        api_org.mine.label,
        api_org.positions["manager_b"].label,
        api_org.positions["lead_a"].label,
    )
    assert f"{mine} has been deleted since the draft was taken." in found
    assert f"{manager_b}, under which the draft moves {lead_a}, has been deleted." in found
    before = sorted(Position.objects.values_list("pk", "parent_id", "title"))
    with pytest.raises(ValidationError):
        apply.scenario_apply(actor=director, scenario=scenario)
    assert sorted(Position.objects.values_list("pk", "parent_id", "title")) == before


def test_removing_an_added_manager_keeps_the_removals_below_it(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Try a team")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    lead = Role.objects.get(code="team-lead")
    new = drafts.draft_add(actor=director, scenario=scenario, parent=d("manager_a"),
                              title="New lead", role=lead)  # fmt: skip
    agent = scenario.positions.get(source=api_org.mine)
    drafts.draft_move(actor=director, scenario=scenario, position=agent, new_parent=new)
    drafts.draft_remove(actor=director, scenario=scenario, position=agent)
    drafts.draft_remove(actor=director, scenario=scenario, position=new)
    agent.refresh_from_db()
    assert agent.removed and agent.parent == d("manager_a")
    assert [r.title for r in compare.diff(scenario).removed] == ["Agent 0"]


def test_a_draft_keeps_the_live_rules_on_who_goes_where(api_org: Org):
    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Scoped")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    me = Person.objects.get(pk=api_org.positions["director"].holder_id)
    outsider = Person.objects.get(pk=api_org.theirs.holder_id)
    with pytest.raises(PermissionDenied):  # their own position
        drafts.draft_update(actor=director, scenario=scenario, position=d("lead_b"), holder=me)
    with pytest.raises(ValidationError) as unseen:  # someone outside: as if nobody
        drafts.draft_update(
            actor=director, scenario=scenario, position=d("lead_b"), holder=outsider
        )
    assert unseen.value.message_dict == {
        "holder": [f"No person with id {outsider.pk} that you can see."]
    }
    newcomer = PersonFactory()
    drafts.draft_update(actor=director, scenario=scenario, position=d("lead_b"), holder=newcomer)
    with pytest.raises(PermissionDenied):
        drafts.draft_move(actor=director, scenario=scenario, position=d("lead_a"),
                             new_parent=None)  # fmt: skip
    with pytest.raises(PermissionDenied):
        drafts.draft_add(actor=director, scenario=scenario, parent=None, title="Top",
                            role=Role.objects.get(code="director"))  # fmt: skip
    with pytest.raises(PermissionDenied):  # HR reads; it does not draft
        drafts.scenario_create(actor=UserFactory(groups=["hr"]), name="HR",
                                  root=api_org.positions["director"])  # fmt: skip


def test_a_removed_top_position_is_restored_at_the_top(api_org: Org):
    admin = UserFactory(is_superuser=True)
    scenario = drafts.scenario_create(actor=admin, name="Whole")
    other = draft_of(scenario, api_org.positions["other"])
    lead = draft_of(scenario, api_org.positions["other_lead"])
    new_parent = draft_of(scenario, api_org.positions["director"])
    drafts.draft_move(actor=admin, scenario=scenario, position=lead, new_parent=new_parent)
    drafts.draft_remove(actor=admin, scenario=scenario, position=other)
    restored = drafts.draft_restore(actor=admin, scenario=scenario, position=other)
    assert restored.parent_id is None
    assert other.pk not in {r.pk for r in compare.diff(scenario).moved}


def test_a_draft_change_of_fields_and_manager_is_all_or_nothing(api_org: Org):
    """One edit that renames and moves is one service, one transaction: when the move is
    refused the rename is not kept either (the API's PATCH calls it once)."""
    from tests.factories import session_client

    director = manager_user(api_org)
    scenario = drafts.scenario_create(actor=director, name="Both at once")
    d = lambda name: draft_of(scenario, api_org.positions[name])  # noqa: E731
    manager_a, lead_a = d("manager_a"), d("lead_a")
    with pytest.raises(ValidationError, match="reporting loop"):
        drafts.draft_change(
            actor=director, scenario=scenario, position=manager_a, title="Manager A1",
            new_parent=lead_a,
        )  # fmt: skip
    manager_a.refresh_from_db()
    assert (manager_a.title, manager_a.parent) == ("Manager A", d("director"))
    client = session_client(director)
    url = f"/api/scenarios/{scenario.pk}/positions/{manager_a.pk}/"
    loop = client.patch(url, {"title": "Manager A2", "parent": lead_a.pk}, format="json")
    assert loop.status_code == 400 and "reporting loop" in str(loop.json())
    manager_a.refresh_from_db()
    assert (manager_a.title, manager_a.parent) == ("Manager A", d("director"))
    both = client.patch(
        f"/api/scenarios/{scenario.pk}/positions/{d('lead_b').pk}/",
        {"title": "Lead B1", "parent": manager_a.pk},
        format="json",
    )
    assert both.status_code == 200, both.content
    lead_b = d("lead_b")
    assert (lead_b.title, lead_b.parent) == ("Lead B1", manager_a)
