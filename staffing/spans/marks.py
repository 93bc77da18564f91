"""Span-of-control findings kept up to date: marks after edits, one job to recompute them.

:func:`reconcile` compares what :func:`~staffing.spans.engine.evaluate` finds with the open
findings in the same scope (1 query) and writes the difference in bulk: findings that appear
are opened, findings whose figures changed are updated, findings that are gone are resolved
(never deleted).

Edits do not evaluate anything themselves: the tree services call :func:`mark` with the
positions they touched and all their ancestors, in the edit's own transaction. After the
commit, :func:`request_job` makes sure one recompute job is on its way (debounced: a burst
of edits becomes one job). The job is the Celery task that ``staffing.apps`` hands to
:data:`RECOMPUTE` when the app is ready: this module knows no task. If the broker is down
the edit still succeeds, the marks stay in the database, and the sweep that Celery beat runs
every minute catches up.

The span engine owns the span findings (``Finding.source`` "spans") and reads, opens and
resolves only those. The same job then runs the other checks of changed positions
(:func:`staffing.checks.positions_changed`) over the same positions, in its transaction:
they store their own findings.
"""

import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from orgdesign.kernel.jobs import Job
from staffing import checks
from staffing.models import Finding, PendingSpanCheck, Position, SpanJobRequest
from staffing.selectors import lineage_ids
from staffing.spans.engine import Computed, Kind, evaluate

logger = logging.getLogger(__name__)


# The job that recomputes the marked positions (staffing.apps hands it the Celery task).
RECOMPUTE = Job("recompute the marked positions' span findings")

# One advisory lock serializes the writers of findings ("spans" as a number).
SPANS_LOCK_KEY = 0x7370616E73


# Above this many pending positions a job judges the whole organization instead.
WHOLE_ORG_ABOVE = 5000
COMPARED = (
    "position_title",
    "rule_id",
    "severity",
    "basis",
    "measured",
    "measured_all",
    "measured_filled",
    "allowed_min",
    "allowed_max",
    "message",
)


@dataclass
class Outcome:
    checked: int = 0
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    open_now: int = 0
    whole_org: bool = False
    seconds: float = 0.0
    pending: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("pending")
        return data

    def summary(self) -> str:
        scope = "the whole organization" if self.whole_org else "the changed positions"
        return (
            f"Checked {self.checked} manager position(s) in {scope} in {self.seconds:.2f} s: "
            f"{self.opened} finding(s) opened, {self.updated} updated, {self.resolved} resolved; "
            f"{self.open_now} open in all."
        )


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SPANS_LOCK_KEY])


def reconcile(computed: dict[tuple[int, str], Computed], ids: list[int] | None) -> Outcome:
    """Make the open findings in scope equal ``computed``: open, update, resolve in bulk."""
    now = timezone.now()
    stored = Finding.objects.open().spans()
    if ids is not None:
        stored = stored.filter(
            Q(position_id__in=ids) | Q(kind=Kind.REPORT_NOT_ALLOWED, position__parent_id__in=ids)
        )
    stored = stored.only("pk", "position_id", "kind", *COMPARED)
    current = {(f.position_id, f.kind): f for f in stored}
    new = [
        Finding(**asdict(c), first_seen=now, updated_at=now)
        for key, c in computed.items()
        if key not in current
    ]
    opened, updated, resolved = Finding.objects.settle(current, computed, new, COMPARED, now)
    return Outcome(opened=opened, updated=updated, resolved=resolved)


def recompute(ids: Iterable[int] | None = None) -> Outcome:
    """Judge ``ids`` and store the findings, in one transaction.

    With ``ids`` None the whole organization is judged, and every pending mark is taken
    too, since the whole organization covers them.
    """
    return _run(None if ids is None else sorted(set(ids)), take_marks=ids is None)


def recompute_pending() -> Outcome:
    """Recompute the positions marked by edits, and unmark them, in one transaction."""
    SpanJobRequest.objects.filter(pk=1).update(requested_at=None)  # later edits ask anew
    return _run([], take_marks=True)


def _run(ids: list[int] | None, *, take_marks: bool) -> Outcome:
    started = time.perf_counter()
    with transaction.atomic():
        _lock()
        pending = _take_marks() if take_marks else []
        if ids is not None:
            ids = sorted(set(ids) | set(pending))
            if len(ids) > WHOLE_ORG_ABOVE:
                ids = None
        if ids == []:
            return Outcome(seconds=time.perf_counter() - started)
        computed, checked = evaluate(ids)
        outcome = reconcile(computed, ids)
        checks.positions_changed(ids)
    outcome.checked, outcome.whole_org, outcome.pending = checked, ids is None, pending
    outcome.open_now = Finding.objects.open().spans().count()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _take_marks() -> list[int]:
    """Delete the pending marks and return them. Deleting first (DELETE … RETURNING) means an
    edit that marks a position again meanwhile waits for this transaction to end, and its
    mark survives it for the next job."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PendingSpanCheck._meta.db_table} RETURNING position_id")
        return sorted(row[0] for row in cursor.fetchall())


# --- marking, after edits -----------------------------------------------------------------


def lineage(position: Position | None) -> list[int]:
    """The position and everyone above it: whose figures an edit at ``position`` changes."""
    return lineage_ids(position)


def mark(ids: Iterable[int]) -> None:
    """Note, in the current transaction, positions whose findings must be recomputed, and ask
    for a recompute job once the transaction commits."""
    ids = set(ids)
    if not ids:
        return
    PendingSpanCheck.objects.bulk_create(
        [PendingSpanCheck(position_id=pk) for pk in sorted(ids)], ignore_conflicts=True
    )
    transaction.on_commit(request_job)


def forget(position: Position) -> None:
    """Resolve the open span findings of a position that is about to be deleted."""
    now = timezone.now()
    Finding.objects.open().spans().filter(position=position).update(resolved_at=now, updated_at=now)


def request_job() -> bool:
    """Make sure one recompute job is on its way; True if this call sent it.

    Debounced through one database row: the first edit after a job started sends the next
    job (delayed by ``SPANS_DEBOUNCE_SECONDS``), later edits find the request taken. A
    request older than ``SPANS_REQUEST_STALE_SECONDS`` counts as lost. Never raises: the
    edit has committed, and whatever fails here is caught up by the sweep.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SPANS_REQUEST_STALE_SECONDS)
    try:
        taken = SpanJobRequest.objects.filter(
            Q(requested_at__isnull=True) | Q(requested_at__lt=stale), pk=1
        ).update(requested_at=now)
        if not taken:
            try:
                with transaction.atomic():
                    SpanJobRequest.objects.create(pk=1, requested_at=now)
            except IntegrityError:
                return False  # a job was requested by another edit and is on its way
        RECOMPUTE.apply_async(countdown=settings.SPANS_DEBOUNCE_SECONDS)
        return True
    except Exception:  # the broker is down, or the in-process job failed
        logger.warning(
            "Could not start the span-of-control recompute; the changed positions stay "
            "marked and the next sweep recomputes them.",
            exc_info=True,
        )
        with contextlib.suppress(Exception):  # the database itself may be what fails
            SpanJobRequest.objects.filter(pk=1).update(requested_at=None)
        return False
