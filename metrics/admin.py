from django.contrib import admin

from metrics.models import KPI, HeadcountSnapshot, KPIObservation, PerformanceObservation


@admin.register(KPI)
class KPIAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "target_display", "unit", "better", "review_period")
    list_filter = ("unit", "better", "review_period")
    search_fields = ("name", "code", "description")
    prepopulated_fields = {"code": ("name",)}

    @admin.display(description="target")
    def target_display(self, kpi):
        return kpi.target_display


@admin.register(KPIObservation)
class KPIObservationAdmin(admin.ModelAdmin):
    list_display = ("kpi", "scope", "period_start", "period_end", "value")
    list_filter = ("kpi", "period_start")
    search_fields = ("kpi__name", "scope__title", "note")
    autocomplete_fields = ("scope",)
    date_hierarchy = "period_start"
    list_select_related = ("kpi", "scope")


@admin.register(PerformanceObservation)
class PerformanceObservationAdmin(admin.ModelAdmin):
    list_display = ("person", "metric", "period_start", "period_end", "value", "sample_size")
    list_filter = ("metric", "period_start")
    search_fields = ("person__given_name", "person__family_name", "person__employee_id")
    autocomplete_fields = ("person",)
    date_hierarchy = "period_start"
    list_select_related = ("person",)


@admin.register(HeadcountSnapshot)
class HeadcountSnapshotAdmin(admin.ModelAdmin):
    list_display = ("taken_at", "scope_title", "total", "filled", "open", "planned")
    date_hierarchy = "taken_at"
    readonly_fields = [f.name for f in HeadcountSnapshot._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
