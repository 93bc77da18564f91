"""The catalogue as HR reads it: equal to the framework table, in CSV and JSON-LD too, with
career-path graphs and conditional GET."""

import csv
import io
import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from roles.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The framework table (shared/DESIGN.md, from seed 001), typed in again here on purpose: the
# served catalogue is compared with the source, not with the loader's own data.
# role name: (CSAT target %, {role it is reached from: minimum months})
FRAMEWORK = {
    "Associate Customer Advocate": (90, {}),
    "Customer Advocate": (95, {"Associate Customer Advocate": 3}),
    "Senior Customer Advocate": (96, {"Customer Advocate": 9}),
    "Technical Support Engineer": (94, {"Customer Advocate": 12}),
    "Senior Technical Support Engineer": (95, {"Technical Support Engineer": None}),
    "Technical Support Architect": (90, {"Senior Technical Support Engineer": 18}),
    "Senior Technical Support Architect": (92, {"Technical Support Architect": 24}),
    "Team Lead": (None, {"Customer Advocate": 9}),
    "Advocate Manager": (None, {"Team Lead": 12}),
    "Senior Advocate Manager": (None, {"Advocate Manager": 18}),
    "Senior Systems Specialist": (None, {"Systems Specialist": 18}),
    "Systems Specialist": (None, {"Customer Advocate": 24}),
    "Systems Analyst": (None, {"Senior Systems Specialist": 12}),
    "Senior Systems Analyst": (None, {"Systems Analyst": 24}),
}
# role name: (direct reports min, max, whole team min, max)
SPANS = {
    "Team Lead": (6, 10, None, None),
    "Advocate Manager": (1, None, 16, 25),  # and 2–3 team leads and/or 1–10 agents
    "Senior Advocate Manager": (2, 3, 48, 150),
    "Director of Customer Advocacy": (None, None, None, 1000),
    "Support Operations Manager": (2, 10, None, None),
    "Senior Support Operations Manager": (2, 10, None, None),
    "Director of Support Operations": (None, None, None, 250),
}


@pytest.fixture
def reader(framework) -> APIClient:
    client = APIClient()
    client.force_login(UserFactory(groups=["hr"]))
    return client


def all_roles(client) -> dict[str, dict]:
    data = client.get("/api/roles/", {"page_size": 1000}).json()
    assert data["count"] == Role.objects.count() == len(data["results"])
    return {role["name"]: role for role in data["results"]}


def test_catalogue_as_served_equals_the_framework_table(reader):
    roles = all_roles(reader)
    for name, (csat, reached_from) in FRAMEWORK.items():
        role = roles[name]
        served_csat = None if role["csat_target"] is None else Decimal(role["csat_target"])
        assert served_csat == (None if csat is None else Decimal(csat)), name
        paths = {p["from_role"]["name"]: p["min_months"] for p in role["paths_in"]}
        assert paths == reached_from, name
    for name, limits in SPANS.items():
        rule = roles[name]["span_rule"]
        served = (rule["min_direct"], rule["max_direct"], rule["min_team"], rule["max_team"])
        assert served == limits, name
        if name != "Advocate Manager":
            assert rule["limits"] == [], name
    kinds = roles["Advocate Manager"]["span_rule"]["limits"]
    assert [(k["name"], k["min_count"], k["max_count"], k["limit"]) for k in kinds] == [
        ("team lead", 2, 3, "2–3 team leads or none"),
        ("agent", 1, 10, "1–10 agents or none"),
    ]
    assert [r["name"] for r in kinds[0]["roles"]] == ["Team Lead"]
    assert "Customer Advocate" in {r["name"] for r in kinds[1]["roles"]}
    assert roles["Customer Advocate"]["span_rule"] is None
    assert roles["Technical Support Engineer"]["tier"]["name"].startswith("Tier 2")


def test_tiers_and_kpis_carry_the_framework_figures(reader):
    tiers = {t["code"]: t for t in reader.get("/api/tiers/").json()["results"]}
    assert tiers["t1"]["target_handling_minutes"] == 15
    assert tiers["t2"]["target_handling_minutes"] == 30
    assert tiers["t3"]["target_handling_minutes"] is None
    assert (Decimal(tiers["t3"]["volume_share_min"]), Decimal(tiers["t3"]["volume_share_max"])) == (
        5,
        10,
    )
    assert tiers["t0"]["staffed"] is False
    kpis = {k["code"]: k for k in reader.get("/api/kpis/", {"page_size": 100}).json()["results"]}
    assert Decimal(kpis["fcr"]["target"]) == 75 and kpis["fcr"]["comparison"] == "gte"
    assert Decimal(kpis["aht"]["target"]) == 8 and kpis["aht"]["better"] == "lower"


