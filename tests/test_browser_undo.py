"""In a real browser: the Undo on the chart's status line reverts a change, and says why
when it cannot (the organization changed since)."""

import pytest
from playwright.sync_api import expect

from staffing import services
from staffing.models import Position
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_undo_reverts_a_move_and_explains_a_refusal(page, live_server, synapse):
    manager = Position.objects.get(holder__user__username="manager")
    lead_a, lead_b, _lead_c = manager.get_children().order_by("title")
    page.set_viewport_size({"width": 1280, "height": 2600})
    log_in(page, live_server, "manager")
    card = lambda position: page.locator(f"#pos-{position.pk} > .pcard")  # noqa: E731
    status = page.locator("#chart-status")

    card(lead_b).drag_to(card(lead_a))
    expect(status).to_contain_text(f"Moved {lead_b.label} and its team.")
    assert Position.objects.get(pk=lead_b.pk).parent_id == lead_a.pk
    status.get_by_role("button", name="Undo").click()
    expect(status).to_contain_text("Undone:")
    expect(status).to_contain_text("reports to")
    expect(status.get_by_role("button", name="Undo")).to_have_count(0)  # not undone twice
    assert Position.objects.get(pk=lead_b.pk).parent_id == manager.pk
    expect(card(lead_a).locator(".counts")).not_to_contain_text("9 direct")

    # moved again; meanwhile someone renames the lead: the undo is refused, with the reason
    page.get_by_role("button", name="Fit").click()
    card(lead_b).drag_to(card(lead_a))
    expect(status.get_by_role("button", name="Undo")).to_be_visible()
    services.position_update(actor=None, position=lead_b, title="Lead B (chat)")
    status.get_by_role("button", name="Undo").click()
    expect(status).to_contain_text("Not undone.")
    expect(status).to_contain_text("has changed since the move")
    assert Position.objects.get(pk=lead_b.pk).parent_id == lead_a.pk
