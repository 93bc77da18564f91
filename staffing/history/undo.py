"""Undo of one change made in the chart's editing dialogs (the status line's Undo button).

What a change did is read from the history it wrote (see :mod:`orgdesign.kernel.audit`): the view
collects the historical rows of the change while it runs and keeps their ids in the user's
session (:func:`offer`), never anything the browser could alter. An undo reads those rows
back, checks that the organization has not changed since in the same places, and reverts the
change through the same services, in one transaction under the tree lock, recorded in the
history as the undoing user's ("Undo of: …"). A refusal says why, and nothing is written.

What can be undone: an added position (deleted again while it has no reports), an edit (the
changed fields put back), a move (back under the former manager, as its last report), a
fill (vacated again, its former status back, and a person who was transferred in put back
where they were) and a vacate (the same person back, if they are free). A deletion cannot:
the services cannot bring back a position under its old id, and the assignments and
findings that pointed at it have let go of it. An undo itself is not offered for undo.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from orgdesign.kernel.audit import acting
from roles.models import Role
from staffing import services
from staffing.history import feeds
from staffing.models import Assignment, Location, Person, Position, position_label
from staffing.tree import tree_transaction
from tiers.models import Squad

UNDOABLE = ("add", "edit", "move", "fill", "vacate")
SESSION_KEY = "orgdesign_undo"
KEPT = 10  # the user's last changes that can still be undone (another tab's among them)
NO_UNDO = {
    "delete": "A deletion cannot be undone here: add the position again if it was a mistake.",
}


def offer(request, action: str, changed: Position | None, written: list) -> dict:
    """After a change made in a dialog: remember in the user's session which historical rows
    it wrote and return what the status line offers: ``{"key": …, "url": …}`` for Undo, or
    ``{"note": …}`` saying why there is none (an empty dict: nothing to say, e.g. a save
    that changed nothing)."""
    if action not in UNDOABLE:
        return {"note": NO_UNDO[action]} if action in NO_UNDO else {}
    historical = Position.history.model
    mine = [row for row in written if isinstance(row, historical)]
    pk = getattr(changed, "pk", None)
    main = next((row for row in reversed(mine) if row.id == pk), None)
    if main is None:
        return {}
    assignments = [row.history_id for row in written if isinstance(row, Assignment.history.model)]
    kept = dict(request.session.get(SESSION_KEY, {}))
    kept[str(main.history_id)] = {
        "action": action,
        "position": pk,
        "positions": [row.history_id for row in mine],
        "assignments": assignments,
    }
    request.session[SESSION_KEY] = dict(list(kept.items())[-KEPT:])
    return {"key": main.history_id, "url": reverse("chart-undo", args=[main.history_id])}


def recalled(request, key: int) -> dict | None:
    """The change ``key`` of this user's session, if it can still be undone."""
    record = request.session.get(SESSION_KEY, {}).get(str(key))
    return {**record, "key": key} if record else None


def forget(request, key: int) -> None:
    kept = dict(request.session.get(SESSION_KEY, {}))
    if kept.pop(str(key), None) is not None:
        request.session[SESSION_KEY] = kept


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="conflict")


def _newest(pk: int) -> int | None:
    return Position.history.filter(id=pk).aggregate(n=Max("history_id"))["n"]


def _before(pk: int, history_id: int):
    """The version of position ``pk`` just before the historical row ``history_id``."""
    return Position.history.filter(id=pk, history_id__lt=history_id).order_by("-history_id").first()


def _unchanged_since(position: Position, row, *, what: str) -> None:
    """Refused unless ``row`` is still the newest version of ``position``."""
    newest = _newest(position.pk)
    if newest != row.history_id:
        later = Position.history.filter(history_id=newest).select_related("history_user").first()
        how = feeds.REASONS.get(later.history_change_reason or "", "changed") if later else ""
        who = feeds.user_name(later.history_user) if later else "someone"
        raise _refuse(f"{position.label} has changed since {what} ({how.lower()}, by {who}).")


def undo_change(*, actor, record: dict) -> tuple[Position | None, str]:
    """Revert the change ``record`` (from :func:`recalled`) through the services, in one
    transaction; returns the position to show afterwards and what was done. A
    ValidationError (the organization changed since) or PermissionDenied (no longer the
    actor's to change) says why, and nothing is written."""
    action = record["action"]
    if action not in UNDOABLE:
        raise _refuse("That change cannot be undone.")
    historical = Position.history.model
    rows = {
        row.history_id: row for row in historical.objects.filter(history_id__in=record["positions"])
    }
    main = rows.get(record["key"])
    if main is None or main.id != record["position"]:
        raise _refuse("That change is no longer in the history.")
    users = {row.history_user_id for row in rows.values()}
    if users != {getattr(actor, "pk", None)}:
        raise PermissionDenied("Only the person who made a change can undo it.")
    reason = main.history_change_reason or ""
    with tree_transaction(), acting(actor, f"undo {reason}"):
        position = Position.objects.select_related("holder").filter(pk=main.id).first()
        if position is None:
            raise _refuse(f"{main.title} has been deleted since.")
        what = {
            "add": _undo_add,
            "edit": _undo_edit,
            "move": _undo_move,
            "fill": _undo_fill,
            "vacate": _undo_vacate,
        }[action]
        return what(actor, position, main, rows, record)


