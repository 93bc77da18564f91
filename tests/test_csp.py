"""Content-Security-Policy: every page is served with a policy that runs only our own
scripts (no inline script, no eval), and Chromium reports no violation on any page; the SVG
export carries a policy under which it runs nothing, even when opened as a document."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_page_matrix import MATRIX, urls
from tests.test_page_matrix import world as world

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PAGES = [
    "/admin/",
    "/admin/staffing/position/",
    "/admin/staffing/position/{pk}/change/",
    "/admin/staffing/position/{pk}/history/",
    "/admin/staffing/person/add/",
    "/admin/roles/role/",
    "/api/",
    "/api/docs/",
]


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def html_pages(values) -> list[str]:
    found = [u.format(**values) for e, expected in MATRIX.values() if expected[-1] == 200
             for u in urls(e)]  # fmt: skip
    return [u for u in found if "export" not in u] + [u.format(**values) for u in ADMIN_PAGES]


def test_no_template_has_an_inline_script_or_handler():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in (ROOT / "templates").rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert not found, found


@pytest.mark.django_db
def test_every_page_carries_a_policy_that_runs_only_our_scripts(world):
    clients, values, _scenario = world
    admin = clients["admin"]
    for url in html_pages(values):
        response = admin.get(url)
        assert response.status_code == 200, url
        rules = policy(response)
        assert rules["script-src"] == ["'self'"], url
        assert rules["object-src"] == ["'none'"] and rules["frame-ancestors"] == ["'none'"]
    login = clients["anonymous"].get("/login/")
    assert policy(login)["script-src"] == ["'self'"]


@pytest.mark.django_db
def test_the_svg_export_runs_nothing(world):
    clients, values, _scenario = world
    response = clients["admin"].get(f"/chart/{values['lead']}/export.svg")
    assert response["Content-Security-Policy"] == settings.PICTURE_CSP
    rules = policy(response)
    assert rules["default-src"] == ["'none'"] and "script-src" not in rules


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_reports_no_policy_violation_and_an_export_runs_no_script(
    world, live_server, page
):
    clients, values, _scenario = world
    session = clients["admin"].cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    violations = []
    page.on(
        "console",
        lambda m: (
            violations.append(f"{page.url}: {m.text}")
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
            else None
        ),
    )
    scripts_ran = []
    page.on("pageerror", lambda e: scripts_ran.append(f"{page.url}: {e}"))
    admin = clients["admin"]
    pages = [u for u in html_pages(values) if admin.get(u)["Content-Type"].startswith("text/html")]
    assert len(pages) >= 40
    for url in pages:
        page.goto(f"{live_server.url}{url}")  # waits for the load event
        # and for what htmx loads after it (its requests start before the load event)
        page.wait_for_function("() => !document.querySelector('.htmx-request')")
        assert page.evaluate("() => typeof window.htmx") in ("object", "undefined")
    assert not violations, "\n".join(violations)
    assert not scripts_ran, "\n".join(scripts_ran)

    # The export as a document, with a script slipped in: the policy keeps it from running.
    export = f"{live_server.url}/chart/{values['lead']}/export.svg"

    def inline(route):
        real = route.fetch()
        headers = {k: v for k, v in real.headers.items() if k != "content-disposition"}
        body = real.text().replace("</svg>", "<script>document.title = 'script ran'</script></svg>")
        route.fulfill(status=200, headers=headers, body=body)

    page.route(export, inline)
    page.goto(export)
    assert page.title() != "script ran"
    assert page.locator("svg").count() >= 1
