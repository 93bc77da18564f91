"""The tiers page at ``/tiers/``: every tier of the catalogue with its figures, squads and
roles; the escalation path drawn as a picture that follows ``escalates_to``; each tier's
people today in the part of the organization the viewer sees; a fixed number of queries."""

import re
import xml.etree.ElementTree as ET
from itertools import combinations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgdesign.kernel.textwidth import text_width
from staffing.scope import scope_for
from staffing.selectors import tiers_today
from tests.factories import Org, log_in, make_position, make_team
from tiers import escalation
from tiers.escalation import CONTENT_WIDTH, GAP, LABEL, META, NAME, NARROW_WIDTH, PAD
from tiers.models import Squad, Tier
from tiers.selectors import tiers_with_squads

pytestmark = pytest.mark.django_db


def page(client) -> str:
    response = client.get("/tiers/")
    assert response.status_code == 200
    return response.content.decode()


def pictures(html: str) -> list[ET.Element]:
    """The page's escalation drawings (wide, then narrow), parsed."""
    found = re.findall(r'<svg class="escalation".*?</svg>', html, re.DOTALL)
    return [ET.fromstring(svg) for svg in found]


def section(html: str, tier: Tier) -> str:
    """The part of the page about ``tier``: from its heading to the next section."""
    start = html.index(f'<h2 id="{tier.anchor}">')
    end = html.find("</section>", start)
    return html[start:end]


