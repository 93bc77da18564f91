"""The capacity model's arithmetic against published worked examples, its edge cases, and
properties that must hold for any input (hypothesis)."""

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staffing import capacity
from staffing.capacity import CapacityError


def test_the_textbook_example_100_calls_in_half_an_hour():
    """100 calls per 30 minutes, 3-minute handling, 80 % answered in 20 s: 10 Erlangs, and
    14 agents give a 17.4 % chance of waiting, 88.8 % within 20 s, 7.8 s on average and
    71.4 % occupancy (the worked example Call Centre Helper and the CRAN ErlangC package
    publish)."""
    result = capacity.agents_for_queue(
        contacts_per_hour=200, handle_s=180, target_share=0.8, target_s=20
    )
    assert result.traffic == pytest.approx(10.0)
    assert result.agents == 14
    assert result.wait_probability == pytest.approx(0.1741, abs=1e-4)
    assert result.service_level == pytest.approx(0.8884, abs=1e-4)
    assert result.average_speed_of_answer == pytest.approx(7.84, abs=0.01)
    assert result.occupancy == pytest.approx(0.714, abs=1e-3)
    # 13 agents fall short of the target: 14 is the least that meets it
    assert capacity.service_level(13, 10.0, 180, 20) < 0.8


def test_1000_calls_an_hour_with_an_occupancy_cap_and_shrinkage():
    """1,000 calls an hour of 2 minutes, 80/20, at most 85 % occupancy, 30 % shrinkage:
    33.3 Erlangs, 40 agents (the occupancy cap decides), 19.07 % wait, 93.72 % within 20 s,
    3.43 s on average, 58 people to employ (the call-center-tools worked example)."""
    result = capacity.agents_for_queue(
        contacts_per_hour=1000, handle_s=120, target_share=0.8, target_s=20, max_occupancy=0.85
    )
    assert result.agents == 40
    assert result.wait_probability == pytest.approx(0.1907, abs=1e-4)
    assert result.service_level == pytest.approx(0.9372, abs=1e-4)
    assert result.average_speed_of_answer == pytest.approx(3.43, abs=0.01)
    assert capacity.with_shrinkage(result.agents, 0.3) == 58
    # without the cap the service level alone would allow fewer
    loose = capacity.agents_for_queue(
        contacts_per_hour=1000, handle_s=120, target_share=0.8, target_s=20, max_occupancy=0.99
    )
    assert loose.agents < 40 and loose.service_level >= 0.8


def test_traffic_at_or_above_the_agents_never_settles():
    assert capacity.erlang_c(10, 10.0) == 1.0
    assert capacity.erlang_c(8, 10.0) == 1.0
    assert capacity.service_level(10, 10.0, 180, 20) == 0.0
    assert math.isinf(capacity.average_speed_of_answer(10, 10.0, 180))


def test_no_demand_needs_nobody():
    result = capacity.agents_for_queue(
        contacts_per_hour=0, handle_s=300, target_share=0.9, target_s=30
    )
    assert result.agents == 0 and result.service_level == 1.0
    assert capacity.agents_for_backlog(items_per_day=0, handle_s=600) == (0, 0.0)
    assert capacity.with_shrinkage(0, 0.35) == 0


def test_chat_concurrency_and_ticket_workload():
    phone = capacity.agents_for_queue(
        contacts_per_hour=120, handle_s=480, target_share=0.8, target_s=60
    )
    chat = capacity.agents_for_queue(
        contacts_per_hour=120, handle_s=480, target_share=0.8, target_s=60, concurrency=2
    )
    assert chat.traffic == pytest.approx(phone.traffic / 2) and chat.agents < phone.agents
    # 400 tickets of 15 minutes a day: 100 hours of work over 8 h × 85 % per agent
    agents, hours = capacity.agents_for_backlog(items_per_day=400, handle_s=900)
    assert hours == pytest.approx(100.0) and agents == math.ceil(100 / 6.8) == 15


