"""Promotion readiness and person_promote: tenure across role changes and gaps (dates given,
never slept for), CSAT windows, each prerequisite kind, the override with and without a
reason, scope, the pages and CSV, and catalogue edits that change readiness at once."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import readiness, services
from metrics.models import PerformanceObservation
from roles.models import PromotionPath, Role
from staffing import services as staffing_services
from staffing.models import Assignment, CriterionSignoff, Position, Promotion
from staffing.spans import marks
from tests.factories import (
    PersonFactory,
    UserFactory,
    log_in,
    make_position,
    make_team,
    session_client,
)

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 11, 25)


def csat(person, month: int, value, *, year: int = 2026, n=None):
    start = D(year, month, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    PerformanceObservation.objects.create(
        person=person, metric="csat", period_start=start, period_end=end, value=value,
        sample_size=n,
    )  # fmt: skip


def sign_all(person, path):
    for criterion in path.criteria_items:
        staffing_services.criterion_signoff(
            actor=None, person=person, path=path, criterion=criterion, signed=True
        )


@pytest.fixture
def team(framework):
    """A team lead with three associates and an advocate, all filled."""
    manager = make_position("Manager", "advocate-manager", start=D(2024, 1, 1))
    lead = make_position("Lead", "team-lead", manager, start=D(2024, 1, 1))
    associates = make_team(lead, 3, role="associate-advocate", start=D(2026, 7, 1))
    advocate = make_position("Advocate", "advocate", lead, start=D(2025, 1, 1))
    marks.recompute()
    return {"manager": manager, "lead": lead, "associates": associates, "advocate": advocate}


def judged(position: Position, as_of=TODAY) -> readiness.PersonReadiness:
    return readiness.person_readiness(position.holder, as_of=as_of)


def step_to(found: readiness.PersonReadiness, code: str) -> readiness.PathReadiness:
    return next(p for p in found.paths if p.to_role.code == code)


# --- tenure ---------------------------------------------------------------------------------


def test_tenure_adds_stints_in_the_role_and_skips_gaps_and_other_roles(framework):
    advocate, lead = Role.objects.get(code="advocate"), Role.objects.get(code="team-lead")
    position = make_position("Advocate", advocate, holder=False)
    person = PersonFactory(hire_date=D(2024, 1, 1))
    # two stints as advocate with a stint as team lead and a three-month gap between
    Assignment.objects.create(person=person, role=advocate, start_date=D(2024, 1, 1),
                              end_date=D(2024, 5, 1))  # fmt: skip
    Assignment.objects.create(person=person, role=lead, start_date=D(2024, 5, 1),
                              end_date=D(2024, 9, 1))  # fmt: skip
    staffing_services.person_assign(
        actor=None, person=person, position=position, start_date=D(2024, 12, 1)
    )
    found = readiness.person_readiness(person, as_of=D(2025, 3, 1))
    # 121 days (Jan–Apr 2024) + 90 days (Dec 2024–Feb 2025); not the lead stint or the gap
    assert found.days_in_role == 121 + 90
    assert found.months_in_role == Decimal("6.9")
    senior = step_to(found, "senior-advocate")  # about 9 months
    tenure = senior.checks[0]
    assert tenure.met is False
    assert tenure.ready_on == D(2025, 3, 1) + dt.timedelta(days=274 - 211)
    # the date it names is the first on which it is met
    later = readiness.person_readiness(person, as_of=tenure.ready_on)
    assert step_to(later, "senior-advocate").checks[0].met is True
    before = readiness.person_readiness(person, as_of=tenure.ready_on - dt.timedelta(days=1))
    assert step_to(before, "senior-advocate").checks[0].met is False


def test_ready_now_ready_on_a_date_and_missing(team):
    associate = team["associates"][0]  # in the role since 1 July 2026: under 5 months
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    csat(associate.holder, 9, 93)
    csat(associate.holder, 10, 91)
    step = step_to(judged(associate), "advocate")
    assert step.status == readiness.MISSING  # the criterion is not signed off
    assert [c.kind for c in step.missing] == ["criterion"]
    sign_all(associate.holder, path)
    step = step_to(judged(associate), "advocate")
    assert step.status == readiness.READY  # 3 months done, CSAT 92 >= 90
    early = step_to(judged(associate, as_of=D(2026, 9, 15)), "advocate")
    assert early.status == readiness.MISSING  # no CSAT in the window on 15 September yet
    csat(associate.holder, 8, 95)
    early = step_to(judged(associate, as_of=D(2026, 9, 15)), "advocate")
    assert early.status == readiness.READY_ON and early.ready_on == D(2026, 10, 1)
    assert early.summary == "Ready on 01 Oct 2026"


def test_csat_is_weighted_over_the_window_and_held_to_the_current_role_target(team):
    associate = team["associates"][1]
    csat(associate.holder, 6, 50, n=10)  # ends before the window: ignored
    csat(associate.holder, 9, 95, n=30)
    csat(associate.holder, 10, 80, n=10)
    found = judged(associate)
    assert found.csat == Decimal("91.25") and found.csat_periods == 2
    check = step_to(found, "advocate").checks[1]
    assert check.met is True and "target 90 %" in check.detail
    # the role's target goes up in the admin: the answer changes at once
    Role.objects.filter(code="associate-advocate").update(csat_target=92)
    check = step_to(judged(associate), "advocate").checks[1]
    assert check.met is False and "below the target of 92 %" in check.detail
    # a role without a target: the check does not apply
    Role.objects.filter(code="associate-advocate").update(csat_target=None)
    assert step_to(judged(associate), "advocate").checks[1].met is None


def test_editing_a_path_changes_readiness_immediately(team):
    associate = team["associates"][2]
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    csat(associate.holder, 10, 99)
    sign_all(associate.holder, path)
    assert step_to(judged(associate), "advocate").status == readiness.READY
    path.min_months = 6
    path.save()
    assert step_to(judged(associate), "advocate").status == readiness.READY_ON
    path.min_months, path.criteria = 3, path.criteria + "\nCompleted the product course"
    path.save()
    step = step_to(judged(associate), "advocate")
    assert [c.label for c in step.missing] == ["Completed the product course"]
    path.delete()
    assert not judged(associate).paths


def test_signoff_needs_a_manager_above_and_a_current_criterion(team, api_org):
    associate = team["associates"][0]
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    outsider = UserFactory(groups=["manager"])
    api_org.positions["manager_b"].holder.__class__.objects.filter(
        pk=api_org.positions["manager_b"].holder_id
    ).update(user=outsider)
    with pytest.raises(PermissionDenied):
        staffing_services.criterion_signoff(
            actor=outsider, person=associate.holder, path=path,
            criterion=path.criteria_items[0], signed=True,
        )  # fmt: skip
    with pytest.raises(ValidationError):
        staffing_services.criterion_signoff(
            actor=None, person=associate.holder, path=path, criterion="Made up", signed=True
        )
    assert not CriterionSignoff.objects.exists()


# --- promotion --------------------------------------------------------------------------------


def test_promote_in_place_ends_one_assignment_and_starts_the_next(team):
    associate = team["associates"][0]
    person = associate.holder
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    csat(person, 10, 96)
    sign_all(person, path)
    manager = UserFactory(groups=["manager"])
    type(person).objects.filter(pk=team["manager"].holder_id).update(user=manager)
    promotion = services.person_promote(
        actor=manager, person=person, to_role=path.to_role, effective=TODAY
    )
    associate.refresh_from_db()
    assert associate.role.code == "advocate" and associate.holder_id == person.pk
    history = list(person.assignments.order_by("start_date").values_list("role__code", "end_date"))
    assert history == [("associate-advocate", TODAY), ("advocate", None)]
    assert promotion.promoted_by == manager and promotion.override_reason == ""
    assert {c["kind"] for c in promotion.prerequisites} == {"tenure", "csat", "criterion"}
    # tenure in the new role starts from the promotion
    assert (
        readiness.person_readiness(person, as_of=TODAY + dt.timedelta(days=10)).days_in_role == 10
    )


def test_promote_into_an_open_position_of_the_new_role(team):
    advocate = team["advocate"]  # an advocate since January 2025: 22 months
    person = advocate.holder
    opening = make_position("Open lead", "team-lead", team["manager"], holder=False)
    path = PromotionPath.objects.get(from_role__code="advocate", to_role__code="team-lead")
    csat(person, 10, 97)
    sign_all(person, path)
    services.person_promote(
        actor=None, person=person, to_role=path.to_role, position=opening, effective=TODAY
    )
    opening.refresh_from_db()
    advocate.refresh_from_db()
    assert opening.holder_id == person.pk and advocate.holder_id is None
    assert advocate.role.code == "advocate"  # the old position keeps its role, now vacant
    wrong = make_position("Open advocate", "advocate", team["manager"], holder=False)
    other = team["associates"][1].holder
    with pytest.raises(ValidationError):
        services.person_promote(
            actor=None, person=other, to_role=Role.objects.get(code="advocate"),
            position=opening, override_reason="Needed on the phones this winter.",
        )  # fmt: skip
    assert wrong.holder_id is None


def test_an_override_needs_a_reason_and_is_recorded(team):
    associate = team["associates"][1]  # no CSAT, nothing signed
    advocate = Role.objects.get(code="advocate")
    with pytest.raises(ValidationError) as refused:
        services.person_promote(actor=None, person=associate.holder, to_role=advocate)
    assert "not ready" in str(refused.value) and "override_reason" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.person_promote(
            actor=None, person=associate.holder, to_role=advocate, override_reason="ok"
        )
    assert not Promotion.objects.exists()
    assert Position.objects.get(pk=associate.pk).role.code == "associate-advocate"
    promotion = services.person_promote(
        actor=None, person=associate.holder, to_role=advocate,
        override_reason="Covers the weekend queue alone and does it well.",
    )  # fmt: skip
    assert promotion.override_reason.startswith("Covers")
    assert any(c["met"] is False for c in promotion.prerequisites)


def test_no_path_no_promotion_and_scope(team, api_org):
    associate = team["associates"][0]
    with pytest.raises(ValidationError):
        services.person_promote(
            actor=None, person=associate.holder, to_role=Role.objects.get(code="director"),
            override_reason="Skipping every step on the ladder.",
        )  # fmt: skip
    outsider = UserFactory(groups=["manager"])
    type(associate.holder).objects.filter(pk=api_org.positions["manager_b"].holder_id).update(
        user=outsider
    )
    with pytest.raises(PermissionDenied):
        services.person_promote(
            actor=outsider, person=associate.holder, to_role=Role.objects.get(code="advocate"),
            override_reason="Not my team but I insist on it.",
        )  # fmt: skip
    assert not Promotion.objects.exists()


class Judged:
    """A judgement as the caller of promotion_apply passes it (metrics passes PathReadiness)."""

    def __init__(self, ready: bool):
        self.ready, self.summary = ready, "Ready now" if ready else "Missing: a course"

    def record(self) -> list[dict]:
        return [{"kind": "criterion", "label": "A course", "met": self.ready}]


def test_promotion_apply_goes_by_the_judgement_it_is_given(team):
    """Staffing judges no readiness: it calls the judgement the caller passes, inside its
    transaction, and a not-ready one writes nothing unless overridden with a reason."""
    associate = team["associates"][0]
    person = associate.holder
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    csat(person, 10, 96)
    sign_all(person, path)  # ready, as metrics judges it: the passed judgement still rules
    assert step_to(judged(associate), "advocate").status == readiness.READY
    asked = []

    def not_ready(*args):
        asked.append(args)
        return Judged(ready=False)

    before = list(Assignment.objects.order_by("pk").values_list("pk", "role_id", "end_date"))
    with pytest.raises(ValidationError) as refused:
        staffing_services.promotion_apply(
            actor=None, person=person, to_role=path.to_role, readiness=not_ready, effective=TODAY
        )
    assert "not ready" in str(refused.value) and "override_reason" in refused.value.message_dict
    assert asked == [(person, path.to_role, TODAY)]
    with pytest.raises(ValidationError) as no_path:
        staffing_services.promotion_apply(
            actor=None, person=person, to_role=path.to_role, readiness=lambda *a: None
        )
    assert "to_role" in no_path.value.message_dict
    assert not Promotion.objects.exists()
    assert Position.objects.get(pk=associate.pk).role.code == "associate-advocate"
    assert list(Assignment.objects.order_by("pk").values_list("pk", "role_id", "end_date")) == (
        before
    )
    promotion = staffing_services.promotion_apply(
        actor=None, person=person, to_role=path.to_role, readiness=not_ready, effective=TODAY,
        override_reason="Covers the weekend queue alone and does it well.",
    )  # fmt: skip
    assert promotion.override_reason.startswith("Covers")
    assert promotion.prerequisites == Judged(ready=False).record()


def test_readiness_of_a_subtree_runs_a_fixed_number_of_queries(team):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            found = readiness.readiness(Position.objects.subtree_of(team["manager"]), as_of=TODAY)
        assert found
        return len(captured.captured_queries)

    before = count()
    make_team(team["lead"], 5, role="advocate", start=D(2025, 6, 1))
    for position in Position.objects.filter(role__code="advocate"):
        csat(position.holder, 10, 95)
    assert count() == before == 5


# --- pages --------------------------------------------------------------------------------------


def manager_of(team):
    return log_in("manager", holds=team["manager"])


def streamed(response) -> str:
    """The body of a streamed response (the CSV is written as it is judged)."""
    return b"".join(response.streaming_content).decode()


def test_the_readiness_list_sorts_filters_and_exports(team):
    client = manager_of(team)
    for n, position in enumerate(team["associates"]):
        csat(position.holder, 10, 90 + n)
    page = client.get("/readiness/", {"sort": "csat"})  # highest first
    assert page.status_code == 200
    html = page.content.decode()
    names = [p.holder.full_name for p in team["associates"]]
    assert html.index(names[2]) < html.index(names[1]) < html.index(names[0])
    assert team["manager"].holder.full_name not in html  # their own row is not listed
    html = client.get("/readiness/", {"sort": "-csat"}).content.decode()
    assert html.index(names[0]) < html.index(names[1]) < html.index(names[2])
    exported = client.get("/readiness/", {"format": "csv", "status": "missing"})
    rows = list(csv.DictReader(io.StringIO(streamed(exported))))
    assert {r["person"] for r in rows} >= set(names)
    assert all(r["status"] == "Missing something" or r["next_role"] for r in rows)
    assert client.get("/readiness/", {"root": 999999}).status_code == 404


def test_promote_from_the_person_page_and_the_chart_changes(team):
    client = manager_of(team)
    associate = team["associates"][0]
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    csat(associate.holder, 10, 96)
    sign = client.post(
        f"/people/{associate.holder_id}/signoff/",
        {"path": path.pk, "criterion": path.criteria_items[0], "signed": "yes"},
    )
    assert sign.status_code == 302 and CriterionSignoff.objects.count() == 1
    page = client.get(f"/people/{associate.holder_id}/").content.decode()
    assert "Ready now" in page and "Promote</button>" in page
    done = client.post(
        f"/people/{associate.holder_id}/promote/",
        {"to_role": path.to_role_id, "position": "same", "next": "chart"},
    )
    assert done.status_code == 302 and done["Location"] == f"/?focus={associate.pk}"
    assert Position.objects.get(pk=associate.pk).role.code == "advocate"
    # HR reads the page but gets no forms; a stranger gets a 404
    hr = session_client(UserFactory(groups=["hr"]))
    assert "Promote" not in hr.get(f"/people/{associate.holder_id}/").content.decode()
    stranger = session_client(UserFactory())
    assert stranger.get(f"/people/{associate.holder_id}/").status_code == 404
    refused = hr.post(
        f"/people/{team['associates'][1].holder_id}/promote/",
        {"to_role": path.to_role_id, "override_reason": "HR is not a manager here at all."},
    )
    assert refused.status_code == 403
    assert Position.objects.get(pk=team["associates"][1].pk).role.code == "associate-advocate"


def test_role_pages_and_ladder(team):
    client = session_client(UserFactory(is_superuser=True))
    html = client.get("/roles/").content.decode()
    assert html.count('class="ladder"') >= 3 and "about 9 months" in html
    assert 'href="/roles/advocate/"' in html
    role = client.get("/roles/team-lead/").content.decode()
    assert "6–10 direct reports" in role and "from <a" in role
    holders = client.get("/chart/holders/associate-advocate/").content.decode()
    assert all(p.holder.full_name in holders for p in team["associates"])
    assert client.get("/roles/nope/").status_code == 404
    manager = manager_of(team)
    outside = make_position("Far away", "associate-advocate")
    listed = manager.get("/chart/holders/associate-advocate/").content.decode()
    assert outside.holder.full_name not in listed and "3 people hold" in listed


# --- API ----------------------------------------------------------------------------------------


def test_hr_and_managers_read_readiness_over_the_api(team):
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    ready = team["associates"][0]
    csat(ready.holder, 10, 96)
    sign_all(ready.holder, path)
    hr = session_client(UserFactory(groups=["hr"]))
    one = hr.get(f"/api/people/{ready.holder_id}/readiness/")
    assert one.status_code == 200, one.content
    body = one.json()
    assert body["role"]["name"] == "Associate Customer Advocate"
    step = body["paths"][0]
    assert step["to_role"]["name"] == "Customer Advocate" and step["status"] == "ready"
    assert [c["kind"] for c in step["checks"]] == ["tenure", "csat", "criterion"]
    manager = manager_of(team)
    listed = manager.get("/api/readiness/").json()
    assert listed["count"] == 5  # the lead, three associates and the advocate
    assert listed["results"][0]["person"]["id"] == ready.holder_id  # ready first
    only = hr.get("/api/readiness/", {"subtree_of": team["lead"].pk, "status": "ready"}).json()
    assert [r["person"]["id"] for r in only["results"]] == [ready.holder_id]
    past = hr.get(f"/api/people/{ready.holder_id}/readiness/", {"as_of": "2026-08-01"}).json()
    assert past["paths"][0]["status"] != "ready"
    assert hr.get("/api/readiness/", {"status": "soon"}).status_code == 400
    assert hr.get("/api/readiness/", {"as_of": "tomorrow"}).status_code == 400
    assert manager.get("/api/readiness/", {"subtree_of": 999999}).status_code == 400
    stranger = session_client(UserFactory(groups=["manager"]))
    assert stranger.get(f"/api/people/{ready.holder_id}/readiness/").status_code == 404
    nobody = PersonFactory()
    assert hr.get(f"/api/people/{nobody.pk}/readiness/").status_code == 404


def test_the_demo_manager_sees_a_mixed_readiness_list(framework):
    from django.core.management import call_command

    from demo import organizations

    call_command("seed_demo", org="synapse")
    assert PerformanceObservation.objects.count() > 500
    client = session_client(type(UserFactory()).objects.get(username="manager"))
    rows = list(csv.DictReader(io.StringIO(streamed(client.get("/readiness/?format=csv")))))
    assert len(rows) >= 10
    statuses = {r["status"] for r in rows}
    assert {"Ready now", "Missing something"} <= statuses, statuses
    assert client.get("/readiness/").status_code == 200
    assert organizations.DEMO_PASSWORD


def test_a_scope_larger_than_a_page_is_paged_not_refused(team, settings):
    """The whole organization, more people than a page holds: everyone is listed, a page at
    a time (pages of 2 here), on the page and over the API; nothing asks for a team."""
    settings.READINESS_PAGE_SIZE = 2
    admin = session_client(UserFactory(is_superuser=True))
    everyone = {p.holder_id for p in Position.objects.exclude(holder=None)}
    assert len(everyone) == 6  # the manager, the lead, three associates and the advocate
    seen = []
    for number in (1, 2, 3):
        page = admin.get("/readiness/", {"page": number})
        assert page.status_code == 200
        html = page.content.decode()
        assert "Choose a team" not in html and "of 3" in html
        seen += [int(pk) for pk in re.findall(r'data-person="(\d+)"', html)]
    assert len(seen) == 6 and set(seen) == everyone
    narrowed = admin.get("/readiness/", {"root": team["lead"].pk}).content.decode()
    assert "4 people" in narrowed and "of 2" in narrowed
    api = admin.get("/api/readiness/", {"page_size": 4})
    assert api.status_code == 200 and api.json()["count"] == 6 and api.json()["next"]
    rest = admin.get("/api/readiness/", {"page_size": 4, "page": 2}).json()["results"]
    assert {r["person"]["id"] for r in api.json()["results"] + rest} == everyone
    lead = admin.get("/api/readiness/", {"subtree_of": team["lead"].pk, "page_size": 3})
    assert lead.json()["count"] == 4 and len(lead.json()["results"]) == 3


def test_hr_edits_a_path_in_the_admin_and_readiness_follows(team):
    associate = team["associates"][0]
    path = PromotionPath.objects.get(from_role__code="associate-advocate", to_role__code="advocate")
    csat(associate.holder, 10, 99)
    sign_all(associate.holder, path)
    assert step_to(judged(associate), "advocate").status == readiness.READY
    hr = session_client(UserFactory(groups=["hr"], is_staff=True))
    form = {
        "from_role": path.from_role_id,
        "to_role": path.to_role_id,
        "min_months": 6,
        "max_months": "",
        "criteria": path.criteria,
    }
    changed = hr.post(f"/admin/roles/promotionpath/{path.pk}/change/", form)
    assert changed.status_code == 302, changed.content.decode()[:3000]
    step = step_to(judged(associate), "advocate")
    assert step.status == readiness.READY_ON and "6 months" in step.checks[0].detail
    manager = manager_of(team)
    page = manager.get(f"/people/{associate.holder_id}/").content.decode()
    assert "Ready on" in page
