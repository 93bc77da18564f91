"""The role catalogue: roles, the promotion paths between them and span-of-control rules."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from orgdesign.kernel.audit import AuditedRecords
from orgdesign.kernel.fields import ordered_range, percent_field
from tiers.models import Tier


def text_lines(text: str) -> list[str]:
    """A text kept one item per line (responsibilities, criteria), as its non-blank lines."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class Skill(models.Model):
    class Kind(models.TextChoices):
        SKILL = "skill", "Skill"
        COMPETENCY = "competency", "Management competency"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SKILL)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    class Track(models.TextChoices):
        ADVOCACY = "advocacy", "Customer advocacy (Tier 1)"
        TECHNICAL = "technical", "Technical support (Tiers 2 and 3)"
        MANAGEMENT = "management", "Management"
        OPERATIONS = "operations", "Support operations"
        SUCCESS = "success", "Customer success"

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, unique=True)
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="roles")
    track = models.CharField(max_length=20, choices=Track.choices)
    level = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)],
        help_text="Seniority within the track; 1 is where the track starts.",
    )
    summary = models.TextField(blank=True, help_text="What the role is for, in a few sentences.")
    responsibilities = models.TextField(blank=True, help_text="One responsibility per line.")
    csat_target = percent_field("CSAT target (%)")
    tickets_per_day_target = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Tickets solved per working day. Empty: no target set."
    )
    supervision_share = percent_field("share of time supervising (%)")
    hands_on_share_max = percent_field("hands-on management, at most (%)")
    external_hire_experience = models.CharField(
        max_length=200, blank=True, help_text="What experience an outside candidate brings."
    )
    external_hire_years_min = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    external_hire_years_max = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="roles")
    occupation_code = models.CharField(
        max_length=20,
        blank=True,
        help_text="The role's code in a standard occupational classification, if HR uses one.",
    )
    occupation_code_system = models.CharField(
        max_length=20,
        blank=True,
        choices=[
            ("ISCO-08", "ISCO-08 (International Standard Classification of Occupations)"),
            ("O*NET-SOC", "O*NET-SOC (US occupational taxonomy)"),
            ("ESCO", "ESCO (European skills and occupations)"),
            ("SOC-2020", "SOC 2020 (UK standard occupational classification)"),
        ],
        help_text="Which classification the occupation code comes from.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive roles cannot be given out.")
    heads_division = models.BooleanField(
        default=False,
        editable=False,
        help_text="Each position in this role heads a division: its part of the organization "
        "is stored, locked and moved as one unit of the reporting tree (directors and above).",
    )

    history = AuditedRecords(m2m_fields=["skills"])

    class Meta:
        ordering = ["tier__rank", "track", "level", "name"]
        constraints = [
            ordered_range(
                "external_hire_years_min",
                "external_hire_years_max",
                name="role_external_years_range",
                message="External-hire experience must run from low to high.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def responsibility_items(self) -> list[str]:
        return text_lines(self.responsibilities)

    @property
    def is_manager(self) -> bool:
        return hasattr(self, "span_rule")

    @property
    def may_have_reports(self) -> bool:
        """Whether a position of this role may have direct reports: a role with a span rule,
        or a management role without one (the top of the organization, the VP, has none)."""
        return self.is_manager or self.track == self.Track.MANAGEMENT

    def allows_report(self, role: "Role") -> bool:
        """Whether a position of ``role`` may report directly to a position of this role:
        this role may have reports, and its span rule lists ``role`` or lists none. The one
        place this is decided: the dialogs, the services and the move suggestions ask here
        (no query when the span rule and its allowed reports are loaded)."""
        if not self.may_have_reports:
            return False
        rule = getattr(self, "span_rule", None)
        allowed = [r.pk for r in rule.allowed_reports.all()] if rule is not None else []
        return not allowed or role.pk in allowed

    def report_refusal(self, manager: str, role: "Role | None" = None) -> str:
        """Why ``role`` (without one: any role) cannot report to ``manager``, a position of
        this role."""
        if not self.may_have_reports:
            return f"{manager} is a {self.name} position, and a {self.name} has no direct reports."
        names = ", ".join(r.name for r in self.span_rule.allowed_reports.all())
        return (
            f"A {role.name if role else 'position of that role'} cannot report to {manager}: "
            f"a {self.name}'s span rule allows only these direct reports: {names}."
        )

    @property
    def external_hire_display(self) -> str:
        low, high = self.external_hire_years_min, self.external_hire_years_max
        if low is None and high is None:
            years = ""
        elif high is None:
            years = f"{low.normalize():f}+ years"
        elif low is None:
            years = f"up to {high.normalize():f} years"
        elif low == high:
            years = f"{high.normalize():f} years"
        else:
            years = f"{low.normalize():f}–{high.normalize():f} years"
        return ", ".join(part for part in (years, self.external_hire_experience) if part) or "—"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.tier_id and not self.tier.staffed:
            errors["tier"] = f"{self.tier} has no staff, so no role can belong to it."
        low, high = self.external_hire_years_min, self.external_hire_years_max
        if low is not None and high is not None and low > high:
            errors["external_hire_years_max"] = "The upper end must not be below the lower end."
        if bool(self.occupation_code) != bool(self.occupation_code_system):
            errors["occupation_code_system"] = "Give the code and its classification together."
        if errors:
            raise ValidationError(errors)


class PromotionPath(models.Model):
    from_role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="paths_out")
    to_role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="paths_in")
    min_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Months in the from-role before this step. Empty: none."
    )
    max_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Upper end of the usual time in the from-role, where a range is given.",
    )
    approximate = models.BooleanField(
        default=False, help_text="The minimum is a guide (about), not a hard floor."
    )
    criteria = models.TextField(
        blank=True, help_text="Further conditions a manager checks, one per line."
    )
    external_hires_allowed = models.BooleanField(
        default=False, help_text="The to-role is also filled from outside the company."
    )
    squad_months = models.PositiveSmallIntegerField(
        "months in each specialist squad",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "Asks that the person has served at least this many months in every specialist "
            "squad of the from-role's tier, read from their squad history (no sign-off). "
            "Several spells in one squad add up; a squad they are in now counts up to the day "
            "judged. Empty: not asked. The shipped 3 months is our own figure, not from a source."
        ),
    )

    history = AuditedRecords()

    class Meta:
        ordering = ["from_role__track", "from_role__level", "to_role__level"]
        constraints = [
            models.UniqueConstraint(fields=["from_role", "to_role"], name="promotion_path_unique"),
            models.CheckConstraint(
                condition=~Q(from_role=F("to_role")),
                name="promotion_path_not_to_itself",
                violation_error_message="A promotion path must lead to another role.",
            ),
            ordered_range(
                "min_months",
                "max_months",
                name="promotion_path_months_range",
                message="Minimum months must not exceed maximum months.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_role} → {self.to_role}"

    @property
    def criteria_items(self) -> list[str]:
        return text_lines(self.criteria)

    @property
    def squad_rotation_display(self) -> str:
        """The squad rotation this step asks for, in words ("" when none)."""
        if self.squad_months is None:
            return ""
        return (
            f"at least {self.squad_months} month{'s' if self.squad_months != 1 else ''} "
            "in each specialist squad of the tier"
        )

    @property
    def months_display(self) -> str:
        return self.months_text(self.min_months, self.max_months, self.approximate)

    @staticmethod
    def months_text(low: int | None, high: int | None, approximate: bool) -> str:
        """The time in the from-role before this step, in words ("about 9 months")."""
        if low is None and high is None:
            return "no minimum"
        about = "about " if approximate else ""
        if high is None:
            return f"{about}{low}+ months" if not approximate else f"about {low} months"
        if low is None:
            return f"up to {high} months"
        return f"{about}{low}–{high} months"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.from_role_id and self.from_role_id == self.to_role_id:
            errors["to_role"] = "A promotion path must lead to another role."
        if (
            self.min_months is not None
            and self.max_months is not None
            and self.min_months > self.max_months
        ):
            errors["max_months"] = "The maximum must not be below the minimum."
        if errors:
            raise ValidationError(errors)


class SpanRule(models.Model):
    class Counts(models.TextChoices):
        ALL = "all", "All positions, vacancies included"
        FILLED = "filled", "Filled positions only"

    role = models.OneToOneField(Role, on_delete=models.CASCADE, related_name="span_rule")
    min_direct = models.PositiveIntegerField("direct reports, at least", null=True, blank=True)
    max_direct = models.PositiveIntegerField("direct reports, at most", null=True, blank=True)
    min_team = models.PositiveIntegerField("whole team, at least", null=True, blank=True)
    max_team = models.PositiveIntegerField("whole team, at most", null=True, blank=True)
    counts = models.CharField(
        max_length=10,
        choices=Counts.choices,
        default=Counts.ALL,
        help_text="Which positions count towards the limits.",
    )
    allowed_reports = models.ManyToManyField(
        Role,
        blank=True,
        related_name="may_report_to_rules",
        help_text="Roles that may report directly. Empty: any role.",
    )
    notes = models.TextField(blank=True)

    history = AuditedRecords(m2m_fields=["allowed_reports"])

    class Meta:
        ordering = ["role__tier__rank", "role__level"]
        constraints = [
            ordered_range(
                "min_direct",
                "max_direct",
                name="span_rule_direct_range",
                message="Direct reports must run from low to high.",
            ),
            ordered_range(
                "min_team",
                "max_team",
                name="span_rule_team_range",
                message="Team size must run from low to high.",
            ),
        ]

    def __str__(self) -> str:
        return f"Span of control for {self.role}"

    @staticmethod
    def range_display(low: int | None, high: int | None) -> str:
        if low is None and high is None:
            return "any"
        if high is None:
            return f"{low} or more"
        if low is None:
            return f"up to {high}"
        return f"{low}–{high}"

    @property
    def direct_display(self) -> str:
        return self.range_display(self.min_direct, self.max_direct)

    @property
    def team_display(self) -> str:
        return self.range_display(self.min_team, self.max_team)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        for low_name, high_name in (("min_direct", "max_direct"), ("min_team", "max_team")):
            low, high = getattr(self, low_name), getattr(self, high_name)
            if low is not None and high is not None and low > high:
                errors[high_name] = "The upper limit must not be below the lower limit."
        if (
            self.max_team is not None
            and self.min_direct is not None
            and self.max_team < self.min_direct
        ):
            errors["max_team"] = "The whole team cannot be smaller than the direct reports."
        if errors:
            raise ValidationError(errors)


class SpanLimit(models.Model):
    """A limit on one kind of direct report under a span rule: "2–3 team leads and/or 1–10
    agents". Each limit counts only the reports whose role it names, on the rule's basis
    (all positions, or filled ones only); the rule's own limits still count every report."""

    rule = models.ForeignKey(SpanRule, on_delete=models.CASCADE, related_name="limits")
    name = models.CharField(
        "kind of report",
        max_length=40,
        help_text='One report of this kind, in the singular and lower case ("team lead"); '
        "an s is added for more than one.",
    )
    roles = models.ManyToManyField(
        Role,
        related_name="span_limits",
        help_text="The roles that count as this kind of report.",
    )
    min_count = models.PositiveIntegerField(
        "at least",
        null=True,
        blank=True,
        help_text="Applies only to a manager who has reports of this kind: a manager with "
        'none of them is not short of them (the rule reads "and/or"). Empty: no minimum.',
    )
    max_count = models.PositiveIntegerField(
        "at most", null=True, blank=True, help_text="Empty: no maximum."
    )

    history = AuditedRecords(m2m_fields=["roles"])

    class Meta:
        ordering = ["rule_id", "pk"]
        verbose_name = "limit per kind of report"
        verbose_name_plural = "limits per kind of report"
        constraints = [
            models.UniqueConstraint(fields=["rule", "name"], name="span_limit_unique_name"),
            ordered_range(
                "min_count",
                "max_count",
                name="span_limit_range",
                message="A limit per kind of report must run from low to high.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_plural} under {self.rule.role}"

    @property
    def name_plural(self) -> str:
        return f"{self.name}s"

    @property
    def range_display(self) -> str:
        """The limit in words: "2–3 team leads, or none", "up to 10 agents"."""
        return self.limit_text(self.name, self.min_count, self.max_count)

    @staticmethod
    def limit_text(name: str, low: int | None, high: int | None) -> str:
        """A limit on ``name`` reports in words; a minimum allows none at all ("and/or")."""
        noun = name if high == 1 else f"{name}s"
        text = f"{SpanRule.range_display(low, high)} {noun}"
        return f"{text} or none" if low else text

    def clean(self) -> None:
        low, high = self.min_count, self.max_count
        if low is not None and high is not None and low > high:
            raise ValidationError(
                {"max_count": "The upper limit must not be below the lower limit."}
            )
