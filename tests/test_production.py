"""Production hardening: the deploy checks pass under production settings, and logins are
throttled without writing who tried into the logs."""

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from staffing.models import Position
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_the_deploy_checks_with_no_warning():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # tests'
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "orgdesign.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://orgdesign.example.org",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "false"
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0 and "SECRET_KEY must be set" in done.stderr


@pytest.mark.django_db
def test_logins_are_throttled_per_user_and_address_and_the_logs_name_nobody(
    client, caplog, settings
):
    UserFactory(username="noor.haddad", password="the-right-one")
    caplog.set_level(logging.DEBUG)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.post("/login/", {"username": "noor.haddad", "password": "nope"})
        assert wrong.status_code == 200 and "do not match" in wrong.content.decode()
    locked = client.post("/login/", {"username": "noor.haddad", "password": "nope"})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    # locked out: even the right password is refused until the pause ends or an admin resets
    again = client.post("/login/", {"username": "noor.haddad", "password": "the-right-one"})
    assert again.status_code == 429
    assert "noor.haddad" not in caplog.text and "127.0.0.1" not in caplog.text
    # another user from the same address is not locked out
    UserFactory(username="kai.castro", password="theirs-123")
    assert (
        client.post("/login/", {"username": "kai.castro", "password": "theirs-123"}).status_code
        == 302
    )
    client.logout()
    call_command("axes_reset_username", "noor.haddad")
    fine = client.post("/login/", {"username": "noor.haddad", "password": "the-right-one"})
    assert fine.status_code == 302


@pytest.mark.django_db
def test_htmx_requests_carry_the_csrf_token_and_are_refused_without_it(api_org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get("/").content.decode()
    token = re.search(r"hx-headers='\{&quot;X-CSRFToken&quot;: &quot;(\w+)&quot;\}'|"
                      r"hx-headers='\{\"X-CSRFToken\": \"(\w+)\"\}'", page)  # fmt: skip
    assert token, "the page gives htmx the CSRF token"
    token = token.group(1) or token.group(2)
    lead = api_org.positions["lead_a"]
    url, data = f"/chart/{lead.pk}/edit/", {"title": "Lead A1", "role": lead.role_id}
    refused = client.post(url, data, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    done = client.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert done.status_code == 200 and done["HX-Retarget"] == "#chart"
    assert Position.objects.get(pk=lead.pk).title == "Lead A1"


@pytest.mark.django_db
def test_the_logs_name_nobody_while_people_are_placed_moved_and_refused(api_org, caplog):
    """Edits, refusals and failed logins at DEBUG level: no name or e-mail in any record."""
    from staffing import services
    from tests.factories import PersonFactory

    newcomer = PersonFactory(given_name="Zaynab", family_name="Okonkwo-Lind",
                             email="zaynab.ol@example.org")  # fmt: skip
    caplog.set_level(logging.DEBUG)
    admin = UserFactory(is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    vacancy = Position.objects.get(title="Open B")
    client.post(f"/chart/{vacancy.pk}/fill/", {"person": newcomer.pk})
    assert Position.objects.get(pk=vacancy.pk).holder == newcomer
    client.post(f"/chart/{vacancy.pk}/vacate/", {"note": "moved on"})
    hr = Client()
    hr.force_login(UserFactory(groups=["hr"]))
    assert hr.post(f"/chart/{vacancy.pk}/edit/", {"title": "x"}).status_code == 403
    Client().post("/login/", {"username": "zaynab.ol@example.org", "password": "guess"})
    services.position_update(actor=None, position=api_org.mine, title="Agent renamed")
    text = caplog.text.lower()
    for personal in ("zaynab", "okonkwo", "example.org"):
        assert personal not in text


@pytest.mark.django_db
def test_behind_proxies_the_throttle_counts_the_address_the_outermost_proxy_saw(client, settings):
    from axes.models import AccessAttempt

    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="amara")
    for claimed in ("198.51.100.1", "198.51.100.2"):  # the client writes the left part
        client.post(
            "/login/", {"username": "amara", "password": "nope"},
            HTTP_X_FORWARDED_FOR=f"{claimed}, 203.0.113.7", REMOTE_ADDR="10.0.0.2",
        )  # fmt: skip
    attempt = AccessAttempt.objects.get()
    assert attempt.ip_address == "203.0.113.7" and attempt.failures_since_start == 2
    settings.TRUSTED_PROXY_COUNT = 0
    client.post("/login/", {"username": "amara", "password": "nope"}, REMOTE_ADDR="10.0.0.9")
    assert AccessAttempt.objects.filter(ip_address="10.0.0.9").exists()


@pytest.mark.django_db
def test_password_spraying_is_stopped_per_address_without_locking_the_victims_out(client, settings):
    """Many user names from one address: refused once the address's limit is reached, even
    for a right password from there; the same accounts log in from elsewhere, a login to
    one's own account does not wipe the count, and the address may try again after the
    cool-off."""
    from axes.models import AccessAttempt

    UserFactory(username="ines.morel", password="the-right-one")
    spray = settings.AXES_ADDRESS_FAILURE_LIMIT
    assert spray > settings.AXES_FAILURE_LIMIT
    for n in range(spray - 1):  # one guess per account: no pair reaches its own limit
        answer = client.post("/login/", {"username": f"user-{n}", "password": "Summer2026!"})
        assert answer.status_code == 200, n
    UserFactory(username="attacker", password="attacker-pw")
    assert (
        client.post("/login/", {"username": "attacker", "password": "attacker-pw"}).status_code
        == 302
    )
    client.logout()
    last = client.post("/login/", {"username": "ines.morel", "password": "Summer2026!"})
    assert last.status_code == 429
    refused = client.post("/login/", {"username": "ines.morel", "password": "the-right-one"})
    assert refused.status_code == 429  # from this address, for now
    elsewhere = Client(REMOTE_ADDR="192.0.2.44")
    fine = elsewhere.post("/login/", {"username": "ines.morel", "password": "the-right-one"})
    assert fine.status_code == 302  # the victim is not locked out
    # the pause ends: attempts older than the cool-off no longer count
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME * 2)
    again = client.post("/login/", {"username": "ines.morel", "password": "the-right-one"})
    assert again.status_code == 302
