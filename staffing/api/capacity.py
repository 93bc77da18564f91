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


class PlanSerializer(serializers.Serializer):
    """The plan: per tier and channel the agents and how the queue performs, people to employ
    per tier after shrinkage, leaders from the span rules, support operations, totals."""

    shift_hours = serializers.FloatField()
    tiers = serializers.ListField(child=serializers.DictField())
    leaders = serializers.ListField(child=serializers.DictField())
    operations = serializers.ListField(child=serializers.DictField())
    by_role = serializers.ListField(child=serializers.DictField())
    total = serializers.IntegerField()
    notes = serializers.ListField(child=serializers.CharField())


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
        request=OpenApiTypes.OBJECT,
        responses={200: PlanSerializer},
        examples=[OpenApiExample("Three tiers", value=EXAMPLE_INPUT, request_only=True)],
    )
    @action(detail=False, methods=["post"])
    def plan(self, request):
        try:
            plan = capacity_plan(request.data)
        except capacity.CapacityError as bad:
            return Response({bad.field: [bad.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(plan_data(plan))
