"""Celery entry points of the staffing app."""

import logging

from celery import shared_task

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
