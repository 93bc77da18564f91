"""The permission matrix of the pages: every URL of the project outside ``/api/`` and
``/admin/`` (the API has its own matrix in test_api_endpoints, the admin Django's own
checks), read from the URL conf so that a new page cannot be left out, requested by every
kind of user, with the status each must get. Write routes are also posted to by those who
may not write: they must be refused with nothing changed."""

import pytest
from django.db.models import Q
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from metrics.models import HeadcountSnapshot, KPIObservation
from roles.models import PromotionPath
from staffing import triage
from staffing.models import (
    CriterionSignoff,
    ImportJob,
    Position,
    Promotion,
    Scenario,
    TriageWeek,
)
from staffing.scenarios import drafts
from staffing.web.dialogs import ACTIONS
from staffing.web.editor import DRAFT_ACTIONS
from tests.factories import LocationFactory, Org, UserFactory, session_client
from tiers.models import Squad

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "nobody", "hr", "manager", "director", "admin")
LOGIN = 302  # anonymous visitors are sent to the login page

# route → (URL with {placeholders}, GET status per actor in ACTORS order). The scenario is the
# director's draft; {pk} is an agent under Lead A, in every scoped actor's part.
ALL = (LOGIN, 200, 200, 200, 200, 200)
POST_ONLY = (LOGIN, 405, 405, 405, 405, 405)
IN_SCOPE = (LOGIN, 404, 200, 200, 200, 200)  # nobody sees a position outside their part
EDIT = (LOGIN, 404, 403, 200, 200, 200)  # HR reads, never edits
DRAFT = (LOGIN, 404, 200, 404, 200, 200)  # the author, HR and admins see a scenario
DRAFT_EDIT = (LOGIN, 404, 403, 404, 200, 200)
ADMIN_ONLY = (LOGIN, 403, 403, 403, 403, 200)  # imports: those who edit the whole organization
MATRIX = {
    "home": ("/", ALL),
    "chart-export": (["/chart/{pk}/export.csv", "/chart/export.csv"], IN_SCOPE),
    "chart-children": ("/chart/{lead}/children/", IN_SCOPE),
    "chart-edit": ([f"/chart/{{pk}}/{action}/" for action in ACTIONS], EDIT),
    "chart-undo": ("/chart/undo/{undo}/", POST_ONLY),  # the user's own change only
    "chart-search": ("/chart/search/?q=lead", ALL),
    "chart-people": ("/chart/people/?q=ag", ALL),
    "chart-view": ("/chart/view/", POST_ONLY),  # anyone may post their own choice
    "position-about": ("/positions/{pk}/about/", IN_SCOPE),
    "role-holders": ("/chart/holders/team-lead/", ALL),
    "capacity": ("/capacity/", ALL),
    "history": ("/history/", ALL),
    "position-history-page": ("/history/positions/{pk}/", IN_SCOPE),
    "past-chart": ("/past/{day}/", ALL),
    "past-children": ("/past/{day}/{lead}/children/", IN_SCOPE),
    "scenarios": ("/scenarios/", ALL),
    "scenario-plan-draft": ("/scenarios/from-plan/", POST_ONLY),
    "scenario": ("/scenarios/{scenario}/", DRAFT),
    "scenario-compare": ("/scenarios/{scenario}/diff/", DRAFT),
    "scenario-make-live": ("/scenarios/{scenario}/apply/", POST_ONLY),
    "scenario-search": ("/scenarios/{scenario}/search/?q=lead", DRAFT),
    "draft-children": ("/scenarios/{scenario}/p/{row_lead}/children/", DRAFT),
    "draft-edit": ([f"/scenarios/{{scenario}}/p/{{row}}/{a}/" for a in DRAFT_ACTIONS], DRAFT_EDIT),
    "draft-restore": ("/scenarios/{scenario}/removed/{row}/restore/", POST_ONLY),
    "scenario-close": (
        ["/scenarios/{scenario}/archive/", "/scenarios/{scenario}/discard/"],
        POST_ONLY,
    ),
    "role-catalogue": ("/roles/", ALL),
    "role-page": ("/roles/team-lead/", ALL),
    "tier-catalogue": ("/tiers/", ALL),  # the catalogue for all; headcount of one's own part
    "squad-page": ("/squads/{squad}/", ALL),  # a catalogue squad; the people of one's own part
    "squad-rotation": ("/squads/rotation/", ALL),
    "triage": ("/triage/", ALL),  # the locations where one's part has people
    "triage-week": ("/triage/{loc}/{week}/", EDIT),  # nobody sees a location; HR reads
    "dashboard": ("/dashboard/", (LOGIN, 403, 200, 200, 200, 200)),
    "dashboard-snapshot": ("/dashboard/snapshot/", POST_ONLY),
    "kpi-upload": ("/dashboard/kpis/upload/", (LOGIN, 403, 403, 403, 200, 200)),
    "dashboard-csv": ("/dashboard/role.csv", (LOGIN, 403, 200, 200, 200, 200)),
    "readiness": ("/readiness/", (LOGIN, 403, 200, 200, 200, 200)),
    "person-page": ("/people/{person}/", IN_SCOPE),
    "person-signoff": ("/people/{person}/signoff/", POST_ONLY),
    "person-promote": ("/people/{person}/promote/", POST_ONLY),
    "health": ("/health/", (200,) * 6),
    "login": ("/login/", (200,) * 6),
    "logout": ("/logout/", (405,) * 6),
    "import": ("/import/", ADMIN_ONLY),
    "import-job": ("/import/{job}/", ADMIN_ONLY),
    "import-progress": ("/import/{job}/progress/", ADMIN_ONLY),
    "import-apply": ("/import/{job}/apply/", POST_ONLY),
}

