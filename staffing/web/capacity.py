"""``/capacity/``: a day's demand per channel in, flowing through the tiers as the catalogue
describes them; a headcount plan out, with where every starting figure came from."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from roles.models import Role
from staffing import capacity, demand, selectors
from staffing.scope import request_scope
from tiers.models import Tier

# the page's inputs: (key, label, unit) per channel and per tier; percentages are typed in
# per cent, handling times in minutes
CHANNEL_INPUTS = [
    ("per_day", "contacts a day", ""),
    ("open_hours", "open hours a day", ""),
    ("busiest_hour_share", "busiest hour (% of the day)", "%"),
    ("target_share", "answered in time (%)", "%"),
    ("target_s", "within (seconds)", ""),
    ("concurrency", "chats at once", ""),
    ("patience_s", "callers' patience (seconds)", ""),
    ("max_abandon_share", "hang up at most (%)", "%"),
]
TIER_INPUTS = [
    ("handle_minutes", "minutes per issue", ""),
    ("escalate_share", "passed on (%)", "%"),
    ("shrinkage", "shrinkage (%)", "%"),
    ("max_occupancy", "most occupancy (%)", "%"),
]
TOP_INPUTS = [("deflection", "self-service resolves (%)"), ("shift_hours", "hours in a shift")]


def _shown(value: float) -> str:
    """A number as a person types it: 80, 7, 0.5 (no trailing .0)."""
    return f"{round(value, 6):g}"


def _starting_figures(catalogue) -> dict[str, str]:
    """The page's fields as they start, from the catalogue (none if it cannot be planned)."""
    try:
        return as_fields(demand.parse({}, catalogue))
    except capacity.CapacityError:
        return {}


def field_name(path: str) -> str:
    """The page field of a figure's name: ``channels.phone.per_day`` → ``phone-per_day``."""
    parts = path.split(".")
    return parts[0] if len(parts) == 1 else f"{parts[1]}-{parts[2]}"


def as_fields(wanted: demand.Demand) -> dict[str, str]:
    """A parsed demand's figures as the page's fields (per cent, minutes), empty for none."""
    fields = {}
    for path, (value, _) in wanted.sources.items():
        key = path.rsplit(".", 1)[-1]
        scale = 100 if key in demand.PERCENT_KEYS else 1
        fields[field_name(path)] = "" if value is None else _shown(value * scale)
    return fields


def capacity_input(values) -> tuple[dict, dict[str, str]]:
    """The plan's JSON input from the page's fields (percentages and minutes as people type
    them; an empty field takes its default), and which page field each input path came
    from."""

    def number(name, scale=1.0):
        raw = (values.get(name) or "").strip()
        if not raw:
            return None
        try:
            return float(raw) * scale
        except ValueError:
            return raw  # the model names it as not a number

    data: dict = {}
    fields: dict[str, str] = {}
    for key, _ in TOP_INPUTS:
        value = number(key, 0.01 if key in demand.PERCENT_KEYS else 1)
        if value is not None:
            data[key] = value
        fields[key] = key
    for group, names, inputs in (
        ("channels", demand.CHANNELS, CHANNEL_INPUTS),
        ("tiers", values_tiers(values), TIER_INPUTS),
    ):
        rows = []
        for name in names:
            row = {group[:-1]: name}
            for key, _, unit in inputs:
                value = number(f"{name}-{key}", 0.01 if unit == "%" else 1)
                if value is not None:
                    row[key] = value
                    fields[f"{group}[{len(rows)}].{key}"] = f"{name}-{key}"
            if len(row) > 1:
                rows.append(row)
        if rows:
            data[group] = rows
    return data, fields


def plan_fields(values) -> dict[str, str]:
    """The page's plan fields among ``values`` (a posted form carries others too)."""
    names = {key for key, _ in TOP_INPUTS}
    names |= {f"{c}-{key}" for c in demand.CHANNELS for key, _, _ in CHANNEL_INPUTS}
    names |= {f"{t}-{key}" for t in demand.AGENT_ROLE for key, _, _ in TIER_INPUTS}
    return {k: v for k, v in values.items() if k in names}


