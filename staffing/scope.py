"""Who may see and change which part of the organization.

* superusers see and change everything;
* HR (group ``hr``) reads the whole organization and changes nothing in the tree;
* directors and managers (groups ``director`` and ``manager``) see the subtree under their
  own position and change the positions below it (not their own position);
* anyone else sees nothing.

Services call :func:`scope_for` on the acting user; querysets filter with it, so every
page and endpoint built on them inherits the same rules.
"""

from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

GROUP_DIRECTOR = "director"
GROUP_MANAGER = "manager"
GROUP_HR = "hr"
SCOPED_GROUPS = (GROUP_DIRECTOR, GROUP_MANAGER)


@dataclass(frozen=True)
class Scope:
    sees_all: bool = False
    edits_all: bool = False
    root: object | None = None  # the user's own Position, fresh from the database

    @property
    def description(self) -> str:
        if self.edits_all:
            return "the whole organization"
        if self.root is not None:
            return f"the team under {self.root.title}"
        if self.sees_all:
            return "the whole organization (read only)"
        return "nothing"

    @cached_property
    def _trees_below(self) -> frozenset[int]:
        """The trees of the division heads below the root (see staffing.tree): none for a
        manager, the directors' for a VP (one query, once per scope)."""
        if self.root is None:
            return frozenset()
        return frozenset(tree_id for tree_id, _ in self.root.trees_below())

    def _in_subtree(self, position, *, include_root: bool) -> bool:
        root = self.root
        if root is None or position is None:
            return False
        if position.tree_id != root.tree_id:
            return position.tree_id in self._trees_below
        if include_root:
            return root.lft <= position.lft < root.rght
        return root.lft < position.lft < root.rght

    def can_see(self, position) -> bool:
        return self.sees_all or self._in_subtree(position, include_root=True)

    def can_edit(self, position) -> bool:
        """Whether this scope may change ``position`` itself (update, move, delete, fill)."""
        return self.edits_all or self._in_subtree(position, include_root=False)

    def can_record_for(self, position) -> bool:
        """Whether this scope may keep a record (a headcount snapshot) of the part under
        ``position`` (None: the whole organization): the whole organization's editors
        anywhere, a director or manager in their own part, never a reader."""
        if self.edits_all:
            return True
        return position is not None and self._in_subtree(position, include_root=True)

    def can_place_under(self, parent) -> bool:
        """Whether this scope may put a position under ``parent`` (None: a new top position)."""
        if self.edits_all:
            return True
        return parent is not None and self._in_subtree(parent, include_root=True)

    def filter_visible(self, queryset: QuerySet) -> QuerySet:
        if self.sees_all:
            return queryset
        if self.root is None:
            return queryset.none()
        return queryset.subtree_of(self.root)

    def filter_placeable(self, queryset: QuerySet) -> QuerySet:
        """The positions this scope may put a position under (see :meth:`can_place_under`)."""
        if self.edits_all:
            return queryset
        if self.root is None:
            return queryset.none()
        return queryset.subtree_of(self.root)

    def filter_editable(self, queryset: QuerySet) -> QuerySet:
        if self.edits_all:
            return queryset
        if self.root is None:
            return queryset.none()
        return queryset.subtree_of(self.root, include_self=False)


SYSTEM = Scope(sees_all=True, edits_all=True)
NOTHING = Scope()


def scope_for(user) -> Scope:
    """The scope of ``user``; ``None`` stands for the system (commands, tasks, migrations)."""
    from staffing.models import Position

    if user is None:
        return SYSTEM
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return SYSTEM
    groups = set(user.groups.values_list("name", flat=True))
    root = None
    if groups & set(SCOPED_GROUPS):
        root = Position.objects.filter(holder__user=user).first()
    return Scope(sees_all=GROUP_HR in groups, edits_all=False, root=root)


def request_scope(request) -> Scope:
    """The scope of the request's user, worked out once per request (2 queries)."""
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    scope = getattr(request, "_orgdesign_scope", None)
    if scope is None:
        scope = scope_for(request.user)
        request._orgdesign_scope = scope
    return scope


def require_edit(actor, position) -> None:
    if not scope_for(actor).can_edit(position):
        raise PermissionDenied(
            f"{position.label} is outside the part of the organization you edit."
        )


def require_place_under(actor, parent) -> None:
    if not scope_for(actor).can_place_under(parent):
        where = parent.label if parent is not None else "the top of the organization"
        raise PermissionDenied(f"You cannot add or move positions under {where}.")
