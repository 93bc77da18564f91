"""Every API endpoint through the generated tests of tests/api_cases.py, and the permission
matrix: admin, director, manager, an HR token, a read-only token and an anonymous caller ×
every endpoint × an object in and out of their scope × list, detail and update."""

import datetime as dt

import pytest

from metrics.models import KPI, KPIObservation
from roles.models import PromotionPath, Role, Skill
from staffing import triage
from staffing.models import Finding, Position
from tests.api_cases import ACTORS, EndpointCase, ids_of, matrix_expectation
from tests.factories import LocationFactory, Org, triage_weeks
from tiers.models import Squad, Tier

pytestmark = pytest.mark.django_db


def agents_of(org: Org, name: str) -> set[int]:
    return set(Position.objects.filter(parent=org.positions[name]).values_list("pk", flat=True))


def subtree(org: Org, name: str) -> set[int]:
    return set(Position.objects.subtree_of(org.positions[name]).values_list("pk", flat=True))


class TestPositions(EndpointCase):
    url = "/api/positions/"
    writable = True
    deletable = True
    filters = (
        (lambda o: {"parent": o.positions["lead_a"].pk}, lambda o: agents_of(o, "lead_a")),
        (lambda o: {"subtree_of": o.positions["other"].pk}, lambda o: subtree(o, "other")),
        (
            lambda o: {"vacant": "true"},
            lambda o: set(Position.objects.vacant().values_list("pk", flat=True)),
        ),
        (
            lambda o: {"top": "true"},
            lambda o: {o.positions["director"].pk, o.positions["other"].pk},
        ),
    )

    def objects(self, org):
        return org.mine.pk, org.theirs.pk

    def create(self, org):
        role = Role.objects.get(code="advocate")
        return {"title": "New agent", "role": role.pk, "parent": org.positions["lead_a"].pk}

    def update(self, org):
        return {"title": "Renamed agent"}


class TestPeople(EndpointCase):
    url = "/api/people/"
    writable = True
    filters = (
        (
            lambda o: {"subtree_of": o.positions["lead_b"].pk},
            lambda o: set(
                Position.objects.subtree_of(o.positions["lead_b"])
                .filter(holder__isnull=False)
                .values_list("holder_id", flat=True)
            ),
        ),
    )

    def objects(self, org):
        return org.mine.holder_id, org.theirs.holder_id

    def create(self, org):
        return {"employee_id": "HR-NEW-1", "given_name": "Noor", "family_name": "Haddad"}

    def update(self, org):
        return {"family_name": "Haddad-Kelly"}


class TestFindings(EndpointCase):
    url = "/api/findings/"
    filters = (
        (
            lambda o: {"subtree_of": o.positions["other"].pk},
            lambda o: set(
                Finding.objects.filter(position__tree_id=o.positions["other"].tree_id).values_list(
                    "pk", flat=True
                )
            ),
        ),
    )

    def objects(self, org):
        on = Finding.objects.open()
        return (
            on.filter(position=org.positions["lead_a"]).first().pk,
            on.filter(position=org.positions["other_lead"]).first().pk,
        )


class TestLocations(EndpointCase):
    url = "/api/locations/"
    kind = "catalogue"
    filters = ((lambda o: {"country": "PT"}, lambda o: {o.extra["lisbon"]}),)

    def objects(self, org):
        if "lisbon" not in org.extra:
            org.extra["dublin"] = LocationFactory(code="dub", name="Dublin").pk
            org.extra["lisbon"] = LocationFactory(code="lis", name="Lisbon", country="PT").pk
        return org.extra["dublin"], org.extra["lisbon"]


class TestTriage(EndpointCase):
    url = "/api/triage/"
    writable = True
    filters = (
        (lambda o: {"location": o.extra["dub"]}, lambda o: {o.extra["rota_in"]}),
        (
            lambda o: {"week": triage.monday(dt.date.today()).isoformat()},
            lambda o: {o.extra["rota_in"], o.extra["rota_out"]},
        ),
    )

    def objects(self, org):
        return triage_weeks(org)

    def create(self, org):
        triage_weeks(org)
        week = triage.monday(dt.date.today()) + dt.timedelta(days=7)
        return {"location": org.extra["dub"], "week": week.isoformat(), "people": []}

    def update(self, org):
        return {"people": []}  # allowed in and out of anyone's part: the matrix is about who


def first_two(model, **filters):
    rows = list(model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True))
    return rows[0], rows[-1]


class TestTiers(EndpointCase):
    url = "/api/tiers/"
    kind = "catalogue"

    def objects(self, org):
        return first_two(Tier)


class TestSquads(EndpointCase):
    url = "/api/squads/"
    kind = "catalogue"

    def objects(self, org):
        return first_two(Squad)


class TestSkills(EndpointCase):
    url = "/api/skills/"
    kind = "catalogue"

    def objects(self, org):
        return first_two(Skill)


