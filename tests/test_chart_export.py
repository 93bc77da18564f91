"""Exporting a part of the chart: CSV of everyone below a card (streamed), and SVG and PNG
pictures of its top levels, within the viewer's scope and in a fixed number of queries."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from staffing.interchange import export
from staffing.models import DottedLine, Position
from staffing.scope import SYSTEM
from staffing.web import picture
from staffing.web.layout import CARD_H, INDENT
from tests.factories import Org, UserFactory, log_in, make_position, session_client

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def svg_cards(response) -> dict[str, tuple[float, float]]:
    """The cards of an SVG export: title → (x, y) of the card."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("transform", "").startswith("translate("):
            x, y = group.get("transform")[len("translate(") : -1].split()
            texts = [t.text for t in group.findall(f"{SVG}text")]
            found[texts[0]] = (float(x), float(y))
    return found


def test_the_csv_lists_everyone_below_the_card_and_only_in_scope(api_org: Org):
    manager_a = api_org.positions["manager_a"]
    DottedLine.objects.create(position=api_org.mine, manager=api_org.positions["manager_b"])
    client = log_in("manager", holds=manager_a)
    listed = rows(client.get(f"/chart/{manager_a.pk}/export.csv"))
    assert list(listed[0]) == export.CSV_COLUMNS
    assert [r["title"] for r in listed] == ["Manager A", "Lead A", "Agent 0", "Agent 1", "Agent 2"]
    manager, lead, agent = listed[0], listed[1], listed[2]
    depth = "depth_from_export_top"  # was levels_below, read as the levels under it
    assert (manager[depth], lead[depth], agent[depth]) == ("0", "1", "2")
    assert (manager["direct_reports"], manager["team_size"]) == ("1", "4")
    assert lead["manager"] == "Manager A" and lead["manager_id"] == f"#{manager_a.pk}"
    assert agent["tier"].startswith("Tier 1") and agent["role"] == "Customer Advocate"
    assert agent["dotted_line_managers"] == "Manager B"
    # the whole chart of a manager is their team; nothing outside it by id
    assert len(rows(client.get("/chart/export.csv"))) == 5
    assert client.get(f"/chart/{api_org.theirs.pk}/export.csv").status_code == 404


def test_an_admin_exports_the_whole_organization_and_formula_cells_are_quoted(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    make_position('=HYPERLINK("http://x")', "advocate", api_org.positions["lead_a"])
    listed = rows(admin.get("/chart/export.csv"))
    assert len(listed) == Position.objects.count()
    assert {r["title"] for r in listed if r["depth_from_export_top"] == "0"} == {
        "Director",
        "Other Director",
    }
    assert '\'=HYPERLINK("http://x")' in {r["title"] for r in listed}


def test_the_svg_draws_the_team_with_agents_stacked_under_their_lead(api_org: Org):
    director = api_org.positions["director"]
    admin = session_client(UserFactory(is_superuser=True))
    response = admin.get(f"/chart/{director.pk}/export.svg")
    shown = svg_cards(response)
    assert set(shown) == set(
        Position.objects.subtree_of(director).values_list("title", flat=True)
    ) | {"Agent 0", "Agent 1"}  # titles repeat across teams; the dict keeps one per title
    assert response["X-Cards-Shown"] == "11 of 11"
    html = response.content.decode()
    assert html.count('<g transform="translate(') == 11
    assert "Vacant" in html and "Tier 1" in html  # the tier is named, not only coloured
    # Lead B's agents form a column under it: same x, each lower than the one before
    lead_b = Position.objects.get(pk=api_org.positions["lead_b"].pk)
    column = [
        (float(x), float(y))
        for x, y in (
            g.get("transform")[10:-1].split()
            for g in ET.fromstring(response.content).iter(f"{SVG}g")
            if g.get("transform", "").startswith("translate(")
            and g.find(f"{SVG}title").text.startswith(("Agent", "Open B"))
        )
    ]
    leads = {shown["Lead A"][0] + INDENT, shown["Lead B"][0] + INDENT}
    assert {x for x, _ in column} == leads  # a column under each lead, indented
    under_b = sorted(y for x, y in column if x == shown["Lead B"][0] + INDENT)
    assert len(under_b) == lead_b.get_children().count() == 3
    assert under_b[0] > shown["Lead B"][1]


def test_a_big_team_is_drawn_to_the_levels_that_fit_and_says_so(api_org: Org, monkeypatch):
    director = api_org.positions["director"]
    admin = session_client(UserFactory(is_superuser=True))
    monkeypatch.setattr(picture, "IMAGE_CARD_LIMIT", 6)
    response = admin.get(f"/chart/{director.pk}/export.svg")
    assert set(svg_cards(response)) == {"Director", "Manager A", "Manager B", "Lead A", "Lead B"}
    assert response["X-Cards-Shown"] == "5 of 11"
    assert "the CSV lists everyone" in response.content.decode()
    one_level = admin.get(f"/chart/{director.pk}/export.svg?depth=1")
    assert set(svg_cards(one_level)) == {"Director", "Manager A", "Manager B"}


def test_the_png_is_a_picture_of_the_same_layout(api_org: Org, monkeypatch):
    director = api_org.positions["director"]
    admin = session_client(UserFactory(is_superuser=True))
    response = admin.get(f"/chart/{director.pk}/export.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    layout = picture.picture(SYSTEM, [director])
    assert image.size == (layout.width, layout.height)
    # the tier bar of the top card is drawn in the tier's colour
    top = next(box for box in layout.boxes if box.position.pk == director.pk)
    colour = director.role.tier.colour.lstrip("#")
    expected = tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))
    assert image.convert("RGB").getpixel((int(top.x) + 2, int(top.y) + 40)) == expected
    # a picture too big for a PNG leaves out levels rather than eat the server's memory
    monkeypatch.setattr(picture, "PNG_PIXEL_LIMIT", layout.width * (CARD_H * 3))
    smaller = admin.get(f"/chart/{director.pk}/export.png")
    assert int(smaller["X-Cards-Shown"].split()[0]) < 11


def test_bad_requests_are_refused_clearly(api_org: Org):
    admin = session_client(UserFactory(is_superuser=True))
    lead = api_org.positions["lead_a"]
    bad = admin.get(f"/chart/{lead.pk}/export.svg?depth=-1")
    assert bad.status_code == 400 and b"whole number from 0 to 100" in bad.content
    assert admin.get(f"/chart/{lead.pk}/export.pdf").status_code == 404
    from django.test import Client

    anonymous = Client()
    assert anonymous.get(f"/chart/{lead.pk}/export.csv").status_code == 302
    nobody = session_client(UserFactory())  # in no group: sees nothing
    assert nobody.get("/chart/export.csv").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "svg", "png"])
def test_exports_run_a_fixed_number_of_queries(api_org: Org, fmt):
    manager_a = api_org.positions["manager_a"]
    client = log_in("manager", holds=manager_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/chart/{manager_a.pk}/export.{fmt}")
            if fmt == "csv":
                b"".join(response.streaming_content)
        return len(captured.captured_queries)

    before = count()
    api_org.grow(teams=4, size=6)
    assert count() == before
