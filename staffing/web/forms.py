"""Forms of the org chart's editing dialogs. They only read input; the change itself is made
by the service the view calls, which checks scope and the tree again inside its lock."""

from collections import Counter

from django import forms

from orgdesign.kernel import days
from roles.models import Role
from roles.selectors import roles_allowed_under
from staffing import selectors
from staffing.models import Location, Person, Position, Scenario
from staffing.scenarios import read
from tiers.models import Squad


class PositionForm(forms.Form):
    """A position under ``parent``: only the roles its span rule lets report to it (see
    :meth:`roles.models.Role.allows_report`); none, with the reason, when its role has no
    reports. ``reports``, its present direct reports, suggest the role and the location."""

    title = forms.CharField(
        max_length=120, required=False, help_text="Empty: the name of the role chosen."
    )
    role = forms.ModelChoiceField(queryset=Role.objects.none())
    location = forms.ModelChoiceField(queryset=Location.objects.all(), required=False)
    squad = forms.ModelChoiceField(queryset=Squad.objects.all(), required=False)
    status = forms.ChoiceField(
        choices=[(Position.Status.OPEN, "Open: hiring"), (Position.Status.PLANNED, "Planned")],
        required=False,
        help_text="A position is filled by giving it a person.",
    )

    checks_parent = True  # whether ``parent`` may take a new report at all

    def __init__(self, *args, parent, reports=None, **kwargs):
        self.no_reports = ""
        if self.checks_parent and parent is not None and not parent.role.may_have_reports:
            self.no_reports = parent.role.report_refusal(parent.label)
        allowed = roles_allowed_under(parent.role if parent is not None else None)
        if reports is not None and "initial" not in kwargs:
            kwargs["initial"] = suggested(parent, reports, allowed)
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = allowed

    def clean(self):
        if self.no_reports:
            raise forms.ValidationError(self.no_reports)
        data = super().clean()
        if not (data.get("title") or "").strip() and data.get("role") is not None:
            data["title"] = data["role"].name
        return data


def suggested(parent, reports, allowed) -> dict:
    """The role and location of a new report: what most of ``parent``'s present reports
    have (the role only if still allowed there, or the one role allowed), else the
    manager's own location (one query, two with the allowed roles)."""
    rows = list(reports.values_list("role_id", "location_id"))
    roles = Counter(role for role, _ in rows)
    allowed_ids = set(allowed.values_list("pk", flat=True))
    role = next((r for r, _ in roles.most_common() if r in allowed_ids), None)
    if role is None and len(allowed_ids) == 1:
        role = next(iter(allowed_ids))
    places = Counter(place for _, place in rows if place is not None)
    location = places.most_common(1)[0][0] if places else getattr(parent, "location_id", None)
    return {"role": role, "location": location}


class EditForm(PositionForm):
    checks_parent = False  # the position exists: its manager is not what is edited here

    def __init__(self, *args, position: Position, **kwargs):
        kwargs.setdefault("initial", {
            "title": position.title, "role": position.role_id, "location": position.location_id,
            "squad": position.squad_id, "status": position.status,
        })  # fmt: skip
        super().__init__(*args, parent=position.parent, **kwargs)
        self.fields["title"].required = True
        self.fields["title"].help_text = ""
        # the current role stays offered even if the rules above have changed since
        allowed = self.fields["role"].queryset
        self.fields["role"].queryset = (
            allowed | Role.objects.filter(pk=position.role_id)
        ).distinct()
        if position.holder_id:
            del self.fields["status"]


class MoveForm(forms.Form):
    new_parent = forms.ModelChoiceField(
        queryset=Position.objects.none(),
        required=False,
        empty_label="the top of the organization",
        label="Move under",
        error_messages={"invalid_choice": "Choose a position you can see."},
    )
    to_top = forms.BooleanField(required=False, label="Make it a top position")

    def __init__(self, *args, visible, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = visible

    def clean(self):
        data = super().clean()
        if not data.get("new_parent") and not data.get("to_top"):
            raise forms.ValidationError("Choose the manager to move it under.")
        return data


class FillForm(forms.Form):
    """``people``: those the viewer may place (selectors.placeable_people); anyone else is
    refused with the same words as an id that does not exist."""

    person = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        error_messages={"required": "Choose a person.", "invalid_choice": "Choose a person."},
    )
    start_date = days.DayFormField(required=False, help_text="Empty: today.")

    def __init__(self, data=None, *, people):
        super().__init__(data)
        self.fields["person"].queryset = people.filter(is_active=True)


class VacateForm(forms.Form):
    end_date = days.DayFormField(required=False, help_text="Empty: today.")
    note = forms.CharField(max_length=200, required=False)


class DeleteForm(forms.Form):
    reports = forms.ChoiceField(
        choices=[
            ("refuse", "Only if nobody reports to it"),
            ("move_up", "Move its reports up to its manager"),
        ],
        initial="refuse",
        widget=forms.RadioSelect,
    )


class ScenarioForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(
        attrs={"rows": 2}))  # fmt: skip
    based_on = forms.ModelChoiceField(
        queryset=Scenario.objects.none(),
        required=False,
        empty_label="the live organization",
        label="Start from",
    )
    root = forms.ModelChoiceField(
        queryset=Position.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose a position you can see."},
    )

    def __init__(self, *args, user, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on"].queryset = read.visible_scenarios(user, scope).exclude(
            status=Scenario.Status.DISCARDED
        )
        self.fields["root"].queryset = selectors.visible(scope)
