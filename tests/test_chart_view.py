"""The chart view: cards placed by the server with the export's layout, the teams a page asks
to have open, expanding to a level, the view remembered per user, the holder's pop-over, and
query counts that do not follow the size of the organization."""

import datetime
import json
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from staffing.models import ChartPreference, Position
from staffing.scenarios import drafts
from staffing.web import chart
from tests.factories import Org, UserFactory, log_in, make_position, make_team, session_client

pytestmark = pytest.mark.django_db


class _Cards(HTMLParser):
    """The cards of a chart view with where they are on the canvas: each card's place is
    given from its manager's card, so they add up down the tree."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[int, int] | None] = []
        self.found: list[tuple[int, int, int]] = []

    def handle_starttag(self, tag, attrs):
        if tag != "li":
            return
        attrs = dict(attrs)
        at = re.fullmatch(r"left: (-?\d+)px; top: (-?\d+)px", attrs.get("style") or "")
        if attrs.get("role") != "treeitem" or not at:
            self.stack.append(None)
            return
        above = next((p for p in reversed(self.stack) if p is not None), (0, 0))
        x, y = above[0] + int(at.group(1)), above[1] + int(at.group(2))
        self.stack.append((x, y))
        self.found.append((int(attrs["id"].removeprefix("pos-")), x, y))

    def handle_endtag(self, tag):
        if tag == "li" and self.stack:
            self.stack.pop()


def placed(html: str) -> list[tuple[int, int, int]]:
    """(id, x, y) of every card of a chart view, in the page's order."""
    parser = _Cards()
    parser.feed(html)
    return parser.found


