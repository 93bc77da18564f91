"""The triage rota (staffing.triage, staffing.services.triage_week_set): who may be on it,
who sees and changes a location's rota, refusals that name the field and write nothing, the
page and the API."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from roles.models import Role
from staffing import checks, services, triage
from staffing.models import Finding, Person, Position, TriageWeek
from staffing.scope import scope_for
from staffing.selectors import no_such_person
from tests.factories import (
    LocationFactory,
    PersonFactory,
    UserFactory,
    holder_user,
    log_in,
    make_position,
    make_team,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MONDAY = TODAY - datetime.timedelta(days=TODAY.weekday())
NEXT = MONDAY + datetime.timedelta(days=7)
WEDNESDAY = (NEXT + datetime.timedelta(days=2)).isoformat()


@pytest.fixture
def offices():
    """Director › Manager › Lead Dublin › 2 advocates and an associate in Dublin; Other
    Director › Lead Lisbon › 2 advocates in Lisbon."""
    dublin = LocationFactory(code="dub", name="Dublin")
    lisbon = LocationFactory(code="lis", name="Lisbon", country="PT", timezone="Europe/Lisbon")
    director = make_position("Director", "director")
    manager = make_position("Manager", "advocate-manager", director)
    lead = make_position("Lead, Dublin", "team-lead", manager, location=dublin)
    advocates = make_team(lead, 2, location=dublin)
    associate = make_position("Associate", "associate-advocate", lead, location=dublin)
    other = make_position("Other Director", "director")
    other_lead = make_position("Lead, Lisbon", "team-lead", other, location=lisbon)
    far = make_team(other_lead, 2, location=lisbon)
    return {
        "dublin": dublin,
        "lisbon": lisbon,
        "director": director,
        "manager": manager,
        "advocates": [p.holder_id for p in advocates],
        "associate": associate.holder_id,
        "other": other,
        "far": [p.holder_id for p in far],
    }


def written() -> tuple:
    return (
        sorted(TriageWeek.objects.values_list("location_id", "week")),
        sorted(TriageWeek.people.through.objects.values_list("triageweek_id", "person_id")),
        sorted(Finding.objects.values_list("pk", "resolved_at")),
    )


def refusal(call) -> dict:
    before = written()
    with pytest.raises(ValidationError) as caught:
        call()
    assert written() == before, "a refusal wrote something"
    return caught.value.message_dict


# --- the service ---------------------------------------------------------------------------


def test_the_rota_is_set_and_replaced_as_a_whole(offices):
    a, b = offices["advocates"]
    rota = services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[a])
    assert set(rota.people.values_list("pk", flat=True)) == {a}
    again = services.triage_week_set(
        actor=None, location=offices["dublin"].pk, week=MONDAY.isoformat(), people=[b, b]
    )
    assert again.pk == rota.pk and set(again.people.values_list("pk", flat=True)) == {b}
    services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[])
    assert not rota.people.exists() and TriageWeek.objects.count() == 1


def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(offices):
    dublin, a = offices["dublin"], offices["advocates"][0]
    services.triage_week_set(actor=None, location=dublin, week=MONDAY, people=[a])
    checks.triage_check()

    def set_(**changes):
        values = {"actor": None, "location": dublin, "week": NEXT, "people": [a]} | changes
        return lambda: services.triage_week_set(**values)

    tuesday = NEXT + datetime.timedelta(days=1)
    assert "Monday" in refusal(set_(week=tuesday))["week"][0]
    assert "YYYY-MM-DD" in refusal(set_(week="2026-13-01"))["week"][0]
    assert set(refusal(set_(location=999999))) == {"location"}
    assert set(refusal(set_(location="dub"))) == {"location"}
    assert refusal(set_(people=[999999]))["people"] == [no_such_person(999999)]
    assert set(refusal(set_(people=["x"]))) == {"people"}
    associate = refusal(set_(people=[a, offices["associate"]]))["people"][0]
    assert "Customer Advocate up" in associate
    elsewhere = refusal(set_(people=[offices["far"][0]]))["people"][0]
    assert "Not an experienced Tier 1 advocate at Dublin" in elsewhere


def test_the_rota_and_its_finding_are_one_transaction(offices, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the check failed")

    monkeypatch.setattr(checks, "triage_check", broken)
    before = written()
    with pytest.raises(RuntimeError):
        services.triage_week_set(
            actor=None, location=offices["dublin"], week=MONDAY, people=offices["advocates"]
        )
    assert written() == before


def test_who_changes_a_locations_rota(offices):
    dublin, lisbon = offices["dublin"], offices["lisbon"]
    a, b = offices["advocates"]
    far = offices["far"][0]
    other = holder_user(offices["other"], "director")
    director = holder_user(offices["director"], "director")
    # a location where the actor's part has nobody is answered as if it did not exist
    assert set(refusal(lambda: services.triage_week_set(
        actor=director, location=lisbon, week=MONDAY, people=[]))) == {"location"}  # fmt: skip
    # someone out of sight, as a person who does not exist
    assert refusal(lambda: services.triage_week_set(
        actor=director, location=dublin, week=MONDAY, people=[far]
    ))["people"] == [no_such_person(far)]  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.triage_week_set(
            actor=UserFactory(groups=["hr"]), location=dublin, week=MONDAY, people=[a]
        )
    # the director sets Dublin; the Lisbon manager's people stay when the director changes it
    services.triage_week_set(actor=None, location=lisbon, week=MONDAY, people=[far])
    rota = services.triage_week_set(actor=director, location=dublin, week=MONDAY, people=[a, b])
    assert set(rota.people.values_list("pk", flat=True)) == {a, b}
    lisbon_rota = TriageWeek.objects.get(location=lisbon, week=MONDAY)
    assert set(lisbon_rota.people.values_list("pk", flat=True)) == {far}
    assert set(triage.editable_locations(scope_for(other))) == {lisbon}
    assert set(triage.editable_locations(scope_for(director))) == {dublin}


def test_people_out_of_sight_stay_on_the_rota(offices):
    """A lead changes the people of their own team; those on the rota from other teams at
    the location, whom the lead does not see, stay on it."""
    dublin = offices["dublin"]
    a, b = offices["advocates"]
    lead2 = make_position("Lead 2, Dublin", "team-lead", offices["manager"], location=dublin)
    mine = make_team(lead2, 1, location=dublin)[0].holder_id
    lead_user = holder_user(lead2, "manager")
    services.triage_week_set(actor=None, location=dublin, week=MONDAY, people=[a, mine])
    rota = services.triage_week_set(actor=lead_user, location=dublin, week=MONDAY, people=[])
    assert set(rota.people.values_list("pk", flat=True)) == {a}
    assert refusal(lambda: services.triage_week_set(
        actor=lead_user, location=dublin, week=MONDAY, people=[b]
    ))["people"] == [no_such_person(b)]  # fmt: skip
    response = log_in("manager", holds=lead2).get(f"/api/triage/{rota.pk}/").json()
    assert response["people"] == [] and response["others"] == 1


# --- the page --------------------------------------------------------------------------------


def test_the_page_shows_the_viewers_locations_and_flags_the_gaps(offices):
    a = offices["advocates"][0]
    services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[a])
    client = log_in("director", holds=offices["director"])
    page = client.get("/triage/").content.decode()
    assert "Dublin" in page and "Lisbon" not in page
    assert page.count("Nobody on triage</span>") == 1  # next week; later: not planned yet
    assert page.count("not planned yet") == 2
    assert f"/triage/dub/{MONDAY.isoformat()}/" in page
    assert "Lisbon" in log_in("hr").get("/triage/").content.decode()
    assert "You see no location" in log_in().get("/triage/").content.decode()
    earlier = client.get("/triage/", {"from": (MONDAY - datetime.timedelta(days=28)).isoformat()})
    assert earlier.status_code == 200
    assert client.get("/triage/", {"from": "soon"}).status_code == 404


def queries_as_locations_grow(offices, url: str) -> tuple[int, int]:
    """Queries of ``url`` for a superuser, before and after three more staffed locations
    with a rota for this week and the next."""
    client = log_in(superuser=True)
    a = offices["advocates"][0]
    services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[a])

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    before = count()
    for n in range(3):
        place = LocationFactory(code=f"x{n}", name=f"Extra {n}")
        lead = make_position(f"Lead {n}", "team-lead", offices["director"], location=place)
        people = [p.holder_id for p in make_team(lead, 3, location=place)]
        for week in (MONDAY, NEXT):
            services.triage_week_set(actor=None, location=place, week=week, people=people[:2])
    return before, count()


@pytest.mark.parametrize("url", ["/triage/", "/api/triage/"])
def test_the_page_and_the_api_run_a_fixed_number_of_queries(offices, url):
    before, after = queries_as_locations_grow(offices, url)
    assert after == before


def test_the_week_page_changes_the_rota_for_those_who_may(offices):
    a, b = offices["advocates"]
    url = f"/triage/dub/{MONDAY.isoformat()}/"
    client = log_in("director", holds=offices["director"])
    form = client.get(url).content.decode()
    assert f'value="{a}"' in form and f'value="{offices["associate"]}"' not in form
    response = client.post(url, {"people": [a, b]})
    assert response.status_code == 302
    rota = TriageWeek.objects.get(location=offices["dublin"], week=MONDAY)
    assert set(rota.people.values_list("pk", flat=True)) == {a, b}
    before = written()
    refused = client.post(url, {"people": [offices["associate"]]})
    assert refused.status_code == 400 and "Customer Advocate up" in refused.content.decode()
    assert client.post(url, {"people": ["nobody"]}).status_code == 400
    assert written() == before
    tuesday = (MONDAY + datetime.timedelta(days=1)).isoformat()
    assert client.get(f"/triage/dub/{tuesday}/").status_code == 404
    assert client.get(f"/triage/lis/{MONDAY.isoformat()}/").status_code == 404
    assert log_in("hr").get(url).status_code == 403


# --- the API -----------------------------------------------------------------------------------


def test_the_api_sets_and_changes_a_week_and_refuses_bad_input_with_400(offices):
    a, b = offices["advocates"]
    client = log_in("director", holds=offices["director"])
    created = client.post(
        "/api/triage/",
        {"location": offices["dublin"].pk, "week": MONDAY.isoformat(), "people": [a]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["people"] == [a] and body["location"]["name"] == "Dublin" and body["others"] == 0
    assert not Finding.objects.open().filter(location=offices["dublin"], week=MONDAY).exists()
    url = f"/api/triage/{body['id']}/"
    changed = client.patch(url, {"people": [a, b]}, content_type="application/json")
    assert changed.status_code == 200 and sorted(changed.json()["people"]) == sorted([a, b])
    before = written()
    for payload, field in (
        ({"people": [offices["associate"]]}, "people"),
        ({"people": [offices["far"][0]]}, "people"),
        ({"people": "everyone"}, "people"),
        ({"week": NEXT.isoformat()}, "week"),
    ):
        response = client.patch(url, payload, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), (payload, response.content)
    for payload, field in (
        ({"location": offices["dublin"].pk, "week": "2026-12-01x", "people": []}, "week"),
        ({"location": offices["dublin"].pk, "week": WEDNESDAY, "people": []}, "week"),
        ({"location": offices["lisbon"].pk, "week": NEXT.isoformat(), "people": []}, "location"),
        ({"week": NEXT.isoformat(), "people": []}, "location"),
    ):
        response = client.post("/api/triage/", payload, content_type="application/json")
        assert response.status_code == 400 and field in response.json(), (payload, response.content)
    assert written() == before
    listed = client.get("/api/triage/", {"week": MONDAY.isoformat()}).json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]


# --- at the edges: found in review ---------------------------------------------------------


def test_gap_not_hidden_by_two_half_eligible_people(offices):
    """A on the rota moved to Lisbon (still an advocate); B still in Dublin but now an
    associate. Nobody on the rota may triage in Dublin: the week is a gap."""
    dublin, lisbon = offices["dublin"], offices["lisbon"]
    a, b = offices["advocates"]
    services.triage_week_set(actor=None, location=dublin, week=MONDAY, people=[a, b])
    assert triage.gaps([MONDAY], [dublin.pk]) == []
    Position.objects.filter(holder_id=a).update(location=lisbon)
    Position.objects.filter(holder_id=b).update(role=Role.objects.get(code="associate-advocate"))
    assert not triage.may_triage(dublin).filter(holder_id__in=[a, b]).exists()
    assert [g.week for g in triage.gaps([MONDAY], [dublin.pk])] == [MONDAY]


@pytest.mark.parametrize(
    "payload",
    [
        {"people": [10**19]},
        {"location": 10**19},
    ],
)
def test_api_huge_ids_are_400_not_500(offices, payload):
    client = log_in("director", holds=offices["director"])
    body = {"location": offices["dublin"].pk, "week": MONDAY.isoformat(), "people": []} | payload
    response = client.post("/api/triage/", body, content_type="application/json")
    assert response.status_code == 400, response.content


def test_api_post_of_an_existing_week(offices):
    a, b = offices["advocates"]
    client = log_in("director", holds=offices["director"])
    body = {"location": offices["dublin"].pk, "week": MONDAY.isoformat(), "people": [a]}
    assert client.post("/api/triage/", body, content_type="application/json").status_code == 201
    again = client.post("/api/triage/", body | {"people": [b]}, content_type="application/json")
    print(again.status_code, again.content)
    assert again.status_code in (200, 201, 400)


def test_people_subtree_of_lists_only_holders(offices):
    """/api/people/?subtree_of= is documented as 'People holding this position or one
    below it'; a person with no position who merely lives in Dublin is not among them."""
    loner = PersonFactory(location=offices["dublin"])
    client = log_in(superuser=True)
    got = client.get("/api/people/", {"subtree_of": offices["manager"].pk, "page_size": 100}).json()
    ids = {r["id"] for r in got["results"]}
    assert loner.pk not in ids


