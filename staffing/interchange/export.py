"""The CSV export of a part of the org chart: every position below a card, streamed (so
100,000 rows never sit in memory), in the columns the import reads back.

A fixed number of queries whatever the size of the organization: the positions, and their
dotted lines.
"""

import csv
import datetime
from collections.abc import Iterator

from django.db.models import OuterRef, Q, Subquery
from django.utils.text import slugify

from orgdesign.kernel.rest import csv_cell
from staffing.interchange.columns import DB_ID_PREFIX, EXPORT_ONLY, POSITION_COLUMNS
from staffing.models import Assignment, DottedLine, Position, subtree_q, team_size_of
from staffing.scope import Scope
from staffing.selectors import visible, with_card_figures

# The first columns are what the import reads back (the file round-trips); the
# rest describe the chart and are ignored by the import. ``position_id`` and ``manager_id``
# are external ids, or ``#`` and the database id for a position without one.
CSV_COLUMNS = [*POSITION_COLUMNS, *EXPORT_ONLY]


def position_key(pk: int | None, external_id: str | None) -> str:
    """The id the CSV gives a position: its external id, else ``#`` and its database id."""
    if pk is None:
        return ""
    return external_id or f"{DB_ID_PREFIX}{pk}"


def subtree(scope: Scope, roots: list[Position]):
    """The visible positions under ``roots`` (roots included)."""
    within = Q()
    for root in roots:
        within |= subtree_q(root)
    return visible(scope).filter(within)


def filename(roots: list[Position], extension: str) -> str:
    name = slugify(roots[0].title) if len(roots) == 1 else "organization"
    return f"{name or 'team'}-{datetime.date.today().isoformat()}.{extension}"


def dotted_managers(queryset) -> dict[int, list[tuple[int, str]]]:
    """Each position's dotted-line managers as (id, title), one query."""
    found: dict[int, list[tuple[int, str]]] = {}
    lines = DottedLine.objects.filter(position__in=queryset.values("pk")).select_related("manager")
    for line in lines.order_by("manager__title"):
        found.setdefault(line.position_id, []).append((line.manager_id, line.manager.title))
    return found


class _Echo:
    def write(self, value):
        return value


def csv_rows(scope: Scope, roots: list[Position]) -> Iterator[str]:
    """The CSV of every visible position under ``roots``, a line at a time, top down; formula
    cells escaped. Two queries (dotted lines, then the positions through a cursor, as plain
    values: building 100,000 model instances would take most of the time)."""
    positions = subtree(scope, roots)
    dotted = dotted_managers(positions)
    base = min((root.level for root in roots), default=0)
    status = dict(Position.Status.choices)
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    started = Assignment.objects.filter(position=OuterRef("pk"), end_date__isnull=True).values(
        "start_date"
    )[:1]
    values = (
        with_card_figures(positions)
        .annotate(start_date=Subquery(started))
        .order_by("tree_id", "lft")
        .values_list(
            "pk",
            "external_id",
            "title",
            "role__name",
            "role__tier__name",
            "status",
            "holder__employee_id",
            "holder__given_name",
            "holder__family_name",
            "holder__email",
            "holder__hire_date",
            "start_date",
            "location__name",
            "squad__name",
            "parent_id",
            "parent__external_id",
            "parent__title",
            "tree_id",
            "level",
            "lft",
            "rght",
            "trees_under",
            "direct_reports",
            "open_findings",
        )
    )
    for row in values.iterator(chunk_size=2000):
        pk, external_id, title, role, tier, state = row[:6]
        employee_id, given, family, email, hired, start = row[6:12]
        location, squad, parent_id, parent_external_id, parent = row[12:17]
        tree_id, level, lft, rght, under, direct, findings = row[17:]
        team = team_size_of(pk, tree_id, lft, rght, under)
        holder = f"{given} {family}".strip() if given is not None else ""
        yield writer.writerow(
            [
                csv_cell(value)
                for value in (
                    position_key(pk, external_id),
                    title,
                    role,
                    status.get(state, state),
                    position_key(parent_id, parent_external_id),
                    location,
                    squad,
                    employee_id,
                    given,
                    family,
                    email,
                    hired.isoformat() if hired else "",
                    start.isoformat() if start and employee_id else "",
                    tier,
                    holder,
                    parent,
                    level - base,
                    direct,
                    team,
                    findings,
                    [manager for _, manager in dotted.get(pk, [])],
                )
            ]
        )
