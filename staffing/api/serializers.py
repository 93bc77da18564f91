"""Serializers of the organization: positions, people, locations, headcount and findings.

Serializers only shape data: every write goes to a service in :mod:`staffing.services`,
called by the viewsets with the request's user as the actor.
"""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from orgdesign.kernel import days
from orgdesign.kernel.rest import BriefRelatedField
from roles.models import Role
from staffing.models import Finding, Location, Person, Position
from staffing.scope import request_scope
from staffing.selectors import placeable_people
from tiers.models import Squad


class VisiblePositionField(BriefRelatedField):
    """A position given by id among those the caller can see."""

    def __init__(self, **kwargs):
        super().__init__("position-detail", name="title", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Position.objects.none()
        return request_scope(request).filter_visible(Position.objects.all())


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "08:00"}
)
class ClockField(serializers.TimeField):
    """A time of day as HH:MM (local to the location; JSON Schema's "time" wants an offset)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class LocationSerializer(days.StrictDaysSerializer):
    opens = ClockField(read_only=True, help_text="Opening time, in the location's time zone.")
    closes = ClockField(
        read_only=True,
        help_text="Closing time, in the location's time zone; before the opening time for "
        "hours that run past midnight.",
    )

    class Meta:
        model = Location
        fields = [
            "id",
            "url",
            "code",
            "name",
            "city",
            "country",
            "timezone",
            "open_days",
            "opens",
            "closes",
        ]
        extra_kwargs = {"url": {"view_name": "location-detail"}}


class PositionSerializer(days.StrictDaysSerializer):
    """A position in the reporting tree, with its place and its team's size.

    ``role``, ``squad`` and ``location`` are written as ids and read as brief objects.
    The reporting line is set when the position is created (``parent``) and changed only
    with ``POST /api/positions/{id}/move/``.
    """

    parent = VisiblePositionField(allow_null=True, required=False)
    role = BriefRelatedField("role-detail", queryset=Role.objects.select_related("tier"))
    tier = BriefRelatedField("tier-detail", source="role.tier", read_only=True)
    squad = BriefRelatedField(
        "squad-detail", queryset=Squad.objects.all(), allow_null=True, required=False
    )
    location = BriefRelatedField(
        "location-detail", queryset=Location.objects.all(), allow_null=True, required=False
    )
    holder = BriefRelatedField("person-detail", name="full_name", read_only=True, allow_null=True)
    level = serializers.IntegerField(read_only=True, help_text="Depth in the tree; 0 is the top.")
    direct_reports = serializers.IntegerField(read_only=True)
    team_size = serializers.IntegerField(
        read_only=True, help_text="Everyone below this position, at any depth."
    )
    open_findings = serializers.IntegerField(
        read_only=True, help_text="Span-of-control findings open on this position."
    )
    is_vacant = serializers.BooleanField(read_only=True)
    status = serializers.ChoiceField(
        choices=Position.Status.choices,
        required=False,
        help_text="Write open or planned; a position becomes filled by assigning a person "
        "(POST /api/positions/{id}/assign/).",
    )

    class Meta:
        model = Position
        fields = [
            "id",
            "url",
            "title",
            "role",
            "tier",
            "parent",
            "level",
            "squad",
            "location",
            "status",
            "holder",
            "is_vacant",
            "direct_reports",
            "team_size",
            "open_findings",
            "external_id",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"url": {"view_name": "position-detail"}}

    def validate_status(self, value: str) -> str:
        if value == Position.Status.FILLED:
            raise serializers.ValidationError(
                "A position is filled by assigning a person: POST /api/positions/{id}/assign/."
            )
        return value

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["parent"].read_only = True  # moves go through /move/
        return fields

    def validate(self, attrs):
        if self.instance is not None and "parent" in getattr(self, "initial_data", {}):
            raise serializers.ValidationError(
                {
                    "parent": "To change who a position reports to, POST the new manager "
                    f"to /api/positions/{self.instance.pk}/move/."
                }
            )
        return attrs


class PositionMoveSerializer(serializers.Serializer):
    parent = VisiblePositionField(
        allow_null=True, help_text="The new manager's position id; null for the top."
    )
    where = serializers.ChoiceField(
        choices=["first-child", "last-child"],
        default="last-child",
        help_text="Place among the new manager's reports.",
    )


class PositionAssignSerializer(serializers.Serializer):
    person = BriefRelatedField(
        "person-detail",
        name="full_name",
        queryset=Person.objects.all(),
        scoped=lambda context: placeable_people(request_scope(context["request"])),
        help_text="Person id: someone in no position, or in one you may change.",
    )
    start_date = days.DayField(required=False, help_text="Default: today.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class PositionVacateSerializer(serializers.Serializer):
    end_date = days.DayField(required=False, help_text="Default: today.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class PositionDeleteQuerySerializer(serializers.Serializer):
    reports = serializers.ChoiceField(
        choices=["refuse", "move_up"],
        default="refuse",
        help_text="refuse: answer 409 while the position has reports; move_up: they move to "
        "its manager.",
    )


PERSONAL_FIELDS = ("email", "hire_date")


class PersonSerializer(days.StrictDaysSerializer):
    """A person and where they work now.

    ``email`` and ``hire_date`` are personal: they are shown to admins, HR, the person
    themself and the managers above the person's position, and left out for anyone else.
    """

    location = BriefRelatedField(
        "location-detail", queryset=Location.objects.all(), allow_null=True, required=False
    )
    position = BriefRelatedField("position-detail", name="title", read_only=True, allow_null=True)
    role = BriefRelatedField("role-detail", source="position.role", read_only=True, allow_null=True)
    full_name = serializers.CharField(read_only=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    hire_date = days.DayField(required=False, allow_null=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "url",
            "employee_id",
            "given_name",
            "family_name",
            "full_name",
            "location",
            "position",
            "role",
            "is_active",
            *PERSONAL_FIELDS,
        ]
        extra_kwargs = {"url": {"view_name": "person-detail"}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.shows_personal_fields(instance):
            for name in PERSONAL_FIELDS:
                data.pop(name, None)
        return data

    def shows_personal_fields(self, person: Person) -> bool:
        request = self.context.get("request")
        if request is None:
            return False
        scope = request_scope(request)
        if scope.sees_all or (person.user_id and person.user_id == request.user.pk):
            return True
        position = getattr(person, "position", None)
        return position is not None and scope.can_edit(position)

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["employee_id"].read_only = True  # the HR system's key does not change
        return fields


class HeadcountGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    code = serializers.CharField()
    name = serializers.CharField()
    total = serializers.IntegerField()
    filled = serializers.IntegerField()
    open = serializers.IntegerField()
    planned = serializers.IntegerField()


@extend_schema_serializer(many=False)
class HeadcountSerializer(serializers.Serializer):
    scope = serializers.DictField(allow_null=True, help_text="The subtree counted; null: all.")
    total = serializers.IntegerField()
    filled = serializers.IntegerField()
    open = serializers.IntegerField()
    planned = serializers.IntegerField()
    by_tier = HeadcountGroupSerializer(many=True)
    by_role = HeadcountGroupSerializer(many=True)
    by_location = HeadcountGroupSerializer(many=True)
    by_squad = HeadcountGroupSerializer(many=True)


class FindingSerializer(days.StrictDaysSerializer):
    position = BriefRelatedField("position-detail", name="title", read_only=True, allow_null=True)
    location = BriefRelatedField("location-detail", read_only=True, allow_null=True)
    rule_role = serializers.CharField(
        source="rule.role.name", read_only=True, default=None, allow_null=True
    )
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    allowed = serializers.CharField(source="allowed_display", read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "url",
            "source",
            "position",
            "position_title",
            "location",
            "week",
            "rule_role",
            "kind",
            "kind_display",
            "severity",
            "message",
            "basis",
            "measured",
            "measured_all",
            "measured_filled",
            "allowed_min",
            "allowed_max",
            "allowed",
            "first_seen",
            "updated_at",
            "resolved_at",
            "is_open",
        ]
        extra_kwargs = {"url": {"view_name": "finding-detail"}}
