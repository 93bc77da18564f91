"""Admin for people and the reporting tree. Every change goes through staffing.services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from mptt.admin import MPTTModelAdmin

from orgdesign.kernel.admin import HistoryAdmin
from orgdesign.kernel.forms import dry_run
from staffing import services, triage
from staffing.models import (
    Assignment,
    DottedLine,
    Finding,
    ImportJob,
    Location,
    Person,
    Position,
    Promotion,
    TriageWeek,
)
from staffing.scope import scope_for
from staffing.selectors import placeable_people, visible_people
from staffing.spans import marks


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    """Locations, with their open hours (which the triage check reads): saved through
    staffing.services.location_save."""

    list_display = ("name", "city", "country", "timezone", "open_hours", "positions_count")
    search_fields = ("name", "city", "country", "code")
    list_filter = ("country",)
    prepopulated_fields = {"code": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "code", "city", "country", "timezone")}),
        ("Open hours", {"fields": ("open_days", "opens", "closes")}),
    )

    @admin.display(description="open hours")
    def open_hours(self, location):
        return location.open_hours_display

    def save_model(self, request, obj, form, change):
        services.location_save(actor=request.user, location=obj)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(positions_count=Count("positions"))

    @admin.display(description="positions", ordering="positions_count")
    def positions_count(self, location):
        return location.positions_count


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fk_name = "person"
    extra = 0
    can_delete = False
    fields = ("role", "position_title", "squad", "start_date", "end_date", "note")
    readonly_fields = fields
    ordering = ("-start_date",)
    verbose_name_plural = "history (from assignments and promotions)"

    def has_add_permission(self, request, obj=None):
        return False


def save_person(actor, person: Person | None, cleaned: dict, form) -> Person:
    """What the person form asks for, through the one service of each case."""
    if person is not None:
        changes = {name: cleaned[name] for name in form.changed_data if name in cleaned}
        return services.person_update(actor=actor, person=person, **changes)
    values = {
        name: cleaned[name] for name in form.fields if name != "is_active" and name in cleaned
    }
    return services.person_create(actor=actor, **values)


class PersonForm(forms.ModelForm):
    """The service runs in a rolled-back transaction when the form is checked, so its
    refusals (deactivating someone who holds a position, a person outside the editor's part)
    show on the form and nothing is saved; the admin then saves through the same service."""

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        person = self.instance if self.instance.pk else None
        dry_run(self, lambda: save_person(self.request_user, person, cleaned, self))
        return cleaned


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("full_name", "employee_id", "current_position", "location", "is_active")
    list_filter = ("is_active", "location", "position__role__tier", "position__role")
    search_fields = ("given_name", "family_name", "employee_id", "email")
    autocomplete_fields = ("user",)
    list_select_related = ("location", "position")
    inlines = [AssignmentInline]
    fields = (
        "employee_id",
        "given_name",
        "family_name",
        "email",
        "location",
        "hire_date",
        "user",
        "is_active",
    )

    @admin.display(description="name", ordering="family_name")
    def full_name(self, person):
        return person.full_name

    @admin.display(description="position")
    def current_position(self, person):
        return getattr(person, "position", None) or "—"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.sees_all:
            return queryset
        visible = Position.objects.visible_to(scope_for(request.user)).values("holder_id")
        return queryset.filter(Q(pk__in=visible) | Q(position__isnull=True))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, form=PersonForm, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):
        saved = save_person(request.user, obj if change else None, form.cleaned_data, form)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False  # people leave by being vacated and deactivated; their history stays


class PositionForm(forms.ModelForm):
    status = forms.ChoiceField(
        choices=[(Position.Status.OPEN, "Open"), (Position.Status.PLANNED, "Planned")],
        required=False,
        help_text="For a vacancy: open to hire, or planned. A position with a holder is filled.",
    )
    holder = forms.ModelChoiceField(
        Person.objects.filter(is_active=True),
        required=False,
        help_text="Choosing someone who holds another position moves them here.",
        widget=AutocompleteSelect(Position._meta.get_field("holder"), admin.site),
    )

    class Meta:
        model = Position
        fields = ("title", "role", "parent", "squad", "location", "external_id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = placeable_people(scope_for(self.request_user)).filter(is_active=True)
        self.fields["holder"].queryset = people
        if self.instance.pk:
            self.initial["holder"] = self.instance.holder_id
            if self.instance.status != Position.Status.FILLED:
                self.initial["status"] = self.instance.status

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        position = self.instance if self.instance.pk else None
        dry_run(
            self,
            lambda: services.position_save(
                actor=self.request_user,
                position=position,
                values=cleaned,
                changed=self.changed_data,
            ),
        )
        return cleaned


class DottedLineInline(admin.TabularInline):
    model = DottedLine
    fk_name = "position"
    extra = 0
    fields = ("manager", "purpose")
    autocomplete_fields = ("manager",)
    verbose_name = "dotted line (matrix reporting)"
    verbose_name_plural = "dotted lines (matrix reporting)"


@admin.register(Position)
class PositionAdmin(HistoryAdmin, MPTTModelAdmin):
    form = PositionForm
    mptt_level_indent = 18
    list_display = (
        "title",
        "role",
        "tier",
        "holder",
        "status",
        "location",
        "squad",
        "direct_reports",
        "team",
    )
    list_filter = ("role__tier", "role", "location", "status", "squad")
    search_fields = (
        "title",
        "role__name",
        "holder__given_name",
        "holder__family_name",
        "location__name",
        "external_id",
    )
    autocomplete_fields = ("parent",)
    list_select_related = ("role__tier", "holder", "location", "squad")
    list_per_page = 100
    actions = ["vacate_selected", "delete_moving_reports_up"]
    inlines = [DottedLineInline]

    def get_queryset(self, request):
        return (
            Position.objects.visible_to(scope_for(request.user))
            .select_related("role__tier", "holder", "location", "squad")
            .annotate(direct_count=Count("children"))
            .order_by("tree_id", "lft")
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        # only the model's own fields go onto the instance when the form is checked: status
        # and holder are the form's, carried out by the services (services.position_save); put
        # on the instance too, a filled position's blank status (or a chosen holder on a
        # vacancy's "open") failed the model's check and no filled position could be saved
        kwargs["fields"] = PositionForm.Meta.fields
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="tier", ordering="role__tier__rank")
    def tier(self, position):
        return position.role.tier

    @admin.display(description="direct", ordering="direct_count")
    def direct_reports(self, position):
        return position.direct_count

    @admin.display(description="team")
    def team(self, position):
        return position.team_size

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or scope_for(request.user).can_edit(obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or scope_for(request.user).can_edit(obj))

    def has_view_history_or_change_history_permission(self, request, obj=None):
        """A position's history: for those who see it now, or, once it is deleted, for
        those who see the whole organization."""
        if not self.has_view_or_change_permission(request):
            return False
        if obj is None:
            return True
        scope = scope_for(request.user)
        stored = Position.objects.filter(pk=obj.pk).first()
        return scope.sees_all if stored is None else scope.can_see(stored)

    def save_model(self, request, obj, form, change):
        position = services.position_save(
            actor=request.user,
            position=obj if change else None,
            values=form.cleaned_data,
            changed=form.changed_data,
        )
        obj.pk = position.pk
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not DottedLine:
            return super().save_formset(request, form, formset, change)
        # the inline's rows are written by the dotted-line services only (scope, tree lock),
        # never by the formset: save(commit=False) only sorts them into new, changed, deleted
        formset.save(commit=False)
        for line in formset.deleted_objects:
            services.dotted_line_delete(actor=request.user, line=line)
        for line, changed in formset.changed_objects:
            services.dotted_line_update(
                actor=request.user,
                line=line.pk,
                **{name: getattr(line, name) for name in changed if name in ("manager", "purpose")},
            )
        for line in formset.new_objects:
            services.dotted_line_add(
                actor=request.user,
                position=form.instance,
                manager=line.manager,
                purpose=line.purpose,
            )
        return None

    def delete_model(self, request, obj):
        services.position_delete(actor=request.user, position=obj, reports="refuse")

    @admin.action(description="Vacate the selected positions")
    def vacate_selected(self, request, queryset):
        done = 0
        for position in queryset.filter(holder__isnull=False):
            try:
                services.position_vacate(actor=request.user, position=position)
                done += 1
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{position}: {_text(error)}", messages.ERROR)
        self.message_user(request, f"Vacated {done} position(s).", messages.SUCCESS)

    @admin.action(
        description="Delete the selected positions (their reports move up to the manager)",
        permissions=["delete"],
    )
    def delete_moving_reports_up(self, request, queryset):
        done = 0
        for pk in list(queryset.order_by("-level").values_list("pk", flat=True)):
            position = Position.objects.filter(pk=pk).first()
            if position is None:
                continue
            try:
                services.position_delete(actor=request.user, position=position, reports="move_up")
                done += 1
            except (ValidationError, PermissionDenied) as error:
                self.message_user(request, f"{position}: {_text(error)}", messages.ERROR)
        self.message_user(request, f"Deleted {done} position(s).", messages.SUCCESS)


@admin.register(Assignment)
class AssignmentAdmin(HistoryAdmin):
    list_display = ("person", "role", "position_title", "squad", "start_date", "end_date")
    list_filter = ("role__tier", "role", "squad")
    search_fields = ("person__given_name", "person__family_name", "position_title")
    date_hierarchy = "start_date"
    list_select_related = ("person", "role", "squad")

    def get_queryset(self, request):
        """The assignments of the positions the user sees, and of the people in them."""
        queryset = super().get_queryset(request)
        scope = scope_for(request.user)
        if scope.sees_all:
            return queryset
        visible = scope.filter_visible(Position.objects.all())
        return queryset.filter(Q(position__in=visible) | Q(person__position__in=visible))

    def has_view_history_or_change_history_permission(self, request, obj=None):
        if not self.has_view_or_change_permission(request):
            return False
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return False  # assignments are made by filling and vacating positions

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _text(error) -> str:
    return "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)


class FindingStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.open()
        if self.value() == "resolved":
            return queryset.resolved()
        return queryset


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    """Findings are written by their checks only (span of control: staffing.spans; the
    others: staffing.checks); here they are read."""

    list_display = (
        "position_title",
        "source",
        "week",
        "kind",
        "severity",
        "measured_display",
        "allowed_display",
        "first_seen",
        "resolved_at",
    )
    list_filter = (FindingStatusFilter, "source", "severity", "kind", "basis", "rule__role")
    search_fields = ("position_title", "message")
    list_select_related = ("position", "location", "rule__role")
    date_hierarchy = "first_seen"
    readonly_fields = [field.name for field in Finding._meta.fields]
    actions = ["recompute_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(scope_for(request.user)).by_severity()

    @admin.display(description="measured")
    def measured_display(self, finding):
        if finding.measured is None:
            return "—"
        if finding.basis:
            return f"{finding.measured} ({finding.get_basis_display().lower()})"
        return finding.measured

    @admin.display(description="allowed")
    def allowed_display(self, finding):
        return finding.allowed_display or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # history: a finding is resolved, never deleted

    @admin.action(description="Recompute the selected findings' positions now")
    def recompute_selected(self, request, queryset):
        ids = set()
        for pk, parent in queryset.exclude(position=None).values_list(
            "position_id", "position__parent_id"
        ):
            ids.update(x for x in (pk, parent) if x is not None)
        outcome = marks.recompute(ids)
        self.message_user(request, outcome.summary(), messages.SUCCESS)


class TriageWeekForm(forms.ModelForm):
    class Meta:
        model = TriageWeek
        fields = ["location", "week", "people"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        rota = self.instance if self.instance.pk else None
        dry_run(
            self,
            lambda: services.triage_week_set(
                actor=self.request_user,
                location=rota.location if rota else cleaned.get("location"),
                week=rota.week if rota else cleaned.get("week"),
                people=cleaned.get("people", []),
            ),
        )
        return cleaned


@admin.register(TriageWeek)
class TriageWeekAdmin(admin.ModelAdmin):
    """A location's triage rota for a week, set through staffing.services.triage_week_set
    (the triage page, /triage/, is the everyday way)."""

    form = TriageWeekForm
    list_display = ("location", "week", "on_triage", "updated_at")
    list_filter = ("location",)
    date_hierarchy = "week"
    autocomplete_fields = ("people",)
    list_select_related = ("location",)

    def get_queryset(self, request):
        locations = triage.visible_locations(scope_for(request.user))
        seen = visible_people(scope_for(request.user), request.user)
        return (
            super()
            .get_queryset(request)
            .filter(location__in=locations)
            .annotate(on_rota=Count("people", distinct=True))
            .prefetch_related(Prefetch("people", queryset=seen, to_attr="seen_people"))
        )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "people":  # only names the viewer may see are offered or shown
            kwargs["queryset"] = visible_people(scope_for(request.user), request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("location", "week") if obj is not None else ()

    @admin.display(description="on triage")
    def on_triage(self, rota):
        """The people on the rota the viewer sees, and how many others there are."""
        names = [p.full_name for p in rota.seen_people]
        others = rota.on_rota - len(names)
        if others:
            names.append(f"{others} more")
        return ", ".join(names) or "nobody"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):
        saved = services.triage_week_set(
            actor=request.user,
            location=obj.location,
            week=obj.week,
            people=form.cleaned_data.get("people", []),
        )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # the people were set by the service

    def has_delete_permission(self, request, obj=None):
        return bool(request.user.is_superuser)


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    """Promotions are made from the person's page (metrics.services.person_promote); here
    they are reviewed, overrides included."""

    list_display = ("person", "from_role", "to_role", "effective", "promoted_by_name", "override")
    list_filter = ("to_role", "effective")
    search_fields = ("person__given_name", "person__family_name", "override_reason")
    date_hierarchy = "effective"
    list_select_related = ("person", "from_role", "to_role")
    readonly_fields = [f.name for f in Promotion._meta.fields]

    @admin.display(boolean=True, description="override")
    def override(self, promotion):
        return bool(promotion.override_reason)

    def get_queryset(self, request):
        visible = visible_people(scope_for(request.user), request.user)
        return super().get_queryset(request).filter(person_id__in=visible.values("pk"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports from CSV, read only: a file is checked and imported from the import page
    (the "Import from CSV" button above the list), through staffing.interchange."""

    list_display = ("filename", "kind", "rows", "status", "progress", "created_by", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("filename",)
    exclude = ("content",)
    readonly_fields = (
        "filename",
        "kind",
        "rows",
        "size",
        "sha256",
        "status",
        "phase",
        "progress",
        "summary",
        "problems",
        "changes",
        "message",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )

    def has_module_permission(self, request):
        return scope_for(request.user).edits_all

    def has_view_permission(self, request, obj=None):
        return scope_for(request.user).edits_all

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
