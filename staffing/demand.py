"""The capacity plan's inputs: demand entered once, per channel, and the cascade it flows
through (Tier 0 self-service resolves a share; the rest reaches the tier that answers its
channel; each tier passes a share on to the tier it escalates to).

Every figure may be left out: it then comes from the tier catalogue where the catalogue
holds one (handling targets, the channels each tier answers, the escalation path, the
expected share of volume), else from the 85-FTE example organization, else from our own
example, and :attr:`Demand.sources` says which. Pure (no database): the catalogue comes in
as a :class:`Catalogue`, read by :func:`staffing.selectors.capacity_catalogue` or made from
the framework's own figures (:meth:`Catalogue.framework`).
"""

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from staffing.queueing import MAX_PATIENCE_S, CapacityError, _check

CHANNELS = ("phone", "chat", "email", "social", "tickets")
LIVE = ("phone", "chat")
CHANNEL_NAMES = {
    "phone": "Phone",
    "chat": "Chat",
    "email": "E-mail",
    "social": "Social media",
    "tickets": "Web tickets",
}
# the catalogue's channel (tiers.models.Tier.Channel) each kind of contact arrives on: a web
# ticket is answered in writing, as an e-mail is
ARRIVES_ON = {"phone": "phone", "chat": "chat", "email": "email", "social": "social",
              "tickets": "email"}  # fmt: skip
AGENT_ROLE = {"t1": "advocate", "t2": "tse", "t3": "architect"}

# --- the figures no catalogue row holds, with where they come from -----------------------


class Source(NamedTuple):
    """Where a figure came from: one of the origins below, and a note saying how. A figure
    the caller gave also keeps the default it replaced and where that came from."""

    origin: str
    note: str = ""
    default: float | None = None
    default_origin: str = ""


CATALOGUE = "the tier catalogue"
EXAMPLE_ORG = "the 85-FTE example organization"
OURS = "our example"
YOURS = "your figure"
ORIGINS = (YOURS, CATALOGUE, EXAMPLE_ORG, OURS)  # the order they are listed in

EXAMPLE_DAY = 4600  # contacts a day, before self-service
EXAMPLE_DAY_NOTE = (
    f"of an example day of {EXAMPLE_DAY:,} contacts (at these figures, about what the demo "
    "organization's 150 Tier 1 advocates answer)"
)
# the 85-FTE example organization's channel mix (60 % phone, 30 % e-mail and chat, 5 % social)
MIX = {"phone": 0.60, "chat": 0.15, "email": 0.15, "social": 0.05, "tickets": 0.05}
MIX_NOTE = {
    "phone": "60 % of contacts by phone",
    "chat": "its 30 % by e-mail and chat, split evenly (our split)",
    "email": "its 30 % by e-mail and chat, split evenly (our split)",
    "social": "5 % on social media",
    "tickets": "the 5 % its mix leaves (web forms: our reading)",
}
DEFLECTION = 0.40
DEFLECTION_NOTE = "its help center resolves 40 %"
ESCALATION = 0.20
CHANNEL_DEFAULTS = {
    "open_hours": (10.0, Source(OURS)),
    "busiest_hour_share": (0.15, Source(OURS, "15 % of a day's contacts in its busiest hour")),
    "target_share": (0.8, Source(OURS, "the common 80 % answered in time")),
    "target_s": (20.0, Source(OURS, "the common 80 % within 20 seconds")),
}
CHAT_DEFAULTS = {
    "target_s": (60.0, Source(OURS, "chats answered within a minute")),
    "concurrency": (2.0, Source(OURS)),
}
NONE_GIVEN = Source(OURS, "none: leave empty for none")
SHRINKAGE = {"t1": 0.35, "t2": 0.30, "t3": 0.25}  # our example
MAX_OCCUPANCY = 0.85
SHIFT_HOURS = 8.0
MAX_HANDLE_MINUTES = 7 * 24 * 60  # an issue may take up to a week of someone's time
# per channel, the fields a caller may give, and whether the channel takes them
CHANNEL_KEYS = ("per_day", "open_hours", "busiest_hour_share", "target_share", "target_s",
                "concurrency", "patience_s", "max_abandon_share")  # fmt: skip
