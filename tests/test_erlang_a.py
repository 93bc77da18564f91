"""The Erlang A model (callers who hang up): published worked examples, a state-by-state sum
of the birth–death chain, the limits where it becomes Erlang C and Erlang B, and properties
that must hold for any input (hypothesis)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffing import capacity
from staffing.queueing import CapacityError, erlang_a, erlang_b, erlang_c

# --- published worked examples -------------------------------------------------------------


def test_the_pyworkforce_guide_example_13_agents_where_erlang_c_needs_14():
    """pyworkforce (Rodrigo Arenas), user guide, "Erlang A (abandonment)", Basic usage:
    100 calls in 30 minutes, 3-minute handling, 20 s answer target, 5-minute patience,
    shrinkage 30 %; required_positions(service_level=0.8, max_occupancy=0.85,
    max_abandonment=0.05) gives raw_positions 13, positions 19, service_level 0.858…,
    occupancy 0.750…, abandonment_probability 0.025…, waiting_probability 0.226… and
    average_speed_of_answer 0.125… minutes (there the mean wait of every caller, hung up
    or answered; ours is ``average_wait``). The figures are printed to three decimals.
    The same demand under Erlang C (the textbook example in test_capacity) needs 14."""
    result = capacity.agents_for_queue(
        contacts_per_hour=200, handle_s=180, target_share=0.8, target_s=20,
        max_occupancy=0.85, patience_s=300, max_abandon_share=0.05,
    )  # fmt: skip
    assert result.agents == 13
    assert capacity.with_shrinkage(result.agents, 0.3) == 19
    assert round(result.service_level, 3) == 0.858
    assert round(result.occupancy, 3) == 0.750
    assert round(result.abandon_probability, 3) == 0.025
    assert round(result.wait_probability, 3) == 0.226
    assert round(erlang_a(13, 10.0, 180, 300).average_wait / 60, 3) == 0.125
    # 12 agents miss the service level; Erlang C wants one more agent
    assert erlang_a(12, 10.0, 180, 300).service_level(20) < 0.8
    erlang_c_result = capacity.agents_for_queue(
        contacts_per_hour=200, handle_s=180, target_share=0.8, target_s=20, max_occupancy=0.85
    )
    assert erlang_c_result.agents == 14 and erlang_c_result.abandon_probability == 0.0


def test_the_pyworkforce_figures_for_14_agents_to_six_decimals():
    """pyworkforce's own test suite (pyworkforce/queuing/tests/test_abandonment.py,
    test_erlanga_regression_metrics) publishes, for 100 calls in 30 minutes, 3-minute
    handling, 5-minute patience and 14 agents, to 5–6 decimals: waiting probability
    0.14526, abandonment 0.013984, occupancy 0.704297, mean wait of every caller 0.069919
    minutes and service level within 20 s 0.916792 (computed there by uniformization of
    the waiting caller's own chain, not as here)."""
    queue = erlang_a(14, 10.0, 180, 300)
    assert round(queue.wait_probability, 5) == 0.14526
    assert round(queue.abandon_probability, 6) == 0.013984
    assert round(queue.occupancy, 6) == 0.704297
    assert round(queue.average_wait / 60, 6) == 0.069919
    assert round(queue.service_level(20), 6) == 0.916792


def test_the_comparison_that_opens_garnett_mandelbaum_and_reiman():
    """Garnett, Mandelbaum & Reiman, "Designing a Call Center with Impatient Customers"
    (MSOM 4(3), 2002), introduction, and Mandelbaum & Zeltyn's Palm/Erlang-A tutorial
    (§2) look at one call center through both models: 50 agents, 48 calls a minute (2,880
    an hour, as Zinnov's "Introduction to Erlang" charts it), 1-minute calls, 2-minute
    average patience. Erlang A: about 3.1 % hang up, the average wait is 3.7 s and the
    agents are 93 % busy; Erlang C, where nobody hangs up, has them 96 % busy and an
    average wait of over 20 s. (The papers' text could not be opened where this was
    written: the parameters are confirmed by Zinnov's page, the figures are as the example
    is usually quoted. The pyworkforce example above is checked against its published
    page.)"""
    queue = erlang_a(50, 48.0, 60, 120)
    assert round(queue.abandon_probability, 3) == 0.031
    assert round(queue.average_wait, 1) == 3.7
    assert round(queue.occupancy, 2) == 0.93
    assert 20 < capacity.average_speed_of_answer(50, 48.0, 60) < 21
    # and, Little's law: about 3 callers queue on average, against Erlang C's 16 to 17
    assert round(48 / 60 * queue.average_wait) == 3


# --- against the birth–death chain, summed state by state -------------------------------


def _chain(agents, traffic, handle_s, patience_s, target_s):
    """The M/M/n+M chain solved by brute force: the stationary probabilities state by
    state (birth rate λ, death rate min(k, n)·μ + max(k − n, 0)·θ) until the delayed
    states' tail is negligible; a caller who finds j waiting is answered with probability
    nμ/(nμ + (j+1)θ), and answered within t by the uniformized chain of their place in
    the queue (ahead: nμ + jθ, hang up: θ)."""
    mu, theta = 1 / handle_s, 1 / patience_s
    arrival, rate = traffic * mu, agents * mu
    p = [1.0]
    while len(p) <= agents or p[-1] > 1e-18 * sum(p[agents:]):
        k = len(p)
        p.append(p[-1] * arrival / (min(k, agents) * mu + max(k - agents, 0) * theta))
    total = sum(p)
    p = [x / total for x in p]
    delayed = p[agents:]
    places = range(len(delayed))
    answered = [rate / (rate + (j + 1) * theta) for j in places]
    # mean wait of one answered from place j: the sum of its stages 1/(nμ + iθ), i = 1…j+1
    stage_sum, answered_wait = 0.0, []
    for j in places:
        stage_sum += 1 / (rate + (j + 1) * theta)
        answered_wait.append(answered[j] * stage_sum)
    uniform = rate + len(delayed) * theta
    steps = int(uniform * target_s + 12 * math.sqrt(uniform * target_s) + 30)
    reached = [0.0 for _ in places]  # answered within k jumps of the uniformized chain
    within = [0.0 for _ in places]
    poisson = math.exp(-uniform * target_s)
    for k in range(1, steps + 1):
        reached = [
            (rate + j * theta) / uniform * (reached[j - 1] if j else 1.0)
            + (1 - (rate + (j + 1) * theta) / uniform) * reached[j]
            for j in places
        ]
        poisson *= uniform * target_s / k
        within = [w + poisson * r for w, r in zip(within, reached, strict=True)]
    hang_up = sum(d * (1 - a) for d, a in zip(delayed, answered, strict=True))
    return {
        "wait_probability": sum(delayed),
        "abandon_probability": hang_up,
        "service_level": sum(p[:agents]) + sum(d * w for d, w in zip(delayed, within, strict=True)),
        "average_speed_of_answer": sum(d * w for d, w in zip(delayed, answered_wait, strict=True))
        / (1 - hang_up),
        "average_wait": sum(j * d for j, d in enumerate(delayed)) / arrival,
    }


@pytest.mark.parametrize(
    ("agents", "traffic", "handle_s", "patience_s", "target_s"),
    [
        (1, 0.5, 60, 30, 10),
        (3, 2.5, 240, 60, 20),
        (5, 4.0, 600, 5, 0),  # impatient callers
        (10, 12.0, 300, 90, 30),  # more traffic than agents
        (20, 15.0, 180, 1800, 60),  # patient callers
    ],
)
def test_the_integrals_match_the_chain_summed_state_by_state(
    agents, traffic, handle_s, patience_s, target_s
):
    queue = erlang_a(agents, traffic, handle_s, patience_s)
    chain = _chain(agents, traffic, handle_s, patience_s, target_s)
    assert queue.wait_probability == pytest.approx(chain["wait_probability"], abs=1e-13)
    assert queue.abandon_probability == pytest.approx(chain["abandon_probability"], abs=1e-13)
    assert queue.service_level(target_s) == pytest.approx(chain["service_level"], abs=1e-12)
    assert queue.average_speed_of_answer == pytest.approx(
        chain["average_speed_of_answer"], rel=1e-11
    )
    assert queue.average_wait == pytest.approx(chain["average_wait"], rel=1e-11)
    assert queue.occupancy == pytest.approx(
        traffic * (1 - chain["abandon_probability"]) / agents, abs=1e-13
    )


# --- the limits: everybody waits (Erlang C), nobody waits (Erlang B) ----------------------


@pytest.mark.parametrize(
    ("agents", "traffic", "handle_s"), [(14, 10.0, 180), (40, 1000 / 30, 120), (3, 0.4, 600)]
)
def test_callers_who_never_hang_up_are_erlang_c(agents, traffic, handle_s):
    queue = erlang_a(agents, traffic, handle_s, patience_s=1e9)
    assert queue.wait_probability == pytest.approx(erlang_c(agents, traffic), abs=1e-6)
    for target_s in (0, 20, 60):
        assert queue.service_level(target_s) == pytest.approx(
            capacity.service_level(agents, traffic, handle_s, target_s), abs=1e-6
        )
    assert queue.average_speed_of_answer == pytest.approx(
        capacity.average_speed_of_answer(agents, traffic, handle_s), rel=1e-6
    )
    assert queue.abandon_probability < 1e-6
    assert queue.occupancy == pytest.approx(traffic / agents, abs=1e-6)


def test_sizing_with_endless_patience_matches_erlang_c():
    """The two Erlang C examples of test_capacity, sized again with patience of 30 years."""
    for demand in (
        {"contacts_per_hour": 200, "handle_s": 180, "target_share": 0.8, "target_s": 20},
        {"contacts_per_hour": 1000, "handle_s": 120, "target_share": 0.8, "target_s": 20},
    ):
        assert (
            capacity.agents_for_queue(**demand, patience_s=1e9).agents
            == capacity.agents_for_queue(**demand).agents
        )


@pytest.mark.parametrize(("agents", "traffic"), [(14, 10.0), (3, 5.0), (100, 90.0)])
def test_callers_who_hang_up_at_once_are_erlang_b(agents, traffic):
    """With no patience a caller who finds every agent busy is lost: Erlang B."""
    queue = erlang_a(agents, traffic, 180, patience_s=1e-9)
    blocking = erlang_b(agents, traffic)
    assert queue.wait_probability == pytest.approx(blocking, abs=1e-10)
    assert queue.abandon_probability == pytest.approx(blocking, abs=1e-10)
    assert queue.service_level(20) == pytest.approx(1 - blocking, abs=1e-10)
    assert queue.occupancy == pytest.approx(traffic * (1 - blocking) / agents, abs=1e-10)
    assert queue.average_speed_of_answer < 1e-9


def test_more_traffic_than_agents_settles_with_abandonment():
    """Erlang C has no answer with 20 Erlangs on 10 agents; Erlang A does: the agents are
    nearly always busy and at least the excess hangs up."""
    queue = erlang_a(10, 20.0, 300, 60)
    assert queue.wait_probability > 0.8
    assert queue.abandon_probability >= 1 - 10 / 20
    assert 0.95 < queue.occupancy <= 1
    assert math.isfinite(queue.average_speed_of_answer) and queue.service_level(20) < 0.5
    # thousands of agents and years of patience stay finite too
    huge = erlang_a(1000, 1100.0, 300, 1e9)
    assert huge.abandon_probability == pytest.approx(1 - 1000 / 1100, rel=1e-6)
    assert 0.99 < huge.occupancy <= 1


def test_no_traffic_and_many_agents():
    idle = erlang_a(5, 0.0, 300, 60)
    assert (idle.wait_probability, idle.abandon_probability, idle.occupancy) == (0, 0, 0)
    assert idle.service_level(0) == 1.0
    assert erlang_a(1000, 10.0, 300, 60).service_level(0) == 1.0  # waiting below 1e−308


def test_a_large_queue_is_sized_quickly():
    """2,000 Erlangs (24,000 calls an hour of 5 minutes), two-minute patience."""
    result = capacity.agents_for_queue(
        contacts_per_hour=24000, handle_s=300, target_share=0.9, target_s=15,
        max_occupancy=0.999, patience_s=120, max_abandon_share=0.03,
    )  # fmt: skip
    assert result.traffic == pytest.approx(2000.0)
    assert result.service_level >= 0.9 and result.abandon_probability <= 0.03
    assert result.occupancy <= 0.999
    fewer = erlang_a(result.agents - 1, 2000.0, 300, 120)
    assert (
        fewer.service_level(15) < 0.9 or fewer.abandon_probability > 0.03 or fewer.occupancy > 0.999
    )


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("agents", (0, 10.0, 180, 60)),
        ("agents", (2.5, 10.0, 180, 60)),
        ("agents", (True, 10.0, 180, 60)),
        ("agents", (100_001, 10.0, 180, 60)),
        ("traffic", (10, -1.0, 180, 60)),
        ("traffic", (10, math.nan, 180, 60)),
        ("handle_s", (10, 5.0, 0, 60)),
        ("patience_s", (10, 5.0, 180, 0)),
        ("patience_s", (10, 5.0, 180, -30)),
        ("patience_s", (10, 5.0, 180, math.inf)),
        ("patience_s", (10, 5.0, 180, 2e9)),
        ("patience_s", (10, 5.0, 180, "60")),
    ],
)
def test_bad_input_is_refused_with_the_field(field, args):
    with pytest.raises(CapacityError) as refused:
        erlang_a(*args)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("patience_s", {"patience_s": 0}),
        ("patience_s", {"patience_s": math.nan}),
        ("max_abandon_share", {"patience_s": 60, "max_abandon_share": 1.5}),
        ("max_abandon_share", {"patience_s": 60, "max_abandon_share": -0.1}),
        ("max_abandon_share", {"max_abandon_share": "5%"}),
        ("target_s", {"patience_s": 60, "target_s": -1}),
    ],
)
def test_bad_sizing_input_is_refused_with_the_field(field, kwargs):
    good = {"contacts_per_hour": 100, "handle_s": 180, "target_share": 0.8, "target_s": 20}
    with pytest.raises(CapacityError) as refused:
        capacity.agents_for_queue(**{**good, **kwargs})
    assert refused.value.field == field
    with pytest.raises(CapacityError) as refused:
        erlang_a(10, 5.0, 180, 60).service_level(-5)
    assert refused.value.field == "target_s"


