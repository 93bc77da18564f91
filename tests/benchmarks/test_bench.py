"""``make bench``: the foundation's operations on generated organizations of 1k, 10k and 100k
positions, printed as a table with SQL query counts. Sizes: BENCH_SIZES=1000,10000,100000.

Run on PostgreSQL (DATABASE_URL) for figures that mean anything; SQLite works but is slow.
"""

import os
import re
import time
from collections import deque
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection, reset_queries, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from demo import organizations
from staffing import services
from staffing.models import Finding, PendingSpanCheck, Position
from staffing.services import position_move
from staffing.spans import engine, marks
from staffing.tree import tree_check

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",")]

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]


def measure(fn):
    reset_queries()  # the log keeps 9,000 queries; a bulk delete before may have filled it
    with CaptureQueriesContext(connection) as queries:
        queries.force_debug_cursor = True
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    return result, elapsed * 1000, len(queries.captured_queries)


@contextmanager
def uncapped_query_log():
    """CaptureQueriesContext keeps 9,000 queries by default; the naive loop runs many more."""
    old = connection.queries_log.maxlen
    connection.queries_log = deque(maxlen=10_000_000)
    try:
        yield
    finally:
        connection.queries_log = deque(maxlen=old)


@contextmanager
def job_held_back():
    """Edits mark positions but send no job (in-process, it would run at once)."""
    original = marks.request_job
    marks.request_job = lambda: False
    try:
        yield
    finally:
        marks.request_job = original


def naive_recompute() -> marks.Outcome:
    """What the engine replaces: a loop asking the database about each manager in turn."""
    rules = engine.load_rules()
    computed = {}
    for position in Position.objects.filter(role_id__in=list(rules)):
        rule = rules[position.role_id]
        children = Position.objects.filter(parent=position)
        team = position.get_descendants()
        measured = engine.Measured(
            position.pk,
            position.title,
            position.holder_id is not None,
            children.count(),
            children.filter(holder__isnull=False).count(),
            team.count(),
            team.filter(holder__isnull=False).count(),
            tuple(
                children.order_by()
                .values("role_id")
                .annotate(n=Count("pk"), nf=Count("holder"))
                .values_list("role_id", "n", "nf")
            ),
        )
        for finding in engine.judge(measured, rule):
            computed[finding.key] = finding
        if rule.allowed:
            for child in children.exclude(role_id__in=rule.allowed).select_related("role"):
                finding = engine.misplaced_finding(
                    child.pk, child.title, child.role.name, position.title, rule
                )
                computed[finding.key] = finding
    with transaction.atomic():
        return marks.reconcile(computed, None)


def floor_query():
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT parent_id, count(*) FROM {Position._meta.db_table} GROUP BY parent_id"
        )
        return cursor.fetchall()


def span_rows(size: int) -> list[tuple]:
    """Whole-org span recompute: the engine, a naive loop, and the floor, side by side."""
    rows = []
    Finding.objects.all().delete()
    outcome, engine_ms, engine_q = measure(marks.recompute)
    written = outcome.opened
    rows.append(
        (size, f"spans: engine, from scratch ({written} findings written)", engine_ms, engine_q)
    )
    _, steady_ms, steady_q = measure(marks.recompute)
    rows.append((size, "spans: engine, nothing changed", steady_ms, steady_q))
    stored = sorted(Finding.objects.open().spans().values_list("position_id", "kind", "message"))

    new = list(
        Finding.objects.open()
        .spans()
        .values(*[f.attname for f in Finding._meta.concrete_fields if f.attname != "id"])
    )
    Finding.objects.all().delete()
    _, write_ms, write_q = measure(
        lambda: Finding.objects.bulk_create([Finding(**row) for row in new])
    )
    rows.append((size, "spans: floor part 2, the same findings bulk-written", write_ms, write_q))
    floor_query()
    _, floor_ms, floor_q = measure(floor_query)
    rows.append((size, "spans: floor part 1, one bare GROUP BY parent_id", floor_ms, floor_q))

    Finding.objects.all().delete()
    with uncapped_query_log():
        _, naive_ms, naive_q = measure(naive_recompute)
    rows.append((size, "spans: naive per-position loop, from scratch", naive_ms, naive_q))
    assert (
        sorted(Finding.objects.open().spans().values_list("position_id", "kind", "message"))
        == stored
    )
    print(
        f"\n{size:,} positions: engine {naive_ms / engine_ms:,.0f}x faster than the naive loop; "
        f"engine from scratch / (floor + write) = {engine_ms / (floor_ms + write_ms):.1f}; "
        f"engine unchanged / floor = {steady_ms / floor_ms:.1f}"
    )

    Finding.objects.all().delete()
    marks.recompute()
    lead = Position.objects.filter(role__code="team-lead").order_by("lft").first()
    target = Position.objects.filter(role__code="advocate-manager").order_by("-lft").first()
    with job_held_back():
        services.position_move(actor=None, position=lead, new_parent=target)
    assert PendingSpanCheck.objects.exists()
    _, ms, q = measure(marks.recompute_pending)
    rows.append((size, "spans: job after a team move (old and new ancestors)", ms, q))
    return rows


