"""``/capacity/``: demand per channel and what each tier handles in, a headcount plan out."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from roles.models import Role
from staffing import capacity, selectors
from staffing.scope import request_scope
from tiers.models import Tier

# the page starts from the plan the API documents (staffing.capacity.DEFAULT_INPUT)
CAPACITY_DEFAULTS = capacity.as_fields(capacity.DEFAULT_INPUT)
CAPACITY_TIERS = ("t1", "t2", "t3")
# the page's inputs per channel (and which channels have them) and per tier
CHANNEL_INPUTS = [
    ("volume", capacity.CHANNELS, "volume"),
    ("open_hours", capacity.LIVE, "open hours a day"),
    ("target_share", capacity.LIVE, "answered in time (%)"),
    ("target_s", capacity.LIVE, "within (seconds)"),
    ("concurrency", ("chat",), "chats at once"),
    ("patience_s", capacity.LIVE, "callers' patience (seconds)"),
    ("max_abandon_share", capacity.LIVE, "hang up at most (%)"),
]
PERCENT_INPUTS = capacity.PERCENT_KEYS
TIER_INPUTS = [
    ("share", "share of volume (%)"),
    ("shrinkage", "shrinkage (%)"),
    ("max_occupancy", "most occupancy (%)"),
    *((channel, f"{channel} minutes") for channel in capacity.CHANNELS),
]


def capacity_input(values) -> tuple[dict, dict[str, str]]:
    """The plan's JSON input from the page's fields (percentages and minutes as people type
    them), and which page field each input path came from."""

    def number(name, scale=1.0):
        raw = (values.get(name) or "").strip()
        if not raw:
            return None
        try:
            return float(raw) * scale
        except ValueError:
            return raw  # the model names it as not a number

    fields: dict[str, str] = {"shift_hours": "shift_hours"}
    channels = []
    for channel in capacity.CHANNELS:
        volume = number(f"{channel}-volume")
        if volume is None:
            continue
        n = len(channels)
        row = {"channel": channel, "volume": volume}
        for key, scale in (("open_hours", 1), ("target_share", 0.01), ("target_s", 1),
                           ("concurrency", 1), ("patience_s", 1),
                           ("max_abandon_share", 0.01)):  # fmt: skip
            value = number(f"{channel}-{key}", scale)
            if value is not None:
                row[key] = value
            fields[f"channels[{n}].{key}"] = f"{channel}-{key}"
        fields[f"channels[{n}].volume"] = f"{channel}-volume"
        channels.append(row)
    tiers = []
    for tier in CAPACITY_TIERS:
        share = number(f"{tier}-share", 0.01)
        if share is None:
            continue
        n = len(tiers)
        handle = {}
        for channel in capacity.CHANNELS:
            minutes = number(f"{tier}-{channel}", 60)
            if minutes is not None:
                handle[channel] = minutes
                fields[f"tiers[{n}].handle_s.{channel}"] = f"{tier}-{channel}"
        row = {"tier": tier, "share": share, "handle_s": handle}
        for key in ("shrinkage", "max_occupancy"):
            value = number(f"{tier}-{key}", 0.01)
            if value is not None:
                row[key] = value
            fields[f"tiers[{n}].{key}"] = f"{tier}-{key}"
        fields[f"tiers[{n}].share"] = f"{tier}-share"
        fields[f"tiers[{n}].handle_s"] = f"{tier}-{capacity.CHANNELS[0]}"
        tiers.append(row)
    data = {"shift_hours": number("shift_hours") or 8.0, "channels": channels, "tiers": tiers}
    return data, fields


@login_required
@require_GET
def capacity_page(request):
    """``/capacity/``: demand per channel and what each tier handles in, a headcount plan
    out (the same model as ``POST /api/capacity/plan/``). Nothing is written."""
    values = {**CAPACITY_DEFAULTS, **request.GET.dict()} if request.GET else CAPACITY_DEFAULTS
    plan = error = error_field = None
    data, fields = capacity_input(values)
    try:
        plan = selectors.capacity_plan(data)
    except capacity.CapacityError as bad:
        error, error_field = bad.message, fields.get(bad.field, bad.field)
        if error_field.endswith(PERCENT_INPUTS) and error.endswith((" 0", " 1")):
            error = error[:-1] + ("100 %" if error.endswith("1") else "0 %")  # as typed
    tiers = {t.code: t for t in Tier.objects.filter(code__in=CAPACITY_TIERS)}
    roles = dict(Role.objects.values_list("code", "name"))
    channel_rows = [
        {
            "channel": channel,
            "per": "per day" if channel == "tickets" else "in the busiest hour",
            "inputs": [
                (f"{channel}-{key}", values.get(f"{channel}-{key}", ""), f"{channel}: {label}")
                if channel in applies
                else None
                for key, applies, label in CHANNEL_INPUTS
            ],
        }
        for channel in capacity.CHANNELS
    ]
    tier_inputs = [
        {
            "code": code,
            "tier": tiers.get(code),
            "inputs": [
                (f"{code}-{key}", values.get(f"{code}-{key}", ""), f"{code}: {label}")
                for key, label in TIER_INPUTS
            ],
        }
        for code in CAPACITY_TIERS
    ]
    tier_rows = [
        {
            "plan": t,
            "tier": tiers.get(t.tier),
            "role": roles.get(t.role, t.role),
            "headcount": t.headcount(plan.shift_hours),
        }
        for t in (plan.tiers if plan else [])
    ]
    return render(
        request,
        "staffing/capacity.html",
        {
            "values": values,
            "plan": plan,
            "error": error,
            "error_field": error_field,
            "channel_rows": channel_rows,
            "tier_inputs": tier_inputs,
            "roles": roles,
            "tier_rows": tier_rows,
            "by_role": [(roles.get(code, code), n) for code, n in plan.by_role.items()]
            if plan
            else [],
            "scope": request_scope(request),
            "may_draft": request_scope(request).edits_all or request_scope(request).root,
        },
        status=400 if error else 200,
    )