def test_large_queues_stay_exact():
    """Factorials would overflow long before 2,000 Erlangs; the recurrence does not."""
    result = capacity.agents_for_queue(
        contacts_per_hour=24000, handle_s=300, target_share=0.9, target_s=15, max_occupancy=0.95
    )
    assert result.traffic == pytest.approx(2000.0)
    assert result.agents == math.ceil(2000 / 0.95)  # occupancy decides at this size
    assert 0.9 <= result.service_level <= 1 and 0 < result.wait_probability < 0.05
    # the service level alone: a little over the traffic, found without overflow
    assert (
        2000
        < capacity.agents_for_queue(
            contacts_per_hour=24000,
            handle_s=300,
            target_share=0.9,
            target_s=15,
            max_occupancy=0.999,
        ).agents
        < 2040
    )


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("handle_s", {"handle_s": 0}),
        ("contacts_per_hour", {"contacts_per_hour": -5}),
        ("target_share", {"target_share": 1.0}),
        ("target_share", {"target_share": 0}),
        ("max_occupancy", {"max_occupancy": 1.2}),
        ("concurrency", {"concurrency": 0.5}),
        ("target_s", {"target_s": float("nan")}),
        ("contacts_per_hour", {"contacts_per_hour": float("inf")}),
        ("handle_s", {"handle_s": "180"}),
    ],
)
def test_bad_input_is_refused_with_the_field(field, kwargs):
    good = {"contacts_per_hour": 100, "handle_s": 180, "target_share": 0.8, "target_s": 20}
    with pytest.raises(CapacityError) as refused:
        capacity.agents_for_queue(**{**good, **kwargs})
    assert refused.value.field == field
    with pytest.raises(CapacityError):
        capacity.with_shrinkage(10, 1.0)


@given(
    traffic=st.floats(min_value=0.1, max_value=300),
    extra=st.integers(min_value=1, max_value=50),
    handle=st.floats(min_value=10, max_value=3600),
    target=st.floats(min_value=0, max_value=600),
)
def test_more_agents_never_serve_worse(traffic, extra, handle, target):
    agents = math.floor(traffic) + extra
    c = capacity.erlang_c(agents, traffic)
    assert 0.0 <= c <= 1.0
    assert capacity.erlang_c(agents + 1, traffic) <= c + 1e-12
    sl = capacity.service_level(agents, traffic, handle, target)
    assert 0.0 <= sl <= 1.0
    assert capacity.service_level(agents + 1, traffic, handle, target) >= sl - 1e-12


@given(
    volume=st.floats(min_value=1, max_value=5000),
    handle=st.floats(min_value=30, max_value=1800),
    share=st.floats(min_value=0.5, max_value=0.99),
    target=st.floats(min_value=5, max_value=120),
)
def test_the_answer_is_the_least_that_meets_the_target(volume, handle, share, target):
    result = capacity.agents_for_queue(
        contacts_per_hour=volume, handle_s=handle, target_share=share, target_s=target,
        max_occupancy=0.99,
    )  # fmt: skip
    assert result.service_level >= share
    fewer = result.agents - 1
    if fewer > result.traffic and result.traffic / fewer <= 0.99:
        assert capacity.service_level(fewer, result.traffic, handle, target) < share


# --- the plan and its endpoint -------------------------------------------------------------


