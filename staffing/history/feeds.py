"""The feed of changes, read from the audit trail (see :mod:`orgdesign.kernel.audit`).

:func:`change_feed` lists changes to positions, assignments, roles, promotion paths,
span rules and their limits per kind of report, newest first, each with the fields that
changed, in a fixed number of queries per page whatever the size of the history.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import CharField as CharFieldExpr
from django.db.models import OuterRef, Q, Subquery, Value
from django.utils import timezone
from simple_history.utils import get_m2m_reverse_field_name

from roles.models import PromotionPath, Role, SpanLimit, SpanRule
from staffing.history.past import end_of
from staffing.models import Assignment, Person, Position, position_label
from staffing.scope import Scope

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
# what the operations that record history are called on the pages (the API gives the name)
REASONS = {
    "position_create": "Position added",
    "position_update": "Position edited",
    "position_move": "Moved to another manager",
    "position_delete": "Position deleted",
    "person_assign": "Vacancy filled",
    "position_vacate": "Position vacated",
    "promotion_apply": "Promotion",
    "person_promote": "Promotion",
    "scenario_apply": "Scenario applied",
    "org_import": "CSV import",
    "seed_demo": "Demo data loaded",
    "seed_demo --reset": "Demo data cleared",
    "framework_load": "Catalogue loaded",
    "history started": "History started (the state when history was first kept)",
}


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    model: type
    on_positions: bool  # shown in a position's own feed


KINDS = {
    kind.code: kind
    for kind in (
        Kind("position", "Position", Position, True),
        Kind("assignment", "Assignment", Assignment, True),
        Kind("role", "Role", Role, False),
        Kind("promotion_path", "Promotion path", PromotionPath, False),
        Kind("span_rule", "Span rule", SpanRule, False),
        Kind("span_limit", "Limit per kind of report", SpanLimit, False),
    )
}
HIDDEN_FIELDS = {"id", "created_at"}


@dataclass
class FieldChange:
    field: str
    before: str
    after: str


@dataclass
class Change:
    kind: Kind
    history_id: int
    object_id: int
    label: str
    action: str  # created, changed, deleted
    when: datetime.datetime
    who: str  # the user's name, or "the system"
    user_id: int | None
    reason: str
    changes: list[FieldChange] = field(default_factory=list)
    position_id: int | None = None  # the position the change is about, for links

    @property
    def key(self) -> str:
        return f"{self.kind.code}-{self.history_id}"

    @property
    def reason_label(self) -> str:
        if self.reason.startswith("undo "):  # see staffing.history.undo
            undone = self.reason.removeprefix("undo ")
            return f"Undo of: {REASONS.get(undone, undone).lower()}"
        return REASONS.get(self.reason, self.reason)


@dataclass
class FeedQuery:
    position_id: int | None = None
    kinds: tuple[str, ...] = ()
    since: datetime.date | None = None
    until: datetime.date | None = None
    user_id: int | None = None  # 0: changes made by the system (no user)


def _scoped(kind: Kind, scope: Scope, query: FeedQuery):
    historical = kind.model.history.model
    rows = historical.objects.all()
    if query.position_id is not None:
        if not kind.on_positions:
            return None
        column = "id" if kind.code == "position" else "position_id"
        rows = rows.filter(**{column: query.position_id})
    elif not scope.sees_all:
        if scope.root is None:
            return None
        if kind.on_positions:
            mine = scope.filter_visible(Position.objects.all()).values("pk")
            if kind.code == "position":
                # the team as it is now, and positions deleted from under it
                rows = rows.filter(Q(id__in=mine) | Q(parent_id__in=mine))
            else:
                rows = rows.filter(position_id__in=mine)
    if query.since is not None:
        rows = rows.filter(history_date__gte=end_of(query.since - datetime.timedelta(days=1)))
    if query.until is not None:
        rows = rows.filter(history_date__lt=end_of(query.until))
    if query.user_id == 0:  # the system: commands, jobs, migrations
        rows = rows.filter(history_user__isnull=True)
    elif query.user_id is not None:
        rows = rows.filter(history_user_id=query.user_id)
    return rows


def user_name(user) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


class _Names:
    """Display names of related objects, loaded once per model for a page of changes."""

    def __init__(self):
        self.wanted: dict[type, set[int]] = defaultdict(set)
        self.found: dict[type, dict[int, str]] = {}

    def want(self, model, pk) -> None:
        if pk is not None:
            self.wanted[model].add(pk)

    def load(self) -> None:
        for model, ids in self.wanted.items():
            found = model.objects.filter(pk__in=ids)
            if model is SpanRule:  # named by their role
                found = found.select_related("role")
            if model is Position:  # named with who holds them now (see position_label)
                names = {obj.pk: obj.label for obj in found.select_related("holder")}
            else:
                names = {obj.pk: str(obj) for obj in found}
            if model is Position:  # deleted managers keep their last title in the history
                missing = ids - names.keys()
                if missing:
                    past = Position.history.model.objects.filter(id__in=missing)
                    for pk, title in past.order_by("history_date").values_list("id", "title"):
                        names[pk] = title
            self.found[model] = names

    def name(self, model, pk) -> str:
        if pk is None:
            return ""
        return self.found.get(model, {}).get(pk) or f"{model._meta.verbose_name} #{pk}"


def _shown(row, model_field, names: _Names) -> str:
    value = getattr(row, model_field.attname)
    if value is None or value == "":
        return ""
    if model_field.is_relation:
        return names.name(model_field.related_model, value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _m2m_sets(kind: Kind, history_ids: set[int]) -> dict[str, dict[int, set[int]]]:
    """For each many-to-many field of a catalogue model, the members per historical row."""
    found: dict[str, dict[int, set[int]]] = {}
    historical = kind.model.history.model
    for m2m in getattr(historical, "_history_m2m_fields", []):
        through = apps.get_model(kind.model._meta.app_label, f"{historical.__name__}_{m2m.name}")
        column = f"{get_m2m_reverse_field_name(m2m)}_id"
        members: dict[int, set[int]] = defaultdict(set)
        rows = through.objects.filter(history_id__in=history_ids).values_list("history_id", column)
        for history_id, member in rows:
            members[history_id].add(member)
        found[m2m.name] = members
    return found


def _label(kind: Kind, row, names: _Names) -> str:
    if kind.code == "position":  # with its holder at the time: the row has it
        return position_label(row.title, names.name(Person, row.holder_id) or None)
    if kind.code == "assignment":
        return f"{names.name(Person, row.person_id)} in {row.position_title or 'a position'}"
    if kind.code == "role":
        return row.name
    if kind.code == "promotion_path":
        return f"{names.name(Role, row.from_role_id)} → {names.name(Role, row.to_role_id)}"
    if kind.code == "span_limit":
        return f"{names.name(SpanRule, row.rule_id)}: {row.name}s"
    return f"Span rule of {names.name(Role, row.role_id)}"


def change_feed(
    scope: Scope, query: FeedQuery, *, offset: int = 0, limit: int = 50
) -> tuple[list[Change], bool]:
    """A page of changes, newest first, and whether older ones follow. Queries: one for the
    page, then for each kind on it its rows, their previous versions, and the names shown
    (many-to-many members for roles, span rules and their limits)."""
    parts = []
    for code, kind in KINDS.items():
        if query.kinds and code not in query.kinds:
            continue
        rows = _scoped(kind, scope, query)
        if rows is None:
            continue
        parts.append(
            rows.order_by()
            .annotate(kind=Value(code, output_field=CharFieldExpr()))
            .values_list("kind", "history_id", "history_date")
        )
    if not parts:
        return [], False
    page = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    page = list(page.order_by("-history_date", "-history_id")[offset : offset + limit + 1])
    more = len(page) > limit
    page = page[:limit]

    wanted: dict[str, list[int]] = defaultdict(list)
    for code, history_id, _ in page:
        wanted[code].append(history_id)
    names = _Names()
    loaded: dict[tuple[str, int], tuple] = {}
    m2m: dict[str, dict] = {}
    for code, ids in wanted.items():
        kind = KINDS[code]
        historical = kind.model.history.model
        earlier = historical.objects.filter(id=OuterRef("id")).filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        rows = list(
            historical.objects.filter(history_id__in=ids)
            .select_related("history_user")
            .annotate(
                previous_id=Subquery(
                    earlier.order_by("-history_date", "-history_id").values("history_id")[:1]
                )
            )
        )
        previous = historical.objects.in_bulk([r.previous_id for r in rows if r.previous_id])
        for row in rows:
            loaded[(code, row.history_id)] = (row, previous.get(row.previous_id))
            for version in (row, previous.get(row.previous_id)):
                if version is None:
                    continue
                for model_field in historical.tracked_fields:
                    if model_field.is_relation:
                        names.want(model_field.related_model, getattr(version, model_field.attname))
        if getattr(historical, "_history_m2m_fields", None):
            m2m[code] = _m2m_sets(kind, {*ids, *(r.previous_id for r in rows if r.previous_id)})
            for m2m_field in historical._history_m2m_fields:
                for members in m2m[code][m2m_field.name].values():
                    for pk in members:
                        names.want(m2m_field.related_model, pk)
    names.load()

    changes = []
    for code, history_id, _ in page:
        kind = KINDS[code]
        row, before = loaded[(code, history_id)]
        changes.append(_change(kind, row, before, names, m2m.get(code, {})))
    return changes, more


def _change(kind: Kind, row, before, names: _Names, m2m: dict) -> Change:
    historical = kind.model.history.model
    action = ACTIONS.get(row.history_type, row.history_type)
    fields: list[FieldChange] = []
    if action != "deleted":
        for model_field in historical.tracked_fields:
            if model_field.name in HIDDEN_FIELDS:
                continue
            after_text = _shown(row, model_field, names)
            before_text = _shown(before, model_field, names) if before is not None else ""
            if before_text != after_text and (before is not None or after_text):
                fields.append(FieldChange(str(model_field.verbose_name), before_text, after_text))
        for m2m_field in getattr(historical, "_history_m2m_fields", []):
            members = m2m.get(m2m_field.name, {})
            now = members.get(row.history_id, set())
            then = members.get(before.history_id, set()) if before is not None else set()
            if now != then:
                model = m2m_field.related_model
                fields.append(
                    FieldChange(
                        str(m2m_field.verbose_name),
                        ", ".join(sorted(names.name(model, pk) for pk in then)),
                        ", ".join(sorted(names.name(model, pk) for pk in now)),
                    )
                )
    if kind.code == "position":
        position_id = row.id
    elif kind.code == "assignment":
        position_id = row.position_id
    else:
        position_id = None
    return Change(
        kind=kind,
        history_id=row.history_id,
        object_id=row.id,
        label=_label(kind, row, names),
        action=action,
        when=row.history_date,
        who=user_name(row.history_user),
        user_id=row.history_user_id,
        reason=row.history_change_reason or "",
        changes=fields,
        position_id=position_id,
    )
