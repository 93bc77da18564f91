"""In a real browser (Debian's Chromium via Playwright): log in, use the org chart, see the
catalogue."""

import csv
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from demo import organizations
from staffing.models import ImportJob, Person, Position
from tests.conftest import FULL

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
# The pictures that document the product, taken on every run; the others only at full size
# (make test-full). A failing browser test leaves its own screenshot in artifacts/failures/.
DOCUMENTS = {
    "overview-manager",
    "chart-manager-edited",
    "dashboard-director",
    "scenario-diff",
    "import-report",
}


def document(page, name: str, *, full_page: bool = True) -> None:
    if name in DOCUMENTS or FULL:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=full_page)


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(organizations.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_manager_sees_their_team_and_the_career_ladder(page, live_server, synapse):
    log_in(page, live_server, "manager")
    tree = page.get_by_role("tree")
    items = tree.get_by_role("treeitem")
    assert items.count() == 1 + 3 + 23  # the manager, 3 team leads, 23 agent positions
    assert items.first.inner_text().startswith("Advocate Manager, Madison")
    assert "Director, Customer Advocacy" not in tree.inner_text()
    assert page.get_by_text("You see the team under Advocate Manager, Madison.").is_visible()
    document(page, "overview-manager")

    page.get_by_role("link", name="Roles", exact=True).click()
    row = page.get_by_role("row", name=re.compile(r"^Customer Advocate\b"))
    assert "95 %" in row.inner_text()
    assert "Associate Customer Advocate (3+ months)" in row.inner_text()
    ladder = page.locator("svg.ladder").first
    expect(ladder).to_be_visible()
    expect(ladder.locator("text.months").first).to_be_visible()
    document(page, "roles-ladder")
    ladder.get_by_role("link", name=re.compile("^Team Lead")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team Lead")
    expect(page.locator("#holders")).to_contain_text("Team Lead, Madison A")  # loaded by htmx


def test_a_wrong_password_is_refused_with_a_message(page, live_server, fte85):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill("director")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("That user name and password")


def test_the_chart_opens_teams_lazily_by_mouse_and_keyboard_and_search_lands_on_the_card(
    page, live_server, synapse
):
    agent = (
        Position.objects.filter(role__code="advocate", holder__isnull=False)
        .select_related("holder")
        .order_by("-lft")
        .first()
    )
    log_in(page, live_server, "admin")
    tree = page.get_by_role("tree", name="Reporting lines")
    before = tree.get_by_role("treeitem").count()
    first_closed = tree.locator('[role="treeitem"][aria-expanded="false"]').first
    closed = page.locator(f"#{first_closed.get_attribute('id')}")  # stays that card
    closed.locator(":scope > .pcard .toggle").click()  # the team comes from the server now
    expect(closed).to_have_attribute("aria-expanded", "true")
    expect(closed.locator(':scope > [role="group"] > [role="treeitem"]').first).to_be_visible()
    assert tree.get_by_role("treeitem").count() > before

    page.keyboard.press("ArrowLeft")  # the opened card has the focus: close its team
    expect(closed).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowRight")
    expect(closed).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")  # onto its first report
    expect(closed.locator(':scope > [role="group"] > [role="treeitem"]').first).to_be_focused()

    page.get_by_label("Find a position").fill(agent.holder.family_name)
    result = page.locator(".search-results li", has_text=agent.holder.full_name)
    result.get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"\?focus={agent.pk}$"))
    card = page.locator('[role="treeitem"][aria-current="true"]')
    expect(card).to_have_count(1)
    expect(card).to_be_focused()
    assert agent.holder.full_name in card.locator(":scope > .pcard").inner_text()
    document(page, "chart-admin-search", full_page=False)


