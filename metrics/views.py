"""The director dashboard at ``/dashboard/``: headcount, structure health, growth advisories,
KPIs and trends for the viewer's part of the organization, each table downloadable as CSV.

Who sees what: admins and HR see the whole organization and may choose any position as the
root (``?root=``); directors and managers see the team under their own position (and may
narrow it to a position inside it); anyone else gets 403.
"""

import csv
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from metrics import charts, dashboard, services
from orgdesign.kernel import csvfile, days
from orgdesign.kernel.rest import csv_cell
from staffing.models import Position
from staffing.scope import request_scope
from staffing.selectors import visible_position
from tiers.models import Tier


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list]


def dashboard_root(request) -> Position | None:
    """The top of the dashboard's scope (None: the whole organization)."""
    scope = request_scope(request)
    raw = request.GET.get("root") or request.POST.get("root") or ""
    if raw:
        return visible_position(scope, raw)
    if scope.sees_all:
        return None
    if scope.root is not None:
        return scope.root
    raise PermissionDenied(
        "The dashboard shows the part of the organization you lead or read, and you have none."
    )


def _as_of(request) -> datetime.date | None:
    raw = request.GET.get("as_of", "")
    return days.read_day(raw) if raw else None  # a BadDay (ValueError) says what is wrong


class Figures:
    """What the dashboard's tables and charts read, each worked out when first asked for: a
    CSV download of one table runs only the queries that table needs."""

    def __init__(self, root: Position | None, as_of: datetime.date | None):
        self.root, self.as_of = root, as_of

    @cached_property
    def tiers(self) -> list[Tier]:
        return list(Tier.objects.all())

    @cached_property
    def snapshot(self):
        return dashboard.snapshot_as_of(self.root, self.as_of) if self.as_of else None

    @cached_property
    def live(self):
        return dashboard.headcount(self.root)

    @cached_property
    def count(self):
        """The headcount as of the chosen snapshot, else today's."""
        return dashboard.headcount_from_snapshot(self.snapshot) if self.snapshot else self.live

    @cached_property
    def spans(self):
        return dashboard.span_figures(self.root)

    @cached_property
    def findings(self):
        return dashboard.findings(self.root)

    @cached_property
    def kpis(self):
        return dashboard.kpi_statuses(self.root)

    @cached_property
    def org(self) -> dashboard.Mix | None:
        """The whole organization's mix when the scope is a part of it (one query); None
        for the whole organization, or a root that holds all of it (the top position)."""
        if self.root is None:
            return None
        org = dashboard.organization_mix()
        return None if sum(org.tiers.values()) == self.live.totals.total else org

    @cached_property
    def shares(self):
        return dashboard.tier_shares(self.live, self.tiers, self.org)


STATUS_COLUMNS = ["Filled", "Open", "Planned", "Total"]


def _headcount_table(key: str, label: str, f: Figures) -> Table:
    rows = [[g.name, g.filled, g.open, g.planned, g.total] for g in f.count.by[key]]
    return Table(key, f"By {label.lower()}", [label, *STATUS_COLUMNS], rows)


def _shares_table(f: Figures) -> Table:
    columns = ["Tier", "Positions", "Share of front line (%)"]
    rows = [[s.name, s.positions, s.share] for s in f.shares]
    if f.org is not None:  # a part: the organization's figures, which the verdict weighs
        columns += ["Positions in the organization", "Share in the organization (%)"]
        for row, s in zip(rows, f.shares, strict=True):
            row += [s.org_positions, s.org_share]
    columns += ["Framework (share of volume)", "Verdict"]
    for row, s in zip(rows, f.shares, strict=True):
        row += [s.expected, s.verdict]
    return Table("shares", "Front-line tiers against the framework", columns, rows)


