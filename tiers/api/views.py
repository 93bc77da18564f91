from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from orgdesign.kernel.rest import FILTER_SEARCH_ORDER, CatalogueConditionalMixin, response_example
from tiers.api.serializers import SquadSerializer, TierSerializer
from tiers.models import Squad, Tier

TIER = response_example(
    "Tier 2",
    id=3,
    url="https://orgdesign.example/api/tiers/3/",
    code="t2",
    name="Tier 2 — Technical support",
    kind="technical",
    rank=2,
    staffed=True,
    target_handling_minutes=30,
    volume_share="—",
    channels=["escalation", "email"],
    escalates_to={"id": 4, "url": "https://orgdesign.example/api/tiers/4/", "name": "Tier 3"},
)
SQUAD = response_example(
    "A specialist squad",
    id=2,
    code="billing",
    name="Billing and accounts",
    tier={"id": 3, "url": "https://orgdesign.example/api/tiers/3/", "name": "Tier 2"},
    kind="specialist",
    portfolio=["Invoices", "Payment methods"],
    rotate_after_months=12,
)


@extend_schema_view(
    list=extend_schema(summary="Support tiers, from self-service to management", examples=[TIER]),
    retrieve=extend_schema(summary="One tier", examples=[TIER]),
)
class TierViewSet(CatalogueConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """The tiers of the support organization: what each handles, how fast, what share of the
    volume, and where it escalates. Read only; the catalogue is edited in the admin."""

    queryset = Tier.objects.select_related("escalates_to").prefetch_related(
        Prefetch("squads", queryset=Squad.objects.order_by("kind", "name"))
    )
    serializer_class = TierSerializer
    filter_backends = FILTER_SEARCH_ORDER
    filterset_fields = ["kind", "staffed", "triages"]
    search_fields = ["name", "code", "description"]
    ordering_fields = ["rank", "name"]


@extend_schema_view(
    list=extend_schema(
        summary="Squads: a tier's entry squad and its specialist squads", examples=[SQUAD]
    ),
    retrieve=extend_schema(summary="One squad", examples=[SQUAD]),
)
class SquadViewSet(CatalogueConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """Squads split a staffed tier: one entry squad for general work, specialist squads that
    each own a product portfolio."""

    queryset = Squad.objects.select_related("tier")
    serializer_class = SquadSerializer
    filter_backends = FILTER_SEARCH_ORDER
    filterset_fields = ["tier", "kind"]
    search_fields = ["name", "code", "portfolio"]
    ordering_fields = ["name"]
