"""One reading of a day everywhere: YYYY-MM-DD only, 1900 to 2100 (orgdesign.kernel.days).

Python 3.11's ``date.fromisoformat``, which Django's and DRF's date fields use, also takes
``20250101`` and ``2025-W01-1``; every as_of, date filter, form and upload refuses them."""

import datetime as dt

import pytest
from django import forms

from orgdesign.kernel import days
from staffing.api.serializers import PersonSerializer, PositionAssignSerializer
from tests.factories import UserFactory, session_client

LOOSE = ["20250101", "2025-W01-1", "2025-1-5", " 2025-01-01T00:00", "1899-12-31", "2101-01-01"]


@pytest.mark.parametrize("raw", LOOSE)
def test_the_kernel_refuses_what_fromisoformat_would_take(raw):
    with pytest.raises(days.BadDay):
        days.read_day(raw)
    assert days.read_day("2025-01-05") == dt.date(2025, 1, 5)


@pytest.mark.django_db
@pytest.mark.parametrize("raw", LOOSE[:3])
def test_forms_serializers_and_model_serializers_read_days_the_same_way(raw):
    class Form(forms.Form):
        day = days.DayFormField()

    assert not Form({"day": raw}).is_valid()
    assert Form({"day": "2025-01-05"}).is_valid()
    assert not PositionAssignSerializer(data={"person": 1, "start_date": raw}).is_valid()
    # a model's DateField, mapped by StrictDaysSerializer
    mapped = PersonSerializer().fields["hire_date"]
    assert isinstance(mapped, days.DayField)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/positions/?as_of={}",
        "/api/history/?since={}",
        "/api/kpi-observations/?since={}",
        "/api/readiness/?as_of={}",
    ],
)
def test_every_date_parameter_of_the_api_refuses_a_loose_day(url, framework):
    client = session_client(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(url.format("2025-01-05")).status_code == 200
    response = client.get(url.format("20250105"))
    assert response.status_code == 400, response.content[:300]
