"""Shared fixtures. Tests needing PostgreSQL, Redis/Celery or Chromium are marked; they skip
with a reason where the service is missing, and fail instead when ORGDESIGN_REQUIRE_SERVICES=1
(as in CI), so CI can never go green by skipping them."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.testcases import LiveServerThread

from tests import factories, liveserver, shared

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + Playwright

LiveServerThread.server_class = liveserver.LiveServer  # see tests/liveserver.py

pytest_plugins = ["tests.api_cases"]  # fixtures of the generated API tests

REQUIRE = os.environ.get("ORGDESIGN_REQUIRE_SERVICES") == "1"
# The one setting for the size of scale tests: "full" (make test-full) runs them at full size;
# otherwise at sizes that still prove the point.
FULL = os.environ.get("ORGDESIGN_TEST_SCALE") == "full"


def scaled(default, full):
    """A scale test's size: ``full`` under ORGDESIGN_TEST_SCALE=full (make test-full),
    ``default`` (still big enough to prove the point) otherwise."""
    return full if FULL else default


CHROMIUM = os.environ.get("ORGDESIGN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def missing(what: str) -> None:
    if REQUIRE:
        pytest.fail(f"{what} is required here (ORGDESIGN_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


def subprocess_database_url() -> str:
    """The URL of the database the tests run on, for processes the tests start."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}{password}@{host}:{port}/{s['NAME']}"