class TestRoles(EndpointCase):
    url = "/api/roles/"
    kind = "catalogue"
    filters = (
        (
            lambda o: {"track": "management"},
            lambda o: set(Role.objects.filter(track="management").values_list("pk", flat=True)),
        ),
    )

    def objects(self, org):
        return first_two(Role)


class TestPromotionPaths(EndpointCase):
    url = "/api/promotion-paths/"
    kind = "catalogue"

    def objects(self, org):
        return first_two(PromotionPath)


class TestKPIs(EndpointCase):
    url = "/api/kpis/"
    kind = "catalogue"

    def objects(self, org):
        return first_two(KPI)


class TestKPIObservations(EndpointCase):
    url = "/api/kpi-observations/"
    writable = True
    deletable = True
    editors = ("admin", "director")  # managers read their teams' values; directors record
    filters = (
        (lambda o: {"kpi": "csat"}, lambda o: {o.extra["csat"]}),
        (lambda o: {"organization": "true"}, lambda o: {o.extra["org"]}),
        (
            lambda o: {"subtree_of": o.positions["director"].pk},
            lambda o: {o.extra["mine"], o.extra["csat"]},
        ),
        (lambda o: {"scope": o.positions["other"].pk}, lambda o: {o.extra["theirs"]}),
        (lambda o: {"since": "2026-10-01"}, lambda o: {o.extra["csat"]}),
    )

    def objects(self, org):
        if "mine" not in org.extra:
            fcr, csat = KPI.objects.get(code="fcr"), KPI.objects.get(code="csat")
            sept = {"period_start": dt.date(2026, 9, 1), "period_end": dt.date(2026, 9, 30)}
            october = {"period_start": dt.date(2026, 10, 1), "period_end": dt.date(2026, 10, 31)}

            def record(kpi, scope, when, value):
                made = KPIObservation.objects.create(kpi=kpi, scope=scope, value=value, **when)
                return made.pk

            org.extra["mine"] = record(fcr, org.positions["lead_a"], sept, 74)
            org.extra["csat"] = record(csat, org.positions["director"], october, "4.6")
            org.extra["theirs"] = record(fcr, org.positions["other"], sept, 80)
            org.extra["org"] = record(fcr, None, sept, 77)
        return org.extra["mine"], org.extra["theirs"]

    def create(self, org):
        return {
            "kpi": "fcr",
            "scope": org.positions["manager_b"].pk,
            "period_start": "2026-10-01",
            "period_end": "2026-10-31",
            "value": "76.5",
        }

    def update(self, org):
        return {"note": "Checked against the telephony report."}


ENDPOINTS = [
    TestPositions,
    TestPeople,
    TestFindings,
    TestLocations,
    TestTriage,
    TestTiers,
    TestSquads,
    TestSkills,
    TestRoles,
    TestPromotionPaths,
    TestKPIs,
    TestKPIObservations,
]
SUMMARIES = ["/api/headcount/", "/api/career-paths/", "/api/readiness/", "/api/history/"]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.url.strip("/").split("/")[-1])
def test_permission_matrix(api_org, actors, endpoint, actor):
    case, client = endpoint(), actors[actor]
    objects = dict(zip(("in", "out"), case.objects(api_org), strict=True))
    listed = client.get(case.url, {"page_size": 1000})
    for where, pk in objects.items():
        expected = {
            action: matrix_expectation(case, actor, where, action)
            for action in ("list", "detail", "update")
        }
        if expected["list"] == 401:
            assert listed.status_code == 401
            assert "WWW-Authenticate" in listed
        else:
            assert (pk in ids_of(listed)) == (expected["list"] == 200), (where, actor)
        detail = client.get(f"{case.url}{pk}/")
        assert detail.status_code == expected["detail"], (where, actor, detail.content)
        payload = case.update(api_org) or {"id": pk}
        changed = client.patch(f"{case.url}{pk}/", payload, format="json")
        assert changed.status_code == expected["update"], (where, actor, changed.content)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("url", SUMMARIES)
def test_permission_matrix_of_summaries(api_org, actors, url, actor):
    response = actors[actor].get(url)
    assert response.status_code == (401 if actor == "anonymous" else 200)
    assert actors[actor].post(url, {}).status_code == {
        "anonymous": 401,
        "read_token": 403,
    }.get(actor, 405)


def test_the_matrix_covers_every_route():
    """A new endpoint cannot be forgotten: every route of the router is in the matrix."""
    from orgdesign.api import router

    # POST-only (tests/test_capacity.py), and scenarios, seen by their author (and admins and
    # HR) rather than by place in the tree (tests/test_scenarios.py)
    computations = {"/api/capacity/", "/api/scenarios/"}
    covered = {e.url for e in ENDPOINTS} | set(SUMMARIES) | computations
    assert {f"/api/{prefix}/" for prefix, _, _ in router.registry} == covered
