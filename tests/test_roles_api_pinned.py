"""``/api/roles/`` and ``/api/roles/<id>/`` answer byte for byte what they answered before
they were made fast (issue 24), in a fixed number of queries.

* On PostgreSQL every format, filter, order, page and error below is compared with
  ``tests/pinned/roles_api.json``, saved from the nested ModelSerializers before the change.
  Ids differ from one test database to the next, so each id (in ``"id"`` fields, URLs, the
  CSV's first column and query strings) is written as the code of the object it names
  first; everything else is compared as sent. After a deliberate change of the response,
  write the file again with ``ORGDESIGN_PIN_WRITE=1`` and review its diff. (The file is
  PostgreSQL's: paths that the order leaves tied, such as a step to three roles of level 1,
  come in the order the database gives them, which SQLite gives differently.)
* On any database the viewset's output is compared with RoleSerializer's, the contract it
  must keep, request by request.
"""

import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import caches
from rest_framework import mixins
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from roles.api.views import RoleViewSet
from roles.models import PromotionPath, Role, Skill, SpanLimit, SpanRule
from roles.selectors import roles_with_rules
from tests.factories import UserFactory, session_client, token_client
from tiers.models import Tier

pytestmark = pytest.mark.django_db

PINNED = Path(__file__).parent / "pinned" / "roles_api.json"
WRITE = os.environ.get("ORGDESIGN_PIN_WRITE") == "1"


@pytest.fixture
def catalogue(framework):
    """The framework catalogue with the odd corners a response must render the same:
    occupation codes, outside-hire years, text that is not ASCII or looks like a formula,
    blank lines in line lists, a range of months, an inactive role, a span rule's notes."""
    advocate = Role.objects.get(code="advocate")
    advocate.occupation_code, advocate.occupation_code_system = "4222", "ISCO-08"
    advocate.external_hire_years_min, advocate.external_hire_years_max = (
        Decimal("1.5"),
        Decimal("1.5"),
    )
    advocate.summary = "=Answers “customers” — by phone, chat & e-mail; café ✓ <b>"
    advocate.responsibilities = "First line\n\n  Second line, indented  \n\n"
    advocate.tickets_per_day_target = 40
    advocate.save()
    Role.objects.filter(code="tse").update(
        external_hire_years_max=Decimal("3.0"),
        supervision_share=Decimal("12.5"),
        hands_on_share_max=Decimal("7"),
    )
    legacy = Role.objects.create(
        code="legacy-agent",
        name="Legacy Agent",
        tier=Tier.objects.get(code="t1"),
        track=Role.Track.SUCCESS,
        level=1,
        is_active=False,
        external_hire_years_max=Decimal("2"),
    )
    odd = Skill.objects.create(code="odd", name="Ödd skill: “quotes”", kind="skill")
    legacy.skills.add(odd, Skill.objects.get(code="empathy"))
    path = PromotionPath.objects.get(from_role__code="advocate", to_role__code="senior-advocate")
    path.max_months, path.criteria = 15, "\nOne\n\n  Two  \n"
    path.save()
    PromotionPath.objects.create(
        from_role=legacy, to_role=advocate, min_months=None, max_months=6, approximate=True
    )
    rule = SpanRule.objects.get(role__code="team-lead")
    rule.notes, rule.counts = "Line one\nLine two — “quoted”", SpanRule.Counts.FILLED
    rule.save()
    rule.allowed_reports.add(legacy)
    return {role.code: role for role in Role.objects.all()}