def test_a_manager_edits_the_chart_and_hr_cannot(page, live_server, synapse, browser):
    manager = Position.objects.get(holder__user__username="manager")
    lead_a, lead_b, lead_c = manager.get_children().order_by("title")
    agent = lead_a.get_children().filter(holder__isnull=False).select_related("holder").first()
    vacancy = lead_c.get_children().filter(holder__isnull=True).first()
    Person.objects.create(employee_id="N-1", given_name="Noor", family_name="Haddad")
    page.set_viewport_size({"width": 1280, "height": 2600})  # the whole team, no scrolling
    log_in(page, live_server, "manager")
    card = lambda position: page.locator(f"#pos-{position.pk} > .pcard")  # noqa: E731

    # drag a whole team under another lead: counts and the badge change, no reload
    card(lead_b).drag_to(card(lead_a))
    expect(card(lead_a).locator(".counts")).to_have_attribute("title", re.compile("^9 direct"))
    expect(card(lead_b).locator(".badge")).to_be_visible()
    status = page.locator("#chart-status")
    expect(status).to_contain_text(f"Moved {lead_b.label} and its team.")
    expect(status).to_contain_text("whose rule does not list")  # a warning, not a refusal
    assert Position.objects.get(pk=lead_b.pk).parent_id == lead_a.pk

    # a lead dropped on a lead of their own team: refused with the reason, nothing changed
    page.get_by_role("button", name="Fit").click()  # the whole team on screen to drag across
    card(lead_a).drag_to(card(lead_b))
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("alert")).to_contain_text("reporting loop")
    assert Position.objects.get(pk=lead_a.pk).parent_id == manager.pk
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    # an agent takes no reports: its card is no drop target, and nothing changes
    card(lead_a).drag_to(card(agent))
    expect(dialog).to_be_hidden()
    assert Position.objects.get(pk=lead_a.pk).parent_id == manager.pk
    assert Position.objects.get(pk=agent.pk).parent_id == lead_a.pk

    # fill a vacancy with a new hire
    card(vacancy).hover()
    card(vacancy).locator(".menu-button").click()  # one menu of actions on each card
    card(vacancy).get_by_role("menuitem", name="Fill").click()
    expect(dialog.get_by_label("Find the person")).to_be_focused()
    dialog.get_by_label("Find the person").fill("Haddad")
    dialog.get_by_role("radio", name=re.compile("Noor Haddad")).check()
    dialog.get_by_role("button", name="Save").click()
    expect(card(vacancy)).to_contain_text("Noor Haddad")
    document(page, "chart-manager-edited")

    hr_page = browser.new_page()
    log_in(hr_page, live_server, "hr")
    expect(hr_page.get_by_role("tree", name="Reporting lines")).to_be_visible()
    expect(hr_page.locator(".pcard [data-action=edit]")).to_have_count(0)
    expect(hr_page.locator('.pcard[draggable="true"]')).to_have_count(0)
    hr_page.close()


