"""``POST /api/capacity/plan/``: demand in, a headcount plan out (:mod:`staffing.capacity`).
Nothing is written; a scenario built from a plan is a separate step."""

import math

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from roles.models import Role
from staffing import capacity
from staffing.selectors import capacity_plan

EXAMPLE_INPUT = capacity.DEFAULT_INPUT  # the same plan the /capacity/ page starts from


# --- the request: what POST /api/capacity/plan/ takes (checked by staffing.capacity.parse,
# whose refusals name the field by its path; these describe it for clients and the schema)


class ChannelInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(capacity.CHANNELS)
    volume = serializers.FloatField(help_text="Contacts per hour (phone, chat) or per day.")
    open_hours = serializers.FloatField(
        required=False, help_text="Hours a day a live channel is open (default: the shift)."
    )
    target_share = serializers.FloatField(
        required=False, help_text="Share to answer within target_s (0–1; default 0.8)."
    )
    target_s = serializers.FloatField(required=False, help_text="Seconds (default 20).")
    concurrency = serializers.FloatField(
        required=False, help_text="Chats an agent holds at once (chat only; default 1)."
    )
    patience_s = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Callers' mean patience in seconds: sizes the channel with Erlang A "
        "(callers hang up); empty: Erlang C (nobody does).",
    )
    max_abandon_share = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="With patience_s: the most who may hang up (0–1).",
    )


class TierInputSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(list(capacity.AGENT_ROLE))
    share = serializers.FloatField(help_text="Share of each channel it takes (0–1).")
    shrinkage = serializers.FloatField(required=False, help_text="0–1 (default 0.3).")
    max_occupancy = serializers.FloatField(required=False, help_text="0–1 (default 0.85).")
    handle_s = serializers.DictField(
        child=serializers.FloatField(),
        help_text="Seconds a contact takes, by channel; a tier takes the channels it has.",
    )


class PlanInputSerializer(serializers.Serializer):
    shift_hours = serializers.FloatField(required=False, help_text="Default 8.")
    channels = ChannelInputSerializer(many=True)
    tiers = TierInputSerializer(many=True)


# --- the answer


class ChannelResultSerializer(serializers.Serializer):
    channel = serializers.CharField()
    volume = serializers.FloatField()
    agents = serializers.IntegerField(help_text="On duty at once (live) or over a shift.")
    staffed_hours = serializers.FloatField(help_text="Agent-hours a day.")
    service_level = serializers.FloatField(allow_null=True)
    average_speed_of_answer_s = serializers.FloatField(allow_null=True)
    occupancy = serializers.FloatField(allow_null=True)
    workload_hours = serializers.FloatField(allow_null=True)
    abandon_share = serializers.FloatField(
        allow_null=True, help_text="Callers who hang up unanswered (Erlang A only)."
    )


class TierResultSerializer(serializers.Serializer):
    tier = serializers.CharField()
    role = serializers.CharField(help_text="The agent role the tier is staffed with.")
    share = serializers.FloatField()
    shrinkage = serializers.FloatField()
    agent_hours_per_day = serializers.FloatField()
    headcount = serializers.IntegerField(help_text="People to employ, after shrinkage.")
    covered_by_leads = serializers.IntegerField(
        help_text="Agents the team leads' own queue time stands in for (Tier 1)."
    )
    channels = ChannelResultSerializer(many=True)


class RoleCountSerializer(serializers.Serializer):
    role = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class OperationSerializer(RoleCountSerializer):
    why = serializers.CharField()


class PlanSerializer(serializers.Serializer):
    """The plan: per tier and channel the agents and how the queue performs, people to employ
    per tier after shrinkage, leaders from the span rules, support operations, totals."""

    shift_hours = serializers.FloatField()
    tiers = TierResultSerializer(many=True)
    leaders = RoleCountSerializer(many=True)
    operations = OperationSerializer(many=True)
    by_role = RoleCountSerializer(many=True)
    total = serializers.IntegerField()
    notes = serializers.ListField(child=serializers.CharField())


class FieldErrorsSerializer(serializers.Serializer):
    """A refusal: the field's path (``tiers[0].share``) and what is wrong with it."""

    field = serializers.ListField(child=serializers.CharField(), required=False)


def _finite(value):
    return None if value is None or math.isinf(value) else round(value, 4)


def plan_data(plan: capacity.Plan) -> dict:
    names = dict(Role.objects.values_list("code", "name"))
    return {
        "shift_hours": plan.shift_hours,
        "tiers": [
            {
                "tier": t.tier,
                "role": t.role,
                "share": t.share,
                "shrinkage": t.shrinkage,
                "agent_hours_per_day": round(t.agent_hours, 2),
                "headcount": t.headcount(plan.shift_hours),
                "covered_by_leads": t.covered_by_leads,
                "channels": [
                    {
                        "channel": c.channel,
                        "volume": round(c.volume, 2),
                        "agents": c.agents,
                        "staffed_hours": round(c.staffed_hours, 2),
                        "service_level": _finite(c.service_level),
                        "average_speed_of_answer_s": _finite(c.average_speed_of_answer),
                        "occupancy": _finite(c.occupancy),
                        "workload_hours": _finite(c.workload_hours),
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
    }


class CapacityViewSet(viewsets.ViewSet):
    """Capacity planning: size each tier from its demand (Erlang C for phone and chat,
    workload for tickets), then its leaders from the span rules."""

    @extend_schema(
        summary="A headcount plan from contact volumes and service targets",
        description="Phone and chat volumes are per hour (sized with Erlang C for the "
        "service-level target, or with Erlang A when the channel gives the callers' mean "
        "`patience_s`, optionally capping those who hang up at `max_abandon_share`; then "
        "staffed for `open_hours`); tickets per day (sized by "
        "workload over `shift_hours`). Each channel's volume is split between the tiers with "
        "a `handle_s` for it, in proportion to their `share`. Bad input: 400 naming the "
        "field by its path.",
        request=PlanInputSerializer,
        responses={200: PlanSerializer, 400: OpenApiTypes.OBJECT},
        examples=[OpenApiExample("Three tiers", value=EXAMPLE_INPUT, request_only=True)],
    )
    @action(detail=False, methods=["post"])
    def plan(self, request):
        try:
            plan = capacity_plan(request.data)
        except capacity.CapacityError as bad:
            return Response({bad.field: [bad.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(plan_data(plan))
