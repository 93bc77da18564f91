"""Celery: a real worker on Redis runs tasks enqueued on commit; a dead broker fails fast."""

import time

import pytest
from django.db import transaction

from metrics.models import HeadcountSnapshot
from metrics.tasks import take_headcount_snapshots
from orgdesign.celery import app


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_enqueued_on_commit(fte85, worker):
    with transaction.atomic():
        transaction.on_commit(lambda: take_headcount_snapshots.apply_async(queue=worker))
        assert HeadcountSnapshot.objects.count() == 0  # nothing leaves before commit
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and HeadcountSnapshot.objects.count() < 2:
        time.sleep(0.2)
    snapshots = {s.scope_title: s for s in HeadcountSnapshot.objects.all()}
    # the whole organization, the top position and the director's and manager's scopes
    expected = {"", "VP of Customer Success", "Director of Technical Support"}
    expected.add("Support Team Manager A")
    assert set(snapshots) == expected, "the worker did not run the task"
    whole = snapshots[""]
    assert (whole.total, whole.filled, whole.open, whole.planned) == (101, 85, 4, 12)
    assert whole.breakdown["tier"]["t1"]["total"] == 45


def test_publishing_to_a_dead_broker_fails_fast(monkeypatch):
    """With our settings, the request path never hangs on a broker that is down."""
    from celery import Celery
    from kombu.exceptions import OperationalError

    # Celery prefers the CELERY_BROKER_URL environment variable over its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    dead = Celery("orgdesign-dead-broker", set_as_current=False)  # later tests use ours
    dead.config_from_object("django.conf:settings", namespace="CELERY")
    dead.conf.task_always_eager = False
    started = time.monotonic()
    with pytest.raises(OperationalError):
        dead.send_task("metrics.tasks.take_headcount_snapshots")
    assert time.monotonic() - started < 3


@pytest.mark.django_db
def test_in_process_tasks_run_after_commit_when_no_broker_is_configured(
    fte85, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        transaction.on_commit(take_headcount_snapshots.delay)
        assert not HeadcountSnapshot.objects.exists()
    assert len(callbacks) == 1
    assert HeadcountSnapshot.objects.get(scope=None).total == 101


def test_beat_schedule_is_declared_in_settings():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule["verify-reporting-tree-nightly"]["task"] == "staffing.tasks.verify_tree"
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)
