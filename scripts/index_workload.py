"""Which indexes the application's queries use (issue 24, "only the indexes queries use").

Runs a realistic workload against a seeded organization (the bench's pages and API calls as
an admin, a director, a manager and HR; the API's filters; searches; the dashboard and its
CSVs; the CSV export and an import dry run; a scenario; moves, a create, an update, a fill,
a vacate and a delete through the services; the span engine; rare catalogue deletes), then
reports, for the big tables:

* ``idx_scan`` of every index in every phase of the workload (pg_stat_user_indexes, reset
  with ``pg_stat_reset()`` first), with each index's columns and size;
* which of the workload's statements use each index, from ``EXPLAIN`` of every distinct
  statement the workload ran (captured with ``connection.execute_wrapper``);
* ``EXPLAIN (ANALYZE, BUFFERS)`` of the queries that should use an index, with the index and
  without it (``DROP INDEX`` inside a transaction that is rolled back), and the same for the
  foreign-key checks PostgreSQL runs when a referenced row is deleted;
* what a team move costs (ms, WAL) with every index and without the unused ones (the move is
  rolled back), and its WAL by relation (pg_walinspect, read through a temporary replication
  slot that keeps the WAL until it is read; both need a superuser, else the cluster's WAL).

PostgreSQL only, on a scratch database (the workload writes: five team moves, a position
created and deleted, a scenario applied):

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/od_idx
    python manage.py migrate && python manage.py load_framework
    python manage.py seed_demo --positions 100000
    psql … -c "VACUUM FULL ANALYZE"     # index sizes as after a fresh load
    python scripts/index_workload.py --out /tmp/index-report.md

The first run seeds per-person CSAT and KPI observations (about 12 minutes at 100,000
positions: the KPIs go through the upload service team by team) and runs VACUUM ANALYZE,
as autovacuum would (a development cluster may have it off; the planner needs statistics).
``--skip plans,writecost`` leaves sections out; ``--only plans`` runs the plans alone (no
stats reset, no workload). The report goes to stdout and to ``--out``. Timings move with the
machine's load; the plans' shapes, buffers and the WAL bytes do not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orgdesign.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, F  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from demo import organizations  # noqa: E402
from metrics.models import KPIObservation, PerformanceObservation  # noqa: E402
from roles.models import Role  # noqa: E402
from staffing import services  # noqa: E402
from staffing.models import Finding, Location, Person, Position  # noqa: E402
from staffing.selectors import _chain_sql, above  # noqa: E402
from staffing.spans import engine, marks  # noqa: E402
from tiers.models import Squad  # noqa: E402

TABLES = (
    "staffing_position",
    "staffing_assignment",
    "staffing_person",
    "staffing_historicalposition",
    "staffing_historicalassignment",
    "staffing_historicalperson",
    "staffing_finding",
    "staffing_scenarioposition",
    "metrics_performanceobservation",
    "metrics_kpiobservation",
    "metrics_headcountsnapshot",
)
SECTIONS = ("workload", "plans", "writecost")

OUT: list[str] = []


def say(line: str = "") -> None:
    print(line, flush=True)
    OUT.append(line)


# --- recording every statement -------------------------------------------------------------

SKIP = re.compile(
    r"^\s*(SAVEPOINT|RELEASE|ROLLBACK|COMMIT|BEGIN|SET|SHOW|LOCK|DECLARE|CLOSE)\b", re.I
)
IN_LIST = re.compile(r"IN \((?:%s, )*%s\)")


class Recorder:
    """Every statement the workload runs, by shape (its SQL with placeholders, IN lists of
    any length alike): how often, in which steps, and one instance with the parameters
    inlined, for EXPLAIN afterwards."""

    def __init__(self) -> None:
        self.step = "setup"
        self.phase = "setup"
        self.shapes: dict[str, dict] = {}

    def __call__(self, execute, sql, params, many, context):
        if not many and not SKIP.match(sql):
            shape = IN_LIST.sub("IN (…)", sql)
            entry = self.shapes.get(shape)
            if entry is None:
                entry = self.shapes[shape] = {"count": 0, "steps": [], "sql": None, "phases": set()}
            entry["count"] += 1
            entry["phases"].add(self.phase)
            if self.step not in entry["steps"]:
                entry["steps"].append(self.step)
            if entry["sql"] is None:
                try:
                    text = context["cursor"].cursor.mogrify(sql, params)
                    text = text.decode() if isinstance(text, bytes) else text
                except Exception:
                    text = ""
                entry["sql"] = text if len(text) < 200_000 else ""
        return execute(sql, params, many, context)

    def of_step(self, step: str) -> list[str]:
        return [e["sql"] for e in self.shapes.values() if step in e["steps"] and e["sql"]]


REC = Recorder()


@contextmanager
def step(name: str):
    REC.step = name
    started = time.perf_counter()
    try:
        yield
    finally:
        ms = (time.perf_counter() - started) * 1000
        TIMINGS.append((REC.phase, name, ms))


TIMINGS: list[tuple[str, str, float]] = []


# --- statistics ----------------------------------------------------------------------------


def index_stats() -> dict[str, dict]:
    """idx_scan, size and definition of every index of TABLES, after flushing this
    backend's pending statistics (PostgreSQL 15: pg_stat_force_next_flush)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.relname, s.indexrelname, s.idx_scan, pg_relation_size(s.indexrelid), "
            "pg_get_indexdef(s.indexrelid), c.contype "
            "FROM pg_stat_user_indexes s "
            "LEFT JOIN pg_constraint c ON c.conindid = s.indexrelid "
            "WHERE s.relname = ANY(%s) ORDER BY s.relname, s.indexrelname",
            [list(TABLES)],
        )
        return {
            name: {
                "table": table,
                "scans": scans,
                "size": size,
                "definition": re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING ", "", sql),
                "constraint": contype,
            }
            for table, name, scans, size, sql, contype in cursor.fetchall()
        }


def table_stats() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_live_tup, n_tup_upd, n_tup_hot_upd, n_dead_tup, seq_scan, "
            "idx_scan, pg_total_relation_size(relid) FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s) ORDER BY relname",
            [list(TABLES)],
        )
        return cursor.fetchall()