def requests(catalogue) -> dict[str, str]:
    """The requests pinned, by name."""
    t2 = Tier.objects.get(code="t2").pk
    empathy, odd = (Skill.objects.get(code=code).pk for code in ("empathy", "odd"))
    advocate = catalogue["advocate"].pk
    made = {
        "list": "/api/roles/",
        "a page as json (links carry the format)": "/api/roles/?format=json&page_size=3",
        "a page with a format suffix": "/api/roles.json?page_size=3",
        "list as csv": "/api/roles/?format=csv",
        "list as csv, suffix": "/api/roles.csv?track=advocacy",
        "list as jsonld": "/api/roles/?format=jsonld",
        "list as jsonld, a page": "/api/roles/?format=jsonld&page_size=5&page=2",
        "a page of 2": "/api/roles/?page_size=2",
        "the second page of 2": "/api/roles/?page_size=2&page=2",
        "the last page of 2": "/api/roles/?page_size=2&page=12",
        "a page past the end": "/api/roles/?page=9",
        "page_size over the maximum": "/api/roles/?format=jsonld&page_size=5000",
        "track": "/api/roles/?track=technical",
        "tier": f"/api/roles/?tier={t2}",
        "level": "/api/roles/?level=2&format=csv",
        "inactive": "/api/roles/?is_active=false",
        "managers": "/api/roles/?has_span_rule=true&format=csv",
        "not managers": "/api/roles/?has_span_rule=false&format=csv",
        "a bad boolean": "/api/roles/?has_span_rule=maybe",
        "skills": f"/api/roles/?skill={empathy}&skill={odd}",
        "a skill that does not exist": "/api/roles/?skill=999999999",
        "search": "/api/roles/?search=advocate&format=csv",
        "search, nothing found": "/api/roles/?search=nobody",
        "ordered by name": "/api/roles/?ordering=name&format=csv",
        "ordered by level, then name": "/api/roles/?ordering=-level,name&format=csv",
        "ordered by CSAT, then name": "/api/roles/?ordering=-csat_target,name&format=csv",
        "an unknown order": "/api/roles/?ordering=nonsense&format=csv",
        "filters and a page": "/api/roles/?track=management&page_size=2&page=2",
        "detail as csv": f"/api/roles/{advocate}/?format=csv",
        "detail as jsonld": f"/api/roles/{advocate}/?format=jsonld",
        "detail with a format suffix": f"/api/roles/{advocate}.json",
        "detail as json": f"/api/roles/{advocate}/?format=json",
        "detail that does not exist": "/api/roles/999999999/",
        "detail that is no id": "/api/roles/abc/",
    }
    for code, role in sorted(catalogue.items()):
        made[f"detail {code}"] = f"/api/roles/{role.pk}/"
    return made


def id_names() -> dict[str, dict[str, str]]:
    """Each id's stable name, by the URL segment of its kind."""
    return {
        "roles": {str(pk): code for pk, code in Role.objects.values_list("pk", "code")},
        "skills": {str(pk): code for pk, code in Skill.objects.values_list("pk", "code")},
        "tiers": {str(pk): code for pk, code in Tier.objects.values_list("pk", "code")},
        "promotion-paths": {
            str(pk): f"{a}>{b}"
            for pk, a, b in PromotionPath.objects.values_list(
                "pk", "from_role__code", "to_role__code"
            )
        },
    }


def normalized(text: str, names: dict[str, dict[str, str]]) -> str:
    """``text`` with every id written as the code of what it names."""

    def brief(match):  # "id":5,"url":"http://testserver/api/roles/5/"
        pk, head, kind = match["pk"], match["head"], match["kind"]
        name = names[kind][pk]
        return f'"id":"<{name}>","url":"{head}<{name}>'

    text = re.sub(
        r'"id":(?P<pk>\d+),"url":"(?P<head>[^"]*?/api/(?P<kind>[a-z-]+)/)(?P=pk)', brief, text
    )
    text = re.sub(
        r"/api/(roles|skills|tiers|promotion-paths)/(\d+)(?=[/.])",
        lambda m: f"/api/{m[1]}/<{names[m[1]].get(m[2], m[2])}>",
        text,
    )
    text = re.sub(
        r"([?&](?:amp;)?(tier|skill)=)(\d+)",
        lambda m: f"{m[1]}<{names[m[2] + 's'].get(m[3], m[3])}>",
        text,
    )
    return re.sub(r"(?m)^(\d+),", lambda m: f"<{names['roles'][m[1]]}>,", text)


def answer(client, url: str, names) -> dict:
    response = client.get(url)
    return {
        "status": response.status_code,
        "content_type": response.get("Content-Type"),
        "content_disposition": response.get("Content-Disposition"),
        "body": normalized(response.content.decode(), names),
    }


@pytest.mark.postgres
def test_the_responses_are_as_pinned(catalogue):
    """Each request twice: answered from the database, then from the cache."""
    reader = session_client(UserFactory(groups=["hr"]))
    names = id_names()
    for kept in (False, True):
        found = {name: answer(reader, url, names) for name, url in requests(catalogue).items()}
        if WRITE and not kept:
            PINNED.parent.mkdir(exist_ok=True)
            PINNED.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n")
        pinned = json.loads(PINNED.read_text())
        assert sorted(found) == sorted(pinned)
        for name, expected in pinned.items():
            difference = first_difference(found[name], expected)
            assert found[name] == expected, f"{name} (from the cache: {kept}): {difference}"