TIER_KEYS = ("handle_minutes", "escalate_share", "shrinkage", "max_occupancy")
PERCENT_KEYS = ("deflection", "busiest_hour_share", "target_share", "max_abandon_share",
                "escalate_share", "shrinkage", "max_occupancy")  # fmt: skip


def takes(channel: str, key: str) -> bool:
    """Whether ``channel`` takes the input ``key`` (live channels have service targets)."""
    if key == "per_day":
        return True
    if key == "concurrency":
        return channel == "chat"
    return channel in LIVE


# --- the catalogue ----------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueTier:
    code: str
    name: str
    handling_minutes: int | None
    channels: tuple[str, ...]
    escalates_to: str | None
    share_min: float | None  # expected share of volume, per cent
    share_max: float | None


@dataclass(frozen=True)
class Catalogue:
    """The tiers as the capacity model reads them: ``chain`` is the staffed tiers in the
    order work escalates, starting where self-service sends it."""

    tiers: dict[str, CatalogueTier]
    chain: tuple[str, ...]
    self_service: str | None = None  # the name of Tier 0, when the catalogue has one

    @classmethod
    def of(cls, rows: list[CatalogueTier], self_service: tuple[str, str | None] | None):
        """From the catalogue's tiers (those a plan can staff) and Tier 0 (its name and the
        tier it sends work to). The chain starts where Tier 0 sends work (else at the
        lowest-ranked tier) and follows ``escalates_to`` while the tiers are staffable."""
        tiers = {row.code: row for row in rows}
        start = self_service[1] if self_service and self_service[1] in tiers else None
        start = start or (rows[0].code if rows else None)
        chain: list[str] = []
        while start in tiers and start not in chain:
            chain.append(start)
            start = tiers[start].escalates_to
        return cls(tiers, tuple(chain), self_service[0] if self_service else None)

    @classmethod
    def framework(cls) -> "Catalogue":
        """The catalogue as the framework ships it (tiers.framework.TIERS), for callers
        without a database."""
        from tiers.framework import TIERS

        rows = [
            CatalogueTier(
                spec["code"], spec["name"], spec["target_handling_minutes"],
                tuple(spec["channels"]), spec["escalates_to"],
                _float(spec.get("volume_share_min")), _float(spec.get("volume_share_max")),
            )
            for spec in TIERS if spec["code"] in AGENT_ROLE
        ]  # fmt: skip
        t0 = next((s for s in TIERS if "self_service" in s["channels"]), None)
        return cls.of(rows, (t0["name"], t0["escalates_to"]) if t0 else None)


def _float(value) -> float | None:
    return None if value is None else float(value)


# --- the parsed demand --------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    channel: str
    per_day: float  # contacts a day, before self-service
    open_hours: float = 8.0
    busiest_hour_share: float = 0.15
    target_share: float = 0.8
    target_s: float = 20.0
    concurrency: float = 1.0
    patience_s: float | None = None  # callers' mean patience (Erlang A); None: nobody hangs up
    max_abandon_share: float | None = None  # the most who may hang up (Erlang A only)

    @property
    def live(self) -> bool:
        return self.channel in LIVE

    @property
    def name(self) -> str:
        return CHANNEL_NAMES[self.channel]


@dataclass(frozen=True)
class TierDemand:
    tier: str
    name: str
    handle_s: float
    escalate_share: float  # of what reaches the tier, passed on (0 for the last)
    shrinkage: float
    max_occupancy: float
    share_min: float | None = None  # the catalogue's expected share of volume, per cent
    share_max: float | None = None


