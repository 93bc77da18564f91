from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from metrics.models import KPI
from orgdesign.rest import FILTER_SEARCH_ORDER, CatalogueConditionalMixin, response_example


class KPISerializer(serializers.ModelSerializer):
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
