import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from metrics import services
from metrics.models import KPI, KPIObservation
from orgdesign.kernel import days
from orgdesign.kernel.rest import (
    FILTER_SEARCH_ORDER,
    BooleanFilter,
    CatalogueConditionalMixin,
    response_example,
)
from staffing.api.filters import PositionChoiceFilter, in_subtree
from staffing.api.serializers import VisiblePositionField
from staffing.api.views import WITH_CSV, ModelWritePermission
from staffing.scope import request_scope

BULK_LIMIT = 10_000


class KPISerializer(days.StrictDaysSerializer):
    unit_display = serializers.CharField(source="get_unit_display", read_only=True)
    target_display = serializers.CharField(read_only=True)

    class Meta:
        model = KPI
        fields = [
            "id",
            "url",
            "code",
            "name",
            "unit",
            "unit_display",
            "better",
            "target",
            "comparison",
            "target_display",
            "review_period",
            "description",
        ]
        extra_kwargs = {"url": {"view_name": "kpi-detail"}}


KPI_EXAMPLE = response_example(
    "First-contact resolution",
    id=1,
    url="https://orgdesign.example/api/kpis/1/",
    code="fcr",
    name="First-contact resolution",
    unit="percent",
    better="higher",
    target="75.00",
    comparison="gte",
    target_display="at least 75 %",
    review_period="monthly",
)


@extend_schema_view(
    list=extend_schema(summary="KPI definitions and their targets", examples=[KPI_EXAMPLE]),
    retrieve=extend_schema(summary="One KPI", examples=[KPI_EXAMPLE]),
)
class KPIViewSet(CatalogueConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """The indicators the organization is held to (first-contact resolution, CSAT, NPS,
    handling time ...), with the target and how an observation is compared with it."""

    queryset = KPI.objects.all()
    serializer_class = KPISerializer
    filter_backends = FILTER_SEARCH_ORDER
    filterset_fields = ["review_period", "unit", "better"]
    search_fields = ["name", "code", "description"]


# --- observations ----------------------------------------------------------------------------


class KPIObservationSerializer(days.StrictDaysSerializer):
    """One recorded value of a KPI for a team (``scope``: its top position) or, with no
    scope, for the whole organization, over a period."""

    kpi = serializers.SlugRelatedField(
        slug_field="code", queryset=KPI.objects.all(), help_text="The KPI's code, e.g. fcr."
    )
    kpi_name = serializers.CharField(source="kpi.name", read_only=True)
    scope = VisiblePositionField(
        allow_null=True,
        required=False,
        help_text="The team measured, as its top position's id; null for the whole organization.",
    )
    status = serializers.SerializerMethodField(
        help_text="on target, off target, or no target (the KPI has none)."
    )
    replace = serializers.BooleanField(
        write_only=True,
        default=False,
        help_text="When creating: overwrite a value already recorded for the same KPI, team "
        "and period instead of answering 409.",
    )

    class Meta:
        model = KPIObservation
        fields = [
            "id",
            "url",
            "kpi",
            "kpi_name",
            "scope",
            "period_start",
            "period_end",
            "value",
            "status",
            "note",
            "recorded_at",
            "replace",
        ]
        extra_kwargs = {"url": {"view_name": "kpiobservation-detail"}}
        validators = []  # uniqueness is the service's (409, or replace), not a 400 here

    def get_status(self, observation) -> str:
        met = observation.kpi.meets(observation.value)
        return "no target" if met is None else ("on target" if met else "off target")


class BulkObservationsSerializer(serializers.Serializer):
    rows = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=BULK_LIMIT,
        help_text="Objects with kpi (code), period_start, period_end, value, and optionally "
        "scope (a position id) and note: the columns of the CSV upload.",
    )
    replace = serializers.BooleanField(
        default=False, help_text="Overwrite values already recorded for the same periods."
    )


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    replaced = serializers.IntegerField()


@extend_schema_field(OpenApiTypes.STR)
class KPICodeFilter(django_filters.ModelMultipleChoiceFilter):
    """KPIs by code (``?kpi=fcr&kpi=csat``)."""


class KPIObservationFilter(django_filters.FilterSet):
    kpi = KPICodeFilter(
        field_name="kpi__code",
        to_field_name="code",
        queryset=KPI.objects.all(),
        help_text="KPI codes (repeatable).",
    )
    scope = PositionChoiceFilter(help_text="Values of this team (its top position).")
    organization = BooleanFilter(
        field_name="scope",
        lookup_expr="isnull",
        help_text="true: whole-organization values only; false: team values only.",
    )
    subtree_of = PositionChoiceFilter(
        method="filter_subtree", help_text="Values of this team and of every team below it."
    )
    since = days.DayFilter(
        field_name="period_start", lookup_expr="gte", help_text="Periods starting on or after."
    )
    until = days.DayFilter(
        field_name="period_end", lookup_expr="lte", help_text="Periods ending on or before."
    )

    class Meta:
        model = KPIObservation
        fields = ["kpi", "scope", "organization", "subtree_of", "since", "until"]

    def filter_subtree(self, queryset, name, root):
        return in_subtree(queryset, "scope__", root)


