"""The admin's position form runs the tree services in a rolled-back transaction first, so
their refusals (a reporting loop, a manager outside the editor's part of the tree) show on
the form and nothing is half-saved; a valid form saves through the same services."""

import pytest
from django.core.exceptions import PermissionDenied

from roles.models import Role
from staffing import services
from staffing.models import DottedLine, Position
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


# --- dotted lines: the inline writes through the dotted-line services --------------------------


def change_url(position: Position) -> str:
    return f"/admin/staffing/position/{position.pk}/change/"


def line_form(position: Position, line: DottedLine, **line_changes) -> dict:
    """The position's change form as it comes, with its one dotted line as changed."""
    row = {"manager": line.manager_id, "purpose": line.purpose, **line_changes}
    return {
        "title": position.title,
        "role": position.role_id,
        "parent": position.parent_id or "",
        "squad": position.squad_id or "",
        "location": position.location_id or "",
        "external_id": position.external_id,
        "status": "" if position.holder_id else position.status,
        "holder": position.holder_id or "",
        "dotted_out-TOTAL_FORMS": "1",
        "dotted_out-INITIAL_FORMS": "1",
        "dotted_out-0-id": line.pk,
        "dotted_out-0-position": position.pk,
        **{f"dotted_out-0-{name}": value for name, value in row.items() if name != "DELETE"},
        **({"dotted_out-0-DELETE": "on"} if line_changes.get("DELETE") else {}),
    }


@pytest.fixture
def spied(monkeypatch):
    """The dotted-line services the admin calls, each call recorded with its arguments."""
    calls: list[tuple[str, dict]] = []
    for name in ("dotted_line_add", "dotted_line_update", "dotted_line_delete"):
        real = getattr(services, name)

        def spy(*, _real=real, _name=name, **kwargs):
            calls.append((_name, kwargs))
            return _real(**kwargs)

        monkeypatch.setattr(services, name, spy)
    return calls


def test_an_existing_dotted_line_changed_in_the_admin_goes_through_the_service(api_org: Org, spied):
    client = manager_client(api_org)  # Manager A edits the agent under Lead A
    line = services.dotted_line_add(
        actor=None, position=api_org.mine, manager=api_org.positions["manager_b"], purpose="Q1"
    )
    spied.clear()
    own = api_org.positions["manager_a"]  # a position Manager A sees (their own)
    posted = client.post(
        change_url(api_org.mine), line_form(api_org.mine, line, manager=own.pk, purpose="Q2")
    )
    assert posted.status_code == 302, posted.content.decode()[:2000]
    assert [(name, kw["actor"]) for name, kw in spied] == [("dotted_line_update", client.user)]
    assert spied[0][1]["manager"] == own and spied[0][1]["purpose"] == "Q2"
    line.refresh_from_db()
    assert (line.manager_id, line.purpose) == (own.pk, "Q2")
    mine = Position.objects.get(pk=api_org.mine.pk)  # a filled position saves, still filled
    assert (mine.holder_id, mine.status) == (api_org.mine.holder_id, "filled")
    deleted = client.post(change_url(api_org.mine), line_form(api_org.mine, line, DELETE=True))
    assert deleted.status_code == 302, deleted.content.decode()[:2000]
    assert spied[-1][0] == "dotted_line_delete" and spied[-1][1]["actor"] == client.user
    assert not DottedLine.objects.filter(pk=line.pk).exists()