def _spans_table(f: Figures) -> Table:
    rows = []
    for figures in f.spans:
        direct, team = figures.direct_judged, figures.team_judged
        rows.append(
            [
                figures.role,
                figures.positions,
                f"{direct['range']} ({direct['kinds']})" if direct["kinds"] else direct["range"],
                direct["min"],
                direct["median"],
                direct["max"],
                direct["below"],
                direct["within"],
                direct["above"],
                team["range"] if team else "no limit",
                team["median"] if team else None,
                team["below"] if team else None,
                team["above"] if team else None,
            ]
        )
    return Table(
        "spans",
        "Span of control by manager role",
        [
            "Role",
            "Positions",
            "Direct reports allowed",
            "Fewest",
            "Median",
            "Most",
            "Below",
            "Within",
            "Above",
            "Whole team allowed",
            "Median team",
            "Teams too small",
            "Teams too large",
        ],
        rows,
    )


def _findings_table(f: Figures) -> Table:
    return Table(
        "findings",
        "Open findings",
        ["Kind", "Critical", "Warning", "Info", "Total"],
        [
            [r["label"], r["critical"], r["warning"], r["info"], r["total"]]
            for r in f.findings.by_kind
        ],
    )


def _kpis_table(f: Figures) -> Table:
    def period(o) -> str:
        return f"{o.period_start:%Y-%m-%d} to {o.period_end:%Y-%m-%d}" if o else ""

    rows = [
        [
            k.kpi.name,
            k.kpi.target_display,
            k.latest.value if k.latest else None,
            period(k.latest),
            k.status,
            k.trend,
            k.review.text,
        ]
        for k in f.kpis
    ]
    return Table(
        "kpis",
        "KPIs against their targets",
        ["KPI", "Target", "Latest", "Period", "Status", "Trend", "Review"],
        rows,
    )


TABLES: dict[str, Callable[[Figures], Table]] = {
    **{key: partial(_headcount_table, key, label) for key, label in dashboard.DIMENSIONS.items()},
    "shares": _shares_table,
    "spans": _spans_table,
    "findings": _findings_table,
    "kpis": _kpis_table,
}


def build(root: Position | None, as_of: datetime.date | None, *, yours: bool = False) -> dict:
    """Everything the page shows; the CSV downloads read the same tables. ``yours``: the
    root is the viewer's own position (the advice then says "your part")."""
    f = Figures(root, as_of)
    whose = "Your part" if yours else "This part"
    tables = {name: make(f) for name, make in TABLES.items()}
    return {
        "root": root,
        "count": f.count,
        "live": f.live,
        "snapshot": f.snapshot,
        "as_of": as_of,
        "tables": tables,
        "panels": [
            (charts.bars(f"Positions by {label.lower()}", f.count.by[key]), tables[key])
            for key, label in dashboard.DIMENSIONS.items()
        ],
        "shares": f.shares,
        "spans": f.spans,
        "histograms": [charts.histogram(s) for s in f.spans if s.positions][:4],
        "findings": f.findings,
        "advisories": dashboard.advisories(f.live, f.tiers, f.org, whose=whose),
        "differences": (
            dashboard.part_differences(dashboard.mix_of(f.live), f.org, f.tiers, whose=whose)
            if f.org is not None
            else []
        ),
        "kpis": [(k, charts.sparkline([o.value for o in k.history], k.kpi.target)) for k in f.kpis],
        "kpis_due": [k for k in f.kpis if k.review.needs_attention],
        "trend": charts.lines(dashboard.snapshots(root)),
    }


@login_required
@require_GET
def dashboard_page(request):
    root = dashboard_root(request)
    try:
        as_of = _as_of(request)
    except ValueError as problem:
        return HttpResponseBadRequest(str(problem))
    scope = request_scope(request)
    yours = root is not None and scope.root is not None and root.pk == scope.root.pk
    context = build(root, as_of, yours=yours)
    if as_of and context["snapshot"] is None:
        messages.warning(
            request,
            f"No headcount snapshot of this scope was taken on or before {as_of:%d %B %Y}; "
            "showing today's figures.",
        )
    context["scope"] = scope
    context["can_snapshot"] = context["scope"].can_record_for(root)
    query = {k: v for k, v in (("root", root.pk if root else ""), ("as_of", as_of or "")) if v}
    context["query"] = f"?{urlencode(query)}" if query else ""
    return render(request, "metrics/dashboard.html", context)