def test_absurd_volumes_with_patience_are_refused_at_once():
    with pytest.raises(CapacityError) as refused:
        capacity.agents_for_queue(
            contacts_per_hour=1e300, handle_s=300, target_share=0.8, target_s=20, patience_s=60
        )
    assert refused.value.field == "contacts_per_hour"


# --- properties --------------------------------------------------------------------------

queues = {
    "agents": st.integers(min_value=1, max_value=60),
    "traffic": st.floats(min_value=0.05, max_value=90),
    "handle_s": st.floats(min_value=10, max_value=3600),
    "patience_ratio": st.floats(min_value=0.01, max_value=1000),  # patience over handling
    "target_s": st.floats(min_value=0, max_value=600),
}


@given(**queues)
def test_one_more_agent_never_serves_worse(agents, traffic, handle_s, patience_ratio, target_s):
    patience_s = handle_s * patience_ratio
    now, more = (erlang_a(n, traffic, handle_s, patience_s) for n in (agents, agents + 1))
    served_now, served_more = now.service_level(target_s), more.service_level(target_s)
    for queue, served in ((now, served_now), (more, served_more)):
        for share in (queue.wait_probability, queue.abandon_probability, queue.occupancy, served):
            assert 0.0 <= share <= 1.0
        assert queue.abandon_probability <= queue.wait_probability + 1e-15
        assert served <= 1 - queue.abandon_probability + 1e-12
    assert more.wait_probability <= now.wait_probability + 1e-12
    assert more.abandon_probability <= now.abandon_probability + 1e-12
    assert more.occupancy <= now.occupancy + 1e-12
    assert served_more >= served_now - 1e-12


