"""The chart's editing dialogs, live and in a draft: "Add report" only where the role may
have reports and only the roles its span rule allows (the service and the API refuse the
rest), the new position's suggested role, location and title, the holder named wherever a
position is named for an action, "Move to…" with the positions near the card before any
typing, and the warnings after a move for the team that lost people too."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from roles.models import Role
from staffing import services
from staffing.models import Person, Position, Scenario
from staffing.scenarios import drafts
from tests.factories import Org, UserFactory, log_in, make_position, make_team, session_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return session_client(UserFactory(is_superuser=True))


def heading(html: str) -> str:
    return re.search(r'<h2 id="dialog-heading">([^<]*)</h2>', html).group(1)


def radios(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'type="radio" name="new_parent" value="(\d+)"', html)]


def status(response) -> str:
    assert response["HX-Retarget"] == "#chart", response.content.decode()[:2000]
    html = response.content.decode()
    return html[html.index('id="chart-status"') :]  # the status line comes last


def created_count() -> int:
    return Position.objects.count()


# --- which roles may have reports, and which ------------------------------------------------


def test_a_role_may_have_reports_with_a_span_rule_or_in_management(roles):
    may = {code for code, role in roles.items() if role.may_have_reports}
    assert {"team-lead", "advocate-manager", "director", "vp", "ops-manager"} <= may
    assert not may & {"associate-advocate", "advocate", "senior-advocate", "tse", "architect"}
    lead, vp = roles["team-lead"], roles["vp"]
    assert lead.allows_report(roles["advocate"]) and not lead.allows_report(roles["vp"])
    assert vp.allows_report(roles["director"])  # no rule: any role
    assert not roles["advocate"].allows_report(roles["associate-advocate"])


def test_add_report_shows_only_on_cards_whose_role_may_have_reports(api_org: Org, admin):
    html = admin.get("/").content.decode()
    lead = api_org.positions["lead_a"]
    agents = Position.objects.filter(role__code="advocate")
    shown = [a for a in agents if f'id="pos-{a.pk}"' in html]
    assert shown  # the agents of Other Lead are on the first page
    assert f'hx-get="/chart/{lead.pk}/add/"' in html
    assert not [a for a in shown if f'hx-get="/chart/{a.pk}/add/"' in html]
    children = admin.get(f"/chart/{lead.pk}/children/").content.decode()
    assert "/move/" in children and "/add/" not in children  # agents: moved, never added to


def test_the_add_dialog_under_an_agent_says_why_and_adds_nothing(api_org: Org, roles):
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    agent = api_org.mine
    dialog = manager.get(f"/chart/{agent.pk}/add/").content.decode()
    assert "has no direct reports" in dialog and agent.label in dialog
    assert 'type="submit"' not in dialog and "<select" not in dialog
    before = created_count()
    refused = manager.post(f"/chart/{agent.pk}/add/", {"title": "VP", "role": roles["vp"].pk})
    assert "HX-Retarget" not in refused and "has no direct reports" in refused.content.decode()
    assert created_count() == before


def test_add_offers_the_rules_roles_and_suggests_role_location_and_title(located_org, roles):
    lead = located_org["north_lead"]
    client = log_in("manager", holds=located_org["north"])
    dialog = client.get(f"/chart/{lead.pk}/add/").content.decode()
    roles_field = re.search(r'<select name="role".*?</select>', dialog, re.S).group(0)
    offered = set(re.findall(r'<option value="(\d+)"', roles_field))
    agent_roles = Role.objects.get(code="team-lead").span_rule.allowed_reports.all()
    assert offered == {str(r.pk) for r in agent_roles}
    assert f'<option value="{roles["advocate"].pk}" selected>' in dialog  # as its team has
    assert f'<option value="{located_org["dublin"].pk}" selected>' in dialog
    assert heading(dialog) == f"Add a position under {lead.label}"
    response = client.post(
        f"/chart/{lead.pk}/add/",
        {"title": "", "role": roles["senior-advocate"].pk, "location": located_org["dublin"].pk},
    )
    assert f"Added a position under {lead.label}." in status(response)
    made = Position.objects.get(parent=lead, role=roles["senior-advocate"])
    assert (made.title, made.location) == ("Senior Customer Advocate", located_org["dublin"])


def test_a_team_lead_with_no_team_suggests_its_own_location(located_org, roles):
    empty = make_position("Empty Lead", "team-lead", located_org["south"], holder=None,
                          location=located_org["lisbon"])  # fmt: skip
    admin = session_client(UserFactory(is_superuser=True))
    dialog = admin.get(f"/chart/{empty.pk}/add/").content.decode()
    assert f'<option value="{located_org["lisbon"].pk}" selected>' in dialog
    assert not re.search(r'<option value="\d+" selected>[^<]*Advocate', dialog)  # 7 roles: none


def test_the_service_and_the_api_refuse_a_role_the_rule_does_not_allow(api_org: Org, roles):
    lead, agent = api_org.positions["lead_a"], api_org.mine
    user = UserFactory(is_superuser=True)
    before = created_count()
    for parent, role, words in (
        (lead, roles["director"], "span rule allows only these direct reports"),
        (agent, roles["advocate"], "has no direct reports"),
    ):
        with pytest.raises(ValidationError) as refused:
            services.position_create(actor=user, parent=parent, title="X", role=role)
        assert refused.value.error_dict["role"][0].code == "report_not_allowed"
        assert words in refused.value.messages[0] and parent.label in refused.value.messages[0]
    api = log_in("manager", holds=api_org.positions["manager_a"])
    response = api.post(
        "/api/positions/",
        {"title": "Boss", "role": roles["director"].pk, "parent": lead.pk},
        format="json",
    )
    assert response.status_code == 400 and "span rule allows only" in response.json()["role"][0]
    assert created_count() == before
    # the system records the organization as it is; the findings flag it afterwards
    services.position_create(actor=None, parent=agent, title="Shadow", role=roles["advocate"])
    assert created_count() == before + 1


def test_nothing_moves_under_a_position_without_reports(api_org: Org, admin):
    agent, other = Position.objects.filter(parent=api_org.positions["lead_a"])[:2]
    refused = admin.post(f"/chart/{agent.pk}/move/", {"new_parent": other.pk})
    assert "HX-Retarget" not in refused and 'role="alert"' in refused.content.decode()
    assert f"{other.label} is a Customer Advocate position" in refused.content.decode()
    assert Position.objects.get(pk=agent.pk).parent_id == api_org.positions["lead_a"].pk
    user = UserFactory(is_superuser=True)
    scenario = drafts.scenario_create(actor=user, name="Flat", root=api_org.positions["director"])
    rows = [scenario.positions.get(source=p) for p in (agent, other)]
    with pytest.raises(ValidationError, match="has no direct reports"):
        drafts.draft_move(actor=user, scenario=scenario, position=rows[0], new_parent=rows[1])
    found = admin.get(
        f"/scenarios/{scenario.pk}/search/?q=agent&pick=new_parent&moving={rows[0].pk}"
    )
    assert "Nothing you could move" in found.content.decode()  # agents only: none offered


# --- the holder named -------------------------------------------------------------------------


def test_dialogs_and_the_status_line_name_the_holder(api_org: Org):
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    agent = api_org.mine
    holder = Person.objects.get(pk=agent.holder_id)
    label = f"{agent.title} ({holder.full_name})"
    dialog = manager.get(f"/chart/{agent.pk}/vacate/").content.decode()
    assert heading(dialog) == f"Vacate {label}"
    assert f"{holder.full_name} leaves {agent.title}; the position stays" in dialog
    for action, words in (("move", "Move"), ("delete", "Delete"), ("edit", "Change")):
        assert heading(manager.get(f"/chart/{agent.pk}/{action}/").content.decode()).startswith(
            f"{words} {label}"
        )
    assert f"Vacated {label}." in status(manager.post(f"/chart/{agent.pk}/vacate/", {}))
    assert heading(manager.get(f"/chart/{agent.pk}/fill/").content.decode()) == (
        f"Fill {agent.title} (vacant)"
    )
    filled = manager.post(f"/chart/{agent.pk}/fill/", {"person": holder.pk})
    assert f"Filled {label}." in status(filled)  # as it is now: with its new holder


# --- move: nearby first, and warnings for both teams --------------------------------------------


def test_move_lists_the_positions_near_it_before_any_typing(api_org: Org):
    manager_a, lead_a = api_org.positions["manager_a"], api_org.positions["lead_a"]
    second = make_position("Weekend Lead", "team-lead", manager_a)  # after "Manager A" by title
    make_position("Analyst", "systems-analyst", manager_a, holder=None)  # takes no advocate
    client = log_in("manager", holds=manager_a)
    agent = api_org.mine
    dialog = client.get(f"/chart/{agent.pk}/move/").content.decode()
    # its manager's peer first, then its manager's manager; not its own manager, not its
    # peers (agents take no reports), nothing outside the viewer's part
    assert radios(dialog) == [second.pk, manager_a.pk]
    second.refresh_from_db()
    assert Person.objects.get(pk=second.holder_id).full_name in dialog
    assert "Near it now" in dialog and "checked" not in dialog
    # the search gives the same before two letters are typed, and a single match preselected
    url = f"/chart/search/?pick=new_parent&moving={agent.pk}&q="
    assert radios(client.get(url).content.decode()) == [second.pk, manager_a.pk]
    one = client.get(url + "Weekend").content.decode()
    assert radios(one) == [second.pk] and f'value="{second.pk}" checked' in one
    several = client.get(url + "ad").content.decode()  # leads and Advocate Manager
    assert len(radios(several)) > 1 and " checked" not in several
    assert not set(radios(several)) & set(
        Position.objects.filter(role__code="advocate").values_list("pk", flat=True)
    )  # agents take no reports
    # a lead whose manager is the top of the viewer's part: nothing near it may take it
    assert (
        "Nothing near Lead A can take it"
        in client.get(f"/chart/{lead_a.pk}/move/").content.decode()
    )


def test_the_move_dialog_runs_a_fixed_number_of_queries(api_org: Org, admin):
    agent = api_org.mine

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get(f"/chart/{agent.pk}/move/").status_code == 200
        return len(captured.captured_queries)

    before = count()
    api_org.grow(teams=3, size=2)
    assert count() == before


def test_after_a_move_the_team_that_lost_people_is_warned_too(api_org: Org, admin):
    seven = make_position("Lead Seven", "team-lead", api_org.positions["manager_b"])
    agents = make_team(seven, 7)
    target = api_org.positions["lead_b"]
    first = status(admin.post(f"/chart/{agents[0].pk}/move/", {"new_parent": target.pk}))
    assert "Lead Seven" not in first  # six left: within 6–10
    assert f"{target.label}: 4 direct reports" in first  # the receiving team, as before
    second = status(admin.post(f"/chart/{agents[1].pk}/move/", {"new_parent": target.pk}))
    assert f"{seven.label}: 5 direct reports; a Team Lead should have 6–10" in second
    assert f"Moved {agents[1].label} and its team." in second


# --- the same in a draft -------------------------------------------------------------------------


def test_drafts_apply_the_same_rules_and_names(api_org: Org, roles):
    director = api_org.positions["director"]
    user = UserFactory(is_superuser=True)
    client = session_client(user)
    scenario = drafts.scenario_create(actor=user, name="Next", root=director)
    row = lambda p: scenario.positions.get(source=p)  # noqa: E731
    agent, lead_a, lead_b = row(api_org.mine), row(api_org.positions["lead_a"]), None
    lead_b = row(api_org.positions["lead_b"])
    base = f"/scenarios/{scenario.pk}/p/"
    children = client.get(f"{base}{lead_a.pk}/children/").content.decode()
    assert f"{base}{agent.pk}/move/" in children and f"{base}{agent.pk}/add/" not in children
    assert "has no direct reports" in client.get(f"{base}{agent.pk}/add/").content.decode()
    with pytest.raises(ValidationError):
        drafts.draft_add(actor=user, scenario=scenario, parent=lead_a, title="Boss",
                            role=roles["director"])  # fmt: skip
    dialog = client.get(f"{base}{agent.pk}/move/").content.decode()
    assert heading(dialog) == f"Draft: move {agent.label} and its team"
    manager_a = row(api_org.positions["manager_a"])
    assert radios(dialog) == [manager_a.pk]  # its manager's manager; Lead B is two steps away
    moved = status(client.post(f"{base}{agent.pk}/move/", {"new_parent": lead_b.pk}))
    assert f"Moved {agent.label} and its team in the draft." in moved
    assert f"{lead_a.label}: 2 direct reports" in moved  # the team it left
    assert Scenario.objects.get(pk=scenario.pk).positions.get(pk=agent.pk).parent_id == lead_b.pk


# --- in the browser ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_adds_where_reports_belong_and_moves_to_a_nearby_lead(page, live_server, synapse):
    from playwright.sync_api import expect

    from tests.test_browser import log_in as browser_log_in

    manager = Position.objects.get(holder__user__username="manager")
    lead_a, lead_b, lead_c = manager.get_children().order_by("title")
    assert lead_c.get_children().count() == 7
    page.set_viewport_size({"width": 1280, "height": 2600})
    browser_log_in(page, live_server, "manager")
    dialog, status = page.get_by_role("dialog"), page.locator("#chart-status")
    card = lambda pk: page.locator(f"#pos-{pk} > .pcard")  # noqa: E731

    def open_dialog(pk: int, item: str) -> None:
        card(pk).hover()
        card(pk).locator(".menu-button").click()  # the card's one menu of actions
        card(pk).get_by_role("menuitem", name=item).click()
        expect(dialog).to_be_visible()

    # "Add report" on the leads, never on an agent's card
    expect(page.locator(f"#group-{lead_c.pk} [data-action=add]")).to_have_count(0)
    expect(card(lead_c.pk).locator("[data-action=add]")).to_have_count(1)

    # the role and location come suggested, the title from the role
    open_dialog(lead_a.pk, "Add report")
    expect(dialog.get_by_label("Role")).to_have_value(str(Role.objects.get(code="advocate").pk))
    expect(dialog.get_by_label("Location")).not_to_have_value("")
    dialog.get_by_role("button", name="Add").click()
    expect(status).to_contain_text(f"Added a position under {lead_a.label}.")
    assert lead_a.get_children().filter(title="Customer Advocate", holder=None).exists()

    # Move to…: the leads near it before any typing, holders named
    first, second = lead_c.get_children().order_by("lft")[:2]
    open_dialog(first.pk, "Move to…")
    nearby = dialog.get_by_role("group", name="Near it now")
    expect(nearby.get_by_role("radio")).to_have_count(3)  # Leads A and B, their manager
    nearby.get_by_role("radio", name=re.compile(re.escape(lead_b.title))).check()
    dialog.get_by_role("button", name="Move").click()
    expect(status).to_contain_text(f"Moved {first.label} and its team.")
    expect(status).not_to_contain_text(lead_c.title)  # six left: within 6–10

    # a single match is chosen already; the team left with five is warned about
    open_dialog(second.pk, "Move to…")
    dialog.get_by_label("Find the new manager").fill(lead_b.title)
    expect(dialog.get_by_role("radio", name=re.compile(re.escape(lead_b.title)))).to_be_checked()
    dialog.get_by_role("button", name="Move").click()
    expect(status).to_contain_text(f"{lead_c.label}: 5 direct reports")
    assert Position.objects.get(pk=second.pk).parent_id == lead_b.pk