@dataclass
class Demand:
    shift_hours: float
    deflection: float
    channels: list[Channel]
    tiers: list[TierDemand]  # in the order work escalates
    answered_by: dict[str, str]  # channel → the tier new contacts on it reach
    self_service: str | None = None
    # every figure used, by its name (``tiers.t1.handle_minutes``): (value, where it came
    # from); a figure the caller gave is theirs unless it is the default
    sources: dict[str, tuple[float | None, Source]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)  # figure → where the caller gave it

    def path(self, name: str) -> str:
        """Where a refusal about figure ``name`` points: the caller's path if they gave it
        (``tiers[0].shrinkage``), else the figure's own name (``tiers.t1.shrinkage``)."""
        return self.paths.get(name, name)

    @property
    def per_day(self) -> float:
        return sum(c.per_day for c in self.channels)


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


def _rows(data: dict, key: str, name: str, allowed, keys) -> dict[str, tuple[str, dict]]:
    """The rows a caller gave under ``key`` (a list of objects each naming its ``name``), by
    that name, each with its path prefix (``channels[2].``)."""
    raw = data.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise CapacityError(key, f"must be a list of objects, each with its {name}")
    rows: dict[str, tuple[str, dict]] = {}
    for n, row in enumerate(raw):
        where = f"{key}[{n}]."
        if not isinstance(row, dict):
            raise CapacityError(f"{key}[{n}]", "must be an object")
        if not isinstance(row.get(name), str) or row[name] not in allowed:
            raise CapacityError(f"{where}{name}", f"must be one of {', '.join(allowed)}")
        if row[name] in rows:
            raise CapacityError(key, f"name each {name} once")
        unknown = sorted(set(row) - {name, *keys})
        if unknown:
            raise CapacityError(f"{where}{unknown[0]}", "is not an input of the plan")
        rows[row[name]] = (where, row)
    return rows


class _Figures:
    """Reads figures from what a caller gave, else from their default, and records each
    with where it came from."""

    def __init__(self):
        self.sources: dict[str, tuple[float | None, Source]] = {}
        self.paths: dict[str, str] = {}  # figure name → the path the caller gave it at

    def read(self, name, given, key, where, default, source, optional=False, **limits):
        if key in given and given[key] is not None:
            value = _number(given, key, where, **limits)
            self.paths[name] = f"{where}{key}"
            mine = default is None or not math.isclose(value, default, rel_tol=1e-9)
            shown = "none" if default is None else f"{default:,g}"
            self.sources[name] = (value, Source(
                YOURS, f"instead of {shown} ({source.origin})", default, source.origin
            ) if mine else source)  # fmt: skip
            return value
        if optional and default is None:
            self.sources[name] = (None, source)
            return None
        _check(name, default, **limits)  # a default the catalogue holds that cannot be used
        self.sources[name] = (default, source)
        return default


def parse(data, catalogue: Catalogue) -> Demand:
    """The plan's inputs from JSON-like data over the catalogue's defaults, every problem
    named by its path (``channels[0].per_day``)."""
    if not isinstance(data, dict):
        raise CapacityError("body", "must be an object (every input may be left out)")
    if not catalogue.chain:
        raise CapacityError("tiers", "the tier catalogue has no staffed tier to plan")
    figures = _Figures()
    shift = figures.read("shift_hours", data, "shift_hours", "", SHIFT_HOURS, Source(OURS),
                         low=1, high=24)  # fmt: skip
    deflection = figures.read(
        "deflection", data, "deflection", "", DEFLECTION, Source(EXAMPLE_ORG, DEFLECTION_NOTE),
        low=0, high=1, below=True,
    )  # fmt: skip
    given = _rows(data, "channels", "channel", CHANNELS, CHANNEL_KEYS)
    channels = [_channel(name, *given.get(name, ("", {})), shift, figures) for name in CHANNELS]
    given_tiers = _rows(data, "tiers", "tier", catalogue.chain, TIER_KEYS)
    answered_by, notes = _routes(catalogue)
    contacts = sum(c.per_day for c in channels)
    tiers: list[TierDemand] = []
    passed = 0.0  # of all the contacts people handle, the share passed on to this tier
    for n, code in enumerate(catalogue.chain):
        where, raw = given_tiers.get(code, ("", {}))
        reach = passed + _direct(code, channels, answered_by, contacts)
        after = catalogue.chain[n + 1] if n + 1 < len(catalogue.chain) else None
        direct = _direct(after, channels, answered_by, contacts) if after else 0.0
        tier = _tier(catalogue, n, where, raw, reach, direct, tiers, figures)
        tiers.append(tier)
        passed = reach * tier.escalate_share
    return Demand(shift, deflection, channels, tiers, answered_by, catalogue.self_service,
                  figures.sources, notes, figures.paths)  # fmt: skip