@given(**queues)
def test_more_patience_means_fewer_hang_up_and_more_wait(
    agents, traffic, handle_s, patience_ratio, target_s
):
    shorter, longer = (erlang_a(agents, traffic, handle_s, handle_s * r)
                       for r in (patience_ratio, patience_ratio * 2))  # fmt: skip
    assert longer.abandon_probability <= shorter.abandon_probability + 1e-12
    assert longer.wait_probability >= shorter.wait_probability - 1e-12


@settings(max_examples=40)
@given(
    volume=st.floats(min_value=1, max_value=5000),
    handle_s=st.floats(min_value=30, max_value=1800),
    share=st.floats(min_value=0.5, max_value=0.99),
    target_s=st.floats(min_value=5, max_value=120),
    patience_s=st.floats(min_value=5, max_value=3600),
    max_abandon=st.one_of(st.none(), st.floats(min_value=0.01, max_value=0.2)),
)
def test_the_answer_is_the_least_that_meets_every_target(
    volume, handle_s, share, target_s, patience_s, max_abandon
):
    result = capacity.agents_for_queue(
        contacts_per_hour=volume, handle_s=handle_s, target_share=share, target_s=target_s,
        max_occupancy=0.9, patience_s=patience_s, max_abandon_share=max_abandon,
    )  # fmt: skip

    def meets(queue):
        return (
            queue.service_level(target_s) >= share
            and queue.occupancy <= 0.9
            and (max_abandon is None or queue.abandon_probability <= max_abandon)
        )

    assert meets(erlang_a(result.agents, result.traffic, handle_s, patience_s))
    assert result.service_level >= share and result.occupancy <= 0.9
    if result.agents > 1:
        assert not meets(erlang_a(result.agents - 1, result.traffic, handle_s, patience_s))
