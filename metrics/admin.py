from django import forms
from django.contrib import admin
from django.db import transaction
from django.forms.models import construct_instance

from metrics import services
from metrics.models import KPI, HeadcountSnapshot, KPIObservation, PerformanceObservation
from orgdesign.kernel.forms import dry_run
from staffing.scope import scope_for
from staffing.selectors import visible_people


@admin.register(KPI)
class KPIAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "target_display", "unit", "better", "review_period")
    list_filter = ("unit", "better", "review_period")
    search_fields = ("name", "code", "description")
    prepopulated_fields = {"code": ("name",)}

    @admin.display(description="target")
    def target_display(self, kpi):
        return kpi.target_display


def save_observation(actor, observation: KPIObservation | None, data: dict, changed: list[str]):
    """Carry out the admin form through the services; returns the saved observation."""
    if observation is None:
        fields = {name: data.get(name) for name in services.OBSERVATION_FIELDS}
        fields["note"] = fields["note"] or ""
        replace = bool(data.get("replace"))
        return services.kpi_observation_record(actor=actor, replace=replace, **fields)[0]
    changes = {name: data[name] for name in changed if name in services.OBSERVATION_FIELDS}
    return services.kpi_observation_update(actor=actor, observation=observation, **changes)


class KPIObservationForm(forms.ModelForm):
    replace = forms.BooleanField(
        required=False,
        label="Replace",
        help_text="Overwrite a value already recorded for the same KPI, team and period.",
    )

    class Meta:
        model = KPIObservation
        fields = services.OBSERVATION_FIELDS

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        stored = KPIObservation.objects.get(pk=self.instance.pk) if self.instance.pk else None
        dry_run(
            self, lambda: save_observation(self.request_user, stored, cleaned, self.changed_data)
        )
        return cleaned

    def _post_clean(self):
        # clean() ran every check of the service, a second value for the period included
        # (refused, or allowed by "replace"); the model's own pass would refuse a replace.
        self.instance = construct_instance(self, self.instance, self._meta.fields)


@admin.register(KPIObservation)
class KPIObservationAdmin(admin.ModelAdmin):
    """Values entered by hand; every save and delete goes through :mod:`metrics.services`,
    so a director sees and records only their own teams' values."""

    form = KPIObservationForm
    list_display = ("kpi", "scope", "period_start", "period_end", "value")
    list_filter = ("kpi", "period_start")
    search_fields = ("kpi__name", "scope__title", "note")
    autocomplete_fields = ("scope",)
    date_hierarchy = "period_start"
    list_select_related = ("kpi", "scope")

    def get_queryset(self, request):
        return KPIObservation.objects.visible_to(scope_for(request.user))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form

    def get_fields(self, request, obj=None):
        fields = list(services.OBSERVATION_FIELDS)
        return fields if obj is not None else [*fields, "replace"]  # replace: when adding

    def save_model(self, request, obj, form, change):
        stored = KPIObservation.objects.get(pk=obj.pk) if change else None
        saved = save_observation(request.user, stored, form.cleaned_data, form.changed_data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.kpi_observation_delete(actor=request.user, observation=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for observation in queryset:
                services.kpi_observation_delete(actor=request.user, observation=observation)


@admin.register(PerformanceObservation)
class PerformanceObservationAdmin(admin.ModelAdmin):
    list_display = ("person", "metric", "period_start", "period_end", "value", "sample_size")
    list_filter = ("metric", "period_start")
    search_fields = ("person__given_name", "person__family_name", "person__employee_id")
    autocomplete_fields = ("person",)
    date_hierarchy = "period_start"
    list_select_related = ("person",)

    def get_queryset(self, request):
        """The results of the people the viewer sees (staffing.selectors.visible_people)."""
        people = visible_people(scope_for(request.user), request.user)
        return super().get_queryset(request).filter(person__in=people.values("pk"))


@admin.register(HeadcountSnapshot)
class HeadcountSnapshotAdmin(admin.ModelAdmin):
    list_display = ("taken_at", "scope_title", "total", "filled", "open", "planned")
    date_hierarchy = "taken_at"
    readonly_fields = [f.name for f in HeadcountSnapshot._meta.fields]

    def get_queryset(self, request):
        return HeadcountSnapshot.objects.visible_to(scope_for(request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
