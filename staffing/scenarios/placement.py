"""Where a draft's new positions go: under a manager whose team already does that work.

A capacity plan asks for people per role; turning it into a draft has to decide, for each new
position, whose team it joins. The rules come from the catalogue, not from this module:

* **Whose team does the work.** A role's *work* is its tier (Tier 1, 2, 3, support
  operations); a manager does that work when some of its direct reports do (for a new
  agent) or someone in its team does (for a new leader), or when it is a team drafted for
  that work. A new Tier 2 engineer never lands in a Tier 1 team.
* **Allowed and with room.** The manager's role must allow the new role as a direct report
  (:meth:`roles.models.Role.allows_report`, the span engine's own test) and have fewer
  direct reports than its span rule's maximum, and fewer of the new one's kind than the
  rule's limit for that kind of report (no more than 3 team leads under an Advocate
  Manager). Among those, the lowest rung of the ladder (a team lead before a manager),
  then the team with the fewest reports.
* **A new team where none has room.** The team is led by the role that leads that work
  today (architects report to an Advocate Manager, advocates to a Team Lead; the lowest
  role allowed when no one does yet), and the new leader is placed by the same rules, so
  a manager is drafted above it when no manager of that work has room. Division heads
  (directors and above) are never drafted: the chain stops at an existing one.
* **Never against the rules.** A position with no allowed place is left out and said so;
  no placement makes a "report not allowed" finding.

New agents of a tier that has an entry squad start in it (engineers join Tier 2 through the
general squad), and new positions take their manager's location.

Everything is decided in memory over the draft's rows (one query for them, a few for the
catalogue), then written: a leader as it is drafted (its team needs its id), the rest in
one bulk insert.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from roles.models import Role
from roles.selectors import with_report_rules
from staffing.models import Position, Scenario, ScenarioPosition
from tiers.models import Squad


def work_of(role: Role) -> str | None:
    """The work a position of ``role`` does: its tier's code, or None for management, which
    leads the work of its team rather than doing one of its own."""
    if role.track == Role.Track.MANAGEMENT:
        return None
    return role.tier.code if role.tier_id else None


@dataclass
class Placed:
    """One new position and where it went."""

    row: ScenarioPosition
    parent: ScenarioPosition
    new_team: bool  # its manager was drafted for it (or above it)


@dataclass
class Report:
    """What a placement did, for the draft's notes."""

    placed: list[Placed] = field(default_factory=list)
    left_out: Counter = field(default_factory=Counter)  # role name → positions with no place
    leaders: list[Placed] = field(default_factory=list)  # leaders drafted for new teams
    drafted: set = field(default_factory=set)  # ids of every new leader (asked for or needed)

    def lines(self, tier_names: dict[str, str]) -> list[str]:
        """One sentence per tier: "Tier 2: 8 new Technical Support Engineers, 5 into 3
        teams (…), 3 in 1 new team under Senior Advocate Manager, Technical Support"."""
        by_work: dict[str | None, list[Placed]] = defaultdict(list)
        for placed in self.placed:
            by_work[work_of(placed.row.role)].append(placed)
        out = []
        for work, rows in sorted(by_work.items(), key=lambda item: str(item[0])):
            roles = Counter(p.row.role.name for p in rows)
            what = ", ".join(f"{n} new {_plural(name, n)}" for name, n in sorted(roles.items()))
            existing = [p for p in rows if not p.new_team]
            fresh = [p for p in rows if p.new_team]
            parts = []
            if existing:
                teams = Counter(p.parent.title for p in existing)
                shown = ", ".join(f"{title} ×{n}" for title, n in teams.most_common(3))
                more = f" and {len(teams) - 3} more" if len(teams) > 3 else ""
                parts.append(
                    f"{len(existing)} into {len(teams)} existing team"
                    f"{'s' if len(teams) != 1 else ''} ({shown}{more})"
                )
            if fresh:
                leads = {p.parent.pk: p.parent for p in fresh}
                above = Counter(_top_of_new(lead, self).title for lead in leads.values())
                if len(above) == 1:
                    where = f"under {next(iter(above))}"
                else:
                    shown = ", ".join(f"{title} ×{n}" for title, n in above.most_common(3))
                    more = f" and {len(above) - 3} more" if len(above) > 3 else ""
                    where = f"(under {shown}{more})"
                parts.append(
                    f"{len(fresh)} in {len(leads)} new team{'s' if len(leads) != 1 else ''} {where}"
                )
            label = tier_names.get(work, "Management") if work else "Management"
            out.append(f"{label}: {what}; " + "; ".join(parts) + ".")
        drafted = Counter(p.row.role.name for p in self.leaders)
        if drafted:
            out.append(
                "New leaders: "
                + ", ".join(f"{n} new {_plural(name, n)}" for name, n in sorted(drafted.items()))
                + "."
            )
        for name, n in sorted(self.left_out.items()):
            out.append(
                f"{n} new {_plural(name, n)} left out: no manager in this part may lead "
                f"{'them' if n != 1 else 'one'} under the span rules."
            )
        return out


def _plural(name: str, n: int) -> str:
    return name if n == 1 else f"{name}s"


