"""Forms of the org chart's editing dialogs. They only read input; the change itself is made
by the service the view calls, which checks scope and the tree again inside its lock."""

from django import forms

from roles.models import Role
from staffing.models import Location, Person, Position
from tiers.models import Squad


def roles_allowed_under(parent: Position | None):
    """The roles the span rules let report to ``parent`` (every active role when its role
    has no rule or the rule names none)."""
    roles = Role.objects.filter(is_active=True).select_related("tier")
    rule = getattr(parent.role, "span_rule", None) if parent is not None else None
    if rule is not None and rule.allowed_reports.exists():
        roles = roles.filter(pk__in=rule.allowed_reports.values("pk"))
    return roles.order_by("tier__rank", "track", "level")


class PositionForm(forms.Form):
    title = forms.CharField(max_length=120)
    role = forms.ModelChoiceField(queryset=Role.objects.none())
    location = forms.ModelChoiceField(queryset=Location.objects.all(), required=False)
    squad = forms.ModelChoiceField(queryset=Squad.objects.all(), required=False)
    status = forms.ChoiceField(
        choices=[(Position.Status.OPEN, "Open: hiring"), (Position.Status.PLANNED, "Planned")],
        required=False,
        help_text="A position is filled by giving it a person.",
    )

    def __init__(self, *args, parent: Position | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles_allowed_under(parent)


class EditForm(PositionForm):
    def __init__(self, *args, position: Position, **kwargs):
        kwargs.setdefault("initial", {
            "title": position.title, "role": position.role_id, "location": position.location_id,
            "squad": position.squad_id, "status": position.status,
        })  # fmt: skip
        super().__init__(*args, parent=position.parent, **kwargs)
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
    start_date = forms.DateField(required=False, help_text="Empty: today.")

    def __init__(self, data=None, *, people):
        super().__init__(data)
        self.fields["person"].queryset = people.filter(is_active=True)


class VacateForm(forms.Form):
    end_date = forms.DateField(required=False, help_text="Empty: today.")
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
