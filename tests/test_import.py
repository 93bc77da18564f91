"""Importing an organization from CSV (staffing.interchange): every bad file is refused with its
problems by row and column and nothing written; a good one is imported whole, with history,
assignments and a consistent tree; the chart's export round-trips; the page, the command and
the Celery job share the one service."""

import csv
import datetime
import io
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection

from demo import organizations
from staffing.interchange import checks, columns, csvfile, jobs, write
from staffing.models import Assignment, ImportJob, Location, PendingSpanCheck, Person, Position
from staffing.tree import tree_check
from tests.conftest import scaled
from tests.factories import LocationFactory, Org, PersonFactory, UserFactory, session_client

pytestmark = pytest.mark.django_db

COLUMNS = list(columns.POSITION_COLUMNS)


def csv_text(rows: list[dict], columns: list[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def base_rows() -> list[dict]:
    """A new team of four, on rows 2–5: a head, a manager, a lead and an open agent."""
    return [
        {"position_id": "HR-1", "title": "Head of Support", "role": "director",
         "manager_id": "", "location": "", "employee_id": "N-1", "given_name": "Ada",
         "family_name": "Byron", "email": "ada@example.com", "hire_date": "2019-03-01",
         "start_date": "2024-01-08"},
        {"position_id": "HR-2", "title": "Support Manager", "role": "Advocate Manager",
         "manager_id": "HR-1", "employee_id": "N-2", "given_name": "Grace",
         "family_name": "Hopper", "hire_date": "2020-05-01"},
        {"position_id": "HR-3", "title": "Team Lead", "role": "team-lead",
         "manager_id": "HR-2", "employee_id": "N-3", "given_name": "Alan",
         "family_name": "Turing"},
        {"position_id": "HR-4", "title": "Advocate", "role": "advocate", "status": "open",
         "manager_id": "HR-3"},
    ]  # fmt: skip


def counts() -> tuple:
    """Everything an import may write."""
    return (
        Position.objects.count(),
        Person.objects.count(),
        Location.objects.count(),
        Assignment.objects.count(),
        Position.history.count(),
        Assignment.history.count(),
        PendingSpanCheck.objects.count(),
        sorted(Position.objects.values_list("pk", "parent_id", "title", "holder_id", "status")),
    )


def admin_user():
    return UserFactory(is_superuser=True, is_staff=True)


def run(text: str, *, dry_run: bool = False, actor=None) -> checks.ImportResult:
    return write.import_run(actor=actor, text=text, dry_run=dry_run)


def export_text(client) -> str:
    response = client.get("/chart/export.csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def tree_shape() -> list[tuple]:
    """The organization without database ids: each position by the titles above it."""
    positions = {p.pk: p for p in Position.objects.select_related("role", "holder", "location")}

    def path(p):
        names = []
        while p is not None:
            names.append(p.title)
            p = positions.get(p.parent_id)
        return " / ".join(reversed(names))

    return sorted(
        (
            path(p),
            p.role.code,
            p.status,
            p.holder.employee_id if p.holder else "",
            p.location.code if p.location else "",
            p.squad_id or 0,
        )
        for p in positions.values()
    )


# --- a good file ----------------------------------------------------------------------------


def test_a_new_team_is_imported_whole_with_holders_assignments_and_history(api_org: Org):
    admin = admin_user()
    before = Position.objects.count()
    result = run(csv_text(base_rows()), actor=admin)
    assert result.ok and result.applied, result.problems
    assert result.counts["positions_created"] == 4 and result.counts["people_created"] == 3
    assert result.counts["positions_not_in_file"] == before
    head = Position.objects.get(external_id="HR-1")
    manager, lead, agent = (Position.objects.get(external_id=f"HR-{n}") for n in (2, 3, 4))
    assert head.parent is None and manager.parent == head and lead.parent == manager
    assert agent.parent == lead and agent.status == "open" and agent.holder is None
    assert lead.status == "filled" and lead.holder.employee_id == "N-3"
    assert manager.role.code == "advocate-manager"
    assigned = Assignment.objects.get(person__employee_id="N-1", end_date__isnull=True)
    assert assigned.position == head and assigned.start_date == datetime.date(2024, 1, 8)
    assert Person.objects.get(employee_id="N-1").email == "ada@example.com"
    assert tree_check().ok
    history = Position.history.filter(history_change_reason="org_import")
    assert history.count() == 4
    assert {h.history_user for h in history} == {admin}
    assert history.get(external_id="HR-2").parent_id == head.pk  # final parents recorded
    assert Assignment.history.filter(history_change_reason="org_import").count() == 3
    assert PendingSpanCheck.objects.filter(position_id=agent.pk).exists()


def test_a_second_import_changes_moves_and_refills_and_a_repeat_changes_nothing(api_org: Org):
    run(csv_text(base_rows()))
    rows = base_rows()
    rows[3].update(status="", employee_id="N-9", given_name="Kay", family_name="Jones")
    rows[2].update(title="Senior Team Lead", manager_id="HR-1")  # the lead moves up
    rows[1].update(employee_id="", status="open")  # the manager leaves
    lead_a = api_org.positions["lead_a"]
    rows.append({"position_id": f"#{lead_a.pk}", "title": "Lead A", "role": "team-lead",
                 "manager_id": "HR-2", "employee_id": lead_a.holder.employee_id})  # fmt: skip
    text = csv_text(rows)
    checked = run(text, dry_run=True)
    assert checked.ok and not checked.applied
    assert checked.summary()["positions_moved"] == 2
    result = run(text)
    assert result.ok, result.problems
    summary = result.summary()
    assert summary["positions_moved"] == 2 and summary["positions_vacated"] == 1
    assert summary["holders_placed"] == 1 and summary["positions_updated"] >= 2
    lead = Position.objects.get(external_id="HR-3")
    assert lead.title == "Senior Team Lead" and lead.parent.external_id == "HR-1"
    manager = Position.objects.get(external_id="HR-2")
    assert manager.holder is None and manager.status == "open"
    ended = Assignment.objects.get(person__employee_id="N-2")
    assert ended.end_date is not None
    assert Position.objects.get(pk=lead_a.pk).parent == manager  # with its team
    assert tree_check().ok
    again = run(text, dry_run=True)
    assert again.ok and again.summary() == {
        "locations_created": 0,
        "people_created": 0,
        "positions_created": 0,
        "unchanged": 5,
        "positions_not_in_file": Position.objects.count() - 5,
    }


def test_a_person_moved_by_the_file_leaves_their_old_position_vacant(api_org: Org):
    mine = api_org.mine
    person = mine.holder
    rows = base_rows()
    rows[3].update(status="", employee_id=person.employee_id, start_date="2026-02-02")
    result = run(csv_text(rows))
    assert result.ok, result.problems
    mine.refresh_from_db()
    assert mine.holder is None and mine.status == "open"
    assert Position.objects.get(external_id="HR-4").holder == person
    old = Assignment.objects.get(person=person, position=mine)
    assert old.end_date == datetime.date(2026, 2, 2)
    assert Assignment.objects.get(person=person, end_date__isnull=True).start_date == (
        datetime.date(2026, 2, 2)
    )


def test_a_utf8_bom_and_formula_quotes_from_the_export_are_understood(framework):
    rows = base_rows()
    rows[0]["title"] = "'=Head"
    result = run("\ufeff" + csv_text(rows))
    assert result.ok, result.problems
    assert Position.objects.get(external_id="HR-1").title == "=Head"


def test_locations_and_people_files(framework):
    locations = "code,name,city,country,timezone\nlis,Lisbon,Lisbon,pt,Europe/Lisbon\n"
    assert run(locations).ok
    assert Location.objects.get(code="lis").country == "PT"
    people = "employee_id,given_name,family_name,email,location,hire_date\n"
    people += "Q-1,Rosa,Parks,rosa@example.com,Lisbon,2021-04-05\n"
    result = run(people)
    assert result.ok and result.counts["people_created"] == 1
    assert Person.objects.get(employee_id="Q-1").location.code == "lis"
    changed = run("employee_id,family_name\nQ-1,Parks-Smith\n")
    assert changed.counts["people_updated"] == 1
    assert Person.objects.get(employee_id="Q-1").email == "rosa@example.com"  # column left out
    bad = run("code,name,city,country,timezone\nlis,Lisboa,Lisbon,Portugal,Mars/Base\n")
    assert {(p.row, p.column) for p in bad.problems} == {(2, "country"), (2, "timezone")}


# --- bad files: every problem by row and column, nothing written ----------------------------


def edit(**changes):
    """A case: the base file with cells of rows changed ({row number: {column: value}})."""

    def make(org):
        rows = base_rows()
        for number, cells in changes.items():
            rows[int(number.removeprefix("r")) - 2].update(
                {k: v.format(**org) if isinstance(v, str) else v for k, v in cells.items()}
            )
        return csv_text(rows)

    return make


def raw(make_text):
    return lambda org: make_text(org)


def _cut(org):
    text = csv_text(base_rows())
    return text[: text.index("HR-3") + 20]


def _loop_with_the_database(org):
    rows = base_rows()
    rows.append({"position_id": "#{director}".format(**org), "title": "Director",
                 "role": "director", "manager_id": "#{lead_a}".format(**org),
                 "employee_id": org["director_holder"]})  # fmt: skip
    return csv_text(rows)


def _duplicate_position(org):
    rows = base_rows()
    rows.append(dict(rows[1], employee_id=""))
    return csv_text(rows)


def _two_positions_one_person(org):
    rows = base_rows()
    rows[3].update(status="", employee_id="N-1")
    return csv_text(rows)


def _unknown_column(org):
    return csv_text([dict(r, salary="1") for r in base_rows()], [*COLUMNS, "salary"])


def _missing_column(org):
    columns = [c for c in COLUMNS if c != "role"]
    return csv_text([{k: v for k, v in r.items() if k != "role"} for r in base_rows()], columns)


BAD_FILES = {
    "unknown column": (_unknown_column, 1, "salary", "Unknown column"),
    "missing column": (_missing_column, 1, "role", "is missing"),
    "unknown role": (edit(r3={"role": "wizard"}), 3, "role", "Unknown role"),
    "unknown squad": (edit(r5={"squad": "nowhere"}), 5, "squad", "Unknown squad"),
    "squad of another tier": (edit(r5={"squad": "{tier2_squad}"}), 5, "squad", "cannot join"),
    "unknown location": (edit(r2={"location": "Atlantis"}), 2, "location", "Unknown location"),
    "manager not found": (edit(r4={"manager_id": "HR-99"}), 4, "manager_id", "No manager HR-99"),
    "a cycle across rows": (edit(r2={"manager_id": "HR-3"}), 3, "manager_id", "reporting loop"),
    "a position under its own team": (_loop_with_the_database, 6, "manager_id", "own team"),
    "duplicate position ids": (_duplicate_position, 6, "position_id", "also on row 3"),
    "one person in two positions": (_two_positions_one_person, 5, "employee_id", "one position"),
    "filled without a holder": (
        edit(r3={"status": "filled", "employee_id": ""}),
        3,
        "status",
        "needs a holder",
    ),
    "a holder in an open position": (edit(r3={"status": "open"}), 3, "status", "names a holder"),
    "unknown status": (edit(r5={"status": "maybe"}), 5, "status", "Unknown status"),
    "bad hire date": (edit(r2={"hire_date": "31/12/2019"}), 2, "hire_date", "YYYY-MM-DD"),
    "bad start date": (edit(r2={"start_date": "2024-02-30"}), 2, "start_date", "not a date"),
    "start before hire": (edit(r2={"start_date": "2018-01-01"}), 2, "start_date", "hire date"),
    "bad email": (edit(r2={"email": "ada at example"}), 2, "email", "not an email"),
    "email of someone else": (edit(r3={"email": "{taken_email}"}), 3, "email", "email address of"),
    "too long title": (edit(r4={"title": "x" * 121}), 4, "title", "Too long"),
    "too long employee id": (edit(r4={"employee_id": "E" * 41}), 4, "employee_id", "Too long"),
    "new person without a name": (edit(r4={"given_name": ""}), 4, "given_name", "needs a"),
    "inactive holder": (edit(r4={"employee_id": "{inactive}"}), 4, "employee_id", "inactive"),
    "reserved id": (edit(r5={"position_id": "#x1"}), 5, "position_id", "database ids"),
    "missing title": (edit(r5={"title": ""}), 5, "title", "required"),
    "file cut in half": (_cut, 4, "", "cut short"),
    "unterminated quote": (
        raw(lambda org: csv_text(base_rows()) + 'HR-5,"Open quote,advocate'),
        6,
        "",
        "quote",
    ),
    "no rows": (raw(lambda org: ",".join(COLUMNS) + "\n"), 2, "", "no rows"),
    "not an org file": (raw(lambda org: "name,salary\nAda,1\n"), 1, "", "does not say"),
}


@pytest.fixture
def bad_file_org(api_org: Org) -> dict:
    inactive = PersonFactory(is_active=False)
    taken = PersonFactory(email="taken@example.com")
    from tiers.models import Squad

    squad = Squad.objects.filter(tier__code__contains="2").first() or Squad.objects.first()
    return {
        "director": api_org.positions["director"].pk,
        "director_holder": api_org.positions["director"].holder.employee_id,
        "lead_a": api_org.positions["lead_a"].pk,
        "tier2_squad": squad.code,
        "taken_email": taken.email,
        "inactive": inactive.employee_id,
    }


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_with_the_problem_by_row_and_column_and_nothing_written(
    bad_file_org, case
):
    make, row, column, words = BAD_FILES[case]
    text = make(bad_file_org)
    before = counts()
    result = run(text, actor=admin_user())
    found = [(p.row, p.column, p.message) for p in result.problems]
    assert not result.applied
    assert any(r == row and c == column and words in m for r, c, m in found), found
    assert counts() == before


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf  \n", "empty"),
        ("position_id,title\nHR-1,Équipe\n".encode("latin-1"), "not UTF-8"),
        ("position_id,title\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04rest of a workbook", ".xlsx"),
        (b"position_id,title\x00\n", "binary"),
    ],
)
def test_a_file_that_is_not_utf8_text_is_refused_before_it_is_read(data, words):
    with pytest.raises(csvfile.ImportRefused) as refused:
        csvfile.decode(data)
    assert words in refused.value.problems[0].message


def test_a_latin1_file_names_the_row_of_the_bad_byte():
    data = "position_id,title\nHR-1,Team\nHR-2,Équipe\n".encode("latin-1")
    with pytest.raises(csvfile.ImportRefused) as refused:
        csvfile.decode(data)
    assert refused.value.problems[0].row == 3


@pytest.mark.parametrize(
    "name, size, content_type, words",
    [
        ("org.csv", 21 * 1024 * 1024, "text/csv", "largest file"),
        ("org.xlsx", 100, "application/vnd.openxmlformats", "not a CSV"),
        ("org.csv", 100, "image/png", "not a CSV"),
    ],
)
def test_uploads_are_limited_in_size_and_type(name, size, content_type, words, settings):
    settings.IMPORT_MAX_BYTES = 20 * 1024 * 1024
    problems = csvfile.check_upload(name=name, size=size, content_type=content_type)
    assert problems and words in problems[0].message
    assert not csvfile.check_upload(
        name="org.csv", size=100, content_type="application/vnd.ms-excel"
    )


def test_every_problem_of_a_file_is_listed_not_only_the_first(framework):
    rows = base_rows()
    rows[0]["role"] = "wizard"
    rows[2]["hire_date"] = "yesterday"
    rows[3]["manager_id"] = "HR-77"
    result = run(csv_text(rows))
    assert {(p.row, p.column) for p in result.problems} == {
        (2, "role"),
        (4, "hire_date"),
        (5, "manager_id"),
    }


# --- the export round-trips ---------------------------------------------------------------


def test_the_export_imports_back_into_the_same_database_as_a_no_op(api_org: Org):
    admin = session_client(admin_user())
    Position.objects.filter(pk=api_org.positions["manager_b"].pk).update(external_id="MB-1")
    text = export_text(admin)
    assert "MB-1" in text and f"#{api_org.positions['director'].pk}" in text
    before = counts()
    result = run(text, dry_run=True)
    assert result.ok, result.problems
    assert set(result.summary()) == {
        "locations_created",
        "people_created",
        "positions_created",
        "unchanged",
    }
    assert result.summary()["unchanged"] == Position.objects.count()
    applied = run(text)
    assert applied.ok and applied.summary()["unchanged"] == Position.objects.count()
    assert counts()[:4] == before[:4] and counts()[-1] == before[-1]


def test_an_export_from_before_the_depth_column_was_renamed_still_imports(api_org: Org):
    text = export_text(session_client(admin_user()))
    header, rest = text.split("\n", 1)
    assert "depth_from_export_top" in header.split(",") and "levels_below" not in header
    older = header.replace("depth_from_export_top", "levels_below") + "\n" + rest
    result = run(older, dry_run=True)
    assert result.ok, result.problems
    assert result.summary()["unchanged"] == Position.objects.count()
    wrong = run(header.replace("depth_from_export_top", "levels_above") + "\n" + rest)
    assert not wrong.ok and "levels_above" in str(wrong.problems)


def test_the_export_recreates_the_same_tree_after_a_wipe(api_org: Org):
    LocationFactory(code="dub", name="Dublin office")
    Position.objects.filter(pk=api_org.mine.pk).update(location=Location.objects.get(code="dub"))
    admin = session_client(admin_user())
    text = export_text(admin)
    shape, people = tree_shape(), sorted(Person.objects.values_list("employee_id", "email"))
    organizations.clear_organization()
    assert not Position.objects.exists()
    result = run(text)
    assert result.ok, result.problems
    assert tree_shape() == shape
    assert sorted(Person.objects.values_list("employee_id", "email")) == people
    assert tree_check().ok
    assert Assignment.objects.filter(end_date__isnull=True).count() == (
        Position.objects.filter(status="filled").count()
    )


# --- who may import ---------------------------------------------------------------------


@pytest.mark.parametrize("groups", [["hr"], ["director"], []])
def test_only_those_who_edit_the_whole_organization_may_import(framework, groups):
    user = UserFactory(groups=groups, is_staff=True)
    with pytest.raises(PermissionDenied):
        run(csv_text(base_rows()), actor=user, dry_run=True)
    assert not Position.objects.exists()


# --- the command --------------------------------------------------------------------------


def test_the_command_checks_prints_and_imports(framework, tmp_path, capsys):
    good = tmp_path / "org.csv"
    good.write_text(csv_text(base_rows()))
    call_command("import_org", str(good), "--dry-run")
    assert not Position.objects.exists()
    assert "Positions created: 4" in capsys.readouterr().out
    call_command("import_org", str(good))
    assert Position.objects.count() == 4
    rows = base_rows()
    rows[1]["role"] = "wizard"
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_text(rows))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_org", str(bad))
    assert "row 3, role: Unknown role" in capsys.readouterr().err
    latin = tmp_path / "latin.csv"
    latin.write_bytes("position_id,title\nX,Équipe\n".encode("latin-1"))
    with pytest.raises(CommandError):
        call_command("import_org", str(latin))


