"""The org chart's views: what each viewer gets, lazy levels, focus, search, and query
counts that do not follow the size of the organization."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from staffing.models import Person, Position
from staffing.spans import marks
from tests.factories import Org, UserFactory, log_in, make_position, make_team, session_client

pytestmark = pytest.mark.django_db


def cards(response) -> list[str]:
    """Titles of the tree items in a page or fragment, in order."""
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    return re.findall(r'<strong id="title-\d+">([^<]+)</strong>', html)


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_a_manager_opens_on_their_team_two_levels_deep(api_org: Org):
    client = log_in("manager", holds=api_org.positions["manager_a"])
    shown = cards(client.get("/"))
    assert shown[:2] == ["Manager A", "Lead A"] and len(shown) == 2 + 3
    assert "Director" not in shown and "Manager B" not in shown


def test_an_admin_sees_every_top_position_and_the_first_levels(api_org: Org):
    client = session_client(UserFactory(is_superuser=True))
    shown = cards(client.get("/"))
    assert {"Director", "Other Director", "Manager A", "Lead A", "Other Lead"} <= set(shown)
    assert "Agent 0" in shown  # Other Director › Other Lead › agents: level 2
    html = client.get("/").content.decode()
    lead_a = api_org.positions["lead_a"]
    item = re.search(rf'<li role="treeitem" id="pos-{lead_a.pk}"[^>]*>', html, re.S).group(0)
    assert 'aria-expanded="false"' in item  # level 3 waits to be opened


def test_expanding_loads_the_direct_reports_in_scope_only(api_org: Org):
    client = log_in("manager", holds=api_org.positions["manager_a"])
    lead = api_org.positions["lead_a"]
    assert cards(client.get(f"/chart/{lead.pk}/children/")) == ["Agent 0", "Agent 1", "Agent 2"]
    outside = api_org.positions["lead_b"]
    assert client.get(f"/chart/{outside.pk}/children/").status_code == 404


def test_focus_opens_the_path_and_highlights_the_card(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    deep = make_position("Deep agent", "advocate", api_org.mine, holder=None)
    html = admin.get(f"/?focus={deep.pk}").content.decode()
    assert f'id="pos-{deep.pk}"' in html
    assert 'aria-current="true" class="highlight"' in html
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    assert manager.get(f"/?focus={api_org.theirs.pk}").status_code == 404
    assert manager.get("/?root=abc").status_code == 404


def test_focus_here_re_roots_the_chart_with_a_breadcrumb(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    lead = api_org.positions["lead_a"]
    response = admin.get(f"/?root={lead.pk}")
    assert cards(response)[0] == "Lead A"
    html = response.content.decode()
    assert 'aria-label="Managers above"' in html and "Manager A</a>" in html


def test_cards_show_counts_vacancies_and_findings_with_the_reason(api_org: Org):
    marks.recompute()
    admin = session_client(UserFactory(is_superuser=True))
    html = admin.get("/").content.decode()
    assert 'title="3 direct reports, 3 in the team below">3 in team<' in html  # Lead A
    lead_b = api_org.positions["lead_b"]
    assert "Vacant · open" in admin.get(f"/chart/{lead_b.pk}/children/").content.decode()
    assert 'role="tooltip"' in html and "should have 6–10" in html
    assert 'aria-describedby="why-' in html


def test_search_finds_by_title_role_holder_and_location_within_scope(api_org: Org):
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    html = manager.get("/chart/search/", {"q": "agent"}).content.decode()
    assert html.count("<li>") == 3  # Lead A's agents; none of Lead B's or Other Lead's
    holder = Person.objects.get(pk=api_org.mine.holder_id)
    html = manager.get("/chart/search/", {"q": holder.family_name}).content.decode()
    assert f"?focus={api_org.mine.pk}" in html
    assert (
        "Nothing you can see matches"
        in manager.get("/chart/search/", {"q": "zzzz"}).content.decode()
    )
    assert "<li" not in manager.get("/chart/search/", {"q": "a"}).content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in ("/", "/chart/1/children/", "/chart/search/?q=ab"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_first_view_expand_and_search_run_a_fixed_number_of_queries(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    lead = api_org.positions["lead_a"]
    urls = [
        "/",
        f"/chart/{lead.pk}/children/",
        "/chart/search/?q=agent",
        f"/?focus={api_org.mine.pk}",
    ]
    before = {
        (who, url): queries(c, url) for who, c in (("a", admin), ("m", manager)) for url in urls
    }
    api_org.grow(teams=4, size=6)
    for n in range(3):
        make_team(make_position(f"Wide lead {n}", "team-lead", api_org.positions["manager_b"]), 8)
    after = {
        (who, url): queries(c, url) for who, c in (("a", admin), ("m", manager)) for url in urls
    }
    assert after == before


# --- editing from the chart ----------------------------------------------------------------------


def tree_state() -> list[tuple]:
    return list(Position.objects.order_by("pk").values_list("pk", "parent_id", "lft", "rght"))


def test_editors_get_controls_and_hr_gets_none(api_org: Org):
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    html = manager.get("/").content.decode()
    lead = api_org.positions["lead_a"]
    assert f'hx-get="/chart/{lead.pk}/move/"' in html
    own = api_org.positions["manager_a"]
    assert f'hx-get="/chart/{own.pk}/move/"' not in html  # not their own position
    assert f'hx-get="/chart/{own.pk}/add/"' in html  # but they add under it
    hr = session_client(UserFactory(groups=["hr"]))
    html = hr.get("/").content.decode()
    assert "Move to…" not in html and 'draggable="true"' not in html
    assert hr.get(f"/chart/{lead.pk}/move/").status_code == 403
    assert manager.get(f"/chart/{api_org.positions['lead_b'].pk}/move/").status_code == 404
    assert manager.get(f"/chart/{lead.pk}/explode/").status_code == 404


@pytest.mark.parametrize("action", ["add", "edit", "move", "fill", "vacate", "delete"])
def test_every_dialog_renders(api_org: Org, action):
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    response = manager.get(f"/chart/{api_org.positions['lead_a'].pk}/{action}/")
    assert response.status_code == 200
    assert 'id="dialog-heading"' in response.content.decode()


def test_move_a_team_from_the_chart(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    lead, target = api_org.positions["lead_a"], api_org.positions["manager_b"]
    response = admin.post(f"/chart/{lead.pk}/move/", {"new_parent": target.pk, "root": ""})
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#chart" and response["HX-Trigger"] == "chart-changed"
    html = response.content.decode()
    assert f'id="pos-{lead.pk}"' in html and 'aria-current="true"' in html
    lead.refresh_from_db()
    assert lead.parent_id == target.pk
    # Manager B now: Lead B and Lead A, with their teams
    assert 'title="2 direct reports, 8 in the team below"' in html
    moved = f"Moved Lead A ({lead.holder.full_name}) and its team."  # the holder named
    assert 'id="chart-status"' in html and moved in html


def test_a_refused_move_shows_the_reason_and_changes_nothing(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    manager, lead = api_org.positions["manager_a"], api_org.positions["lead_a"]
    before = tree_state()
    response = admin.post(f"/chart/{manager.pk}/move/", {"new_parent": lead.pk})
    assert response.status_code == 200 and "HX-Retarget" not in response
    html = response.content.decode()
    assert 'role="alert"' in html and "reporting loop" in html
    assert tree_state() == before
    response = admin.post(f"/chart/{manager.pk}/move/", {})
    assert "Choose the manager" in response.content.decode() and tree_state() == before


def test_add_offers_only_roles_the_rules_allow(api_org: Org, roles):
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    lead = api_org.positions["lead_a"]
    html = manager.get(f"/chart/{lead.pk}/add/").content.decode()
    assert "Customer Advocate" in html and "Director of Customer Advocacy" not in html
    refused = manager.post(
        f"/chart/{lead.pk}/add/", {"title": "Boss", "role": roles["director"].pk}
    )
    assert "HX-Retarget" not in refused and "valid choice" in refused.content.decode()
    response = manager.post(
        f"/chart/{lead.pk}/add/",
        {"title": "New agent", "role": roles["advocate"].pk, "status": "planned"},
    )
    assert response["HX-Retarget"] == "#chart"
    created = Position.objects.get(title="New agent")
    assert (created.parent_id, created.status) == (lead.pk, "planned")


def test_fill_vacate_edit_and_delete_from_the_chart(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    vacancy = Position.objects.get(title="Open B")
    newcomer = Person.objects.create(employee_id="N-1", given_name="Noor", family_name="Haddad")
    found = admin.get("/chart/people/", {"q": "hadd"}).content.decode()
    assert f'value="{newcomer.pk}"' in found
    response = admin.post(f"/chart/{vacancy.pk}/fill/", {"person": newcomer.pk})
    assert response["HX-Retarget"] == "#chart" and "Noor Haddad" in response.content.decode()
    again = admin.post(f"/chart/{vacancy.pk}/fill/", {"person": newcomer.pk})
    assert "already holds" in again.content.decode()
    assert admin.post(f"/chart/{vacancy.pk}/vacate/", {"note": ""})["HX-Retarget"] == "#chart"
    vacancy.refresh_from_db()
    assert vacancy.holder_id is None
    edited = admin.post(
        f"/chart/{vacancy.pk}/edit/", {"title": "Chat agent", "role": vacancy.role_id}
    )
    assert edited["HX-Retarget"] == "#chart"
    lead = api_org.positions["lead_b"]
    refused = admin.post(f"/chart/{lead.pk}/delete/", {"reports": "refuse"})
    assert "direct report" in refused.content.decode() and Position.objects.filter(pk=lead.pk)
    done = admin.post(f"/chart/{lead.pk}/delete/", {"reports": "move_up"})
    assert done["HX-Retarget"] == "#chart" and not Position.objects.filter(pk=lead.pk).exists()


def test_dotted_lines_show_distinctly_on_the_card(api_org: Org):
    from staffing import services

    services.dotted_line_add(
        actor=None,
        position=api_org.positions["lead_a"],
        manager=api_org.positions["manager_b"],
        purpose="Chat project",
    )
    admin = session_client(UserFactory(is_superuser=True))
    html = admin.get("/").content.decode()
    assert "⋯ also to Manager B" in html and "reporting line: Chat project" in html
    assert 'class="dotted"' in html


def test_move_to_offers_only_where_the_card_can_go(api_org: Org):
    manager_a = api_org.positions["manager_a"]
    lead_a = api_org.positions["lead_a"]
    client = log_in("manager", holds=manager_a)
    second = make_position("Lead A2", "team-lead", manager_a)
    url = f"/chart/search/?pick=new_parent&moving={lead_a.pk}&q="
    html = client.get(url + "Lead").content.decode()
    assert f'value="{second.pk}"' in html  # another lead in the manager's team
    assert f'value="{lead_a.pk}"' not in html  # itself
    agents = client.get(url + "Agent").content.decode()
    assert 'type="radio"' not in agents  # its own team: a loop
    assert "its own team and its present manager are left out" in agents
    assert f'value="{manager_a.pk}"' not in client.get(url + "Manager").content.decode()
    # an admin may move it anywhere else, other trees included
    admin = session_client(UserFactory(is_superuser=True))
    anywhere = admin.get(url + "Lead").content.decode()
    assert f'value="{api_org.positions["other_lead"].pk}"' in anywhere
    # HR sees everything and may place nothing
    hr = session_client(UserFactory(groups=["hr"]))
    assert 'type="radio"' not in hr.get(url + "Lead").content.decode()


def test_the_chart_page_offers_export_print_and_the_keys(api_org: Org):
    manager_a = api_org.positions["manager_a"]
    html = log_in("manager", holds=manager_a).get("/").content.decode()
    for fmt in ("csv", "svg", "png"):
        assert f'href="/chart/{manager_a.pk}/export.{fmt}" download' in html
    assert "data-print" in html and "<kbd>Delete</kbd>" in html
    assert 'aria-keyshortcuts="M"' in html
    hr = session_client(UserFactory(groups=["hr"])).get("/").content.decode()
    assert 'href="/chart/export.csv" download' in hr  # the whole organization
    assert "<kbd>Delete</kbd>" not in hr and 'aria-keyshortcuts="M"' not in hr
    assert 'data-action="edit"' not in hr


def test_a_cards_history_link_opens_the_positions_history_page(api_org: Org):
    """Not the API's JSON (both routes were once named "position-history"), and under the name
    the navigation uses."""
    manager_a = api_org.positions["manager_a"]
    client = log_in("manager", holds=manager_a)
    page = client.get("/").content.decode()
    link = re.search(r'class="history-link" href="([^"]+)"[^>]*>History</a>', page)
    assert link and link.group(1) == f"/history/positions/{manager_a.pk}/"
    answer = client.get(link.group(1))
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/html")
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', answer.content.decode(), re.S)
    assert '<a href="/history/">History</a>' in nav.group(1) and "Changes" not in nav.group(1)