# --- the workload --------------------------------------------------------------------------


class Actors:
    """The positions, people and users the workload uses, picked from the seeded data."""

    def __init__(self) -> None:
        User = get_user_model()
        positions = Position.objects.all()
        self.admin = User.objects.get(username="admin")
        self.vp = positions.filter(parent__isnull=True).order_by("tree_id").first()
        managers = positions.filter(role__code="advocate-manager", holder__isnull=False)
        for manager in managers.order_by("lft")[:100]:  # a held manager under a held director
            self.manager, self.director = (
                manager,
                (
                    positions.filter(above(manager), role__code="director", holder__isnull=False)
                ).first(),
            )
            if self.director is not None:
                break
        self.manager_far = managers.order_by("-lft").first()
        self.lead = positions.filter(role__code="team-lead").order_by("-lft").first()
        self.team = (
            positions.filter(role__code="team-lead").subtree_of(self.director).order_by("lft")
        ).first()
        agents = positions.filter(holder__isnull=False, rght=F("lft") + 1)  # held leaves
        self.agent = agents.select_related("holder").order_by("-lft").first()  # deepest right
        self.agent_director = (
            agents.subtree_of(self.director).select_related("holder").order_by("-lft").first()
        )
        self.agent_manager = (
            agents.subtree_of(self.manager).select_related("holder").order_by("-lft").first()
        )
        self.location = Location.objects.order_by("pk").first()
        self.squad = Squad.objects.order_by("pk").first()
        self.role = Role.objects.get(code="advocate")
        self.tier_id = self.role.tier_id
        self.day = timezone.localdate().isoformat()
        organizations.link_demo_user("director", self.director.holder)
        organizations.link_demo_user("manager", self.manager.holder)
        organizations.ensure_demo_user("hr")
        self.users = {name: User.objects.get(username=name) for name in ("director", "manager")}
        self.users["hr"] = User.objects.get(username="hr")
        self.users["admin"] = self.admin


def get(client: Client, url: str, *, who: str, ok=(200,)) -> None:
    with step(f"{who} GET {url}"):
        response = client.get(url)
        if response.streaming:
            for _ in response.streaming_content:
                pass
    if response.status_code not in ok:
        raise SystemExit(f"{who} GET {url}: {response.status_code}")


def post(client: Client, url: str, data: dict, *, who: str) -> None:
    with step(f"{who} POST {url}"):
        response = client.post(url, data)
    if response.status_code >= 400:
        raise SystemExit(f"{who} POST {url}: {response.status_code}")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def phase_pages(a: Actors) -> None:
    client = client_for(a.admin)
    family = a.agent.holder.family_name
    path = ",".join(str(pk) for pk in a.manager.get_ancestors().values_list("pk", flat=True))
    post(client, "/chart/view/", {"view": "chart"}, who="admin")
    for url in [
        "/",
        f"/chart/{a.lead.pk}/children/",
        f"/chart/search/?q={family}",
        "/chart/search/?q=Lead%2067",
        "/chart/search/?q=Advocate",
        f"/?focus={a.agent.pk}",
        f"/?open={path},{a.manager.pk}&partial=chart",
        "/?level=3&partial=chart",
        "/?level=6&partial=chart",
        f"/chart/{a.manager.pk}/export.svg",
        f"/chart/{a.manager.pk}/export.png",
        f"/chart/{a.vp.pk}/export.svg",
        "/chart/export.csv",
        f"/chart/people/?q={family}",
        "/chart/holders/team-lead/",
        "/dashboard/",
        f"/dashboard/?root={a.director.pk}",
        "/dashboard/role.csv",
        "/dashboard/location.csv",
        "/dashboard/squad.csv",
        f"/readiness/?root={a.manager.pk}",
        f"/readiness/?root={a.director.pk}",
        "/roles/",
        f"/people/{a.agent.holder_id}/",
        f"/positions/{a.lead.pk}/about/",
        "/capacity/",
        "/history/",
        f"/history/positions/{a.lead.pk}/",
        f"/past/{a.day}/",
        f"/past/{a.day}/{a.lead.pk}/children/",
        "/scenarios/",
    ]:
        get(client, url, who="admin")
    post(client, "/chart/view/", {"view": "list"}, who="admin")
    get(client, "/", who="admin")
    post(client, "/chart/view/", {"view": "chart"}, who="admin")

    for who, agent in (("director", a.agent_director), ("manager", a.agent_manager)):
        client = client_for(a.users[who])
        for url in [
            "/",
            f"/chart/search/?q={agent.holder.family_name}",
            "/chart/search/?q=Lead",
            f"/?focus={agent.pk}",
            "/chart/export.csv",
            "/dashboard/",
            "/readiness/",
            f"/people/{agent.holder_id}/",
        ]:
            get(client, url, who=who)
    client = client_for(a.users["hr"])
    for url in ["/", "/dashboard/", f"/chart/search/?q={a.agent.holder.family_name}"]:
        get(client, url, who="hr")


