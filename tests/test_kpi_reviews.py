"""KPI review cadence: each KPI is reviewed by its ``review_period`` (ASAT quarterly, most
monthly); the dashboard lists those whose last complete period has no value."""

import datetime as dt

import pytest
from django.utils import timezone

from metrics import dashboard
from metrics.models import KPI, KPIObservation
from metrics.periods import closed_periods, period_containing, review_of
from tests.factories import UserFactory, session_client

D = dt.date


@pytest.mark.parametrize(
    ("review", "day", "period"),
    [
        ("weekly", D(2026, 12, 3), (D(2026, 11, 30), D(2026, 12, 6))),  # a Thursday
        ("monthly", D(2026, 2, 14), (D(2026, 2, 1), D(2026, 2, 28))),
        ("quarterly", D(2026, 12, 3), (D(2026, 10, 1), D(2026, 12, 31))),
        ("quarterly", D(2026, 1, 1), (D(2026, 1, 1), D(2026, 3, 31))),
        ("yearly", D(2026, 12, 31), (D(2026, 1, 1), D(2026, 12, 31))),
    ],
)
def test_the_period_a_day_falls_in(review, day, period):
    assert period_containing(review, day) == period


def test_the_complete_periods_before_a_day():
    assert closed_periods("quarterly", D(2026, 12, 3), 2) == [
        (D(2026, 4, 1), D(2026, 6, 30)),
        (D(2026, 7, 1), D(2026, 9, 30)),
    ]
    assert closed_periods("monthly", D(2026, 1, 15), 1) == [(D(2025, 12, 1), D(2025, 12, 31))]


def test_a_quarterly_review_is_up_to_date_due_or_overdue():
    today = D(2026, 12, 3)
    done = review_of("quarterly", D(2026, 9, 30), today)
    assert (done.state, done.next_due, done.needs_attention) == ("up to date", D(2027, 1, 1), False)
    assert done.text == "up to date; next due 2027-01-01"
    due = review_of("quarterly", D(2026, 6, 30), today)
    assert (due.state, due.missing, due.since) == ("due", 1, D(2026, 10, 1))
    assert due.text == "due since 2026-10-01"
    late = review_of("quarterly", D(2026, 3, 31), today)
    assert (late.state, late.missing, late.since) == ("overdue", 2, D(2026, 7, 1))
    assert late.text == "overdue: 2 quarters with no value, since 2026-07-01"
    # a week recorded Monday to Friday counts for that week
    assert review_of("weekly", D(2026, 11, 27), today).state == "up to date"
    assert review_of("weekly", D(2026, 11, 20), today).state == "due"
    never = review_of("monthly", None, today)
    assert never.state == "never recorded" and never.needs_attention


def test_the_dashboard_lists_the_reviews_to_do(framework):
    today = timezone.localdate()
    asat = KPI.objects.get(code="asat")
    assert asat.review_period == "quarterly"
    # every KPI recorded for its last complete period, but ASAT two quarters behind
    for kpi in KPI.objects.all():
        periods = closed_periods(kpi.review_period, today, 3)
        first, last = periods[0] if kpi.pk == asat.pk else periods[-1]
        KPIObservation.objects.create(kpi=kpi, period_start=first, period_end=last, value=1)
    statuses = {k.kpi.code: k for k in dashboard.kpi_statuses(None)}
    assert statuses["asat"].review.state == "overdue"
    assert not any(k.review.needs_attention for code, k in statuses.items() if code != "asat")
    page = session_client(UserFactory(is_superuser=True)).get("/dashboard/").content.decode()
    assert "1 KPI review to do" in page
    assert f"{asat.name} (quarterly): overdue: 2 quarters with no value" in page
    csv = session_client(UserFactory(is_superuser=True)).get("/dashboard/kpis.csv")
    assert csv.status_code == 200 and "overdue: 2 quarters" in csv.content.decode()
