import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from staffing.models import Finding, Position


def visible_positions(request):
    if request is None:
        return Position.objects.none()
    return Position.objects.visible_to(request.user)


@extend_schema_field(OpenApiTypes.INT)
class PositionChoiceFilter(django_filters.ModelChoiceFilter):
    """A position id among those the caller can see; any other id is a 400, not a leak."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", visible_positions)
        super().__init__(*args, **kwargs)


class FindingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("open", "Open"), ("resolved", "Resolved")],
        method="filter_status",
        help_text="open: still broken; resolved: fixed since.",
    )
    severity = django_filters.MultipleChoiceFilter(choices=Finding.Severity.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Finding.Kind.choices)
    position = PositionChoiceFilter()
    subtree_of = PositionChoiceFilter(
        method="filter_subtree",
        help_text="A position id: findings on it and on everyone below it.",
    )

    class Meta:
        model = Finding
        fields = ["status", "severity", "kind", "position", "subtree_of"]

    def filter_status(self, queryset, name, value):
        return queryset.open() if value == "open" else queryset.resolved()

    def filter_subtree(self, queryset, name, root: Position):
        return queryset.filter(
            Q(position__tree_id=root.tree_id)
            & Q(position__lft__gte=root.lft)
            & Q(position__lft__lt=root.rght)
        )
