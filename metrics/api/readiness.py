"""Promotion readiness over REST: ``GET /api/readiness/`` (everyone below a position, paged)
and ``GET /api/people/{id}/readiness/`` (one person; the action is mixed into the people
endpoint by :mod:`orgdesign.api`, since the staffing app cannot depend on metrics)."""

import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from metrics import readiness, verdicts
from orgdesign.kernel import days
from orgdesign.kernel.rest import BriefRelatedField, Pagination, is_id, response_example
from roles.models import Role
from staffing.api.filters import subtree_param
from staffing.models import Position
from staffing.scope import request_scope


class CheckSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["tenure", "csat", "criterion", "squads"],
        help_text="squads: time in each specialist squad of the tier, from the squad history "
        "(detail names the squads not yet served in and those short of the months asked).",
    )
    label = serializers.CharField()
    met = serializers.BooleanField(allow_null=True, help_text="null: does not apply.")
    detail = serializers.CharField()
    ready_on = days.DayField(allow_null=True)


class PathReadinessSerializer(serializers.Serializer):
    path = serializers.IntegerField(source="path.pk")
    to_role = BriefRelatedField("role-detail", read_only=True)
    status = serializers.ChoiceField(choices=list(readiness.STATUS_LABELS))
    ready_on = days.DayField(allow_null=True)
    summary = serializers.CharField()
    checks = CheckSerializer(many=True)


class PersonReadinessSerializer(serializers.Serializer):
    person = BriefRelatedField("person-detail", name="full_name", read_only=True)
    position = BriefRelatedField("position-detail", name="title", read_only=True)
    role = BriefRelatedField("role-detail", read_only=True)
    days_in_role = serializers.IntegerField()
    months_in_role = serializers.DecimalField(max_digits=6, decimal_places=1)
    csat_recent = serializers.DecimalField(
        source="csat", max_digits=6, decimal_places=2, allow_null=True,
        help_text="CSAT (%) over the last three months, weighted by surveys.",
    )  # fmt: skip
    csat_periods = serializers.IntegerField()
    paths = PathReadinessSerializer(many=True)


BRIEF = "https://orgdesign.example/api"
READINESS_EXAMPLE = response_example(
    "An associate ready to step up",
    person={"id": 311, "url": f"{BRIEF}/people/311/", "name": "Aoife Byrne"},
    position={"id": 42, "url": f"{BRIEF}/positions/42/", "name": "Associate Customer Advocate"},
    role={"id": 1, "url": f"{BRIEF}/roles/1/", "name": "Associate Customer Advocate"},
    days_in_role=147,
    months_in_role="4.8",
    csat_recent="92.50",
    csat_periods=3,
    paths=[
        {
            "path": 1,
            "to_role": {"id": 2, "url": f"{BRIEF}/roles/2/", "name": "Customer Advocate"},
            "status": "ready",
            "ready_on": None,
            "summary": "Ready now",
            "checks": [
                {
                    "kind": "tenure",
                    "label": "Time in role",
                    "met": True,
                    "detail": "4.8 months; 3 months as Associate Customer Advocate needed.",
                    "ready_on": None,
                },
            ],
        }
    ],
)
as_of_param = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description="Judge as on this day (default: today)."
)
role_param = OpenApiParameter(
    "role",
    OpenApiTypes.INT,
    many=True,
    description="Only people in these roles (ids; repeat the parameter for several).",
)
status_param = OpenApiParameter(
    "status",
    OpenApiTypes.STR,
    enum=list(readiness.STATUS_LABELS),
    description="Only people whose nearest step has this status.",
)


def _as_of(request) -> datetime.date | None:
    raw = request.query_params.get("as_of", "")
    return days.parse_day(raw) if raw else None


class ReadinessPagination(Pagination):
    """The API's pages, each read with the counts in one statement."""

    django_paginator_class = verdicts.ReadinessPaginator


class ReadinessViewSet(viewsets.ViewSet):
    """Promotion readiness of everyone below a position you can see (``subtree_of``;
    by default your own position's team, or the whole organization for admins and HR),
    nearest to ready first, a page at a time (``page``, ``page_size`` up to 1,000) however
    many people the part holds. ``count`` and ``status`` filter the whole part; only the
    page is judged in detail, in the same number of queries for every page."""

    pagination_class = ReadinessPagination

    @extend_schema(
        summary="Promotion readiness of a team",
        parameters=[subtree_param, role_param, status_param, as_of_param],
        responses=PersonReadinessSerializer(many=True),
        examples=[READINESS_EXAMPLE],
    )
    def list(self, request):
        scope = request_scope(request)
        positions = scope.filter_visible(Position.objects.all())
        raw = request.query_params.get("subtree_of", "")
        root = scope.root
        if raw:
            root = positions.filter(pk=raw).first() if raw.isdigit() else None
            if root is None:
                return Response(
                    {"subtree_of": [f"No position with id {raw!r} that you can see."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
        if root is not None:
            positions = positions.subtree_of(root, include_self=False)
        wanted = request.query_params.get("status", "")
        if wanted and wanted not in readiness.STATUS_LABELS:
            return Response(
                {"status": [f"Use one of {', '.join(readiness.STATUS_LABELS)}."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        roles = request.query_params.getlist("role")
        if roles:
            known = set(
                Role.objects.filter(pk__in=[r for r in roles if is_id(r)]).values_list(
                    "pk", flat=True
                )
            )
            unknown = [r for r in roles if not is_id(r) or int(r) not in known]
            if unknown:
                return Response(
                    {"role": [f"No role with id {unknown[0]!r}."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            positions = positions.filter(role__in=known)
        listed = verdicts.ReadinessList(positions, as_of=_as_of(request), status=wanted)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(listed, request, view=self)
        data = PersonReadinessSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class PersonReadinessMixin:
    """``GET /api/people/{id}/readiness/``: one person's next roles with every prerequisite
    judged (empty ``paths`` at the top of a ladder; 404 for someone without a position)."""

    @extend_schema(
        summary="One person's promotion readiness",
        parameters=[as_of_param],
        responses=PersonReadinessSerializer,
        examples=[READINESS_EXAMPLE],
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, BrowsableAPIRenderer])
    def readiness(self, request, pk=None):
        person = self.get_object()
        judged = readiness.person_readiness(person, as_of=_as_of(request))
        if judged is None:
            return Response(
                {"detail": f"{person} holds no position, so no promotion path applies."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(PersonReadinessSerializer(judged, context={"request": request}).data)