def values_tiers(values) -> list[str]:
    """The tiers the page's fields name, in the catalogue's order."""
    return [code for code in demand.AGENT_ROLE if any(k.startswith(f"{code}-") for k in values)]


def _label(path: str, tiers: dict[str, Tier]) -> str:
    parts = path.split(".")
    labels = {key: label for key, label, _ in (*CHANNEL_INPUTS, *TIER_INPUTS)}
    if len(parts) == 1:
        return dict(TOP_INPUTS)[path].capitalize()
    owner = demand.CHANNEL_NAMES.get(parts[1]) or getattr(tiers.get(parts[1]), "name", parts[1])
    return f"{owner}: {labels[parts[2]]}"


def _shown_value(path: str, value: float) -> str:
    key = path.rsplit(".", 1)[-1]
    if key in demand.PERCENT_KEYS:
        return f"{_shown(value * 100)} %"
    return f"{value:,.0f}" if key == "per_day" else _shown(value)


def sources(plan: capacity.Plan, tiers: dict[str, Tier]) -> list[dict]:
    """Where the plan's figures came from: per origin (the caller's own first, then the
    catalogue, the example organization, our example), each figure with its value and how
    it was arrived at."""
    grouped: dict[str, list[tuple[str, str, str]]] = {}
    for path, (value, source) in plan.demand.sources.items():
        if value is None:
            continue  # an optional input left empty
        note = source.note
        if source.origin == demand.YOURS:
            was = "none" if source.default is None else _shown_value(path, source.default)
            note = f"instead of {was} ({source.default_origin})"
        grouped.setdefault(source.origin, []).append(
            (_label(path, tiers), _shown_value(path, value), note)
        )
    return [
        {"origin": origin, "rows": grouped[origin]}
        for origin in demand.ORIGINS
        if origin in grouped
    ]


def cascade(plan: capacity.Plan, tiers: dict[str, Tier]) -> list[dict]:
    """The picture of where a day's contacts go: a bar per step, as a share of all contacts
    (the tiers' bars split into what they solve and what they pass on)."""
    total = plan.contacts or 1.0
    rows = [
        {"name": "Contacts a day", "value": plan.contacts, "parts": [
            {"width": 100.0, "kind": "all", "title": f"{plan.contacts:,.0f} contacts"}]},
        {"name": plan.demand.self_service or "Self-service", "value": plan.self_served,
         "parts": [{"width": plan.self_served / total * 100, "kind": "self",
                    "title": f"{plan.self_served:,.0f} solved by self-service"}]},
    ]  # fmt: skip
    for t in plan.tiers:
        tier = tiers.get(t.tier)
        rows.append({
            "name": t.name,
            "value": t.intake,
            "colour": tier.colour if tier else "#6b7280",
            "detail": f"{t.resolved:,.0f} solved, {t.escalated:,.0f} passed on"
            if t.escalated else f"{t.resolved:,.0f} solved",
            "parts": [
                {"width": t.resolved / total * 100, "kind": "solved",
                 "title": f"{t.resolved:,.0f} solved at {t.name}"},
                {"width": t.escalated / total * 100, "kind": "passed",
                 "title": f"{t.escalated:,.0f} passed on"},
            ],
        })  # fmt: skip
    return rows


def people(plan: capacity.Plan, tiers: dict[str, Tier]) -> list[dict]:
    """The picture of people per tier: those at work on a day, those shrinkage adds, and
    the agents the team leads stand in for, against the largest tier."""
    widest = max((t.needed for t in plan.tiers), default=0) or 1
    rows = []
    for t in plan.tiers:
        tier = tiers.get(t.tier)
        at_work = min(t.on_duty, t.needed)
        extra = t.needed - at_work
        rows.append({
            "name": t.name,
            "colour": tier.colour if tier else "#6b7280",
            "headcount": t.headcount,
            "at_work": at_work,
            "extra": extra,
            "covered": t.covered_by_leads,
            "service_level": t.service_level,
            "busy": t.busy,
            "parts": [
                {"width": max(0, at_work - t.covered_by_leads) / widest * 100, "kind": "work",
                 "title": f"{at_work - t.covered_by_leads} agents at work in a day's shifts"},
                {"width": t.covered_by_leads / widest * 100, "kind": "leads",
                 "title": f"{t.covered_by_leads} covered by the team leads' own queue time"},
                {"width": extra / widest * 100, "kind": "shrink",
                 "title": f"{extra} more for shrinkage ({t.shrinkage * 100:.0f} %)"},
            ],
        })  # fmt: skip
    return rows