def phase_api(a: Actors) -> None:
    m, d, lead = a.manager.pk, a.director.pk, a.lead.pk
    loc, squad, role, tier = a.location.pk, a.squad.pk, a.role.pk, a.tier_id
    family = a.agent.holder.family_name
    admin = [
        "/api/positions/",
        f"/api/positions/?subtree_of={m}",
        f"/api/positions/?subtree_of={d}",
        "/api/positions/?status=open",
        "/api/positions/?status=planned",
        "/api/positions/?status=filled",
        "/api/positions/?vacant=true",
        f"/api/positions/?location={loc}",
        f"/api/positions/?squad={squad}",
        f"/api/positions/?role={role}",
        f"/api/positions/?tier={tier}",
        f"/api/positions/?parent={m}",
        "/api/positions/?top=true",
        "/api/positions/?level=2",
        "/api/positions/?level_max=2",
        f"/api/positions/?subtree_of={d}&status=open",
        f"/api/positions/?location={loc}&status=open",
        f"/api/positions/?subtree_of={d}&location={loc}",
        f"/api/positions/?search={family}",
        "/api/positions/?search=Lead%2067",
        "/api/positions/?ordering=title",
        "/api/positions/?page=50",
        f"/api/positions/?format=csv&subtree_of={m}",
        f"/api/positions/{lead}/",
        f"/api/positions/{a.agent.pk}/ancestors/",
        f"/api/positions/{m}/children/",
        f"/api/positions/{lead}/history/",
        f"/api/positions/?as_of={a.day}",
        f"/api/positions/?as_of={a.day}&subtree_of={m}",
        "/api/people/",
        f"/api/people/?subtree_of={m}",
        f"/api/people/?search={family}",
        f"/api/people/?location={loc}",
        "/api/people/?has_position=false",
        f"/api/people/{a.agent.holder_id}/",
        "/api/findings/",
        "/api/findings/?status=open",
        f"/api/findings/?subtree_of={d}",
        "/api/findings/?severity=critical",
        "/api/headcount/",
        f"/api/headcount/?subtree_of={d}",
        "/api/roles/",
        f"/api/roles/{role}/",
        "/api/tiers/",
        "/api/squads/",
        "/api/locations/",
        "/api/promotion-paths/",
        "/api/kpis/",
        "/api/kpi-observations/",
        f"/api/kpi-observations/?scope={m}",
        f"/api/kpi-observations/?subtree_of={d}",
        "/api/kpi-observations/?organization=true",
        f"/api/readiness/?subtree_of={m}",
        f"/api/readiness/?subtree_of={d}",
        "/api/history/?page_size=100",
    ]
    client = client_for(a.admin)
    for url in admin:
        get(client, url, who="admin", ok=(200, 400))
    for who in ("director", "manager", "hr"):
        client = client_for(a.users[who])
        for url in [
            "/api/positions/",
            "/api/positions/?status=open",
            f"/api/positions/?location={loc}",
            f"/api/positions/?squad={squad}",
            f"/api/positions/?search={family}",
            "/api/people/",
            "/api/findings/?status=open",
            "/api/headcount/",
        ]:
            get(client, url, who=who, ok=(200, 400))


def phase_writes(a: Actors) -> None:
    admin = a.admin
    fresh = Position.objects.get
    far_team = a.team
    with step("position_move: a team to a far manager"):
        services.position_move(
            actor=admin, position=fresh(pk=far_team.pk), new_parent=a.manager_far
        )
    sibling = (
        Position.objects.filter(parent_id=a.manager.parent_id, role__code="advocate-manager")
        .exclude(pk=a.manager.pk)
        .order_by("lft")
        .first()
    )
    near_team = Position.objects.filter(parent=a.manager, role__code="team-lead").first()
    if sibling and near_team:
        with step("position_move: a team to a sibling manager"):
            services.position_move(actor=admin, position=near_team, new_parent=sibling)
        with step("position_move: that team back"):
            services.position_move(
                actor=admin, position=fresh(pk=near_team.pk), new_parent=fresh(pk=a.manager.pk)
            )
    with step("position_move: the far team back"):
        services.position_move(
            actor=admin, position=fresh(pk=far_team.pk), new_parent=fresh(pk=a.manager.pk)
        )
    with step("position_create: a vacancy under a team lead"):
        created = services.position_create(
            actor=admin,
            parent=fresh(pk=a.team.pk),
            title="Index workload advocate",
            role=a.role,
            location=a.location,
        )
    with step("person_create"):
        person = services.person_create(
            actor=admin,
            employee_id=f"IDX-{time.time_ns()}",
            given_name="Ida",
            family_name="Xworkload",
        )
    with step("person_assign: fill the vacancy"):
        services.person_assign(actor=admin, person=person, position=fresh(pk=created.pk))
    with step("position_update: title and location"):
        services.position_update(
            actor=admin,
            position=fresh(pk=created.pk),
            title="Index workload advocate (renamed)",
            location=Location.objects.order_by("-pk").first(),
        )
    with step("position_vacate"):
        services.position_vacate(actor=admin, position=fresh(pk=created.pk))
    with step("position_delete"):
        services.position_delete(actor=admin, position=fresh(pk=created.pk))
    client = client_for(admin)
    post(client, "/dashboard/snapshot/", {}, who="admin")
    post(client, f"/dashboard/snapshot/?root={a.director.pk}", {}, who="admin")
    with step("API PATCH a position's title"):
        response = client.patch(
            f"/api/positions/{a.lead.pk}/",
            data=json.dumps({"title": "Team Lead (index workload)"}),
            content_type="application/json",
        )
    assert response.status_code == 200, response.content


def phase_jobs(a: Actors) -> None:
    with step("spans: marks.recompute() (whole org, nothing changed)"):
        marks.recompute()
    ids = list(Position.objects.subtree_of(a.director).values_list("pk", flat=True))
    with step("spans: marks.recompute(a director's part)"):
        marks.recompute(ids)
    with step("spans: engine.evaluate() (whole org)"):
        engine.evaluate()
    with step("findings: open ones by severity"):
        list(Finding.objects.open().by_severity()[:200])


def phase_import_scenario(a: Actors) -> None:
    from staffing.interchange import write
    from staffing.scenarios import apply, drafts
    from staffing.scenarios import compare as scenario_compare

    client = client_for(a.admin)
    with step("export the whole org as CSV"):
        text = b"".join(client.get("/chart/export.csv").streaming_content).decode()
    with step("import: the whole org's export, dry run"):
        result = write.import_run(actor=None, text=text, dry_run=True)
    assert result.ok, result.summary()
    with step("scenario: draft a director's part"):
        scenario = drafts.scenario_create(actor=a.admin, name="Index workload", root=a.director)
    for url in (f"/scenarios/{scenario.pk}/", f"/scenarios/{scenario.pk}/diff/"):
        get(client, url, who="admin")
    lead = scenario.positions.filter(role__code="team-lead").order_by("-pk").first()
    manager = (
        scenario.positions.filter(role__code="advocate-manager")
        .exclude(pk=lead.parent_id)
        .order_by("pk")
        .first()
    )
    with step("scenario: draft_move"):
        drafts.draft_move(actor=a.admin, scenario=scenario, position=lead, new_parent=manager)
    with step("scenario: diff"):
        scenario_compare.diff(scenario)
    with step("scenario: apply (one team move)"):
        apply.scenario_apply(actor=a.admin, scenario=scenario)


