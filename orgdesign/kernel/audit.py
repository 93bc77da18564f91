"""The audit trail: who changed what and when, on every write path.

django-simple-history keeps a historical row per save and delete of the tracked models
(positions, assignments, roles, promotion paths, span rules). Its signals see ``save()``
and ``delete()``; the paths that bypass them (bulk inserts and bulk updates) record their
rows with :func:`bulk_record`, in the same transaction.

Who made a change comes from the service that made it: each service of
``staffing.services`` runs under :func:`audited`, which takes its ``actor`` and its name
(the change reason) for every row written while it runs. Outside a service (the admin's
catalogue forms) the request's user is taken, as simple-history's middleware records it;
commands and tasks leave the user empty, and a feed shows them as "the system".
"""

import functools
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record

from orgdesign.kernel.bulk import insert_rows

_UNSET = object()
_actor: ContextVar = ContextVar("orgdesign_audit_actor", default=_UNSET)
_reason: ContextVar[str] = ContextVar("orgdesign_audit_reason", default="")
_written: ContextVar[list | None] = ContextVar("orgdesign_audit_written", default=None)
_deleting: ContextVar[list | None] = ContextVar("orgdesign_audit_deleting", default=None)
HEAD = ("history_date", "history_type", "history_user_id", "history_change_reason")


def _user_or_none(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user


@contextmanager
def acting(actor, reason: str = "") -> Iterator[None]:
    """Record ``actor`` and ``reason`` on the history written inside the block. An outer
    block wins: a service that calls another keeps its own name on every row."""
    if _actor.get() is not _UNSET:
        yield
        return
    actor_token = _actor.set(_user_or_none(actor))
    reason_token = _reason.set(reason)
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _reason.reset(reason_token)


def audited(func):
    """Run a keyword-only service under :func:`acting` with its ``actor`` and its name."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with acting(kwargs.get("actor"), func.__name__):
            return func(*args, **kwargs)

    return wrapper


def current_actor():
    actor = _actor.get()
    return None if actor is _UNSET else actor


def current_reason() -> str:
    return _reason.get()


@contextmanager
def collecting() -> Iterator[list]:
    """The historical rows written inside the block, in the order written (what one change
    recorded: an undo is told which rows to read). Rows of a transaction rolled back inside
    the block stay in the list: use it once the block succeeded."""
    rows: list = []
    token = _written.set(rows)
    try:
        yield rows
    finally:
        _written.reset(token)


def _collect(sender, history_instance=None, **kwargs) -> None:
    rows = _written.get()
    if rows is not None and history_instance is not None:
        rows.append(history_instance)


post_create_historical_record.connect(_collect, dispatch_uid="orgdesign_audit_collect")


def history_user(instance=None, request=None, **kwargs):
    """simple-history's ``get_user``: the service's actor, else the request's user."""
    actor = _actor.get()
    if actor is not _UNSET:
        return actor
    return _user_or_none(getattr(request, "user", None))


class AuditedRecords(HistoricalRecords):
    """HistoricalRecords that take the user and the reason from :func:`acting`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("get_user", history_user)
        kwargs.setdefault("cascade_delete_history", False)
        super().__init__(**kwargs)

    def get_change_reason_for_object(self, instance, history_type, using):
        return super().get_change_reason_for_object(instance, history_type, using) or (
            _reason.get() or None
        )

    def post_delete(self, instance, using=None, **kwargs):
        """Inside :func:`deletions_in_bulk`, note the row for the block's end instead of
        writing it now (unless something needs it written one by one: an undo collecting
        rows, many-to-many history, a date or user set on the instance)."""
        pending = _deleting.get()
        if (
            pending is None
            or _written.get() is not None
            or self.m2m_fields
            or self.cascade_delete_history
            or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
            or hasattr(instance, "_history_date")
            or hasattr(instance, "_history_user")
        ):
            return super().post_delete(instance, using=using, **kwargs)
        user = self.get_history_user(instance)
        reason = self.get_change_reason_for_object(instance, "-", using)
        head = (timezone.now(), "-", getattr(user, "pk", None), reason)
        pending.append((type(instance), _row(type(instance), head, instance)))
        return None


@contextmanager
def deletions_in_bulk() -> Iterator[None]:
    """Deletions inside the block write their historical "-" rows at its end, a few
    statements per model (:func:`_insert`), instead of one INSERT per row from
    simple-history's ``post_delete`` (a 100,000-position demo's reset spent a quarter of
    an hour in those). The rows are the same, dated when each deletion ran. Nothing is
    written if the block fails; run it inside the transaction that deletes."""
    pending: list = []
    token = _deleting.set(pending)
    try:
        yield
    finally:
        _deleting.reset(token)
    by_model: dict = {}
    for model, row in pending:
        by_model.setdefault(model, []).append(row)
    for model, rows in by_model.items():
        _insert(model, rows)


def bulk_record(model, objs, *, kind: str = "+", batch_size: int = 5000) -> int:
    """Historical rows for objects written without ``save()`` or ``delete()``: ``kind`` is
    "+" (created), "~" (changed) or "-" (deleted). Call it in the transaction that wrote
    them, with the objects as they now are (as they were, for a deletion).

    The rows go in as plain values (:func:`orgdesign.kernel.bulk.insert_rows`: one COPY on
    PostgreSQL), unless :func:`collecting` wants them as instances with their ids."""
    if kind not in ("+", "~", "-"):
        raise ValueError(f"Unknown kind of change {kind!r}.")
    historical = model.history.model
    names = [field.attname for field in historical.tracked_fields]
    user, reason, now = current_actor(), current_reason(), timezone.now()
    collected = _written.get()
    if collected is None:
        head = (now, kind, getattr(user, "pk", None), reason or None)
        return _insert(model, [_row(model, head, obj) for obj in objs])
    rows = [
        historical(
            history_date=now,
            history_type=kind,
            history_user=user,
            history_change_reason=reason or None,
            **{name: getattr(obj, name) for name in names},
        )
        for obj in objs
    ]
    historical.objects.bulk_create(rows, batch_size=batch_size)
    collected.extend(rows)
    return len(rows)


@functools.cache
def _tracked(model) -> tuple[list[str], operator.attrgetter]:
    names = [field.attname for field in model.history.model.tracked_fields]
    return names, operator.attrgetter(*names)  # a tuple of values, or one for one name


def _row(model, head: tuple, obj) -> tuple:
    """A historical row of ``obj`` as plain values: ``HEAD``, then its tracked fields."""
    names, values = _tracked(model)
    return (*head, *values(obj)) if len(names) > 1 else (*head, values(obj))


def _insert(model, rows: list[tuple]) -> int:
    """Historical rows of ``model`` given as plain values (:func:`_row`), written by
    :func:`orgdesign.kernel.bulk.insert_rows` (one COPY on PostgreSQL)."""
    return insert_rows(model.history.model, [*HEAD, *_tracked(model)[0]], rows)
