"""The queueing formulas behind the capacity model (:mod:`staffing.capacity`): Erlang B
(nobody waits), Erlang C (everybody waits) and Erlang A (callers hang up when their
patience runs out). Pure arithmetic, in seconds and Erlangs.

No suitable well-kept Erlang C package exists on PyPI (the candidates are unmaintained or
pull in heavy dependencies), so the formula is implemented here and tested against
published worked examples. Erlang B is computed by its recurrence, which stays exact for
hundreds of agents where factorials would overflow. Erlang A has no elementary closed form:
its measures are incomplete-gamma integrals (Mandelbaum & Zeltyn). Rather than add SciPy
for them, they are integrated here directly, in about the same few thousand steps whatever
the queue's size, load or patience (see :func:`erlang_a`); summing the birth–death chain
state by state, as pyworkforce does, takes the longer the more patient the callers.
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field


class CapacityError(ValueError):
    """Input the model cannot size, with the field and the reason."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


MAX_AGENTS = 100_000


def erlang_b(agents: int, traffic: float) -> float:
    """The probability that all ``agents`` are busy with ``traffic`` Erlangs offered and no
    queue (Erlang B), by the recurrence B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))."""
    if agents < 0 or traffic < 0:
        raise CapacityError("agents", "agents and traffic cannot be negative")
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return blocking


def erlang_c(agents: int, traffic: float) -> float:
    """The probability that a contact waits (Erlang C). 1 when traffic reaches the number
    of agents: the queue then grows without end."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, handle_s: float, target_s: float) -> float:
    """The share of contacts answered within ``target_s`` seconds."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    wait = erlang_c(agents, traffic)
    return 1 - wait * math.exp(-(agents - traffic) * target_s / handle_s)