def first_difference(found: dict, expected: dict) -> str:
    """Where two answers part, with some text around it (bodies are long single lines)."""
    for key in expected:
        a, b = str(found[key]), str(expected[key])
        if a != b:
            at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
            at = min(len(a), len(b)) if at is None else at
            got, pinned = a[at - 150 : at + 150], b[at - 150 : at + 150]
            return f"{key} differs at {at}: got …{got}… pinned …{pinned}…"
    return "no difference"


def test_every_caller_reads_the_same_catalogue(catalogue):
    """The catalogue is the same for every signed-in caller (no scope applies); a caller
    who is not signed in gets 401."""
    names = id_names()
    urls = ["/api/roles/", f"/api/roles/{catalogue['team-lead'].pk}/"]
    callers = [
        session_client(UserFactory(groups=["hr"])),
        session_client(UserFactory(is_superuser=True, is_staff=True)),
        session_client(UserFactory()),
        token_client(UserFactory(groups=["hr"]), write=False),
    ]
    for url in urls:
        seen = [answer(client, url, names) for client in callers]
        assert all(one == seen[0] for one in seen), url
        assert seen[0]["status"] == 200
    assert APIClient().get("/api/roles/").status_code == 401


class SerializedRoles(RoleViewSet):
    """The roles as they were answered before issue 24: RoleSerializer over roles with
    every relation prefetched."""

    list = mixins.ListModelMixin.list
    retrieve = mixins.RetrieveModelMixin.retrieve
    cache_answers = False

    def get_queryset(self):
        return roles_with_rules().select_related("span_rule").distinct()


def test_the_viewset_writes_what_the_serializer_writes(catalogue):
    """The same request to the viewset and to RoleSerializer over the prefetched roles gives
    the same bytes, on whatever database the tests run: every role, the list in each
    format, with a format suffix and with ``?format=`` carried into the links."""
    user = UserFactory(groups=["hr"])
    factory = APIRequestFactory()
    requests = [
        ("list", "/api/roles/", {}, {}),
        ("list", "/api/roles/", {"format": "json", "page_size": 5, "page": 2}, {}),
        ("list", "/api/roles.json", {}, {"format": "json"}),
        ("list", "/api/roles/", {"format": "csv", "ordering": "-level"}, {}),
        ("list", "/api/roles/", {"format": "jsonld", "search": "senior"}, {}),
        ("list", "/api/roles/", {"has_span_rule": "true"}, {}),
        *[("retrieve", f"/api/roles/{r.pk}/", {}, {"pk": r.pk}) for r in catalogue.values()],
        ("retrieve", "/api/roles/1.json", {}, {"pk": catalogue["advocate"].pk, "format": "json"}),
        ("retrieve", "/api/roles/999999999/", {}, {"pk": 999999999}),
    ]
    for action, path, params, kwargs in requests:
        answers = []
        for viewset in (RoleViewSet, SerializedRoles):
            request = factory.get(path, params)
            force_authenticate(request, user)
            response = viewset.as_view({"get": action})(request, **kwargs).render()
            answers.append((response.status_code, response["Content-Type"], response.content))
        assert answers[0] == answers[1], (path, params)


def more_roles(count: int, prefix: str) -> None:
    """``count`` more roles, each with skills, a span rule allowing two roles with a limit
    per kind of report, and promotion paths in and out, so that every relation the response
    shows grows."""
    tier = Tier.objects.get(code="t1")
    skills = list(Skill.objects.all()[:3])
    before = Role.objects.get(code="advocate")
    for n in range(count):
        role = Role.objects.create(
            code=f"{prefix}-{n}", name=f"{prefix} {n}", tier=tier, track="success", level=n + 1
        )
        role.skills.add(*skills)
        rule = SpanRule.objects.create(role=role, max_direct=8)
        rule.allowed_reports.add(before, role)
        SpanLimit.objects.create(rule=rule, name="peer", max_count=2).roles.add(before, role)
        PromotionPath.objects.create(from_role=before, to_role=role, min_months=n)
        before = role


def test_queries_stay_the_same_however_many_roles(catalogue, django_assert_num_queries):
    """Session, user, the catalogue's version, the count, the roles (with tier and span
    rule), their skills, the span rules' allowed reports and limits per kind of report, the
    paths in and the paths out: ten queries for a list, nine for one role (no count), for 24
    roles, 44 or 64. Asked again at the same version of the catalogue: session, user and
    version only."""
    reader = session_client(UserFactory(groups=["hr"]))
    team_lead = catalogue["team-lead"].pk
    for grown in ("first", "second", None):
        with django_assert_num_queries(10):
            assert reader.get("/api/roles/", {"page_size": 1000}).status_code == 200
        with django_assert_num_queries(9):
            assert reader.get(f"/api/roles/{team_lead}/").status_code == 200
        with django_assert_num_queries(3):
            assert reader.get("/api/roles/", {"page_size": 1000}).status_code == 200
        with django_assert_num_queries(3):
            assert reader.get(f"/api/roles/{team_lead}/").status_code == 200
        if grown:
            more_roles(20, grown)
    assert Role.objects.count() == 64
    with django_assert_num_queries(8):  # no role on the list has a span rule: none to read
        assert reader.get("/api/roles/", {"track": "advocacy"}).status_code == 200


