"""The readiness list of a part of the organization of any size, a page at a time.

To page through 100,000 people sorted by readiness, or to show only those ready now, the
list needs everyone's verdict; judging everyone in Python (:func:`metrics.readiness.
readiness`) takes about half a second per thousand people. So the verdict that orders and
filters the list is computed by the database, in one statement over the whole scope: days
in the current role (several stints add up, overlaps count once), CSAT over the window
rounded as the page shows it, the further criteria signed off, the time in each specialist
squad where a step asks for it (runs read as :func:`staffing.rotation.runs_of` reads them,
ties broken by id as :mod:`metrics.readiness` hands the rows over), and from them each
person's nearest step — ready now, ready on a date, missing something, or no path. Only
the page shown is then judged in Python, in detail. Nothing is stored, so nothing goes
stale: an edit to a path, a target, a sign-off, an assignment or an observation changes
the next page, and ``as_of`` judges any day.

The same rules are written twice, here in SQL and in :mod:`metrics.readiness` in Python;
``tests/test_readiness_list.py`` judges generated histories both ways and compares them.
The catalogue (paths, their minimum days and criteria) is read first and handed to the
statement as a small table of values, so the minimum days and the criteria lines are parsed
by the same Python as the detail. A page costs 7 queries whatever the scope's size: the
catalogue, the page's ids with the counts, and the page judged in detail (5; 6 when a step
of the page's roles asks for the squads).
"""

import datetime
import string
from collections.abc import Iterator
from functools import cached_property

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from metrics import readiness
from metrics.models import PerformanceObservation
from roles.models import PromotionPath, Role
from staffing.models import Assignment, CriterionSignoff, Person, Position
from tiers.models import Squad, Tier

# the verdict's rank in the list: readiness.STATUS_ORDER, and people with no step last
NO_STEP = 3
STATUS_RANK = {**readiness.STATUS_ORDER}
SORTS = ("status", "name", "role", "months", "csat")
CHUNK = 500  # people judged at a time when the whole list is read (the CSV)
LATER = 10**9  # the "ready on" of those without a date, in the status sort: last
BEYOND = 10**12  # an offset past any list (a larger page number reads an empty page)


def _dialect() -> dict:
    """What PostgreSQL and SQLite spell differently: a date parameter, the smaller and
    larger of two values, days between two dates, a CSAT value in hundredths (SQLite keeps
    decimals as floating point), text compared by code point (as Python compares) and the
    scope inlined in each part that reads it (SQLite before 3.35 has no such hint)."""
    if connection.vendor == "postgresql":
        return {
            "day": lambda day: ("CAST(%s AS date)", [day]),
            "least": "LEAST",
            "greatest": "GREATEST",
            "days_e_s": "(e - s)",
            "past_reach": "s > reach + 1",
            "hundredths": "CAST(o.value * 100 AS BIGINT)",
            "text": ' COLLATE "C"',
            # the scope's positions read where each part needs them, by their indexes:
            # materialized, they took twice the time at 100,000 (1.3 s of CPU against 3.5 s)
            "inline": "NOT MATERIALIZED",
            # the people whose step asks for the squads are few: read their assignments by
            # the person index rather than joining every assignment to the scope
            "once": "MATERIALIZED",
        }
    return {
        "day": lambda day: ("%s", [day.isoformat()]),
        "least": "MIN",
        "greatest": "MAX",
        "days_e_s": "CAST(julianday(e) - julianday(s) AS INTEGER)",
        "past_reach": "s > date(reach, '+1 day')",
        "hundredths": "CAST(ROUND(o.value * 100) AS BIGINT)",
        "text": "",
        "inline": "",
        "once": "",
    }


def _compose(template: str, **parts) -> tuple[str, list]:
    """``template`` with each ``{name}`` replaced by ``parts[name]``: text, or a (text,
    parameters) pair whose parameters take their place in the order the text is read."""
    sql, params = [], []
    for literal, name, _, _ in string.Formatter().parse(template):
        sql.append(literal)
        if name is not None:
            part = parts[name]
            text, more = (part, []) if isinstance(part, str) else part
            sql.append(text)
            params += more
    return "".join(sql), params