def shown(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<li role="treeitem" id="pos-(\d+)"', html)}


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_chart_view_places_cards_as_the_export_draws_them(api_org: Org):
    director = api_org.positions["director"]
    admin = session_client(UserFactory(is_superuser=True))
    html = admin.get(f"/?root={director.pk}&level=3").content.decode()
    assert 'data-view="chart"' in html and '<svg class="chart-lines"' in html
    cards = placed(html)
    assert len(cards) == Position.objects.filter(tree_id=director.tree_id).count() == 11
    svg = admin.get(f"/chart/{director.pk}/export.svg?depth=3").content.decode()
    drawn = [
        (float(x), float(y))
        for x, y in re.findall(r'<g transform="translate\(([\d.]+) ([\d.]+)\)', svg)
    ]
    # the same layout: every card at the same place relative to the top card (whole pixels)
    (_, x0, y0), (ex0, ey0) = cards[0], drawn[0]
    assert [(x - x0, y - y0) for _, x, y in cards] == [
        (round(x - ex0), round(y - ey0)) for x, y in drawn
    ]
    # a manager over two teams is centred over them; agents stack under their lead
    lead_a = api_org.positions["lead_a"]
    at = {pk: (x, y) for pk, x, y in cards}
    agents = Position.objects.filter(parent=lead_a).order_by("lft")
    assert {at[a.pk][0] for a in agents} == {at[lead_a.pk][0] + 20}
    ys = [at[a.pk][1] for a in agents]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_open_shows_the_top_card_and_exactly_the_teams_asked_for(api_org: Org):
    manager_a, lead_a = api_org.positions["manager_a"], api_org.positions["lead_a"]
    client = log_in("manager", holds=manager_a)
    assert shown(client.get("/?open=").content.decode()) == {manager_a.pk}
    assert shown(client.get(f"/?open={manager_a.pk}").content.decode()) == {
        manager_a.pk,
        lead_a.pk,
    }
    agents = set(Position.objects.filter(parent=lead_a).values_list("pk", flat=True))
    both = client.get(f"/?open={manager_a.pk},{lead_a.pk}&partial=chart")
    html = both.content.decode()
    assert shown(html) == {manager_a.pk, lead_a.pk} | agents
    assert html.lstrip().startswith('<div id="chart"') and "<html" not in html
    assert f'data-open="{manager_a.pk},{lead_a.pk}"' in html  # sent back to open one more
    # a team under a closed one is not shown; a team outside the viewer's part is no team
    assert shown(client.get(f"/?open={lead_a.pk}").content.decode()) == {manager_a.pk}
    outside = api_org.positions["lead_b"]
    assert shown(client.get(f"/?open={manager_a.pk},{outside.pk}").content.decode()) == {
        manager_a.pk,
        lead_a.pk,
    }


@pytest.mark.parametrize(
    "query", ["open=abc", "open=1;2", f"open={','.join(['1'] * 401)}", "level=-1", "level=31"]
)
def test_a_chart_asked_for_wrongly_is_refused_with_the_reason(api_org: Org, query):
    client = session_client(UserFactory(is_superuser=True))
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert b"open" in response.content or b"level" in response.content


def test_level_opens_every_team_down_to_it_within_the_card_limit(api_org: Org, monkeypatch):
    admin = session_client(UserFactory(is_superuser=True))
    tops = {api_org.positions["director"].pk, api_org.positions["other"].pk}
    assert shown(admin.get("/?level=0").content.decode()) == tops
    one = shown(admin.get("/?level=1").content.decode())
    assert one == tops | set(Position.objects.filter(level=1).values_list("pk", flat=True))
    assert len(shown(admin.get("/?level=3").content.decode())) == Position.objects.count()
    monkeypatch.setattr(chart, "CARD_LIMIT", 9)  # 2 + 3 + 4 fit, the next level does not
    html = admin.get("/?level=3").content.decode()
    assert shown(html) == set(Position.objects.filter(level__lte=2).values_list("pk", flat=True))
    assert 'data-level="3"' in html
    assert "2 levels open: the next would put more than" in html  # it says why it stopped
    assert "levels open: the next" not in admin.get("/?level=2").content.decode()


def test_the_chart_views_queries_do_not_follow_the_size_of_the_organization(api_org: Org):
    manager_a, lead_a = api_org.positions["manager_a"], api_org.positions["lead_a"]
    client = log_in("manager", holds=manager_a)
    url = f"/?open={manager_a.pk},{lead_a.pk}&partial=chart"
    page = f"/?root={manager_a.pk}&level=3"
    before = queries(client, url), queries(client, page)
    make_team(lead_a, 20)
    second = make_position("Lead A2", "team-lead", manager_a)
    make_team(second, 8)
    assert (queries(client, url), queries(client, page)) == before


def test_the_view_is_remembered_per_user(api_org: Org):
    manager_a = api_org.positions["manager_a"]
    client = log_in("manager", holds=manager_a)
    other = session_client(UserFactory(is_superuser=True))
    answer = client.post("/chart/view/", {"view": "list", "next": f"/?root={manager_a.pk}"})
    assert answer.status_code == 302 and answer["Location"] == f"/?root={manager_a.pk}"
    html = client.get("/").content.decode()
    assert 'data-view="list"' in html and "chart-canvas" not in html
    assert 'data-view="chart"' in other.get("/").content.decode()  # someone else's choice
    other.post("/chart/view/", {"view": "list"})
    html = other.get("/").content.decode()  # the list view loads deeper teams into the page
    assert f'hx-get="/chart/{api_org.positions["lead_a"].pk}/children/"' in html
    # the choice follows the user to drafts and past days
    day = timezone.localdate().isoformat()
    assert 'data-view="list"' in client.get(f"/past/{day}/").content.decode()
    assert client.post("/chart/view/", {"view": "tree"}).status_code == 400
    assert ChartPreference.objects.get(user=client.user).view == "list"
    away = client.post("/chart/view/", {"view": "chart", "next": "https://example.com/"})
    assert away["Location"] == "/"
    assert client.get("/chart/view/").status_code == 405


def test_a_cards_pop_over_tells_about_the_holder_in_scope_only(api_org: Org):
    manager_a = api_org.positions["manager_a"]
    client = log_in("manager", holds=manager_a)
    mine = api_org.mine
    html = client.get(f"/positions/{mine.pk}/about/").content.decode()
    assert mine.holder.full_name in html
    for told in ("Role", "Customer Advocate", "In the role", "CSAT", "Next step", "Last changes"):
        assert told in html, told
    assert f'href="/history/positions/{mine.pk}/"' in html
    hidden = client.get(f"/positions/{api_org.theirs.pk}/about/")
    missing = client.get("/positions/999999/about/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    # the card offers it, as a menu item with its key
    page = client.get("/").content.decode()
    assert f'hx-get="/positions/{manager_a.pk}/about/"' in page and 'aria-keyshortcuts="I"' in page
    assert queries(client, f"/positions/{mine.pk}/about/") == queries(
        client, f"/positions/{manager_a.pk}/about/"
    )


def test_a_card_names_the_role_only_where_the_title_does_not(api_org: Org):
    lead_a = api_org.positions["lead_a"]
    same = make_position("Customer Advocate, chat", "advocate", lead_a)
    client = session_client(UserFactory(is_superuser=True))
    html = client.get(f"/?root={lead_a.pk}").content.decode()

    def card_of(pk):
        return re.search(rf'id="pos-{pk}".*?</li>', html, re.S).group(0)

    assert '<span class="role">Team Lead</span>' in card_of(lead_a.pk)  # "Lead A" says less
    assert 'class="role"' not in card_of(same.pk) and "no-role" in card_of(same.pk)
    assert 'class="avatar"' in card_of(same.pk)  # initials of the holder


def test_drafts_and_past_days_take_the_same_chart_state(api_org: Org):
    director = api_org.positions["director"]
    user = log_in("director", holds=director)
    scenario = drafts.scenario_create(actor=user.user, name="Plan")
    row = scenario.positions.get(source=director)
    html = user.get(f"/scenarios/{scenario.pk}/?open=&partial=chart").content.decode()
    assert shown(html) == {row.pk} and '<svg class="chart-lines"' in html
    opened = user.get(f"/scenarios/{scenario.pk}/?open={row.pk}&partial=chart").content.decode()
    assert len(shown(opened)) == 1 + Position.objects.filter(parent=director).count()
    assert user.get(f"/scenarios/{scenario.pk}/?level=x").status_code == 400
    day = (timezone.localdate() + datetime.timedelta(days=0)).isoformat()
    past = user.get(f"/past/{day}/?level=0&partial=chart").content.decode()
    assert shown(past) == {director.pk}
    assert user.get(f"/past/{day}/?open=zz").status_code == 400


def test_opening_a_team_sends_its_cards_and_every_cards_new_place(api_org: Org):
    manager_a, lead_a = api_org.positions["manager_a"], api_org.positions["lead_a"]
    client = log_in("manager", holds=manager_a)
    url = f"/?open={manager_a.pk},{lead_a.pk}&partial=team&team={lead_a.pk}"
    html = client.get(url).content.decode()
    agents = set(Position.objects.filter(parent=lead_a).values_list("pk", flat=True))
    assert shown(html) == agents  # only the team just opened
    data = json.loads(re.search(r'<script id="chart-places"[^>]*>(.*?)</script>', html).group(1))
    assert set(map(int, data["places"])) == {manager_a.pk, lead_a.pk} | agents
    whole = client.get(f"/?open={manager_a.pk},{lead_a.pk}&partial=chart").content.decode()
    for pk, left, top in re.findall(
        r'id="pos-(\d+)".*?style="left: (-?\d+)px; top: (-?\d+)px"', whole
    ):
        assert data["places"][pk][:2] == [int(left), int(top)]  # where the whole chart puts it
    assert data["open"] == f"{manager_a.pk},{lead_a.pk}" and data["cards"] == 2 + len(agents)
    assert data["width"] > 0 and data["lines"].startswith("M")
    # closing: the places alone, as JSON
    closed = client.get(f"/?open={manager_a.pk}&partial=places").json()
    assert set(map(int, closed["places"])) == {manager_a.pk, lead_a.pk}
    assert closed["open"] == str(manager_a.pk)
    # in flat queries, and nothing outside the viewer's part
    before = queries(client, url)
    make_team(lead_a, 15)
    assert queries(client, url) == before
    outside = api_org.positions["lead_b"]
    assert (
        shown(
            client.get(
                f"/?open={manager_a.pk},{outside.pk}&partial=team&team={outside.pk}"
            ).content.decode()
        )
        == set()
    )


def test_a_past_card_whose_role_was_deleted_since_still_draws():
    """A past day's position keeps its role id after the role is deleted; attach() then
    finds no role. The card draws without role and tier instead of failing the page."""
    from staffing.history.past import PastPosition
    from staffing.web.cards import render_cards

    now = timezone.now()
    gone = PastPosition(pk=7, title="Retired role", role_id=999, squad_id=None,
                        location_id=None, status="open", holder_id=None, parent_id=None,
                        external_id="", created_at=now, updated_at=now, lft=1, rght=2)  # fmt: skip
    html = str(render_cards([chart.Node(gone)], {"past": True}))
    assert 'id="pos-7"' in html and "Retired role" in html and 'data-tier=""' in html