def write_cost() -> tuple[int, int] | None:
    """Position rows updated so far in this transaction, and the WAL position (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated('staffing_position'::regclass), "
            "pg_current_wal_insert_lsn() - '0/0'::pg_lsn"
        )
        updated, wal = cursor.fetchone()
    return int(updated), int(wal)


def cost_since(before) -> str:
    """What a write cost since ``before``: rows rewritten (each leaves a dead row version
    for vacuum), WAL written, and the positions table's size with its indexes."""
    if before is None:
        return ""
    after = write_cost()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('staffing_position')")
        size = cursor.fetchone()[0]
    rows, wal = after[0] - before[0], after[1] - before[1]
    return f": {rows:,} rows rewritten, {wal / 1e6:.2f} MB WAL, table {size / 1e6:.0f} MB"


def vacuum():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def test_foundation_benchmarks(framework, client):
    rows = []
    for size in SIZES:
        if Position.objects.exists():
            organizations.clear_organization()
            vacuum()
        _, ms, queries = measure(lambda size=size: organizations.seed(positions=size))
        rows.append((size, "seed_demo --positions (bulk)", ms, queries))
        vacuum()

        report, ms, queries = measure(tree_check)
        assert report.ok
        rows.append((size, "check_tree", ms, queries))

        client.force_login(get_user_model().objects.get(username="admin"))
        client.get("/")  # warm up templates and connections
        response, ms, queries = measure(lambda: client.get("/"))
        assert response.status_code == 200
        rows.append((size, "GET / (the chart) as admin: first levels", ms, queries))

        manager = (
            Position.objects.filter(role__code="advocate-manager", holder__isnull=False)
            .order_by("lft")
            .first()
        )
        organizations.link_demo_user("manager", manager.holder)
        client.force_login(get_user_model().objects.get(username="manager"))
        response, ms, queries = measure(lambda: client.get("/"))
        assert response.status_code == 200
        rows.append((size, "GET / (the chart) as a manager: own team", ms, queries))
        if os.environ.get("BENCH_ONLY") == "chart":  # the chart's rows alone
            rows += chart_rows(size, client) + chart_view_rows(size, client)
            continue
        if os.environ.get("BENCH_ONLY") == "readiness":  # the readiness list's rows alone
            rows += readiness_rows(size, client)
            continue
        rows += chart_rows(size, client)
        rows += chart_view_rows(size, client)
        rows += dashboard_rows(size, client)
        rows += readiness_rows(size, client)
        rows += scenario_rows(size, client)
        rows += api_rows(size, client)
        rows += history_rows(size, client)

        managers = Position.objects.filter(role__code="advocate-manager")
        team = Position.objects.filter(role__code="team-lead").order_by("lft").first()
        target = managers.order_by("-lft").first()  # far away in the tree
        assert team.parent_id != target.pk
        before = write_cost()
        with job_held_back():  # the recompute runs in the worker; measured below
            _, ms, queries = measure(
                lambda team=team, target=target: position_move(
                    actor=None, position=team, new_parent=target
                )
            )
        rows.append(
            (
                size,
                "move a team (mptt, under the lock, marks included)" + cost_since(before),
                ms,
                queries,
            )
        )
        assert tree_check().ok
        vacuum()
        rows += span_rows(size)
        rows += import_rows(size, client)

    print_table(rows)


