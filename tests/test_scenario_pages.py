"""Scenario pages: the list and a new draft, the draft in the chart editor (every dialog
through the scenario services, the live tree untouched), the comparison with live, apply
with and without conflicts, discard and archive, who sees what, and a capacity plan drafted
as a scenario."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from roles.models import Role
from staffing import services
from staffing.models import Person, Position, Scenario, ScenarioPosition
from staffing.scenarios import compare, drafts
from tests.factories import Org, PersonFactory, UserFactory, session_client

pytestmark = pytest.mark.django_db


def cards(html: str) -> list[str]:
    return re.findall(r'<strong id="title-\d+">([^<]+)</strong>', html)


def holder_user(position: Position, group: str):
    user = UserFactory(groups=[group])
    Person.objects.filter(pk=position.holder_id).update(user=user)
    return user


def live_tree() -> list[tuple]:
    return sorted(Position.objects.values_list("pk", "parent_id", "title", "holder_id", "role_id"))


def row(scenario: Scenario, position: Position) -> ScenarioPosition:
    return scenario.positions.get(source=position)


def draft_for(client, name="Next quarter") -> Scenario:
    response = client.post("/scenarios/", {"name": name})
    assert response.status_code == 302, response.content.decode()[:2000]
    scenario = Scenario.objects.get(name=name)
    assert response.url == f"/scenarios/{scenario.pk}/"
    return scenario


def changed(response, status: str):
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response["HX-Retarget"] == "#chart", response.content.decode()[:2000]
    html = response.content.decode()
    assert status in html
    return html


def test_a_director_drafts_reshapes_compares_and_applies_from_the_pages(api_org: Org):
    director = holder_user(api_org.positions["director"], "director")
    client = session_client(director)
    assert "New draft" in client.get("/scenarios/").content.decode()
    scenario = draft_for(client)
    before = live_tree()

    page = client.get(f"/scenarios/{scenario.pk}/").content.decode()
    assert "changes here stay in this draft" in page and 'class="draft-frame"' in page
    assert cards(page)[:3] == ["Director", "Manager A", "Lead A"]
    me, lead_a, lead_b = (row(scenario, api_org.positions[n]) for n in ("director", "lead_a",
                                                                          "lead_b"))  # fmt: skip
    base = f"/scenarios/{scenario.pk}/p/"
    assert f'hx-get="{base}{me.pk}/add/"' in page
    assert f'hx-get="{base}{me.pk}/edit/"' not in page  # their own card, as on the live chart
    assert client.get(f"{base}{me.pk}/edit/").status_code == 403
    item = re.search(rf'<li role="treeitem" id="pos-{lead_a.pk}"[^>]*>', page, re.S).group(0)
    assert 'aria-expanded="false"' in item  # the third level waits, in the chart view

    # every dialog renders, marked as the draft's
    for action in ("add", "edit", "move", "fill", "delete"):
        dialog = client.get(f"{base}{lead_b.pk}/{action}/")
        assert dialog.status_code == 200 and "Draft: " in dialog.content.decode()
    manager_a = row(scenario, api_org.positions["manager_a"])
    html = changed(client.post(f"{base}{lead_b.pk}/move/", {"new_parent": manager_a.pk}),
                   f"Moved {lead_b.label} and its team in the draft.")  # fmt: skip
    assert "moved" in html and f'data-prefix="{base}"' in html
    advocate = Role.objects.get(code="advocate")
    changed(client.post(f"{base}{lead_a.pk}/add/", {"title": "Chat agent", "role": advocate.pk}),
            f"Added a position under {lead_a.label} in the draft.")  # fmt: skip
    changed(client.post(f"{base}{lead_a.pk}/edit/", {"title": "Lead A, phones", "role":
                                                     lead_a.role_id}), "Saved Lead A")  # fmt: skip
    added = scenario.positions.get(title="Chat agent")
    newcomer = PersonFactory()
    changed(client.post(f"{base}{added.pk}/fill/", {"person": newcomer.pk}), "Filled Chat agent")
    refused = client.post(f"{base}{lead_a.pk}/delete/", {"reports": "refuse"})
    assert refused.status_code == 200 and "has direct reports" in refused.content.decode()
    assert "HX-Retarget" not in refused
    assert live_tree() == before  # nothing live has changed

    children = client.get(f"{base}{lead_a.pk}/children/").content.decode()
    assert "Chat agent" in cards(children) and "added in the draft" in children
    listed = client.get(f"/scenarios/{scenario.pk}/search/?q=phones").content.decode()
    assert f'href="/scenarios/{scenario.pk}/?focus={lead_a.pk}"' in listed
    focused = client.get(f"/scenarios/{scenario.pk}/?root={lead_a.pk}").content.decode()
    assert 'aria-label="Managers above"' in focused and ">Manager A</a>" in focused
    found = client.get(
        f"/scenarios/{scenario.pk}/search/?q=lead&pick=new_parent&moving={lead_b.pk}"
    )
    assert "Lead A, phones" in found.content.decode() and ">Lead B<" not in found.content.decode()

    diff = client.get(f"/scenarios/{scenario.pk}/diff/").content.decode()
    named = {key: api_org.positions[key].label for key in ("lead_b", "manager_a", "manager_b")}
    assert (
        f'<th scope="row">{named["lead_b"]}</th><td>{named["manager_b"]}</td>'
        f"<td>{named['manager_a']}</td>" in diff
    )  # each position named with its holder: forty cards may share a title
    assert "Chat agent" in diff and "Lead A, phones" in diff
    assert 'id="headcount-role"' in diff and "Conflicts" not in diff
    assert "Apply to the live organization</button>" in diff
    assert f'action="/scenarios/{scenario.pk}/apply/"' in diff

    applied = client.post(f"/scenarios/{scenario.pk}/apply/")
    assert applied.status_code == 302
    assert applied.url == f"/?root={api_org.positions['director'].pk}"
    chart = client.get(applied.url).content.decode()
    assert "Applied “Next quarter” to the live organization" in chart
    assert (
        Position.objects.get(pk=api_org.positions["lead_b"].pk).parent
        == api_org.positions["manager_a"]
    )
    assert Position.objects.get(title="Chat agent").holder == newcomer
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.APPLIED
    read_only = client.get(f"/scenarios/{scenario.pk}/").content.decode()
    assert "Applied scenario" in read_only and "Add report" not in read_only
    assert client.get(f"{base}{lead_a.pk}/add/").status_code == 403
    assert client.post(f"/scenarios/{scenario.pk}/archive/").status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.ARCHIVED


def test_apply_refused_with_the_conflicts_changes_nothing(api_org: Org):
    director = holder_user(api_org.positions["director"], "director")
    client = session_client(director)
    scenario = draft_for(client)
    lead_b = row(scenario, api_org.positions["lead_b"])
    manager_a = row(scenario, api_org.positions["manager_a"])
    client.post(f"/scenarios/{scenario.pk}/p/{lead_b.pk}/move/", {"new_parent": manager_a.pk})
    # meanwhile, in the live tree, Lead B moves elsewhere
    services.position_move(
        actor=None, position=api_org.positions["lead_b"], new_parent=api_org.positions["director"]
    )
    before = live_tree()
    diff = client.get(f"/scenarios/{scenario.pk}/diff/").content.decode()
    assert "Conflicts with the live organization (1)" in diff
    assert (
        f"{api_org.positions['lead_b'].label}: its manager has changed" in diff
        and 'disabled aria-disabled="true"' in diff
    )
    assert "stays the same" in diff  # a move changes no headcount
    refused = client.post(f"/scenarios/{scenario.pk}/apply/")
    assert refused.status_code == 409
    assert "Nothing was applied" in refused.content.decode()
    assert live_tree() == before
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.DRAFT


def test_who_sees_and_changes_which_scenario(api_org: Org):
    director = holder_user(api_org.positions["director"], "director")
    scenario = drafts.scenario_create(actor=director, name="Mine")
    lead_a = row(scenario, api_org.positions["lead_a"])
    other = session_client(holder_user(api_org.positions["other"], "director"))
    assert other.get(f"/scenarios/{scenario.pk}/").status_code == 404
    assert other.get(f"/scenarios/{scenario.pk}/diff/").status_code == 404
    assert other.post(f"/scenarios/{scenario.pk}/apply/").status_code == 404
    assert "Mine" not in other.get("/scenarios/").content.decode()

    hr = session_client(UserFactory(groups=["hr"]))
    page = hr.get(f"/scenarios/{scenario.pk}/").content.decode()
    assert "Lead A" in page and "Add report" not in page and "Discard" not in page
    assert hr.get(f"/scenarios/{scenario.pk}/p/{lead_a.pk}/edit/").status_code == 403
    assert hr.post("/scenarios/", {"name": "HR draft"}).status_code == 403
    assert "New draft" not in hr.get("/scenarios/").content.decode()

    assert session_client(director).post("/scenarios/", {"name": " "}).status_code == 400
    assert session_client(director).post(f"/scenarios/{scenario.pk}/discard/").status_code == 302
    scenario.refresh_from_db()
    assert scenario.status == Scenario.Status.DISCARDED
    mine = session_client(director)
    assert mine.get(f"/scenarios/{scenario.pk}/p/{lead_a.pk}/edit/").status_code == 403
    listed = mine.get("/scenarios/?status=discarded").content.decode()
    assert "Mine" in listed


def test_a_copy_of_a_scenario_starts_where_it_left_off(api_org: Org):
    director = holder_user(api_org.positions["director"], "director")
    client = session_client(director)
    first = draft_for(client, "First")
    lead_a = row(first, api_org.positions["lead_a"])
    client.post(f"/scenarios/{first.pk}/p/{lead_a.pk}/edit/", {"title": "Renamed",
                                                              "role": lead_a.role_id})  # fmt: skip
    response = client.post("/scenarios/", {"name": "Second", "based_on": first.pk})
    second = Scenario.objects.get(name="Second")
    assert response.url == f"/scenarios/{second.pk}/"
    assert second.positions.filter(title="Renamed").exists()
    assert second.based_on == first


def test_the_draft_page_runs_a_fixed_number_of_queries(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    small = draft_for(admin, "Small")
    api_org.grow(teams=4, size=6)
    large = draft_for(admin, "Large")
    counts = []
    for scenario in (small, large):
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(f"/scenarios/{scenario.pk}/").status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts


def test_a_capacity_plan_becomes_a_draft_and_shows_its_comparison(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    page = admin.get("/capacity/").content.decode()
    assert "Draft a scenario from this plan" in page
    response = admin.post("/scenarios/from-plan/", {"name": "Sized", "phone-per_day": "120"})
    scenario = Scenario.objects.get(name="Sized")
    assert response.status_code == 302 and response.url == f"/scenarios/{scenario.pk}/diff/"
    diff = admin.get(response.url).content.decode()
    assert "Drafted “Sized” from the plan." in diff
    assert scenario.positions.filter(source__isnull=True).count() > 0
    assert re.search(r'id="diff-added"', diff)
    groups = re.findall(
        r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td><td class="num">(\d+)</td>', diff
    )
    added = scenario.positions.filter(source__isnull=True)
    assert sum(int(n) for _t, _u, n in groups) == added.count()
    bad = admin.post("/scenarios/from-plan/", {"name": "Bad", "t1-shrinkage": "x"})
    assert bad.status_code == 302 and bad.url.startswith("/capacity/?")
    assert not Scenario.objects.filter(name="Bad").exists()
    hr = session_client(UserFactory(groups=["hr"]))
    assert "Draft a scenario from this plan" not in hr.get("/capacity/").content.decode()


def test_a_removed_position_can_be_restored_into_the_draft(api_org: Org):
    director = holder_user(api_org.positions["director"], "director")
    client = session_client(director)
    scenario = draft_for(client)
    agent = row(scenario, api_org.mine)
    base = f"/scenarios/{scenario.pk}/p/"
    changed(client.post(f"{base}{agent.pk}/delete/", {"reports": "refuse"}), "Removed")
    page = client.get(f"/scenarios/{scenario.pk}/").content.decode()
    assert "Removed in this draft (1)" in page and "Restore Agent 0" in page
    response = client.post(f"/scenarios/{scenario.pk}/removed/{agent.pk}/restore/")
    assert response.url == f"/scenarios/{scenario.pk}/?focus={agent.pk}"
    agent.refresh_from_db()
    assert not agent.removed and agent.parent == row(scenario, api_org.positions["lead_a"])
    assert agent.holder_id is None and agent.status == Position.Status.OPEN
    assert compare.diff(scenario).removed == []
    again = client.post(f"/scenarios/{scenario.pk}/removed/{agent.pk}/restore/", follow=True)
    assert "No removed position" in again.content.decode()


def test_the_comparison_names_each_position_with_its_holder(api_org: Org):
    """Moved, changed and removed positions, and the managers they move between, are named
    "Title (Holder)" or "Title (vacant)", in the same number of queries however many."""
    admin = session_client(UserFactory(is_superuser=True))
    scenario = draft_for(admin)
    lead_a, lead_b = (
        row(scenario, api_org.positions["lead_a"]),
        row(scenario, api_org.positions["lead_b"]),
    )
    agents = list(scenario.positions.filter(parent=lead_a))
    vacancy = scenario.positions.get(title="Open B")

    def compared() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as captured:
            html = admin.get(f"/scenarios/{scenario.pk}/diff/").content.decode()
        return html, len(captured)

    drafts.draft_move(actor=admin.user, scenario=scenario, position=agents[0], new_parent=lead_b)
    html, first = compared()
    moved = Position.objects.select_related("holder").get(pk=agents[0].source_id)
    assert f'<th scope="row">{moved.label}</th>' in html
    assert f"<td>{api_org.positions['lead_a'].label}</td>" in html
    for agent in agents[1:]:
        drafts.draft_move(actor=admin.user, scenario=scenario, position=agent, new_parent=lead_b)
        drafts.draft_update(actor=admin.user, scenario=scenario, position=agent, title="Chat")
    drafts.draft_remove(actor=admin.user, scenario=scenario, position=vacancy)
    html, more = compared()
    assert more == first
    assert '<th scope="row">Open B (vacant)</th>' in html  # removed
    renamed = Position.objects.select_related("holder").get(pk=agents[1].source_id)
    assert f'rowspan="1">{renamed.label}</th>' in html  # changed: named as it was