def _undo_add(actor, position, main, rows, record):
    _unchanged_since(position, main, what="it was added")
    if Position.objects.filter(parent=position).exists():
        raise _refuse(f"{position.label} has reports now; move them elsewhere first.")
    parent = position.parent
    label = position.label
    services.position_delete(actor=actor, position=position)
    where = f" under {parent.label}" if parent is not None else ""
    return parent, f"Undone: {label}{where} is removed again."


FIELD_MODELS = {"role": Role, "squad": Squad, "location": Location}


def _undo_edit(actor, position, main, rows, record):
    _unchanged_since(position, main, what="the edit")
    before = _before(position.pk, main.history_id)
    if before is None:
        raise _refuse("The history has no earlier version of this position to go back to.")
    changes = {}
    for name in services.UPDATABLE_FIELDS:
        attname = f"{name}_id" if name in FIELD_MODELS else name
        old, new = getattr(before, attname), getattr(main, attname)
        if old == new:
            continue
        if name in FIELD_MODELS and old is not None:
            found = FIELD_MODELS[name].objects.filter(pk=old).first()
            if found is None:
                raise _refuse(f"The former {name} of {position.label} no longer exists.")
            old = found
        changes[name] = old
    if not changes:
        raise _refuse("That edit changed nothing that can be put back.")
    services.position_update(actor=actor, position=position, **changes)
    position.refresh_from_db()
    names = ", ".join(changes)
    return position, f"Undone: {names} of {position.label} put back."


def _undo_move(actor, position, main, rows, record):
    _unchanged_since(position, main, what="the move")
    before = _before(position.pk, main.history_id)
    if before is None:
        raise _refuse("The history has no earlier version of this position to go back to.")
    old = None
    if before.parent_id is not None:
        old = Position.objects.select_related("holder").filter(pk=before.parent_id).first()
        if old is None:
            last = Position.history.filter(id=before.parent_id).order_by("-history_id").first()
            name = last.title if last else "its former manager"
            raise _refuse(f"{name}, whom {position.label} reported to, has been deleted since.")
    services.position_move(actor=actor, position=position, new_parent=old)
    where = old.label if old is not None else "the top of the organization"
    return position, f"Undone: {position.label} reports to {where} again."


def _undo_fill(actor, position, main, rows, record):
    _unchanged_since(position, main, what="it was filled")
    before = _before(position.pk, main.history_id)
    person = position.holder
    current = Assignment.objects.filter(position=position, end_date__isnull=True).first()
    end = max(timezone.localdate(), current.start_date) if current else None
    # a person transferred in by the fill goes back where they were, if it is still free
    left = [r for r in rows.values() if r.id != position.pk and r.holder_id is None]
    back = None
    if left:
        row = left[0]
        back = Position.objects.select_related("holder").filter(pk=row.id).first()
        if back is None:
            raise _refuse(f"{person}'s former position, {row.title}, has been deleted since.")
        _unchanged_since(back, row, what=f"{person} left it")
    label = position.label
    services.position_vacate(actor=actor, position=position, end_date=end, note="Fill undone")
    if before is not None and before.status == Position.Status.PLANNED:
        services.position_update(actor=actor, position=position, status=Position.Status.PLANNED)
    done = f"Undone: {label} is {'planned' if before and before.status == 'planned' else 'open'}"
    if back is not None:
        services.person_assign(
            actor=actor, person=person, position=back, start_date=end, note="Fill undone"
        )
        back.refresh_from_db()
        done += f", and {person} is back in {back.label}"
    position.refresh_from_db()
    return position, done + " again."


def _undo_vacate(actor, position, main, rows, record):
    _unchanged_since(position, main, what="it was vacated")
    ended = (
        Assignment.history.filter(history_id__in=record["assignments"], end_date__isnull=False)
        .order_by("-history_id")
        .first()
    )
    if ended is None:
        raise _refuse("The history does not say who held the position.")
    person = Person.objects.filter(pk=ended.person_id).first()
    if person is None:
        raise _refuse("The person who held the position no longer exists.")
    if Position.objects.filter(holder=person).exists():
        raise _refuse(f"{person} holds another position now.")
    latest = person.assignments.order_by("-start_date", "-pk").first()
    if latest is None or latest.pk != ended.id:
        raise _refuse(f"{person} has had another position since.")
    start: datetime.date = ended.end_date
    services.person_assign(
        actor=actor, person=person, position=position, start_date=start, note="Vacancy undone"
    )
    position.refresh_from_db()
    return position, f"Undone: {person} holds {position_label(position.title, person)} again."
