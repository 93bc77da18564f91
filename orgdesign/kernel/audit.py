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

from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import post_create_historical_record

from orgdesign.kernel.bulk import insert_rows

_UNSET = object()
_actor: ContextVar = ContextVar("orgdesign_audit_actor", default=_UNSET)
_reason: ContextVar[str] = ContextVar("orgdesign_audit_reason", default="")
_written: ContextVar[list | None] = ContextVar("orgdesign_audit_written", default=None)


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
        values = operator.attrgetter(*names)  # a tuple of them, or one value for one name
        if len(names) == 1:
            rows = [(*head, values(obj)) for obj in objs]
        else:
            rows = [(*head, *values(obj)) for obj in objs]
        columns = ["history_date", "history_type", "history_user_id", "history_change_reason"]
        return insert_rows(historical, [*columns, *names], rows)
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