def test_every_change_can_be_made_from_the_keyboard(page, live_server, synapse):
    manager = Position.objects.get(holder__user__username="manager")
    lead_a, lead_b, _ = manager.get_children().order_by("title")
    Person.objects.create(employee_id="K-1", given_name="Kira", family_name="Tanaka")
    page.set_viewport_size({"width": 1280, "height": 2600})
    log_in(page, live_server, "manager")
    dialog = page.get_by_role("dialog")
    status = page.locator("#chart-status")
    current = page.locator('#chart[data-ready] [role="treeitem"][aria-current="true"]')

    # Tab from a card reaches its menu; the menu is walked with the arrows, Esc closes it
    page.locator(f"#pos-{lead_a.pk}").focus()
    page.keyboard.press("Tab")
    expect(page.locator(f"#pos-{lead_a.pk} > .pcard .menu-button")).to_be_focused()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name=lead_a.title)
    expect(menu.get_by_role("menuitem", name="Focus here")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Add report")).to_be_focused()
    page.keyboard.press("End")
    expect(menu.get_by_role("menuitem", name="Delete")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(page.locator(f"#pos-{lead_a.pk}")).to_be_focused()

    # A: add a report; Enter in the title field sends the form
    page.locator(f"#pos-{lead_a.pk}").focus()
    page.keyboard.press("a")
    expect(dialog.get_by_label("Title")).to_be_focused()
    dialog.get_by_label("Role").select_option(label="Customer Advocate")
    dialog.get_by_label("Title").fill("Weekend advocate")
    page.keyboard.press("Enter")
    expect(status).to_contain_text(f"Added a position under {lead_a.label}.")
    expect(current).to_contain_text("Weekend advocate")
    expect(current).to_be_focused()  # the new card has the focus
    added = Position.objects.get(title="Weekend advocate")
    assert added.parent_id == lead_a.pk and added.holder_id is None

    # E: edit it
    page.keyboard.press("e")
    expect(dialog.get_by_label("Title")).to_be_focused()
    dialog.get_by_label("Title").fill("Weekend advocate (chat)")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Saved Weekend advocate (chat) (vacant).")
    expect(current).to_contain_text("Weekend advocate (chat)")
    expect(current).to_be_focused()

    # F: fill it, choosing the person with the keyboard
    page.keyboard.press("f")
    expect(dialog.get_by_label("Find the person")).to_be_focused()
    page.keyboard.type("Tanaka")
    choice = dialog.get_by_role("radio", name=re.compile("Kira Tanaka"))
    expect(choice).to_be_visible()
    page.keyboard.press("Tab")
    expect(choice).to_be_focused()
    page.keyboard.press("Space")
    dialog.get_by_label("Start date").focus()
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Filled Weekend advocate (chat) (Kira Tanaka).")
    expect(current).to_contain_text("Kira Tanaka")
    expect(current).to_be_focused()

    # V: vacate it again
    page.keyboard.press("v")
    expect(dialog.get_by_label("End date")).to_be_focused()
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Vacated Weekend advocate (chat) (Kira Tanaka).")
    expect(current).to_contain_text("Vacant")
    expect(current).to_be_focused()

    # Esc closes a dialog and gives the focus back to the card
    page.keyboard.press("m")
    expect(dialog.get_by_label("Find the new manager")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(current).to_be_focused()

    # M: move it; its own team is never offered, the other lead is
    page.keyboard.press("m")
    expect(dialog.get_by_label("Find the new manager")).to_be_focused()
    page.keyboard.type(lead_b.title)
    target = dialog.get_by_role("radio", name=re.compile(re.escape(lead_b.title)))
    expect(target).to_be_visible()
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(target).to_be_checked()
    dialog.get_by_role("button", name="Move").focus()
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Moved Weekend advocate (chat) (vacant) and its team.")
    assert Position.objects.get(pk=added.pk).parent_id == lead_b.pk
    expect(current).to_be_focused()

    # Delete: delete it
    page.keyboard.press("Delete")
    expect(dialog.get_by_role("radio", name="Only if nobody reports to it")).to_be_focused()
    dialog.get_by_role("button", name="Delete").focus()
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Deleted Weekend advocate (chat) (vacant).")
    assert not Position.objects.filter(pk=added.pk).exists()

    # the team can be printed and exported from the toolbar
    page.get_by_text("Print or export").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="SVG picture").click()
    assert download.value.suggested_filename.endswith(".svg")
    svg = Path(download.value.path()).read_text()
    assert manager.title in svg and lead_b.title in svg
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV (every position)").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == 1 + manager.get_descendant_count() + 1


def test_a_director_reads_the_dashboard_and_downloads_a_table(page, live_server, fte85):
    from staffing.spans import marks

    marks.recompute()
    log_in(page, live_server, "director")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Director of Technical Support")
    expect(page.locator("svg.chart").first).to_be_visible()
    assert page.locator('svg.chart[role="img"]').count() >= 5
    table = page.locator("#table-tier")
    shown = [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        for row in table.locator("tbody tr").all()
    ]
    with page.expect_download() as download:
        table.get_by_role("link", name=re.compile("as CSV")).click()
    rows = list(csv.reader(Path(download.value.path()).read_text().splitlines()))
    assert rows[1:] == shown
    assert ["Tier 1 — Product support", "45", "0", "0", "45"] in rows  # seed 003: 23 + 22
    document(page, "dashboard-director")


def test_a_manager_promotes_a_ready_person_and_the_chart_changes(page, live_server, framework):
    from django.core.management import call_command

    call_command("seed_demo", org="synapse")  # with CSAT and some criteria signed off
    log_in(page, live_server, "manager")
    page.get_by_role("link", name="Readiness").click()
    page.get_by_label("Show").select_option("ready")
    page.get_by_role("button", name="Show").click()
    table = page.locator("#readiness")
    expect(table).to_be_visible()
    first = table.locator("tbody tr").first
    name = first.locator("th").inner_text().strip()
    document(page, "readiness-manager")
    first.get_by_role("link", name="Promote…").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    document(page, "readiness-person")
    ready = page.locator("section.path-card.status-ready").first
    new_role = ready.locator("h2 a").inner_text().strip()
    person = Person.objects.get(pk=int(page.url.split("/people/")[1].split("/")[0]))
    position = Position.objects.get(holder=person)
    old_role = position.role.name
    ready.get_by_role("button", name="Promote", exact=True).click()

    page.wait_for_url(re.compile(rf"/\?focus={position.pk}$"))
    expect(page.locator("#chart[data-ready]")).to_be_attached()
    card = page.locator(f"#pos-{position.pk} > .pcard")
    expect(card).to_contain_text(new_role)
    expect(card).to_contain_text(name)
    assert old_role not in card.inner_text() or old_role in new_role
    expect(page.locator(".messages")).to_contain_text(f"is now {new_role}")
    document(page, "readiness-promoted")
    position.refresh_from_db()
    assert position.role.name == new_role and position.holder_id == person.pk


def test_a_director_plans_capacity_from_the_form(page, live_server, fte85):
    log_in(page, live_server, "director")
    page.get_by_role("link", name="Capacity").click()
    heading = page.get_by_role("heading", level=2, name=re.compile(r"^The plan: \d+ people"))
    before = int(re.search(r"(\d+) people", heading.inner_text()).group(1))
    expect(page.locator("#plan-cascade")).to_contain_text("Tier 0 — Self-service")
    page.get_by_label("Phone: contacts a day").fill("3000")
    page.get_by_role("button", name="Plan", exact=True).click()
    expect(heading).not_to_have_text(f"The plan: {before} people")
    after = int(re.search(r"(\d+) people", heading.inner_text()).group(1))
    assert after > before
    document(page, "capacity-plan")
    shrinkage = page.get_by_label("Tier 1 — Product support: shrinkage (%)")
    shrinkage.fill("150")
    page.get_by_role("button", name="Plan", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("must be below 100 %")
    expect(shrinkage).to_have_attribute("aria-invalid", "true")

    # the plan drafted as a scenario of the director's part: its comparison opens
    shrinkage.fill("")  # back to its starting figure
    page.get_by_role("button", name="Plan", exact=True).click()
    expect(page.get_by_label("Phone: contacts a day")).to_have_value("3000")
    expect(page.locator("#plan-sources")).to_contain_text("From your figure")
    page.get_by_role("button", name="Draft a scenario from this plan").click()
    expect(page.locator(".messages")).to_contain_text("from the plan.")
    # where the new people went, tier by tier (staffing.scenarios.placement)
    expect(page.locator(".messages")).to_contain_text(
        re.compile(r"Tier 1 — Product support: \d+ new Customer Advocates; \d+ in")
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("what changes")
    expect(page.locator("#diff-summary")).not_to_contain_text("does not list")
    expect(page.locator("#diff-summary")).to_be_visible()
    document(page, "capacity-scenario")


def test_a_manager_drafts_a_scenario_moves_a_team_compares_and_applies_it(
    page, live_server, synapse
):
    manager = Position.objects.get(holder__user__username="manager")
    lead_a, lead_b, _lead_c = manager.get_children().order_by("title")
    direct_a = lead_a.get_children().count()
    team_b = lead_b.get_children().count()
    page.set_viewport_size({"width": 1280, "height": 2600})
    log_in(page, live_server, "manager")

    page.get_by_role("link", name="Scenarios").click()
    page.get_by_label("Name").fill("One lead fewer")
    page.get_by_role("button", name="Draft it").click()
    expect(page.get_by_role("note", name="Scenario")).to_contain_text("Draft")
    expect(page.get_by_role("heading", level=1)).to_have_text("One lead fewer")

    # the same editor as the live chart: drag Lead B's team onto Lead A, in the draft only
    card = lambda title: page.locator(".pcard", has=page.get_by_text(title, exact=True))  # noqa: E731
    card(lead_b.title).drag_to(card(lead_a.title))
    status = page.locator("#chart-status")
    expect(status).to_contain_text(f"Moved {lead_b.label} and its team in the draft.")
    expect(card(lead_a.title).locator(".counts")).to_have_attribute(
        "title", re.compile(f"^{direct_a + 1} direct")
    )
    expect(card(lead_b.title).locator(".draft-mark")).to_have_text("moved")
    assert Position.objects.get(pk=lead_b.pk).parent_id == manager.pk  # live is untouched
    document(page, "scenario-draft")

    page.get_by_role("link", name="Compare with live and apply").click()
    moved = page.locator("#diff-moved")
    expect(moved).to_contain_text(lead_b.title)
    expect(moved.get_by_role("row", name=re.compile(lead_b.title))).to_contain_text(lead_a.title)
    expect(page.locator("#diff-summary")).to_contain_text("1 moved")
    document(page, "scenario-diff")

    page.get_by_role("button", name="Apply to the live organization").click()
    expect(page.locator(".messages")).to_contain_text("Applied “One lead fewer”")
    expect(page.get_by_role("tree", name="Reporting lines")).to_be_visible()
    live_a = page.locator(f"#pos-{lead_a.pk} > .pcard")
    team = direct_a + 1 + team_b + lead_a.get_descendant_count() - direct_a
    expect(live_a.locator(".counts")).to_have_attribute(
        "title", f"{direct_a + 1} direct reports, {team} in the team below"
    )
    assert Position.objects.get(pk=lead_b.pk).parent_id == lead_a.pk
    document(page, "scenario-applied")


def test_a_director_reads_the_changes_and_the_chart_of_a_past_day(page, live_server, synapse):
    """Yesterday's organization, then a lead renamed today: the change shows in the feed
    with its fields, and the chart of yesterday shows the old title, read only, its teams
    loading when opened."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from staffing import services

    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    noon = timezone.make_aware(datetime.datetime.combine(yesterday, datetime.time(12)))
    Position.history.all().update(history_date=noon)
    admin = get_user_model().objects.get(username="admin")
    lead = Position.objects.filter(role__code="team-lead").order_by("lft").first()
    old_title = lead.title
    services.position_update(actor=admin, position=lead, title=f"{old_title} (renamed)")

    log_in(page, live_server, "admin")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    row = page.locator("#changes tbody tr").first
    expect(row).to_contain_text(f"{old_title} (renamed)")
    expect(row).to_contain_text("Position edited")
    expect(row.locator("del")).to_have_text(old_title)
    document(page, "history-feed")

    page.goto(f"{live_server.url}/?root={lead.parent_id}")  # today's chart, one manager
    page.get_by_label("As it was on").fill(yesterday.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"{live_server.url}/past/{yesterday.isoformat()}/?root={lead.parent_id}")
    expect(page.get_by_role("note")).to_contain_text("read only")
    tree = page.get_by_role("tree")
    assert tree.locator("[data-action]").count() == 0
    expect(page.locator(f"#title-{lead.pk}")).to_have_text(old_title)
    card = page.locator(f"#pos-{lead.pk}")
    if card.get_attribute("aria-expanded") == "false":
        card.locator(":scope > .pcard .toggle").click()  # its team comes from the server
    expect(card.locator(':scope > [role="group"] > [role="treeitem"]').first).to_be_visible()
    document(page, "past-chart")


@pytest.mark.redis
@pytest.mark.postgres
def test_an_admin_imports_a_large_file_and_watches_a_real_worker_run_it(
    page, live_server, framework, worker, tmp_path
):
    """Upload, read the report, press Import: a Celery worker imports the file while the
    page's progress bar follows it, then the page shows what was imported."""
    from tests.test_import import large_file

    organizations.ensure_demo_user("admin")
    upload = tmp_path / "new-region.csv"
    upload.write_text(large_file(3_000), encoding="utf-8")
    log_in(page, live_server, "admin")
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import of new-region.csv")
    # a file this large is checked by the worker while the page shows its progress
    expect(page.locator("#import-summary")).to_contain_text("3,000", timeout=60_000)
    assert ImportJob.objects.get().status == "checked"
    assert Position.objects.count() == 0  # checked, nothing written
    document(page, "import-report")

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-progress")).to_contain_text("Imported", timeout=90_000)
    expect(page.locator("#import-bar")).to_have_attribute("value", "100")
    document(page, "import-done")
    assert Position.objects.count() == 3_000
    assert Position.history.filter(history_change_reason="org_import").count() == 3_000