def _values(columns: list[tuple[str, str]], rows: list[tuple]) -> tuple[str, list]:
    """A table of literal rows for a WITH clause (typed, and empty when there are none)."""
    row = "(" + ", ".join(f"CAST(%s AS {kind})" for _, kind in columns) + ")"
    if not rows:
        return "SELECT " + ", ".join(f"CAST(NULL AS {kind})" for _, kind in columns) + (
            " WHERE 1 = 0"
        ), []
    return "VALUES " + ", ".join([row] * len(rows)), [value for r in rows for value in r]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# One statement: ``verdicts`` holds, for each filled position of the scope, the holder's
# days in the role, CSAT in hundredths of a percent (rounded half to even, as Decimal's
# quantize does), and the nearest step's rank (0 ready, 1 ready on a date, 2 missing,
# 3 no path) with, for rank 1, the days until the date.
VERDICTS = """
scope AS {inline} ({scope}),
steps(path_id, from_role_id, needed, criteria, squad_days, tier_id) AS ({steps}),
items(path_id, criterion) AS ({items}),
roles(role_id, needed) AS ({roles}),
stints AS (
    SELECT a.person_id, a.start_date AS s,
           {least}(COALESCE(a.end_date, {as_of}), {as_of}) AS e
    FROM {assignment} a
    JOIN scope ON scope.holder_id = a.person_id AND scope.role_id = a.role_id
    WHERE a.start_date <= {as_of}
),
reached AS (  -- how far the stints before each one reached: the part already counted
    SELECT person_id, e, {greatest}(s, COALESCE(MAX(e) OVER (
        PARTITION BY person_id ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ), s)) AS s
    FROM stints
),
tenure AS (
    SELECT person_id, SUM(CASE WHEN e > s THEN {days_e_s} ELSE 0 END) AS days
    FROM reached GROUP BY person_id
),
surveys AS (
    SELECT o.person_id, {hundredths} AS hundredths,
           CASE WHEN o.sample_size IS NULL OR o.sample_size = 0 THEN 1
                ELSE o.sample_size END AS weight
    FROM {observation} o
    JOIN scope ON scope.holder_id = o.person_id
    WHERE o.metric = {csat} AND o.period_end > {since} AND o.period_end <= {as_of}
),
sums AS (
    SELECT person_id, CAST(SUM(hundredths * weight) AS BIGINT) AS total,
           CAST(SUM(weight) AS BIGINT) AS weight
    FROM surveys GROUP BY person_id
),
divided AS (
    SELECT person_id, weight AS w, total / weight AS q, total - (total / weight) * weight AS r
    FROM sums
),
csat AS (
    SELECT person_id, CASE
        WHEN 2 * r > w THEN q + 1
        WHEN 2 * r = w THEN q + ABS(q %% 2)
        WHEN 2 * r < -w THEN q - 1
        WHEN 2 * r = -w THEN q - ABS(q %% 2)
        ELSE q END AS hundredths
    FROM divided
),
judged AS (
    SELECT scope.*, COALESCE(tenure.days, 0) AS days, csat.hundredths AS csat,
           CASE WHEN role.csat_target IS NULL THEN 1
                WHEN csat.hundredths >= CAST(ROUND(role.csat_target * 100) AS BIGINT) THEN 1
                ELSE 0 END AS csat_met
    FROM scope
    JOIN {role} role ON role.id = scope.role_id
    LEFT JOIN tenure ON tenure.person_id = scope.holder_id
    LEFT JOIN csat ON csat.person_id = scope.holder_id
),
signed AS (  -- per person and step of their role, the step's criteria they have signed
    SELECT s.person_id, s.path_id, scope.role_id, COUNT(*) AS n
    FROM {signoff} s
    JOIN scope ON scope.holder_id = s.person_id
    JOIN items ON items.path_id = s.path_id AND items.criterion = s.criterion
    GROUP BY s.person_id, s.path_id, scope.role_id
),
-- Time in the squads, for those whose role has a step asking for the specialist squads: their
-- assignments read into runs as staffing.rotation.runs_of reads them. In its order (start,
-- the current one last, end; ties by id), a run goes on while the squad stays the same, the
-- row before has an end, and the row starts at most a day after the run's furthest end.
rotators AS {once} (  -- the few people whose role has such a step, found once
    SELECT holder_id FROM scope
    WHERE role_id IN (SELECT from_role_id FROM steps WHERE squad_days IS NOT NULL)
),
ordered AS (
    SELECT a.id, a.person_id, a.squad_id, a.start_date AS s, a.end_date AS e,
           ROW_NUMBER() OVER (PARTITION BY a.person_id ORDER BY a.start_date,
               CASE WHEN a.end_date IS NULL THEN 1 ELSE 0 END,
               COALESCE(a.end_date, a.start_date), a.id) AS n
    FROM rotators
    JOIN {assignment} a ON a.person_id = rotators.holder_id
),
marked AS (  -- whether the row's squad differs from the row before's; current rows before it
    SELECT ordered.*,
           CASE WHEN LAG(n) OVER mine IS NULL THEN 1
                WHEN LAG(squad_id) OVER mine = squad_id THEN 0
                WHEN LAG(squad_id) OVER mine IS NULL AND squad_id IS NULL THEN 0
                ELSE 1 END AS turn,
           COALESCE(SUM(CASE WHEN e IS NULL THEN 1 ELSE 0 END) OVER (
               mine ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS opened
    FROM ordered
    WINDOW mine AS (PARTITION BY person_id ORDER BY n)
),
blocks AS (  -- rows in one squad in a row, cut after a row without an end
    SELECT marked.*, SUM(turn) OVER (
        PARTITION BY person_id ORDER BY n ROWS UNBOUNDED PRECEDING) AS block
    FROM marked
),
reaches AS (  -- how far the rows before reached, in the same block and cut
    SELECT blocks.*, MAX(e) OVER (
        PARTITION BY person_id, block, opened ORDER BY n
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM blocks
),
starts AS (
    SELECT reaches.*, CASE WHEN reach IS NULL OR {past_reach} THEN 1 ELSE 0 END AS fresh
    FROM reaches
),
numbered AS (
    SELECT starts.*, SUM(fresh) OVER (
        PARTITION BY person_id ORDER BY n ROWS UNBOUNDED PRECEDING) AS run
    FROM starts
),
runs AS (  -- each run up to the day judged (one still going: to that day)
    SELECT person_id, squad_id, MIN(s) AS s,
           CASE WHEN COUNT(*) = COUNT(e) THEN {least}(MAX(e), {as_of}) ELSE {as_of} END AS e
    FROM numbered
    WHERE squad_id IS NOT NULL
    GROUP BY person_id, run, squad_id
),
served AS (  -- days in each squad, its runs added
    SELECT person_id, squad_id, SUM(CASE WHEN e > s THEN {days_e_s} ELSE 0 END) AS days
    FROM runs GROUP BY person_id, squad_id
),
specialists AS (SELECT id, tier_id FROM {squad} WHERE kind = {specialist}),
tier_squads AS (SELECT tier_id, COUNT(*) AS n FROM specialists GROUP BY tier_id),
squads_met AS (  -- per person and step asking for the squads: its tier's squads served enough
    SELECT served.person_id, steps.path_id, COUNT(*) AS n
    FROM served
    JOIN scope ON scope.holder_id = served.person_id
    JOIN steps ON steps.from_role_id = scope.role_id AND steps.squad_days IS NOT NULL
    JOIN specialists sq ON sq.id = served.squad_id AND sq.tier_id = steps.tier_id
    WHERE served.days >= steps.squad_days
    GROUP BY served.person_id, steps.path_id
),
rotated AS (  -- steps asking for the squads whose every squad and criterion the person has
    SELECT scope.holder_id AS person_id, steps.needed
    FROM scope
    JOIN steps ON steps.from_role_id = scope.role_id AND steps.squad_days IS NOT NULL
    LEFT JOIN signed ON signed.person_id = scope.holder_id AND signed.path_id = steps.path_id
    LEFT JOIN squads_met ON squads_met.person_id = scope.holder_id
                        AND squads_met.path_id = steps.path_id
    LEFT JOIN tier_squads ON tier_squads.tier_id = steps.tier_id
    WHERE COALESCE(signed.n, 0) >= steps.criteria
      AND COALESCE(squads_met.n, 0) >= COALESCE(tier_squads.n, 0)
),
unlocked AS (  -- per person, the fewest days asked by a step whose other prerequisites are met
    SELECT person_id, MIN(needed) AS needed FROM (
        SELECT signed.person_id, steps.needed
        FROM signed
        JOIN steps ON steps.path_id = signed.path_id AND steps.from_role_id = signed.role_id
        WHERE signed.n >= steps.criteria AND steps.squad_days IS NULL
        UNION ALL
        SELECT person_id, needed FROM rotated
    ) met
    GROUP BY person_id
),
nearest AS (  -- the fewest days asked by any step open to the person (LATER: none)
    SELECT judged.*, roles.role_id AS stepping, {least}(
        COALESCE(roles.needed, {later}), COALESCE(unlocked.needed, {later})
    ) AS needed
    FROM judged
    LEFT JOIN roles ON roles.role_id = judged.role_id
    LEFT JOIN unlocked ON unlocked.person_id = judged.holder_id
),
verdicts AS (
    SELECT nearest.*,
           CASE WHEN stepping IS NULL THEN 3
                WHEN csat_met = 0 OR needed = {later} THEN 2
                WHEN days >= needed THEN 0
                ELSE 1 END AS status,
           CASE WHEN stepping IS NOT NULL AND csat_met = 1 AND needed < {later}
                     AND days < needed THEN needed - days END AS short
    FROM nearest
)
"""