def test_the_positions_do_not_count(api_org, django_assert_num_queries):
    reader = session_client(UserFactory(groups=["hr"]))
    with django_assert_num_queries(10):
        first = reader.get("/api/roles/").content
    api_org.grow()
    caches["catalogue"].clear()
    with django_assert_num_queries(10):
        assert reader.get("/api/roles/").content == first


def shown(client, url: str) -> dict:
    return client.get(url).json()


def test_every_change_to_the_catalogue_shows_at_once(catalogue):
    """Each edit through the models (the admin's way, the loader's, the services') moves
    the catalogue's version, so the next request is answered afresh, list and detail."""
    reader = session_client(UserFactory(groups=["hr"]))
    advocate, lead = catalogue["advocate"], catalogue["team-lead"]
    one, every = f"/api/roles/{advocate.pk}/", "/api/roles/?page_size=1000"

    def by_code(data):
        return {role["code"]: role for role in data["results"]}

    def both():
        return shown(reader, one), by_code(shown(reader, every))["advocate"]

    assert [role["name"] for role in both()] == ["Customer Advocate"] * 2  # now kept

    advocate.name = "Customer Advocate II"
    advocate.save()
    assert [role["name"] for role in both()] == ["Customer Advocate II"] * 2

    empathy = Skill.objects.get(code="empathy")
    empathy.name = "Empathy first"
    empathy.save()
    assert all("Empathy first" in [s["name"] for s in role["skills"]] for role in both())

    advocate.skills.remove(empathy)
    assert all("Empathy first" not in [s["name"] for s in role["skills"]] for role in both())

    tier = advocate.tier
    tier.name = "Tier 1 (front line)"
    tier.save()
    assert [role["tier"]["name"] for role in both()] == ["Tier 1 (front line)"] * 2

    path = PromotionPath.objects.get(from_role=advocate, to_role__code="senior-advocate")
    path.min_months = 7
    path.save()
    for role in both():
        assert [p["min_months"] for p in role["paths_out"] if p["id"] == path.pk] == [7]
    path.delete()
    assert all(path.pk not in [p["id"] for p in role["paths_out"]] for role in both())

    listed = by_code(shown(reader, every))["team-lead"]["span_rule"]["allowed_reports"]
    assert advocate.pk in [r["id"] for r in listed]
    lead.span_rule.allowed_reports.remove(advocate)
    listed = by_code(shown(reader, every))["team-lead"]["span_rule"]["allowed_reports"]
    assert advocate.pk not in [r["id"] for r in listed]

    Role.objects.get(code="legacy-agent").delete()
    assert "legacy-agent" not in by_code(shown(reader, every))


def test_answers_are_kept_apart_by_host_and_format(catalogue, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "hr.example.org"]
    reader = session_client(UserFactory(groups=["hr"]))
    url = f"/api/roles/{catalogue['advocate'].pk}/"
    here = reader.get(url).json()["url"]
    there = reader.get(url, HTTP_HOST="hr.example.org").json()["url"]
    assert here.startswith("http://testserver/") and there.startswith("http://hr.example.org/")
    as_csv = reader.get(url, HTTP_ACCEPT="text/csv")
    assert as_csv["Content-Type"].startswith("text/csv") and as_csv.content.startswith(b"id,")
    assert reader.get(url).json()["url"] == here


def test_links_are_right_when_the_host_holds_the_stand_in_id(catalogue, settings):
    """Links reverses each route once with a stand-in id; a host that happens to contain
    it makes each link reversed on its own, with the same result."""
    from orgdesign.kernel.rest import Links

    host = f"h{Links.STAND_IN}.example.org"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host]
    reader = session_client(UserFactory(groups=["hr"]))
    advocate = catalogue["advocate"]
    role = reader.get(f"/api/roles/{advocate.pk}/", {"format": "json"}, HTTP_HOST=host).json()
    assert role["url"] == f"http://{host}/api/roles/{advocate.pk}/?format=json"
    assert role["tier"]["url"] == f"http://{host}/api/tiers/{advocate.tier_id}/?format=json"