def text(fragment: str) -> str:
    """A fragment of the page as it reads: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


# -- the catalogue -------------------------------------------------------------------------


def test_every_tier_is_shown_in_rank_order_with_its_figures(framework):
    html = page(log_in())
    tiers = list(tiers_with_squads())
    assert [t.code for t in tiers] == ["t0", "t1", "t2", "t3", "ops", "mgmt"]
    headings = re.findall(r'<h2 id="tier-([\w-]+)">', html)
    assert headings == [t.code for t in tiers]
    t1, t2, t3 = (Tier.objects.get(code=c) for c in ("t1", "t2", "t3"))
    first = text(section(html, t1))
    assert "up to 15 minutes" in first
    assert "Phone, Chat, Email and web tickets" in first
    assert "yes: it triages" in first
    assert "Passes work to Tier 2 — Technical support" in first
    assert 'href="#tier-t2"' in section(html, t1)
    assert "Associate Customer Advocate" in first  # its roles, linked to their pages
    assert 'href="/roles/associate-advocate/"' in section(html, t1)
    second = text(section(html, t2))
    assert "up to 30 minutes" in second and "Sorts incoming work no" in second
    for squad in Squad.objects.filter(tier=t2):  # each squad with its product portfolio
        assert squad.name in second
        for item in squad.portfolio_items:
            assert item in second
    third = text(section(html, t3))
    assert "no limit" in third and "5–10 % in the catalogue" in third
    assert "engineering (product development)" in third
    assert "not on the escalation path" in text(section(html, Tier.objects.get(code="ops")))
    assert "nobody handles issues here" in text(section(html, Tier.objects.get(code="t0")))


def test_an_empty_catalogue_says_how_to_load_one(empty_catalogue):
    html = page(log_in())
    assert "manage.py load_framework" in html
    assert 'class="escalation"' not in html


# -- the picture ---------------------------------------------------------------------------


def test_the_picture_has_a_box_per_tier_on_the_path_and_arrows_follow_escalates_to(framework):
    html = page(log_in())
    drawings = pictures(html)
    assert len(drawings) == 2  # the wide one and the phone's
    tiers = list(Tier.objects.all())
    on_path = [t.code for t in tiers if t.code not in ("ops", "mgmt")]
    expected_hops = {
        (t.code, t.escalates_to.code if t.escalates_to else "engineering")
        for t in tiers
        if t.code in on_path
    }
    assert expected_hops == {
        ("t0", "t1"), ("t1", "t2"), ("t2", "t3"), ("t3", "engineering"),
    }  # fmt: skip
    for svg in drawings:
        steps = [g.get("data-step") for g in svg.iter("g") if "step" in g.get("class", "")]
        assert steps == [*on_path, "engineering"]  # one box per tier, in rank order
        hops = {(p.get("data-from"), p.get("data-to")) for p in svg.iter("path")
                if p.get("class") == "hop"}  # fmt: skip
        assert hops == expected_hops
        # each box in its tier's colour, named for assistive technology
        colours = {t.code: t.colour for t in tiers}
        names = {t.code: t.name for t in tiers}
        for g in svg.iter("g"):
            code = g.get("data-step")
            if code in colours:
                assert g.find(".//rect").get("fill") == colours[code]
                link = g.find("a")
                assert link.get("href") == f"#tier-{code}"
                assert link.get("aria-label").startswith(names[code])
        title_id, desc_id = svg.get("aria-labelledby"), svg.get("aria-describedby")
        assert svg.find(f"title[@id='{title_id}']").text.startswith("Escalation path")
        desc = svg.find(f"desc[@id='{desc_id}']").text
        assert "Tier 1 — Product support passes work to Tier 2 — Technical support" in desc
        assert "to Engineering (needs a product fix)" in desc
    # the text alternative lists the same hops
    listed = re.search(r'<ol class="path-text">(.*?)</ol>', html, re.DOTALL).group(1)
    assert text(listed).count("→") == 4
    assert "Tier 1 — Product support → Tier 2 — Technical support: after 15 min" in text(listed)


def test_the_picture_follows_edited_escalations(framework):
    """Tier 1 sends work straight to Tier 3 and Tier 3 back to Tier 2: the arrows follow the
    data (over the row and under it), the path still ends with engineering at Tier 2."""
    t1, t2, t3 = (Tier.objects.get(code=c) for c in ("t1", "t2", "t3"))
    Tier.objects.filter(pk=t1.pk).update(escalates_to=t3)
    Tier.objects.filter(pk=t3.pk).update(escalates_to=t2)
    Tier.objects.filter(pk=t2.pk).update(escalates_to=None)
    tiers = list(tiers_with_squads())
    for path in (escalation.layout(tiers), escalation.column(tiers)):
        assert {(h.source.key, h.target.key) for h in path.hops} == {
            ("t0", "t1"), ("t1", "t3"), ("t3", "t2"), ("t2", "engineering"),
        }  # fmt: skip
        assert_drawn_clear(path)
    html = page(log_in())
    for svg in pictures(html):
        hops = {(p.get("data-from"), p.get("data-to")) for p in svg.iter("path")
                if p.get("class") == "hop"}  # fmt: skip
        assert ("t1", "t3") in hops and ("t3", "t2") in hops


def assert_drawn_clear(path: escalation.Path) -> None:
    """Boxes apart and inside the picture, their text inside them, labels inside the
    picture, every line inside it."""
    for a, b in combinations(path.steps, 2):
        apart_x = a.x + a.width <= b.x or b.x + b.width <= a.x
        apart_y = a.y + a.height <= b.y or b.y + b.height <= a.y
        assert apart_x or apart_y, (a.key, b.key)
    for step in path.steps:
        assert step.x >= 0 and step.x + step.width <= path.width
        assert step.y >= 0 and step.y + step.height <= path.height
        for y, line, kind in step.baselines():
            size = NAME if kind == "name" else META
            assert text_width(line, size, bold=kind == "name") <= step.width - 2 * PAD, line
            assert y <= step.y + step.height - 4, (step.key, line)
    for hop in path.hops:
        assert all(0 <= x <= path.width and 0 <= y <= path.height for x, y in hop.points)
        for y, line in hop.label_baselines():
            width = text_width(line, LABEL)
            left = hop.label_x - (width / 2 if hop.anchor == "middle" else 0)
            assert left >= 0 and left + width <= path.width, line
            assert LABEL <= y <= path.height, line


def test_the_drawings_fit_the_page_and_keep_their_text_inside(framework):
    tiers = list(tiers_with_squads())
    wide, narrow = escalation.layout(tiers), escalation.column(tiers)
    assert wide.width <= CONTENT_WIDTH and narrow.width <= NARROW_WIDTH
    assert wide.variant == "wide" and len({s.y for s in wide.steps}) == 1  # one row
    assert len({s.x for s in narrow.steps}) == 1  # one column
    for path in (wide, narrow):
        assert_drawn_clear(path)
    for hop in wide.hops:  # labels between the boxes stay in the gap
        for line in hop.label_lines:
            assert text_width(line, LABEL) <= GAP - 10
    # a long name is wrapped over the lines it needs, not cut, and the boxes grow alike
    Tier.objects.filter(code="t2").update(name="Tier 2 — Technical support and integrations")
    long = escalation.layout(list(tiers_with_squads()))
    box = next(s for s in long.steps if s.key == "t2")
    assert " ".join(box.lines) == "Tier 2 — Technical support and integrations"
    assert len({s.height for s in long.steps}) == 1 and box.height > wide.steps[0].height
    assert_drawn_clear(long)


def test_many_tiers_on_the_path_are_drawn_as_a_column(framework):
    for n in range(5):
        Tier.objects.create(
            code=f"x{n}", name=f"Extra tier {n}", kind=Tier.Kind.EXPERT, rank=20 + n,
            channels=["escalation"],
        )  # fmt: skip
    wide = escalation.layout(list(tiers_with_squads()))
    assert len(wide.steps) == 10 and len({s.x for s in wide.steps}) == 1
    assert_drawn_clear(wide)


# -- people today, in the viewer's part ---------------------------------------------------


@pytest.fixture
def known_org(framework):
    """Director › Manager A › Lead A › 3 advocates and an open advocate; Director ›
    Manager B › Lead B › an advocate, two support engineers (one in a squad) and an
    architect. Front line in seats: 4 in Tier 1, 2 in Tier 2, 1 in Tier 3."""
    squad = Squad.objects.get(code="t2-voice")
    director = make_position("Director", "director")
    manager_a = make_position("Manager A", "advocate-manager", director)
    lead_a = make_position("Lead A", "team-lead", manager_a)
    make_team(lead_a, 3)
    make_position("Open advocate", "advocate", lead_a, holder=None)
    manager_b = make_position("Manager B", "advocate-manager", director)
    lead_b = make_position("Lead B", "team-lead", manager_b)
    make_position("Advocate B", "advocate", lead_b)
    make_position("Engineer 1", "tse", lead_b, squad=squad)
    make_position("Engineer 2", "tse", lead_b)
    make_position("Architect", "architect", lead_b)
    return {"director": director, "manager_a": manager_a, "squad": squad}


def figures(user) -> dict[str, tuple]:
    today = tiers_today(scope_for(user), list(tiers_with_squads()))
    return {r.tier.code: (r.count.filled, r.count.open, r.share) for r in today.tiers}


def test_each_tier_s_people_and_share_of_the_front_line_are_counted(known_org):
    admin = log_in(superuser=True)
    assert figures(admin.user) == {
        "t0": (0, 0, None),
        "t1": (4, 1, 57.1),  # 4 of the 7 people in seats in Tiers 1 to 3
        "t2": (2, 0, 28.6),
        "t3": (1, 0, 14.3),
        "ops": (0, 0, None),  # not front line: counted, never a share
        "mgmt": (5, 0, None),  # the director, two managers, two leads
    }
    html = page(admin)
    assert "whole organization" in html
    first = text(section(html, Tier.objects.get(code="t1")))
    assert "People today 4 in seats, 1 open · 57.1 % of the people answering customers" in first
    squads = text(section(html, Tier.objects.get(code="t2")))
    assert "Voice and Messaging specialist squad · 1 in seats" in squads
    hr = log_in("hr")
    assert figures(hr.user) == figures(admin.user)


def test_a_manager_sees_their_own_part_only(known_org):
    manager = log_in("manager", holds=known_org["manager_a"])
    assert figures(manager.user) == {
        "t0": (0, 0, None),
        "t1": (3, 1, 100.0),
        "t2": (0, 0, 0.0),
        "t3": (0, 0, 0.0),
        "ops": (0, 0, None),
        "mgmt": (2, 0, None),
    }
    html = page(manager)
    assert "the team under Manager A" in html
    assert "Voice and Messaging specialist squad · 0 in seats" in text(
        section(html, Tier.objects.get(code="t2"))
    )
    director = log_in("director", holds=known_org["director"])
    assert figures(director.user)["t1"] == (4, 1, 57.1)


def test_someone_who_sees_no_part_reads_the_catalogue_without_headcount(known_org):
    html = page(log_in())
    assert "You see no part of the organization" in html
    assert "in seats" not in html
    assert "up to 15 minutes" in html


def test_the_page_runs_a_fixed_number_of_queries(api_org: Org):
    admin = log_in(superuser=True)
    manager = log_in("manager", holds=api_org.positions["manager_a"])

    def count(client) -> int:
        with CaptureQueriesContext(connection) as captured:
            page(client)
        return len(captured.captured_queries)

    before = {"admin": count(admin), "manager": count(manager)}
    api_org.grow(teams=4, size=6)
    make_position("Engineer", "tse", api_org.positions["lead_a"], squad=Squad.objects.first())
    assert {"admin": count(admin), "manager": count(manager)} == before
    # the session and user, the tiers and their squads, the roles, one GROUP BY
    assert before["admin"] == 2 + 2 + 1 + 1, before


# -- links into the page ----------------------------------------------------------------------


def test_the_navigation_and_the_role_pages_link_to_the_page(framework):
    client = log_in()
    html = client.get("/roles/").content.decode()
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.DOTALL).group(1)
    assert '<a href="/tiers/">Tiers</a>' in nav
    assert 'href="/tiers/#tier-t1"' in html  # a role's tier in the catalogue's tables
    role = client.get("/roles/advocate/").content.decode()
    assert '<a href="/tiers/#tier-t1">Tier 1 — Product support</a>' in role
    assert '<h2 id="tier-t1">' in page(client)