# each sort's keys, ascending (and whether they are text); "-key" turns every key round; the
# chart's order (readiness.TREE_ORDER) breaks ties, as the stable sort in Python did
ORDER = {
    "status": [("v.status", False), (f"COALESCE(v.short, {LATER})", False),
               ("LOWER(person.family_name)", True)],
    "name": [("LOWER(person.family_name)", True), ("LOWER(person.given_name)", True)],
    "role": [("tier.rank", False), ("role.level", False), ("role.name", True)],
    "months": [("0 - v.days", False)],
    "csat": [("CASE WHEN v.csat IS NULL THEN 1 ELSE 0 END", False),
             ("0 - COALESCE(v.csat, 0)", False)],
}  # fmt: skip


def _steps() -> tuple[list[tuple], list[tuple], list[tuple]]:
    """The catalogue's steps as the list reads them, parsed by :mod:`metrics.readiness`'s
    rules: (path, from role, days needed, number of criteria, days in each specialist squad
    or None, the from role's tier), (path, criterion), and per role with a step (role, the
    fewest days asked by a step that asks for nothing else, or None)."""
    steps, items, roles = [], [], {}
    for path in (
        PromotionPath.objects.filter(to_role__is_active=True)
        .select_related("from_role")
        .only("pk", "min_months", "criteria", "squad_months", "from_role__tier_id")
    ):
        criteria = sorted(set(path.criteria_items))
        needed = readiness.needed_days(path) or 0  # no minimum: met from the first day
        squads = readiness.squad_days(path)
        steps.append(
            (path.pk, path.from_role_id, needed, len(criteria), squads, path.from_role.tier_id)
        )
        items += [(path.pk, criterion) for criterion in criteria]
        free = roles.get(path.from_role_id)
        if not criteria and squads is None:
            free = needed if free is None else min(free, needed)
        roles[path.from_role_id] = free
    return steps, items, sorted(roles.items())


