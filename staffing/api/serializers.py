from rest_framework import serializers

from staffing.models import Finding, Position


class PositionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Position
        fields = ["id", "title"]


class FindingSerializer(serializers.ModelSerializer):
    position = PositionBriefSerializer(read_only=True)
    rule_role = serializers.CharField(source="rule.role.name", read_only=True, default=None)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    allowed = serializers.CharField(source="allowed_display", read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "url",
            "position",
            "position_title",
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