def _direct(code, channels, answered_by, contacts) -> float:
    """The share of all contacts that reach tier ``code`` first (on a channel it answers)."""
    if not contacts:
        return 1.0 if code and all(answered_by[c.channel] == code for c in channels) else 0.0
    return sum(c.per_day for c in channels if answered_by[c.channel] == code) / contacts


def _channel(name: str, where: str, raw: dict, shift: float, figures: _Figures) -> Channel:
    for key in raw:
        if key in CHANNEL_KEYS and key != "per_day" and not takes(name, key):
            raise CapacityError(f"{where}{key}", f"does not apply to {CHANNEL_NAMES[name]}")
    path = f"channels.{name}."
    volume = figures.read(
        path + "per_day", raw, "per_day", where, EXAMPLE_DAY * MIX[name],
        Source(EXAMPLE_ORG, f"{MIX_NOTE[name]}, {EXAMPLE_DAY_NOTE}"), low=0,
    )  # fmt: skip
    if name not in LIVE:
        return Channel(name, volume, open_hours=shift)
    defaults = {**CHANNEL_DEFAULTS, **(CHAT_DEFAULTS if name == "chat" else {})}

    def read(key, limits, optional=False):
        default, source = defaults.get(key, (None, NONE_GIVEN))
        return figures.read(path + key, raw, key, where, default, source, optional, **limits)

    open_hours = read("open_hours", {"low": 1, "high": 24})
    busiest = read("busiest_hour_share", {"low": 0, "high": 1, "strict": True})
    if busiest * open_hours < 1 - 1e-9:
        raise CapacityError(
            f"{where}busiest_hour_share" if "busiest_hour_share" in raw else f"{where}open_hours",
            f"the busiest hour must take at least an average hour's share (1 in "
            f"{open_hours:g} open hours: {100 / open_hours:.1f} %)",
        )
    return Channel(
        name,
        volume,
        open_hours=open_hours,
        busiest_hour_share=busiest,
        target_share=read("target_share", {"low": 0, "high": 1, "strict": True, "below": True}),
        target_s=read("target_s", {"low": 0}),
        concurrency=read("concurrency", {"low": 1}) if name == "chat" else 1.0,
        patience_s=read("patience_s", {"low": 0, "strict": True, "high": MAX_PATIENCE_S}, True),
        max_abandon_share=read("max_abandon_share", {"low": 0, "high": 1}, True),
    )


