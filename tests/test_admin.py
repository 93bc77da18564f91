"""The admin's position form runs the tree services in a rolled-back transaction first, so
their refusals (a reporting loop, a manager outside the editor's part of the tree) show on
the form and nothing is half-saved; a valid form saves through the same services."""

import pytest

from roles.models import Role
from staffing.models import Position
from tests.factories import Org, log_in

pytestmark = pytest.mark.django_db

ADD = "/admin/staffing/position/add/"


def manager_client(org: Org):
    return log_in("manager", holds=org.positions["manager_a"], is_staff=True)


def form(org: Org, **changes) -> dict:
    data = {
        "title": "New advocate",
        "role": Role.objects.get(code="advocate").pk,
        "parent": org.positions["lead_a"].pk,
        "status": "open",
        "dotted_out-TOTAL_FORMS": "0",
        "dotted_out-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_a_manager_adds_a_position_under_their_team(api_org: Org):
    client = manager_client(api_org)
    response = client.post(ADD, form(api_org))
    assert response.status_code == 302, response.content.decode()[:2000]
    added = Position.objects.get(title="New advocate")
    assert added.parent == api_org.positions["lead_a"] and added.status == "open"


def test_refusals_show_on_the_form_and_nothing_is_saved(api_org: Org):
    client = manager_client(api_org)
    before = Position.objects.count()
    outside = client.post(ADD, form(api_org, parent=api_org.positions["other_lead"].pk))
    assert outside.status_code == 200
    assert "errorlist" in outside.content.decode()
    lead_a = api_org.positions["lead_a"]
    change = f"/admin/staffing/position/{lead_a.pk}/change/"
    loop = client.post(
        change,
        form(
            api_org,
            title=lead_a.title,
            role=lead_a.role_id,
            parent=api_org.mine.pk,
            holder=lead_a.holder_id,
        ),
    )
    assert loop.status_code == 200
    assert "reporting loop" in loop.content.decode()
    assert Position.objects.count() == before
    lead_a.refresh_from_db()
    assert lead_a.parent == api_org.positions["manager_a"]
