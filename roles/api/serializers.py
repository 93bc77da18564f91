from functools import cache

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orgdesign.kernel.rest import BriefRelatedField, Links, lines_field
from roles.models import PromotionPath, Role, Skill, SpanLimit, SpanRule, text_lines
from roles.selectors import RoleRelations, role_relations


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
            "squad_months",
            "external_hires_allowed",
        ]
        extra_kwargs = {"url": {"view_name": "promotionpath-detail"}}


class SpanLimitSerializer(serializers.ModelSerializer):
    """A limit on one kind of direct report ("2–3 team leads"). Its minimum applies only to
    a manager who has reports of that kind."""

    roles = BriefRelatedField("role-detail", many=True, read_only=True)
    limit = serializers.CharField(source="range_display", read_only=True)

    class Meta:
        model = SpanLimit
        fields = ["name", "roles", "min_count", "max_count", "limit"]


class SpanRuleSerializer(serializers.ModelSerializer):
    allowed_reports = BriefRelatedField("role-detail", many=True, read_only=True)
    direct = serializers.CharField(source="direct_display", read_only=True)
    team = serializers.CharField(source="team_display", read_only=True)
    limits = SpanLimitSerializer(many=True, read_only=True)

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
            "limits",
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


@cache
def _decimals() -> dict[str, serializers.DecimalField]:
    """The role's decimal fields as RoleSerializer writes them (places, rounding)."""
    fields = RoleSerializer().fields
    names = [name for name, field in fields.items() if isinstance(field, serializers.DecimalField)]
    return {name: fields[name] for name in names}


class RoleRepresentation:
    """What :class:`RoleSerializer` shows for some roles, byte for byte, built in one pass
    over plain rows: the roles with their tier and span rule, and :func:`role_relations`'
    rows (five queries at most, whatever the number of roles). A nested serializer per
    role, path and link spent 40–90 ms on the 23 roles of the catalogue; this takes a few.

    RoleSerializer stays the contract: the OpenAPI schema and the browsable API read it,
    and tests compare the two on every field (tests/test_roles_api_pinned.py). A field added
    to the serializer must be added here too; those tests fail until it is.

    ``context`` is the serializer context a viewset gives (``request``, and ``format``: a
    URL's format suffix, which the roles' and the paths' own URLs carry, as DRF's
    hyperlinked fields do, and the brief objects' URLs do not)."""

    def __init__(self, context: dict):
        self.link = Links(context["request"])
        self.format = context.get("format")

    def many(self, roles) -> list[dict]:
        roles = list(roles)
        relations = role_relations(roles)
        return [self.one(role, relations) for role in roles]

    def one(self, role: Role, relations: RoleRelations) -> dict:
        link, decimal = self.link, _decimals()

        def number(name):
            value = getattr(role, name)
            return None if value is None else decimal[name].to_representation(value)

        rule = getattr(role, "span_rule", None)
        return {
            "id": role.pk,
            "url": link("role-detail", role.pk, self.format),
            "code": role.code,
            "name": role.name,
            "tier": self.brief("tier-detail", role.tier.pk, str(role.tier)),
            "track": role.track,
            "track_display": str(role.get_track_display()),
            "level": role.level,
            "summary": role.summary,
            "responsibilities": text_lines(role.responsibilities),
            "csat_target": number("csat_target"),
            "tickets_per_day_target": role.tickets_per_day_target,
            "supervision_share": number("supervision_share"),
            "hands_on_share_max": number("hands_on_share_max"),
            "external_hire_years_min": number("external_hire_years_min"),
            "external_hire_years_max": number("external_hire_years_max"),
            "external_hire_experience": role.external_hire_experience,
            "external_hire": role.external_hire_display,
            "skills": [
                self.brief("skill-detail", pk, name)
                for pk, name in relations.skills.get(role.pk, ())
            ],
            "span_rule": None if rule is None else self.span_rule(rule, relations),
            "paths_in": [self.path(row) for row in relations.paths_in.get(role.pk, ())],
            "paths_out": [self.path(row) for row in relations.paths_out.get(role.pk, ())],
            "occupation_code": role.occupation_code,
            "occupation_code_system": role.occupation_code_system,
            "is_active": role.is_active,
        }

    def brief(self, view_name: str, pk: int, name: str) -> dict:
        """A related object as :class:`BriefRelatedField` shows it."""
        return {"id": pk, "url": self.link(view_name, pk), "name": name}

    def span_rule(self, rule: SpanRule, relations: RoleRelations) -> dict:
        return {
            "min_direct": rule.min_direct,
            "max_direct": rule.max_direct,
            "direct": rule.direct_display,
            "min_team": rule.min_team,
            "max_team": rule.max_team,
            "team": rule.team_display,
            "counts": rule.counts,
            "allowed_reports": [
                self.brief("role-detail", pk, name)
                for pk, name in relations.allowed_reports.get(rule.pk, ())
            ],
            "limits": [
                {
                    "name": limit.name,
                    "roles": [self.brief("role-detail", pk, name) for pk, name in limit.roles],
                    "min_count": limit.min_count,
                    "max_count": limit.max_count,
                    "limit": SpanLimit.limit_text(limit.name, limit.min_count, limit.max_count),
                }
                for limit in relations.limits.get(rule.pk, ())
            ],
            "notes": rule.notes,
        }

    def path(self, row) -> dict:
        """A promotion path (a row of ``PATH_COLUMNS``) as PromotionPathSerializer shows it."""
        return {
            "id": row.id,
            "url": self.link("promotionpath-detail", row.id, self.format),
            "from_role": self.brief("role-detail", row.from_role_id, row.from_role__name),
            "to_role": self.brief("role-detail", row.to_role_id, row.to_role__name),
            "min_months": row.min_months,
            "max_months": row.max_months,
            "approximate": row.approximate,
            "months": PromotionPath.months_text(row.min_months, row.max_months, row.approximate),
            "criteria": text_lines(row.criteria),
            "squad_months": row.squad_months,
            "external_hires_allowed": row.external_hires_allowed,
        }


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
    squad_months = serializers.IntegerField(
        allow_null=True,
        help_text="Months in each specialist squad of the from-role's tier, judged from the "
        "squad history. null: not asked.",
    )
    external_hires_allowed = serializers.BooleanField()


class CareerPathSerializer(serializers.Serializer):
    """Documents the career-path graph (built in the view, not from one model)."""

    track = serializers.CharField()
    label = serializers.CharField()
    url = serializers.URLField()
    nodes = CareerPathNodeSerializer(many=True)
    edges = CareerPathEdgeSerializer(many=True)