# routes that change something, posted to by those who may not: (URL, data)
WRITES = {
    "chart-edit": ("/chart/{pk}/edit/", {"title": "Taken over"}),
    "chart-undo": ("/chart/undo/{undo}/", {}),
    "scenarios": ("/scenarios/", {"name": "Not mine"}),
    "scenario-plan-draft": ("/scenarios/from-plan/", {"name": "Not mine"}),
    "scenario-make-live": ("/scenarios/{scenario}/apply/", {}),
    "draft-edit": ("/scenarios/{scenario}/p/{row}/edit/", {"title": "Taken over"}),
    "draft-restore": ("/scenarios/{scenario}/removed/{row}/restore/", {}),
    "scenario-close": ("/scenarios/{scenario}/discard/", {}),
    "dashboard-snapshot": ("/dashboard/snapshot/", {}),
    "kpi-upload": ("/dashboard/kpis/upload/", {}),
    "person-signoff": ("/people/{person}/signoff/", "signoff"),
    "person-promote": ("/people/{person}/promote/", "promote"),
    "import": ("/import/", {}),
    "import-apply": ("/import/{job}/apply/", {}),
    "triage-week": ("/triage/{loc}/{week}/", {"people": []}),
}


def urls(entry) -> list[str]:
    return [entry] if isinstance(entry, str) else entry


def routes() -> set[str]:
    """Every URL pattern outside the API and the admin, as its route."""

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    return {r for r in walk(get_resolver().url_patterns) if not r.startswith(("api/", "admin/"))}


SAMPLE = {"pk": 1, "lead": 1, "person": 1, "scenario": 1, "row": 1, "row_lead": 1}
SAMPLE |= {"day": "2026-11-30"}
SAMPLE |= {"job": 1, "undo": 1, "squad": 1, "loc": "dub", "week": "2026-11-30"}


def test_every_page_is_in_the_matrix():
    """Every URL pattern is reached by a URL of the matrix, and each URL reaches the route it
    is listed under (a typo would otherwise pass as a 404)."""
    reached = set()
    for name, (entry, _expected) in MATRIX.items():
        for url in urls(entry):
            match = resolve(url.format(**SAMPLE).split("?")[0])
            assert match.url_name == name, (url, match.url_name)
            reached.add(match.route)
    assert reached == routes(), "add the new page to MATRIX (and WRITES if it changes data)"
    assert set(WRITES) <= set(MATRIX)
    for name, (url, _data) in WRITES.items():
        assert resolve(url.format(**SAMPLE)).url_name == name