def _top_of_new(lead: ScenarioPosition, report: Report) -> ScenarioPosition:
    """The existing manager a chain of new leaders hangs from."""
    while lead.pk in report.drafted and lead.parent is not None:
        lead = lead.parent
    return lead


class Placement:
    """The draft's rows and what placing needs to know of them, kept up to date as new rows
    are added (see the module's docstring for the rules)."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.roles = {
            r.pk: r
            for r in with_report_rules(Role.objects.select_related("tier")).prefetch_related(
                "span_rule__limits__roles"
            )
        }
        rows = list(scenario.positions.filter(removed=False))
        self.rows = {row.pk: row for row in rows}
        for row in rows:
            row.role = self.roles[row.role_id]
        # a manager role → the most of each kind of report: (the kind's roles, at most)
        self.kind_limits = {
            pk: [
                (frozenset(r.pk for r in limit.roles.all()), limit.max_count)
                for limit in role.span_rule.limits.all()
                if limit.max_count is not None
            ]
            for pk, role in self.roles.items()
            if role.is_manager
        }
        self.kids: Counter = Counter(row.parent_id for row in rows if row.parent_id)
        self.kid_roles: dict[int, Counter] = defaultdict(Counter)  # pk → its reports' roles
        for row in rows:
            if row.parent_id:
                self.kid_roles[row.parent_id][row.role_id] += 1
        self.team: Counter = Counter()  # pk → everyone below it
        self.direct: dict[int, Counter] = defaultdict(Counter)  # pk → work of its reports
        self.below: dict[int, Counter] = defaultdict(Counter)  # pk → work of its whole team
        self.by_role: dict[int, list[ScenarioPosition]] = defaultdict(list)
        for row in rows:
            self._count(row, self.rows.get(row.parent_id))
            self.by_role[row.role_id].append(row)
        self.made: Counter = Counter()  # new leaders per role, for their titles
        self.teams_for: dict[int, str] = {}  # a new leader → the work it was drafted for
        self.report = Report()
        self.entry = {
            squad.tier.code: squad
            for squad in Squad.objects.select_related("tier").filter(kind=Squad.Kind.ENTRY)
        }
        # who leads each role today: the role of most of its positions' managers
        leads: dict[int, Counter] = defaultdict(Counter)
        for row in rows:
            if row.parent_id in self.rows:
                leads[row.role_id][self.rows[row.parent_id].role_id] += 1
        self.led_by = {role: counts.most_common(1)[0][0] for role, counts in leads.items()}
        self.pending: list[ScenarioPosition] = []  # new non-leaders, written in bulk

    def _count(self, row: ScenarioPosition, parent: ScenarioPosition | None) -> None:
        """Count ``row`` in its managers' teams (and their work)."""
        if parent is None:
            return
        work = work_of(row.role)
        if work is not None:
            self.direct[parent.pk][work] += 1
        up = parent
        while up is not None:
            self.team[up.pk] += 1
            if work is not None:
                self.below[up.pk][work] += 1
            up = self.rows.get(up.parent_id)

    # --- choosing -------------------------------------------------------------------------

    def _room(self, row: ScenarioPosition, role: Role, *, need: int = 1) -> bool:
        """Whether ``row`` may take one more direct report of ``role`` (within its rule's
        limits on all direct reports and on that kind of report), and it and every manager
        above it ``need`` more people in their whole team, within their span rules."""
        rule = getattr(row.role, "span_rule", None)
        most = rule.max_direct if rule is not None else None
        if most is not None and self.kids[row.pk] >= most:
            return False
        for kind, most_of_kind in self.kind_limits.get(row.role_id, ()):
            if role.pk in kind:
                have = sum(n for pk, n in self.kid_roles[row.pk].items() if pk in kind)
                if have >= most_of_kind:
                    return False
        up = row
        while up is not None:
            rule = getattr(up.role, "span_rule", None)
            largest = rule.max_team if rule is not None else None
            if largest is not None and self.team[up.pk] + need > largest:
                return False
            up = self.rows.get(up.parent_id)
        return True

    def _parents(self, role: Role) -> list[Role]:
        """The roles a position of ``role`` may report to, lowest rung first."""
        allowed = [m for m in self.roles.values() if m.is_active and m.allows_report(role)]
        return sorted(allowed, key=lambda m: (m.level, m.track != role.track, m.pk))

    def best_parent(self, role: Role, work: str, *, leader: bool) -> ScenarioPosition | None:
        """The manager a new ``role`` position doing ``work`` joins: allowed, with room, and
        doing that work (its reports for a new agent, its team for a new leader)."""
        counts = self.below if leader else self.direct
        best, best_key = None, None
        for rank, manager in enumerate(self._parents(role)):
            for row in self.by_role.get(manager.pk, ()):
                if not counts[row.pk][work] and self.teams_for.get(row.pk) != work:
                    continue
                key = (rank, self.kids[row.pk], row.pk)
                if best_key is not None and key >= best_key:
                    continue
                # a new leader needs room for itself and a report of its own
                if self._room(row, role, need=2 if leader else 1):
                    best, best_key = row, key
        return best

    def lead_role_for(self, role: Role) -> Role | None:
        """The role that leads a new team of ``role``: the one that leads most of its
        positions today, else the lowest rung allowed to; None when only a division head
        may (a division head is never drafted)."""
        today = self.led_by.get(role.pk)
        if today is not None:
            leader = self.roles[today]
            if leader.is_active and leader.allows_report(role):
                return None if leader.heads_division else leader
        choices = [m for m in self._parents(role) if not m.heads_division]
        return choices[0] if choices else None

    def reach(self, role: Role) -> set[str]:
        """The work a position of ``role`` can lead, directly or through the leaders below
        it that it may have."""
        seen, works, todo = {role.pk}, set(), [role]
        while todo:
            manager = todo.pop()
            for other in self.roles.values():
                if other.pk in seen or not manager.allows_report(other):
                    continue
                seen.add(other.pk)
                work = work_of(other)
                if work is not None:
                    works.add(work)
                if other.may_have_reports:
                    todo.append(other)
        return works

    # --- placing --------------------------------------------------------------------------

    def place(self, role: Role, *, title: str | None = None) -> ScenarioPosition | None:
        """Add one new ``role`` position where the rules put it; None (and noted) when no
        place in the draft may take it."""
        work = work_of(role)
        parent = self.best_parent(role, work, leader=False) if work else None
        new_team = False
        if parent is None and work:
            parent = self._new_team(role, work, depth=0)
            new_team = parent is not None
        if parent is None:
            self.report.left_out[role.name] += 1
            return None
        squad_id = self.entry[work].pk if work in self.entry else parent.squad_id
        row = ScenarioPosition(
            scenario=self.scenario, parent=parent, title=title or role.name, role=role,
            squad_id=squad_id, location_id=parent.location_id, status=Position.Status.OPEN,
        )  # fmt: skip
        self.pending.append(row)
        self._add(row, parent)
        self.report.placed.append(Placed(row, parent, new_team or parent.pk in self.teams_for))
        return row

    def add_leader(self, role: Role, work: str) -> ScenarioPosition | None:
        """A new leader of ``role`` for a team doing ``work`` (a plan that asks for more
        leaders than the new people need): placed as a leader is, written at once."""
        parent = self.best_parent(role, work, leader=True) or self._new_team(role, work, depth=1)
        if parent is None and self.lead_role_for(role) is None:
            parent = self._any_division_head(role, work)
        if parent is None:
            self.report.left_out[role.name] += 1
            return None
        lead = self._leader(role, work, parent)
        self.report.leaders.append(Placed(lead, parent, True))
        return lead

    def _new_team(self, role: Role, work: str, *, depth: int) -> ScenarioPosition | None:
        """A new manager for ``role`` positions doing ``work``, and above it whatever the
        rules need (at most a few rungs; never a division head)."""
        lead_role = self.lead_role_for(role)
        if lead_role is None or depth > 4:
            return None
        parent = self.best_parent(lead_role, work, leader=True)
        if parent is None:
            if self.lead_role_for(lead_role) is None:  # only a division head leads it
                parent = self._any_division_head(lead_role, work)
            else:
                parent = self._new_team(lead_role, work, depth=depth + 1)
        if parent is None:
            return None
        lead = self._leader(lead_role, work, parent)
        self.report.leaders.append(Placed(lead, parent, True))
        return lead

    def _any_division_head(self, role: Role, work: str) -> ScenarioPosition | None:
        """The division head (no limit of direct reports) whose part does the most of
        ``work`` and may lead ``role``."""
        heads = [
            row for row in self.rows.values()
            if row.role.allows_report(role) and self._room(row, role, need=2)
        ]  # fmt: skip
        heads.sort(key=lambda row: (-self.below[row.pk][work], row.role.level, row.pk))
        return heads[0] if heads and self.below[heads[0].pk][work] else None

    def _leader(self, role: Role, work: str, parent: ScenarioPosition) -> ScenarioPosition:
        """A new leader of ``role`` under ``parent`` for a team doing ``work``, written at
        once (its team needs its id), titled apart from the others ("Team Lead (new 2)")."""
        self.made[role.pk] += 1
        entry = self.entry.get(work)
        lead = ScenarioPosition.objects.create(
            scenario=self.scenario, parent=parent, title=f"{role.name} (new {self.made[role.pk]})",
            role=role, squad_id=entry.pk if entry else None,
            location_id=parent.location_id, status=Position.Status.OPEN,
        )  # fmt: skip
        lead.role = role
        self.rows[lead.pk] = lead
        self.teams_for[lead.pk] = work
        self.report.drafted.add(lead.pk)
        self.by_role[role.pk].append(lead)
        self._add(lead, parent)
        return lead

    def _add(self, row: ScenarioPosition, parent: ScenarioPosition) -> None:
        self.kids[parent.pk] += 1
        self.kid_roles[parent.pk][row.role_id] += 1
        self._count(row, parent)

    def write(self) -> None:
        """Insert the new positions that lead no one (one query)."""
        ScenarioPosition.objects.bulk_create(self.pending, batch_size=1000)
        self.pending = []
