from rest_framework import filters, viewsets

from staffing.api.filters import FindingFilter
from staffing.api.serializers import FindingSerializer
from staffing.models import Finding


class FindingViewSet(viewsets.ReadOnlyModelViewSet):
    """Span-of-control findings on the positions the caller can see, most severe first.

    Filter with ``status=open|resolved``, ``severity``, ``kind`` (both repeatable),
    ``position`` and ``subtree_of`` (a position id: that position and everyone below it).
    """

    serializer_class = FindingSerializer
    filterset_class = FindingFilter
    filter_backends = [
        *viewsets.ReadOnlyModelViewSet.filter_backends,
        filters.OrderingFilter,
        filters.SearchFilter,
    ]
    ordering_fields = ["first_seen", "updated_at", "resolved_at", "position_title"]
    search_fields = ["position_title", "message"]

    def get_queryset(self):
        return (
            Finding.objects.visible_to(self.request.user)
            .select_related("position", "rule__role")
            .by_severity()
        )