def _lead2(offices):
    dublin = offices["dublin"]
    lead2 = make_position("Lead 2, Dublin", "team-lead", offices["manager"], location=dublin)
    mine = make_team(lead2, 1, location=dublin)[0].holder_id
    return lead2, mine


def test_admin_rota_list_hides_names_the_viewer_cannot_see(offices):
    lead2, mine = _lead2(offices)
    a = offices["advocates"][0]
    services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[a, mine])
    hidden = Person.objects.get(pk=a).full_name
    client = log_in("manager", holds=lead2, is_staff=True)
    page = client.get("/admin/staffing/triageweek/").content.decode()
    assert Person.objects.get(pk=mine).full_name in page  # the viewer's own advocate is shown
    assert hidden not in page


def test_admin_rota_change_form_hides_names_and_saves(offices):
    lead2, mine = _lead2(offices)
    a = offices["advocates"][0]
    rota = services.triage_week_set(
        actor=None, location=offices["dublin"], week=MONDAY, people=[a, mine]
    )
    hidden = Person.objects.get(pk=a).full_name
    client = log_in("manager", holds=lead2, is_staff=True)
    url = f"/admin/staffing/triageweek/{rota.pk}/change/"
    form = client.get(url)
    assert form.status_code == 200
    assert hidden not in form.content.decode()