def _tier(catalogue, n, where, raw, reach, direct, earlier, figures) -> TierDemand:
    code = catalogue.chain[n]
    tier = catalogue.tiers[code]
    path = f"tiers.{code}."
    if tier.handling_minutes:
        minutes = float(tier.handling_minutes)
        source = Source(CATALOGUE, f"its handling target, {tier.handling_minutes} minutes or "
                        "less, taken as the average (a cautious figure)")  # fmt: skip
    elif earlier:
        minutes = earlier[-1].handle_s / 60 * 2
        source = Source(OURS, f"the catalogue sets no time limit here: twice "
                              f"{earlier[-1].name}'s")  # fmt: skip
    else:
        minutes, source = 15.0, Source(OURS)
    handle = figures.read(path + "handle_minutes", raw, "handle_minutes", where, minutes,
                          source, low=0, high=MAX_HANDLE_MINUTES, strict=True)  # fmt: skip
    after = catalogue.chain[n + 1] if n + 1 < len(catalogue.chain) else None
    if after is None:
        if raw.get("escalate_share") is not None and _number(
            raw, "escalate_share", where, low=0, high=1, below=True
        ):
            raise CapacityError(f"{where}escalate_share",
                                f"{tier.name} is the last tier: it passes nothing on")  # fmt: skip
        escalate = 0.0
    else:
        default, source = _escalation(catalogue.tiers[after], reach, direct)
        escalate = figures.read(path + "escalate_share", raw, "escalate_share", where, default,
                                source, low=0, high=1, below=True)  # fmt: skip
    return TierDemand(
        code,
        tier.name,
        handle * 60,
        escalate,
        shrinkage=figures.read(path + "shrinkage", raw, "shrinkage", where,
                               SHRINKAGE.get(code, 0.3), Source(OURS), low=0, high=1, below=True),
        max_occupancy=figures.read(path + "max_occupancy", raw, "max_occupancy", where,
                                   MAX_OCCUPANCY, Source(OURS, "a common ceiling"),
                                   low=0.1, high=1),
        share_min=tier.share_min,
        share_max=tier.share_max,
    )  # fmt: skip


def _escalation(after: CatalogueTier, reach: float, direct: float) -> tuple[float, Source]:
    """The share a tier passes on by default: enough for the next tier to take the middle
    of its expected share of volume when the catalogue gives one (counting what reaches
    that tier first, on a channel it answers), else our example. ``reach`` and ``direct``:
    of all the contacts people handle, the shares reaching this tier and reaching the next
    one first."""
    if after.share_min is not None or after.share_max is not None:
        low = after.share_min if after.share_min is not None else after.share_max
        high = after.share_max if after.share_max is not None else low
        middle = (low + high) / 2 / 100
        if reach > 0 and 0 <= middle - direct < reach:
            return (middle - direct) / reach, Source(
                CATALOGUE,
                f"so that {after.name} takes {middle * 100:g} % of the volume, the middle of "
                f"its expected {low:g}–{high:g} %"
                if low != high
                else f"so that {after.name} takes its expected {middle * 100:g} % of the volume",
            )
    return ESCALATION, Source(OURS, f"one issue in five needs {after.name}")


def _routes(catalogue: Catalogue) -> tuple[dict[str, str], list[str]]:
    """Which tier new contacts on each channel reach: the first on the escalation path that
    answers that channel in the catalogue, else the first tier (which sorts incoming work)."""
    answered_by, notes = {}, []
    first = catalogue.chain[0]
    for channel in CHANNELS:
        wanted = ARRIVES_ON[channel]
        answered_by[channel] = next(
            (code for code in catalogue.chain if wanted in catalogue.tiers[code].channels), None
        )
        if answered_by[channel] is None:
            answered_by[channel] = first
            notes.append(
                f"No tier answers {CHANNEL_NAMES[channel].lower()} in the tier catalogue: "
                f"{catalogue.tiers[first].name} takes it, as the first tier."
            )
    return answered_by, notes


def example() -> dict:
    """The plan's example input, as a client would send it (every figure spelled out; the
    same as sending ``{}`` against the catalogue as the framework ships it)."""
    demand = parse({}, Catalogue.framework())
    return as_input(demand)


def as_input(demand: Demand) -> dict:
    """A parsed demand back as input data."""
    values = {name: value for name, (value, _) in demand.sources.items()}
    return {
        "shift_hours": demand.shift_hours,
        "deflection": demand.deflection,
        "channels": [
            {"channel": c.channel, **{key: values[f"channels.{c.channel}.{key}"]
                                      for key in CHANNEL_KEYS
                                      if f"channels.{c.channel}.{key}" in values
                                      and values[f"channels.{c.channel}.{key}"] is not None}}
            for c in demand.channels
        ],
        "tiers": [
            {"tier": t.tier, **{key: values[f"tiers.{t.tier}.{key}"] for key in TIER_KEYS
                                if f"tiers.{t.tier}.{key}" in values}}
            for t in demand.tiers
        ],
    }  # fmt: skip