def import_rows(size: int, client) -> list[tuple]:
    """CSV import: the whole organization's export read back (a dry run that finds nothing to
    change), then a new 10,000-row file checked and imported beside it."""
    from staffing.interchange import write
    from tests.test_import import large_file

    client.force_login(get_user_model().objects.get(username="admin"))
    exported = b"".join(client.get("/chart/export.csv").streaming_content).decode()
    result, ms, queries = measure(lambda: write.import_run(actor=None, text=exported, dry_run=True))
    assert result.ok and result.summary()["unchanged"] == size, result.summary()
    rows = [(size, "import: the whole org's CSV export, dry run (no change)", ms, queries)]
    text = large_file(10_000)
    for dry_run, name in ((True, "dry run"), (False, "import")):
        result, ms, queries = measure(
            lambda dry_run=dry_run: write.import_run(actor=None, text=text, dry_run=dry_run)
        )
        assert result.ok and result.counts["positions_created"] == 10_000
        rows.append((size, f"import: a new 10,000-row positions file, {name}", ms, queries))
    assert tree_check().ok
    vacuum()
    return rows


def chart_rows(size: int, client) -> list[tuple]:
    """The org chart as an admin: open a team, search, open the chart at a found card."""
    client.force_login(get_user_model().objects.get(username="admin"))
    lead = Position.objects.filter(role__code="team-lead").order_by("-lft").first()
    agent = (
        Position.objects.filter(role__code="advocate", holder__isnull=False)
        .select_related("holder")
        .order_by("-lft")
        .first()
    )
    rows = timed_gets(
        size,
        client,
        [
            ("chart: open a team (htmx fragment)", f"/chart/{lead.pk}/children/"),
            ("chart: search by a family name", f"/chart/search/?q={agent.holder.family_name}"),
            ("chart: open at a found card (path expanded)", f"/?focus={agent.pk}"),
        ],
    )
    manager = Position.objects.filter(role__code="advocate-manager").order_by("lft").first()
    top = Position.objects.filter(parent__isnull=True).order_by("tree_id").first()
    return rows + timed_gets(
        size,
        client,
        [
            ("chart export: a manager's team as SVG", f"/chart/{manager.pk}/export.svg"),
            ("chart export: a manager's team as PNG", f"/chart/{manager.pk}/export.png"),
            (
                "chart export: the top of the org as SVG (levels that fit)",
                f"/chart/{top.pk}/export.svg",
            ),
            ("chart export: the whole org as CSV (streamed)", "/chart/export.csv"),
        ],
    )