@login_required
@require_GET
def capacity_page(request):
    """``/capacity/``: demand per channel in, through the tiers' cascade, a headcount plan
    out (the same model as ``POST /api/capacity/plan/``). Nothing is written."""
    catalogue = selectors.capacity_catalogue()
    # only what the caller typed: an empty field takes its starting figure, which the page
    # shows as the field's placeholder (so a figure that follows another, as Tier 2's share
    # passed on follows Tier 1's, keeps following it)
    values = {k: v for k, v in plan_fields(request.GET.dict()).items() if v.strip()}
    plan = error = error_field = None
    data, fields = capacity_input(values)
    try:
        plan = selectors.capacity_plan(data, catalogue)
    except capacity.CapacityError as bad:
        error, error_field = bad.message, fields.get(bad.field, bad.field)
        if error_field.endswith(tuple(demand.PERCENT_KEYS)) and error.endswith((" 0", " 1")):
            error = error[:-1] + ("100 %" if error.endswith("1") else "0 %")  # as typed
    shown = as_fields(plan.demand) if plan else _starting_figures(catalogue)
    tiers = {t.code: t for t in Tier.objects.filter(code__in=catalogue.chain)}
    roles = dict(Role.objects.values_list("code", "name"))

    said = {field_name(path): source for path, (_, source) in plan.demand.sources.items()} \
        if plan else {}  # fmt: skip

    def why(name: str) -> str:
        source = said.get(name)
        if source is None or source.origin == demand.YOURS:
            return ""
        return f"{source.origin}: {source.note}" if source.note else source.origin

    def field(name, label):
        return {"name": name, "value": values.get(name, ""), "placeholder": shown.get(name, ""),
                "label": label, "why": why(name)}  # fmt: skip

    def inputs(name, specs, applies=lambda key: True):
        return [field(f"{name}-{key}", label) if applies(key) else None for key, label, _ in specs]

    channel_rows = [
        {"channel": c, "name": demand.CHANNEL_NAMES[c],
         "inputs": inputs(c, CHANNEL_INPUTS, lambda key, c=c: demand.takes(c, key))}
        for c in demand.CHANNELS
    ]  # fmt: skip
    last = catalogue.chain[-1] if catalogue.chain else None
    tier_inputs = [
        {"code": code, "tier": tiers.get(code), "answers": ", ".join(
            demand.CHANNEL_NAMES[c] for c in demand.CHANNELS
            if plan and plan.demand.answered_by.get(c) == code),
         "inputs": inputs(code, TIER_INPUTS,
                          lambda key, code=code: key != "escalate_share" or code != last)}
        for code in catalogue.chain
    ]  # fmt: skip
    top_inputs = [field(key, label) for key, label in TOP_INPUTS]
    tier_rows = [
        {"plan": t, "tier": tiers.get(t.tier), "role": roles.get(t.role, t.role),
         "headcount": t.headcount}
        for t in (plan.tiers if plan else [])
    ]  # fmt: skip
    scope = request_scope(request)
    return render(
        request,
        "staffing/capacity.html",
        {
            "values": values,
            "plan": plan,
            "error": error,
            "error_field": error_field,
            "top_inputs": top_inputs,
            "channel_rows": channel_rows,
            "tier_inputs": tier_inputs,
            "channel_heads": [label for _, label, _ in CHANNEL_INPUTS],
            "tier_heads": [label for _, label, _ in TIER_INPUTS],
            "tier_rows": tier_rows,
            "cascade": cascade(plan, tiers) if plan else [],
            "people": people(plan, tiers) if plan else [],
            "sources": sources(plan, tiers) if plan else [],
            "by_role": [(roles.get(code, code), n) for code, n in plan.by_role.items()]
            if plan
            else [],
            "scope": scope,
            "may_draft": scope.edits_all or scope.root,
        },
        status=400 if error else 200,
    )