@pytest.mark.django_db
def test_the_plan_endpoint_sizes_tiers_then_leaders_from_the_span_rules(framework):
    from roles.models import SpanRule
    from staffing.api.capacity import EXAMPLE_INPUT
    from tests.factories import UserFactory, session_client, token_client

    client = session_client(UserFactory(groups=["manager"]))
    response = client.post("/api/capacity/plan/", EXAMPLE_INPUT, format="json")
    assert response.status_code == 200, response.content
    plan = response.json()
    t1 = plan["tiers"][0]
    phone = t1["channels"][0]
    # 120 calls an hour of 7 minutes: 14 Erlangs; the 80/20 target and 85 % occupancy
    expected = capacity.agents_for_queue(
        contacts_per_hour=120, handle_s=420, target_share=0.8, target_s=20
    )
    assert phone["agents"] == expected.agents and phone["staffed_hours"] == expected.agents * 10
    assert phone["service_level"] >= 0.8
    tickets = {t["tier"]: t["channels"][-1]["volume"] for t in plan["tiers"]}
    assert tickets == {"t1": 300.0, "t2": 72.0, "t3": 28.0}  # 400 split 75 / 18 / 7
    agents = sum(t["headcount"] for t in plan["tiers"])
    leaders = {row["role"]: row["count"] for row in plan["leaders"]}
    assert leaders["team-lead"] == math.ceil(agents / 10)  # a team lead runs up to 10
    assert plan["total"] == sum(row["count"] for row in plan["by_role"])
    assert any(row["role"] == "systems-specialist" for row in plan["operations"])
    # the span rules are read live: a team lead may now run 6 at most
    SpanRule.objects.filter(role__code="team-lead").update(max_direct=6)
    again = client.post("/api/capacity/plan/", EXAMPLE_INPUT, format="json").json()
    assert {r["role"]: r["count"] for r in again["leaders"]}["team-lead"] == math.ceil(agents / 6)
    # who may ask: anyone signed in; a read-only token cannot POST
    assert (
        token_client(UserFactory(), write=False)
        .post("/api/capacity/plan/", EXAMPLE_INPUT, format="json")
        .status_code
        == 403
    )
    from rest_framework.test import APIClient

    assert APIClient().post("/api/capacity/plan/", EXAMPLE_INPUT, format="json").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tiers": [{"tier": "t1", "share": 2, "handle_s": {"phone": 300}}]}, "tiers[0].share"),
        ({"tiers": [{"tier": "t9", "share": 1, "handle_s": {"phone": 300}}]}, "tiers[0].tier"),
        ({"tiers": [{"tier": "t1", "share": 1, "handle_s": {"phone": 0}}]},
         "tiers[0].handle_s.phone"),
        ({"tiers": [{"tier": "t2", "share": 1, "handle_s": {"tickets": 60}}]}, "tiers"),
        ({"channels": []}, "channels"),
        ({"channels": [{"channel": "fax", "volume": 1}]}, "channels[0].channel"),
        ({"channels": [{"channel": "phone", "volume": "lots"}]}, "channels[0].volume"),
        ({"channels": [{"channel": "phone", "volume": 10, "target_share": 1}]},
         "channels[0].target_share"),
        ({"shift_hours": 0}, "shift_hours"),
        # shapes schemathesis sent: a 400, not a 500
        ({"tiers": [{"tier": {"t1": 1}, "share": 1, "handle_s": {"phone": 300}}]},
         "tiers[0].tier"),
        ({"channels": [{"channel": ["phone"], "volume": 1}]}, "channels[0].channel"),
        ({"channels": [{"channel": "phone", "volume": [50]}]}, "channels[0].volume"),
        ({"channels": [{"channel": "phone", "volume": True}]}, "channels[0].volume"),
        ({"channels": [{"channel": "phone", "volume": "nan"}]}, "channels[0].volume"),
        ({"shift_hours": {"h": 8}}, "shift_hours"),
        ({"channels": [{"channel": "phone", "volume": 10**400}]}, "channels[0].volume"),
    ],
)  # fmt: skip
def test_bad_plan_input_is_a_400_naming_the_field(framework, change, field):
    from tests.factories import UserFactory, session_client

    body = {
        "channels": [{"channel": "phone", "volume": 50}],
        "tiers": [{"tier": "t1", "share": 1, "handle_s": {"phone": 300}}],
        **change,
    }
    response = session_client(UserFactory()).post("/api/capacity/plan/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_zero_volume_plans_nobody():
    plan = capacity.plan(
        {
            "channels": [{"channel": "phone", "volume": 0}, {"channel": "tickets", "volume": 0}],
            "tiers": [{"tier": "t1", "share": 1, "handle_s": {"phone": 300, "tickets": 600}}],
        },
        span_limits={"team-lead": (10, None)},
    )
    assert plan.agents == 0 and plan.leaders == {} and plan.operations == [] and plan.total == 0


@pytest.mark.django_db
def test_the_capacity_page_plans_from_the_form_and_names_a_bad_field(framework):
    from tests.factories import UserFactory, session_client

    client = session_client(UserFactory(groups=["director"]))
    page = client.get("/capacity/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="plan-tiers"' in html and "Customer Advocate" in html
    # the example on the page is the API's example: the same total
    from staffing.api.capacity import EXAMPLE_INPUT

    total = client.post("/api/capacity/plan/", EXAMPLE_INPUT, format="json").json()["total"]
    assert f"The plan: {total} people" in html
    more = client.get("/capacity/", {"phone-volume": "480"}).content.decode()
    assert f"The plan: {total} people" not in more
    bad = client.get("/capacity/", {"t1-share": "150"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert 'name="t1-share" id="t1-share" value="150"' in text and 'aria-invalid="true"' in text
    assert "must be at most 100 %" in text


def test_absurd_volumes_are_refused_at_once():
    with pytest.raises(CapacityError) as refused:
        capacity.agents_for_queue(
            contacts_per_hour=1e300, handle_s=300, target_share=0.8, target_s=20
        )
    assert refused.value.field == "contacts_per_hour"
    with pytest.raises(CapacityError):
        capacity.agents_for_backlog(items_per_day=1e12, handle_s=600)


def test_callers_who_hang_up_are_planned_with_erlang_a(framework):
    """A phone line given the callers' patience is sized with Erlang A: those who hang up
    leave the queue, so no more agents than Erlang C asks for, and the plan, the API and
    the page say how many hang up; a cap on that share can ask for more."""
    import copy

    from staffing.selectors import span_limits
    from tests.factories import UserFactory, session_client

    patient = copy.deepcopy(capacity.DEFAULT_INPUT)
    patient["channels"][0]["patience_s"] = 120
    limits = span_limits()
    c_phone = capacity.plan(capacity.DEFAULT_INPUT, span_limits=limits).tiers[0].channels[0]
    a_phone = capacity.plan(patient, span_limits=limits).tiers[0].channels[0]
    assert c_phone.abandon_share is None and a_phone.channel == "phone"
    assert a_phone.agents <= c_phone.agents and 0 < a_phone.abandon_share < 0.2
    strict = copy.deepcopy(patient)
    strict["channels"][0]["max_abandon_share"] = a_phone.abandon_share / 4
    capped = capacity.plan(strict, span_limits=limits).tiers[0].channels[0]
    assert capped.agents > a_phone.agents and capped.abandon_share <= a_phone.abandon_share / 4
    client = session_client(UserFactory(groups=["director"]))
    body = client.post("/api/capacity/plan/", patient, format="json").json()
    phone = body["tiers"][0]["channels"][0]
    assert phone["abandon_share"] == round(a_phone.abandon_share, 4)
    bad = copy.deepcopy(patient)
    bad["channels"][0]["patience_s"] = -5
    refused = client.post("/api/capacity/plan/", bad, format="json")
    assert refused.status_code == 400 and "channels[0].patience_s" in refused.json()
    page = client.get("/capacity/", {"phone-patience_s": "120", "phone-max_abandon_share": "2"})
    html = page.content.decode()
    assert page.status_code == 200 and "Hang up" in html
    assert 'name="phone-patience_s"' in html and 'value="120"' in html
    assert re.search(r"<td>\d+\.\d %</td>", html)  # the share who hang up, in the table


def test_working_team_leads_ticket_time_counts_as_tier_1_capacity(framework):
    """A team lead supervises 80 % of the time (the catalogue) and works the Tier 1 queue
    the rest: 20 % of a person each, so the plan asks for fewer advocates, says how many,
    and the leads it needs follow the smaller team."""
    from staffing.selectors import capacity_plan, hands_on_shares, span_limits
    from tests.factories import UserFactory, session_client

    assert hands_on_shares() == {"team-lead": 0.2}
    big = {**capacity.DEFAULT_INPUT, "channels": [
        {**c, "volume": c["volume"] * 4} for c in capacity.DEFAULT_INPUT["channels"]
    ]}  # fmt: skip
    without = capacity.plan(big, span_limits=span_limits())
    working = capacity_plan(big)
    front, before = working.tiers[0], without.tiers[0]
    leads = working.leaders["team-lead"]
    assert 0 < front.covered_by_leads <= math.floor(leads * 0.2)  # the leads cover them
    # and it is the most they can: one more agent covered would leave too few leads
    fewer = capacity._leaders(without.agents - front.covered_by_leads - 1, span_limits())
    assert front.covered_by_leads + 1 > math.floor(fewer["team-lead"] * 0.2)
    assert front.headcount(8) == before.headcount(8) - front.covered_by_leads
    assert working.agents == without.agents - front.covered_by_leads
    assert leads <= without.leaders["team-lead"]
    assert any(f"stands in for {front.covered_by_leads} agents" in n for n in working.notes)
    body = session_client(UserFactory()).post("/api/capacity/plan/", big, format="json").json()
    assert body["tiers"][0]["covered_by_leads"] == front.covered_by_leads
