"""Undo on the chart's status line: each change made in a dialog can be reverted once,
through the same services, recorded in the history as the undoing user's; refused with the
reason, nothing written, when the organization changed since in the same place, when the
position is no longer the user's to change, or when the change is not theirs."""

import datetime
import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from roles.models import Role
from staffing import services
from staffing.history import feeds, undo
from staffing.models import Assignment, Person, Position
from staffing.scope import SYSTEM
from tests.factories import Org, PersonFactory, UserFactory, log_in, make_position, session_client

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def state() -> tuple:
    """The live organization as the undo must leave it: positions, assignments held now."""
    return (
        sorted(
            Position.objects.values_list(
                "pk", "parent_id", "title", "role_id", "squad_id", "location_id", "holder_id",
                "status", "external_id",
            )
        ),
        sorted(
            Assignment.objects.filter(end_date__isnull=True).values_list("person_id", "position_id")
        ),
    )  # fmt: skip


def written() -> tuple[int, int]:
    return Position.history.count(), Assignment.history.count()


def change(client, position: Position, action: str, data: dict) -> str:
    """Make a change in a dialog; the Undo URL its status line offers."""
    response = client.post(f"/chart/{position.pk}/{action}/", data, **HX)
    html = response.content.decode()
    assert response["HX-Retarget"] == "#chart", html[:3000]
    found = re.search(r'hx-post="(/chart/undo/\d+/)"', html)
    assert found, html[-2000:]
    return found.group(1)


def retitled(client, position: Position) -> str:
    return change(client, position, "edit", {"title": "Chat agent", "role": position.role_id})


def undone(client, url: str) -> str:
    response = client.post(url, **HX)
    html = response.content.decode()
    assert response.status_code == 200, html[:2000]
    assert response["HX-Retarget"] == "#chart", html[-2000:]
    assert 'hx-post="/chart/undo/' not in html  # an undo is not offered for undo
    return html