OBSERVATION_EXAMPLE = response_example(
    "First-contact resolution of one team for October",
    id=12,
    url="https://orgdesign.example/api/kpi-observations/12/",
    kpi="fcr",
    kpi_name="First-contact resolution",
    scope={"id": 7, "url": "https://orgdesign.example/api/positions/7/", "name": "EMEA"},
    period_start="2026-10-01",
    period_end="2026-10-31",
    value="76.40",
    status="on target",
    note="",
    recorded_at="2026-11-02T08:30:00Z",
)


OCTOBER = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


@extend_schema_view(
    list=extend_schema(
        summary="KPI values recorded for the teams you can see",
        description="Newest period first within each KPI. Whole-organization values "
        "(`scope` null) are shown to those who see the whole organization. "
        "`?format=csv` returns every selected row.",
        examples=[OBSERVATION_EXAMPLE],
    ),
    retrieve=extend_schema(summary="One recorded KPI value", examples=[OBSERVATION_EXAMPLE]),
    create=extend_schema(
        summary="Record a KPI value for a team or the whole organization",
        description="409 when a value is already recorded for the same KPI, team and period, "
        "unless `replace` is true (then 200 with the replaced value).",
        responses={201: KPIObservationSerializer, 200: KPIObservationSerializer},
        examples=[
            OpenApiExample(
                "October's FCR of team 7",
                value={
                    "kpi": "fcr",
                    "scope": 7,
                    "period_start": "2026-10-01",
                    "period_end": "2026-10-31",
                    "value": "76.4",
                },
                request_only=True,
            )
        ],
    ),
    partial_update=extend_schema(summary="Correct a recorded value"),
    update=extend_schema(summary="Replace a recorded value"),
    destroy=extend_schema(summary="Delete a recorded value"),
)
class KPIObservationViewSet(viewsets.ModelViewSet):
    """Values of the KPIs over periods, per team or for the whole organization: what the
    dashboard holds against the targets. Written through :mod:`metrics.services`."""

    queryset = KPIObservation.objects.none()  # the model, for permissions and the schema
    serializer_class = KPIObservationSerializer
    filterset_class = KPIObservationFilter
    filter_backends = FILTER_SEARCH_ORDER
    ordering_fields = ["period_start", "period_end", "recorded_at", "value"]
    search_fields = ["note", "kpi__name", "kpi__code", "scope__title"]
    renderer_classes = WITH_CSV
    permission_classes = [*viewsets.ModelViewSet.permission_classes, ModelWritePermission]
    csv_columns = [f for f in KPIObservationSerializer.Meta.fields if f not in ("url", "replace")]
    csv_filename = "kpi-observations"
    write_permission = None

    def get_queryset(self):
        visible = KPIObservation.objects.visible_to(request_scope(self.request))
        return visible.select_related("kpi", "scope").order_by("kpi__name", "-period_start", "pk")

    def _answer(self, observation, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=observation.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        observation, created = services.kpi_observation_record(
            actor=request.user, **serializer.validated_data
        )
        return self._answer(observation, status.HTTP_201_CREATED if created else 200)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        observation = self.get_object()
        serializer = self.get_serializer(observation, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        changes = {
            name: value
            for name, value in serializer.validated_data.items()
            if name in services.OBSERVATION_FIELDS
        }
        observation = services.kpi_observation_update(
            actor=request.user, observation=observation, **changes
        )
        return self._answer(observation)

    def destroy(self, request, *args, **kwargs):
        services.kpi_observation_delete(actor=request.user, observation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Record many KPI values at once: all of them or none",
        description="Each row is checked as a single create is. Any problem refuses the "
        "whole request with 400 and every problem by row (`index`, from 0) and field; "
        f"nothing is written. At most {BULK_LIMIT:,} rows.",
        request=BulkObservationsSerializer,
        responses={201: BulkResultSerializer, 400: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Two values",
                value={
                    "rows": [
                        {"kpi": "fcr", **OCTOBER, "value": 76.4},
                        {"kpi": "csat", "scope": 7, **OCTOBER, "value": 4.5},
                    ],
                    "replace": False,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Refused",
                value={
                    "problems": [
                        {"index": 1, "field": "kpi", "message": "Unknown KPI code “cast”."}
                    ]
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    @action(detail=False, methods=["post"], write_permission="add")
    def bulk(self, request):
        serializer = BulkObservationsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = [
            {str(k): "" if v is None else str(v) for k, v in row.items()}
            for row in serializer.validated_data["rows"]
        ]
        try:
            created, replaced = services.kpi_observations_import(
                actor=request.user,
                rows=rows,
                replace=serializer.validated_data["replace"],
                first_row=0,
            )
        except services.ImportRefused as refused:
            problems = [
                {"index": row, "field": field, "message": message}
                for row, field, message in refused.problems
            ]
            return Response({"problems": problems}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": created, "replaced": replaced}, status=201)
