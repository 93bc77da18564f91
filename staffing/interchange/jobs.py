"""Import jobs: an uploaded file kept and checked, then imported by a Celery job with its
progress written for the page (the ``/import/`` page, the admin and the Celery tasks).

The jobs are sent through :data:`CHECK` and :data:`RUN`, which ``staffing.apps`` hands the
Celery tasks to: this module knows no task.
"""

import datetime
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from orgdesign.kernel.jobs import Job
from staffing.interchange.checks import ImportResult, require_importer
from staffing.interchange.csvfile import ImportRefused, check_upload, decode, refuse_too_many_lines
from staffing.interchange.write import import_run
from staffing.models import ImportJob

logger = logging.getLogger(__name__)

# the Celery tasks that check and import a kept file (handed over by staffing.apps)
CHECK = Job("check an uploaded CSV file")
RUN = Job("import a checked CSV file")


def import_job_check(*, actor, filename: str, data: bytes, content_type: str = "") -> ImportJob:
    """Keep an uploaded file as a job and check it (a dry run): at once for a small file,
    in a Celery job with its progress on the page for one of more than
    IMPORT_CHECK_INLINE_ROWS lines, so that the upload's request stays short. The job is
    ready to import when the check finds no problem. Raises ImportRefused, keeping nothing,
    for a file that cannot be kept (too large, not CSV, not UTF-8)."""
    require_importer(actor)
    problems = check_upload(name=filename, size=len(data), content_type=content_type)
    if problems:
        raise ImportRefused(problems)
    text = decode(data)
    lines = refuse_too_many_lines(text)
    job = ImportJob(
        filename=filename[:255],
        content=text,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        created_by=actor,
    )
    if lines <= settings.IMPORT_CHECK_INLINE_ROWS + 1:
        _record_check(job, import_run(actor=actor, text=text, dry_run=True))
        return job
    with transaction.atomic():
        job.status, job.phase = ImportJob.Status.CHECKING, "Waiting to start"
        job.started_at = timezone.now()  # queued at, until the check ends
        job.save()
        transaction.on_commit(lambda: send_job(job.pk))
    return job


def _record_check(job: ImportJob, result: ImportResult) -> None:
    job.kind, job.rows = result.kind, result.rows
    job.status = ImportJob.Status.CHECKED if result.ok else ImportJob.Status.REFUSED
    job.phase, job.progress = "", 0
    job.problems = [[p.row, p.column, p.message] for p in result.problems]
    job.problem_count = result.problem_count
    job.summary = result.summary()
    job.changes = [list(c) for c in result.changes]
    job.save()


def import_job_check_run(*, job_id: int) -> ImportJob:
    """Check a large file kept by import_job_check (the Celery task), writing its progress
    for the page. A delivery for a job whose check has ended does nothing."""
    with _running(job_id) as mine:
        job = ImportJob.objects.select_related("created_by").get(pk=job_id)
        if not mine or job.status != ImportJob.Status.CHECKING:
            return job
        if job.created_by is None:
            return _job_failed(job, "Not checked: the user who uploaded it no longer exists.")
        try:
            result = _run_stored(job, actor=job.created_by, dry_run=True)
        except Exception as error:  # recorded on the job for the page
            logger.exception("Checking import job %s failed", job.pk)
            return _job_failed(job, f"The file could not be checked: {error}")
        _record_check(job, result)
        return job


def import_job_start(*, actor, job: ImportJob) -> ImportJob:
    """Queue the import of a checked job, to run as ``actor``; the Celery task
    ``staffing.tasks.import_org`` carries it out after this transaction commits
    (in-process when there is no broker; when the broker is down, the job waits and
    ``staffing.tasks.sweep_imports`` sends it once the broker answers again)."""
    require_importer(actor)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.CHECKED:
            raise ValidationError(
                f"This file cannot be imported now: it is {job.get_status_display().lower()}."
            )
        job.status, job.phase, job.progress = ImportJob.Status.QUEUED, "Waiting to start", 0
        job.started_by, job.started_at = actor, timezone.now()  # queued at, until it starts
        job.save(update_fields=["status", "phase", "progress", "started_by", "started_at"])
        transaction.on_commit(lambda: send_job(job.pk))
    return job


