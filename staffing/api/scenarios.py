"""Scenarios over REST: ``/api/scenarios/`` (list, create, detail), ``…/{id}/diff/``,
``…/{id}/apply/``, ``…/{id}/discard/``, ``…/{id}/archive/``, and the draft's positions
(``…/{id}/positions/``, one by one with PATCH and DELETE, and ``…/restore/`` for a removed
one). Every change goes through :mod:`staffing.scenarios`; its refusals answer 400, 403 or
409 (a conflict with the live tree lists every conflict)."""

from django.db.models import Count, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from orgdesign.kernel import days
from orgdesign.kernel.rest import BriefRelatedField
from roles.models import Role
from staffing import capacity
from staffing.api.capacity import PlanInputSerializer
from staffing.api.serializers import VisiblePositionField
from staffing.models import Location, Person, Position, Scenario, ScenarioPosition
from staffing.scenarios import apply, compare, drafts, from_plan, read
from staffing.scope import request_scope
from staffing.selectors import capacity_plan
from tiers.models import Squad


class ScenarioSerializer(days.StrictDaysSerializer):
    root = VisiblePositionField(
        allow_null=True,
        required=False,
        help_text="The top of the part to copy; empty: your own team (admins: everything).",
    )
    based_on = serializers.PrimaryKeyRelatedField(
        queryset=Scenario.objects.all(),
        allow_null=True,
        required=False,
        help_text="Copy this scenario instead of the live organization.",
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    position_count = serializers.IntegerField(
        read_only=True, default=None, help_text="Positions in the draft (removed ones left out)."
    )

    class Meta:
        model = Scenario
        fields = [
            "id",
            "url",
            "name",
            "description",
            "status",
            "root",
            "root_title",
            "based_on",
            "created_by",
            "created_at",
            "updated_at",
            "applied_at",
            "applied_summary",
            "position_count",
        ]
        read_only_fields = ["status", "root_title", "applied_at", "applied_summary"]
        extra_kwargs = {"url": {"view_name": "scenario-detail"}}


class DraftPositionSerializer(days.StrictDaysSerializer):
    parent = serializers.IntegerField(
        source="parent_id", allow_null=True, required=False,
        help_text="The id of a position of the same draft; null: the top.",
    )  # fmt: skip
    role = BriefRelatedField("role-detail", queryset=Role.objects.all())
    squad = BriefRelatedField("squad-detail", queryset=Squad.objects.all(), allow_null=True,
                              required=False)  # fmt: skip
    location = BriefRelatedField(
        "location-detail", queryset=Location.objects.all(), allow_null=True, required=False
    )
    holder = BriefRelatedField(
        "person-detail", name="full_name", queryset=Person.objects.all(), allow_null=True,
        required=False, scoped=lambda context: read.placeable_in_draft(
            request_scope(context["request"]), context["scenario"]
        ) if "scenario" in context else Person.objects.none(),
    )  # fmt: skip
    source = serializers.IntegerField(
        source="source_id", read_only=True, allow_null=True,
        help_text="The live position this one copies; null: added in the draft.",
    )  # fmt: skip

    class Meta:
        model = ScenarioPosition
        fields = ["id", "source", "parent", "title", "role", "squad", "location", "holder",
                  "status", "removed"]  # fmt: skip
        read_only_fields = ["removed"]
        extra_kwargs = {"status": {"required": False}}


@extend_schema_field(PlanInputSerializer)
class PlanInputField(serializers.JSONField):
    """The capacity input, as sent: checked by :mod:`staffing.demand`, whose refusals name
    the field by its path (``plan.channels[0].per_day``), as ``POST /api/capacity/plan/``
    does; described in the schema by :class:`PlanInputSerializer`."""


class FromPlanSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    root = VisiblePositionField(allow_null=True, required=False)
    plan = PlanInputField(help_text="The input of POST /api/capacity/plan/.")


class FromPlanAnswerSerializer(ScenarioSerializer):
    notes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Where the new positions went, tier by tier, and what could not be done.",
    )

    class Meta(ScenarioSerializer.Meta):
        fields = [*ScenarioSerializer.Meta.fields, "notes"]


class DiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.DictField())
    removed = serializers.ListField(child=serializers.DictField())
    moved = serializers.ListField(child=serializers.DictField())
    changed = serializers.ListField(child=serializers.DictField())
    headcount = serializers.DictField()
    findings_new = serializers.ListField(child=serializers.DictField())
    findings_gone = serializers.ListField(child=serializers.DictField())
    conflicts = serializers.ListField(child=serializers.CharField())


def diff_data(scenario: Scenario) -> dict:
    _rows, found, conflicts = compare.compare(scenario)
    brief = lambda r: {"id": r.pk, "source": r.source_id, "title": r.title}  # noqa: E731
    return {
        "added": [brief(r) for r in found.added],
        "removed": [brief(r) for r in found.removed],
        "moved": [brief(r) for r in found.moved],
        "changed": [{**brief(c.row), "fields": c.fields} for c in found.changed],
        "headcount": {
            dim: [{"name": n, "before": b, "after": a} for n, b, a in lines]
            for dim, lines in found.headcount.items()
        },
        "findings_new": [{"position": t, "message": m} for t, m in found.findings_new],
        "findings_gone": [{"position": t, "message": m} for t, m in found.findings_gone],
        "conflicts": conflicts,
    }


position_param = OpenApiParameter("position_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="Your scenarios (admins and HR: everyone's)"),
    retrieve=extend_schema(summary="One scenario"),
    create=extend_schema(summary="Draft a scenario from the live organization or a scenario"),
)
class ScenarioViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    serializer_class = ScenarioSerializer
    queryset = Scenario.objects.none()

    def get_queryset(self):
        rows = read.visible_scenarios(self.request.user, request_scope(self.request))
        rows = rows.annotate(position_count=Count("positions", filter=Q(positions__removed=False)))
        return rows.order_by("-updated_at", "-pk")

    def _scenario(self) -> Scenario:
        return self.get_object()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        scenario = drafts.scenario_create(
            actor=request.user,
            name=data["name"],
            description=data.get("description", ""),
            root=data.get("root"),
            based_on=data.get("based_on"),
        )
        fresh = self.get_queryset().get(pk=scenario.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Draft a scenario that meets a capacity plan",
        description="`plan` is the input of `POST /api/capacity/plan/`; the draft adds open "
        "positions where a role is short of the plan and removes spare vacancies. Answers "
        "the scenario with `notes` on what could not be placed.",
        request=FromPlanSerializer,
        responses={201: FromPlanAnswerSerializer, 400: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["post"], url_path="from-plan")
    def from_plan(self, request):
        serializer = FromPlanSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            plan = capacity_plan(data["plan"])
        except capacity.CapacityError as bad:
            return Response({f"plan.{bad.field}": [bad.message]}, status=400)
        scenario, notes = from_plan.scenario_from_plan(
            actor=request.user, name=data["name"], wanted=plan.by_role, root=data.get("root")
        )
        fresh = self.get_queryset().get(pk=scenario.pk)
        return Response({**self.get_serializer(fresh).data, "notes": notes}, status=201)

    @extend_schema(summary="What the draft changes, and conflicts with the live tree",
                   responses=DiffSerializer)  # fmt: skip
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        return Response(diff_data(self._scenario()))

    @extend_schema(summary="Make the draft live (all or nothing; 409 lists the conflicts)",
                   request=None, responses=ScenarioSerializer)  # fmt: skip
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        apply.scenario_apply(actor=request.user, scenario=self._scenario())
        return Response(self.get_serializer(self._scenario()).data)

    @extend_schema(summary="Discard a draft", request=None, responses=ScenarioSerializer)
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        drafts.scenario_close(actor=request.user, scenario=self._scenario(), status="discarded")
        return Response(self.get_serializer(self._scenario()).data)

    @extend_schema(summary="Archive a scenario", request=None, responses=ScenarioSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        drafts.scenario_close(actor=request.user, scenario=self._scenario(), status="archived")
        return Response(self.get_serializer(self._scenario()).data)

    # --- the draft's positions ----------------------------------------------------------

    def _row(self, scenario: Scenario, position_id) -> ScenarioPosition:
        row = scenario.positions.filter(pk=position_id, removed=False).first()
        if row is None:
            from rest_framework.exceptions import NotFound

            raise NotFound(f"No position {position_id} in this draft.")
        return row

    @extend_schema(
        methods=["GET"],
        summary="The draft's positions",
        responses=DraftPositionSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"], summary="Add a position to the draft", request=DraftPositionSerializer,
        responses={201: DraftPositionSerializer},
    )  # fmt: skip
    @action(detail=True, methods=["get", "post"], url_path="positions")
    def positions(self, request, pk=None):
        scenario = self._scenario()
        if request.method == "GET":
            rows = (
                scenario.positions.filter(removed=False)
                .select_related("role", "squad", "location", "holder")
                .order_by("pk")
            )
            page = self.paginate_queryset(rows)
            data = DraftPositionSerializer(page, many=True, context={"request": request}).data
            return self.get_paginated_response(data)
        serializer = DraftPositionSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        parent = data.get("parent_id")
        row = drafts.draft_add(
            actor=request.user, scenario=scenario,
            parent=self._row(scenario, parent) if parent else None, title=data["title"],
            role=data["role"], squad=data.get("squad"), location=data.get("location"),
            status=data.get("status", Position.Status.OPEN),
        )  # fmt: skip
        return Response(DraftPositionSerializer(row, context={"request": request}).data, status=201)

    @extend_schema(
        methods=["PATCH"], summary="Change a draft position (title, role, squad, location, "
        "status or holder)", parameters=[position_param], request=DraftPositionSerializer,
        responses=DraftPositionSerializer,
    )  # fmt: skip
    @extend_schema(
        methods=["DELETE"], summary="Remove a draft position (?reports=move_up)",
        parameters=[position_param], responses={204: None},
    )  # fmt: skip
    @action(detail=True, methods=["patch", "delete"], url_path=r"positions/(?P<position_id>\d+)")
    def position(self, request, pk=None, position_id=None):
        scenario = self._scenario()
        row = self._row(scenario, position_id)
        if request.method == "DELETE":
            drafts.draft_remove(
                actor=request.user, scenario=scenario, position=row,
                reports=request.query_params.get("reports", "refuse"),
            )  # fmt: skip
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = DraftPositionSerializer(
            row, data=request.data, partial=True, context={"request": request, "scenario": scenario}
        )
        serializer.is_valid(raise_exception=True)
        changes = {
            k: v
            for k, v in serializer.validated_data.items()
            if k in ("title", "role", "squad", "location", "status", "holder")
        }
        if "parent_id" in serializer.validated_data:
            parent = serializer.validated_data["parent_id"]
            changes["new_parent"] = self._row(scenario, parent) if parent else None
        # fields and manager together, or neither
        row = drafts.draft_change(actor=request.user, scenario=scenario, position=row, **changes)
        return Response(DraftPositionSerializer(row, context={"request": request}).data)

    @extend_schema(
        summary="Bring a removed position back into the draft (vacant, under its manager's "
        "copy)", parameters=[position_param], request=None, responses=DraftPositionSerializer,
    )  # fmt: skip
    @action(detail=True, methods=["post"], url_path=r"positions/(?P<position_id>\d+)/restore")
    def restore(self, request, pk=None, position_id=None):
        row = drafts.draft_restore(
            actor=request.user, scenario=self._scenario(), position=int(position_id)
        )
        return Response(DraftPositionSerializer(row, context={"request": request}).data)