def test_admin_rota_saved_unchanged_by_a_lead_keeps_others(offices):
    lead2, mine = _lead2(offices)
    a = offices["advocates"][0]
    rota = services.triage_week_set(
        actor=None, location=offices["dublin"], week=MONDAY, people=[a, mine]
    )
    client = log_in("manager", holds=lead2, is_staff=True)
    url = f"/admin/staffing/triageweek/{rota.pk}/change/"
    # the lead submits the form with only the person they see
    response = client.post(url, {"people": [mine]})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert set(rota.people.values_list("pk", flat=True)) == {a, mine}


def test_admin_rota_changelist_query_count(offices):
    client = log_in(superuser=True)

    def count():
        with CaptureQueriesContext(connection) as c:
            assert client.get("/admin/staffing/triageweek/").status_code == 200
        return len(c.captured_queries)

    a = offices["advocates"][0]
    services.triage_week_set(actor=None, location=offices["dublin"], week=MONDAY, people=[a])
    before = count()
    services.triage_week_set(actor=None, location=offices["dublin"], week=NEXT, people=[a])
    assert count() == before


@pytest.mark.parametrize("value", ["\u00b2", "9" * 30])
def test_week_page_odd_digits_are_400(offices, value):
    client = log_in("director", holds=offices["director"])
    url = f"/triage/dub/{MONDAY.isoformat()}/"
    client.raise_request_exception = False
    response = client.post(url, {"people": [value]})
    assert response.status_code == 400


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_triage_page_far_weeks_are_not_500(offices, day):
    client = log_in("director", holds=offices["director"])
    client.raise_request_exception = False
    assert client.get("/triage/", {"from": day}).status_code in (200, 404)


