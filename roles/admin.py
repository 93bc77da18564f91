from django.contrib import admin

from orgdesign.kernel.admin import HistoryAdmin
from roles.models import PromotionPath, Role, Skill, SpanLimit, SpanRule


class PathsOutInline(admin.TabularInline):
    model = PromotionPath
    fk_name = "from_role"
    extra = 0
    verbose_name = "promotion path out of this role"
    verbose_name_plural = "promotion paths out of this role"
    fields = (
        "to_role",
        "min_months",
        "max_months",
        "approximate",
        "squad_months",
        "external_hires_allowed",
    )
    autocomplete_fields = ("to_role",)


class SpanRuleInline(admin.StackedInline):
    model = SpanRule
    extra = 0
    max_num = 1
    filter_horizontal = ("allowed_reports",)


@admin.register(Role)
class RoleAdmin(HistoryAdmin):
    list_display = (
        "name",
        "tier",
        "track",
        "level",
        "csat_target",
        "supervision_share",
        "external_hire_display",
        "is_active",
    )
    list_filter = ("tier", "track", "is_active")
    search_fields = ("name", "code", "summary")
    prepopulated_fields = {"code": ("name",)}
    filter_horizontal = ("skills",)
    inlines = [PathsOutInline, SpanRuleInline]
    list_select_related = ("tier",)
    fieldsets = (
        (None, {"fields": ("name", "code", "tier", "track", "level", "is_active")}),
        ("What the role does", {"fields": ("summary", "responsibilities", "skills")}),
        (
            "Occupational classification",
            {"fields": ("occupation_code", "occupation_code_system"), "classes": ("collapse",)},
        ),
        (
            "Targets and time",
            {
                "fields": (
                    "csat_target",
                    "tickets_per_day_target",
                    "supervision_share",
                    "hands_on_share_max",
                )
            },
        ),
        (
            "Hiring from outside",
            {
                "fields": (
                    "external_hire_experience",
                    "external_hire_years_min",
                    "external_hire_years_max",
                )
            },
        ),
    )

    @admin.display(description="outside hires")
    def external_hire_display(self, role):
        return role.external_hire_display


@admin.register(PromotionPath)
class PromotionPathAdmin(HistoryAdmin):
    list_display = (
        "from_role",
        "to_role",
        "min_months",
        "max_months",
        "approximate",
        "squad_months",
        "external_hires_allowed",
    )
    list_filter = ("from_role__track", "to_role__tier", "external_hires_allowed")
    search_fields = ("from_role__name", "to_role__name", "criteria")
    autocomplete_fields = ("from_role", "to_role")
    list_select_related = ("from_role", "to_role")


class SpanLimitInline(admin.TabularInline):
    """Limits per kind of report ("2–3 team leads and/or 1–10 agents"), on the rule's page;
    each saved limit has its own audit trail, like the rule's allowed reports."""

    model = SpanLimit
    extra = 0
    fields = ("name", "roles", "min_count", "max_count")
    autocomplete_fields = ("roles",)


@admin.register(SpanRule)
class SpanRuleAdmin(HistoryAdmin):
    list_display = ("role", "direct_display", "team_display", "limits_display", "counts")
    list_filter = ("counts", "role__tier")
    search_fields = ("role__name",)
    filter_horizontal = ("allowed_reports",)
    list_select_related = ("role",)
    inlines = [SpanLimitInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("limits")

    @admin.display(description="per kind of report")
    def limits_display(self, rule):
        return "; ".join(limit.range_display for limit in rule.limits.all()) or "—"

    @admin.display(description="direct reports")
    def direct_display(self, rule):
        return rule.direct_display

    @admin.display(description="whole team")
    def team_display(self, rule):
        return rule.team_display


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "description")
    list_filter = ("kind",)
    search_fields = ("name", "description")
    prepopulated_fields = {"code": ("name",)}
