"""``/api/roles/`` and ``/api/roles/<id>/`` answer byte for byte what they answered before
they were made fast (issue 24): every format, filter, order, page and error below is
compared with ``tests/pinned/roles_api.json``, saved from the nested ModelSerializers.

Ids differ from one test database to the next, so each id (in ``"id"`` fields, URLs, the CSV's
first column and query strings) is written as the code of the object it names before the
comparison; everything else is compared as sent. After a deliberate change of the response,
write the file again with ``ORGDESIGN_PIN_WRITE=1`` and review its diff.
"""

import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from roles.models import PromotionPath, Role, Skill, SpanRule
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


def test_the_responses_are_as_pinned(catalogue):
    reader = session_client(UserFactory(groups=["hr"]))
    names = id_names()
    found = {name: answer(reader, url, names) for name, url in requests(catalogue).items()}
    if WRITE:
        PINNED.parent.mkdir(exist_ok=True)
        PINNED.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n")
    pinned = json.loads(PINNED.read_text())
    assert sorted(found) == sorted(pinned)
    for name, expected in pinned.items():
        assert found[name] == expected, name


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
