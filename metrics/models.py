"""KPI definitions and targets, observations, per-person performance and headcount snapshots."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from staffing.models import Person, Position


class KPI(models.Model):
    class Unit(models.TextChoices):
        PERCENT = "percent", "%"
        SCORE_5 = "score5", "score out of 5"
        NPS = "nps", "NPS points (−100 to 100)"
        MINUTES = "minutes", "minutes"
        HOURS = "hours", "hours"
        CURRENCY = "currency", "currency"

    class Better(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Comparison(models.TextChoices):
        AT_LEAST = "gte", "at least"
        ABOVE = "gt", "above"
        AT_MOST = "lte", "at most"
        BELOW = "lt", "below"

    class Period(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        YEARLY = "yearly", "Yearly"

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80, unique=True)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    better = models.CharField(max_length=10, choices=Better.choices)
    target = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    comparison = models.CharField(
        max_length=3,
        choices=Comparison.choices,
        blank=True,
        help_text="How an observation is held against the target.",
    )
    review_period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"

    def __str__(self) -> str:
        return self.name

    @property
    def target_display(self) -> str:
        if self.target is None:
            return "no target"
        value = f"{self.target.normalize():f}"
        suffix = {"percent": " %", "score5": " / 5", "minutes": " min", "hours": " h"}.get(
            self.unit, ""
        )
        return f"{self.get_comparison_display()} {value}{suffix}"

    def meets(self, value) -> bool | None:
        """Whether ``value`` meets the target; None when there is no target."""
        if self.target is None or not self.comparison:
            return None
        return {
            "gte": value >= self.target,
            "gt": value > self.target,
            "lte": value <= self.target,
            "lt": value < self.target,
        }[self.comparison]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.target is not None and not self.comparison:
            errors["comparison"] = "Say how observations are held against the target."
        if self.comparison and self.target is None:
            errors["target"] = "A comparison needs a target value."
        higher = self.comparison in ("gte", "gt")
        lower = self.comparison in ("lte", "lt")
        if (self.better == "higher" and lower) or (self.better == "lower" and higher):
            errors["comparison"] = "The comparison points the other way from 'better when'."
        if self.unit == "percent" and self.target is not None and not 0 <= self.target <= 100:
            errors["target"] = "A percentage lies between 0 and 100."
        if self.unit == "score5" and self.target is not None and not 0 <= self.target <= 5:
            errors["target"] = "A score out of 5 lies between 0 and 5."
        if errors:
            raise ValidationError(errors)


class KPIObservationQuerySet(models.QuerySet):
    def visible_to(self, scope) -> "KPIObservationQuerySet":
        """Values of the teams ``scope`` (a :class:`staffing.scope.Scope`) sees; values of
        the whole organization only for those who see the whole organization."""
        if scope.sees_all:
            return self
        return self.filter(scope__in=scope.filter_visible(Position.objects.all()))


class KPIObservation(models.Model):
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="observations")
    scope = models.ForeignKey(
        Position,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="kpi_observations",
        help_text="The team (its top position) measured. Empty: the whole organization.",
    )
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = KPIObservationQuerySet.as_manager()

    class Meta:
        ordering = ["kpi", "-period_start"]
        verbose_name = "KPI observation"
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="kpi_observation_period_order",
                violation_error_message="A period cannot end before it starts.",
            ),
            models.UniqueConstraint(
                fields=["kpi", "scope", "period_start"],
                condition=Q(scope__isnull=False),
                name="kpi_observation_unique_team",
                violation_error_message="There is already a value for this KPI, team and period.",
            ),
            models.UniqueConstraint(
                fields=["kpi", "period_start"],
                condition=Q(scope__isnull=True),
                name="kpi_observation_unique_org",
                violation_error_message="There is already a whole-org value for this KPI and "
                "period.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.period_start.isoformat()}: {self.value}"

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "A period cannot end before it starts."})
        if self.kpi_id and self.value is not None:
            unit = self.kpi.unit
            if unit == "percent" and not 0 <= self.value <= 100:
                raise ValidationError({"value": "A percentage lies between 0 and 100."})
            if unit == "score5" and not 0 <= self.value <= 5:
                raise ValidationError({"value": "A score out of 5 lies between 0 and 5."})
            if unit == "nps" and not -100 <= self.value <= 100:
                raise ValidationError({"value": "NPS lies between −100 and 100."})


class PerformanceObservation(models.Model):
    """One person's result for one metric over a period (e.g. CSAT for a month)."""

    class Metric(models.TextChoices):
        CSAT = "csat", "CSAT (%)"
        TICKETS_PER_DAY = "tickets_per_day", "Tickets solved per day"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="performance")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=8, decimal_places=2)
    sample_size = models.PositiveIntegerField(
        null=True, blank=True, help_text="Surveys or tickets behind the value."
    )

    class Meta:
        ordering = ["person", "metric", "-period_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="performance_period_order",
                violation_error_message="A period cannot end before it starts.",
            ),
            models.UniqueConstraint(
                fields=["person", "metric", "period_start"], name="performance_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.metric} {self.period_start.isoformat()}: {self.value}"

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "A period cannot end before it starts."})
        csat = self.metric == self.Metric.CSAT
        if csat and self.value is not None and not 0 <= self.value <= 100:
            raise ValidationError({"value": "CSAT is a percentage between 0 and 100."})


class HeadcountSnapshotQuerySet(models.QuerySet):
    def visible_to(self, scope) -> "HeadcountSnapshotQuerySet":
        """Snapshots of the teams ``scope`` sees; those of the whole organization (and of
        teams since deleted) only to those who see all of it."""
        if scope.sees_all:
            return self
        return self.filter(scope__in=scope.filter_visible(Position.objects.all()))


class HeadcountSnapshot(models.Model):
    """Headcount of one scope (or the whole organization) at a moment, kept for trends."""

    taken_at = models.DateTimeField(db_index=True)
    scope = models.ForeignKey(
        Position,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headcount_snapshots",
        help_text="Top position of the team counted. Empty: the whole organization.",
    )
    scope_title = models.CharField(max_length=120, blank=True)
    total = models.PositiveIntegerField()
    filled = models.PositiveIntegerField()
    open = models.PositiveIntegerField()
    planned = models.PositiveIntegerField()
    breakdown = models.JSONField(
        default=dict, help_text="Counts by tier, role, location and squad."
    )

    objects = HeadcountSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total=F("filled") + F("open") + F("planned")),
                name="snapshot_total_adds_up",
                violation_error_message="Filled, open and planned must add up to the total.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_title or 'Whole organization'} at {self.taken_at:%Y-%m-%d %H:%M}"