def send_job(job_id: int) -> bool:
    """Hand a queued job to a worker; False (the job waiting) when the broker is down."""
    checking = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.CHECKING).exists()
    try:
        (CHECK if checking else RUN).apply_async(args=[job_id])
    except OperationalError:
        logger.warning("Could not queue import job %s; it waits for the broker", job_id)
        ImportJob.objects.filter(
            pk=job_id, status__in=(ImportJob.Status.QUEUED, ImportJob.Status.CHECKING)
        ).update(phase="Waiting for a worker (the job queue does not answer)")
        return False
    return True


class _ProgressWriter:
    """Writes a job's progress where the page can see it while the import's transaction is
    still open: on PostgreSQL through a second connection; elsewhere only between phases
    outside a transaction (SQLite has one writer)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.side = None
        self.last = -1
        if connection.vendor == "postgresql":
            main = connections[DEFAULT_DB_ALIAS]
            self.side = type(main)(dict(main.settings_dict), alias="import-progress")

    def __call__(self, phase: str, percent: int) -> None:
        if percent == self.last:
            return
        self.last = percent
        table = ImportJob._meta.db_table
        sql = f"UPDATE {table} SET phase = %s, progress = %s WHERE id = %s"
        if self.side is not None:
            with self.side.cursor() as cursor:  # autocommit: seen at once
                cursor.execute(sql, [phase[:80], percent, self.job_id])
        elif not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(phase=phase[:80], progress=percent)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


# a session-level advisory lock per job, held by the worker that runs it: a job found
# "running" whose lock is free was left by a worker that died (its import rolled back)
JOB_LOCK_BASE = 0x696D_706F_0000_0000  # "impo"


@contextmanager
def _running(job_id: int) -> Iterator[bool]:
    """Whether this process may run the job (no other live worker runs it)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = JOB_LOCK_BASE + job_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def import_job_run(*, job_id: int) -> ImportJob:
    """Carry out a queued job (the Celery task): the stored file is checked again under the
    tree lock and imported whole, or refused with the problems found now, as the user who
    pressed Import. A delivery for a job that another worker is running, or that has ended,
    does nothing; a job left running by a worker that died is taken over."""
    with _running(job_id) as mine:
        job = ImportJob.objects.select_related("started_by").get(pk=job_id)
        if not mine:
            return job  # another worker has it
        running = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
        taken = ImportJob.objects.filter(pk=job_id, status__in=running).update(
            status=ImportJob.Status.RUNNING, started_at=timezone.now(), phase="Starting"
        )
        if not taken:
            return job  # a repeated delivery of a job that has ended
        job.refresh_from_db()
        return _run_job(job)


def _run_job(job: ImportJob) -> ImportJob:
    if job.started_by is None:
        return _job_failed(job, "Nothing was imported: the user who started it no longer exists.")
    try:
        result = _run_stored(job, actor=job.started_by, dry_run=False)
    except Exception as error:  # recorded on the job for the page; the import rolled back
        logger.exception("Import job %s failed", job.pk)
        return _job_failed(job, f"Nothing was imported: {error}")
    job.finished_at = timezone.now()
    job.summary = result.summary()
    job.changes = [list(change) for change in result.changes]
    if result.ok:
        job.status, job.phase, job.progress = ImportJob.Status.DONE, "Done", 100
    else:
        job.status, job.phase = ImportJob.Status.REFUSED, "Refused"
        job.problems = [[p.row, p.column, p.message] for p in result.problems]
        job.message = "The organization changed since the file was checked; nothing was imported."
    job.save()
    return job


def _run_stored(job: ImportJob, *, actor, dry_run: bool) -> ImportResult:
    """import_run on the job's stored file, its progress written where the page sees it."""
    writer = _ProgressWriter(job.pk)
    try:
        return import_run(actor=actor, text=job.content, dry_run=dry_run, progress=writer)
    finally:
        writer.close()


def _job_failed(job: ImportJob, message: str) -> ImportJob:
    job.status, job.phase = ImportJob.Status.FAILED, "Failed"
    job.message, job.finished_at = message, timezone.now()
    job.save(update_fields=["status", "phase", "message", "finished_at"])
    return job


def jobs_waiting(*, older_than_s: int = 60) -> list[int]:
    """Jobs to hand to a worker again: queued for a while (the broker was down, or the
    message was lost), or running (a delivery whose worker died finds its lock free)."""
    since = timezone.now() - datetime.timedelta(seconds=older_than_s)
    waiting = ImportJob.objects.filter(
        status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.CHECKING),
        started_at__lt=since,
    )
    return list(waiting.values_list("pk", flat=True))
