"""The queueing formulas behind the capacity model (:mod:`staffing.capacity`): Erlang B
(nobody waits) and Erlang C (everybody waits). Pure arithmetic, in seconds and Erlangs.

No suitable well-kept Erlang C package exists on PyPI (the candidates are unmaintained or
pull in heavy dependencies), so the formula is implemented here and tested against
published worked examples. Erlang B is computed by its recurrence, which stays exact for
hundreds of agents where factorials would overflow.
"""

import math


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
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise CapacityError(field, "must be a number")
    if math.isinf(value):
        raise CapacityError(field, "must be finite")
    if low is not None and (value <= low if strict else value < low):
        raise CapacityError(field, f"must be {'above' if strict else 'at least'} {low}")
    if high is not None and (value >= high if below else value > high):
        raise CapacityError(field, f"must be {'below' if below else 'at most'} {high}")