class ReadinessList:
    """Everyone holding one of ``positions`` with their readiness, sorted by ``sort`` (one of
    SORTS, ``-`` in front to reverse it) and kept to those whose nearest step has
    ``status`` if given: a sequence that Django's and DRF's paginators slice, judging
    only the slice. ``counts`` gives the number of people of each status."""

    def __init__(
        self,
        positions: QuerySet,
        *,
        as_of: datetime.date | None = None,
        status: str = "",
        sort: str = "status",
    ):
        if status and status not in readiness.STATUS_LABELS:
            raise ValueError(f"Unknown status {status!r}.")
        self.positions = positions
        self.as_of = as_of or timezone.localdate()
        self.status = status
        self.sort = sort if sort.lstrip("-") in SORTS else "status"

    # --- the statement ---------------------------------------------------------------------

    @cached_property
    def _with(self) -> tuple[str, list]:
        """The WITH clause of every query of this list (it ends with ``verdicts``), and its
        parameters. Reads the catalogue's steps (one query)."""
        dialect = _dialect()
        day = dialect.pop("day")
        scope = (
            self.positions.filter(holder__isnull=False)
            .order_by()
            .values("id", "holder_id", "role_id", *readiness.TREE_ORDER)
            .query.sql_with_params()
        )
        steps, items, roles = _steps()
        columns = [("path_id", "INTEGER"), ("from_role_id", "INTEGER"), ("needed", "INTEGER"),
                   ("criteria", "INTEGER"), ("squad_days", "INTEGER"),
                   ("tier_id", "INTEGER")]  # fmt: skip
        since = self.as_of - datetime.timedelta(days=readiness.CSAT_WINDOW_DAYS)
        sql, params = _compose(
            VERDICTS,
            scope=scope,
            steps=_values(columns, steps),
            items=_values([("path_id", "INTEGER"), ("criterion", "TEXT")], items),
            roles=_values([("role_id", "INTEGER"), ("needed", "INTEGER")], roles),
            later=str(LATER),
            as_of=day(self.as_of),
            since=day(since),
            csat=("%s", [PerformanceObservation.Metric.CSAT.value]),
            specialist=("%s", [Squad.Kind.SPECIALIST.value]),
            squad=_table(Squad),
            assignment=_table(Assignment),
            observation=_table(PerformanceObservation),
            signoff=_table(CriterionSignoff),
            role=_table(Role),
            **dialect,
        )
        return "WITH " + sql, params

    def _query(self, select: str, params: list | None = None) -> list[tuple]:
        sql, with_params = self._with
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} {select}", [*with_params, *(params or [])])
            return cursor.fetchall()

    def _order(self) -> tuple[str, list[tuple[str, str]], str, list]:
        """How the list reads ``verdicts v``: the joins, the sort keys (each an expression
        and what follows it in an ORDER BY: its collation and direction), the WHERE and its
        parameters."""
        text = _dialect()["text"]
        key = self.sort.lstrip("-")
        direction = " DESC" if self.sort.startswith("-") else ""
        keys = []
        for expression, is_text in ORDER[key]:
            collate = text if is_text else ""
            keys.append((f"{expression}{collate}", f"{collate}{direction}"))
        keys += [(f"v.{field}", "") for field in readiness.TREE_ORDER]
        joins = f"JOIN {_table(Person)} person ON person.id = v.holder_id"
        if key == "role":
            joins += (
                f" JOIN {_table(Role)} role ON role.id = v.role_id"
                f" JOIN {_table(Tier)} tier ON tier.id = role.tier_id"
            )
        if self.status:
            return joins, keys, "WHERE v.status = %s", [STATUS_RANK[self.status]]
        return joins, keys, "", []

    def _ordered(self) -> list[int]:
        """Position ids of the whole list in its order."""
        joins, keys, where, params = self._order()
        order = ", ".join(f"{expression}{after}" for expression, after in keys)
        rows = self._query(f"SELECT v.id FROM verdicts v {joins} {where} ORDER BY {order}", params)
        return [row[0] for row in rows]

    def _set_counts(self, found: dict[int, int]) -> None:
        counts = {code: found.get(rank, 0) for code, rank in STATUS_RANK.items()}
        counts["total"] = sum(found.values())
        self.__dict__["counts"] = counts

    # --- what the pages read ---------------------------------------------------------------

    @cached_property
    def counts(self) -> dict[str, int]:
        """People of each status in the whole scope (every filter but ``status``), and
        ``total``: everyone, with those at the top of their ladder."""
        self._set_counts(dict(self._query("SELECT status, COUNT(*) FROM verdicts GROUP BY status")))
        return self.__dict__["counts"]

    def count(self) -> int:
        return self.counts[self.status] if self.status else self.counts["total"]

    def __len__(self) -> int:
        return self.count()

    def page(self, offset: int, limit: int) -> list[readiness.PersonReadiness]:
        """``limit`` people from ``offset``, judged, and the counts, from one evaluation of
        the verdicts (a second statement would compute them all again)."""
        joins, keys, where, params = self._order()
        columns = ", ".join(f"{expression} AS k{n}" for n, (expression, _) in enumerate(keys))
        inner = ", ".join(f"{expression}{after}" for expression, after in keys)
        outer = ", ".join(f"k{n}{after}" for n, (_, after) in enumerate(keys))
        rows = self._query(
            f"""SELECT 0, status, COUNT(*) FROM verdicts GROUP BY status
            UNION ALL
            SELECT 1, id, ROW_NUMBER() OVER (ORDER BY {outer}) FROM (
                SELECT v.id, {columns} FROM verdicts v {joins} {where}
                ORDER BY {inner} LIMIT %s OFFSET %s
            ) page""",
            [*params, min(limit, BEYOND), min(offset, BEYOND)],
        )
        self._set_counts({status: n for kind, status, n in rows if kind == 0})
        ids = [pk for _, pk, _ in sorted((row for row in rows if row[0] == 1), key=lambda r: r[2])]
        return self._judge(ids)

    def _judge(self, ids: list[int]) -> list[readiness.PersonReadiness]:
        if not ids:
            return []
        judged = readiness.readiness(Position.objects.filter(pk__in=ids), as_of=self.as_of)
        place = {pk: n for n, pk in enumerate(ids)}
        return sorted(judged, key=lambda r: place[r.position.pk])

    def __getitem__(self, index: slice) -> list[readiness.PersonReadiness]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("A readiness list is read a page (a slice) at a time.")
        start, stop = index.start or 0, index.stop
        if start < 0 or stop is None or stop < 0:
            raise IndexError("A readiness list is sliced from the front, to an end.")
        return self.page(start, stop - start) if stop > start else []

    def __iter__(self) -> Iterator[readiness.PersonReadiness]:
        """Everyone, in order, judged CHUNK people at a time (five queries a chunk)."""
        ids = self._ordered()
        for at in range(0, len(ids), CHUNK):
            yield from self._judge(ids[at : at + CHUNK])


class ReadinessPaginator(Paginator):
    """Django's paginator over a :class:`ReadinessList` that reads a page and the counts in
    one statement: the page's number is checked against the count once the page is read
    (then an EmptyPage as Django's, and ``get_page`` reads the last page)."""

    def validate_number(self, number) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        number = self.validate_number(number)
        items = self.object_list.page((number - 1) * self.per_page, self.per_page)
        if number > self.num_pages:
            raise EmptyPage(self.error_messages["no_results"])
        return self._get_page(items, number, self)

    def get_page(self, number):
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(self.num_pages)