def test_recompute_spans_lists_only_span_findings(offices):
    from io import StringIO

    from django.core.management import call_command

    checks.triage_check()  # Dublin and Lisbon: nobody on triage
    out = StringIO()
    call_command("recompute_spans", stdout=out)
    assert "Nobody on triage" not in out.getvalue()


def test_readiness_sql_matches_python_on_odd_histories(framework):

    from tests.test_readiness_list import assert_same_as_python
    from tests.test_readiness_squads import D, good_csat, history, seniors  # noqa: F401

    manager = make_position("Manager", "advocate-manager", start=D(2024, 1, 1))
    team = make_team(manager, 4, role="senior-tse", start=D(2025, 3, 1))
    for p in team:
        good_csat(p)
    V, A, P = "t2-voice", "t2-analytics", "t2-platform"
    history(
        team[0],
        [
            (V, D(2025, 1, 1), D(2025, 1, 1)),
            (V, D(2025, 1, 1), D(2025, 4, 30)),
            (A, D(2025, 5, 1), D(2025, 5, 1)),
            (A, D(2025, 5, 2), D(2025, 8, 31)),
            (P, D(2025, 9, 1), None),
        ],
    )
    history(
        team[1],
        [
            (V, D(2025, 1, 1), None),
            (V, D(2024, 1, 1), D(2024, 4, 30)),
            (A, D(2024, 5, 1), D(2024, 8, 31)),
            (P, D(2024, 9, 1), D(2024, 12, 31)),
        ],
    )
    history(
        team[2],
        [
            (P, D(2026, 1, 1), D(2026, 1, 1)),
            (V, D(2024, 1, 1), D(2024, 4, 30)),
            (A, D(2024, 5, 1), D(2024, 8, 31)),
            (P, D(2024, 9, 1), D(2024, 11, 29)),
            (P, D(2024, 11, 30), D(2024, 11, 30)),
            (None, D(2024, 12, 1), None),
        ],
    )
    history(
        team[3],
        [
            (V, D(2023, 1, 1), D(2023, 4, 30)),
            (None, D(2023, 5, 1), D(2023, 5, 1)),
            (V, D(2023, 5, 2), D(2023, 5, 2)),
            (A, D(2023, 5, 3), D(2023, 9, 1)),
            (P, D(2023, 9, 2), None),
        ],
    )
    scope = Position.objects.subtree_of(manager)
    for as_of in (
        D(2022, 1, 1),
        D(2023, 5, 2),
        D(2024, 11, 30),
        D(2025, 1, 1),
        D(2025, 9, 1),
        D(2026, 11, 25),
    ):
        assert_same_as_python(scope, as_of)