# --- the page and the job -----------------------------------------------------------------


def upload(client, text: str | bytes, name: str = "org.csv", content_type: str = "text/csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = text.encode() if isinstance(text, str) else text
    return client.post("/import/", {"file": SimpleUploadedFile(name, data, content_type)})


def test_the_page_checks_then_imports_the_same_file_with_progress(
    framework, django_capture_on_commit_callbacks
):
    admin = admin_user()
    client = session_client(admin)
    page = client.get("/import/")
    assert page.status_code == 200 and b"position_id" in page.content
    response = upload(client, csv_text(base_rows()))
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == f"/import/{job.pk}/"
    assert job.status == "checked" and job.rows == 4 and job.kind == "positions"
    report = client.get(f"/import/{job.pk}/").content.decode()
    assert (
        "Positions created" in report and "would change" in report and "Import</button>" in report
    )
    assert not Position.objects.exists()  # the check changed nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/import/{job.pk}/apply/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done" and job.progress == 100, job.message
    assert Position.objects.count() == 4
    assert {h.history_user for h in Position.history.all()} == {admin}
    done = client.get(f"/import/{job.pk}/").content.decode()
    assert "What was imported" in done and "Import</button>" not in done
    fragment = client.get(f"/import/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert fragment["HX-Refresh"] == "true" and 'value="100"' in fragment.content.decode()
    again = client.post(f"/import/{job.pk}/apply/")  # a second press imports nothing more
    assert again.status_code == 302 and Position.objects.count() == 4


def test_a_job_in_progress_is_polled_with_a_progress_bar(framework):
    admin = admin_user()
    job = ImportJob.objects.create(
        filename="big.csv", content="", sha256="0", size=1, rows=5000, status="running",
        phase="Checking rows", progress=30, created_by=admin,
    )  # fmt: skip
    page = session_client(admin).get(f"/import/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and f'hx-get="/import/{job.pk}/progress/"' in page
    assert '<progress id="import-bar" max="100" value="30">' in page


def test_the_page_lists_the_problems_of_a_bad_file(framework):
    client = session_client(admin_user())
    rows = base_rows()
    rows[2]["manager_id"] = "HR-77"
    assert upload(client, csv_text(rows)).status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "refused" and job.problems == [[4, "manager_id", job.problems[0][2]]]
    page = client.get(f"/import/{job.pk}/").content.decode()
    assert "HR-77" in page and "Import</button>" not in page
    assert client.post(f"/import/{job.pk}/apply/").status_code == 302
    assert not Position.objects.exists()


def test_the_page_refuses_a_file_that_is_not_csv_or_too_large(framework, settings):
    client = session_client(admin_user())
    response = upload(client, b"\x89PNG...", name="chart.png", content_type="image/png")
    assert response.status_code == 400 and "not a CSV file" in response.content.decode()
    settings.IMPORT_MAX_BYTES = 100
    response = upload(client, csv_text(base_rows()))
    assert response.status_code == 400 and "largest file" in response.content.decode()
    response = upload(client, "position_id,title\nX,Équipe\n".encode("latin-1"))
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


def test_the_job_checks_again_and_refuses_when_the_organization_changed(framework):
    admin = admin_user()
    rows = base_rows()
    rows[3].update(status="", employee_id="LATE-1", given_name="Lee", family_name="Late")
    job = jobs.import_job_check(actor=admin, filename="org.csv", data=csv_text(rows).encode())
    assert job.status == "checked"
    PersonFactory(employee_id="LATE-1", is_active=False)  # meanwhile
    ImportJob.objects.filter(pk=job.pk).update(status="queued", started_by=admin)
    job = jobs.import_job_run(job_id=job.pk)
    assert job.status == "refused" and "changed since" in job.message
    assert not Position.objects.exists()


@pytest.mark.parametrize("groups", [["hr"], ["manager"], []])
def test_the_pages_refuse_everyone_but_administrators(framework, groups):
    client = session_client(UserFactory(groups=groups, is_staff=True))
    assert client.get("/import/").status_code == 403
    assert upload(client, csv_text(base_rows())).status_code == 403
    assert not ImportJob.objects.exists()


def test_the_admin_lists_imports_and_leads_to_the_page(framework):
    client = session_client(admin_user())
    page = client.get("/admin/staffing/importjob/").content.decode()
    assert 'href="/import/"' in page and "Import from CSV" in page


# --- a large file ---------------------------------------------------------------------------


def large_file(n: int) -> str:
    """n positions: a head, managers of 10 leads, leads of 9 agents; three in four filled."""
    rows = [{"position_id": "B-0", "title": "Head", "role": "director", "manager_id": ""}]
    managers, leads = [], []
    for i in range(1, n):
        if i % 100 == 1:
            role, parent = "advocate-manager", "B-0"
            managers.append(i)
        elif i % 10 == 2 or not leads:
            role, parent = "team-lead", f"B-{managers[-1]}"
            leads.append(i)
        else:
            role, parent = "advocate", f"B-{leads[-1]}"
        row = {"position_id": f"B-{i}", "title": f"{role} {i}", "role": role, "manager_id": parent}
        if i % 4:
            row.update(employee_id=f"BE-{i}", given_name="Sam", family_name=f"Doe {i}",
                       email=f"sam.{i}@example.com", hire_date="2021-01-04",
                       start_date="2022-01-03")  # fmt: skip
        rows.append(row)
    return csv_text(rows)


LARGE = scaled(2_000, 10_000)


def test_a_large_file_imports_whole_in_a_bounded_number_of_queries(
    framework, django_assert_max_num_queries
):
    """A fixed number of reads; writes in batches (on SQLite, of fewer rows: a statement takes
    at most 999 parameters there)."""
    text = large_file(LARGE)
    with django_assert_max_num_queries(15):
        checked = run(text, dry_run=True)
    assert checked.ok, checked.problems[:5]
    assert checked.counts["positions_created"] == LARGE
    with django_assert_max_num_queries(60 if connection.vendor == "postgresql" else 600):
        result = run(text)
    assert result.ok and Position.objects.count() == LARGE
    assert Person.objects.count() == Assignment.objects.count() == LARGE * 3 // 4
    assert tree_check().ok
    assert Position.history.filter(history_change_reason="org_import").count() == LARGE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_by_others_while_the_import_transaction_is_open(framework, monkeypatch):
    """On PostgreSQL the job's progress goes through a second connection, so the page (a
    third) reads it while the import still holds its transaction open."""
    from django.db import connections

    admin = admin_user()
    job = jobs.import_job_check(actor=admin, filename="big.csv", data=large_file(1500).encode())
    ImportJob.objects.filter(pk=job.pk).update(status="queued", started_by=admin)
    seen = []
    main = connections["default"]
    reader = type(main)(dict(main.settings_dict), alias="test-reader")
    original = jobs._ProgressWriter.__call__

    def watch(self, phase, percent):
        original(self, phase, percent)
        if connection.in_atomic_block:
            with reader.cursor() as cursor:
                cursor.execute(
                    f"SELECT phase, progress FROM {ImportJob._meta.db_table} WHERE id = %s",
                    [job.pk],
                )
                seen.append(cursor.fetchone())

    monkeypatch.setattr(jobs._ProgressWriter, "__call__", watch)
    try:
        done = jobs.import_job_run(job_id=job.pk)
    finally:
        reader.close()
    assert done.status == "done", done.message
    assert ("Writing positions", 75) in seen and ("Checking rows", 10) in seen
    assert Position.objects.count() == 1500


def test_two_holders_swap_positions_in_one_import(api_org: Org):
    lead_a, lead_b = api_org.positions["lead_a"], api_org.positions["lead_b"]
    a, b = lead_a.holder, lead_b.holder
    rows = [
        {"position_id": f"#{lead_a.pk}", "title": "Lead A", "role": "team-lead",
         "manager_id": f"#{lead_a.parent_id}", "employee_id": b.employee_id},
        {"position_id": f"#{lead_b.pk}", "title": "Lead B", "role": "team-lead",
         "manager_id": f"#{lead_b.parent_id}", "employee_id": a.employee_id},
    ]  # fmt: skip
    result = run(csv_text(rows))
    assert result.ok and result.counts["holders_placed"] == 2, result.problems
    lead_a.refresh_from_db()
    lead_b.refresh_from_db()
    assert (lead_a.holder, lead_b.holder) == (b, a)
    assert Assignment.objects.get(person=a, end_date__isnull=True).position == lead_b
    assert Assignment.objects.filter(person=a, position=lead_a, end_date__isnull=False).exists()


def swapped_export(client, lead_a: Position, lead_b: Position) -> list[dict]:
    """The chart's export with the holders of two leads swapped (person cells and all)."""
    rows = list(csv.DictReader(io.StringIO(export_text(client))))
    key = {f"#{lead_a.pk}": None, f"#{lead_b.pk}": None}
    person_cells = ("employee_id", "given_name", "family_name", "email", "hire_date")
    first, second = (next(r for r in rows if r["position_id"] == k) for k in key)
    for name in (*person_cells, "start_date"):
        first[name], second[name] = second[name], first[name]
    return rows


def test_a_move_in_an_edited_export_needs_a_new_start_date(api_org: Org):
    """The export carries each holder's present start; swapping people keeps those dates,
    which would end the old assignments on the day they began: refused, with the reason."""
    client = session_client(admin_user())
    lead_a, lead_b = api_org.positions["lead_a"], api_org.positions["lead_b"]
    rows = swapped_export(client, lead_a, lead_b)
    stale = run(csv_text(rows, list(rows[0])))
    assert not stale.ok
    assert {p.column for p in stale.problems} == {"start_date"}
    assert "give the day they start in this position" in stale.problems[0].message
    for row in rows:
        if row["position_id"] in (f"#{lead_a.pk}", f"#{lead_b.pk}"):
            row["start_date"] = "2026-03-02"
    moved = run(csv_text(rows, list(rows[0])))
    assert moved.ok, moved.problems
    a, b = lead_a.holder, lead_b.holder
    for person, old, new in ((a, lead_a, lead_b), (b, lead_b, lead_a)):
        ended = Assignment.objects.get(person=person, position=old)
        assert ended.end_date == datetime.date(2026, 3, 2) > ended.start_date
        current = Assignment.objects.get(person=person, end_date__isnull=True)
        assert (current.position, current.start_date) == (new, datetime.date(2026, 3, 2))


def test_a_replaced_holder_leaves_on_the_day_the_new_one_starts(api_org: Org):
    lead = api_org.positions["lead_b"]
    old = lead.holder
    rows = [
        {
            "position_id": f"#{lead.pk}",
            "title": lead.title,
            "role": "team-lead",
            "manager_id": f"#{lead.parent_id}",
            "employee_id": "NEW-9",
            "given_name": "Noa",
            "family_name": "Levi",
            "hire_date": "2026-01-05",
            "start_date": "2026-02-02",
        }
    ]
    result = run(csv_text(rows))
    assert result.ok, result.problems
    ended = Assignment.objects.get(person=old, position=lead)
    assert ended.end_date == datetime.date(2026, 2, 2)
    early = dict(rows[0], position_id=f"#{api_org.positions['lead_a'].pk}",
                 title="Lead A", manager_id=f"#{api_org.positions['manager_a'].pk}",
                 employee_id="NEW-10", start_date="2019-01-07", hire_date="2019-01-07")  # fmt: skip
    refused = run(csv_text([early]))
    assert [(p.column, "present holder started" in p.message) for p in refused.problems] == [
        ("start_date", True)
    ]


def test_the_import_runs_as_the_user_who_pressed_import(
    framework, django_capture_on_commit_callbacks
):
    uploader, starter = admin_user(), admin_user()
    job = jobs.import_job_check(
        actor=uploader, filename="org.csv", data=csv_text(base_rows()).encode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        jobs.import_job_start(actor=starter, job=job)  # in-process: no broker in tests
    job.refresh_from_db()
    assert job.status == "done" and job.started_by == starter, job.message
    users = set(Position.history.values_list("history_user_id", flat=True))
    assert users == {starter.pk}

    gone = jobs.import_job_check(
        actor=uploader, filename="org.csv", data=csv_text(base_rows()).encode()
    )
    ImportJob.objects.filter(pk=gone.pk).update(status="queued", started_by=None)
    failed = jobs.import_job_run(job_id=gone.pk)
    assert failed.status == "failed" and "no longer exists" in failed.message


def test_a_job_left_running_by_a_dead_worker_is_taken_over(framework):
    admin = admin_user()
    job = jobs.import_job_check(
        actor=admin, filename="org.csv", data=csv_text(base_rows()).encode()
    )
    ImportJob.objects.filter(pk=job.pk).update(status="running", started_by=admin)
    done = jobs.import_job_run(job_id=job.pk)  # a redelivery: nobody holds the job's lock
    assert done.status == "done", done.message
    assert Position.objects.filter(external_id__startswith="HR-").count() == 4
    again = jobs.import_job_run(job_id=job.pk)  # a repeated delivery of a finished job
    assert again.status == "done" and Position.objects.count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_job_that_a_live_worker_runs_is_left_to_it(framework):
    from django.db import connections

    admin = admin_user()
    job = jobs.import_job_check(
        actor=admin, filename="org.csv", data=csv_text(base_rows()).encode()
    )
    ImportJob.objects.filter(pk=job.pk).update(status="running", started_by=admin)
    main = connections["default"]
    other = type(main)(dict(main.settings_dict), alias="other-worker")
    try:
        with other.cursor() as cursor:  # another worker holds the job
            cursor.execute("SELECT pg_advisory_lock(%s)", [jobs.JOB_LOCK_BASE + job.pk])
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        left = jobs.import_job_run(job_id=job.pk)
        assert left.status == "running" and not Position.objects.exists()
    finally:
        other.close()  # that worker dies: its lock goes with its connection
    # once its server process has ended (closing the socket does not wait for that)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and still_running(pid):
        time.sleep(0.02)
    assert jobs.import_job_run(job_id=job.pk).status == "done"


def still_running(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] > 0


def test_with_the_broker_down_a_job_waits_and_the_sweep_sends_it(
    framework, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from staffing import tasks

    admin = admin_user()
    job = jobs.import_job_check(
        actor=admin, filename="org.csv", data=csv_text(base_rows()).encode()
    )

    def refused(*args, **kwargs):
        raise OperationalError("Connection refused")

    with monkeypatch.context() as patch, django_capture_on_commit_callbacks(execute=True):
        patch.setattr(tasks.import_org, "apply_async", refused)
        jobs.import_job_start(actor=admin, job=job)
    job.refresh_from_db()
    assert job.status == "queued" and "does not answer" in job.phase
    assert not Position.objects.exists()
    assert tasks.sweep_imports() == 0  # not yet: it has waited less than a minute
    ImportJob.objects.filter(pk=job.pk).update(
        started_at=job.started_at - datetime.timedelta(minutes=2)
    )
    assert tasks.sweep_imports() == 1  # the broker answers again (in-process in tests)
    job.refresh_from_db()
    assert job.status == "done" and Position.objects.count() == 4


def test_a_large_file_is_checked_in_a_job_and_the_request_stays_short(
    framework, settings, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """The upload only keeps the file: a file of more than IMPORT_CHECK_INLINE_ROWS lines is
    checked by the Celery task, with a progress bar meanwhile, then reported."""
    settings.IMPORT_CHECK_INLINE_ROWS = 3
    client = session_client(admin_user())
    with django_capture_on_commit_callbacks(execute=False) as sent:
        response = upload(client, csv_text(base_rows()))
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "checking" and job.rows == 0 and len(sent) == 1
    page = client.get(f"/import/{job.pk}/").content.decode()
    assert "Checking the file" in page and 'hx-trigger="every 1s"' in page
    assert "Import</button>" not in page
    sent[0]()  # the task, in-process here (a real worker in the browser test)
    job.refresh_from_db()
    assert job.status == "checked" and job.rows == 4 and job.kind == "positions"
    assert "Import</button>" in client.get(f"/import/{job.pk}/").content.decode()
    again = jobs.import_job_check_run(job_id=job.pk)  # a repeated delivery does nothing
    assert again.status == "checked"


def test_a_file_of_too_many_lines_is_refused_at_once(framework, settings):
    """The attack run's 15 MB of blank lines took 57 s to check inside the request."""
    settings.IMPORT_MAX_ROWS = 1_000
    client = session_client(admin_user())
    text = csv_text(base_rows()) + "\r\n" * 5_000
    response = upload(client, text)
    assert response.status_code == 400 and not ImportJob.objects.exists()
    page = response.content.decode()
    assert "The file has 5,006 lines" in page and "at most 1,000 rows" in page


def test_the_report_keeps_the_first_problems_and_says_how_many_more(framework, settings):
    """The attack run's 595,780-row file made a 59 MB report page: every problem listed."""
    settings.IMPORT_MAX_PROBLEMS = 5
    settings.IMPORT_CHECK_INLINE_ROWS = 100
    client = session_client(admin_user())
    rows = base_rows()
    extra = [dict(rows[-1], position_id=f"HR-X{n}", manager_id="HR-77") for n in range(40)]
    assert upload(client, csv_text(rows + extra)).status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "refused" and job.problem_count == 40 and len(job.problems) == 5
    assert [p[0] for p in job.problems] == [6, 7, 8, 9, 10]  # the first, by row
    page = client.get(f"/import/{job.pk}/").content.decode()
    assert "40 problems found" in page and "35 more are not shown" in page
    assert page.count("HR-77") == 5