@pytest.fixture
def world(api_org: Org):
    def holder(name, group):
        user = UserFactory(groups=[group])
        position = api_org.positions[name]
        position.holder.user = user
        position.holder.save(update_fields=["user"])
        return user

    director = holder("director", "director")
    # Lead A's team works in Dublin: the manager's and the director's part has people there
    dublin = LocationFactory(code="dub", name="Dublin")
    lead_a = api_org.positions["lead_a"]
    Position.objects.filter(Q(pk=lead_a.pk) | Q(parent=lead_a)).update(location=dublin)
    clients = {
        "anonymous": session_client(UserFactory()),
        "nobody": session_client(UserFactory()),
        "hr": session_client(UserFactory(groups=["hr"])),
        "manager": session_client(holder("manager_a", "manager")),
        "director": session_client(director),
        "admin": session_client(UserFactory(is_superuser=True, is_staff=True)),
    }
    clients["anonymous"].logout()
    scenario = drafts.scenario_create(actor=director, name="The director's draft")
    path = PromotionPath.objects.filter(from_role=api_org.mine.role).exclude(criteria="").first()
    values = {
        "signoff": {"path": path.pk, "criterion": path.criteria_items[0], "signed": "yes"},
        "promote": {
            "to_role": path.to_role_id,
            "position": "same",
            "override_reason": "Not theirs to promote, whatever the reason.",
        },
        "pk": api_org.mine.pk,
        "day": timezone.localdate().isoformat(),
        "job": ImportJob.objects.create(filename="org.csv", content="", sha256="", size=0).pk,
        # a change in the history that is in no one's session: nothing to undo for anyone
        "undo": Position.history.filter(id=api_org.mine.pk).latest("history_id").history_id,
        "lead": api_org.positions["lead_a"].pk,
        "person": api_org.mine.holder_id,
        "scenario": scenario.pk,
        "squad": Squad.objects.order_by("pk").first().pk,
        "row": scenario.positions.get(source=api_org.mine).pk,
        "row_lead": scenario.positions.get(source=api_org.positions["lead_a"]).pk,
        "loc": dublin.code,
        "week": triage.monday(timezone.localdate()).isoformat(),
    }
    return clients, values, scenario


def state(scenario: Scenario) -> tuple:
    scenario.refresh_from_db()
    return (
        sorted(
            Position.objects.values_list(
                "pk", "parent_id", "title", "holder_id", "status", "role_id"
            )
        ),
        sorted(scenario.positions.values_list("pk", "parent_id", "title", "removed")),
        scenario.status,
        Scenario.objects.count(),
        CriterionSignoff.objects.count(),
        Promotion.objects.count(),
        sorted(ImportJob.objects.values_list("pk", "status")),
        HeadcountSnapshot.objects.count(),
        KPIObservation.objects.count(),
        sorted(TriageWeek.people.through.objects.values_list("triageweek_id", "person_id")),
        TriageWeek.objects.count(),
    )


def test_every_page_answers_each_kind_of_user_as_the_rules_say(world):
    clients, values, _scenario = world
    wrong = []
    for entry, expected in MATRIX.values():
        for url, (actor, status) in (
            (url, pair) for url in urls(entry) for pair in zip(ACTORS, expected, strict=True)
        ):
            response = clients[actor].get(url.format(**values))
            got = response.status_code
            if actor == "anonymous" and status == LOGIN and got == LOGIN:
                if not response["Location"].startswith("/login/"):
                    wrong.append(f"{url} as {actor}: sent to {response['Location']}")
                continue
            if got != status:
                wrong.append(f"{url} as {actor}: {got}, expected {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("actor", ["anonymous", "nobody", "hr"])
def test_those_who_may_not_write_are_refused_and_nothing_changes(world, actor):
    clients, values, scenario = world
    before = state(scenario)
    for name, (url, data) in WRITES.items():
        data = values[data] if isinstance(data, str) else data
        response = clients[actor].post(url.format(**values), data)
        allowed = {LOGIN} if actor == "anonymous" else {403, 404}
        assert response.status_code in allowed, (name, actor, response.status_code)
    assert state(scenario) == before
