"""The admin's permission matrix, read from the admin site's registry so that a new admin
model cannot be left out: every model's changelist, and for the models that hold people,
positions or their records the change and history pages of an object inside the viewer's
part and of one outside it, requested by every kind of staff user.

An object outside the viewer's part is answered exactly like one that does not exist (the
admin's "doesn't exist" redirect), and never appears in a list."""

import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from metrics import services as metrics_services
from metrics.models import KPI, HeadcountSnapshot, KPIObservation, PerformanceObservation
from roles.models import Role
from staffing.models import (
    Assignment,
    Finding,
    ImportJob,
    Person,
    Position,
    Promotion,
    TriageWeek,
)
from tests.factories import Org, log_in, triage_weeks

pytestmark = pytest.mark.django_db

ACTORS = ("nobody", "hr", "manager", "director")

# What each kind of staff user may open, per model (changelist status in ACTORS order).
CATALOGUE = (403, 200, 200, 200)  # definitions: no person in them, the same for everyone
CLOSED = (403, 403, 403, 403)  # admins only: users, tokens, login records, imports
SCOPED = (403, 200, 200, 200)  # rows filtered by the viewer's part (HR reads all)
FINDINGS = (403, 403, 403, 403)  # read on the chart and the API, not in the admin

MATRIX = {
    "auth.Group": CLOSED,
    "auth.User": CLOSED,
    "axes.AccessAttempt": CLOSED,
    "axes.AccessLog": CLOSED,
    "axes.AccessFailureLog": CLOSED,
    "orgdesign.ApiTokenInfo": CLOSED,
    "staffing.ImportJob": CLOSED,
    "tiers.Tier": CATALOGUE,
    "tiers.Squad": CATALOGUE,
    "roles.Role": CATALOGUE,
    "roles.PromotionPath": CATALOGUE,
    "roles.SpanRule": CATALOGUE,
    "roles.Skill": CATALOGUE,
    "metrics.KPI": CATALOGUE,
    "staffing.Location": CATALOGUE,
    "staffing.Person": SCOPED,
    "staffing.Position": SCOPED,
    "staffing.Assignment": SCOPED,
    "staffing.Finding": FINDINGS,
    "staffing.Promotion": SCOPED,
    "staffing.TriageWeek": SCOPED,  # the locations where the viewer's part has people
    "metrics.KPIObservation": SCOPED,
    "metrics.PerformanceObservation": SCOPED,
    "metrics.HeadcountSnapshot": SCOPED,
}


def registered() -> dict[str, type]:
    return {model._meta.label: model for model in admin.site._registry}


def test_every_admin_model_is_in_the_matrix():
    assert set(registered()) == set(MATRIX), "add the new admin model to MATRIX"


def _promotion(person: Person) -> Promotion:
    role = person.position.role
    return Promotion.objects.create(
        person=person,
        from_role=role,
        to_role=Role.objects.get(code="senior-advocate"),
        effective=datetime.date(2026, 1, 5),
        promoted_by_name="test",
    )


def _performance(person: Person) -> PerformanceObservation:
    return PerformanceObservation.objects.create(
        person=person,
        metric="csat",
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        value=Decimal("93.5"),
    )


def _kpi_value(team: Position) -> KPIObservation:
    return KPIObservation.objects.create(
        kpi=KPI.objects.get(code="csat"),
        scope=team,
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        value=Decimal("4.6"),
    )