def average_speed_of_answer(agents: int, traffic: float, handle_s: float) -> float:
    """The mean wait in seconds (infinite when traffic reaches the number of agents)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * handle_s / (agents - traffic)


def _check(field, value, *, low=None, high=None, strict=False, below=False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CapacityError(field, "must be a number")
    try:
        value = float(value)  # an integer too large for a float overflows here
    except OverflowError:
        raise CapacityError(field, "must be finite") from None
    if math.isnan(value):
        raise CapacityError(field, "must be a number")
    if math.isinf(value):
        raise CapacityError(field, "must be finite")
    if low is not None and (value <= low if strict else value < low):
        raise CapacityError(field, f"must be {'above' if strict else 'at least'} {low}")
    if high is not None and (value >= high if below else value > high):
        raise CapacityError(field, f"must be {'below' if below else 'at most'} {high}")


# --- Erlang A: callers who hang up ---------------------------------------------------------

MAX_PATIENCE_S = 1e9  # about 32 years: longer matches Erlang C to every digit shown


@dataclass(frozen=True)
class ErlangA:
    """A live queue whose callers hang up (Erlang A), measured over all arriving callers.

    A caller who finds every agent busy waits for the first free one, first come first
    served, and hangs up if the wait outlasts their patience (exponential, mean
    ``patience_s``); one who hangs up has waited their patience. Averages are in seconds.
    """

    agents: int
    traffic: float  # offered Erlangs: contacts per second × handle_s
    handle_s: float
    patience_s: float
    wait_probability: float  # P(W > 0): all agents busy when the caller arrives
    abandon_probability: float  # P(Ab): the caller hangs up before an answer
    average_speed_of_answer: float  # mean wait of the answered, those answered at once too
    average_wait: float  # mean wait of every caller, hung up or answered: P(Ab) × patience
    occupancy: float  # the calls carried, traffic × (1 − P(Ab)), over the agents
    answered_at_once: float = field(repr=False)  # 1 − P(W > 0), kept exact when tiny

    def service_level(self, target_s: float) -> float:
        """The share of all callers answered within ``target_s`` seconds,
        P(W ≤ target_s and answered): calls answered in time over calls offered, so a
        caller who hangs up is a miss however briefly they waited (counting only the
        answered ones would reward letting callers go). Erlang C's service level when
        nobody hangs up."""
        _check("target_s", target_s, low=0)
        if self.wait_probability == 0:
            return self.answered_at_once
        parts = _delay_integrals(
            self.agents, self.traffic, self.handle_s, self.patience_s, target_s
        )
        return self.answered_at_once + self.wait_probability * parts.within / parts.total


def erlang_a(agents: int, traffic: float, handle_s: float, patience_s: float) -> ErlangA:
    """Palm's M/M/n+M queue (Erlang A): ``traffic`` Erlangs offered to ``agents`` agents,
    calls lasting ``handle_s`` seconds on average, callers hanging up after ``patience_s``
    on average (both exponential). Stable at any load, since callers leave.

    With μ = 1/handle_s, θ = 1/patience_s, λ = traffic·μ and B Erlang B, a caller waits
    with probability P(W>0) = B·S / (1 − B + B·S), where S (the delayed states' weight
    against the all-busy one) is x·e^y·y^−x·γ(x, y) with x = nμ/θ, y = λ/θ and γ the
    lower incomplete gamma function (Mandelbaum & Zeltyn, "The Palm/Erlang-A Queue, with
    Applications to Call Centers", Technion, 2005). Among those who wait, the wait they
    are offered (until an agent would take them, were they patient) has density
    proportional to f(v) = nμ·exp(−nμ·v + (λ/θ)(1 − e^(−θv))), with total mass S: the
    same γ written as an integral. (A caller finding j waiting is offered the sum of
    exponential stages at rates nμ + iθ, i = 0…j; weighting by the chain's states, the
    Laplace transform of those sums is nμ/(nμ+s) · S at x + s/θ, which is f's.) A caller
    offered v is answered if their patience outlasts it, with probability e^(−θv).
    Hence, over all callers:

    * P(Ab) = P(W>0) · ∫ f(v)(1 − e^(−θv)) dv / S,
    * answered within t: (1 − P(W>0)) + P(W>0) · ∫₀ᵗ f(v) e^(−θv) dv / S,
    * the mean wait of answered callers: P(W>0) · ∫ v f(v) e^(−θv) dv / S / (1 − P(Ab)),
    * occupancy: traffic·(1 − P(Ab)) / agents.

    As patience grows f tends to nμ·e^(−(nμ−λ)v) and these become Erlang C's; as it
    shrinks to nothing S tends to 1 and P(W>0) and P(Ab) to Erlang B's blocking.

    The integrands are e^(concave), so they are integrated by 20-point Gauss–Legendre on
    panels across which the exponent falls by at most 4, out to where it has fallen by 48
    from its peak. The tail left out is, by concavity, below e^−48 of the peak times a
    quarter of the last panel's width; the tests find the results within 1e−14 of a
    state-by-state sum of the birth–death chain. Exponents are taken relative to their
    peaks in forms where no two large terms cancel, so thousands of agents, patience near
    0 or years long, and loads far above the agents all stay exact, at about the same
    cost: a few thousand exponentials, besides Erlang B's recurrence."""
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 1:
        raise CapacityError("agents", "must be a whole number of at least 1")
    if agents > MAX_AGENTS:
        raise CapacityError("agents", "must be at most 100,000")
    _check("traffic", traffic, low=0)
    _check("handle_s", handle_s, low=0, strict=True)
    _check("patience_s", patience_s, low=0, high=MAX_PATIENCE_S, strict=True)
    blocking = erlang_b(agents, traffic) if traffic > 0 else 0.0
    if blocking == 0:  # no traffic, or a chance of waiting below the smallest float
        return ErlangA(
            agents=agents,
            traffic=traffic,
            handle_s=handle_s,
            patience_s=patience_s,
            wait_probability=0.0,
            abandon_probability=0.0,
            average_speed_of_answer=0.0,
            average_wait=0.0,
            occupancy=traffic / agents,
            answered_at_once=1.0,
        )
    parts = _delay_integrals(agents, traffic, handle_s, patience_s)
    # P(W>0) = 1 / (1 + r) with r = (1 − B) / (B·S), from logarithms: S can be e^(10⁶)
    log_r = math.log1p(-blocking) - math.log(blocking) - parts.log_weight
    if log_r > 0:
        e = math.exp(-log_r)
        waits, at_once = e / (1 + e), 1 / (1 + e)
    else:
        e = math.exp(log_r)
        waits, at_once = 1 / (1 + e), e / (1 + e)
    abandon = waits * parts.hang_up / parts.total
    answered = at_once + waits * parts.answered / parts.total  # = 1 − P(Ab), no cancelling
    return ErlangA(
        agents=agents,
        traffic=traffic,
        handle_s=handle_s,
        patience_s=patience_s,
        wait_probability=waits,
        abandon_probability=abandon,
        average_speed_of_answer=waits * parts.answered_wait / parts.total / answered,
        average_wait=abandon * patience_s,
        occupancy=min(1.0, traffic * answered / agents),  # carried ≤ agents, despite rounding
        answered_at_once=at_once,
    )


@dataclass(frozen=True)
class _Integrals:
    """∫ f(v)·(…) dv over the offered wait, each scaled by the same e^(−peak of log f)."""

    log_weight: float  # log S, unscaled
    total: float  # ∫ f
    hang_up: float  # ∫ f·(1 − e^(−θv))
    answered: float  # ∫ f·e^(−θv)
    answered_wait: float  # ∫ v·f·e^(−θv)
    within: float  # ∫₀ᵗ f·e^(−θv), when a target t is given


_STEP, _DEPTH = 4.0, 48.0  # the exponent falls ≤ 4 across a panel, panels end 48 below peak


def _gauss_legendre(points: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Nodes and weights of the Gauss–Legendre rule on [−1, 1]: Newton's method on the
    Legendre polynomial P_points from the usual cosine guesses."""
    nodes, weights = [], []
    for i in range(1, points + 1):
        x = math.cos(math.pi * (i - 0.25) / (points + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, points + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            slope = points * (x * p1 - p0) / (x * x - 1)
            x, before = x - p1 / slope, x
            if abs(x - before) < 1e-16:
                break
        nodes.append(x)
        weights.append(2 / ((1 - x * x) * slope * slope))
    return tuple(nodes), tuple(weights)


_NODES, _WEIGHTS = _gauss_legendre(20)


def _phi(z: float) -> float:
    """z − 1 + e^(−z) ≥ 0, exact for small z too."""
    return z + math.expm1(-z)


def _exponent(
    rate: float, arrival: float, theta: float
) -> tuple[float, float, Callable[[float], float]]:
    """E(v) = −rate·v + (arrival/θ)(1 − e^(−θv)), concave with E(0) = 0: its peak v*,
    E(v*), and v ↦ E(v) − E(v*) ≤ 0 in a form where no two large terms cancel."""
    if arrival > rate:  # the peak is inside: E'(v*) = 0 where arrival·e^(−θv*) = rate
        peak = math.log(arrival / rate) / theta
        excess = (arrival - rate) / rate
        top = rate / theta * (excess - math.log1p(excess))
        return peak, top, lambda v: -rate / theta * _phi(theta * (v - peak))
    return 0.0, 0.0, lambda v: -(rate - arrival) * v - arrival / theta * _phi(theta * v)


def _crossing(fall: Callable[[float], float], inside: float, outside: float, level: float) -> float:
    """Where ``fall`` passes ``level`` between ``inside`` (above it) and ``outside``, to a
    billionth of the bracket: a panel's end need not be exact, only its fall about 4."""
    for _ in range(30):
        middle = 0.5 * (inside + outside)
        if fall(middle) > level:
            inside = middle
        else:
            outside = middle
    return outside


def _panel_ends(peak: float, fall: Callable[[float], float], scale: float) -> list[float]:
    """Where ``fall`` (0 at ``peak``, falling on either side) is −4, −8, … −48."""
    ends, outside = [], peak + scale
    for k in range(1, int(_DEPTH / _STEP) + 1):
        level = -k * _STEP
        while fall(outside) > level:
            outside = peak + 2 * (outside - peak)
        ends.append(_crossing(fall, peak if not ends else ends[-1], outside, level))
    for k in range(1, int(_DEPTH / _STEP) + 1):  # before an inside peak
        level = -k * _STEP
        if fall(0.0) >= level:
            break
        ends.append(_crossing(fall, peak, 0.0, level))
    return ends


def _delay_integrals(
    agents: int, traffic: float, handle_s: float, patience_s: float, target_s: float | None = None
) -> _Integrals:
    service, theta = 1 / handle_s, 1 / patience_s
    rate, arrival = agents * service, traffic * service
    # f = rate·e^g, and f·e^(−θv) = rate·e^h with h the same shape at rate + θ
    g_peak, g_top, g = _exponent(rate, arrival, theta)
    h_peak, h_top, h = _exponent(rate + theta, arrival, theta)
    # h − g_top = (h − h_top) + lift, lift = h_top − g_top, in a form without cancelling
    if arrival > rate + theta:  # with x = rate/θ and y = arrival/θ:
        x = rate / theta  # lift = x·ln(1 + 1/x) − 1 − ln(y / (x + 1))
        lift = x * math.log1p(1 / x) - 1 - math.log(arrival / (rate + theta))
    else:
        lift = h_top - g_top
    ends = {0.0, *_panel_ends(g_peak, g, 1 / rate), *_panel_ends(h_peak, h, 1 / (rate + theta))}
    if target_s is not None:
        ends.add(target_s)
    total = hang_up = answered = answered_wait = within = 0.0
    for low, high in itertools.pairwise(sorted(ends)):
        half, middle = (high - low) / 2, (high + low) / 2
        inside = target_s is not None and high <= target_s
        for node, weight in zip(_NODES, _WEIGHTS, strict=True):
            v = middle + half * node
            w = weight * half
            f, fe = w * math.exp(g(v)), w * math.exp(h(v) + lift)
            total += f
            hang_up -= f * math.expm1(-theta * v)
            answered += fe
            answered_wait += fe * v
            if inside:
                within += fe
    return _Integrals(
        log_weight=math.log(rate) + g_top + math.log(total),
        total=total,
        hang_up=hang_up,
        answered=answered,
        answered_wait=answered_wait,
        within=within,
    )
