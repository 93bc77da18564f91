"""The capacity model: from demand to the agents each tier needs, then the leaders the span
rules call for. Pure arithmetic (no database), so the API, the page and scenario generation
share it.

* Phone and chat are sized with the **Erlang C** model (callers wait in one queue, served
  first come, first served, nobody hangs up): the fewest agents whose service level (the
  share answered within the target time) reaches the target and whose occupancy stays
  under the maximum. Chat agents may hold several conversations at once (``concurrency``).
* Given the callers' average **patience**, the **Erlang A** model (Palm's M/M/n+M queue)
  sizes the same queue with callers who hang up once their wait outlasts a patience drawn
  at random (exponential with that mean); a cap on the share who hang up can be added.
* Ticket queues are sized by **workload**: tickets × handling time over the hours an agent
  is productive in a day (after shrinkage and at the maximum occupancy).
* **Shrinkage** (breaks, training, absence) turns agents needed at any moment into people
  to employ: ``ceil(agents / (1 − shrinkage))``.

The queueing formulas themselves (Erlang B, C and A) are in :mod:`staffing.queueing`.
"""

import math
from dataclasses import dataclass

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
    agents = math.ceil(workload / (hours_per_day * max_occupancy) - 1e-9)
    if agents > MAX_AGENTS:
        raise CapacityError("items_per_day", "needs more than 100,000 agents")
    return agents, workload


def with_shrinkage(agents: int, shrinkage: float) -> int:
    """People to employ so that ``agents`` are working once ``shrinkage`` (a share of paid
    time lost to breaks, training and absence) is taken out."""
    _check("shrinkage", shrinkage, low=0, high=1, below=True)
    return math.ceil(agents / (1 - shrinkage) - 1e-9) if agents else 0


# --- a headcount plan from demand ---------------------------------------------------------

LIVE = ("phone", "chat")
CHANNELS = ("phone", "chat", "tickets")
# the agent role each tier is staffed with, and the management ladder above agents
AGENT_ROLE = {"t1": "advocate", "t2": "tse", "t3": "architect"}
LADDER = ("team-lead", "advocate-manager", "senior-advocate-manager", "director")
# growth tipping points (our reading of the framework): a support-operations team once
# there are about ten agents, one more specialist for every further fifty, and someone to
# lead them once there are two
OPS_TEAM_AT_AGENTS = 10
OPS_SPECIALIST_PER_AGENTS = 50


@dataclass(frozen=True)
class Channel:
    channel: str
    volume: float  # per hour for phone and chat, per day for tickets
    open_hours: float = 8.0
    target_share: float = 0.8
    target_s: float = 20.0
    concurrency: float = 1.0
    patience_s: float | None = None  # callers' mean patience (Erlang A); None: nobody hangs up
    max_abandon_share: float | None = None  # the most who may hang up (Erlang A only)


@dataclass(frozen=True)
class TierDemand:
    tier: str
    share: float
    shrinkage: float
    max_occupancy: float
    handle_s: dict[str, float]


@dataclass
class ChannelPlan:
    channel: str
    volume: float
    agents: int  # on duty at once (live) or over a shift (tickets)
    staffed_hours: float  # agent-hours a day
    service_level: float | None = None
    average_speed_of_answer: float | None = None
    occupancy: float | None = None
    workload_hours: float | None = None
    abandon_share: float | None = None  # callers who hang up unanswered (Erlang A)

    @property
    def abandon_percent(self) -> float | None:
        return None if self.abandon_share is None else self.abandon_share * 100


@dataclass
class TierPlan:
    tier: str
    role: str
    share: float
    shrinkage: float
    channels: list[ChannelPlan]
    covered_by_leads: int = 0  # agents the team leads' own ticket time stands in for

    @property
    def agent_hours(self) -> float:
        return sum(c.staffed_hours for c in self.channels)

    def needed(self, shift_hours: float) -> int:
        """People to employ for the tier's work, before the leads' share."""
        return with_shrinkage(math.ceil(self.agent_hours / shift_hours - 1e-9), self.shrinkage)

    def headcount(self, shift_hours: float) -> int:
        return max(0, self.needed(shift_hours) - self.covered_by_leads)


