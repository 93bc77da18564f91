"""A person the caller may not see is answered exactly like a person that does not exist,
before any other check: through the API, the chart's Fill dialog, a draft's dialog and the
scenario API. Nothing is written either way."""

import re

import pytest

from staffing.models import Assignment, Person, Position
from staffing.scenarios import drafts
from tests.factories import Org, PersonFactory, UserFactory, session_client

pytestmark = pytest.mark.django_db

MISSING = 2**62  # an id no person has


@pytest.fixture
def manager(api_org: Org):
    user = UserFactory(groups=["manager"])
    Person.objects.filter(pk=api_org.positions["manager_a"].holder_id).update(user=user)
    return user


@pytest.fixture
def vacancy(api_org: Org) -> Position:
    from staffing import services

    lead = api_org.positions["lead_a"]
    role = api_org.mine.role
    return services.position_create(actor=None, parent=lead, title="Open A", role=role)


def written() -> tuple:
    return (
        sorted(Position.objects.values_list("pk", "holder_id", "status")),
        Assignment.objects.count(),
    )


def same_but_id(first, second, first_id, second_id) -> bool:
    """The two texts are the same once each names its id as "ID" (whole numbers only: id 13
    is not part of position 5139)."""
    return re.sub(rf"\b{first_id}\b", "ID", first) == re.sub(rf"\b{second_id}\b", "ID", second)


@pytest.mark.parametrize("start_date", [None, "1900-01-01"])
def test_the_api_answers_a_person_outside_like_no_person(
    api_org: Org, manager, vacancy, start_date
):
    """The reported leak: a 400 with the person's name and latest start date, or a 403
    naming a position outside the manager's part."""
    client = session_client(manager)
    theirs = api_org.theirs.holder_id
    before = written()
    answers = []
    for person in (theirs, MISSING):
        data = {"person": person} | ({"start_date": start_date} if start_date else {})
        response = client.post(f"/api/positions/{vacancy.pk}/assign/", data, format="json")
        answers.append((response.status_code, response.content.decode()))
    (status, body), (missing_status, missing_body) = answers
    assert status == missing_status == 400
    assert same_but_id(body, missing_body, theirs, MISSING), (body, missing_body)
    assert api_org.theirs.title not in body and "Other" not in body
    assert written() == before


def test_the_fill_dialog_answers_a_person_outside_like_no_person(api_org: Org, manager, vacancy):
    client = session_client(manager)
    theirs = api_org.theirs.holder
    before = written()
    pages = [
        client.post(f"/chart/{vacancy.pk}/fill/", {"person": pk, "start_date": "1900-01-01"})
        for pk in (theirs.pk, MISSING)
    ]
    texts = [re.sub(r'value="[^"]*"', "", page.content.decode()) for page in pages]
    assert pages[0].status_code == pages[1].status_code
    assert same_but_id(texts[0], texts[1], theirs.pk, MISSING)
    assert theirs.family_name not in texts[0]
    assert written() == before


def test_the_people_a_manager_may_place_still_go_in(api_org: Org, manager, vacancy):
    """Someone in no position, and someone from the manager's own part (a transfer)."""
    client = session_client(manager)
    newcomer = PersonFactory()
    response = client.post(f"/api/positions/{vacancy.pk}/assign/", {"person": newcomer.pk})
    assert response.status_code == 200, response.content
    client.post(f"/api/positions/{vacancy.pk}/vacate/", {})
    mine = api_org.mine.holder_id
    response = client.post(f"/api/positions/{vacancy.pk}/assign/", {"person": mine})
    assert response.status_code == 200, response.content


def test_a_draft_answers_a_person_outside_like_no_person(api_org: Org, manager, vacancy):
    draft = drafts.scenario_create(actor=manager, name="Mine")
    row = draft.positions.get(source=vacancy)
    client = session_client(manager)
    theirs = api_org.theirs.holder_id
    api = [
        client.patch(f"/api/scenarios/{draft.pk}/positions/{row.pk}/", {"holder": pk})
        for pk in (theirs, MISSING)
    ]
    assert api[0].status_code == api[1].status_code == 400
    assert same_but_id(api[0].content.decode(), api[1].content.decode(), theirs, MISSING)
    dialog = [
        client.post(f"/scenarios/{draft.pk}/p/{row.pk}/fill/", {"person": pk})
        for pk in (theirs, MISSING)
    ]
    texts = [re.sub(r'value="[^"]*"', "", page.content.decode()) for page in dialog]
    assert dialog[0].status_code == dialog[1].status_code
    assert same_but_id(texts[0], texts[1], theirs, MISSING)
    row.refresh_from_db()
    assert row.holder_id is None


def test_the_service_itself_refuses_a_person_outside_first(api_org: Org, manager, vacancy):
    """Callers that skip the scoped choices still get the same answer from person_assign."""
    from django.core.exceptions import ValidationError

    from staffing import services

    for person in (api_org.theirs.holder, Person(pk=MISSING)):
        with pytest.raises(ValidationError) as refused:
            services.person_assign(actor=manager, person=person, position=vacancy)
        assert refused.value.message_dict == {
            "person": [f"No person with id {person.pk} that you can see."]
        }
