"""Support tiers and Tier 2 squads.

A tier is a level of the support organization (self-service, the three advocate tiers,
support operations, management). Squads split a staffed tier into an entry squad and
specialist squads that own a product portfolio.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from orgdesign.kernel.fields import ordered_range, percent_field


class Tier(models.Model):
    class Kind(models.TextChoices):
        SELF_SERVICE = "self_service", "Self-service"
        FRONTLINE = "frontline", "Front-line product support"
        TECHNICAL = "technical", "Technical support"
        EXPERT = "expert", "Expert support and engineering escalations"
        OPERATIONS = "operations", "Support operations"
        MANAGEMENT = "management", "People management"
        OTHER = "other", "Other customer-facing function"

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        CHAT = "chat", "Chat"
        EMAIL = "email", "Email and web tickets"
        SOCIAL = "social", "Social media"
        SELF_SERVICE = "self_service", "Help center, community and bots"
        ESCALATION = "escalation", "Escalations from another tier"

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text="Order in which tiers are listed; lower comes first."
    )
    staffed = models.BooleanField(
        default=True, help_text="Whether people hold positions in this tier."
    )
    target_handling_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Time an issue should take to resolve at this tier. Empty means no limit.",
    )
    volume_share_min = percent_field("expected share of volume, from (%)")
    volume_share_max = percent_field("expected share of volume, to (%)")
    channels = models.JSONField(
        default=list, blank=True, help_text="Contact channels this tier answers."
    )
    triages = models.BooleanField(
        default=False, help_text="Whether this tier sorts and routes incoming work."
    )
    escalates_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalations_from",
        help_text="Where work goes when it is beyond this tier.",
    )
    colour = models.CharField(
        max_length=7,
        default="#6b7280",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour such as #1f77b4.")],
        help_text="Colour used for this tier on charts.",
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["rank"]
        constraints = [
            ordered_range(
                "volume_share_min",
                "volume_share_max",
                name="tier_volume_share_range",
                message="The expected share of volume must run from low to high.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def anchor(self) -> str:
        """The id of this tier's section on the tiers page (``/tiers/#tier-t1``): made from
        the code, which stays put when tiers are re-ranked or renamed."""
        return f"tier-{self.code}"

    @property
    def is_front_line(self) -> bool:
        """Whether people in this tier answer customers' issues (Tiers 1 to 3)."""
        return self.staffed and self.kind in FRONT_LINE_KINDS

    @property
    def channel_labels(self) -> list[str]:
        """The channels this tier answers, as people read them (unknown codes left out)."""
        labels = dict(self.Channel.choices)
        return [labels[c] for c in self.channels or [] if c in labels]

    @property
    def volume_share_display(self) -> str:
        low, high = self.volume_share_min, self.volume_share_max
        if low is None and high is None:
            return "—"
        if low is not None and high is not None and low != high:
            return f"{low.normalize():f}–{high.normalize():f} %"
        value = low if low is not None else high
        return f"{value.normalize():f} %"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        unknown = sorted(set(self.channels or []) - set(self.Channel.values))
        if not isinstance(self.channels, list):
            errors["channels"] = "Channels must be a list."
        elif unknown:
            errors["channels"] = f"Unknown channel(s): {', '.join(unknown)}."
        low, high = self.volume_share_min, self.volume_share_max
        if low is not None and high is not None and low > high:
            errors["volume_share_max"] = "The upper end must not be below the lower end."
        if self.escalates_to_id and self.pk and self.escalates_to_id == self.pk:
            errors["escalates_to"] = "A tier cannot escalate to itself."
        if not self.staffed and self.target_handling_minutes is not None:
            errors["target_handling_minutes"] = "A tier without staff has no handling time."
        if errors:
            raise ValidationError(errors)


# the kinds of tier whose people answer customers' issues: the front line, whose headcount is
# weighed against the catalogue's shares of volume
FRONT_LINE_KINDS = (Tier.Kind.FRONTLINE, Tier.Kind.TECHNICAL, Tier.Kind.EXPERT)


class Squad(models.Model):
    class Kind(models.TextChoices):
        ENTRY = "entry", "Entry squad (general work, where newcomers start)"
        SPECIALIST = "specialist", "Specialist squad (owns a product portfolio)"

    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="squads")
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SPECIALIST)
    portfolio = models.TextField(
        blank=True, help_text="Product areas this squad answers for, one per line."
    )
    rotate_after_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=(
            "How long an engineer normally stays in this squad before rotating to another. "
            "Empty: no rotation is planned. The shipped figures (6 months in the entry squad, "
            "12 in a specialist squad) are our own starting point, not from a source."
        ),
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["tier__rank", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tier"],
                condition=Q(kind="entry"),
                name="squad_one_entry_per_tier",
                violation_error_message="This tier already has an entry squad.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def portfolio_items(self) -> list[str]:
        return [line.strip() for line in self.portfolio.splitlines() if line.strip()]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.tier_id and not self.tier.staffed:
            errors["tier"] = f"{self.tier} has no staff, so it cannot have squads."
        if self.kind == self.Kind.SPECIALIST and not self.portfolio.strip():
            errors["portfolio"] = "A specialist squad needs the product areas it owns."
        if errors:
            raise ValidationError(errors)
