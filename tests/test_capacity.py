"""The capacity model's arithmetic against published worked examples, its edge cases, and
properties that must hold for any input (hypothesis)."""

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staffing import capacity, demand
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


def _default_plan(**changes):
    """The plan of the catalogue's example day (the framework as shipped), changed."""
    return capacity.plan(changes, span_limits={"team-lead": (10, None)})


def test_demand_cascades_from_self_service_through_the_tiers():
    """A day's contacts: self-service solves its share (the 85-FTE organization's 40 %),
    Tier 1 takes the rest on every channel, passes a fifth on to Tier 2, which passes on
    enough for Tier 3 to take 7.5 % of the volume (the middle of the catalogue's 5–10 %)."""
    plan = _default_plan()
    assert plan.contacts == demand.EXAMPLE_DAY and plan.self_served == 0.4 * demand.EXAMPLE_DAY
    t1, t2, t3 = plan.tiers
    assert [t.tier for t in plan.tiers] == ["t1", "t2", "t3"]
    reaching = demand.EXAMPLE_DAY * 0.6
    assert t1.intake == pytest.approx(reaching)
    assert {c.channel for c in t1.channels} == set(demand.CHANNELS)  # every new contact
    assert [c.channel for c in t2.channels] == [capacity.ESCALATED]
    assert t2.intake == pytest.approx(0.2 * reaching) == pytest.approx(t1.escalated)
    assert t3.intake == pytest.approx(0.075 * reaching) and t3.escalated == 0
    assert t3.share == pytest.approx(0.075) and t3.in_range and t1.in_range is None
    assert t1.resolved + t2.resolved + t3.resolved == pytest.approx(reaching)
    # handling times are the catalogue's targets: 15 and 30 minutes, Tier 3 twice Tier 2's
    escalated = t3.channels[0]
    assert escalated.workload_hours == pytest.approx(t3.intake * 60 / 60)
    assert t2.channels[0].workload_hours == pytest.approx(t2.intake * 30 / 60)
    # the phone line: sized for its busiest hour (15 % of the day), the other nine open
    # hours share the rest evenly, staffed hour by hour
    phone = next(c for c in t1.channels if c.channel == "phone")
    calls = demand.EXAMPLE_DAY * 0.6 * 0.6
    peak = capacity.agents_for_queue(contacts_per_hour=calls * 0.15, handle_s=900,
                                     target_share=0.8, target_s=20)  # fmt: skip
    rest = capacity.agents_for_queue(contacts_per_hour=calls * 0.85 / 9, handle_s=900,
                                     target_share=0.8, target_s=20)  # fmt: skip
    assert phone.volume == pytest.approx(calls) and phone.busiest_hour == pytest.approx(
        calls * 0.15
    )
    assert phone.agents == peak.agents and phone.staffed_hours == peak.agents + 9 * rest.agents
    assert rest.agents < peak.agents and phone.service_level >= 0.8
    # e-mail is written work: the day's workload over the shift at 85 % occupancy
    email = next(c for c in t1.channels if c.channel == "email")
    assert email.agents == math.ceil(email.volume * 0.25 / (8 * 0.85))


def test_every_default_says_where_it_came_from_and_yours_are_marked():
    plan = _default_plan()
    sources = plan.demand.sources
    assert sources["tiers.t1.handle_minutes"] == (15, demand.Source(
        demand.CATALOGUE, "its handling target, 15 minutes or less, taken as the average "
        "(a cautious figure)"))  # fmt: skip
    value, said = sources["tiers.t2.escalate_share"]
    assert value == pytest.approx(0.375) and said.origin == demand.CATALOGUE
    assert "7.5 % of the volume" in said.note and "5–10 %" in said.note
    assert sources["deflection"][1].origin == demand.EXAMPLE_ORG
    assert sources["channels.phone.per_day"][1].origin == demand.EXAMPLE_ORG
    assert sources["tiers.t1.escalate_share"] == (0.2, demand.Source(
        demand.OURS, "one issue in five needs Tier 2 — Technical support"))  # fmt: skip
    assert sources["tiers.t3.handle_minutes"][1].origin == demand.OURS  # no catalogue figure
    assert all(source.origin in demand.ORIGINS for _, source in sources.values())
    # a figure you give is yours (the default as typed is not), and what depends on it
    # follows: Tier 1 passing on a quarter, Tier 2 passes on 30 % so Tier 3 stays at 7.5 %
    mine = _default_plan(tiers=[{"tier": "t1", "escalate_share": 0.25}],
                         channels=[{"channel": "chat", "per_day": 690}])  # fmt: skip
    assert mine.demand.sources["tiers.t1.escalate_share"] == (0.25, demand.Source(
        demand.YOURS, "instead of 0.2 (our example)", 0.2, demand.OURS))  # fmt: skip
    assert mine.demand.sources["channels.chat.per_day"][1].origin == demand.EXAMPLE_ORG
    assert mine.demand.sources["tiers.t2.escalate_share"][0] == pytest.approx(0.3)
    assert mine.tiers[2].share == pytest.approx(0.075)


