from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orgdesign.kernel.rest import BriefRelatedField, lines_field
from roles.models import PromotionPath, Role, Skill, SpanRule


class SkillSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "url", "code", "name", "kind", "description"]
        extra_kwargs = {"url": {"view_name": "skill-detail"}}


class PromotionPathSerializer(serializers.ModelSerializer):
    from_role = BriefRelatedField("role-detail", read_only=True)
    to_role = BriefRelatedField("role-detail", read_only=True)
    criteria = lines_field("criteria_items")
    months = serializers.CharField(source="months_display", read_only=True)

    class Meta:
        model = PromotionPath
        fields = [
            "id",
            "url",
            "from_role",
            "to_role",
            "min_months",
            "max_months",
            "approximate",
            "months",
            "criteria",
            "external_hires_allowed",
        ]
        extra_kwargs = {"url": {"view_name": "promotionpath-detail"}}


class SpanRuleSerializer(serializers.ModelSerializer):
    allowed_reports = BriefRelatedField("role-detail", many=True, read_only=True)
    direct = serializers.CharField(source="direct_display", read_only=True)
    team = serializers.CharField(source="team_display", read_only=True)

    class Meta:
        model = SpanRule
        fields = [
            "min_direct",
            "max_direct",
            "direct",
            "min_team",
            "max_team",
            "team",
            "counts",
            "allowed_reports",
            "notes",
        ]


class RoleSerializer(serializers.ModelSerializer):
    """A role of the catalogue with everything HR keeps about it."""

    tier = BriefRelatedField("tier-detail", read_only=True)
    track_display = serializers.CharField(source="get_track_display", read_only=True)
    responsibilities = lines_field("responsibility_items")
    external_hire = serializers.CharField(source="external_hire_display", read_only=True)
    skills = BriefRelatedField("skill-detail", many=True, read_only=True)
    span_rule = serializers.SerializerMethodField()
    paths_in = PromotionPathSerializer(many=True, read_only=True)
    paths_out = PromotionPathSerializer(many=True, read_only=True)

    class Meta:
        model = Role
        fields = [
            "id",
            "url",
            "code",
            "name",
            "tier",
            "track",
            "track_display",
            "level",
            "summary",
            "responsibilities",
            "csat_target",
            "tickets_per_day_target",
            "supervision_share",
            "hands_on_share_max",
            "external_hire_years_min",
            "external_hire_years_max",
            "external_hire_experience",
            "external_hire",
            "skills",
            "span_rule",
            "paths_in",
            "paths_out",
            "occupation_code",
            "occupation_code_system",
            "is_active",
        ]
        extra_kwargs = {"url": {"view_name": "role-detail"}}

    @extend_schema_field(SpanRuleSerializer(allow_null=True))
    def get_span_rule(self, role: Role) -> dict | None:
        rule = getattr(role, "span_rule", None)
        return SpanRuleSerializer(rule, context=self.context).data if rule else None


class CareerPathNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    name = serializers.CharField()
    level = serializers.IntegerField()
    tier = serializers.CharField()
    track = serializers.CharField()
    csat_target = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    in_track = serializers.BooleanField(help_text="false: a role of another track on a path.")


class CareerPathEdgeSerializer(serializers.Serializer):
    from_role = serializers.IntegerField(help_text="A node's id.")
    to_role = serializers.IntegerField(help_text="A node's id.")
    min_months = serializers.IntegerField(allow_null=True)
    max_months = serializers.IntegerField(allow_null=True)
    approximate = serializers.BooleanField()
    months = serializers.CharField()
    criteria = serializers.ListField(child=serializers.CharField())
    external_hires_allowed = serializers.BooleanField()


class CareerPathSerializer(serializers.Serializer):
    """Documents the career-path graph (built in the view, not from one model)."""

    track = serializers.CharField()
    label = serializers.CharField()
    url = serializers.URLField()
    nodes = CareerPathNodeSerializer(many=True)
    edges = CareerPathEdgeSerializer(many=True)