def refused(client, url: str) -> str:
    response = client.post(url, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Retarget"] == "#chart-status", html
    assert "Not undone." in html
    return re.sub(r"\s+", " ", html)


@pytest.fixture
def manager(api_org: Org):
    return log_in("manager", holds=api_org.positions["manager_a"])


def test_each_change_is_undone_through_the_services_and_recorded(api_org: Org, manager):
    lead_a, mine = api_org.positions["lead_a"], api_org.mine
    user = manager.user
    second = make_position("Lead A2", "team-lead", api_org.positions["manager_a"])
    newcomer = PersonFactory(given_name="Noor", family_name="Haddad")
    advocate = Role.objects.get(code="advocate")
    steps = {
        "add": (lead_a, {"title": "New agent", "role": advocate.pk, "status": "planned"}),
        "edit": (
            mine,
            {"title": "Chat agent", "role": Role.objects.get(code="senior-advocate").pk},
        ),
        "move": (mine, {"new_parent": second.pk}),
        "vacate": (mine, {"note": "Leaving"}),
    }
    for action, (position, data) in steps.items():
        before = state()
        url = change(manager, position, action, data)
        assert state() != before
        html = undone(manager, url)
        assert "Undone:" in html
        assert state() == before, action
    # fill: a vacancy filled by a newcomer, then by a transfer from another of the team
    vacancy = make_position("Open A", "advocate", lead_a, holder=None, status="planned")
    before = state()
    undone(manager, change(manager, vacancy, "fill", {"person": newcomer.pk}))
    assert state() == before  # planned again
    moving = Position.objects.get(pk=mine.pk).holder
    html = undone(manager, change(manager, vacancy, "fill", {"person": moving.pk}))
    assert state() == before and f"{moving} is back in" in html
    # each undo is in the history as the manager's, named for what it undid
    undos = Position.history.filter(history_change_reason__startswith="undo ")
    assert {row.history_user_id for row in undos} == {user.pk}
    assert {row.history_change_reason for row in undos} == {
        "undo position_create", "undo position_update", "undo position_move",
        "undo position_vacate", "undo person_assign",
    }  # fmt: skip
    feed, _ = feeds.change_feed(SYSTEM, feeds.FeedQuery(position_id=mine.pk), limit=3)
    assert feed[0].reason_label == "Undo of: vacancy filled"


def test_an_undo_is_done_once(api_org: Org, manager):
    url = retitled(manager, api_org.mine)
    undone(manager, url)
    assert manager.post(url, **HX).status_code == 404


def test_a_deletion_offers_no_undo_and_says_why(api_org: Org, manager):
    response = manager.post(f"/chart/{api_org.mine.pk}/delete/", {"reports": "refuse"}, **HX)
    html = response.content.decode()
    assert "/chart/undo/" not in html and "A deletion cannot be undone here" in html


def test_refused_when_the_position_changed_since(api_org: Org, manager):
    url = retitled(manager, api_org.mine)
    director = UserFactory(first_name="Dana", last_name="Ruiz", is_superuser=True)
    services.position_update(actor=director, position=api_org.mine, title="Email agent")
    before, rows = state(), written()
    html = refused(manager, url)
    assert "Email agent (" in html and "has changed since the edit" in html
    assert "position edited, by Dana Ruiz" in html
    assert (state(), written()) == (before, rows)


def test_refused_when_the_former_manager_is_gone(api_org: Org, manager):
    manager_a = api_org.positions["manager_a"]
    old = make_position("Lead A2", "team-lead", manager_a)
    agent = make_position("Agent X", "advocate", old)
    url = change(manager, agent, "move", {"new_parent": api_org.positions["lead_a"].pk})
    services.position_delete(actor=None, position=old)
    before, rows = state(), written()
    assert "Lead A2, whom Agent X (" in refused(manager, url)
    assert (state(), written()) == (before, rows)


def test_refused_when_the_person_is_elsewhere_or_reports_came(api_org: Org, manager):
    lead_a = api_org.positions["lead_a"]
    person = Person.objects.get(pk=api_org.mine.holder_id)
    url = change(manager, api_org.mine, "vacate", {"note": ""})
    other = make_position("Open A", "advocate", lead_a, holder=None)
    services.person_assign(actor=None, person=person, position=other)
    before, rows = state(), written()
    assert f"{person} holds another position now" in refused(manager, url)
    # an added position that has reports since is not deleted under them
    url = change(
        manager, lead_a, "add", {"title": "New lead", "role": Role.objects.get(code="advocate").pk}
    )
    added = Position.objects.get(title="New lead")
    make_position("Below", "advocate", added, holder=None)
    before, rows = state(), written()
    assert "has reports now" in refused(manager, url)
    assert (state(), written()) == (before, rows)


def test_refused_when_no_longer_the_users_to_change(api_org: Org, manager):
    """The team was moved out of the manager's part since: the service's scope check says
    so, and nothing is written."""
    url = retitled(manager, api_org.mine)
    services.position_move(
        actor=None, position=api_org.positions["lead_a"], new_parent=api_org.positions["manager_b"]
    )
    before, rows = state(), written()
    assert "is outside the part of the organization you edit" in refused(manager, url)
    assert (state(), written()) == (before, rows)


def test_only_the_author_undoes_a_change(api_org: Org, manager):
    url = retitled(manager, api_org.mine)
    # another user has no such change in their session: answered as if it did not exist
    admin = session_client(UserFactory(is_superuser=True))
    assert admin.post(url, **HX).status_code == 404
    # and a record naming someone else's rows is refused by the undo itself
    key = int(url.split("/")[-2])
    record = {**manager.session[undo.SESSION_KEY][str(key)], "key": key}
    with pytest.raises(Exception, match="Only the person who made a change"):
        undo.undo_change(actor=admin.user, record=record)


def test_post_only_with_the_csrf_token(api_org: Org, manager):
    url = retitled(manager, api_org.mine)
    assert manager.get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(manager.user)
    session = manager.session  # the same record, in a client that checks the token
    strict.cookies["sessionid"] = manager.cookies["sessionid"].value
    assert session[undo.SESSION_KEY]
    assert strict.post(url, **HX).status_code == 403
    assert Position.objects.get(pk=api_org.mine.pk).title == "Chat agent"


def test_without_htmx_the_undo_redirects_to_the_card(api_org: Org, manager):
    url = change(manager, api_org.mine, "vacate", {"end_date": (datetime.date.today()).isoformat()})
    response = manager.post(url)
    assert response.status_code == 302 and response.url == f"/?focus={api_org.mine.pk}"
    assert Position.objects.get(pk=api_org.mine.pk).holder_id is not None


def test_refusals_name_the_position_with_its_holder(api_org: Org, manager):
    """Forty cards share a title: a refusal says which one, by its holder."""
    lead_a = Position.objects.select_related("holder").get(pk=api_org.positions["lead_a"].pk)
    mine = Position.objects.select_related("holder").get(pk=api_org.mine.pk)

    def said(action: str, position: Position, data: dict) -> str:
        response = manager.post(f"/chart/{position.pk}/{action}/", data, **HX)
        return html.unescape(response.content.decode())

    loop = said("move", lead_a, {"new_parent": mine.pk})
    assert f"{mine.label} is in {lead_a.label}'s own team" in loop
    taken = said("fill", mine, {"person": PersonFactory().pk})
    assert f"{mine.label} is already filled; vacate it first." in taken
    held = said("delete", lead_a, {"reports": "refuse"})
    assert f"{lead_a.label} has 3 direct report(s) ({mine.label}, " in held
    vacant = Position.objects.get(title="Open B")
    with pytest.raises(ValidationError, match=r"Open B \(vacant\) is already vacant"):
        services.position_vacate(actor=None, position=vacant)
