"""Celery entry points of the staffing app."""

import logging

from celery import shared_task
from django.db import DatabaseError

from staffing.interchange import jobs
from staffing.spans import marks
from staffing.tree import tree_check

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def verify_tree() -> dict:
    """Nightly check that the stored reporting tree matches its parent pointers."""
    report = tree_check()
    result = {
        "checked": report.checked,
        "wrong": len(report.wrong),
        "unreachable": len(report.unreachable),
    }
    if report.ok:
        logger.info("Reporting tree verified: %(checked)s positions, all consistent", result)
    else:
        logger.error(
            "Reporting tree damaged: %(wrong)s of %(checked)s positions have wrong tree fields, "
            "%(unreachable)s are in a reporting loop; run manage.py check_tree --repair",
            result,
        )
    return result


# Database errors (a restarted server, a lost connection) are retried with backoff; the work
# is idempotent, so a repeat after a lost acknowledgement changes nothing.
RETRY = {
    "acks_late": True,
    "autoretry_for": (DatabaseError,),
    "max_retries": 5,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
}


def _recompute_marked(what: str) -> dict:
    outcome = marks.recompute_pending()
    if outcome.pending:
        logger.info("%s: %s", what, outcome.summary())
    return outcome.as_dict()


@shared_task(**RETRY)
def recompute_pending_spans() -> dict:
    """Recompute the findings of the positions that edits have marked (sent after commit)."""
    return _recompute_marked("Span findings")


@shared_task(**RETRY)
def sweep_spans() -> dict:
    """Every minute (beat): catch up on marks whose job never ran, e.g. while Redis was down."""
    return _recompute_marked("Span findings sweep")


@shared_task(**RETRY)
def recompute_all_spans() -> dict:
    """Nightly (beat) and after rule changes: judge the whole organization."""
    outcome = marks.recompute()
    logger.info("Span findings: %s", outcome.summary())
    return outcome.as_dict()


@shared_task(acks_late=True)
def import_org(job_id: int) -> str:
    """Import a checked CSV file (an ImportJob), writing its progress for the page."""
    return jobs.import_job_run(job_id=job_id).status


@shared_task(**RETRY)
def check_import(job_id: int) -> str:
    """Check a large uploaded CSV file (an ImportJob), writing its progress for the page."""
    return jobs.import_job_check_run(job_id=job_id).status


@shared_task(**RETRY)
def sweep_imports() -> int:
    """Every minute (beat): hand import jobs to a worker again that are still waiting (the
    broker was down when Import was pressed or a file uploaded) or were left running by a
    worker that died."""
    waiting = jobs.jobs_waiting()
    for job_id in waiting:
        jobs.send_job(job_id)
    if waiting:
        logger.info("Import jobs sent again: %s", waiting)
    return len(waiting)