@pytest.fixture
def world(api_org: Org):
    """Per scoped model, an object inside every scoped actor's part and one outside it (and
    a record of the whole organization where the model keeps one)."""
    mine, theirs = api_org.mine, api_org.theirs
    lead, other_lead = api_org.positions["lead_a"], api_org.positions["other_lead"]

    positions = api_org.positions
    clients = {
        "nobody": log_in(is_staff=True),
        "hr": log_in("hr", is_staff=True),
        "manager": log_in("manager", holds=positions["manager_a"], is_staff=True),
        "director": log_in("director", holds=positions["director"], is_staff=True),
    }
    whole = metrics_services.headcount_snapshot_take()
    objects = {
        "staffing.Person": (mine.holder, theirs.holder),
        "staffing.Position": (mine, theirs),
        "staffing.Assignment": (
            Assignment.objects.get(position=mine),
            Assignment.objects.get(position=theirs),
        ),
        "staffing.Promotion": (_promotion(mine.holder), _promotion(theirs.holder)),
        "staffing.TriageWeek": tuple(TriageWeek.objects.get(pk=pk) for pk in triage_weeks(api_org)),
        "staffing.Finding": (
            Finding.objects.open().get(position=lead),
            Finding.objects.open().get(position=other_lead),
        ),
        "metrics.KPIObservation": (_kpi_value(lead), _kpi_value(other_lead)),
        "metrics.PerformanceObservation": (
            _performance(mine.holder),
            _performance(theirs.holder),
        ),
        "metrics.HeadcountSnapshot": (
            metrics_services.headcount_snapshot_take(scope=lead),
            metrics_services.headcount_snapshot_take(scope=api_org.positions["other"]),
            whole,
        ),
        "staffing.ImportJob": (
            ImportJob.objects.create(filename="org.csv", content="", sha256="", size=0),
        ),
    }
    return clients, objects


def admin_url(label: str, view: str, *args) -> str:
    app, model = label.lower().split(".")
    return reverse(f"admin:{app}_{model}_{view}", args=args)


def missing_answer(client, label: str, view: str):
    """How the admin answers for an id that no object has."""
    response = client.get(admin_url(label, view, 2**62))
    return response.status_code, response.get("Location")


def test_every_admin_page_answers_each_kind_of_staff_user_as_the_rules_say(world):
    clients, objects = world
    wrong = []
    for label, expected in MATRIX.items():
        changelist = admin_url(label, "changelist")
        for actor, status in zip(ACTORS, expected, strict=True):
            client = clients[actor]
            response = client.get(changelist)
            if response.status_code != status:
                wrong.append(f"{changelist} as {actor}: {response.status_code}, want {status}")
                continue
            if status != 200 or label not in objects or expected is not SCOPED:
                continue
            inside, *outside = objects[label]
            sees_all = actor == "hr"
            listed = response.content.decode()
            for obj, shown in [(inside, True), *((o, sees_all) for o in outside)]:
                link = admin_url(label, "change", obj.pk)
                if (f'href="{link}' in listed) != shown:
                    wrong.append(f"{label} {obj.pk} as {actor}: listed {not shown}")
                for view in ("change", "history"):
                    got = client.get(admin_url(label, view, obj.pk))
                    answer = (got.status_code, got.get("Location"))
                    hidden = answer == missing_answer(client, label, view)
                    if hidden == shown or (shown and got.status_code != 200):
                        wrong.append(f"{label} {view} {obj.pk} as {actor}: {answer}")
    assert not wrong, "\n".join(wrong)


def test_closed_models_stay_closed_to_their_objects(world):
    """Admins-only models refuse their objects' pages too, not only the list."""
    clients, objects = world
    (job,) = objects["staffing.ImportJob"]
    for actor in ACTORS:
        response = clients[actor].get(admin_url("staffing.ImportJob", "change", job.pk))
        assert response.status_code == 403, actor


def test_a_manager_reads_no_csat_outside_their_part_in_the_admin(world):
    """The reported defect: every observation listed, and one outside shown with its CSAT."""
    clients, objects = world
    inside, outside = objects["metrics.PerformanceObservation"]
    listed = clients["manager"].get(admin_url("metrics.PerformanceObservation", "changelist"))
    assert str(inside.person) in listed.content.decode()
    assert str(outside.person) not in listed.content.decode()
    page = clients["manager"].get(
        admin_url("metrics.PerformanceObservation", "change", outside.pk), follow=True
    )
    assert str(outside.person) not in page.content.decode()
    assert "doesn’t exist" in page.content.decode()


def test_snapshots_in_the_admin_are_those_of_the_viewers_part(world):
    clients, objects = world
    ours, theirs, whole = objects["metrics.HeadcountSnapshot"]
    listed = clients["director"].get(admin_url("metrics.HeadcountSnapshot", "changelist"))
    text = listed.content.decode()
    assert admin_url("metrics.HeadcountSnapshot", "change", ours.pk) in text
    for hidden in (theirs, whole):
        assert admin_url("metrics.HeadcountSnapshot", "change", hidden.pk) not in text
    assert HeadcountSnapshot.objects.count() == 3
