"""The chart view in a real browser (Debian's Chromium via Playwright): zoom, pan and fit
with the mouse, the keyboard and two fingers; opening levels; the card's menu on a tap; the
holder's pop-over; findings explained beside their badge; colour and filter; the list view
remembered. Screenshots of the manager's, the director's and a phone's chart go to
artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from staffing.models import Position
from tests.test_browser import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def picture(page, name: str) -> None:
    """A screenshot the closing note of issue 22 describes: always taken."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png")


def zoom_of(page) -> tuple[float, float, float]:
    """(scale, x, y) of the chart's canvas as the page has drawn it (once it has placed it:
    a chart drawn again is placed when htmx has settled it)."""
    canvas = page.locator("#chart[data-ready] .chart-canvas")
    expect(canvas).to_have_attribute("style", re.compile(r"scale\("))
    style = canvas.get_attribute("style")
    x, y, scale = re.search(
        r"translate\((-?[\d.]+)px, (-?[\d.]+)px\) scale\(([\d.]+)\)", style
    ).groups()
    return float(scale), float(x), float(y)


def inside(inner: dict, outer: dict, slack: float = 1) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def test_zoom_pan_fit_and_levels_with_the_mouse_and_the_keyboard(page, live_server, synapse):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, "director")
    expect(page.locator('#chart[data-ready][data-view="chart"]')).to_be_attached()
    port = page.locator(".chart-viewport")
    tree = page.get_by_role("tree", name="Reporting lines")
    shown = tree.get_by_role("treeitem").count()

    # the buttons zoom about the middle; the wheel zooms where it points
    scale, _, _ = zoom_of(page)
    page.get_by_role("button", name="Zoom in").click()
    assert zoom_of(page)[0] == pytest.approx(scale * 1.25)
    expect(page.locator(".zoom-level")).to_have_text(f"{round(scale * 125)} %")
    page.get_by_role("button", name="Zoom out").click()
    assert zoom_of(page)[0] == pytest.approx(scale)
    box = port.bounding_box()
    page.mouse.move(box["x"] + 300, box["y"] + 200)
    before = zoom_of(page)
    page.mouse.wheel(0, -200)
    after = zoom_of(page)
    assert after[0] > before[0]
    # the point under the pointer stays put: (300 - x) / scale is the same canvas point
    assert (300 - after[1]) / after[0] == pytest.approx((300 - before[1]) / before[0], abs=0.5)

    # drag the background to pan
    scale, x, y = zoom_of(page)
    page.mouse.move(box["x"] + 10, box["y"] + 60)  # the background, left of the cards
    page.mouse.down()
    page.mouse.move(box["x"] + 110, box["y"] + 20, steps=5)
    page.mouse.up()
    moved = zoom_of(page)
    assert (moved[1] - x, moved[2] - y) == (pytest.approx(100), pytest.approx(-40))

    # every level open: the director's whole part; Fit puts all of it on screen
    page.get_by_label("Levels open").select_option("6")
    expect(tree.get_by_role("treeitem")).to_have_count(
        Position.objects.get(holder__user__username="director").get_descendant_count() + 1
    )
    assert tree.get_by_role("treeitem").count() > shown
    page.get_by_role("button", name="Fit").click()
    assert inside(page.locator(".chart-canvas").bounding_box(), port.bounding_box())
    picture(page, "chart-director")

    # the keyboard: +, − and 0 zoom and fit; arrows keep the card in view
    page.get_by_label("Levels open").select_option("1")
    expect(tree.get_by_role("treeitem")).to_have_count(4)
    first = tree.get_by_role("treeitem").first
    first.focus()
    scale = zoom_of(page)[0]
    page.keyboard.press("+")
    assert zoom_of(page)[0] == pytest.approx(min(scale * 1.25, 2))
    page.keyboard.press("+")
    page.keyboard.press("+")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
        focused = page.locator('[role="treeitem"]:focus')
        assert inside(focused.bounding_box(), port.bounding_box())
    page.keyboard.press("0")
    assert inside(page.locator(".chart-canvas").bounding_box(), port.bounding_box())

    # opening a team brings only its cards: the cards on screen stay and move
    items = tree.get_by_role("treeitem")
    closed, other = items.nth(1), items.nth(2)
    other_id = other.get_attribute("id")
    page.evaluate(f"window.kept = document.getElementById('{other_id}')")
    closed.locator(":scope > .pcard .toggle").click()
    expect(closed).to_have_attribute("aria-expanded", "true")
    expect(closed.locator(':scope > [role="group"] > [role="treeitem"]').first).to_be_attached()
    assert page.evaluate(f"window.kept === document.getElementById('{other_id}')")
    closed.locator(":scope > .pcard .toggle").click()  # and closing takes them away again
    expect(closed).to_have_attribute("aria-expanded", "false")
    expect(closed.locator('[role="treeitem"]')).to_have_count(0)
    expect(tree.get_by_role("treeitem")).to_have_count(4)
    page.get_by_label("Levels open").select_option("0")  # collapse all: the top card alone
    expect(tree.get_by_role("treeitem")).to_have_count(1)
    expect(first).to_have_attribute("aria-expanded", "false")


