"""The organization over REST: positions (filters, tree routes, writes through the services
and their refusals), people (personal fields by caller), locations and headcount."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from staffing import services
from staffing.models import Assignment, Person, Position
from tests.factories import (
    PersonFactory,
    log_in,
    make_position,
    make_team,
)

pytestmark = pytest.mark.django_db
URL = "/api/positions/"


@pytest.fixture
def admin():
    return log_in(superuser=True)


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured.captured_queries)


# --- reading positions ------------------------------------------------------------------------


def test_a_position_shows_its_place_team_and_brief_related_objects(located_org, admin):
    row = admin.get(f"{URL}{located_org['north'].pk}/").json()
    assert row["title"] == "North Manager"
    assert row["role"]["name"] == "Advocate Manager" and row["role"]["url"].endswith("/")
    assert row["parent"] == {
        "id": located_org["director"].pk,
        "url": f"http://testserver/api/positions/{located_org['director'].pk}/",
        "name": "Director",
    }
    assert row["location"]["name"] == "Dublin" and row["tier"]["name"]
    assert (row["level"], row["direct_reports"], row["team_size"]) == (1, 1, 4)
    assert row["status"] == "filled" and row["holder"]["name"] and row["is_vacant"] is False


def test_positions_list_in_tree_order_with_counts(located_org, admin):
    data = admin.get(URL).json()
    assert data["count"] == Position.objects.count() == 11
    assert [r["title"] for r in data["results"]][:3] == ["Director", "North Manager", "North Lead"]


@pytest.mark.parametrize(
    "params, expected",
    [
        (lambda o: {"parent": o["south_lead"].pk}, {"Agent 0", "Agent 1", "Open agent"}),
        (
            lambda o: {"subtree_of": o["north"].pk},
            {"North Manager", "North Lead", "Agent 0", "Agent 1", "Agent 2"},
        ),
        (lambda o: {"level": 1}, {"North Manager", "South Manager"}),
        (lambda o: {"top": "true"}, {"Director"}),
        (lambda o: {"vacant": "true"}, {"Open agent"}),
        (lambda o: {"status": "open"}, {"Open agent"}),
        (lambda o: {"location": o["lisbon"].pk, "level": 2}, {"South Lead"}),
        (lambda o: {"search": "lead"}, {"North Lead", "South Lead"}),
    ],
)
def test_position_filters(located_org, admin, params, expected):
    assert set(titles(admin.get(URL, params(located_org)))) == expected


def test_role_and_tier_filters(located_org, admin, roles):
    leads = titles(admin.get(URL, {"role": roles["team-lead"].pk}))
    assert sorted(leads) == ["North Lead", "South Lead"]
    tier = roles["advocate"].tier_id
    assert len(titles(admin.get(URL, {"tier": tier}))) == 6  # five agents and the vacancy


@pytest.mark.parametrize(
    "params",
    [
        {"parent": 999_999},
        {"level": "x"},
        {"status": "gone"},
        {"vacant": "perhaps"},
        {"role": 999_999},
        {"subtree_of": "abc"},
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(located_org, admin, params):
    response = admin.get(URL, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_ancestors_and_children(located_org, admin):
    agent = Position.objects.get(title="Agent 0", parent=located_org["north_lead"])
    above = admin.get(f"{URL}{agent.pk}/ancestors/").json()
    assert [r["title"] for r in above] == ["Director", "North Manager", "North Lead"]
    assert titles(admin.get(f"{URL}{located_org['director'].pk}/children/")) == [
        "North Manager",
        "South Manager",
    ]


def test_csv_lists_every_selected_row_and_escapes_formulas(located_org, admin):
    services.position_update(actor=None, position=located_org["vacancy"], title="=HYPERLINK(1)")
    response = admin.get(URL, {"format": "csv", "page_size": 2})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 11  # not paged
    assert {"'=HYPERLINK(1)"} <= {row["title"] for row in rows}
    assert rows[0]["title"] == "Director" and rows[1]["parent"] == "Director"


def test_position_list_runs_a_fixed_number_of_queries(located_org, admin):
    few = queries(admin, URL)
    for n in range(4):
        make_team(make_position(f"Extra lead {n}", "team-lead", located_org["south"]), 3)
    assert Position.objects.count() > 25
    assert queries(admin, URL) == few
    assert queries(admin, URL, {"page_size": 5}) == few
    manager = log_in("manager", holds=located_org["south"])
    assert queries(manager, URL) == few + 2  # the scope: the manager's groups and position


# --- scope ------------------------------------------------------------------------------------


def test_a_manager_sees_and_changes_only_their_subtree(located_org):
    north = log_in("manager", holds=located_org["north"])
    assert set(titles(north.get(URL))) == {
        "North Manager",
        "North Lead",
        "Agent 0",
        "Agent 1",
        "Agent 2",
    }
    assert north.get(f"{URL}{located_org['south'].pk}/").status_code == 404
    assert north.patch(f"{URL}{located_org['south'].pk}/", {"title": "x"}).status_code == 404
    # their own position is visible but not theirs to change
    response = north.patch(f"{URL}{located_org['north'].pk}/", {"title": "Mine now"}, format="json")
    assert response.status_code == 403 and "outside" in response.json()["detail"]
    # a parent they cannot see is a bad value, not a leak
    response = north.post(
        URL,
        {
            "title": "T",
            "role": located_org["north_lead"].role_id,
            "parent": located_org["south"].pk,
        },
        format="json",
    )
    assert response.status_code == 400 and "parent" in response.json()
    assert not Position.objects.filter(title="T").exists()


def test_hr_reads_everything_and_changes_nothing(located_org):
    hr = log_in("hr")
    assert len(titles(hr.get(URL))) == 11
    response = hr.patch(f"{URL}{located_org['north'].pk}/", {"title": "x"}, format="json")
    assert response.status_code == 403
    move = hr.post(f"{URL}{located_org['north'].pk}/move/", {"parent": None}, format="json")
    assert move.status_code == 403
    located_org["north"].refresh_from_db()
    assert located_org["north"].title == "North Manager" and located_org["north"].parent_id


def test_a_user_without_a_role_sees_no_position():
    assert log_in().get(URL).json()["count"] == 0


# --- writing positions --------------------------------------------------------------------------


def test_create_under_a_manager_in_scope(located_org, roles):
    north = log_in("manager", holds=located_org["north"])
    response = north.post(
        URL,
        {
            "title": "New agent",
            "role": roles["advocate"].pk,
            "parent": located_org["north_lead"].pk,
            "location": located_org["dublin"].pk,
            "status": "planned",
            "external_id": "HR-1",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["parent"]["id"], body["status"], body["is_vacant"]) == (
        located_org["north_lead"].pk,
        "planned",
        True,
    )
    created = Position.objects.get(pk=body["id"])
    assert created.parent_id == located_org["north_lead"].pk and created.external_id == "HR-1"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"title": "", "role": "advocate"}, "title"),
        ({"title": "X"}, "role"),
        ({"title": "X", "role": 999_999}, "role"),
        ({"title": "X", "role": "advocate", "status": "filled"}, "status"),
        ({"title": "X", "role": "advocate", "location": "nowhere"}, "location"),
    ],
)
def test_create_refusals_are_400_by_field_and_write_nothing(
    located_org, admin, roles, payload, field
):
    if payload.get("role") == "advocate":
        payload = {**payload, "role": roles["advocate"].pk}
    before = Position.objects.count()
    response = admin.post(URL, {**payload, "parent": located_org["north_lead"].pk}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert Position.objects.count() == before


def test_update_through_the_service(located_org, admin, roles):
    lead = located_org["north_lead"]
    response = admin.patch(f"{URL}{lead.pk}/", {"title": "Chat Lead"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Chat Lead"
    response = admin.patch(f"{URL}{lead.pk}/", {"role": roles["senior-advocate"].pk}, format="json")
    assert response.status_code == 200
    # the holder's assignment follows the role change (the service's doing)
    assert Assignment.objects.filter(position=lead, end_date__isnull=True).get().role.code == (
        "senior-advocate"
    )
    response = admin.patch(f"{URL}{lead.pk}/", {"parent": located_org["south"].pk}, format="json")
    assert response.status_code == 400 and "move" in str(response.json()["parent"])


def test_move_a_team_and_refuse_a_loop(located_org, admin):
    lead = located_org["north_lead"]
    response = admin.post(
        f"{URL}{lead.pk}/move/", {"parent": located_org["south"].pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["parent"]["id"] == located_org["south"].pk
    assert response.json()["team_size"] == 3
    before = list(Position.objects.order_by("pk").values_list("pk", "parent_id", "lft", "rght"))
    response = admin.post(
        f"{URL}{located_org['south'].pk}/move/", {"parent": lead.pk}, format="json"
    )  # under its own report
    assert response.status_code == 400
    assert "loop" in response.json()["parent"][0]
    after = list(Position.objects.order_by("pk").values_list("pk", "parent_id", "lft", "rght"))
    assert after == before
    assert admin.post(f"{URL}{lead.pk}/move/", {}, format="json").status_code == 400


def test_delete_with_reports_is_a_conflict_unless_they_move_up(located_org, admin):
    lead = located_org["south_lead"]
    response = admin.delete(f"{URL}{lead.pk}/")
    assert response.status_code == 409 and "direct report" in response.json()["reports"][0]
    assert admin.delete(f"{URL}{lead.pk}/?reports=sideways").status_code == 400
    assert admin.delete(f"{URL}{lead.pk}/?reports=move_up").status_code == 204
    assert Position.objects.filter(parent=located_org["south"]).count() == 3


def test_assign_and_vacate(located_org, admin):
    vacancy, person = located_org["vacancy"], PersonFactory()
    url = f"{URL}{vacancy.pk}/"
    response = admin.post(f"{url}assign/", {"person": person.pk}, format="json")
    assert response.status_code == 200 and response.json()["holder"]["id"] == person.pk
    other = PersonFactory()
    response = admin.post(f"{url}assign/", {"person": other.pk}, format="json")
    assert response.status_code == 409 and "vacate it first" in response.json()["position"][0]
    assert admin.post(f"{url}vacate/", {}, format="json").json()["is_vacant"] is True
    assert admin.post(f"{url}vacate/", {}, format="json").status_code == 409
    response = admin.post(f"{url}assign/", {"person": 999_999}, format="json")
    assert response.status_code == 400 and "person" in response.json()


# --- people -----------------------------------------------------------------------------------


def test_personal_fields_are_shown_to_hr_self_and_managers_above(located_org):
    agent = (
        Position.objects.filter(parent=located_org["north_lead"]).select_related("holder").first()
    )
    person_url = f"/api/people/{agent.holder_id}/"
    assert "email" in log_in("hr").get(person_url).json()
    north = log_in("manager", holds=located_org["north"])
    assert north.get(person_url).json()["email"] == agent.holder.email
    own = north.get(f"/api/people/{located_org['north'].holder_id}/").json()
    assert "email" in own  # themself
    peer = log_in("manager", holds=located_org["north_lead"])
    boss = peer.get(f"/api/people/{located_org['north'].holder_id}/")
    assert boss.status_code == 404  # above them: not in their subtree
    director = log_in("director", holds=located_org["director"])
    row = director.get(f"/api/people/{located_org['director'].holder_id}/").json()
    assert "email" in row


def test_people_list_is_scoped_and_csv_escapes(located_org):
    north = log_in("manager", holds=located_org["north"])
    names = {row["position"]["name"] for row in north.get("/api/people/").json()["results"]}
    assert sorted(names) == ["Agent 0", "Agent 1", "Agent 2", "North Lead", "North Manager"]
    Person.objects.filter(pk=located_org["north_lead"].holder_id).update(family_name="+cmd")
    rows = list(csv.DictReader(io.StringIO(log_in("hr").get("/api/people/?format=csv").text)))
    assert "'+cmd" in {row["family_name"] for row in rows}
    assert len(rows) == Person.objects.count()


def test_people_are_written_by_those_with_the_permission(located_org):
    payload = {
        "employee_id": "E-1",
        "given_name": "Ana",
        "family_name": "Silva",
        "email": "ana@example.com",
    }
    assert log_in("hr").post("/api/people/", payload, format="json").status_code == 403
    manager = log_in("manager", holds=located_org["north"])
    response = manager.post("/api/people/", payload, format="json")
    assert response.status_code == 201, response.content
    duplicate = manager.post("/api/people/", payload, format="json")
    assert duplicate.status_code == 400 and "employee_id" in duplicate.json()


# --- headcount and locations ----------------------------------------------------------------


def test_headcount_totals_and_breakdowns(located_org, admin):
    data = admin.get("/api/headcount/").json()
    assert (data["total"], data["filled"], data["open"], data["planned"]) == (11, 10, 1, 0)
    by_location = {row["name"]: (row["total"], row["open"]) for row in data["by_location"]}
    assert by_location == {"Dublin": (6, 0), located_org["lisbon"].name: (5, 1)}
    assert sum(row["total"] for row in data["by_role"]) == 11
    south = admin.get("/api/headcount/", {"subtree_of": located_org["south"].pk}).json()
    assert (south["scope"]["name"], south["total"]) == ("South Manager", 5)
    assert admin.get("/api/headcount/", {"subtree_of": "x"}).status_code == 400
    north = log_in("manager", holds=located_org["north"])
    assert north.get("/api/headcount/").json()["total"] == 5
    assert north.get("/api/headcount/", {"subtree_of": located_org["south"].pk}).status_code == 400


def test_locations(located_org, admin):
    names = [row["name"] for row in admin.get("/api/locations/").json()["results"]]
    assert "Dublin" in names
