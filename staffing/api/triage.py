"""The triage rota over REST: ``/api/triage/``, a row per location and week with the people
on triage (staffing.triage). Listed for the locations the caller sees; set (POST, creating
the week if it has no rota yet) and changed (PATCH of ``people``) through
:func:`staffing.services.triage_week_set` by those who change the organization there."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from orgdesign.kernel import days
from orgdesign.kernel.rest import FILTER_SEARCH_ORDER, BriefRelatedField, response_example
from staffing import services, triage
from staffing.api.views import ModelWritePermission
from staffing.models import TriageWeek
from staffing.scope import request_scope
from staffing.selectors import visible_people


def _seen(context) -> set[int]:
    """The people the caller sees, once per request (one query)."""
    request = context["request"]
    seen = getattr(request, "_orgdesign_seen_people", None)
    if seen is None:
        seen = set(
            visible_people(request_scope(request), request.user).values_list("pk", flat=True)
        )
        request._orgdesign_seen_people = seen
    return seen


class NamedPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SeenPeopleField(serializers.ListField):
    """Written as a list of person ids; read as the ids of those on the rota whom the caller
    sees."""

    def get_attribute(self, instance):
        return instance

    def to_representation(self, rota):
        seen = _seen(self.context)
        return [p.pk for p in rota.people.all() if p.pk in seen]


class TriageWeekSerializer(days.StrictDaysSerializer):
    """``people``: the ids of those on triage whom the caller sees (written as the whole list:
    those the caller does not see stay on the rota, counted in ``others``)."""

    location = BriefRelatedField(
        "location-detail",
        scoped=lambda context: triage.visible_locations(request_scope(context["request"])),
    )
    people = SeenPeopleField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=True,
        max_length=200,
        help_text="The ids of the people on triage (those the caller sees).",
    )
    on_triage = serializers.SerializerMethodField(help_text="The people in ``people``, named.")
    others = serializers.SerializerMethodField(
        help_text="On the rota too, from parts of the organization the caller does not see."
    )

    class Meta:
        model = TriageWeek
        fields = ["id", "url", "location", "week", "people", "on_triage", "others", "updated_at"]
        read_only_fields = ["updated_at"]
        extra_kwargs = {"url": {"view_name": "triageweek-detail"}}

    def _shown(self, rota) -> list:
        seen = _seen(self.context)
        return [p for p in rota.people.all() if p.pk in seen]

    @extend_schema_field(NamedPersonSerializer(many=True))
    def get_on_triage(self, rota) -> list[dict]:
        return [{"id": p.pk, "name": p.full_name} for p in self._shown(rota)]

    def get_others(self, rota) -> int:
        return len(rota.people.all()) - len(self._shown(rota))

    def validate(self, attrs):
        if self.instance is not None:
            for name in ("location", "week"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {name: "A rota week keeps its location and week; set another week."}
                    )
        return attrs

    def create(self, validated):
        return services.triage_week_set(actor=self.context["request"].user, **validated)

    def update(self, rota, validated):
        people = validated.get("people", [p.pk for p in self._shown(rota)])
        return services.triage_week_set(
            actor=self.context["request"].user, location=rota.location, week=rota.week,
            people=people,
        )  # fmt: skip


class TriageWeekFilter(django_filters.FilterSet):
    week = days.DayFilter(help_text="The Monday of a week.")
    since = days.DayFilter(field_name="week", lookup_expr="gte", help_text="Weeks from this day.")

    class Meta:
        model = TriageWeek
        fields = ["location", "week", "since"]


TRIAGE = response_example(
    "Dublin, one week",
    id=12,
    url="https://orgdesign.example/api/triage/12/",
    location={"id": 2, "url": "https://orgdesign.example/api/locations/2/", "name": "Dublin"},
    week="2026-11-30",
    people=[311, 318],
    on_triage=[{"id": 311, "name": "Aoife Byrne"}, {"id": 318, "name": "Tomás Ryan"}],
    others=0,
    updated_at="2026-11-27T09:12:00Z",
)


@extend_schema_view(
    list=extend_schema(summary="Triage rota weeks of the locations you see", examples=[TRIAGE]),
    retrieve=extend_schema(summary="One location's triage rota for a week", examples=[TRIAGE]),
    create=extend_schema(summary="Set who is on triage at a location for a week"),
    partial_update=extend_schema(summary="Change who is on triage that week"),
    update=extend_schema(summary="Change who is on triage that week"),
)
class TriageWeekViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    queryset = TriageWeek.objects.none()  # the model, for permissions and the schema
    serializer_class = TriageWeekSerializer
    filterset_class = TriageWeekFilter
    filter_backends = FILTER_SEARCH_ORDER
    ordering_fields = ["week"]
    search_fields = ["location__name"]
    permission_classes = [*viewsets.ModelViewSet.permission_classes, ModelWritePermission]
    write_permission = None

    def get_queryset(self):
        locations = triage.visible_locations(request_scope(self.request))
        return (
            TriageWeek.objects.filter(location__in=locations)
            .select_related("location")
            .prefetch_related("people")
            .order_by("-week", "location__name", "pk")
        )