def test_a_manager_changes_no_dotted_line_outside_their_part(api_org: Org, spied):
    """As for the position itself: outside the manager's part the admin answers as for a
    position that does not exist; their own position (changed from above) is a 403; and
    the service refuses whoever calls it."""
    client = manager_client(api_org)
    director = api_org.positions["director"]
    theirs = services.dotted_line_add(actor=None, position=api_org.theirs, manager=director)
    own = api_org.positions["manager_a"]
    above = services.dotted_line_add(actor=None, position=own, manager=api_org.positions["other"])
    spied.clear()
    hidden = client.post(
        change_url(api_org.theirs), line_form(api_org.theirs, theirs, purpose="Mine now")
    )
    missing = client.post("/admin/staffing/position/999999999/change/", {})
    assert (hidden.status_code, hidden.get("Location")) == (
        missing.status_code,
        missing.get("Location"),
    )
    refused = client.post(change_url(own), line_form(own, above, purpose="Mine now"))
    assert refused.status_code == 403
    assert spied == []
    with pytest.raises(PermissionDenied):
        services.dotted_line_update(actor=client.user, line=theirs, purpose="Mine now")
    with pytest.raises(PermissionDenied):
        services.dotted_line_delete(actor=client.user, line=above)
    assert {line.purpose for line in DottedLine.objects.all()} == {""}
    assert DottedLine.objects.count() == 2


def test_a_whole_form_is_one_change_a_later_refusal_undoes_the_move(api_org: Org):
    """position_save runs the move, the holder and the fields in one transaction: when the
    fields are refused after the move went through, the move is undone too."""
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root-save", "r@example.com", "x")
    agent = Position.objects.filter(parent=api_org.positions["lead_a"]).first()
    before = (agent.parent_id, agent.title, agent.lft, agent.rght)
    values = {"parent": api_org.positions["lead_b"], "title": "x" * 500}
    with pytest.raises(Exception):  # noqa: B017 - the title's refusal, whatever its kind
        services.position_save(
            actor=admin, position=agent, values=values, changed=["parent", "title"]
        )
    agent.refresh_from_db()
    assert (agent.parent_id, agent.title, agent.lft, agent.rght) == before
    saved = services.position_save(
        actor=admin,
        position=agent,
        values={**values, "title": "Moved"},
        changed=["parent", "title"],
    )
    saved.refresh_from_db()
    assert saved.parent == api_org.positions["lead_b"] and saved.title == "Moved"


def test_a_refused_person_change_shows_on_the_form_and_nothing_is_saved(api_org: Org):
    """Deactivating someone who holds a position is refused by person_update: the admin's form
    says so under the field and keeps the person as they were (it used to report success)."""
    from staffing.models import Person

    client = log_in(superuser=True)
    holder = Person.objects.filter(position__isnull=False).first()
    url = f"/admin/staffing/person/{holder.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "employee_id": holder.employee_id,
        "given_name": holder.given_name,
        "family_name": holder.family_name,
        "email": holder.email,
        "location": holder.location_id or "",
        "hire_date": holder.hire_date.isoformat() if holder.hire_date else "",
        "user": holder.user_id or "",
        # is_active left out: unticked
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert "vacate it before deactivating" in html and "successfully" not in html
    holder.refresh_from_db()
    assert holder.is_active


def test_a_dotted_line_leads_only_to_a_position_the_editor_can_see(api_org: Org):
    """A manager cannot point a dotted line at a position outside what they see: the same
    words as for a position that does not exist, and nothing written."""
    from django.core.exceptions import ValidationError

    from tests.factories import holder_user

    user = holder_user(api_org.positions["manager_a"], "manager")
    agent = Position.objects.filter(parent=api_org.positions["lead_a"]).first()
    seen = api_org.positions["manager_a"]  # their own position: seen, not edited
    unseen, missing = api_org.positions["lead_b"].pk, 10**9
    answers = []
    for target in (unseen, missing):
        with pytest.raises(ValidationError) as refused:
            services.dotted_line_add(actor=user, position=agent, manager=target, purpose="x")
        answers.append(refused.value.message_dict["manager"][0].replace(str(target), "N"))
    assert answers[0] == answers[1] == "No position with id N that you can see."
    assert not DottedLine.objects.filter(position=agent).exists()
    line = services.dotted_line_add(actor=user, position=agent, manager=seen, purpose="coach")
    with pytest.raises(ValidationError):
        services.dotted_line_update(actor=user, line=line, manager=unseen)
    line.refresh_from_db()
    assert line.manager == seen
