"""People, locations and the reporting tree of positions.

``Position`` is a django-mptt tree whose ``parent`` is the reporting line. Structural writes
go through ``staffing.services`` only: they hold the tree lock and keep lft/rght consistent.
"""

import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from mptt.models import MPTTModel, TreeForeignKey

from orgdesign.kernel.audit import AuditedRecords
from orgdesign.kernel.words import a_or_an
from roles.models import Role
from staffing import loops
from tiers.models import Squad


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Dublin).")


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def validate_open_days(value: str) -> None:
    """ISO weekday numbers, each once, in order: "12345" is Monday to Friday."""
    if any(c not in "1234567" for c in value) or list(value) != sorted(set(value)):
        raise ValidationError(
            "Write the open days as weekday numbers in order, each once: 1 is Monday, 7 is "
            "Sunday (12345: Monday to Friday; empty: never open)."
        )


class Location(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=80, unique=True)
    city = models.CharField(max_length=80)
    country = models.CharField(max_length=2, help_text="Two-letter country code (ISO 3166).")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # open hours: when customers can reach the people here, in the location's time zone
    open_days = models.CharField(
        max_length=7,
        default="12345",
        blank=True,
        validators=[validate_open_days],
        help_text="Days the location is open, as weekday numbers: 1 Monday … 7 Sunday, "
        "e.g. 12345 for Monday to Friday. Empty: never open (no triage rota expected).",
    )
    opens = models.TimeField(
        default=datetime.time(8, 0), help_text="Opening time, in the location's time zone."
    )
    closes = models.TimeField(
        default=datetime.time(18, 0),
        help_text="Closing time, in the location's time zone; before the opening time for "
        "hours that run past midnight.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.country and not (len(self.country) == 2 and self.country.isalpha()):
            errors["country"] = "Use a two-letter country code such as IE."
        if self.opens is not None and self.opens == self.closes:
            errors["closes"] = "The closing time must differ from the opening time."
        if errors:
            raise ValidationError(errors)
        self.country = self.country.upper()

    @property
    def has_open_hours(self) -> bool:
        return bool(self.open_days) and self.opens != self.closes

    @property
    def open_hours_display(self) -> str:
        """E.g. "Monday–Friday 08:00–18:00"; "Closed" when never open."""
        if not self.has_open_hours:
            return "Closed"
        days = [int(c) for c in self.open_days]
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            shown = f"{WEEKDAY_NAMES[days[0] - 1]}–{WEEKDAY_NAMES[days[-1] - 1]}"
        else:
            shown = ", ".join(WEEKDAY_NAMES[d - 1][:3] for d in days)
        return f"{shown} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Person(models.Model):
    employee_id = models.CharField(
        max_length=40, unique=True, help_text="The identifier the HR system uses."
    )
    given_name = models.CharField(max_length=80)
    family_name = models.CharField(max_length=80)
    email = models.EmailField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
        help_text="The login of this person, if they use orgdesign.",
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    hire_date = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=~Q(email=""),
                name="person_email_unique",
                violation_error_message="Another person already has this email address.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


def position_label(title: str, holder) -> str:
    """How a position is named wherever it is named for a change (refusals, the scenario
    comparison, the history): forty cards share "Customer Advocate", so the title with who
    holds it, or "(vacant)". ``holder`` is a Person, a name, or None."""
    name = holder if isinstance(holder, str) else getattr(holder, "full_name", "")
    return f"{title} ({name or 'vacant'})"


def subtree_q(root: "Position", *, include_self: bool = True, prefix: str = "") -> Q:
    """A filter for ``root``'s team (and ``root`` if asked): its range of its own tree, and
    the whole trees of the division heads below it (one more query, only for a position
    with division heads below it: a VP, or a manager a director reports to). ``prefix``
    names the position from another model (``"position__"``)."""
    trees = [tree_id for tree_id, _ in root.trees_below()]
    if root.lft == 1:  # a tree's root (a division head): whole trees, one index condition
        within = Q(**{f"{prefix}tree_id__in": [root.tree_id, *trees]})
        return within if include_self else within & ~Q(**{f"{prefix}pk": root.pk})
    lft = f"{prefix}lft__gte" if include_self else f"{prefix}lft__gt"
    within = Q(**{f"{prefix}tree_id": root.tree_id, lft: root.lft, f"{prefix}lft__lt": root.rght})
    if trees:
        within |= Q(**{f"{prefix}tree_id__in": trees})
    return within


def chain_sql(*, ordered: bool = False) -> str:
    """A position (the one parameter) and its managers, walked up the parent pointers in one
    recursive query: a primary-key lookup per level, whatever the tree's size; ``ordered``:
    top first."""
    table = Position._meta.db_table
    return (
        f"WITH RECURSIVE chain(id, parent_id, depth) AS ("
        f"SELECT id, parent_id, 0 FROM {table} WHERE id = %s "
        f"UNION ALL SELECT p.id, p.parent_id, c.depth + 1 "
        f"FROM {table} p JOIN chain c ON p.id = c.parent_id"
        f") SELECT id FROM chain" + (" ORDER BY depth DESC" if ordered else "")
    )


def team_size_of(pk: int, tree_id: int, lft: int, rght: int, trees_under: int) -> int:
    """A position's team size from its stored fields read as plain values (a query only when
    division heads report to it)."""
    inside = (rght - lft - 1) // 2
    if not trees_under:
        return inside
    stored = Position(pk=pk, tree_id=tree_id, lft=lft, rght=rght, trees_under=trees_under)
    return inside + sum(size for _, size in stored.trees_below())


class PositionQuerySet(models.QuerySet):
    def subtree_of(self, root: "Position", *, include_self: bool = True) -> "PositionQuerySet":
        return self.filter(subtree_q(root, include_self=include_self))

    def visible_to(self, scope) -> "PositionQuerySet":
        """The positions ``scope`` (a :class:`staffing.scope.Scope`) sees."""
        return scope.filter_visible(self)

    def editable_by(self, scope) -> "PositionQuerySet":
        """The positions ``scope`` (a :class:`staffing.scope.Scope`) may change."""
        return scope.filter_editable(self)

    def vacant(self) -> "PositionQuerySet":
        return self.filter(holder__isnull=True)


class Position(MPTTModel):
    class Status(models.TextChoices):
        FILLED = "filled", "Filled"
        OPEN = "open", "Open (vacancy to hire for)"
        PLANNED = "planned", "Planned (not yet approved)"

    title = models.CharField(max_length=120)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="positions")
    parent = TreeForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name="reports to",
    )
    # The parent in the stored tree (django-mptt's): the reporting line, except at the head
    # of a division, which roots its own tree (README, "The reporting tree").
    tree_parent = TreeForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="tree_children",
    )
    # How many division heads report to this position at any depth: their trees are part of
    # its team although they are not inside its lft/rght range.
    trees_under = models.PositiveIntegerField(default=0, editable=False)
    # declared here so that django-mptt adds no index of its own: (tree_id, lft) serves
    tree_id = models.PositiveIntegerField(editable=False)
    # no index of their own on squad and location: no page reads positions by them, and
    # every index costs each row a move rewrites (README, "The reporting tree")
    squad = models.ForeignKey(
        Squad,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="positions",
        db_index=False,
    )
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="positions",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    holder = models.OneToOneField(
        Person,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="position",
        help_text="Who holds the position now. Empty: a vacancy.",
    )
    external_id = models.CharField(
        max_length=60, blank=True, help_text="Identifier in an HR system, used by imports."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PositionQuerySet.as_manager()

    class MPTTMeta:
        parent_attr = "tree_parent"
        order_insertion_by: list[str] = []

    # lft/rght/tree_id/level are derived from the parent pointers and rewritten for many
    # rows by every move: history keeps the parent only and rebuilds past trees from it
    history = AuditedRecords(
        excluded_fields=[
            "lft",
            "rght",
            "tree_id",
            "level",
            "tree_parent",
            "trees_under",
            "updated_at",
        ]
    )

    class Meta:
        indexes = [
            models.Index(fields=["tree_id", "lft"], name="position_tree_lft"),
            # the chart's first levels: one tree, a few levels, a range of lft
            models.Index(fields=["tree_id", "level", "lft"], name="position_tree_level_lft"),
            # the vacancies and plans (a few percent of the rows): counted by status
            models.Index(
                fields=["status"], name="position_unfilled", condition=~Q(status="filled")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="filled", holder__isnull=False)
                | Q(status__in=["open", "planned"], holder__isnull=True),
                name="position_holder_matches_status",
                violation_error_message="A filled position has a holder; others have none.",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="position_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_vacant(self) -> bool:
        return self.holder_id is None

    @property
    def label(self) -> str:
        """The title with who holds it (see position_label): load the holder with
        ``select_related("holder")`` where many are named."""
        return position_label(self.title, self.holder if self.holder_id else None)

    @property
    def is_division_head(self) -> bool:
        """Whether this position roots a tree of its own (README, "The reporting tree")."""
        return self.tree_parent_id is None

    def trees_below(self) -> list[tuple[int, int]]:
        """``(tree_id, size)`` of every tree whose head reports to this position at any
        depth: none (and no query) for most positions; one query per level of nested
        divisions otherwise (one for a VP over directors). Cached on the instance."""
        if not self.trees_under:
            return []
        key = (self.tree_id, self.lft, self.rght, self.trees_under)
        cached = getattr(self, "_trees_below", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        found: list[tuple[int, int]] = []
        ranges = [(self.tree_id, self.lft, self.rght)]
        while ranges:
            within = Q()
            for tree_id, lft, rght in ranges:
                within |= Q(parent__tree_id=tree_id, parent__lft__gte=lft, parent__lft__lt=rght)
            heads = list(
                Position.objects.filter(within, tree_parent__isnull=True, parent__isnull=False)
                .order_by("tree_id")
                .values_list("tree_id", "rght", "trees_under")
            )
            found += [(tree_id, (rght + 1) // 2) for tree_id, rght, _ in heads]
            ranges = [(tree_id, 1, rght + 1) for tree_id, rght, under in heads if under]
        self._trees_below = (key, found)
        return found

    def contains(self, other: "Position", *, include_self: bool = True) -> bool:
        """Whether ``other`` is in this position's team (or is this position, if asked)."""
        if other.tree_id != self.tree_id:
            return other.tree_id in {tree_id for tree_id, _ in self.trees_below()}
        if include_self:
            return self.lft <= other.lft < self.rght
        return self.lft < other.lft < self.rght

    # django-mptt's readers, answered along the reporting line (across the forest's trees);
    # get_descendant_count stays django-mptt's (its own tree: its writes rely on it), the
    # whole team is team_size
    def get_children(self) -> "PositionQuerySet":
        return Position.objects.filter(parent=self).order_by("tree_id", "lft")

    def get_descendants(self, include_self: bool = False) -> "PositionQuerySet":
        return Position.objects.subtree_of(self, include_self=include_self).order_by(
            "level", "tree_id", "lft"
        )

    def get_ancestors(self, ascending: bool = False, include_self: bool = False):
        chain = Q(pk__in=RawSQL(chain_sql(), [self.pk]))
        if not include_self:
            chain &= ~Q(pk=self.pk)
        return Position.objects.filter(chain).order_by("-level" if ascending else "level")

    @property
    def has_reports(self) -> bool:
        return self.rght - self.lft > 1 or self.trees_under > 0

    @property
    def team_size(self) -> int:
        """Everyone below this position, at any depth: its range of its own tree, plus the
        trees of the division heads below it."""
        inside = (self.rght - self.lft - 1) // 2
        return inside + sum(size for _, size in self.trees_below())

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.parent_id and self.pk:

            def place_of(pk: int):
                return (
                    Position.objects.filter(pk=pk)
                    .values_list("tree_id", "lft", "rght", "trees_under")
                    .first()
                )

            def managers_of(pk: int | None) -> list[int]:  # rare: division heads below
                chain: list[int] = []
                while pk is not None and pk not in chain:
                    chain.append(pk)
                    pk = Position.objects.filter(pk=pk).values_list("parent_id", flat=True).first()
                return chain

            if loops.would_loop_in_tree(self.pk, self.parent_id, place_of, managers_of):
                if self.parent_id == self.pk:
                    errors["parent"] = "A position cannot report to itself."
                else:
                    errors["parent"] = (
                        f"{self.label} cannot report to a position in its own team: "
                        "that would make a reporting loop."
                    )
        if self.role_id and not self.role.is_active and self._role_changed():
            errors["role"] = f"{self.role} is inactive and cannot be given to a position."
        if self.squad_id and self.role_id:
            role, squad = self.role, self.squad
            if role.tier_id != squad.tier_id and role.track != Role.Track.MANAGEMENT:
                errors["squad"] = (
                    f"{squad} belongs to {squad.tier}; "
                    f"{a_or_an(role)} ({role.tier}) cannot join it."
                )
        if self.status == self.Status.FILLED and not self.holder_id:
            errors["status"] = "A filled position needs a holder; assign a person to fill it."
        if self.status != self.Status.FILLED and self.holder_id:
            errors["status"] = "A position with a holder is filled; vacate it first."
        if errors:
            raise ValidationError(errors)

    def _role_changed(self) -> bool:
        if not self.pk:
            return True
        return not Position.objects.filter(pk=self.pk, role_id=self.role_id).exists()


class Assignment(models.Model):
    """A person in a position and role over a period; tenure is computed from these rows."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="assignments")
    position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    position_title = models.CharField(
        max_length=120, blank=True, help_text="The position's title at the time."
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    squad = models.ForeignKey(
        Squad, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty: still in place.")
    note = models.CharField(max_length=200, blank=True)

    history = AuditedRecords()

    class Meta:
        ordering = ["person", "-start_date"]
        indexes = [models.Index(fields=["person", "role"], name="assignment_person_role")]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="assignment_ends_after_start",
                violation_error_message="An assignment cannot end before it starts.",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(end_date__isnull=True),
                name="assignment_one_current_per_person",
                violation_error_message="This person already has a current assignment.",
            ),
            models.UniqueConstraint(
                fields=["position"],
                condition=Q(end_date__isnull=True, position__isnull=False),
                name="assignment_one_current_per_position",
                violation_error_message="This position already has a current holder.",
            ),
        ]

    def __str__(self) -> str:
        until = self.end_date.isoformat() if self.end_date else "now"
        return f"{self.person} as {self.role} ({self.start_date.isoformat()} – {until})"


class CriterionSignoff(models.Model):
    """A manager's confirmation that a person meets one further criterion of a promotion
    path (a line of ``PromotionPath.criteria``). Rewording a criterion in the catalogue
    leaves the old sign-off behind: the new wording has to be signed again."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="signoffs")
    path = models.ForeignKey(
        "roles.PromotionPath", on_delete=models.CASCADE, related_name="signoffs"
    )
    criterion = models.CharField(max_length=300)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_by_name = models.CharField(max_length=150, blank=True)
    signed_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "path", "criterion"], name="signoff_one_per_criterion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.criterion} (signed by {self.signed_by_name or 'someone'})"


class Promotion(models.Model):
    """A person's step from one role to the next, with who made it and, when it went ahead
    without every prerequisite met, the reason written for the override."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="promotions")
    from_role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    to_role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    from_position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    effective = models.DateField()
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    promoted_by_name = models.CharField(max_length=150, blank=True)
    override_reason = models.TextField(
        blank=True, help_text="Why the promotion went ahead with a prerequisite unmet."
    )
    prerequisites = models.JSONField(
        default=list, help_text="Each prerequisite as it was judged at the time."
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective", "-recorded_at"]

    def __str__(self) -> str:
        return f"{self.person}: {self.from_role} → {self.to_role} ({self.effective.isoformat()})"


class DottedLine(models.Model):
    """A secondary (matrix) reporting line beside the solid line in the tree."""

    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="dotted_out")
    manager = models.ForeignKey(
        Position,
        on_delete=models.CASCADE,
        related_name="dotted_in",
        help_text="The position the dotted line leads to.",
    )
    purpose = models.CharField(
        max_length=120, blank=True, help_text="What the line is for, e.g. a project or a squad."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["position", "manager"], name="dotted_line_unique"),
            models.CheckConstraint(
                condition=~Q(position=F("manager")),
                name="dotted_line_not_to_itself",
                violation_error_message="A dotted line must lead to another position.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position} ⋯ {self.manager}"

    def clean(self) -> None:
        if self.position_id and self.position_id == self.manager_id:
            raise ValidationError({"manager": "A dotted line must lead to another position."})
        if self.position_id and self.manager_id and self.position.parent_id == self.manager_id:
            raise ValidationError(
                {"manager": "This is already the solid reporting line; a dotted line adds nothing."}
            )


# --- span of control ----------------------------------------------------------------------


class FindingQuerySet(models.QuerySet):
    def open(self) -> "FindingQuerySet":
        return self.filter(resolved_at__isnull=True)

    def resolved(self) -> "FindingQuerySet":
        return self.filter(resolved_at__isnull=False)

    def by_severity(self) -> "FindingQuerySet":
        order = Finding.SEVERITY_ORDER
        rank = models.Case(
            *(models.When(severity=value, then=n) for n, value in enumerate(order)),
            output_field=models.IntegerField(),
        )
        return self.alias(severity_rank=rank).order_by("severity_rank", "-first_seen", "pk")

    def spans(self) -> "FindingQuerySet":
        """The span-of-control engine's own findings (staffing.spans)."""
        return self.filter(source=Finding.Source.SPANS)

    def settle(self, current: dict, found: dict, new: list, compared, now) -> tuple[int, ...]:
        """Write one check's outcome: ``current`` its open findings by key, ``found`` what it
        finds now by the same key (objects with the ``compared`` fields), ``new`` the rows
        to open. Changed fields are updated, findings no longer found resolved; all in bulk.
        Returns (opened, updated, resolved)."""
        changed = []
        for key, finding in current.items():
            f = found.get(key)
            if f is not None and any(getattr(finding, n) != getattr(f, n) for n in compared):
                for name in compared:
                    setattr(finding, name, getattr(f, name))
                finding.updated_at = now
                changed.append(finding)
        gone = [finding.pk for key, finding in current.items() if key not in found]
        if new:
            self.bulk_create(new)
        if changed:
            self.bulk_update(changed, [*compared, "updated_at"])
        if gone:
            self.filter(pk__in=gone).update(resolved_at=now, updated_at=now)
        return len(new), len(changed), len(gone)

    def visible_to(self, scope) -> "FindingQuerySet":
        """Findings on positions ``scope`` sees, and findings on a location where ``scope``'s
        part has people (see :func:`staffing_locations`); findings of deleted positions:
        admins and HR only."""
        if scope.sees_all:
            return self
        return self.filter(within_part_q(scope.filter_visible(Position.objects.all())))

    def within(self, positions) -> "FindingQuerySet":
        """Findings of the part of the organization ``positions`` (a queryset) is."""
        return self.filter(within_part_q(positions))


def staffing_locations(positions) -> "models.QuerySet":
    """The ids of the locations where the filled positions among ``positions`` are: where a
    part of the organization has people. A location's findings (and its triage rota) are
    seen by those whose part has people there, and by those who see everything."""
    return positions.filter(holder__isnull=False, location__isnull=False).values("location_id")


def within_part_q(positions) -> Q:
    """A Finding filter: on one of ``positions``, or on a location they staff."""
    return Q(position__in=positions) | Q(
        position__isnull=True, location__in=staffing_locations(positions)
    )


class Finding(models.Model):
    """Something wrong with the organization, from when a check first saw it until it was
    resolved. Each check owns its findings (``source``) and is the only one to open, update
    and resolve them: span-of-control findings are written by :mod:`staffing.spans`, the
    others by :mod:`staffing.checks`. A finding is on a position, or (``location`` and
    ``week``) on a location's week."""

    class Source(models.TextChoices):
        SPANS = "spans", "Span of control"
        ENTRY_SQUAD = "entry_squad", "Entry squad"
        TRIAGE = "triage", "Triage rota"

    class Kind(models.TextChoices):
        TOO_FEW_DIRECT = "too_few_direct", "Too few direct reports"
        TOO_MANY_DIRECT = "too_many_direct", "Too many direct reports"
        TEAM_TOO_SMALL = "team_too_small", "Team too small"
        TEAM_TOO_LARGE = "team_too_large", "Team too large"
        REPORT_NOT_ALLOWED = "report_not_allowed", "Reports where the rules do not allow it"
        MANAGER_VACANT = "manager_vacant", "Manager position vacant"
        NO_FILLED_REPORTS = "no_filled_reports", "Every direct report is a vacancy"
        OUTSIDE_ENTRY_SQUAD = "outside_entry_squad", "New engineer started outside the entry squad"
        NO_TRIAGE = "no_triage", "Nobody on triage during open hours"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        WARNING = "warning", "Warning"
        INFO = "info", "Info"

    class Basis(models.TextChoices):
        ALL = "all", "All positions, vacancies included"
        FILLED = "filled", "Filled positions only"

    SEVERITY_ORDER = (Severity.CRITICAL, Severity.WARNING, Severity.INFO)
    # which check owns each kind
    SOURCE_OF = {
        Kind.OUTSIDE_ENTRY_SQUAD: Source.ENTRY_SQUAD,
        Kind.NO_TRIAGE: Source.TRIAGE,
    }
    SPAN_KINDS = frozenset(Kind) - frozenset(SOURCE_OF)

    source = models.CharField(
        max_length=12,
        choices=Source.choices,
        default=Source.SPANS,
        help_text="The check that opened the finding, and alone resolves it.",
    )
    position = models.ForeignKey(
        Position,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="findings",
        help_text="Empty once the position has been deleted.",
    )
    position_title = models.CharField(
        max_length=120,
        help_text="The position's title when seen (a location's finding: the location's name).",
    )
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="findings",
        help_text="The location a finding on a location is about (triage).",
    )
    week = models.DateField(
        null=True, blank=True, help_text="The Monday of the week a location's finding is about."
    )
    rule = models.ForeignKey(
        "roles.SpanRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="findings"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    basis = models.CharField(
        max_length=10,
        choices=Basis.choices,
        blank=True,
        help_text="Which positions the rule counted; empty for findings that count nothing.",
    )
    measured = models.PositiveIntegerField(null=True, blank=True, help_text="The value judged.")
    measured_all = models.PositiveIntegerField(null=True, blank=True)
    measured_filled = models.PositiveIntegerField(null=True, blank=True)
    allowed_min = models.PositiveIntegerField(null=True, blank=True)
    allowed_max = models.PositiveIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300)
    first_seen = models.DateTimeField()
    updated_at = models.DateTimeField(help_text="When the measured values last changed.")
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="Empty: still open.")

    objects = FindingQuerySet.as_manager()

    class Meta:
        ordering = ["-first_seen", "pk"]
        indexes = [models.Index(fields=["resolved_at", "severity"], name="finding_open_severity")]
        constraints = [
            models.UniqueConstraint(
                fields=["position", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="finding_one_open_per_position_kind",
            ),
            models.UniqueConstraint(
                fields=["location", "week", "kind"],
                condition=Q(resolved_at__isnull=True, position__isnull=True),
                name="finding_one_open_per_location_week_kind",
            ),
            models.CheckConstraint(
                condition=Q(location__isnull=True, week__isnull=True)
                | Q(location__isnull=False, week__isnull=False, position__isnull=True),
                name="finding_on_a_position_or_a_location_week",
                violation_error_message="A finding is on a position or on a location's week.",
            ),
        ]

    def __str__(self) -> str:
        if self.week is not None:
            return f"{self.position_title}, week of {self.week:%d %b %Y}: {self.get_kind_display()}"
        return f"{self.position_title}: {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def allowed_display(self) -> str:
        from roles.models import SpanRule

        if self.allowed_min is None and self.allowed_max is None:
            return ""
        return SpanRule.range_display(self.allowed_min, self.allowed_max)


class PendingSpanCheck(models.Model):
    """A position whose findings must be recomputed: written in the same transaction as the
    edit, removed by the job that recomputes it, so nothing is lost while the broker is down.
    Not a foreign key: a mark outlives its position harmlessly."""

    position_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"position {self.position_id} since {self.marked_at:%Y-%m-%d %H:%M:%S}"


class SpanJobRequest(models.Model):
    """One row: when a recompute job was last requested and not yet started (debounce)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recompute requested at {self.requested_at}" if self.requested_at else "idle"


# --- triage rota ------------------------------------------------------------------------------


class TriageWeek(models.Model):
    """Who is on triage at a location for a week: experienced Tier 1 advocates take turns
    sorting and routing the incoming work (staffing.triage says who may). Written only by
    :func:`staffing.services.triage_week_set`."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="triage_weeks")
    week = models.DateField(help_text="The Monday the week starts on.")
    people = models.ManyToManyField(
        Person,
        blank=True,
        related_name="triage_weeks",
        help_text="The advocates on triage that week.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["-week", "location__name"]
        verbose_name = "triage rota week"
        constraints = [
            models.UniqueConstraint(fields=["location", "week"], name="triage_week_unique"),
            models.CheckConstraint(
                condition=Q(week__iso_week_day=1),
                name="triage_week_starts_on_monday",
                violation_error_message="A rota week starts on a Monday.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location}, week of {self.week:%d %b %Y}"

    def clean(self) -> None:
        if isinstance(self.week, datetime.date) and self.week.isoweekday() != 1:
            raise ValidationError({"week": "A rota week starts on a Monday."})


# --- scenarios: drafts of the next organization ---------------------------------------------


class Scenario(models.Model):
    """A draft of the organization, copied from the live tree (or from another scenario) and
    edited apart from it. Applying it makes its changes live in one transaction; a scenario
    whose places changed in the live tree since it was taken is refused with the conflicts."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPLIED = "applied", "Applied"
        DISCARDED = "discarded", "Discarded"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    root = models.ForeignKey(
        Position,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The top of the part of the organization copied; empty: all of it.",
    )
    root_title = models.CharField(max_length=120, blank=True)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    applied_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.name


class ScenarioPosition(models.Model):
    """A position in a scenario. ``source`` is the live position it was copied from (empty
    for one added in the draft); the ``base_*`` fields keep the live values as they were when
    the draft was taken, so that a change made since in the live tree can be told from a
    change made in the draft."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="positions")
    # kept when the live position is deleted: the draft must still know which one it copied
    # (to report the deletion as a conflict rather than take the copy for an addition)
    source = models.ForeignKey(
        Position,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    title = models.CharField(max_length=120)
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    squad = models.ForeignKey(
        Squad, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    holder = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Position.Status.choices)
    removed = models.BooleanField(default=False)
    # the live values when the draft was taken (empty for positions added in the draft)
    base_parent = models.IntegerField(null=True, blank=True)
    base_title = models.CharField(max_length=120, blank=True)
    base_role = models.IntegerField(null=True, blank=True)
    base_squad = models.IntegerField(null=True, blank=True)
    base_location = models.IntegerField(null=True, blank=True)
    base_holder = models.IntegerField(null=True, blank=True)
    base_status = models.CharField(max_length=10, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["scenario", "source"], name="scenario_position_source"),
            models.Index(fields=["scenario", "parent"], name="scenario_position_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (scenario {self.scenario_id})"

    @property
    def label(self) -> str:
        """The title with who holds it in the draft (see position_label)."""
        return position_label(self.title, self.holder if self.holder_id else None)


# --- imports from CSV ----------------------------------------------------------------------------


class ImportJob(models.Model):
    """A CSV file uploaded for import, kept as it was checked so that the import applies
    exactly that file; the job's status, progress and outcome are shown on its page.
    Written only by :mod:`staffing.interchange.jobs`."""

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking the file"
        CHECKED = "checked", "Checked, ready to import"
        REFUSED = "refused", "Refused (problems found)"
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    kind = models.CharField(
        max_length=20, blank=True, help_text="What the file holds: locations, people or positions."
    )
    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="The file as uploaded, decoded from UTF-8.")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(help_text="Size of the uploaded file in bytes.")
    rows = models.PositiveIntegerField(default=0, help_text="Data rows (the header not counted).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CHECKED)
    phase = models.CharField(max_length=80, blank=True, help_text="What the import is doing now.")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent done.")
    problems = models.JSONField(
        default=list,
        blank=True,
        help_text="Each problem as [row, column, message]: the first ones.",
    )
    problem_count = models.PositiveIntegerField(
        default=0, help_text="Problems found in all; only the first are kept."
    )
    summary = models.JSONField(
        default=dict, blank=True, help_text="What the import changes (or changed)."
    )
    changes = models.JSONField(
        default=list, blank=True, help_text="The first changes, as [row, id, what changes]."
    )
    message = models.TextField(blank=True, help_text="Why the job failed, when it did.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who pressed Import: the import runs, and is recorded, as this user.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "import from CSV"
        verbose_name_plural = "imports from CSV"

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display().lower()})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.QUEUED, self.Status.RUNNING)


class ChartPreference(models.Model):
    """How a user likes the org chart drawn: a top-down chart or an indented list. Kept per
    user, so it follows them from the live chart to drafts and past days."""

    class View(models.TextChoices):
        CHART = "chart", "Chart"
        LIST = "list", "List"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chart_preference"
    )
    view = models.CharField(max_length=5, choices=View.choices, default=View.CHART)

    def __str__(self) -> str:
        return f"{self.user}: {self.view}"