def test_role_detail_shows_paths_both_ways_and_skills(reader):
    advocate = Role.objects.get(code="advocate")
    role = reader.get(f"/api/roles/{advocate.pk}/").json()
    assert {p["to_role"]["name"] for p in role["paths_out"]} >= {
        "Senior Customer Advocate",
        "Technical Support Engineer",
        "Team Lead",
    }
    assert role["skills"] and {"id", "url", "name"} == set(role["skills"][0])
    assert role["responsibilities"] and isinstance(role["responsibilities"], list)


def test_roles_as_csv_escape_formula_cells(reader):
    Role.objects.filter(code="advocate").update(summary='=HYPERLINK("http://x")')
    response = reader.get("/api/roles/", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="roles.csv"' in response["Content-Disposition"]
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert len(rows) == Role.objects.count()
    assert rows["advocate"]["summary"].startswith("'=HYPERLINK")
    assert rows["advocate"]["csat_target"] == "95.00"


def test_roles_as_schema_org_occupations(reader):
    role = Role.objects.get(code="advocate")
    role.occupation_code, role.occupation_code_system = "4222", "ISCO-08"
    role.save()
    one = json.loads(reader.get(f"/api/roles/{role.pk}/", {"format": "jsonld"}).content)
    assert one["@context"] == "https://schema.org" and one["@type"] == "Occupation"
    assert one["@id"].endswith(f"/api/roles/{role.pk}/") and one["name"] == "Customer Advocate"
    assert one["occupationalCategory"] == {
        "@type": "CategoryCode",
        "codeValue": "4222",
        "inCodeSet": "ISCO-08",
        "name": "Customer Advocate",
    }
    assert "3+ months as Associate Customer Advocate" in one["qualifications"]
    listed = reader.get("/api/roles/", {"format": "jsonld"})
    assert listed["Content-Type"].startswith("application/ld+json")
    data = json.loads(listed.content)
    assert data["@type"] == "ItemList" and data["numberOfItems"] == Role.objects.count()
    assert {item["@type"] for item in data["itemListElement"]} == {"Occupation"}


def test_a_code_without_its_classification_is_refused(framework):
    from django.core.exceptions import ValidationError

    role = Role.objects.get(code="advocate")
    role.occupation_code = "4222"
    with pytest.raises(ValidationError, match="together"):
        role.full_clean()


def test_career_path_graph_per_track(reader):
    graph = reader.get("/api/career-paths/technical/").json()
    names = {node["id"]: node for node in graph["nodes"]}
    inside = {n["name"] for n in graph["nodes"] if n["in_track"]}
    assert inside == {
        "Technical Support Engineer",
        "Senior Technical Support Engineer",
        "Technical Support Architect",
        "Senior Technical Support Architect",
    }
    entry = [
        e for e in graph["edges"] if names[e["to_role"]]["name"] == "Technical Support Engineer"
    ]
    assert [(names[e["from_role"]]["name"], e["min_months"]) for e in entry] == [
        ("Customer Advocate", 12)
    ]
    assert names[entry[0]["from_role"]]["in_track"] is False
    assert entry[0]["external_hires_allowed"] is True
    every = reader.get("/api/career-paths/").json()
    assert {g["track"] for g in every} >= {"advocacy", "technical", "management", "operations"}
    assert reader.get("/api/career-paths/nonsense/").status_code == 404


def test_conditional_get_answers_304_until_the_catalogue_changes(reader):
    first = reader.get("/api/roles/")
    etag, modified = first["ETag"], first["Last-Modified"]
    again = reader.get("/api/roles/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert reader.get("/api/roles/", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert reader.get("/api/roles/", {"format": "csv"}, HTTP_IF_NONE_MATCH=etag).status_code == 200
    role = Role.objects.get(code="advocate")
    role.summary = "Answers customers by phone and chat."
    role.save()
    changed = reader.get("/api/roles/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    role.skills.clear()  # a many-to-many change counts too
    assert reader.get("/api/roles/", HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200


def test_a_304_costs_one_query(reader, django_assert_num_queries):
    etag = reader.get("/api/tiers/")["ETag"]
    # session, user, then the catalogue version: nothing is serialized
    with django_assert_num_queries(3):
        assert reader.get("/api/tiers/", HTTP_IF_NONE_MATCH=etag).status_code == 304