def phase_catalogue(a: Actors) -> None:
    """Rare administrative deletes: what the foreign-key indexes on the big tables serve
    (Django's PROTECT checks, then PostgreSQL's own checks at commit)."""
    with step("catalogue: create and delete a location"):
        location = Location.objects.create(code="idx-tmp", name="Index workload town")
        location.delete()
    with step("catalogue: create and delete a squad"):
        squad = Squad.objects.get(pk=a.squad.pk)
        squad.pk, squad.code, squad.name = None, "idx-tmp", "Index workload squad"
        squad.kind = "specialist"
        squad.save()
        squad.delete()
    with step("catalogue: create and delete a role"):
        role = Role.objects.get(pk=a.role.pk)
        role.pk, role.code, role.name = None, "idx-tmp", "Index workload role"
        role.save()
        role.delete()
    with step("catalogue: create and delete a person"):
        person = Person.objects.create(
            employee_id=f"IDX-{time.time_ns()}", given_name="Ida", family_name="Xworkload"
        )
        person.delete()


PHASES = [
    ("pages", phase_pages),
    ("api", phase_api),
    ("writes", phase_writes),
    ("jobs", phase_jobs),
    ("import+scenario", phase_import_scenario),
    ("catalogue deletes", phase_catalogue),
]


def prepare() -> None:
    """Per-person CSAT and KPI observations (the seed leaves them out for --positions)."""
    from demo.metrics import seed_kpis, seed_performance

    if not PerformanceObservation.objects.exists():
        say(f"seeded {seed_performance():,} CSAT observations")
    if not KPIObservation.objects.exists():  # about 11 minutes at 100,000 positions
        say(f"seeded {seed_kpis(actor=get_user_model().objects.get(username='admin')):,} KPIs")
    vacuum_analyze()


def vacuum_analyze() -> None:
    """What autovacuum does on a server (the planner needs statistics; a development cluster
    may run with autovacuum off, and a fresh bulk load has none)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def run_workload() -> tuple[dict, dict]:
    """The workload, phase by phase; idx_scan after each phase."""
    actors = Actors()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_reset()")
    before = first = index_stats()
    by_phase: dict[str, dict[str, int]] = {}
    with connection.execute_wrapper(REC):
        for name, run in PHASES:
            REC.phase = name
            started = time.perf_counter()
            run(actors)
            REC.phase = "stats"
            if name == "writes":
                vacuum_analyze()  # autovacuum's part after three moves (300,000 dead rows)
            after = index_stats()
            by_phase[name] = {k: after[k]["scans"] - before[k]["scans"] for k in after}
            before = after
            say(f"phase {name}: {time.perf_counter() - started:.1f} s")
    for name, info in before.items():
        info["size_at_start"] = first[name]["size"]
    return by_phase, before


# --- which statements use which index ------------------------------------------------------


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def uses(sql: str) -> tuple[set[str], set[str]] | None:
    """Indexes a statement's plan reads, and tables it scans whole (EXPLAIN, not run)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
            transaction.set_rollback(True)
    except Exception:
        return None
    plan = plan[0]["Plan"] if isinstance(plan, list) else json.loads(plan)[0]["Plan"]
    indexes, seq = set(), set()
    for node in plan_nodes(plan):
        if "Index Name" in node:
            indexes.add(node["Index Name"])
        if node.get("Node Type") == "Seq Scan":
            seq.add(node["Relation Name"])
    return indexes, seq


EXPLAINABLE = re.compile(r"^\s*(SELECT|WITH|UPDATE|DELETE)\b", re.I)


def attribute(stats: dict) -> tuple[dict[str, list], list]:
    """index name -> [(steps, count, sql)], and the statements that read a big table whole."""
    by_index: dict[str, list] = defaultdict(list)
    whole: list = []
    for shape, entry in REC.shapes.items():
        sql = entry["sql"]
        if not sql or not EXPLAINABLE.match(sql) or "pg_stat" in sql:
            continue
        found = uses(sql)
        if found is None:
            continue
        indexes, seq = found
        for name in indexes:
            if name in stats:
                by_index[name].append((entry["steps"], entry["count"], shape))
        big = sorted(seq & {"staffing_position", "staffing_assignment", "staffing_person"})
        if big:
            whole.append((big, entry["steps"], entry["count"], shape))
    return by_index, whole


# --- plans with and without an index -------------------------------------------------------


def constraint_of(name: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, conrelid::regclass::text FROM pg_constraint "
            "WHERE conindid = %s::regclass",
            [name],
        )
        row = cursor.fetchone()
    return f"ALTER TABLE {row[1]} DROP CONSTRAINT {row[0]}" if row else None


def explain(sql: str, *, drop=(), setup=(), then=(), runs: int = 2) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of ``sql`` (its last of ``runs``: warm caches), after the
    ``setup`` statements, with the ``drop`` indexes gone and the ``then`` statements run
    after that (a replacement index); everything is rolled back."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in setup:
            cursor.execute(statement)
        for name in drop:
            cursor.execute(constraint_of(name) or f"DROP INDEX {name}")
        for statement in then:
            cursor.execute(statement)
        if then:
            cursor.execute("ANALYZE staffing_position")
        if re.match(r"\s*(UPDATE|DELETE)", sql, re.I):
            runs = 1  # a rolled-back UPDATE leaves index entries the next run would read
        for _ in range(runs):  # each in a savepoint: a DELETE deletes its row every time
            with transaction.atomic():
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                rows = [row[0] for row in cursor.fetchall()]
                transaction.set_rollback(True)
        transaction.set_rollback(True)
    return "\n".join(rows)


def execution_ms(plan: str) -> str:
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return found.group(1) if found else "?"


