"""The audit trail: every write path records who changed what and when (services, bulk
loads, the admin), the feeds show it, and the organization can be seen as it was on a day
(the API's ``?as_of=`` and the chart at ``/past/<date>/``)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo import organizations
from orgdesign.kernel.audit import acting
from roles.models import PromotionPath, Role, SpanRule
from staffing import services
from staffing.history import feeds
from staffing.models import Assignment, Person, Position
from staffing.scope import SYSTEM
from staffing.tree import bulk_create_tree, tree_transaction
from tests.factories import Org, PersonFactory, UserFactory, session_client

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
EARLIER = TODAY - datetime.timedelta(days=30)


def versions(position: Position):
    return list(Position.history.filter(id=position.pk).order_by("history_date", "history_id"))


def backdate(day: datetime.date) -> None:
    """Make everything recorded so far look as if it happened at noon on ``day``."""
    noon = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    for kind in feeds.KINDS.values():  # every model the feed lists
        kind.model.history.all().update(history_date=noon)


@pytest.fixture
def admin_user():
    return UserFactory(is_superuser=True, is_staff=True)


# --- recording ---------------------------------------------------------------------------


def test_every_service_records_the_actor_and_the_operation(api_org: Org, admin_user):
    lead_a, lead_b = api_org.positions["lead_a"], api_org.positions["lead_b"]
    made = services.position_create(
        actor=admin_user, parent=lead_a, title="New agent", role=Role.objects.get(code="advocate")
    )
    services.position_update(actor=admin_user, position=made, title="Chat agent")
    services.position_move(actor=admin_user, position=made, new_parent=lead_b)
    person = PersonFactory()
    services.person_assign(
        actor=admin_user, person=person, position=made, start_date=datetime.date(2026, 1, 5)
    )
    services.position_vacate(actor=admin_user, position=made)
    services.position_delete(actor=admin_user, position=made)

    rows = versions(made)
    assert [(r.history_type, r.history_change_reason) for r in rows] == [
        ("+", "position_create"),
        ("~", "position_update"),
        ("~", "position_move"),
        ("~", "person_assign"),
        ("~", "position_vacate"),
        ("-", "position_delete"),
    ]
    assert {r.history_user_id for r in rows} == {admin_user.pk}
    assert rows[1].title == "Chat agent" and rows[2].parent_id == lead_b.pk
    assert rows[3].holder_id == person.pk and rows[4].holder_id is None
    held = Assignment.history.filter(person_id=person.pk).order_by("history_id")
    assert [(r.history_type, r.history_change_reason, r.history_user_id) for r in held] == [
        ("+", "person_assign", admin_user.pk),
        ("~", "position_vacate", admin_user.pk),
        ("~", "position_delete", admin_user.pk),  # it loses its position (kept as a title)
    ]
    # made by a command (no actor): recorded, with no user
    assert versions(api_org.positions["director"])[0].history_user_id is None


def test_an_update_that_changes_nothing_records_nothing(api_org: Org, admin_user):
    lead = api_org.positions["lead_a"]
    before = len(versions(lead))
    services.position_update(actor=admin_user, position=lead, title=lead.title, role=lead.role)
    assert len(versions(lead)) == before


def test_a_refused_change_leaves_no_history(api_org: Org, admin_user):
    manager = api_org.positions["manager_a"]
    before = Position.history.count()
    with pytest.raises(Exception, match="loop"):
        services.position_move(
            actor=admin_user, position=manager, new_parent=api_org.positions["lead_a"]
        )
    assert Position.history.count() == before


def test_a_nested_service_keeps_the_outer_operation_name(api_org: Org, admin_user):
    with acting(admin_user, "scenario_apply"):
        services.position_update(
            actor=admin_user, position=api_org.positions["lead_b"], title="Lead B (chat)"
        )
    last = versions(api_org.positions["lead_b"])[-1]
    assert last.history_change_reason == "scenario_apply" and last.history_user == admin_user


def test_bulk_paths_are_recorded(framework, admin_user):
    """seed_demo writes positions and assignments in bulk (no save() signals); the tree's
    bulk insert records them itself, and clearing the demo records the deletions."""
    organizations.seed(org="synapse")
    count = Position.objects.count()
    assert Position.history.filter(history_type="+", history_change_reason="seed_demo").count() == (
        count
    )
    assert Assignment.history.filter(history_change_reason="seed_demo").count() == (
        Assignment.objects.count()
    )
    role = Role.objects.get(code="advocate")
    with tree_transaction(), acting(admin_user, "bulk test"):
        made = bulk_create_tree(
            [Position(title=f"Bulk {n}", role=role) for n in range(3)], [None, 0, 0]
        )
    rows = Position.history.filter(id__in=[p.pk for p in made])
    assert rows.count() == 3
    assert {(r.history_user_id, r.history_change_reason) for r in rows} == {
        (admin_user.pk, "bulk test")
    }
    assert {r.parent_id for r in rows} == {None, made[0].pk}
    organizations.clear_organization()
    assert Position.history.filter(history_type="-").count() == count + 3


def test_catalogue_edits_in_the_admin_are_recorded_with_the_user(framework, admin_user):
    client = session_client(admin_user)
    path = PromotionPath.objects.select_related("from_role", "to_role").first()
    page = client.get(f"/admin/roles/promotionpath/{path.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update(min_months=7, approximate="", external_hires_allowed="")
    response = client.post(f"/admin/roles/promotionpath/{path.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    last = PromotionPath.history.filter(id=path.pk).first()
    assert last.min_months == 7 and last.history_user == admin_user

    history_page = client.get(f"/admin/roles/promotionpath/{path.pk}/history/")
    assert history_page.status_code == 200
    assert admin_user.username in history_page.content.decode()
    version = PromotionPath.history.filter(id=path.pk).last().history_id
    url = f"/admin/roles/promotionpath/{path.pk}/history/{version}/"
    assert client.get(url).status_code == 200
    assert client.post(url, data).status_code == 403  # a past version is never saved back
    assert PromotionPath.objects.get(pk=path.pk).min_months == 7


def test_the_admin_shows_a_position_history_only_within_scope(api_org: Org, admin_user):
    manager = UserFactory(groups=["manager"], is_staff=True)
    Person.objects.filter(pk=api_org.positions["manager_a"].holder_id).update(user=manager)
    client = session_client(manager)
    assert client.get(f"/admin/staffing/position/{api_org.mine.pk}/history/").status_code == 200
    outside = client.get(f"/admin/staffing/position/{api_org.theirs.pk}/history/")
    assert outside.status_code == 404  # as for a position that never existed
    assert client.get(f"/admin/staffing/position/{2**62}/history/").status_code == 404
    admin = session_client(admin_user)
    assert admin.get(f"/admin/staffing/position/{api_org.theirs.pk}/history/").status_code == 200


# --- the organization on a date ---------------------------------------------------------------


@pytest.fixture
def changed(api_org: Org, admin_user) -> Org:
    """``api_org`` as it was 30 days ago; since then Lead A was renamed and moved under
    Manager B, an agent of Lead B deleted, and a position added under Manager A."""
    backdate(EARLIER)
    lead_a = api_org.positions["lead_a"]
    services.position_update(actor=admin_user, position=lead_a, title="Lead A (chat)")
    services.position_move(
        actor=admin_user, position=lead_a, new_parent=api_org.positions["manager_b"]
    )
    gone = Position.objects.get(title="Open B")
    services.position_delete(actor=admin_user, position=gone)
    added = services.position_create(
        actor=admin_user,
        parent=api_org.positions["manager_a"],
        title="New lead",
        role=Role.objects.get(code="team-lead"),
    )
    api_org.extra.update(gone=gone.pk, added=added.pk)
    return api_org


def by_id(response) -> dict[int, dict]:
    assert response.status_code == 200, response.content
    return {row["id"]: row for row in response.json()["results"]}


def test_the_api_shows_the_organization_as_it_was(changed: Org, admin_user):
    client = session_client(admin_user)
    lead_a = changed.positions["lead_a"]
    then = by_id(client.get("/api/positions/", {"as_of": EARLIER.isoformat(), "page_size": 500}))
    assert then[lead_a.pk]["title"] == "Lead A"
    assert then[lead_a.pk]["parent"]["id"] == changed.positions["manager_a"].pk
    assert changed.extra["gone"] in then and changed.extra["added"] not in then
    assert then[changed.positions["manager_a"].pk]["team_size"] == 4  # Lead A and 3 agents
    assert then[changed.positions["director"].pk]["level"] == 0
    assert then[lead_a.pk]["level"] == 2

    now = by_id(client.get("/api/positions/", {"as_of": TODAY.isoformat(), "page_size": 500}))
    assert now[lead_a.pk]["title"] == "Lead A (chat)"
    assert now[lead_a.pk]["parent"]["id"] == changed.positions["manager_b"].pk
    assert changed.extra["gone"] not in now and changed.extra["added"] in now
    live = by_id(client.get("/api/positions/", {"page_size": 500}))
    assert set(now) == set(live)
    for pk, row in live.items():
        for name in ("title", "level", "team_size", "direct_reports", "status", "parent"):
            assert now[pk][name] == row[name], (pk, name)

    before_anything = client.get("/api/positions/", {"as_of": "2000-01-01"})
    assert before_anything.json()["count"] == 0


def test_past_filters_apply_to_the_past_tree(changed: Org, admin_user):
    client = session_client(admin_user)
    manager_a = changed.positions["manager_a"]
    day = EARLIER.isoformat()
    team = by_id(client.get("/api/positions/", {"as_of": day, "subtree_of": manager_a.pk}))
    assert changed.positions["lead_a"].pk in team and len(team) == 5
    leads = by_id(client.get("/api/positions/", {"as_of": day, "level": 2}))
    assert {row["title"] for row in leads.values()} == {"Lead A", "Lead B", "Agent 0", "Agent 1"}
    vacant = by_id(client.get("/api/positions/", {"as_of": day, "vacant": "true"}))
    assert set(vacant) == {changed.extra["gone"]}
    gone = client.get("/api/positions/", {"as_of": day, "parent": changed.extra["gone"]})
    assert gone.status_code == 200 and gone.json()["count"] == 0
    missing = client.get("/api/positions/", {"as_of": TODAY.isoformat(), "parent": 10**9})
    assert missing.status_code == 400 and "parent" in missing.json()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("yesterday", "is not a date"),
        ("2026-02-30", "is not a date"),
        ((TODAY + datetime.timedelta(days=1)).isoformat(), "in the future"),
    ],
)
def test_a_bad_date_is_refused_with_the_reason(api_org: Org, admin_user, value, message):
    response = session_client(admin_user).get("/api/positions/", {"as_of": value})
    assert response.status_code == 400
    assert message in response.json()["as_of"][0]


def test_a_manager_sees_their_own_team_as_it_was(changed: Org):
    manager = UserFactory(groups=["manager"])
    Person.objects.filter(pk=changed.positions["manager_a"].holder_id).update(user=manager)
    client = session_client(manager)
    then = by_id(client.get("/api/positions/", {"as_of": EARLIER.isoformat()}))
    assert changed.positions["lead_a"].pk in then  # Lead A was in Manager A's team then
    assert changed.extra["gone"] not in then  # Lead B's team was never theirs
    now = by_id(client.get("/api/positions/", {"as_of": TODAY.isoformat()}))
    assert changed.positions["lead_a"].pk not in now and changed.extra["added"] in now


def test_the_past_list_costs_the_same_queries_whatever_the_size(api_org: Org, admin_user):
    client = session_client(admin_user)
    params = {"as_of": TODAY.isoformat(), "page_size": 1000}

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/positions/", params).status_code == 200
        return len(captured)

    small = queries()
    api_org.grow(teams=4, size=5)
    assert queries() == small


def test_the_past_chart_page(changed: Org, admin_user):
    client = session_client(admin_user)
    day = EARLIER.isoformat()
    page = client.get(f"/past/{day}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Lead A" in text and "Lead A (chat)" not in text and "read only" in text
    assert "data-action=" not in text  # no editing controls on the past
    focused = client.get(f"/past/{day}/", {"root": changed.positions["lead_b"].pk})
    assert "Open B" in focused.content.decode()
    kids = client.get(f"/past/{day}/{changed.positions['lead_b'].pk}/children/")
    assert kids.status_code == 200 and "Open B" in kids.content.decode()
    assert client.get(f"/past/{day}/", {"root": changed.extra["added"]}).status_code == 404
    assert client.get("/past/not-a-day/").status_code == 404
    picked = client.get("/", {"as_of": day})
    assert picked.status_code == 302 and picked["Location"] == f"/past/{day}/"
    bad = client.get("/", {"as_of": "soon"}, follow=True)
    assert "is not a date" in bad.content.decode()


# --- the feeds --------------------------------------------------------------------------------


def test_the_feed_shows_each_change_with_its_fields(changed: Org, admin_user):
    client = session_client(admin_user)
    feed = client.get("/api/history/", {"kind": "position", "page_size": 10}).json()
    latest = feed["results"]
    # positions are named with their holder: the row's own at the time, a manager's now
    assert latest[0]["label"] == "New lead (vacant)" and latest[0]["action"] == "created"
    assert latest[1]["action"] == "deleted" and latest[1]["label"] == "Open B (vacant)"
    moved = latest[2]
    assert moved["reason"] == "position_move" and moved["who"] == admin_user.username
    assert moved["label"] == Position.objects.get(title="Lead A (chat)").label  # renamed since
    assert moved["changes"] == [
        {
            "field": "reports to",
            "before": changed.positions["manager_a"].label,
            "after": changed.positions["manager_b"].label,
        }
    ]
    renamed = latest[3]
    assert renamed["changes"] == [{"field": "title", "before": "Lead A", "after": "Lead A (chat)"}]
    assert feed["next"] is not None
    second = client.get(feed["next"]).json()
    assert {row["id"] for row in second["results"]}.isdisjoint(row["id"] for row in latest)
    since = client.get("/api/history/", {"since": TODAY.isoformat()}).json()["results"]
    assert len(since) == 4
    system = client.get("/api/history/", {"user": 0, "since": TODAY.isoformat()}).json()
    assert system["results"] == []


def test_a_catalogue_change_lists_many_to_many_members(framework, admin_user):
    rule = SpanRule.objects.get(role__code="team-lead")
    newcomer = Role.objects.exclude(pk__in=rule.allowed_reports.all()).order_by("pk").first()
    with acting(admin_user, "admin edit"):
        rule.allowed_reports.add(newcomer)
    changes, _ = feeds.change_feed(SYSTEM, feeds.FeedQuery(kinds=("span_rule",)), limit=1)
    (change,) = changes
    assert change.who == admin_user.username and change.label == "Span rule of Team Lead"
    (members,) = [c for c in change.changes if c.field == "allowed reports"]
    assert newcomer.name in members.after.split(", ")
    assert newcomer.name not in members.before.split(", ")


def test_a_manager_sees_only_changes_in_their_part(changed: Org):
    manager = UserFactory(groups=["manager"])
    Person.objects.filter(pk=changed.positions["manager_b"].holder_id).update(user=manager)
    client = session_client(manager)
    rows = client.get("/api/history/", {"kind": ["position", "assignment"], "page_size": 500})
    labels = {row["label"].rsplit(" (", 1)[0] for row in rows.json()["results"]}
    assert "Lead A (chat)" in labels and "Open B" in labels  # now in, and deleted from, B
    assert "Other Lead" not in labels and "New lead" not in labels
    refused = client.get("/api/history/", {"position": changed.positions["other"].pk})
    assert refused.status_code == 400


def test_a_position_feed_has_its_holders_and_survives_deletion(changed: Org, admin_user):
    client = session_client(admin_user)
    lead = changed.positions["lead_a"]
    own = client.get(f"/api/positions/{lead.pk}/history/").json()["results"]
    kinds = [(row["kind"], row["action"]) for row in own]
    assert ("assignment", "created") in kinds and ("position", "created") in kinds
    assert all(row["position"].endswith(f"/api/positions/{lead.pk}/") for row in own)
    page = client.get(f"/history/positions/{changed.extra['gone']}/")
    assert page.status_code == 200 and "It has been deleted" in page.content.decode()
    manager = UserFactory(groups=["manager"])
    Person.objects.filter(pk=changed.positions["manager_b"].holder_id).update(user=manager)
    assert (
        session_client(manager).get(f"/history/positions/{changed.extra['gone']}/").status_code
        == 404
    )


def test_the_feed_page_costs_the_same_queries_whatever_the_history(api_org: Org, admin_user):
    client = session_client(admin_user)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/history/").status_code == 200
        return len(captured)

    first = queries()
    for n in range(30):
        services.position_update(
            actor=admin_user, position=api_org.positions["lead_b"], title=f"Lead B {n}"
        )
    api_org.grow(teams=2, size=3)
    assert queries() <= first


def test_the_feed_page_filters_and_explains_bad_filters(changed: Org, admin_user):
    client = session_client(admin_user)
    page = client.get("/history/", {"kind": "position"}).content.decode()
    assert "Moved to another manager" in page and "Lead A (chat)" in page
    unknown = client.get("/history/", {"user": "nobody-here"}).content.decode()
    assert "No user called" in unknown
    backwards = client.get("/history/", {"since": TODAY.isoformat(), "until": "2020-01-01"})
    assert "Give an end on or after the start" in backwards.content.decode()


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/history/", {"since": "0001-01-01"}),
        ("/api/history/", {"until": "9999-12-31"}),
        ("/api/history/", {"page": "99999999999999999999"}),
        ("/api/history/", {"user": "99999999999999999999"}),
        ("/api/history/", {"position": "99999999999999999999"}),
        ("/api/positions/", {"as_of": "20250101"}),
        ("/api/positions/", {"as_of": "1899-12-31"}),
        ("/api/positions/", {"as_of": TODAY.isoformat(), "role": "99999999999999999999"}),
        ("/api/positions/", {"as_of": TODAY.isoformat(), "parent": "99999999999999999999"}),
    ],
)
def test_out_of_range_numbers_and_dates_are_a_400_with_the_reason(
    api_org: Org, admin_user, url, params
):
    response = session_client(admin_user).get(url, params)
    assert response.status_code == 400, response.content
    wrong = set(params) - {"as_of"} or {"as_of"}  # the one parameter out of range
    assert set(response.json()) == wrong, response.json()


@pytest.mark.parametrize(
    "params", [{"since": "0001-01-01"}, {"until": "9999-12-31"}, {"page": "10" * 12}]
)
def test_the_feed_page_explains_out_of_range_filters(api_org: Org, admin_user, params):
    response = session_client(admin_user).get("/history/", params)
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


def test_a_day_is_written_one_way_only(api_org: Org, admin_user):
    client = session_client(admin_user)
    assert client.get("/past/20261130/").status_code == 404
    assert client.get(f"/past/{TODAY.year}-W01-1/").status_code == 404


def test_the_past_chart_says_when_history_began(changed: Org, admin_user):
    client = session_client(admin_user)
    before = (EARLIER - datetime.timedelta(days=1)).isoformat()
    text = client.get(f"/past/{before}/").content.decode()
    assert f"History was first kept on {EARLIER.isoformat()}" in text
    assert "History was first kept" not in client.get(f"/past/{EARLIER}/").content.decode()


def test_deleting_a_position_records_that_its_assignments_lost_it(api_org: Org, admin_user):
    agent = api_org.mine
    person = agent.holder
    services.position_delete(actor=admin_user, position=agent)
    assignment = Assignment.objects.get(person=person)
    assert assignment.position is None and assignment.end_date is not None
    last = Assignment.history.filter(id=assignment.pk).first()
    assert last.position_id is None and last.history_change_reason == "position_delete"


def test_the_admin_shows_assignments_only_within_scope(api_org: Org):
    manager = UserFactory(groups=["manager"], is_staff=True)
    Person.objects.filter(pk=api_org.positions["manager_a"].holder_id).update(user=manager)
    client = session_client(manager)
    mine = Assignment.objects.get(position=api_org.mine, end_date__isnull=True)
    theirs = Assignment.objects.get(position=api_org.theirs, end_date__isnull=True)
    listed = client.get("/admin/staffing/assignment/").content.decode()
    assert str(mine.person) in listed and str(theirs.person) not in listed
    assert client.get(f"/admin/staffing/assignment/{mine.pk}/history/").status_code == 200
    assert client.get(f"/admin/staffing/assignment/{theirs.pk}/history/").status_code == 404


def test_the_feed_page_says_whose_part_it_covers(changed: Org, admin_user):
    assert "in your part" not in session_client(admin_user).get("/history/").content.decode()
    manager = UserFactory(groups=["manager"])
    Person.objects.filter(pk=changed.positions["manager_b"].holder_id).update(user=manager)
    assert "in your part" in session_client(manager).get("/history/").content.decode()


def test_the_feed_names_each_position_with_its_holder(api_org: Org, admin_user):
    """A position's own row names who held it then (the row has it); a manager named in
    "reports to" is named with who holds it now; no query per row for either."""
    vacancy = Position.objects.get(title="Open B")
    noor = PersonFactory(given_name="Noor", family_name="Haddad")
    services.person_assign(actor=admin_user, person=noor, position=vacancy)
    services.position_vacate(actor=admin_user, position=vacancy)
    client = session_client(admin_user)

    def page() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as captured:
            html = client.get("/history/", {"kind": "position", "user": admin_user.username})
            html = html.content.decode()
        return re.findall(r'<tr id="change-position-\d+">.*?</tr>', html, re.S), len(captured)

    rows, first = page()
    assert ">Open B (vacant)</a>" in rows[0] and "Position vacated" in rows[0]
    assert ">Open B (Noor Haddad)</a>" in rows[1] and "Vacancy filled" in rows[1]
    # managers named in "reports to" (none before): the same number of queries
    leads = [api_org.positions[name] for name in ("lead_a", "lead_b", "other_lead")]
    for n, agent in enumerate(Position.objects.filter(role__code="advocate", holder__isnull=False)):
        services.position_move(actor=admin_user, position=agent, new_parent=leads[n % 3])
    rows, more = page()
    assert more <= first
    lead_b = Position.objects.select_related("holder").get(pk=leads[1].pk)
    assert any(f"<ins>{lead_b.label}</ins>" in row for row in rows)
    # a position's own page is headed with its label
    title = client.get(f"/history/positions/{lead_b.pk}/").content.decode()
    assert f"<h1>History of {lead_b.label}</h1>" in title