def test_a_manager_filters_colours_and_reads_about_a_holder(page, live_server, synapse):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, "manager")
    expect(page.locator("#chart[data-ready]")).to_be_attached()
    items = page.locator('#chart [role="treeitem"]')
    total = items.count()
    picture(page, "chart-manager")

    # colour by status, show the vacancies only: the others are dimmed, the count said
    page.get_by_label("Colour by").select_option("status")
    legend = page.locator("#chart-legend")
    expect(legend).to_contain_text("Open vacancy")
    page.get_by_label("Show", exact=True).select_option("Open vacancy")
    vacant = Position.objects.filter(
        status="open", pk__in=[int(i) for i in items.evaluate_all("l => l.map(e => e.dataset.id)")]
    ).count()
    assert vacant > 0
    expect(page.locator("#chart-filter-count")).to_have_text(
        f"{vacant} of {total} cards shown match"
    )
    expect(page.locator("#chart li.match")).to_have_count(vacant)
    dimmed = page.locator("#chart li:not(.match) > .pcard").first
    assert float(dimmed.evaluate("e => getComputedStyle(e).opacity")) < 0.5
    page.get_by_label("Show", exact=True).select_option("")
    expect(page.locator("#chart.filtering")).to_have_count(0)

    # a findings badge explains itself beside the badge, not under the team
    badge = page.locator("#chart .badge").first
    badge.hover()
    why = badge.locator("xpath=following-sibling::*[@role='tooltip']")
    expect(why).to_be_visible()
    at, says = badge.bounding_box(), why.bounding_box()
    assert 0 <= says["y"] - (at["y"] + at["height"]) <= 12  # just below the badge
    assert abs((says["x"] + says["width"]) - (at["x"] + at["width"])) <= 2  # aligned with it

    # I: the holder's pop-over next to the card; Esc closes it, back to the card
    manager = Position.objects.select_related("holder").get(holder__user__username="manager")
    card = page.locator(f"#pos-{manager.pk}")
    card.focus()
    page.keyboard.press("i")
    about = page.get_by_role("dialog", name="About the holder")
    expect(about).to_be_visible()
    expect(about).to_contain_text(manager.holder.full_name)
    expect(about).to_contain_text("CSAT")
    expect(about).to_contain_text("Next step")
    assert inside(about.bounding_box(), {"x": 0, "y": 0, "width": 1440, "height": 900})
    page.keyboard.press("Escape")
    expect(about).to_be_hidden()
    expect(card).to_be_focused()

    # the list view, remembered for this user on the next visit
    page.get_by_role("button", name="List").click()
    expect(page.locator('#chart[data-view="list"]')).to_be_attached()
    page.goto(f"{live_server.url}/")
    expect(page.locator('#chart[data-view="list"]')).to_be_attached()
    expect(page.get_by_role("button", name="List")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="Chart").click()
    expect(page.locator('#chart[data-view="chart"]')).to_be_attached()


def test_on_a_phone_a_tap_opens_a_cards_menu_and_two_fingers_zoom(browser, live_server, synapse):
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = phone.new_page()
    log_in(page, live_server, "manager")
    expect(page.locator("#chart[data-ready]")).to_be_attached()
    picture(page, "chart-phone")

    # a tap on a card (not on a button) opens its menu of actions
    manager = Position.objects.get(holder__user__username="manager")
    card = page.locator(f"#pos-{manager.pk} > .pcard")
    box = card.bounding_box()
    page.touchscreen.tap(box["x"] + 60, box["y"] + 40)
    menu = page.get_by_role("menu", name=manager.title)
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Add report")).to_be_visible()
    picture(page, "chart-phone-menu")
    page.touchscreen.tap(5, 5)  # elsewhere: the menu closes
    expect(menu).to_be_hidden()

    # two fingers spread on the chart: it zooms in; one finger drags it
    port = page.locator(".chart-viewport").bounding_box()
    cx, cy = port["x"] + port["width"] / 2, port["y"] + 6  # above the top card
    cdp = phone.new_cdp_session(page)

    def touch(kind, points):
        cdp.send(
            "Input.dispatchTouchEvent",
            {"type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in points]},
        )

    before = zoom_of(page)[0]
    touch("touchStart", [(0, (cx - 30, cy)), (1, (cx + 30, cy))])
    for step in range(1, 6):
        touch("touchMove", [(0, (cx - 30 - 3 * step, cy)), (1, (cx + 30 + 3 * step, cy))])
    touch("touchEnd", [])
    assert zoom_of(page)[0] == pytest.approx(before * 90 / 60, rel=0.05)
    _, x, y = zoom_of(page)
    touch("touchStart", [(0, (cx, cy))])
    for step in range(1, 6):
        touch("touchMove", [(0, (cx + 8 * step, cy - 4 * step))])
    touch("touchEnd", [])
    _, x2, y2 = zoom_of(page)
    assert (x2 - x, y2 - y) == (pytest.approx(40), pytest.approx(-20))
    phone.close()