@dataclass
class Plan:
    shift_hours: float
    tiers: list[TierPlan]
    leaders: dict[str, int]
    operations: list[tuple[str, int, str]]  # role, count, why
    notes: list[str]

    @property
    def agents(self) -> int:
        return sum(t.headcount(self.shift_hours) for t in self.tiers)

    @property
    def total(self) -> int:
        return self.agents + sum(self.leaders.values()) + sum(n for _, n, _ in self.operations)

    @property
    def by_role(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.tiers:
            counts[t.role] = counts.get(t.role, 0) + t.headcount(self.shift_hours)
        for role, n in [*self.leaders.items(), *((r, n) for r, n, _ in self.operations)]:
            counts[role] = counts.get(role, 0) + n
        return {role: n for role, n in counts.items() if n}


def _number(data: dict, key: str, where: str, default=None, **limits) -> float:
    value = data.get(key, default)
    if value is None:
        raise CapacityError(f"{where}{key}", "is required")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise CapacityError(f"{where}{key}", "must be a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CapacityError(f"{where}{key}", "must be a number")
    try:
        value = float(value)  # an integer too large for a float overflows here
    except OverflowError:
        raise CapacityError(f"{where}{key}", "must be a number") from None
    if not math.isfinite(value):
        raise CapacityError(f"{where}{key}", "must be a number")
    _check(f"{where}{key}", value, **limits)
    return float(value)


# The plan the pages and the API start from (an example day of a three-tier organization);
# every figure can be overridden. The page's fields show the same numbers as people type them
# (:func:`as_fields`).
DEFAULT_INPUT = {
    "shift_hours": 8,
    "channels": [
        {"channel": "phone", "volume": 120, "open_hours": 10, "target_share": 0.8, "target_s": 20},
        {"channel": "chat", "volume": 60, "open_hours": 10, "target_share": 0.8, "target_s": 60,
         "concurrency": 2},
        {"channel": "tickets", "volume": 400},
    ],
    "tiers": [
        {"tier": "t1", "share": 0.75, "shrinkage": 0.35, "max_occupancy": 0.85,
         "handle_s": {"phone": 420, "chat": 600, "tickets": 600}},
        {"tier": "t2", "share": 0.18, "shrinkage": 0.3, "max_occupancy": 0.85,
         "handle_s": {"tickets": 1800}},
        {"tier": "t3", "share": 0.07, "shrinkage": 0.25, "max_occupancy": 0.85,
         "handle_s": {"tickets": 7200}},
    ],
}  # fmt: skip
PERCENT_KEYS = ("share", "shrinkage", "max_occupancy", "target_share", "max_abandon_share")


def _optional(data: dict, key: str, where: str, **limits) -> float | None:
    """An input that may be left out (or null): None then."""
    return None if data.get(key) is None else _number(data, key, where, **limits)


def _shown(value: float) -> str:
    """A number as a person types it: 80, 7, 0.5 (no trailing .0)."""
    return f"{value:g}"


def as_fields(data: dict) -> dict[str, str]:
    """A plan's input as the capacity page's fields: ``<channel>-<key>`` and ``<tier>-<key>``,
    percentages in per cent and handling times in minutes."""
    fields = {"shift_hours": _shown(data["shift_hours"])}
    for row in data["channels"]:
        for key, value in row.items():
            if key != "channel":
                scale = 100 if key in PERCENT_KEYS else 1
                fields[f"{row['channel']}-{key}"] = _shown(value * scale)
    for row in data["tiers"]:
        for key, value in row.items():
            if key == "handle_s":
                for channel, seconds in value.items():
                    fields[f"{row['tier']}-{channel}"] = _shown(seconds / 60)
            elif key != "tier":
                fields[f"{row['tier']}-{key}"] = _shown(value * 100)
    return fields


def parse(data: dict) -> tuple[float, list[Channel], list[TierDemand]]:
    """The plan's inputs from JSON-like data, every problem named by its path."""
    if not isinstance(data, dict):
        raise CapacityError("body", "must be an object with channels and tiers")
    shift = _number(data, "shift_hours", "", 8.0, low=0, high=24, strict=True)
    channels, tiers = [], []
    raw_channels = data.get("channels")
    if not isinstance(raw_channels, list) or not raw_channels:
        raise CapacityError("channels", "give at least one channel")
    for n, raw in enumerate(raw_channels):
        where = f"channels[{n}]."
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("channel"), str)
            or (raw["channel"] not in CHANNELS)
        ):
            raise CapacityError(f"{where}channel", f"must be one of {', '.join(CHANNELS)}")
        live = raw["channel"] in LIVE
        channels.append(
            Channel(
                channel=raw["channel"],
                volume=_number(raw, "volume", where, low=0),
                open_hours=_number(raw, "open_hours", where, shift, low=0, high=24, strict=True)
                if live
                else shift,
                target_share=_number(
                    raw, "target_share", where, 0.8, low=0, high=1, strict=True, below=True
                ),
                target_s=_number(raw, "target_s", where, 20.0, low=0),
                concurrency=_number(raw, "concurrency", where, 1.0, low=1)
                if raw["channel"] == "chat"
                else 1.0,
                patience_s=_optional(
                    raw, "patience_s", where, low=0, strict=True, high=MAX_PATIENCE_S
                )
                if live
                else None,
                max_abandon_share=_optional(raw, "max_abandon_share", where, low=0, high=1)
                if live
                else None,
            )
        )
    if len({c.channel for c in channels}) < len(channels):
        raise CapacityError("channels", "name each channel once")
    raw_tiers = data.get("tiers")
    if not isinstance(raw_tiers, list) or not raw_tiers:
        raise CapacityError("tiers", "give at least one tier")
    for n, raw in enumerate(raw_tiers):
        where = f"tiers[{n}]."
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("tier"), str)
            or (raw["tier"] not in AGENT_ROLE)
        ):
            raise CapacityError(f"{where}tier", f"must be one of {', '.join(AGENT_ROLE)}")
        handle = raw.get("handle_s")
        if not isinstance(handle, dict) or not handle:
            raise CapacityError(f"{where}handle_s", "give the handling time of each channel")
        for channel in handle:
            if channel not in CHANNELS:
                raise CapacityError(f"{where}handle_s", f"unknown channel {channel!r}")
        tiers.append(
            TierDemand(
                tier=raw["tier"],
                share=_number(raw, "share", where, low=0, high=1, strict=True),
                shrinkage=_number(raw, "shrinkage", where, 0.3, low=0, high=1, below=True),
                max_occupancy=_number(
                    raw, "max_occupancy", where, 0.85, low=0, high=1, strict=True
                ),
                handle_s={
                    c: _number(handle, c, f"{where}handle_s.", low=0, strict=True) for c in handle
                },
            )
        )
    if len({t.tier for t in tiers}) < len(tiers):
        raise CapacityError("tiers", "name each tier once")
    for channel in channels:
        if channel.volume and not any(channel.channel in t.handle_s for t in tiers):
            raise CapacityError("tiers", f"no tier takes {channel.channel}: give a handle_s")
    return shift, channels, tiers


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