def compare(title: str, sql: str, drop: list[str], *, setup=(), instead=()) -> None:
    """The plan of ``sql`` with every index, and without the ``drop`` ones (with the
    ``instead`` statements run after dropping them: a proposed replacement)."""
    with_index = explain(sql, setup=setup)
    without = explain(sql, drop=drop, setup=setup, then=instead)
    label = f"without {', '.join(drop) or 'nothing'}"
    if instead:
        label += " and with " + "; ".join(instead)
    say(f"#### {title}")
    say()
    say(f"{label}: {execution_ms(with_index)} ms -> {execution_ms(without)} ms")
    say()
    say("```sql")
    say(sql if len(sql) < 1500 else sql[:1500] + " …")
    say("```")
    say("With every index:")
    say("```")
    say(with_index)
    say("```")
    say(label[0].upper() + label[1:] + ":")
    say("```")
    say(without)
    say("```")
    say()


def sql_of(queryset) -> str:
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    with connection.cursor() as cursor:
        text = cursor.cursor.mogrify(sql, params)
    return text.decode() if isinstance(text, bytes) else text


def step_sql(step_name: str, column: str) -> list[str]:
    """The statements of a recorded step that filter ``column`` of staffing_position."""
    needle = f'"staffing_position"."{column}"'
    return [sql for sql in REC.of_step(step_name) if needle in sql.partition(" WHERE ")[2]]


def api_sql(url: str, column: str, *, who: str = "admin") -> list[str]:
    """The statements ``url`` runs that filter ``column`` (run again if not recorded)."""
    name = f"{who} GET {url}"
    if not step_sql(name, column):
        user = get_user_model().objects.get(username=who)
        with connection.execute_wrapper(REC):
            get(client_for(user), url, who=who, ok=(200, 400))
    return step_sql(name, column)


