from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, viewsets

from orgdesign.rest import CatalogueConditionalMixin
from tiers.api.serializers import SquadSerializer, TierSerializer
from tiers.models import Squad, Tier

SEARCH_AND_ORDER = [
    *viewsets.ReadOnlyModelViewSet.filter_backends,
    filters.SearchFilter,
    filters.OrderingFilter,
]


@extend_schema_view(
    list=extend_schema(summary="Support tiers, from self-service to management"),
    retrieve=extend_schema(summary="One tier"),
)
class TierViewSet(CatalogueConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """The tiers of the support organization: what each handles, how fast, what share of the
    volume, and where it escalates. Read only; the catalogue is edited in the admin."""

    queryset = Tier.objects.select_related("escalates_to").prefetch_related(
        Prefetch("squads", queryset=Squad.objects.order_by("kind", "name"))
    )
    serializer_class = TierSerializer
    filter_backends = SEARCH_AND_ORDER
    filterset_fields = ["kind", "staffed", "triages"]
    search_fields = ["name", "code", "description"]
    ordering_fields = ["rank", "name"]


@extend_schema_view(
    list=extend_schema(summary="Squads: a tier's entry squad and its specialist squads"),
    retrieve=extend_schema(summary="One squad"),
)
class SquadViewSet(CatalogueConditionalMixin, viewsets.ReadOnlyModelViewSet):
    """Squads split a staffed tier: one entry squad for general work, specialist squads that
    each own a product portfolio."""

    queryset = Squad.objects.select_related("tier")
    serializer_class = SquadSerializer
    filter_backends = SEARCH_AND_ORDER
    filterset_fields = ["tier", "kind"]
    search_fields = ["name", "code", "portfolio"]
    ordering_fields = ["name"]