def plan(
    data: dict,
    *,
    span_limits: dict[str, tuple[int | None, int | None]],
    hands_on: dict[str, float] | None = None,
) -> Plan:
    """A headcount plan: agents per tier and channel, then leaders from the span limits
    (role code → (most direct reports, largest whole team)), then support operations.

    Each channel's volume is split between the tiers that handle it in proportion to their
    shares (a tier takes a channel when it has a handling time for it). Live channels are
    sized for their volume per hour and staffed for their opening hours; tickets by the
    day's workload.

    ``hands_on`` (role code → share of a person's time): leaders who also do the work. A
    working team lead's share (the catalogue's 100 % less its supervision share: 20 %)
    stands in for agents of Tier 1, whose teams they lead, so the plan asks for fewer
    agents, and then perhaps fewer leads (the most agents the leads of the smaller team
    still stand in for)."""
    shift, channels, tiers = parse(data)
    plans = [TierPlan(t.tier, AGENT_ROLE[t.tier], t.share, t.shrinkage, []) for t in tiers]
    notes = []
    for channel in channels:
        takers = [
            (t, p) for t, p in zip(tiers, plans, strict=True) if channel.channel in t.handle_s
        ]
        shares = sum(t.share for t, _ in takers)
        for demand, tier_plan in takers:
            volume = channel.volume * demand.share / shares if shares else 0.0
            handle = demand.handle_s[channel.channel]
            if channel.channel in LIVE:
                queue = agents_for_queue(
                    contacts_per_hour=volume,
                    handle_s=handle,
                    target_share=channel.target_share,
                    target_s=channel.target_s,
                    max_occupancy=demand.max_occupancy,
                    concurrency=channel.concurrency,
                    patience_s=channel.patience_s,
                    max_abandon_share=channel.max_abandon_share,
                )
                tier_plan.channels.append(
                    ChannelPlan(
                        channel.channel,
                        volume,
                        queue.agents,
                        queue.agents * channel.open_hours,
                        service_level=queue.service_level,
                        average_speed_of_answer=queue.average_speed_of_answer,
                        occupancy=queue.occupancy,
                        abandon_share=queue.abandon_probability
                        if channel.patience_s is not None
                        else None,
                    )
                )
            else:
                agents, workload = agents_for_backlog(
                    items_per_day=volume,
                    handle_s=handle,
                    hours_per_day=shift,
                    max_occupancy=demand.max_occupancy,
                )
                tier_plan.channels.append(
                    ChannelPlan(
                        channel.channel, volume, agents, agents * shift, workload_hours=workload
                    )
                )
    total_share = sum(t.share for t in tiers)
    if abs(total_share - 1) > 0.005:
        notes.append(f"The tiers' shares add up to {total_share:.0%}, not 100 %.")
    leaders = _leaders(sum(p.headcount(shift) for p in plans), span_limits)
    # a working team lead's own ticket time is capacity in the tier its teams work in
    lead_share = (hands_on or {}).get(LADDER[0], 0.0)
    front = next((p for p in plans if p.tier == "t1"), plans[0] if plans else None)
    if lead_share > 0 and front is not None:
        # the most agents the leads can stand in for that the leads of the smaller team
        # still cover (fewer agents may mean fewer leads: the largest consistent answer)
        total = sum(p.headcount(shift) for p in plans)
        most = min(math.floor(leaders.get(LADDER[0], 0) * lead_share + 1e-9), front.needed(shift))
        for covered in range(most, 0, -1):
            fewer = _leaders(total - covered, span_limits)
            if covered <= math.floor(fewer.get(LADDER[0], 0) * lead_share + 1e-9):
                front.covered_by_leads, leaders = covered, fewer
                break
        if front.covered_by_leads:
            notes.append(
                f"{leaders.get(LADDER[0], 0)} team leads spend about {lead_share * 100:.0f} % of "
                f"their time on the Tier {front.tier[1:]} queue themselves: that stands in for "
                f"{front.covered_by_leads} agent{'s' if front.covered_by_leads != 1 else ''}."
            )
    agents = sum(p.headcount(shift) for p in plans)
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
    return Plan(shift, plans, leaders, operations, notes)
