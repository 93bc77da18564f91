"""The director dashboard: every number against the fte85 demo (seed 003's team sizes) and a
hand-built organization, scope, CSV downloads equal to the tables, snapshots and as-of,
growth advisories, the KPI upload, and query counts that do not follow the org's size."""

import csv
import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metrics import dashboard, services, tasks
from metrics.models import KPI, HeadcountSnapshot, KPIObservation
from metrics.views import build
from staffing.models import Position
from tests.factories import Org, UserFactory, log_in, make_position, make_team, session_client

pytestmark = pytest.mark.django_db


def admin():
    return session_client(UserFactory(is_superuser=True))


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """A rendered table's body rows as text cells."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    ]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_fte85_headcount_is_seed_003(fte85):
    count = dashboard.headcount(None)
    totals = count.totals
    assert (totals.total, totals.filled, totals.open, totals.planned) == (101, 85, 4, 12)
    tiers = {g.key: (g.filled, g.open, g.planned) for g in count.by["tier"]}
    assert tiers["t1"] == (45, 0, 0)  # 23 + 22 support agents
    assert tiers["t2"] == (15, 0, 0)
    assert tiers["t3"] == (8, 0, 0)
    roles = {g.key: g.planned for g in count.by["role"]}
    assert roles["customer-success-manager"] == 12  # the success team still being built
    assert [(g.name, g.total) for g in count.by["location"]] == [("Head office", 101)]
    assert {g.name: g.total for g in count.by["squad"]} == {"Tier 2 General": 15, "No squad": 86}
    assert count.fill_rate == round(100 * 85 / 89, 1)


def test_fte85_structure_health(fte85):
    count = dashboard.headcount(None)
    from tiers.models import Tier

    shares = {
        s.name.split(" —")[0]: s for s in dashboard.tier_shares(count, list(Tier.objects.all()))
    }
    assert (shares["Tier 3"].positions, shares["Tier 3"].share) == (8, round(800 / 68, 1))
    assert shares["Tier 3"].verdict == "above the framework"  # 11.8 % against 5–10 %
    managers = {f.role_code: f for f in dashboard.span_figures(None)}["advocate-manager"]
    assert sorted(managers.direct) == [4, 4, 4, 8, 15, 22, 23]  # seed 003's team sizes
    judged = managers.direct_judged
    assert (judged["below"], judged["within"], judged["above"]) == (0, 4, 3)
    assert dict(managers.histogram)[23] == 1 and dict(managers.histogram)[10] == 0
    summary = dashboard.findings(None)
    kinds = {row["kind"]: row for row in summary.by_kind}
    assert kinds["too_many_direct"]["critical"] == 3  # the three managers of 15, 22 and 23
    assert summary.total == sum(row["total"] for row in summary.by_kind)
    assert summary.worst[0].severity == "critical"


def test_the_page_shows_the_figures_and_each_csv_equals_its_table(fte85):
    client = admin()
    response = client.get("/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg class="chart"') >= 4 + 1  # four headcount bars, histograms
    assert 'role="img"' in html and "aria-label=" in html
    for table in ("tier", "role", "location", "squad", "shares", "spans", "findings"):
        shown = table_rows(html, f"table-{table}")
        downloaded = csv_rows(client.get(f"/dashboard/{table}.csv"))
        assert downloaded[1:] == [[c if c != "—" else "" for c in row] for row in shown], table
    tier = csv_rows(client.get("/dashboard/tier.csv"))
    assert tier[0] == ["Tier", "Filled", "Open", "Planned", "Total"]
    assert ["Tier 1 — Product support", "45", "0", "0", "45"] in tier
    assert "11.8 %" in html and "above the framework" in html
    assert f'href="/?focus={dashboard.findings(None).worst[0].position_id}"' in html


def test_a_hand_built_org_counts_exactly(api_org: Org):
    director = api_org.positions["director"]
    client = log_in("director", holds=director)
    tables = build(director, None)["tables"]
    # Director › Manager A › Lead A › 3 agents; › Manager B › Lead B › 2 agents + 1 open
    assert tables["tier"].rows == [
        ["Tier 1 — Product support", 5, 1, 0, 6],
        ["Management", 5, 0, 0, 5],
    ]
    leads = next(r for r in tables["spans"].rows if r[0] == "Team Lead")
    assert leads[1:9] == [2, "6–10", 3, 3, 3, 2, 0, 0]  # both leads have 3: below 6
    html = client.get("/dashboard/").content.decode()
    assert "Other Director" not in html and "Other Lead" not in html
    assert "Dashboard: Director" in html


def test_no_operations_team_is_advised_where_one_serves_from_elsewhere(fte85):
    director = Position.objects.get(title="Director of Technical Support")
    advised = [a.title for a in build(director, None)["advisories"]]
    assert "A support-operations team is due" not in advised  # the VP's ops team serves it
    from tiers.models import Tier

    Tier.objects.filter(kind="operations").update(kind="other")  # as if there were none
    advised = [a.title for a in build(director, None)["advisories"]]
    assert "A support-operations team is due" in advised


def test_scope_director_manager_hr_and_others(api_org: Org):
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    page = manager.get("/dashboard/")
    assert page.status_code == 200 and "Dashboard: Manager A" in page.content.decode()
    assert manager.get(f"/dashboard/?root={api_org.positions['lead_a'].pk}").status_code == 200
    assert manager.get(f"/dashboard/?root={api_org.positions['director'].pk}").status_code == 404
    assert manager.get(f"/dashboard/tier.csv?root={api_org.theirs.pk}").status_code == 404
    hr = session_client(UserFactory(groups=["hr"])).get("/dashboard/")
    assert hr.status_code == 200 and "the whole organization" in hr.content.decode()
    assert session_client(UserFactory()).get("/dashboard/").status_code == 403
    assert admin().get("/dashboard/?root=x").status_code == 404
    assert admin().get("/dashboard/?as_of=yesterday").status_code == 400
    assert admin().get("/dashboard/nope.csv").status_code == 404


def test_snapshots_trend_and_as_of(api_org: Org):
    client = admin()
    director = api_org.positions["director"]
    past = timezone.now() - datetime.timedelta(days=10)
    services.headcount_snapshot_take(scope=director, taken_at=past)
    make_team(api_org.positions["lead_a"], 4)  # four more since
    response = client.post("/dashboard/snapshot/", {"root": director.pk})
    assert response.status_code == 302
    kept = HeadcountSnapshot.objects.filter(scope=director).order_by("taken_at")
    assert [s.total for s in kept] == [11, 15]
    html = client.get(f"/dashboard/?root={director.pk}").content.decode()
    assert "Positions over time" in html and "Total 15" in html
    day = (past + datetime.timedelta(days=1)).date().isoformat()
    old = client.get(f"/dashboard/?root={director.pk}&as_of={day}").content.decode()
    assert "From the snapshot taken" in old
    assert table_rows(old, "table-tier")[0] == ["Tier 1 — Product support", "5", "1", "0", "6"]
    old_csv = csv_rows(client.get(f"/dashboard/tier.csv?root={director.pk}&as_of={day}"))
    assert old_csv[1] == ["Tier 1 — Product support", "5", "1", "0", "6"]
    long_ago = client.get(f"/dashboard/?root={director.pk}&as_of=2000-01-01")
    assert "No headcount snapshot of this scope" in long_ago.content.decode()


def test_the_nightly_snapshot_covers_every_leaders_scope(api_org: Org):
    log_in("manager", holds=api_org.positions["manager_a"])  # a manager user
    scopes = set(tasks.snapshot_scopes())
    assert api_org.positions["manager_a"].pk in scopes
    assert {api_org.positions["director"].pk, api_org.positions["other"].pk} <= scopes
    taken = tasks.take_headcount_snapshots()
    assert taken == 1 + len(scopes) == HeadcountSnapshot.objects.count()


def test_growth_advisories_name_the_figure_that_set_them_off(framework):
    from tiers.models import Squad, Tier

    lead = make_position("Lead", "team-lead")
    make_team(lead, 12)  # twelve Tier 1 agents, nothing else
    tiers = list(Tier.objects.all())
    found = {a.title: a for a in dashboard.advisories(dashboard.headcount(None), tiers)}
    assert "12 front-line positions and none in support operations" in (
        found["A support-operations team is due"].figure
    )
    assert "12 positions in Tier 1" in found["Consider a Tier 2 — Technical support tier"].figure
    squads = list(Squad.objects.all()[:3])
    lone = make_position("Voice specialist", "tse", lead, squad=squads[0])
    for squad in squads[1:]:
        make_position("Engineer", "tse", lead, squad=squad)
    Tier.objects.filter(triages=True).update(triages=False)
    found = {
        a.title: a
        for a in dashboard.advisories(dashboard.headcount(None), list(Tier.objects.all()))
    }
    assert squads[0].name in found["Areas that rest on one person"].figure
    assert "3 specialist areas" in found["Add a triage step"].figure
    assert lone.pk


def test_kpis_status_and_trend(api_org: Org):
    fcr = KPI.objects.get(code="fcr")  # at least 75 %, higher is better
    for month, value in ((1, 70), (2, 78)):
        services.kpi_observation_record(
            actor=None,
            kpi=fcr,
            period_start=datetime.date(2026, month, 1),
            period_end=datetime.date(2026, month, 28),
            value=value,
        )
    status = {k.kpi.code: k for k in dashboard.kpi_statuses(None)}
    assert status["fcr"].status == "on target" and status["fcr"].trend == "up 8, better"
    assert status["nps"].status == "no data"
    row = next(r for r in build(None, None)["tables"]["kpis"].rows if r[0] == fcr.name)
    assert row[2:5] == [78, "2026-02-01 to 2026-02-28", "on target"]


def upload(client, text: str, **extra):
    data = {"file": SimpleUploadedFile("kpis.csv", text.encode(), "text/csv"), **extra}
    return client.post("/dashboard/kpis/upload/", data)


def test_kpi_upload_is_all_or_nothing_with_errors_by_row(api_org: Org):
    client = admin()
    good = "kpi,period_start,period_end,value,scope,note\n" + (
        f"fcr,2026-03-01,2026-03-31,76,,\ncsat,2026-03-01,2026-03-31,4.6,{api_org.positions['director'].pk},\n"
    )
    assert upload(client, good).status_code == 302
    assert KPIObservation.objects.count() == 2
    bad = (
        "kpi,period_start,period_end,value,scope,note\n"
        "fcr,2026-04-01,2026-04-30,77,,fine\n"
        "nope,2026-04-01,2026-04-30,1,,\n"
        "csat,2026-04-31,2026-04-30,4,,\n"
        "csat,2026-04-01,2026-04-30,7,,\n"
        "aht,2026-04-01,2026-04-30,abc,,\n"
        "fcr,2026-04-01,2026-04-30,78,,\n"
        "aht,2026-04-01,2026-03-30,6,,\n"
        "nps,2026-04-01,2026-04-30,40,999999,\n"
        "fcr,2026-03-01,2026-03-31,80,,\n"
    )
    response = upload(client, bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was recorded" in html
    for row, text in (
        (3, "Unknown KPI code"),
        (4, "YYYY-MM-DD"),
        (5, "between 0 and 5"),
        (6, "Give a number"),
        (7, "Same KPI, team and period as row 2"),
        (8, "cannot end before it starts"),
        (9, "No position 999999"),
        (10, "already recorded"),
    ):
        assert re.search(rf"<td>{row}</td><td>\w+</td><td>[^<]*{re.escape(text)}", html), row
    assert KPIObservation.objects.count() == 2  # nothing written
    again = "kpi,period_start,period_end,value\nfcr,2026-03-01,2026-03-31,80\n"
    assert upload(client, again, replace="on").status_code == 302
    assert KPIObservation.objects.get(kpi__code="fcr", scope=None).value == 80
    assert upload(client, "\xff\xfe".encode("latin-1").decode("latin-1")).status_code == 400
    assert (
        "not UTF-8"
        in client.post(
            "/dashboard/kpis/upload/",
            {"file": SimpleUploadedFile("k.csv", "kpi\n\xe9".encode("latin-1"), "text/csv")},
        ).content.decode()
    )
    assert "lacks" in upload(client, "a,b\n1,2\n").content.decode()
    as_text = SimpleUploadedFile("kpis.txt", again.encode(), "text/plain")
    assert (
        client.post("/dashboard/kpis/upload/", {"file": as_text, "replace": "on"}).status_code
        == 302
    )
    manager = log_in("manager", holds=api_org.positions["manager_a"])
    assert upload(manager, good).status_code == 403


@pytest.mark.parametrize("table", ["", "tier.csv"])
def test_the_dashboard_runs_a_fixed_number_of_queries(api_org: Org, table):
    client = admin()

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/dashboard/{table}").status_code == 200
        return len(captured.captured_queries)

    before = count()
    api_org.grow(teams=4, size=6)
    services.headcount_snapshot_take()
    services.headcount_snapshot_take()
    assert count() == before
    assert Position.objects.count() > 30


def test_a_csv_download_runs_only_its_own_table_s_queries(api_org: Org):
    client = admin()

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    page = count("/dashboard/")
    tables = {table: count(f"/dashboard/{table}.csv") for table in ("tier", "kpis", "spans")}
    # the session and user, then the headcount's GROUP BY and its three small name lookups
    assert tables["tier"] == 2 + 4, tables
    assert max(tables.values()) < page - 6, (tables, page)


# -- advice weighs the whole organization (issue 22, item 5) --------------------------------


def dashboard_text(client, **query) -> str:
    response = client.get("/dashboard/", query)
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_part_without_tier_2_is_not_told_to_build_one(synapse):
    """The synapse demo: Tier 1 under one director, 45 Tier 2 and 12 Tier 3 positions under
    another. Neither the Tier 1 director nor one of their managers is told to add a Tier 2
    tier or that Tier 3 is below the framework; each is told what their part lacks and
    how many the organization has."""
    director = log_in("director", holds=Position.objects.get(title="Director, Customer Advocacy"))
    madison = Position.objects.get(title="Advocate Manager, Madison")
    manager = log_in("manager", holds=madison)
    for client in (director, manager):
        text = dashboard_text(client)
        assert "Consider a Tier 2" not in text
        assert "below the framework" not in text
        assert (
            "Your part has no Tier 2 — Technical support positions; the organization has 45" in text
        )
        assert "Your part has no Tier 3 — Expert support positions; the organization has 12" in (
            text
        )
        assert "none here; 5.8 % of the organization (12) — within the framework" in text
    rows = csv_rows(manager.get("/dashboard/shares.csv"))
    assert rows[0] == [
        "Tier",
        "Positions",
        "Share of front line (%)",
        "Positions in the organization",
        "Share in the organization (%)",
        "Framework (share of volume)",
        "Verdict",
    ]
    tier_3 = ["Tier 3 — Expert support", "0", "0.0", "12", "5.8", "5–10 %"]
    assert rows[3] == [*tier_3, "within the framework"]
    # an admin looking at the same team is told about "this part", not "yours"
    text = dashboard_text(admin(), root=madison.pk)
    assert "This part has no Tier 2 — Technical support positions" in text
    # the Tier 2 and 3 director is not told to add a triage step: Tier 1 triages for all
    technical = Position.objects.get(title="Director, Technical Support")
    text = dashboard_text(admin(), root=technical.pk)
    assert "Add a triage step" not in text
    assert "This part has no Tier 1 — Product support positions; the organization has 150" in (text)
    # the whole organization: its own shares, nothing said about parts
    text = dashboard_text(admin())
    assert "has no Tier" not in text and "of the organization (" not in text
    assert "Expert support: 5.8 % (12) — within the framework" in text


def test_advice_on_a_part_still_speaks_when_the_organization_lacks_the_tier(framework):
    """Two directors with Tier 1 teams only: each is told the organization has no Tier 2,
    with the organization's figure and their own."""
    mine = make_position("Director A", "director")
    theirs = make_position("Director B", "director")
    make_team(make_position("Lead A", "team-lead", mine), 8)
    make_team(make_position("Lead B", "team-lead", theirs), 8)
    mine.refresh_from_db()
    found = {a.title: a for a in build(mine, None, yours=True)["advisories"]}
    assert found["Consider a Tier 2 — Technical support tier"].figure == (
        "16 positions in Tier 1 — Product support (8 in your part), the highest tier in the "
        "organization; none in Tier 2 — Technical support."
    )
    assert found["A support-operations team is due"].figure.startswith(
        "16 front-line positions (8 in your part) and none in support operations in the "
        "organization"
    )
    assert build(mine, None)["differences"] == []  # nothing the organization has elsewhere


def test_the_dashboard_of_a_part_runs_a_fixed_number_of_queries(synapse):
    """The director's and the manager's dashboards, before and after the organization
    grows inside and outside their parts: the whole organization's mix is one query."""
    madison = Position.objects.get(title="Advocate Manager, Madison")
    clients = {
        "director": log_in(
            "director", holds=Position.objects.get(title="Director, Customer Advocacy")
        ),
        "manager": log_in("manager", holds=madison),
    }

    def count(client) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/dashboard/").status_code == 200
        return len(captured.captured_queries)

    before = {name: count(client) for name, client in clients.items()}
    make_team(make_position("New Lead", "team-lead", madison), 7)
    make_team(Position.objects.get(title="Advocate Manager, Tier 3"), 5, role="architect")
    assert {name: count(client) for name, client in clients.items()} == before
