"""``POST /api/capacity/plan/``: demand in, a headcount plan out (:mod:`staffing.capacity`).
Nothing is written; a scenario built from a plan is a separate step."""

import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from roles.models import Role
from staffing import capacity, demand
from staffing.selectors import capacity_plan

EXAMPLE_INPUT = demand.example()  # every figure spelled out: the same as sending {}


# --- the request: what POST /api/capacity/plan/ takes (checked by staffing.demand.parse,
# whose refusals name the field by its path; these describe it for clients and the schema)


def figure(help_text: str) -> serializers.FloatField:
    """An input of the plan: a number that may be left out or null (its default is used)."""
    return serializers.FloatField(required=False, allow_null=True, help_text=help_text)


class ChannelInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(demand.CHANNELS)
    per_day = figure("Contacts a day on this channel, before self-service.")
    open_hours = figure("Live channels: hours a day it is open (default 10).")
    busiest_hour_share = figure(
        "Live channels: the share of the day's contacts in the busiest hour "
        "(0–1, at least 1/open_hours; default 0.15). The other open hours share the rest."
    )
    target_share = figure("Live channels: share to answer within target_s (0–1).")
    target_s = figure("Live channels: seconds.")
    concurrency = figure("Chat only: conversations an agent holds at once.")
    patience_s = figure(
        "Live channels: callers' mean patience in seconds: sizes the channel with "
        "Erlang A (callers hang up); empty: Erlang C (nobody does)."
    )
    max_abandon_share = figure("With patience_s: the most who may hang up (0–1).")


class TierInputSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(list(demand.AGENT_ROLE))
    handle_minutes = figure("Minutes an issue takes here (default: the catalogue's target).")
    escalate_share = figure(
        "Of the issues reaching this tier, the share passed on to the tier it "
        "escalates to (0–1; not for the last tier)."
    )
    shrinkage = figure("0–1.")
    max_occupancy = figure("0–1 (default 0.85).")


class PlanInputSerializer(serializers.Serializer):
    """Every figure may be left out; it then starts from the tier catalogue (or the example
    organization, or our example), and the answer's ``inputs`` says which."""

    shift_hours = figure("Default 8.")
    deflection = figure("The share of contacts self-service (Tier 0) solves (0–1).")
    channels = ChannelInputSerializer(many=True, required=False)
    tiers = TierInputSerializer(many=True, required=False)


# --- the answer


class ChannelResultSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="A channel, or `escalated` (from the tier before).")
    volume = serializers.FloatField(help_text="A day's contacts reaching the tier on it.")
    busiest_hour = serializers.FloatField(allow_null=True, help_text="Live channels.")
    agents = serializers.IntegerField(
        help_text="On duty in the busiest hour (live) or over a shift (written work)."
    )
    staffed_hours = serializers.FloatField(help_text="Agent-hours a day.")
    workload_hours = serializers.FloatField(help_text="Hours of handling a day.")
    service_level = serializers.FloatField(allow_null=True)
    average_speed_of_answer_s = serializers.FloatField(allow_null=True)
    occupancy = serializers.FloatField(allow_null=True, help_text="In the busiest hour.")
    abandon_share = serializers.FloatField(
        allow_null=True, help_text="Callers who hang up unanswered (Erlang A only)."
    )


class TierResultSerializer(serializers.Serializer):
    tier = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField(help_text="The agent role the tier is staffed with.")
    intake = serializers.FloatField(help_text="A day's issues reaching the tier.")
    resolved = serializers.FloatField()
    escalated = serializers.FloatField(help_text="Passed on to the next tier.")
    share = serializers.FloatField(help_text="Of the issues people handle, the share reaching it.")
    catalogue_share_min = serializers.FloatField(allow_null=True, help_text="Per cent.")
    catalogue_share_max = serializers.FloatField(allow_null=True, help_text="Per cent.")
    service_level = serializers.FloatField(
        allow_null=True, help_text="Live channels, weighted by volume."
    )
    busy = serializers.FloatField(allow_null=True, help_text="Workload over staffed hours.")
    shrinkage = serializers.FloatField()
    agent_hours_per_day = serializers.FloatField()
    headcount = serializers.IntegerField(help_text="People to employ, after shrinkage.")
    covered_by_leads = serializers.IntegerField(
        help_text="Agents the team leads' own queue time stands in for (first tier)."
    )
    channels = ChannelResultSerializer(many=True)


class RoleCountSerializer(serializers.Serializer):
    role = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class OperationSerializer(RoleCountSerializer):
    why = serializers.CharField()


class FigureSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="`deflection`, `channels.phone.per_day`, …")
    value = serializers.FloatField(allow_null=True)
    origin = serializers.ChoiceField(
        demand.ORIGINS, help_text="Where the figure came from (`your figure`: you gave it)."
    )
    note = serializers.CharField(help_text="How it was arrived at; may be empty.")


class PlanSerializer(serializers.Serializer):
    """The plan: the cascade (contacts, self-service, per tier what reaches it, is solved
    and passed on), per tier and channel the agents and how the queue performs, people to
    employ per tier after shrinkage, leaders from the span rules, support operations,
    totals, and every input figure with its source."""

    shift_hours = serializers.FloatField()
    contacts_per_day = serializers.FloatField()
    self_served = serializers.FloatField()
    tiers = TierResultSerializer(many=True)
    leaders = RoleCountSerializer(many=True)
    operations = OperationSerializer(many=True)
    by_role = RoleCountSerializer(many=True)
    total = serializers.IntegerField()
    notes = serializers.ListField(child=serializers.CharField())
    inputs = FigureSerializer(many=True)


def _finite(value):
    return None if value is None or math.isinf(value) else round(value, 4)


def plan_data(plan: capacity.Plan) -> dict:
    names = dict(Role.objects.values_list("code", "name"))
    return {
        "shift_hours": plan.shift_hours,
        "contacts_per_day": round(plan.contacts, 2),
        "self_served": round(plan.self_served, 2),
        "tiers": [
            {
                "tier": t.tier,
                "name": t.name,
                "role": t.role,
                "intake": round(t.intake, 2),
                "resolved": round(t.resolved, 2),
                "escalated": round(t.escalated, 2),
                "share": round(t.share, 4),
                "catalogue_share_min": t.share_min,
                "catalogue_share_max": t.share_max,
                "service_level": _finite(t.service_level),
                "busy": _finite(t.busy),
                "shrinkage": t.shrinkage,
                "agent_hours_per_day": round(t.agent_hours, 2),
                "headcount": t.headcount,
                "covered_by_leads": t.covered_by_leads,
                "channels": [
                    {
                        "channel": c.channel,
                        "volume": round(c.volume, 2),
                        "busiest_hour": _finite(c.busiest_hour),
                        "agents": c.agents,
                        "staffed_hours": round(c.staffed_hours, 2),
                        "workload_hours": round(c.workload_hours, 2),
                        "service_level": _finite(c.service_level),
                        "average_speed_of_answer_s": _finite(c.average_speed_of_answer),
                        "occupancy": _finite(c.occupancy),
                        "abandon_share": _finite(c.abandon_share),
                    }
                    for c in t.channels
                ],
            }
            for t in plan.tiers
        ],
        "leaders": [
            {"role": code, "name": names.get(code, code), "count": n}
            for code, n in plan.leaders.items()
        ],
        "operations": [
            {"role": code, "name": names.get(code, code), "count": n, "why": why}
            for code, n, why in plan.operations
        ],
        "by_role": [
            {"role": code, "name": names.get(code, code), "count": n}
            for code, n in plan.by_role.items()
        ],
        "total": plan.total,
        "notes": plan.notes,
        "inputs": [
            {"field": name, "value": value, "origin": source.origin, "note": source.note}
            for name, (value, source) in plan.demand.sources.items()
        ],
    }


class CapacityViewSet(viewsets.ViewSet):
    """Capacity planning: a day's demand per channel flows through the tiers (self-service,
    then each tier in the order work escalates); each tier is sized for what reaches it
    (Erlang C or A for phone and chat, workload for written work), then its leaders from
    the span rules."""

    @extend_schema(
        summary="A headcount plan from a day's demand, through the tiers",
        description="Every input may be left out (`{}` plans the catalogue's example day); "
        "the answer's `inputs` lists every figure used and where it came from (the tier "
        "catalogue, the 85-FTE example organization, our example, or your figure). Demand "
        "is contacts a day per channel; self-service solves `deflection` of it; the rest "
        "reaches the first tier on the escalation path that answers the channel; each tier "
        "passes `escalate_share` of what reaches it to the next, as written work. Phone and "
        "chat are sized for their busiest hour with Erlang C (or Erlang A given the "
        "callers' `patience_s`, optionally capping those who hang up at "
        "`max_abandon_share`); written work by its workload over `shift_hours`. Bad input: "
        "400 naming the field by its path (`channels[0].per_day`).",
        request=PlanInputSerializer,
        responses={200: PlanSerializer, 400: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample("The catalogue's example day", value=EXAMPLE_INPUT, request_only=True)
        ],
    )
    @action(detail=False, methods=["post"], parser_classes=[JSONParser])
    def plan(self, request):
        try:
            plan = capacity_plan(request.data)
        except capacity.CapacityError as bad:
            return Response({bad.field: [bad.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(plan_data(plan))
