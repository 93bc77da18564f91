"""API tokens: how they are made, shown, scoped, throttled, revoked and stored."""

import datetime

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from orgdesign.kernel.auth import TokenRateThrottle
from orgdesign.models import ApiTokenInfo
from tests.factories import UserFactory, api_token, with_token

pytestmark = pytest.mark.django_db
URL = "/api/findings/"


@pytest.fixture
def hr():
    return UserFactory(username="hr-system", groups=["hr"])


def test_anonymous_and_bad_tokens_get_401_naming_the_scheme(hr):
    for client in (APIClient(), with_token("od_" + "0" * 64), with_token("")):
        response = client.get(URL)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_a_read_only_token_reads_and_cannot_write(hr):
    client = with_token(api_token(hr, write=False))
    assert client.get(URL).status_code == 200
    response = client.post(URL, {})
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]


def test_a_write_token_passes_the_scope_check(hr):
    client = with_token(api_token(hr, write=True))
    assert client.post(URL, {}).status_code == 405  # past the permission: findings are read only


def test_revoked_expired_and_inactive_users_tokens_stop_working(hr):
    key = api_token(hr, write=False)
    client = with_token(key)
    assert client.get(URL).status_code == 200
    call_command("create_api_token", "hr-system", "--revoke", key[:8])
    assert client.get(URL).status_code == 401
    key = api_token(hr, write=False)
    AuthToken.objects.update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert with_token(key).get(URL).status_code == 401
    key = api_token(hr, write=False)
    hr.is_active = False
    hr.save()
    assert with_token(key).get(URL).status_code == 401


def test_the_key_is_not_stored_in_the_database(hr):
    key = api_token(hr, write=True)
    with connection.cursor() as cursor:
        for table in (AuthToken._meta.db_table, ApiTokenInfo._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")
            for row in cursor.fetchall():
                assert not any(key in str(value) for value in row)
    token = AuthToken.objects.get()
    assert token.digest != key and len(token.digest) == 128 and key.startswith(token.token_key)


def test_tokens_are_throttled_and_sessions_are_not(hr, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "rate", "3/minute", raising=False)
    cache.clear()
    client = with_token(api_token(hr, write=False))
    codes = [client.get(URL).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert int(client.get(URL)["Retry-After"]) > 0
    other = with_token(api_token(hr, write=False))  # per token, not per user
    assert other.get(URL).status_code == 200
    browser = APIClient()
    browser.force_login(hr)
    assert [browser.get(URL).status_code for _ in range(5)] == [200] * 5
    cache.clear()


def test_last_use_is_recorded(hr):
    key = api_token(hr, write=False)
    assert ApiTokenInfo.objects.get().last_used_at is None
    with_token(key).get(URL)
    assert ApiTokenInfo.objects.get().last_used_at is not None


def test_the_command_makes_lists_and_revokes(hr, capsys):
    call_command(
        "create_api_token", "hr-system", "--write", "--name", "Workday", "--expires-days", "30"
    )
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("od_") and "read and write" in err and "cannot be shown again" in err
    info = ApiTokenInfo.objects.get()
    assert (info.name, info.can_write) == ("Workday", True)
    assert info.token.expiry - timezone.now() > datetime.timedelta(days=29)
    call_command("create_api_token", "hr-system", "--name", "Reports")
    capsys.readouterr()
    call_command("create_api_token", "hr-system", "--list")
    listing = capsys.readouterr().out
    assert "Workday" in listing and "read only" in listing and key not in listing
    call_command("create_api_token", "hr-system", "--revoke-all")
    assert "Revoked 2" in capsys.readouterr().out
    assert not AuthToken.objects.exists() and not ApiTokenInfo.objects.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["nobody"], "no user called"),
        (["hr-system", "--revoke", "zzz"], "no token"),
        (["hr-system", "--expires-days", "0"], "1 or more"),
    ],
)
def test_the_command_refuses_clearly(hr, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args)


def test_the_command_refuses_an_inactive_user(hr):
    hr.is_active = False
    hr.save()
    with pytest.raises(CommandError, match="inactive"):
        call_command("create_api_token", "hr-system")


def test_the_admin_lists_and_revokes_tokens(hr, admin_client):
    api_token(hr, write=True)
    info = ApiTokenInfo.objects.get()
    page = admin_client.get("/admin/orgdesign/apitokeninfo/")
    assert page.status_code == 200 and "hr-system" in page.content.decode()
    assert admin_client.get("/admin/orgdesign/apitokeninfo/add/").status_code == 403
    response = admin_client.post(
        "/admin/orgdesign/apitokeninfo/",
        {"action": "revoke", "_selected_action": [info.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert not AuthToken.objects.exists()