@pytest.mark.django_db
def test_the_plan_reads_the_tier_catalogue_as_it_is_now(framework):
    """Handling targets, expected shares, the channels each tier answers and the escalation
    path are read from the catalogue's rows: an edit there changes the plan."""
    from staffing.selectors import capacity_catalogue, capacity_plan
    from tiers.models import Tier

    assert capacity_catalogue() == demand.Catalogue.framework()  # the example is {}'s plan
    assert capacity_plan({}).total == capacity_plan(demand.example()).total
    Tier.objects.filter(code="t1").update(target_handling_minutes=12, channels=["phone", "chat"])
    Tier.objects.filter(code="t2").update(channels=["email", "social", "escalation"])
    Tier.objects.filter(code="t3").update(volume_share_min=10, volume_share_max=10)
    plan = capacity_plan({})
    assert plan.demand.sources["tiers.t1.handle_minutes"][0] == 12
    assert plan.demand.answered_by == {"phone": "t1", "chat": "t1", "email": "t2",
                                       "social": "t2", "tickets": "t2"}  # fmt: skip
    # Tier 2 now takes e-mail, social and web tickets first (25 % of contacts) and a fifth of
    # Tier 1's 75 %: 40 %, of which it passes on a quarter for Tier 3 to take its 10 %
    assert plan.tiers[1].share == pytest.approx(0.40) and plan.tiers[2].share == pytest.approx(0.10)
    assert plan.demand.sources["tiers.t2.escalate_share"][0] == pytest.approx(0.25)
    # no tier answers a channel: the first tier takes it, and the plan says so
    Tier.objects.filter(code="t2").update(channels=["escalation"])
    plan = capacity_plan({})
    assert plan.demand.answered_by["email"] == "t1"
    assert any(n.startswith("No tier answers e-mail") for n in plan.notes)
    # a share outside the catalogue's expectation is named
    off = capacity_plan({"tiers": [{"tier": "t2", "escalate_share": 0.9}]})
    assert any("the tier catalogue expects 10 % of it" in n for n in off.notes), off.notes
    with django_assert_max_queries_of(3):
        capacity_catalogue()


