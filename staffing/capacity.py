"""The capacity model: from a day's demand to the agents each tier needs, then the leaders
the span rules call for. Pure arithmetic (no database), so the API, the page and scenario
generation share it. The inputs, their defaults from the tier catalogue and the cascade
they flow through are read by :mod:`staffing.demand`.

* Demand enters once, per channel, and **cascades**: self-service (Tier 0) resolves a
  share; the rest reaches the tier that answers its channel; each tier passes a share of
  what reaches it on to the tier it escalates to, as written work.
* Phone and chat are sized with the **Erlang C** model (callers wait in one queue, served
  first come, first served, nobody hangs up) for their busiest hour, then staffed while
  they are open: the fewest agents whose service level (the share answered within the
  target time) reaches the target and whose occupancy stays under the maximum. Chat
  agents may hold several conversations at once (``concurrency``).
* Given the callers' average **patience**, the **Erlang A** model (Palm's M/M/n+M queue)
  sizes the same queue with callers who hang up once their wait outlasts a patience drawn
  at random (exponential with that mean); a cap on the share who hang up can be added.
* Written work (e-mail, social media, web tickets, escalations) is sized by **workload**:
  items × handling time over the hours an agent is productive in a day (after shrinkage
  and at the maximum occupancy).
* **Shrinkage** (breaks, training, absence) turns agents needed at any moment into people
  to employ: ``ceil(agents / (1 − shrinkage))``.

The queueing formulas themselves (Erlang B, C and A) are in :mod:`staffing.queueing`.
"""

import math
from contextlib import contextmanager
from dataclasses import dataclass

from staffing.demand import (
    AGENT_ROLE,
    CHANNEL_NAMES,
    Catalogue,
    Channel,
    Demand,
    TierDemand,
    parse,
)
from staffing.queueing import (
    MAX_AGENTS,
    MAX_PATIENCE_S,
    CapacityError,
    ErlangA,
    _check,
    average_speed_of_answer,
    erlang_a,
    erlang_c,
    service_level,
)


@dataclass(frozen=True)
class QueueResult:
    agents: int  # working at any moment
    traffic: float  # Erlangs
    service_level: float
    wait_probability: float
    average_speed_of_answer: float
    occupancy: float
    abandon_probability: float = 0.0  # Erlang A only: the share who hang up unanswered


def agents_for_queue(
    *,
    contacts_per_hour: float,
    handle_s: float,
    target_share: float,
    target_s: float,
    max_occupancy: float = 0.85,
    concurrency: float = 1.0,
    patience_s: float | None = None,
    max_abandon_share: float | None = None,
) -> QueueResult:
    """The fewest agents for a live queue (phone, or chat with ``concurrency``
    conversations per agent) to answer ``target_share`` of contacts within ``target_s``
    seconds without occupancy above ``max_occupancy``.

    Without ``patience_s`` nobody hangs up (Erlang C). With it, callers hang up after a
    patience of that mean (Erlang A, :func:`erlang_a`; an agent with ``concurrency``
    conversations finishes one every ``handle_s / concurrency`` seconds): the service level
    then counts only callers answered within ``target_s`` (one who hangs up is a miss,
    however short the wait), occupancy only the calls carried, and ``max_abandon_share``
    (of all callers, optional) caps those who hang up. Under Erlang C nobody hangs up, so
    that cap is always met."""
    _check("contacts_per_hour", contacts_per_hour, low=0)
    _check("handle_s", handle_s, low=0, strict=True)
    _check("target_share", target_share, low=0, high=1, strict=True, below=True)
    _check("target_s", target_s, low=0)
    _check("max_occupancy", max_occupancy, low=0, high=1, strict=True)
    _check("concurrency", concurrency, low=1)
    if patience_s is not None:
        _check("patience_s", patience_s, low=0, high=MAX_PATIENCE_S, strict=True)
    if max_abandon_share is not None:
        _check("max_abandon_share", max_abandon_share, low=0, high=1)
    traffic = contacts_per_hour * handle_s / 3600 / concurrency
    if traffic == 0:
        return QueueResult(0, 0.0, 1.0, 0.0, 0.0, 0.0)
    if patience_s is not None:
        return _agents_for_queue_a(
            traffic=traffic,
            handle_s=handle_s / concurrency,
            target_share=target_share,
            target_s=target_s,
            max_occupancy=max_occupancy,
            patience_s=patience_s,
            max_abandon_share=max_abandon_share,
        )
    if traffic / max_occupancy > MAX_AGENTS:  # before any loop: Erlang B is O(agents)
        raise CapacityError("contacts_per_hour", "needs more than 100,000 agents")
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


