"""In a real browser (Debian's Chromium via Playwright): log in, see the org and the catalogue."""

import re
from pathlib import Path

import pytest

from staffing import demo

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_manager_sees_their_team_and_the_career_ladder(page, live_server, framework):
    demo.seed(org="synapse")
    log_in(page, live_server, "manager")
    tree = page.get_by_role("tree")
    items = tree.get_by_role("treeitem")
    assert items.count() == 1 + 3 + 23  # the manager, 3 team leads, 23 agent positions
    assert items.first.inner_text().startswith("Advocate Manager, Madison")
    assert "Director, Customer Advocacy" not in tree.inner_text()
    assert page.get_by_text("You see the team under Advocate Manager, Madison.").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "overview-manager.png", full_page=True)

    page.get_by_role("link", name="Roles", exact=True).click()
    row = page.get_by_role("row", name=re.compile(r"^Customer Advocate\b"))
    assert "95 %" in row.inner_text()
    assert "Associate Customer Advocate (3+ months)" in row.inner_text()


def test_a_wrong_password_is_refused_with_a_message(page, live_server, framework):
    demo.seed(org="fte85")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill("director")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("That user name and password")