def chart_view_rows(size: int, client) -> list[tuple]:
    """The chart view (cards placed by the server) as an admin: the first view, a team
    opened (the page asks for the chart again with one team more open), every team open to
    a level (capped at chart.CARD_LIMIT cards), and the list view's first view beside them."""
    admin = get_user_model().objects.get(username="admin")
    client.force_login(admin)
    client.post("/chart/view/", {"view": "chart"})
    first = client.get("/").content.decode()
    assert 'data-view="chart"' in first
    shown = re.search(r'id="chart"[^>]* data-open="([^"]*)"', first).group(1)
    closed = re.search(r'data-id="(\d+)"[^>]*\s+aria-expanded="false"', first).group(1)
    root = Position.objects.filter(parent__isnull=True).order_by("tree_id").first()
    director = root.get_children().filter(role__code="director").order_by("-lft").first()
    manager = (
        Position.objects.filter(role__code="advocate-manager")
        .subtree_of(director, include_self=False)
        .order_by("-lft")
        .first()
    )
    path = ",".join(str(pk) for pk in manager.get_ancestors().values_list("pk", flat=True))
    one_more = f"/?open={shown},{closed}&partial=chart"
    down_to = f"/?open={path},{manager.pk}&partial=chart"
    team = f"/?open={shown},{closed}&partial=team&team={closed}"
    places = f"/?open={shown}&partial=places"
    requests = [
        ("chart view: GET / as admin (first levels, placed)", "/"),
        ("chart view: open a team: its cards and every card's place", team),
        ("chart view: close a team: every card's place (JSON)", places),
        ("chart view: one team more open, the whole chart again", one_more),
        ("chart view: open a manager's team, root to it open", down_to),
        ("chart view: every team to level 3 (partial)", "/?level=3&partial=chart"),
        ("chart view: every team to level 6 (partial, capped)", "/?level=6&partial=chart"),
    ]  # fmt: skip
    rows = timed_gets(
        size, client, [(with_cards(client, name, url), url) for name, url in requests]
    )
    client.post("/chart/view/", {"view": "list"})
    assert 'data-view="list"' in client.get("/").content.decode()
    rows += timed_gets(size, client, [(with_cards(client, "list view: GET / as admin", "/"), "/")])
    client.post("/chart/view/", {"view": "chart"})
    return rows


def with_cards(client, name: str, url: str) -> str:
    """``name`` with the number of cards the chart at ``url`` shows (drawn, for a part)."""
    answer = client.get(url)
    if answer["Content-Type"].startswith("application/json"):
        return f"{name}: {answer.json()['cards']} cards"
    html = answer.content.decode()
    found = re.search(r'data-cards="(\d+)"', html)
    drawn = html.count('role="treeitem"')
    return f"{name}: {found.group(1)} cards" if found else f"{name}: {drawn} cards drawn"


def dashboard_rows(size: int, client) -> list[tuple]:
    """The director dashboard: the whole organization (admin), one director's part, a CSV."""
    client.force_login(get_user_model().objects.get(username="admin"))
    director = Position.objects.filter(role__code="director").order_by("lft").first()
    return timed_gets(
        size,
        client,
        [
            ("dashboard: the whole organization", "/dashboard/"),
            ("dashboard: one director's part", f"/dashboard/?root={director.pk}"),
            ("dashboard: a table as CSV (by role)", "/dashboard/role.csv"),
        ],
    )


def timed_gets(size: int, client, requests: list[tuple[str, str]]) -> list[tuple]:
    """(size, name, ms, queries) of each GET, after one warm-up request, a streamed body
    read to the end; each must answer 200."""
    rows = []
    for name, url in requests:
        client.get(url)  # warm up
        response, ms, queries = measure(lambda url=url: read_all(client.get(url)))
        assert response.status_code == 200, url
        rows.append((size, name, ms, queries))
    return rows


def sign_off_some(share: float = 0.6) -> int:
    """Criteria signed off for about ``share`` of the people, every criterion of every step
    of their role, in bulk (demo.metrics.seed_signoffs judges everyone in Python first)."""
    from roles.models import PromotionPath
    from staffing.models import CriterionSignoff

    criteria: dict[int, list] = {}
    for path in PromotionPath.objects.filter(to_role__is_active=True):
        criteria.setdefault(path.from_role_id, []).extend(
            (path.pk, line) for line in path.criteria_items
        )
    now = timezone.now()
    held = Position.objects.exclude(holder=None).order_by("pk").values_list("holder_id", "role_id")
    signed = [
        CriterionSignoff(person_id=person, path_id=path, criterion=line, signed_at=now)
        for n, (person, role) in enumerate(held)
        if n % 10 < share * 10
        for path, line in criteria.get(role, [])
    ]
    CriterionSignoff.objects.bulk_create(signed, batch_size=5000, ignore_conflicts=True)
    return len(signed)