def plans() -> None:
    vacuum_analyze()
    a = Actors()
    P = Position.objects
    fk = single_column_indexes()
    say("## Plans with and without the index in question")
    say()
    say("### (1) position_status")
    say()
    compare(
        "count of open positions, whole org",
        sql_of(P.filter(status="open").values("pk").order_by()),
        ["position_status"],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM staffing_position WHERE status = 'open'")
    compare(
        "SELECT count(*) … WHERE status = 'open'",
        "SELECT count(*) FROM staffing_position WHERE status = 'open'",
        ["position_status"],
    )
    compare(
        "SELECT count(*) … WHERE status = 'planned' (1.6 %)",
        "SELECT count(*) FROM staffing_position WHERE status = 'planned'",
        ["position_status"],
    )
    for url in (
        "/api/positions/?status=open",
        f"/api/positions/?subtree_of={a.director.pk}&status=open",
    ):
        for sql in api_sql(url, "status"):
            compare(f"GET {url}: {_kind(sql)}", sql, ["position_status"])
    for status in ("open", "planned"):
        compare(
            f"proposal: a partial index on the vacancies only, count of status = '{status}'",
            f"SELECT count(*) FROM staffing_position WHERE status = '{status}'",
            ["position_status"],
            instead=[UNFILLED],
        )
    for sql in api_sql("/api/positions/?status=open", "status"):
        compare(
            f"proposal: the partial index, GET /api/positions/?status=open: {_kind(sql)}",
            sql,
            ["position_status"],
            instead=[UNFILLED],
        )
    undistinct(a, fk)

    say("### (2) location and squad")
    say()
    for url, column in (
        (f"/api/positions/?location={a.location.pk}", "location_id"),
        (f"/api/positions/?squad={a.squad.pk}", "squad_id"),
        (f"/api/positions/?subtree_of={a.director.pk}&location={a.location.pk}", "location_id"),
    ):
        for sql in api_sql(url, column):
            compare(f"GET {url}: {_kind(sql)}", sql, [fk[column]])
    compare(
        "Django's PROTECT check before deleting a location",
        sql_of(P.filter(location_id__in=[0]).values("pk")[:1]),  # one nobody uses
        [fk["location_id"]],
    )

    say("### (3) tree_id alone against (tree_id, lft)")
    say()
    compare(
        "a subtree (a director's part)",
        sql_of(P.subtree_of(a.director).values("pk").order_by()),
        [fk["tree_id"]],
    )
    compare(
        "one tree's rows (mptt: WHERE tree_id = %s), a tree that is small",
        "SELECT count(*) FROM staffing_position WHERE tree_id = 2",
        [fk["tree_id"]],
    )
    compare(
        "mptt's gap update in a move, WHERE tree_id = %s AND lft/rght ranges",
        "UPDATE staffing_position SET lft = lft WHERE tree_id = 2 AND lft > 1000",
        [fk["tree_id"]],
    )

    forest(fk["tree_id"])

    say("### (4) the ancestor lookup")
    say()
    compare(
        "above()/lineage_ids: the recursive walk up the parent pointers, deepest rightmost agent",
        _chain_sql(ordered=True).replace("%s", str(a.agent.pk)),
        ["position_tree_lft"],
    )
    compare(
        "the same by nested sets (mptt get_ancestors: lft < x AND rght > x), for comparison",
        sql_of(a.agent.get_ancestors().values("pk")),
        [],
    )
    compare(
        "a manager's breadcrumb: visible(scope).filter(above(position)).order_by('lft')",
        sql_of(P.subtree_of(a.manager).filter(above(a.agent_manager)).order_by("lft")),
        ["position_tree_lft"],
    )

    say("### (5) foreign keys: joins, filters and PostgreSQL's checks on delete")
    say()
    compare(
        "direct reports of a manager (the chart's children, direct_report_counts)",
        sql_of(P.filter(parent_id=a.manager.pk).values("pk")),
        [fk["parent_id"]],
    )
    compare(
        "GROUP BY parent_id of a director's part (direct_report_counts)",
        sql_of(
            P.filter(parent__in=P.subtree_of(a.director).values("id"))
            .order_by()
            .values("parent_id")
            .annotate(n=Count("id"))
        ),
        [fk["parent_id"]],
    )
    for url in (f"/api/positions/?role={a.role.pk}",):
        for sql in api_sql(url, "role_id"):
            compare(f"GET {url}: {_kind(sql)}", sql, [fk["role_id"]])
    for sql in api_sql("/dashboard/", "role_id"):
        if '"staffing_position"."role_id" IN' in sql:
            compare("the dashboard's span figures: WHERE role_id IN (…)", sql, [fk["role_id"]])
    compare(
        "who holds a role (/chart/holders/team-lead/): WHERE role_id = … LIMIT 200",
        sql_of(P.filter(role__code="team-lead", holder__isnull=False).values("pk")[:200]),
        [fk["role_id"]],
    )
    compare(
        "the position a user holds (scope_for: holder__user=user)",
        sql_of(P.filter(holder__user=a.users["manager"]).values("pk")[:1]),
        ["staffing_position_holder_id_key"],
    )
    immediate = ["SET CONSTRAINTS ALL IMMEDIATE"]
    new_position = (
        "INSERT INTO staffing_position (title, role_id, status, external_id, created_at, "
        f"updated_at, lft, rght, tree_id, level) VALUES ('idx', {a.role.pk}, 'open', '', now(), "
        "now(), 1, 2, 999999, 0)"
    )
    compare(
        "DELETE a position: every foreign key's check (immediate), parent_id among them",
        "DELETE FROM staffing_position WHERE tree_id = 999999",
        [fk["parent_id"]],
        setup=[*immediate, new_position],
    )
    compare(
        "DELETE a location nobody uses: PostgreSQL's check on staffing_position.location_id",
        "DELETE FROM staffing_location WHERE code = 'idx-tmp'",
        [fk["location_id"]],
        setup=[
            *immediate,
            "INSERT INTO staffing_location (code, name, city, country, timezone) "
            "VALUES ('idx-tmp', 'idx', '', '', 'UTC')",
        ],
    )
    compare(
        "DELETE a squad nobody uses: the check on staffing_position.squad_id",
        "DELETE FROM tiers_squad WHERE code = 'idx-tmp'",
        [fk["squad_id"]],
        setup=[
            *immediate,
            _copy_row_sql(
                "tiers_squad", a.squad.pk, code="'idx-tmp'", name="'idx'", kind="'specialist'"
            ),
        ],
    )
    compare(
        "DELETE a role nobody holds: the check on staffing_position.role_id",
        "DELETE FROM roles_role WHERE code = 'idx-tmp'",
        [fk["role_id"]],
        setup=[*immediate, _copy_row_sql("roles_role", a.role.pk, code="'idx-tmp'", name="'idx'")],
    )
    compare(
        "DELETE a person who holds nothing: the check on staffing_position.holder_id",
        "DELETE FROM staffing_person WHERE employee_id = 'idx-tmp'",
        ["staffing_position_holder_id_key"],
        setup=[
            *immediate,
            _copy_row_sql(
                "staffing_person",
                a.agent.holder_id,
                employee_id="'idx-tmp'",
                email="''",
                user_id="NULL",
            ),
        ],
    )

    say("### (6) the chart's levels, search")
    say()
    compare(
        "the chart's first levels: tree_id = 1 AND level <= 2",
        sql_of(P.filter(tree_id=a.vp.tree_id, level__lte=2).values("pk").order_by()),
        ["position_tree_level_lft"],
    )
    for url, column in (
        ("/api/positions/?level=2", "level"),
        ("/api/positions/?level_max=2", "level"),
    ):
        for sql in api_sql(url, column):
            compare(f"GET {url}: {_kind(sql)}", sql, ["position_tree_level_lft"])
    family = a.agent.holder.family_name
    for text in ("Lead 67", family):
        compare(
            f"chart search, titles: UPPER(title) LIKE '%{text.upper()}%'",
            sql_of(P.filter(title__icontains=text).values("pk")),
            ["position_title_trgm"],
        )

    for sql in api_sql(f"/chart/search/?q={family}", "id"):
        if " UNION " in sql:
            compare(
                f"the chart search's query (/chart/search/?q={family}), as run",
                sql,
                ["position_title_trgm"],
            )

    say("### other tables")
    say()
    assignment_person = single_column_indexes("staffing_assignment")["person_id"]
    compare(
        "tenure: assignments of a person in a role",
        "SELECT start_date, end_date FROM staffing_assignment "
        f"WHERE person_id = {a.agent.holder_id} AND role_id = {a.role.pk}",
        [assignment_person],
    )
    perf = single_column_indexes("metrics_performanceobservation")["person_id"]
    compare(
        "a person's CSAT (readiness): performance observations of a person",
        "SELECT value, sample_size FROM metrics_performanceobservation "
        f"WHERE person_id = {a.agent.holder_id} AND metric = 'csat' ORDER BY period_start",
        [perf],
    )
    compare(
        "tenure, the other way: without the (person_id, role_id) index",
        "SELECT start_date, end_date FROM staffing_assignment "
        f"WHERE person_id = {a.agent.holder_id} AND role_id = {a.role.pk}",
        ["assignment_person_role"],
    )
    compare(
        "current assignment of a person",
        f"SELECT id FROM staffing_assignment WHERE person_id = {a.agent.holder_id} "
        "AND end_date IS NULL",
        [assignment_person],
    )


UNFILLED = "CREATE INDEX position_unfilled ON staffing_position (status) WHERE status <> 'filled'"


def undistinct(a: Actors, fk: dict[str, str]) -> None:
    """The API's filters as they would cost without the DISTINCT django-filter adds to
    multiple-choice filters (``distinct=True``): the page in tree order and the count."""
    from staffing.selectors import with_card_figures

    say("#### The same filters without DISTINCT (what the index can do for them)")
    say()
    for column, value, index in (
        ("status", "'open'", "position_status"),
        ("location_id", a.location.pk, fk["location_id"]),
        ("squad_id", a.squad.pk, fk["squad_id"]),
        ("role_id", a.role.pk, fk["role_id"]),
    ):
        raw = value.strip("'") if isinstance(value, str) else value
        page = with_card_figures(Position.objects.filter(**{column: raw})).order_by(
            "tree_id", "lft"
        )[:100]
        compare(f"{column} = {value}, without DISTINCT: the page", sql_of(page), [index])
        compare(
            f"{column} = {value}, without DISTINCT: the count",
            f"SELECT count(*) FROM staffing_position WHERE {column} = {value}",
            [index],
        )


def forest(tree_index: str) -> None:
    """mptt's per-tree statements on a copy of the positions split into one tree per
    director's part (the forest of issue 24): does (tree_id, lft) serve WHERE tree_id = %s
    without the single-column tree_id index?"""
    say("#### A forest: the positions copied into one tree per director's part")
    say()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS idx_forest")
        cursor.execute("CREATE TEMP TABLE idx_forest AS SELECT * FROM staffing_position")
        cursor.execute(
            "UPDATE idx_forest f SET tree_id = d.id + 1 FROM staffing_position d "
            "WHERE d.level = 1 AND f.tree_id = d.tree_id AND f.lft >= d.lft AND f.lft < d.rght"
        )
        cursor.execute("CREATE INDEX idx_forest_tree ON idx_forest (tree_id)")
        cursor.execute("CREATE INDEX idx_forest_tree_lft ON idx_forest (tree_id, lft)")
        cursor.execute("CREATE INDEX idx_forest_tree_level ON idx_forest (tree_id, level, lft)")
        cursor.execute("ANALYZE idx_forest")
        cursor.execute(
            "SELECT tree_id, count(*) FROM idx_forest GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
        )
        tree, size = cursor.fetchone()
        cursor.execute("SELECT count(DISTINCT tree_id) FROM idx_forest")
        trees = cursor.fetchone()[0]
    say(f"{trees} trees; the largest ({tree}) has {size:,} positions.")
    say()
    mptt = [
        (
            "a tree's rows (mptt's tree-wide statements)",
            f"SELECT count(*) FROM idx_forest WHERE tree_id = {tree}",
        ),
        (
            "mptt's gap update (insert, delete, move): WHERE tree_id = %s AND (lft > %s OR "
            "rght > %s)",
            f"UPDATE idx_forest SET lft = CASE WHEN lft > 500 THEN lft + 2 ELSE lft END, "
            f"rght = CASE WHEN rght > 500 THEN rght + 2 ELSE rght END "
            f"WHERE tree_id = {tree} AND (lft > 500 OR rght > 500)",
        ),
        (
            "mptt's move within a tree: WHERE tree_id = %s (CASE on lft/rght)",
            f"UPDATE idx_forest SET lft = CASE WHEN lft BETWEEN 100 AND 200 THEN lft + 50 "
            f"ELSE lft END WHERE tree_id = {tree}",
        ),
    ]
    for title, sql in mptt:
        compare(f"forest: {title}", sql, ["idx_forest_tree"])
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE idx_forest")


def _kind(sql: str) -> str:
    return "the count" if re.match(r"\s*SELECT COUNT\(\*\)", sql, re.I) else "the page"


def _copy_row_sql(table: str, pk: int, **values: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position",
            [table],
        )
        columns = [row[0] for row in cursor.fetchall()]
    chosen = [values.get(c, c) for c in columns]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(chosen)} FROM {table} WHERE id = {pk}"
    )