def _agents_for_queue_a(
    *,
    traffic: float,
    handle_s: float,
    target_share: float,
    target_s: float,
    max_occupancy: float,
    patience_s: float,
    max_abandon_share: float | None,
) -> QueueResult:
    """:func:`agents_for_queue` under Erlang A. The three targets only get easier with
    each agent added (service level up, occupancy and abandonment down), so the fewest
    agents meeting them all is found by doubling then halving the step. It starts where
    any answer must lie: a caller answered in time was answered, so the calls carried
    are at least ``target_share`` of the traffic, and they must fit within
    ``max_occupancy`` of the agents."""
    if traffic * target_share / max_occupancy > MAX_AGENTS:
        raise CapacityError("contacts_per_hour", "needs more than 100,000 agents")

    def meets(agents: int) -> ErlangA | None:
        queue = erlang_a(agents, traffic, handle_s, patience_s)
        if (
            queue.occupancy <= max_occupancy
            and (max_abandon_share is None or queue.abandon_probability <= max_abandon_share)
            and queue.service_level(target_s) >= target_share
        ):
            return queue
        return None

    short = max(0, math.floor(traffic * target_share / max_occupancy) - 1)  # falls short
    step, agents = 1, short + 1
    while (queue := meets(agents)) is None:
        short, step = agents, step * 2
        if agents == MAX_AGENTS:
            raise CapacityError("contacts_per_hour", "needs more than 100,000 agents")
        agents = min(short + step, MAX_AGENTS)
    while agents - short > 1:  # short falls short, agents meet every target
        middle = (short + agents) // 2
        if (found := meets(middle)) is None:
            short = middle
        else:
            agents, queue = middle, found
    return QueueResult(
        agents=agents,
        traffic=traffic,
        service_level=queue.service_level(target_s),
        wait_probability=queue.wait_probability,
        average_speed_of_answer=queue.average_speed_of_answer,
        occupancy=queue.occupancy,
        abandon_probability=queue.abandon_probability,
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
    need = workload / (hours_per_day * max_occupancy)
    if not math.isfinite(need) or need > MAX_AGENTS:
        raise CapacityError("items_per_day", "needs more than 100,000 agents")
    return math.ceil(need - 1e-9), workload


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """People to employ so that ``agents`` are working once ``shrinkage`` (a share of paid
    time lost to breaks, training and absence) is taken out."""
    _check("shrinkage", shrinkage, low=0, high=1, below=True)
    people = agents / (1 - shrinkage) if agents else 0
    if people > MAX_AGENTS:
        raise CapacityError("shrinkage", "leaves more than 100,000 people to employ")
    return math.ceil(people - 1e-9)


# --- a headcount plan from demand ---------------------------------------------------------

LADDER = ("team-lead", "advocate-manager", "senior-advocate-manager", "director")
# growth tipping points (our reading of the framework): a support-operations team once
# there are about ten agents, one more specialist for every further fifty, and someone to
# lead them once there are two
OPS_TEAM_AT_AGENTS = 10
OPS_SPECIALIST_PER_AGENTS = 50
ESCALATED = "escalated"  # the work a tier takes from the tier before it


@dataclass
class ChannelPlan:
    channel: str  # a channel of demand.CHANNELS, or ESCALATED
    volume: float  # a day's contacts reaching the tier on it
    agents: int  # on duty at once (live) or over a shift (written work)
    staffed_hours: float  # agent-hours a day
    workload_hours: float  # hours of handling a day
    service_level: float | None = None
    average_speed_of_answer: float | None = None
    occupancy: float | None = None  # in the busiest hour (live channels)
    abandon_share: float | None = None  # callers who hang up unanswered (Erlang A)
    busiest_hour: float | None = None  # contacts in the busiest hour (live channels)

    @property
    def abandon_percent(self) -> float | None:
        return None if self.abandon_share is None else self.abandon_share * 100

    @property
    def name(self) -> str:
        return "Escalated to it" if self.channel == ESCALATED else CHANNEL_NAMES[self.channel]


@dataclass
class TierPlan:
    tier: str
    name: str
    role: str
    shrinkage: float
    escalate_share: float
    channels: list[ChannelPlan]
    share_min: float | None = None  # the catalogue's expected share of volume, per cent
    share_max: float | None = None
    covered_by_leads: int = 0  # agents the team leads' own ticket time stands in for
    share: float | None = None  # of the contacts people handle, the share reaching it
    shift_hours: float = 8.0

    @property
    def intake(self) -> float:
        """A day's issues reaching this tier (new contacts and escalations)."""
        return sum(c.volume for c in self.channels)

    @property
    def escalated(self) -> float:
        return self.intake * self.escalate_share

    @property
    def resolved(self) -> float:
        return self.intake - self.escalated

    @property
    def agent_hours(self) -> float:
        return sum(c.staffed_hours for c in self.channels)

    @property
    def workload_hours(self) -> float:
        return sum(c.workload_hours for c in self.channels)

    @property
    def busy(self) -> float | None:
        """The share of staffed hours spent handling work, over the day."""
        return self.workload_hours / self.agent_hours if self.agent_hours else None

    @property
    def service_level(self) -> float | None:
        """Answered in time, over the live channels weighted by their volume."""
        live = [c for c in self.channels if c.service_level is not None and c.volume]
        total = sum(c.volume for c in live)
        return sum(c.service_level * c.volume for c in live) / total if total else None

    @property
    def on_duty(self) -> int:
        """Agents a day's work needs: its agent-hours in whole shifts, and never fewer than
        the live channels need at once in their busiest hours (a line open for less than a
        shift still needs them all at the same time)."""
        shifts = math.ceil(self.agent_hours / self.shift_hours - 1e-9) if self.agent_hours else 0
        return max(shifts, sum(c.agents for c in self.channels if c.busiest_hour is not None))

    @property
    def needed(self) -> int:
        """People to employ for the tier's work, before the leads' share."""
        return with_shrinkage(self.on_duty, self.shrinkage)

    @property
    def headcount(self) -> int:
        """People to employ: those needed less the agents the team leads stand in for."""
        return max(0, self.needed - self.covered_by_leads)

    @property
    def in_range(self) -> bool | None:
        """Whether the tier's share of volume is within the catalogue's expectation."""
        if self.share is None or (self.share_min is None and self.share_max is None):
            return None
        percent = self.share * 100
        return (self.share_min is None or percent >= self.share_min - 0.05) and (
            self.share_max is None or percent <= self.share_max + 0.05
        )


@dataclass
class Plan:
    shift_hours: float
    tiers: list[TierPlan]
    leaders: dict[str, int]
    operations: list[tuple[str, int, str]]  # role, count, why
    notes: list[str]
    demand: Demand | None = None

    @property
    def contacts(self) -> float:
        return self.demand.per_day if self.demand else 0.0

    @property
    def self_served(self) -> float:
        return self.contacts * self.demand.deflection if self.demand else 0.0

    @property
    def agents(self) -> int:
        return sum(t.headcount for t in self.tiers)

    @property
    def total(self) -> int:
        return self.agents + sum(self.leaders.values()) + sum(n for _, n, _ in self.operations)

    @property
    def by_role(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.tiers:
            counts[t.role] = counts.get(t.role, 0) + t.headcount
        for role, n in [*self.leaders.items(), *((r, n) for r, n, _ in self.operations)]:
            counts[role] = counts.get(role, 0) + n
        return {role: n for role, n in counts.items() if n}


def _leaders(agents: int, span_limits: dict[str, tuple[int | None, int | None]]) -> dict:
    """The management ladder over ``agents`` from the span limits, lowest rung first."""
    leaders: dict[str, int] = {}
    below = reports = agents
    for code in LADDER:
        most_direct, largest_team = span_limits.get(code, (None, None))
        if reports == 0 or (reports <= 1 and code != LADDER[0]):
            break
        needed = max(
            math.ceil(reports / most_direct) if most_direct else 1,
            math.ceil(below / largest_team) if largest_team else 1,
        )
        leaders[code] = needed
        below += needed
        reports = needed
        if needed == 1:
            break
    return leaders


def _live(channel: Channel, volume: float, tier: TierDemand) -> ChannelPlan:
    """A live channel's day at a tier. The busiest hour takes its share of the day and the
    other open hours share the rest evenly; each is sized for the service targets, and the
    channel is staffed hour by hour. The busiest hour's figures are the ones reported: it
    is where the targets bind."""

    def sized(contacts_per_hour: float) -> QueueResult:
        return agents_for_queue(
            contacts_per_hour=contacts_per_hour,
            handle_s=tier.handle_s,
            target_share=channel.target_share,
            target_s=channel.target_s,
            max_occupancy=tier.max_occupancy,
            concurrency=channel.concurrency,
            patience_s=channel.patience_s,
            max_abandon_share=channel.max_abandon_share,
        )

    busiest = volume * min(1.0, channel.busiest_hour_share)
    queue = sized(busiest)
    others = channel.open_hours - 1
    staffed = float(queue.agents)  # open hours are at least one
    if others > 0:
        staffed += sized((volume - busiest) / others).agents * others
    return ChannelPlan(
        channel.channel,
        volume,
        queue.agents,
        staffed,
        workload_hours=volume * tier.handle_s / 3600 / channel.concurrency,
        service_level=queue.service_level,
        average_speed_of_answer=queue.average_speed_of_answer,
        occupancy=queue.occupancy,
        abandon_share=queue.abandon_probability if channel.patience_s is not None else None,
        busiest_hour=busiest,
    )


def _written(name: str, volume: float, tier: TierDemand, shift: float) -> ChannelPlan:
    """Written work (e-mail, social, web tickets, escalations) at a tier: by its workload."""
    agents, workload = agents_for_backlog(
        items_per_day=volume, handle_s=tier.handle_s, hours_per_day=shift,
        max_occupancy=tier.max_occupancy,
    )  # fmt: skip
    # the hours it takes at the most occupancy; the tier rounds its hours up to people once
    return ChannelPlan(name, volume, agents, workload / tier.max_occupancy, workload_hours=workload)


@contextmanager
def _refused_at(path: str):
    """A sizing refusal (named by the formula's own parameter) named by the input's path."""
    try:
        yield
    except CapacityError as bad:
        raise CapacityError(path, bad.message) from None


def _share_range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g}–{high:g} %" if low != high else f"{low:g} %"
    return f"at least {low:g} %" if low is not None else f"at most {high:g} %"


def plan(
    data: dict,
    *,
    span_limits: dict[str, tuple[int | None, int | None]],
    hands_on: dict[str, float] | None = None,
    catalogue: Catalogue | None = None,
) -> Plan:
    """A headcount plan from a day's demand per channel, through the cascade: self-service
    resolves its share; the rest reaches the tier that answers its channel (live channels
    sized with Erlang C or A for their busiest hour and staffed while open, written work by
    its workload); each tier passes its escalation share on to the next as written work.
    Then leaders from the span limits (role code → (most direct reports, largest whole
    team)), then support operations.

    ``hands_on`` (role code → share of a person's time): leaders who also do the work. A
    working team lead's share (the catalogue's 100 % less its supervision share: 20 %)
    stands in for agents of the first tier, whose teams they lead, so the plan asks for
    fewer agents, and then perhaps fewer leads (the most agents the leads of the smaller
    team still stand in for)."""
    wanted = parse(data, catalogue or Catalogue.framework())
    shift = wanted.shift_hours
    plans = [
        TierPlan(t.tier, t.name, AGENT_ROLE[t.tier], t.shrinkage, t.escalate_share, [],
                 t.share_min, t.share_max, shift_hours=shift)
        for t in wanted.tiers
    ]  # fmt: skip
    at = {p.tier: (p, t) for p, t in zip(plans, wanted.tiers, strict=True)}
    for channel in wanted.channels:
        tier_plan, tier = at[wanted.answered_by[channel.channel]]
        volume = channel.per_day * (1 - wanted.deflection)
        if volume:
            with _refused_at(wanted.path(f"channels.{channel.channel}.per_day")):
                tier_plan.channels.append(
                    _live(channel, volume, tier)
                    if channel.live
                    else _written(channel.channel, volume, tier, shift)
                )
    passed_on = 0.0
    for tier_plan, tier in zip(plans, wanted.tiers, strict=True):
        if passed_on:
            with _refused_at("channels"):  # the volume that reaches the tier is too much
                tier_plan.channels.append(_written(ESCALATED, passed_on, tier, shift))
        passed_on = tier_plan.escalated
        with _refused_at(wanted.path(f"tiers.{tier.tier}.shrinkage")):
            with_shrinkage(tier_plan.on_duty, tier_plan.shrinkage)  # refused here, named
    handled = wanted.per_day * (1 - wanted.deflection)  # the contacts people handle
    notes = list(wanted.notes)
    for p in plans:
        p.share = p.intake / handled if handled else None
        if p.in_range is False:
            notes.append(
                f"{p.name} takes {p.share * 100:.1f} % of the volume; the tier catalogue "
                f"expects {_share_range(p.share_min, p.share_max)} of it."
            )
    leaders = _leaders(sum(p.headcount for p in plans), span_limits)
    # a working team lead's own ticket time is capacity in the tier its teams work in
    lead_share = (hands_on or {}).get(LADDER[0], 0.0)
    front = plans[0] if plans else None
    if lead_share > 0 and front is not None:
        # the most agents the leads can stand in for that the leads of the smaller team
        # still cover (fewer agents may mean fewer leads: the largest consistent answer)
        total = sum(p.headcount for p in plans)
        most = min(math.floor(leaders.get(LADDER[0], 0) * lead_share + 1e-9), front.needed)
        for covered in range(most, 0, -1):
            fewer = _leaders(total - covered, span_limits)
            if covered <= math.floor(fewer.get(LADDER[0], 0) * lead_share + 1e-9):
                front.covered_by_leads, leaders = covered, fewer
                break
        if front.covered_by_leads:
            notes.append(
                f"{leaders.get(LADDER[0], 0)} team leads spend about {lead_share * 100:.0f} % of "
                f"their time on the {front.name} queue themselves: that stands in for "
                f"{front.covered_by_leads} agent{'s' if front.covered_by_leads != 1 else ''}."
            )
    agents = sum(p.headcount for p in plans)
    operations = []
    if agents >= OPS_TEAM_AT_AGENTS:
        specialists = 1 + (agents - OPS_TEAM_AT_AGENTS) // OPS_SPECIALIST_PER_AGENTS
        operations.append(
            (
                "systems-specialist",
                specialists,
                f"{agents} agents: a support-operations team is due from about "
                f"{OPS_TEAM_AT_AGENTS}, and one more specialist for every further "
                f"{OPS_SPECIALIST_PER_AGENTS}.",
            )
        )
        if specialists >= 2:
            operations.append(
                ("ops-manager", 1, f"{specialists} support-operations specialists need a lead.")
            )
    return Plan(shift, plans, leaders, operations, notes, wanted)
