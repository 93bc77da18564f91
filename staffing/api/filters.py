"""Filters of the organization's endpoints. Position ids in filters are checked against
what the caller can see: naming any other position is a 400, never a leak."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field

from orgdesign.kernel.rest import BooleanFilter, IdFilter, IdsFilter
from roles.models import Role
from staffing.models import (
    Finding,
    Location,
    Person,
    Position,
    subtree_q,
)
from staffing.scope import request_scope
from tiers.models import Squad, Tier


def visible_positions(request):
    if request is None:
        return Position.objects.none()
    return request_scope(request).filter_visible(Position.objects.all())


def in_subtree(queryset, prefix: str, root: Position):
    """Rows of ``queryset`` whose position (through ``prefix``) is ``root`` or below it."""
    return queryset.filter(subtree_q(root, prefix=prefix))


@extend_schema_field(OpenApiTypes.INT)
class PositionChoiceFilter(IdFilter):
    """A position id among those the caller can see; any other id is a 400, not a leak."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", visible_positions)
        super().__init__(*args, **kwargs)


subtree_param = OpenApiParameter(
    "subtree_of",
    OpenApiTypes.INT,
    description="A position id: count that position and everyone below it.",
)


class PositionFilter(django_filters.FilterSet):
    parent = PositionChoiceFilter(help_text="Direct reports of this position.")
    top = BooleanFilter(
        field_name="parent", lookup_expr="isnull", help_text="true: positions with no manager."
    )
    subtree_of = PositionChoiceFilter(
        method="filter_subtree", help_text="This position and everyone below it."
    )
    level = django_filters.NumberFilter(help_text="Depth in the tree; 0 is the top.")
    level_max = django_filters.NumberFilter(field_name="level", lookup_expr="lte")
    # each a column of the position or of its one role: no row can match twice, so no
    # DISTINCT (django-filter's default for these, which made ?role= a sort of every match)
    role = IdsFilter(queryset=Role.objects.all(), distinct=False)
    tier = IdsFilter(field_name="role__tier", queryset=Tier.objects.all(), distinct=False)
    location = IdsFilter(queryset=Location.objects.all(), distinct=False)
    squad = IdsFilter(queryset=Squad.objects.all(), distinct=False)
    status = django_filters.MultipleChoiceFilter(choices=Position.Status.choices, distinct=False)
    vacant = BooleanFilter(
        field_name="holder", lookup_expr="isnull", help_text="true: positions nobody holds."
    )
    external_id = django_filters.CharFilter()

    class Meta:
        model = Position
        fields = [
            "parent",
            "top",
            "subtree_of",
            "level",
            "level_max",
            "role",
            "tier",
            "location",
            "squad",
            "status",
            "vacant",
            "external_id",
        ]

    def filter_subtree(self, queryset, name, root: Position):
        return in_subtree(queryset, "", root)


class PersonFilter(django_filters.FilterSet):
    location = IdsFilter(queryset=Location.objects.all())
    is_active = BooleanFilter()
    has_position = BooleanFilter(field_name="position", lookup_expr="isnull", exclude=True)
    subtree_of = PositionChoiceFilter(
        method="filter_subtree", help_text="People holding this position or one below it."
    )
    role = IdsFilter(field_name="position__role", queryset=Role.objects.all())
    employee_id = django_filters.CharFilter()

    class Meta:
        model = Person
        fields = ["location", "is_active", "has_position", "subtree_of", "role", "employee_id"]

    def filter_subtree(self, queryset, name, root: Position):
        return in_subtree(queryset, "position__", root)


class LocationFilter(django_filters.FilterSet):
    class Meta:
        model = Location
        fields = ["country", "code"]


class FindingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("open", "Open"), ("resolved", "Resolved")],
        method="filter_status",
        help_text="open: still broken; resolved: fixed since.",
    )
    severity = django_filters.MultipleChoiceFilter(choices=Finding.Severity.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Finding.Kind.choices)
    source = django_filters.MultipleChoiceFilter(
        choices=Finding.Source.choices, help_text="The check that found it."
    )
    position = PositionChoiceFilter()
    subtree_of = PositionChoiceFilter(
        method="filter_subtree",
        help_text="A position id: findings on it and on everyone below it.",
    )

    class Meta:
        model = Finding
        fields = ["status", "severity", "kind", "source", "position", "subtree_of", "location"]

    def filter_status(self, queryset, name, value):
        return queryset.open() if value == "open" else queryset.resolved()

    def filter_subtree(self, queryset, name, root: Position):
        return in_subtree(queryset, "position__", root)