class django_assert_max_queries_of:
    """At most ``n`` queries inside the block."""

    def __init__(self, n):
        self.n = n

    def __enter__(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.captured = CaptureQueriesContext(connection)
        self.captured.__enter__()

    def __exit__(self, *exc):
        self.captured.__exit__(*exc)
        assert len(self.captured.captured_queries) <= self.n, self.captured.captured_queries


@pytest.mark.django_db
def test_the_plan_endpoint_sizes_tiers_then_leaders_from_the_span_rules(framework):
    from roles.models import SpanRule
    from staffing.api.capacity import EXAMPLE_INPUT
    from tests.factories import UserFactory, session_client, token_client

    client = session_client(UserFactory(groups=["manager"]))
    response = client.post("/api/capacity/plan/", {}, format="json")
    assert response.status_code == 200, response.content
    plan = response.json()
    assert client.post("/api/capacity/plan/", EXAMPLE_INPUT, format="json").json() == plan
    assert plan["contacts_per_day"] == demand.EXAMPLE_DAY
    t1, t2, t3 = plan["tiers"]
    assert (t1["intake"], t2["intake"], t3["intake"]) == (2760.0, 552.0, 207.0)
    assert t3["share"] == 0.075 and (t3["catalogue_share_min"], t3["catalogue_share_max"]) == (
        5,
        10,
    )
    inputs = {row["field"]: row for row in plan["inputs"]}
    assert inputs["tiers.t2.handle_minutes"]["value"] == 30
    assert inputs["tiers.t2.handle_minutes"]["origin"] == "the tier catalogue"
    agents = sum(t["headcount"] for t in plan["tiers"])
    leaders = {row["role"]: row["count"] for row in plan["leaders"]}
    assert leaders["team-lead"] == math.ceil(agents / 10)  # a team lead runs up to 10
    assert plan["total"] == sum(row["count"] for row in plan["by_role"])
    assert any(row["role"] == "systems-specialist" for row in plan["operations"])
    # the span rules are read live: a team lead may now run 6 at most
    SpanRule.objects.filter(role__code="team-lead").update(max_direct=6)
    again = client.post("/api/capacity/plan/", {}, format="json").json()
    assert {r["role"]: r["count"] for r in again["leaders"]}["team-lead"] > leaders["team-lead"]
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
    ("body", "field"),
    [
        ({"tiers": [{"tier": "t1", "shrinkage": 1}]}, "tiers[0].shrinkage"),
        ({"tiers": [{"tier": "t9"}]}, "tiers[0].tier"),
        ({"tiers": [{"tier": "t0"}]}, "tiers[0].tier"),  # self-service has no staff
        ({"tiers": [{"tier": "t1", "handle_minutes": 0}]}, "tiers[0].handle_minutes"),
        ({"tiers": [{"tier": "t1", "escalate_share": 1}]}, "tiers[0].escalate_share"),
        ({"tiers": [{"tier": "t3", "escalate_share": 0.1}]}, "tiers[0].escalate_share"),
        ({"tiers": [{"tier": "t1"}, {"tier": "t1"}]}, "tiers"),
        ({"tiers": {"t1": {}}}, "tiers"),
        ({"tiers": ["t1"]}, "tiers[0]"),
        ({"channels": [{"channel": "fax", "per_day": 1}]}, "channels[0].channel"),
        ({"channels": [{"channel": "phone", "per_day": "lots"}]}, "channels[0].per_day"),
        ({"channels": [{"channel": "phone", "per_day": -1}]}, "channels[0].per_day"),
        ({"channels": [{"channel": "phone", "target_share": 1}]}, "channels[0].target_share"),
        ({"channels": [{"channel": "email", "open_hours": 4}]}, "channels[0].open_hours"),
        ({"channels": [{"channel": "phone", "concurrency": 2}]}, "channels[0].concurrency"),
        ({"channels": [{"channel": "phone", "volume": 10}]}, "channels[0].volume"),
        ({"channels": [{"channel": "phone", "busiest_hour_share": 0.05}]},
         "channels[0].busiest_hour_share"),  # under an average hour's 10 %
        ({"channels": [{"channel": "chat", "open_hours": 2}]}, "channels[0].open_hours"),
        ({"deflection": 1}, "deflection"),
        ({"deflection": -0.1}, "deflection"),
        ({"shift_hours": 0}, "shift_hours"),
        # shapes schemathesis sent: a 400, not a 500
        ({"tiers": [{"tier": {"t1": 1}}]}, "tiers[0].tier"),
        ({"channels": [{"channel": ["phone"], "per_day": 1}]}, "channels[0].channel"),
        ({"channels": [{"channel": "phone", "per_day": [50]}]}, "channels[0].per_day"),
        ({"channels": [{"channel": "phone", "per_day": True}]}, "channels[0].per_day"),
        ({"channels": [{"channel": "phone", "per_day": "nan"}]}, "channels[0].per_day"),
        ({"shift_hours": {"h": 8}}, "shift_hours"),
        ({"channels": [{"channel": "phone", "per_day": 10**400}]}, "channels[0].per_day"),
        ({"channels": [{"channel": "phone", "per_day": 1e12}]}, "channels[0].per_day"),
        ({"channels": [{"channel": "email", "per_day": 1e306}]}, "channels[0].per_day"),
        ({"channels": [{"channel": "phone", "escalate_share": 0.5}]},
         "channels[0].escalate_share"),  # a tier's input in a channel's row
        ({"tiers": [{"tier": "t1", "per_day": 5}]}, "tiers[0].per_day"),
        ({"tiers": [{"tier": "t1", "shrinkage": 0.9999999999}]}, "tiers[0].shrinkage"),
        ({"tiers": [{"tier": "t3", "escalate_share": "0.2"}]}, "tiers[0].escalate_share"),
        ({"shift_hours": 0.5}, "shift_hours"),
        ({"tiers": [{"tier": "t1", "max_occupancy": 0.01}]}, "tiers[0].max_occupancy"),
        ({"channels": [{"channel": "phone", "open_hours": 0.5}]}, "channels[0].open_hours"),
    ],
)  # fmt: skip
def test_bad_plan_input_is_a_400_naming_the_field(framework, body, field):
    from tests.factories import UserFactory, session_client

    response = session_client(UserFactory()).post("/api/capacity/plan/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_zero_volume_plans_nobody():
    plan = _default_plan(channels=[{"channel": c, "per_day": 0} for c in demand.CHANNELS])
    assert plan.agents == 0 and plan.leaders == {} and plan.operations == [] and plan.total == 0
    assert all(t.intake == 0 for t in plan.tiers)


@pytest.mark.django_db
def test_the_capacity_page_plans_from_the_form_and_names_a_bad_field(framework):
    from tests.factories import UserFactory, session_client

    client = session_client(UserFactory(groups=["director"]))
    page = client.get("/capacity/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="plan-tiers"' in html and "Customer Advocate" in html
    # the page starts where the API does: the same total
    total = client.post("/api/capacity/plan/", {}, format="json").json()["total"]
    assert f"The plan: {total} people" in html
    # empty fields show their starting figure, and where it comes from
    assert 'name="t1-handle_minutes" id="t1-handle_minutes" value="" placeholder="15"' in html
    assert 'title="The tier catalogue: its handling target, 15 minutes' in html
    assert "From the tier catalogue" in html and 'id="plan-cascade"' in html
    assert 'class="changed"' not in html
    more = client.get("/capacity/", {"phone-per_day": "6000", "deflection": "30"})
    more = more.content.decode()
    assert f"The plan: {total} people" not in more
    assert 'name="phone-per_day" id="phone-per_day" value="6000"' in more
    assert 'class="changed"' in more and "From your figure" in more
    assert "Instead of 40 % (the 85-FTE example organization)" in more
    # a figure that follows another follows it on the page as in the API: Tier 2 passes on
    # what keeps Tier 3 at 7.5 % of the volume when Tier 1 passes on 10 %
    api = client.post("/api/capacity/plan/", {"tiers": [{"tier": "t1", "escalate_share": 0.1}]},
                      format="json").json()  # fmt: skip
    follows = client.get("/capacity/", {"t1-escalate_share": "10"}).content.decode()
    assert f"The plan: {api['total']} people" in follows
    assert 'id="t2-escalate_share" value="" placeholder="75"' in follows
    # an emptied field starts again from its default
    empty = client.get("/capacity/", {"t1-handle_minutes": ""}).content.decode()
    assert f"The plan: {total} people" in empty
    bad = client.get("/capacity/", {"t1-shrinkage": "150"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert 'name="t1-shrinkage" id="t1-shrinkage" value="150"' in text
    assert 'aria-invalid="true"' in text and "must be below 100 %" in text


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
    from staffing.selectors import span_limits
    from tests.factories import UserFactory, session_client

    patient = {"channels": [{"channel": "phone", "patience_s": 120}]}
    limits = span_limits()

    def phone(data):
        return capacity.plan(data, span_limits=limits).tiers[0].channels[0]

    c_phone, a_phone = phone({}), phone(patient)
    assert c_phone.abandon_share is None and a_phone.channel == "phone"
    assert a_phone.agents <= c_phone.agents and 0 < a_phone.abandon_share < 0.2
    strict = {"channels": [{**patient["channels"][0],
                            "max_abandon_share": a_phone.abandon_share / 4}]}  # fmt: skip
    capped = phone(strict)
    assert capped.agents > a_phone.agents and capped.abandon_share <= a_phone.abandon_share / 4
    client = session_client(UserFactory(groups=["director"]))
    body = client.post("/api/capacity/plan/", patient, format="json").json()
    assert body["tiers"][0]["channels"][0]["abandon_share"] == round(a_phone.abandon_share, 4)
    bad = {"channels": [{"channel": "phone", "patience_s": -5}]}
    refused = client.post("/api/capacity/plan/", bad, format="json")
    assert refused.status_code == 400 and "channels[0].patience_s" in refused.json()
    page = client.get("/capacity/", {"phone-patience_s": "120", "phone-max_abandon_share": "2"})
    html = page.content.decode()
    assert page.status_code == 200 and "Hang up" in html
    assert 'name="phone-patience_s" id="phone-patience_s" value="120"' in html
    assert re.search(r"<td>\d+\.\d %</td>", html)  # the share who hang up, in the table


def test_working_team_leads_ticket_time_counts_as_tier_1_capacity(framework):
    """A team lead supervises 80 % of the time (the catalogue) and works the Tier 1 queue
    the rest: 20 % of a person each, so the plan asks for fewer advocates, says how many,
    and the leads it needs follow the smaller team."""
    from staffing.selectors import capacity_plan, hands_on_shares, span_limits
    from tests.factories import UserFactory, session_client

    assert hands_on_shares() == {"team-lead": 0.2}
    big = {"channels": [{"channel": c, "per_day": demand.EXAMPLE_DAY * share * 4}
                        for c, share in demand.MIX.items()]}  # fmt: skip
    without = capacity.plan(big, span_limits=span_limits())
    working = capacity_plan(big)
    front, before = working.tiers[0], without.tiers[0]
    leads = working.leaders["team-lead"]
    assert 0 < front.covered_by_leads <= math.floor(leads * 0.2)  # the leads cover them
    # and it is the most they can: one more agent covered would leave too few leads
    fewer = capacity._leaders(without.agents - front.covered_by_leads - 1, span_limits())
    assert front.covered_by_leads + 1 > math.floor(fewer["team-lead"] * 0.2)
    assert front.headcount == before.headcount - front.covered_by_leads
    assert working.agents == without.agents - front.covered_by_leads
    assert leads <= without.leaders["team-lead"]
    assert any(f"stands in for {front.covered_by_leads} agents" in n for n in working.notes)
    body = session_client(UserFactory()).post("/api/capacity/plan/", big, format="json").json()
    assert body["tiers"][0]["covered_by_leads"] == front.covered_by_leads


@pytest.mark.django_db
def test_an_odd_catalogue_still_answers(framework):
    """A tier with only one end of its expected share, a handling target over a day, and a
    catalogue with nothing staffed: the page and the API answer (400 at worst), never 500."""
    from tests.factories import UserFactory, session_client
    from tiers.models import Tier

    client = session_client(UserFactory(groups=["director"]))
    Tier.objects.filter(code="t3").update(volume_share_min=5, volume_share_max=None,
                                          target_handling_minutes=2880)  # fmt: skip
    plan = client.post("/api/capacity/plan/", {"tiers": [{"tier": "t2", "escalate_share": 0}]},
                       format="json")  # fmt: skip
    assert plan.status_code == 200, plan.content
    assert "the tier catalogue expects at least 5 % of it" in " ".join(plan.json()["notes"])
    assert client.get("/capacity/").status_code == 200
    Tier.objects.filter(code__in=["t1", "t2", "t3"]).update(
        staffed=False, target_handling_minutes=None
    )
    assert client.post("/api/capacity/plan/", {}, format="json").status_code == 400
    page = client.get("/capacity/")
    assert page.status_code == 400 and "no staffed tier" in page.content.decode()


@pytest.mark.django_db
def test_an_untouched_page_holds_no_figure_of_yours(framework):
    """Starting figures are placeholders, not values: whatever they round to on the page,
    nothing is counted as typed until it is."""
    from tests.factories import UserFactory, session_client
    from tiers.models import Tier

    Tier.objects.filter(code="t1").update(channels=["phone", "chat", "social"])  # 20.8333 %
    client = session_client(UserFactory(groups=["director"]))
    html = client.get("/capacity/", {"shift_hours": ""}).content.decode()
    assert "From your figure" not in html and 'class="changed"' not in html


def test_headcount_covers_the_agents_a_short_day_needs_at_once():
    """A phone line open four hours needs its busiest hour's agents all at the same time,
    however few shifts its agent-hours add up to."""
    zero = [{"channel": c, "per_day": 0} for c in demand.CHANNELS if c != "phone"]
    phone = {"channel": "phone", "per_day": 4000, "open_hours": 4, "busiest_hour_share": 0.25}
    plan = _default_plan(channels=[*zero, phone], deflection=0)
    t1 = plan.tiers[0]
    assert t1.agent_hours / 8 < t1.channels[0].agents  # fewer shifts than seats at once
    assert t1.on_duty == t1.channels[0].agents


def test_written_work_is_rounded_to_people_once_per_tier():
    """E-mail, social and web tickets are staffed for their workload at the most occupancy;
    only the tier's total is rounded up to whole agents."""
    t1 = _default_plan().tiers[0]
    written = [c for c in t1.channels if c.channel in ("email", "social", "tickets")]
    assert sum(c.staffed_hours for c in written) == pytest.approx(
        sum(c.workload_hours for c in written) / 0.85
    )
    tiny = _default_plan(deflection=0.999999)  # a few hundredths of a contact a day
    assert tiny.tiers[0].headcount < 10


def test_no_volume_is_not_out_of_the_catalogues_range():
    plan = _default_plan(channels=[{"channel": c, "per_day": 0} for c in demand.CHANNELS])
    assert all(t.share is None and t.in_range is None for t in plan.tiers)
    assert not any("takes" in n for n in plan.notes)
