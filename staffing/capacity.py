"""The capacity model: from demand to the agents each tier needs, then the leaders the span
rules call for. Pure arithmetic (no database), so the API, the page and scenario generation
share it.

* Phone and chat are sized with the **Erlang C** model (callers wait in one queue, served
  first come, first served, nobody hangs up): the fewest agents whose service level (the
  share answered within the target time) reaches the target and whose occupancy stays
  under the maximum. Chat agents may hold several conversations at once (``concurrency``).
* Ticket queues are sized by **workload**: tickets × handling time over the hours an agent
  is productive in a day (after shrinkage and at the maximum occupancy).
* **Shrinkage** (breaks, training, absence) turns agents needed at any moment into people
  to employ: ``ceil(agents / (1 − shrinkage))``.

No suitable well-kept Erlang C package exists on PyPI (the candidates are unmaintained or
pull in heavy dependencies), so the formula is implemented here and tested against
published worked examples. Erlang B is computed by its recurrence, which stays exact for
hundreds of agents where factorials would overflow.
"""

import math
from dataclasses import dataclass


class CapacityError(ValueError):
    """Input the model cannot size, with the field and the reason."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


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


@dataclass(frozen=True)
class QueueResult:
    agents: int  # working at any moment
    traffic: float  # Erlangs
    service_level: float
    wait_probability: float
    average_speed_of_answer: float
    occupancy: float


MAX_AGENTS = 100_000


def agents_for_queue(
    *,
    contacts_per_hour: float,
    handle_s: float,
    target_share: float,
    target_s: float,
    max_occupancy: float = 0.85,
    concurrency: float = 1.0,
) -> QueueResult:
    """The fewest agents for a live queue (phone, or chat with ``concurrency``
    conversations per agent) to answer ``target_share`` of contacts within ``target_s``
    seconds without occupancy above ``max_occupancy``."""
    _check("contacts_per_hour", contacts_per_hour, low=0)
    _check("handle_s", handle_s, low=0, strict=True)
    _check("target_share", target_share, low=0, high=1, strict=True, below=True)
    _check("target_s", target_s, low=0)
    _check("max_occupancy", max_occupancy, low=0, high=1, strict=True)
    _check("concurrency", concurrency, low=1)
    traffic = contacts_per_hour * handle_s / 3600 / concurrency
    if traffic == 0:
        return QueueResult(0, 0.0, 1.0, 0.0, 0.0, 0.0)
    agents = max(1, math.floor(traffic) + 1, math.ceil(traffic / max_occupancy))
    while service_level(agents, traffic, handle_s, target_s) < target_share:
        agents += 1
        if agents > MAX_AGENTS:
            raise CapacityError("contacts_per_hour", "needs more than 100,000 agents")
    return QueueResult(
        agents=agents,
        traffic=traffic,
        service_level=service_level(agents, traffic, handle_s, target_s),
        wait_probability=erlang_c(agents, traffic),
        average_speed_of_answer=average_speed_of_answer(agents, traffic, handle_s),
        occupancy=traffic / agents,
    )


def agents_for_backlog(
    *,
    items_per_day: float,
    handle_s: float,
    hours_per_day: float = 8.0,
    max_occupancy: float = 0.85,
) -> tuple[int, float]:
    """Agents (working at any moment of a shift) to clear ``items_per_day`` tickets each
    day: the workload in hours over the hours an agent can give. Returns (agents, workload
    hours)."""
    _check("items_per_day", items_per_day, low=0)
    _check("handle_s", handle_s, low=0, strict=True)
    _check("hours_per_day", hours_per_day, low=0, high=24, strict=True)
    _check("max_occupancy", max_occupancy, low=0, high=1, strict=True)
    workload = items_per_day * handle_s / 3600
    return math.ceil(workload / (hours_per_day * max_occupancy) - 1e-9), workload


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """People to employ so that ``agents`` are working once ``shrinkage`` (a share of paid
    time lost to breaks, training and absence) is taken out."""
    _check("shrinkage", shrinkage, low=0, high=1, below=True)
    return math.ceil(agents / (1 - shrinkage) - 1e-9) if agents else 0


def _check(field, value, *, low=None, high=None, strict=False, below=False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise CapacityError(field, "must be a number")
    if math.isinf(value):
        raise CapacityError(field, "must be finite")
    if low is not None and (value <= low if strict else value < low):
        raise CapacityError(field, f"must be {'above' if strict else 'at least'} {low}")
    if high is not None and (value >= high if below else value > high):
        raise CapacityError(field, f"must be {'below' if below else 'at most'} {high}")