def redis_answers() -> bool:
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(autouse=True)
def _required_services(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing("PostgreSQL (set DATABASE_URL)")
    if request.node.get_closest_marker("redis") and not redis_answers():
        missing("Redis (set CELERY_BROKER_URL)")


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Tasks run in-process unless a test drives a real worker (marker ``redis``)."""
    from orgdesign.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = not request.node.get_closest_marker("redis")
    yield
    app.conf.task_always_eager = eager


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        missing(f"Chromium at {CHROMIUM}")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the default catalogue loaded once for the whole session
    (through the same service as load_framework): every test's transaction starts from it and
    rolls back to it; after a transactional test's flush it is copied back (below).

    On PostgreSQL, commits to this throwaway database do not wait for the disk (every
    connection to it, the live server's and the worker's included): a crash loses the last
    commits, which a test database can afford."""
    from metrics.services import framework_load

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                name = connection.ops.quote_name(connection.settings_dict["NAME"])
                cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit TO off")
            connection.close()
        framework_load()
        STARTING_STATE.update(shared.snapshot())
    yield
    if connection.vendor == "postgresql":
        # a session left open on the test database (a live server's thread, a worker that
        # has not quite exited) would stop pytest-django from dropping it at the end
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


STARTING_STATE: dict = {}  # every row the session's database starts with


def transactional(item) -> bool:
    """Whether pytest-django runs ``item`` outside a transaction and flushes the database after
    it (the same rule pytest-django orders tests by)."""
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    return bool(
        (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        or "transactional_db" in names
        or "live_server" in names
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """A transactional test's flush empties the catalogue too: the database is made the
    session's starting state again, ids included (a pre-seeded template, copied back in one
    INSERT per table), so the tests that follow, whatever their order, find the catalogue
    and the standard organizations' recordings still apply."""
    result = yield
    if nextitem is not None and transactional(item) and STARTING_STATE:
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            shared.restore(STARTING_STATE)
    return result


def uses_database(item) -> bool:
    names = getattr(item, "fixturenames", ())
    marked = item.get_closest_marker("django_db")
    return bool(marked or "_django_db_helper" in names or "live_server" in names)


def readable() -> bool:
    """Whether the test's transaction can still be read (not one a failed statement aborted,
    as a test of a refused load leaves it)."""
    if connection.connection is None:
        return True
    if connection.vendor == "postgresql":
        from psycopg2.extensions import TRANSACTION_STATUS_INERROR

        return connection.connection.info.transaction_status != TRANSACTION_STATUS_INERROR
    return not connection.needs_rollback


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that uses the database (and passed), the reporting tree is still
    valid: each division's nested sets, the tree roots, depths and counts agree with the
    parent pointers (``check_tree``'s comparison). A test that damages the tree on purpose
    says so with ``@pytest.mark.breaks_tree``."""
    result = yield
    if uses_database(item) and not item.get_closest_marker("breaks_tree") and readable():
        from staffing.tree import tree_check

        report = tree_check()
        if not report.ok:
            wrong = [f"{pk}: stored {stored}, expected {expected}"
                     for pk, stored, expected in report.wrong[:5]]  # fmt: skip
            pytest.fail(
                f"The test left the reporting tree invalid: {len(report.wrong)} positions "
                f"misplaced, {len(report.unreachable)} unreachable. " + "; ".join(wrong),
                pytrace=False,
            )
    return result


@pytest.fixture
def framework(db):
    """The default catalogue: in the database from the session's start (django_db_setup) and
    copied back after each transactional test (pytest_runtest_teardown), so nothing to do but
    name the need."""
    return True


CATALOGUE_TABLES = (
    "tiers",
    "roles",
    "metrics_kpi",
    "orgdesign_catalogueversion",
)


@pytest.fixture
def empty_catalogue(db):
    """A database as migrate leaves it: the session's catalogue emptied inside this test's
    transaction (rolled back with it)."""
    from django.core.management.color import no_style

    tables = [
        table
        for table in connection.introspection.table_names()
        if table.startswith(CATALOGUE_TABLES)
    ]
    with connection.cursor() as cursor:
        for sql in connection.ops.sql_flush(no_style(), tables, allow_cascade=True):
            cursor.execute(sql)
    return tables


@pytest.fixture
def roles(framework):
    from roles.models import Role

    return {role.code: role for role in Role.objects.all()}


# --- the standard organizations (builders in tests/factories.py), built once per session ---


def standard(name: str, build):
    """A fixture giving what ``build`` returns, its rows copied into the test's database."""

    def fixture(framework):
        return shared.once(build)

    fixture.__doc__ = build.__doc__
    return pytest.fixture(name=name)(fixture)


api_org = standard("api_org", factories.build_api_org)
small_org = standard("small_org", factories.build_small_org)
findings_org = standard("findings_org", factories.build_findings_org)
located_org = standard("located_org", factories.build_located_org)
synapse = standard("synapse", factories.seed_synapse)
fte85 = standard("fte85", factories.seed_fte85)


@pytest.fixture
def actors(api_org) -> dict:
    """A client per actor of the permission matrix (tests/api_cases.py)."""
    from rest_framework.test import APIClient

    users = shared.once(factories.build_actor_users)
    sessions = {name: factories.session_client(users[name]) for name in SESSION_ACTORS}
    tokens = {name: factories.with_token(users[name]) for name in ("hr_token", "read_token")}
    return {**sessions, **tokens, "anonymous": APIClient()}


SESSION_ACTORS = ("admin", "director", "manager")


@pytest.fixture(autouse=True)
def _no_past_from_another_test():
    """Past trees are cached per process by day and the newest history row; a rolled-back
    test can leave the same key behind with other rows."""
    from staffing.history.past import forget_past

    forget_past()


@pytest.fixture(autouse=True)
def _no_answers_from_another_test():
    """Catalogue answers are cached by the catalogue's version (orgdesign.kernel.rest), and
    a rolled-back test leaves the version where it found it, with other rows behind it."""
    from django.core.cache import caches

    caches["catalogue"].clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def worker(settings):
    """A real worker process on its own queue, against the test database. Tasks this process
    publishes without naming a queue go to that queue while the fixture lasts."""
    import sys
    import uuid

    from orgdesign.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": "false",
    }
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "orgdesign",
            "worker",
            "-Q",
            queue,
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield queue
    app.conf.task_default_queue = default_queue
    print(stop_process(process)[-3000:])  # shown when the test fails


def stop_process(process, timeout: float = 15) -> str:
    """Stop a process a test started (terminate, then kill) and return its output."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output
