"""A real Celery worker, started as the README and docker-compose start it, on a Redis of
its own that the test kills in the middle of an import and starts again: the worker lives
through the outage, the import it was running finishes, an edit made meanwhile is saved, and
its span-of-control finding is worked out once the broker is back."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orgdesign.celery import app
from staffing import services
from staffing.interchange import jobs
from staffing.models import Finding, ImportJob, Position
from tests.conftest import missing, stop_process, subprocess_database_url
from tests.factories import UserFactory, make_position, make_team
from tests.test_import import large_file

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "README": ["worker", "-l", "INFO"],
    "docker-compose": ["worker", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
}

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server of this test's own, stopped and started at will."""

    def __init__(self, tmp_path: Path):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            missing("redis-server")
        self.port, self.dir = free_port(), tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        until(lambda: self.answers(), 10, "redis to start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


def until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


@pytest.fixture
def redis(tmp_path):
    server = Redis(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


def start_worker(redis: Redis, command: list[str]) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "CELERY_BROKER_URL": redis.url,
        "CELERY_TASK_DEFAULT_QUEUE": "celery",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "orgdesign", *command],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def send(redis: Redis, task, *args) -> None:
    """Publish to this test's Redis (the test process's own broker is another one)."""
    with app.connection_for_write(redis.url) as connection:
        task.apply_async(args=list(args), connection=connection, queue="celery")


@pytest.mark.parametrize("started_as", list(COMMANDS))
def test_the_worker_lives_through_a_broker_outage_mid_import_and_catches_up(
    framework, redis, started_as
):
    from staffing.tasks import import_org, sweep_spans

    admin = UserFactory(is_superuser=True, is_staff=True)
    manager = make_position("Manager", "advocate-manager")
    lead = make_position("Lead", "team-lead", manager)
    make_team(lead, 7)
    job = jobs.import_job_check(
        actor=admin, filename="big.csv", data=large_file(4_000).encode(), content_type="text/csv"
    )
    if job.status == ImportJob.Status.CHECKING:
        job = jobs.import_job_check_run(job_id=job.pk)
    assert job.status == ImportJob.Status.CHECKED, job.problems[:3]
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.QUEUED, started_by=admin
    )  # as import_job_start leaves it; the message goes to this test's Redis
    worker = start_worker(redis, COMMANDS[started_as])
    output = ""
    try:
        send(redis, import_org, job.pk)
        until(lambda: ImportJob.objects.get(pk=job.pk).status == "running", 60, "the import")
        redis.kill()  # mid-import
        # the app keeps working: an edit is saved, its span job waits for the broker
        for agent in list(Position.objects.filter(parent=lead))[:2]:
            services.position_move(actor=None, position=agent, new_parent=manager)
        time.sleep(5)
        assert worker.poll() is None, "the worker died with its broker"
        redis.start()
        until(lambda: ImportJob.objects.get(pk=job.pk).status == "done", 120, "the import")
        send(redis, sweep_spans)  # what beat sends every minute
        under = Finding.objects.open().filter(position=lead, kind="too_few_direct")
        until(under.exists, 60, "the finding of the team that lost two agents")
        assert worker.poll() is None
    finally:
        output = stop_process(worker, timeout=20)
        print(output[-4000:])
    assert "Unrecoverable error" not in output
    assert Position.objects.filter(external_id__startswith="B-").count() == 4_000