@login_required
@require_GET
def dashboard_csv(request, table: str):
    """One of the page's tables as CSV, the same rows the page shows."""
    if table not in TABLES:
        raise Http404("No such table.")
    root = dashboard_root(request)
    try:
        as_of = _as_of(request)
    except ValueError as problem:
        return HttpResponseBadRequest(str(problem))
    shown = TABLES[table](Figures(root, as_of))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = (root.title if root else "organization").lower().replace(" ", "-")
    response["Content-Disposition"] = f'attachment; filename="{name}-{table}.csv"'
    writer = csv.writer(response)
    writer.writerow(shown.columns)
    for row in shown.rows:
        writer.writerow([csv_cell(value) for value in row])
    return response


@login_required
@require_POST
def snapshot_take(request):
    """Take a headcount snapshot of the dashboard's scope now."""
    root = dashboard_root(request)
    snapshot = services.headcount_snapshot_take(actor=request.user, scope=root)
    messages.success(
        request, f"Snapshot taken: {snapshot.total} positions ({snapshot.filled} filled)."
    )
    url = reverse("dashboard")
    return redirect(f"{url}?root={root.pk}" if root else url)


UPLOAD_LIMIT = 2 * 1024 * 1024  # bytes
OBSERVATION_FILE = {
    "KPI": (
        services.OBSERVATION_COLUMNS,
        ("kpi", "period_start", "period_end", "value"),
        (),
    )
}


def _observation_rows(upload) -> list[dict[str, str]]:
    """The rows of an uploaded KPI file, read by the one CSV intake the organization's import
    uses (size, type, encoding, header); ImportRefused says what is wrong, by row."""
    problems = csvfile.check_upload(
        name=upload.name,
        size=upload.size,
        limit=UPLOAD_LIMIT,
        content_type=upload.content_type or "",
        too_big="Split it into smaller files.",
        extensions=(".csv", ".txt"),  # as the page has always taken them
    )
    if problems:
        raise csvfile.ImportRefused(problems)
    table = csvfile.read_table(
        csvfile.decode(upload.read()),
        kinds=OBSERVATION_FILE,
        kind_of=lambda header: "KPI",
        unknown_kind="",
        max_rows=settings.IMPORT_MAX_ROWS,
    )
    return [cells for _number, cells in table.rows]


@login_required
def kpi_upload(request):
    """Upload KPI observations as CSV: every row is checked first, then all are recorded
    in one transaction, or none with the problems listed by row and column."""
    if not request.user.has_perm("metrics.add_kpiobservation"):
        raise PermissionDenied("Recording KPI observations needs the right to add them.")
    context: dict = {"columns": services.OBSERVATION_COLUMNS, "limit": UPLOAD_LIMIT // 1024}
    if request.method != "POST":
        return render(request, "metrics/kpi_upload.html", context)
    upload = request.FILES.get("file")
    if upload is None:
        context["error"] = "Choose a CSV file."
        return render(request, "metrics/kpi_upload.html", context, status=400)
    rows: list[dict[str, str]] = []
    try:
        rows = _observation_rows(upload)
        created, replaced = services.kpi_observations_import(
            actor=request.user, rows=rows, replace=bool(request.POST.get("replace"))
        )
    except csvfile.ImportRefused as refused:  # the file (no row read) or its rows
        context["problems"], context["rows"] = refused.problems, len(rows)
        return render(request, "metrics/kpi_upload.html", context, status=400)
    messages.success(
        request,
        f"Recorded {created} observation{'s' if created != 1 else ''}"
        + (f" and replaced {replaced}" if replaced else "")
        + ".",
    )
    return redirect("dashboard")