def readiness_rows(size: int, client) -> list[tuple]:
    """Promotion readiness: a manager's team and one director's part, as pages and over the
    API, then the whole organization (the VP's list) a page at a time: the first page, a
    page in the middle, the last, and a page of those ready now, sorted by status (everyone
    judged in SQL) and by CSAT; then the career ladder page. The demo org gets a CSAT per
    person and sign-offs for about six in ten first."""
    from demo.metrics import seed_performance
    from metrics import verdicts

    seed_performance()
    sign_off_some()
    vacuum()
    client.force_login(get_user_model().objects.get(username="admin"))
    manager = Position.objects.filter(role__code="advocate-manager").order_by("lft").first()
    director = Position.objects.filter(role__code="director").order_by("lft").first()
    holders = Position.objects.subtree_of(director, include_self=False).exclude(holder=None)
    api = f"/api/readiness/?subtree_of={director.pk}"
    everyone = verdicts.ReadinessList(Position.objects.all())
    pages = -(-everyone.count() // settings.READINESS_PAGE_SIZE)
    ready = -(-everyone.counts["ready"] // settings.READINESS_PAGE_SIZE)
    middle, half = pages // 2 + 1, ready // 2 + 1
    part = -(-holders.count() // settings.READINESS_PAGE_SIZE)
    whole = f"the whole org ({everyone.count():,} people, {pages:,} pages)"
    return timed_gets(
        size,
        client,
        [
            ("readiness: a manager's team", f"/readiness/?root={manager.pk}"),
            (
                f"readiness: a director's part ({holders.count():,} people), first page",
                f"/readiness/?root={director.pk}",
            ),
            (
                f"readiness: the same, its last page ({part})",
                f"/readiness/?root={director.pk}&page={part}",
            ),
            ("GET /api/readiness/?subtree_of=D (a page)", api),
            (f"readiness: {whole}, first page", "/readiness/"),
            (f"readiness: the whole org, page {middle:,}", f"/readiness/?page={middle}"),
            (f"readiness: the whole org, last page ({pages:,})", f"/readiness/?page={pages}"),
            (
                f"readiness: the whole org, ready now ({everyone.counts['ready']:,}), page 1",
                "/readiness/?status=ready",
            ),
            (
                f"readiness: the whole org, ready now, page {half:,}",
                f"/readiness/?status=ready&page={half}",
            ),
            (
                f"readiness: the whole org by CSAT, page {middle:,}",
                f"/readiness/?sort=-csat&page={middle}",
            ),
            ("GET /api/readiness/ (the whole org, first page)", "/api/readiness/"),
            (f"GET /api/readiness/?page={middle:,}", f"/api/readiness/?page={middle}"),
            ("GET /api/readiness/?status=ready&page=2", "/api/readiness/?status=ready&page=2"),
            ("the career ladder (/roles/)", "/roles/"),
        ],
    )


def scenario_rows(size: int, client) -> list[tuple]:
    """A scenario of the whole organization: draft it (copy every position), edit it (move a
    team lead's team to another manager), diff it, see it in the pages, apply it. Then a
    director's part drafted and compared from the pages."""

    from staffing.scenarios import apply, compare, drafts

    admin = get_user_model().objects.get(username="admin")
    client.force_login(admin)
    rows = []
    director = Position.objects.filter(role__code="director").order_by("lft").first()
    part, ms, queries = measure(
        lambda: drafts.scenario_create(actor=admin, name="Part", root=director)
    )
    rows.append((size, f"scenario: draft a director's part ({part.positions.count()})", ms,
                 queries))  # fmt: skip
    rows += timed_gets(size, client, [
        ("scenario page: a director's part in the editor", f"/scenarios/{part.pk}/"),
        ("scenario page: a director's part against live", f"/scenarios/{part.pk}/diff/"),
    ])  # fmt: skip
    scenario, ms, queries = measure(
        lambda: drafts.scenario_create(actor=admin, name="Bench", root=None)
    )
    rows.append((size, "scenario: draft the whole org (copy)", ms, queries))
    lead = scenario.positions.filter(role__code="team-lead").order_by("-pk").first()
    manager = (
        scenario.positions.filter(role__code="advocate-manager")
        .exclude(pk=lead.parent_id)
        .order_by("pk")
        .first()
    )
    drafts.draft_move(actor=admin, scenario=scenario, position=lead, new_parent=manager)
    found, ms, queries = measure(lambda: compare.diff(scenario))
    assert [r.pk for r in found.moved] == [lead.pk]
    rows.append((size, "scenario: diff (changes, headcount, findings)", ms, queries))
    rows += timed_gets(size, client, [
        ("scenario page: the whole org in the editor", f"/scenarios/{scenario.pk}/"),
        ("scenario page: the whole org against live", f"/scenarios/{scenario.pk}/diff/"),
    ])  # fmt: skip
    summary, ms, queries = measure(lambda: apply.scenario_apply(actor=admin, scenario=scenario))
    assert summary == {"moved": 1}, summary
    rows.append((size, "scenario: apply (conflict check + one team move)", ms, queries))
    assert tree_check().ok
    return rows


def read_all(response):
    """The response, its streamed body consumed (the time to send it all)."""
    if response.streaming:
        response.content_length = sum(len(chunk) for chunk in response.streaming_content)
    return response


API_LISTS = [
    "/api/positions/",
    "/api/positions/?subtree_of={manager}",
    "/api/people/",
    "/api/findings/",
    "/api/headcount/",
    "/api/roles/",
    "/api/positions/?format=csv&subtree_of={manager}",
]


def api_rows(size: int, client) -> list[tuple]:
    """The API's list endpoints as an admin, a page of 100 (the CSV: a manager's team); the
    roles once more with their kept answer forgotten."""
    client.force_login(get_user_model().objects.get(username="admin"))
    manager = Position.objects.filter(role__code="advocate-manager").order_by("lft").first()
    requests = [
        (f"GET {template.replace('{manager}', 'M')}", template.format(manager=manager.pk))
        for template in API_LISTS
    ]
    rows = timed_gets(size, client, requests)
    caches["catalogue"].clear()  # as after a catalogue change: the roles answered afresh
    response, ms, queries = measure(lambda: client.get("/api/roles/"))
    assert response.status_code == 200
    rows.append((size, "GET /api/roles/ (the first after a catalogue change)", ms, queries))
    return rows


def history_rows(size: int, client) -> list[tuple]:
    """The past, read from the audit trail: the org on a day over the API and as a chart,
    and the feeds of changes (the org's and one position's)."""
    from django.utils import timezone

    client.force_login(get_user_model().objects.get(username="admin"))
    day = timezone.localdate().isoformat()
    manager = Position.objects.filter(role__code="advocate-manager").order_by("lft").first()
    lead = Position.objects.filter(role__code="team-lead").order_by("lft").first()
    return timed_gets(
        size,
        client,
        [
            ("history: GET /api/positions/?as_of=D (a page)", f"/api/positions/?as_of={day}"),
            (
                "history: GET /api/positions/?as_of=D&subtree_of=M",
                f"/api/positions/?as_of={day}&subtree_of={manager.pk}",
            ),
            ("history: the chart on a day (/past/D/)", f"/past/{day}/"),
            ("history: a team on that day (htmx fragment)", f"/past/{day}/{lead.pk}/children/"),
            ("history: the feed of changes (/history/)", "/history/"),
            ("history: one position's changes", f"/history/positions/{lead.pk}/"),
            ("history: GET /api/history/?page_size=100", "/api/history/?page_size=100"),
        ],
    )


def print_table(rows):
    width = max(len(name) for _, name, _, _ in rows)
    lines = [
        "",
        f"Benchmarks on {connection.vendor}",
        f"| {'positions':>9} | {'operation':<{width}} | {'ms':>9} | {'queries':>7} |",
        f"|{'-' * 11}|{'-' * (width + 2)}|{'-' * 11}|{'-' * 9}|",
    ]
    lines += [f"| {n:>9,} | {name:<{width}} | {ms:>9,.1f} | {q:>7} |" for n, name, ms, q in rows]
    print("\n".join(lines))