def single_column_indexes(table: str = "staffing_position") -> dict[str, str]:
    """The plain single-column indexes Django made on ``table`` (foreign keys, and mptt's
    tree_id): column -> index name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, i.relname FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
            "WHERE x.indrelid = %s::regclass AND x.indnatts = 1 "
            "AND i.relname LIKE %s AND NOT x.indisunique AND x.indpred IS NULL",
            [table, f"{table}_%"],
        )
        return dict(cursor.fetchall())


# --- the write cost of the indexes ---------------------------------------------------------


def write_cost(variants: list[tuple[str, list[str], list[str]]], repeat: int = 3) -> None:
    """A far team move through position_move with every index, and without some; rolled
    back each time (vacuumed after), so every run moves the same team the same way, each
    after a CHECKPOINT (WAL then holds a full-page image of every page the move touches).
    WAL is counted for this database's relations only (pg_walinspect): the cluster's other
    databases write WAL at the same time."""
    a = Actors()
    say("## What a far team move costs, with and without indexes (rolled back)")
    say()
    say("| indexes | ms (each run) | WAL MB of this database (each run) | index size after (MB) |")
    say("|---|---|---|---|")
    breakdown: list = []
    for label, drop, then in variants:
        runs, wal = [], []
        for _ in range(repeat):
            with transaction.atomic(), connection.cursor() as cursor:
                for name in drop:
                    cursor.execute(constraint_of(name) or f"DROP INDEX {name}")
                for statement in then:
                    cursor.execute(statement)
                cursor.execute("CHECKPOINT")  # every run pays the same full-page images
                slot = keep_wal(cursor)
                cursor.execute("SELECT pg_current_wal_insert_lsn()")
                lsn = cursor.fetchone()[0]
                started = time.perf_counter()
                services.position_move(
                    actor=None,
                    position=Position.objects.get(pk=a.team.pk),
                    new_parent=Position.objects.get(pk=a.manager_far.pk),
                )
                runs.append((time.perf_counter() - started) * 1000)
                by_relation = wal_by_relation(lsn) if slot else []
                if slot:
                    cursor.execute("SELECT pg_drop_replication_slot(%s)", [slot])
                if by_relation:
                    wal.append(sum(row[2] for row in by_relation) / 1e6)
                else:  # the whole cluster's WAL
                    cursor.execute("SELECT pg_current_wal_insert_lsn() - %s::pg_lsn", [lsn])
                    wal.append(int(cursor.fetchone()[0]) / 1e6)
                if not drop and not then and not breakdown:
                    breakdown = by_relation
                cursor.execute(
                    "SELECT sum(pg_relation_size(indexrelid)) FROM pg_index "
                    "WHERE indrelid = 'staffing_position'::regclass"
                )
                size = float(cursor.fetchone()[0]) / 1e6
                transaction.set_rollback(True)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM staffing_position")
        say(
            f"| {label} | {', '.join(f'{ms:,.0f}' for ms in runs)} | "
            f"{', '.join(f'{w:.0f}' for w in wal)} | {size:.0f} |"
        )
    say()
    if breakdown:
        say("WAL of one far move with all 12 indexes, by relation (pg_walinspect):")
        say()
        say("| relation | WAL records | WAL MB | of which full-page images MB |")
        say("|---|---|---|---|")
        shown, rest = breakdown[:16], breakdown[16:]
        for name, records, length, fpi in shown:
            say(f"| {name} | {records:,} | {length / 1e6:.1f} | {fpi / 1e6:.1f} |")
        if rest:
            records, length, fpi = (sum(row[i] for row in rest) for i in (1, 2, 3))
            say(f"| {len(rest)} others | {records:,} | {length / 1e6:.1f} | {fpi / 1e6:.1f} |")
        say()


def keep_wal(cursor) -> str | None:
    """A temporary replication slot (dropped with the session at the latest) that keeps the
    move's WAL until it is read: the checkpoints the move itself causes would recycle it.
    None where slots or pg_walinspect are not available to this user."""
    name = f"idx_workload_{os.getpid()}"
    try:
        with transaction.atomic():
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
            cursor.execute("SELECT pg_create_physical_replication_slot(%s, true, true)", [name])
    except Exception:  # no privilege: the whole cluster's WAL is reported instead
        return None
    return name


def wal_by_relation(start) -> list[tuple]:
    """This database's WAL since ``start``, by the relation each record touches first
    (pg_walinspect, PostgreSQL 15)."""
    with connection.cursor() as cursor:
        time.sleep(1.5)  # the WAL writer flushes what the move wrote
        cursor.execute(
            "WITH r AS (SELECT regexp_match(block_ref, 'rel \\d+/(\\d+)/(\\d+)') AS rel, "
            "record_length, fpi_length FROM pg_get_wal_records_info(%s::pg_lsn, "
            "pg_current_wal_flush_lsn())) "
            "SELECT coalesce(c.relname, r.rel[2]), count(*), sum(r.record_length), "
            "sum(r.fpi_length) FROM r "
            "LEFT JOIN pg_class c ON c.relfilenode = r.rel[2]::oid "
            "WHERE r.rel[1]::oid = (SELECT oid FROM pg_database "
            "WHERE datname = current_database()) "
            "GROUP BY 1 ORDER BY 3 DESC",
            [start],
        )
        return cursor.fetchall()


# --- the report ----------------------------------------------------------------------------


def report(by_phase: dict, stats: dict, by_index: dict, whole: list) -> None:
    phases = [name for name, _ in PHASES]
    say("## idx_scan per index in the workload")
    say()
    say(
        "| table | index | definition | size at start | size after | "
        + " | ".join(phases)
        + " | total |"
    )
    say("|---|---|---|---|---|" + "---|" * len(phases) + "---|")
    for name, info in stats.items():
        counts = [by_phase[p].get(name, 0) for p in phases]
        kind = {"p": " (pkey)", "u": " (unique)", None: ""}.get(info["constraint"], "")
        say(
            f"| {info['table']} | {name}{kind} | {info['definition']} | "
            f"{info['size_at_start'] / 1024:,.0f} kB | {info['size'] / 1024:,.0f} kB | "
            + " | ".join(str(c) for c in counts)
            + f" | {sum(counts)} |"
        )
    say()
    say("## Tables")
    say()
    say("| table | live rows | updates | HOT updates | dead | seq scans | idx scans | size |")
    say("|---|---|---|---|---|---|---|---|")
    for row in table_stats():
        say(
            f"| {row[0]} | "
            + " | ".join(f"{v:,}" for v in row[1:7])
            + f" | {row[7] / 1e6:.0f} MB |"
        )
    say()
    say("## Which of the workload's statements use each index (EXPLAIN of every distinct one)")
    say()
    for name in stats:
        found = by_index.get(name, [])
        say(f"- **{name}**: {len(found)} statement shapes" + (":" if found else ""))
        for steps, count, shape in sorted(found, key=lambda f: -f[1])[:6]:
            where = "; ".join(steps[:3]) + (f" (+{len(steps) - 3} steps)" if len(steps) > 3 else "")
            say(f"  - {count}× in {where}: `{_short(shape)}`")
    say()
    say("## Statements that read a big table whole (Seq Scan in their plan)")
    say()
    for tables, steps, count, shape in sorted(whole, key=lambda w: -w[2]):
        where = "; ".join(steps[:3]) + (f" (+{len(steps) - 3})" if len(steps) > 3 else "")
        say(f"- {', '.join(tables)} — {count}× in {where}: `{_short(shape)}`")
    say()
    say("## Step timings")
    say()
    for phase, name, ms in TIMINGS:
        say(f"- {phase}: {name}: {ms:,.0f} ms")
    say()


def _short(sql: str, limit: int = 260) -> str:
    text = re.sub(r"\s+", " ", sql).replace("`", "'")
    return text if len(text) <= limit else text[:limit] + " …"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip", default="", help="sections to leave out: " + ",".join(SECTIONS))
    parser.add_argument("--only", default="", help="run only these sections")
    parser.add_argument("--out", default="", help="also write the report to this file")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("PostgreSQL only: set DATABASE_URL.")
    chosen = [s for s in (args.only.split(",") if args.only else SECTIONS) if s]
    chosen = [s for s in chosen if s not in args.skip.split(",")]
    setup_test_environment()
    say(f"# Index workload on {Position.objects.count():,} positions ({timezone.now():%Y-%m-%d})")
    say()
    try:
        if "workload" in chosen:
            prepare()
            by_phase, stats = run_workload()
            by_index, whole = attribute(stats)
            report(by_phase, stats, by_index, whole)
        if "plans" in chosen:
            plans()
        if "writecost" in chosen:
            single = single_column_indexes()
            unused = ["position_status"] + [
                single[c] for c in ("location_id", "squad_id", "tree_id") if c in single
            ]
            write_cost(
                [
                    ("all 12", [], []),
                    ("without status, location, squad, tree_id (8)", unused, []),
                    ("the 8 and a partial index on the vacancies (9)", unused, [UNFILLED]),
                    ("the 8 without the title trigram (7)", [*unused, "position_title_trgm"], []),
                ]
            )
    finally:
        if args.out:
            Path(args.out).write_text("\n".join(OUT) + "\n")


if __name__ == "__main__":
    main()
