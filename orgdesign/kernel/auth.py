"""How API callers are recognised and what a token may do.

* ``TokenAuthentication``: ``Authorization: Token <key>`` with a key made by
  ``manage.py create_api_token`` (django-rest-knox checks it against the stored digest).
* ``ApiAccess``: signed-in callers only (401 otherwise); a read-only token may only read.
  What part of the organization a caller sees and changes is decided by the querysets and
  the services (staffing.scope), not here.
* ``TokenRateThrottle``: requests made with a token are limited per token
  (``API_TOKEN_RATE``, default 5000/hour); the browser's session requests are not.
* ``login_client_label``: how django-axes names a login client in the logs (the login form
  itself is throttled by django-axes; see settings).
* ``LoginAttempts``: django-axes' database handler with two limits, one per user name and
  address, one per address across user names (password spraying).
"""

import datetime
import hashlib
import hmac

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken
from rest_framework import permissions
from rest_framework.throttling import SimpleRateThrottle

from orgdesign.models import ApiTokenInfo

LAST_USED_EVERY = datetime.timedelta(minutes=1)  # write last_used_at at most this often


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's check of the key, plus the token's scope (``request.auth.info``)."""

    def validate_user(self, auth_token: AuthToken):
        user, token = super().validate_user(auth_token)
        info, _ = ApiTokenInfo.objects.get_or_create(token=token)  # made by token_create
        now = timezone.now()
        if info.last_used_at is None or now - info.last_used_at > LAST_USED_EVERY:
            ApiTokenInfo.objects.filter(pk=info.pk).update(last_used_at=now)
        token.info = info
        return user, token


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create a key with `manage.py create_api_token USER` "
            "(add `--write` for a token that may change data).",
        }


class ApiAccess(permissions.IsAuthenticated):
    """Signed-in callers only; a token without write scope may only read."""

    message = "This token is read-only; create one with --write to change data."

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False  # DRF answers 401: no credentials, or bad ones
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        return not isinstance(token, AuthToken) or token.info.can_write


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, AuthToken):
            return None  # sessions are not throttled here
        return self.cache_format % {"scope": self.scope, "ident": request.auth.token_key}


def _digest(value) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:12]


def login_client_label(username, ip_address, user_agent, path_info, request) -> str:
    """A login client as django-axes logs it: keyed digests of the user name and of the
    address in place of them (no personal data in the logs, yet attempts on one account or
    from one address can be told together), and the path."""
    path = path_info[0] if isinstance(path_info, (tuple, list)) else path_info
    return f"{{user: {_digest(username)}, address: {_digest(ip_address)}, path: {path}}}"


def client_address(request) -> str | None:
    """The client's address for login throttling: ``REMOTE_ADDR``; behind
    ``TRUSTED_PROXY_COUNT`` proxies, the address the outermost proxy saw, which is that many
    entries from the right of ``X-Forwarded-For`` (the entries further left are whatever the
    client sent)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return request.META.get("REMOTE_ADDR")
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    return hops[-proxies] if len(hops) >= proxies else request.META.get("REMOTE_ADDR")


class LoginAttempts(AxesDatabaseHandler):
    """Failed logins counted two ways (``AXES_LOCKOUT_PARAMETERS`` lists them in this order):
    one user name from one address (``AXES_FAILURE_LIMIT``), and one address across every
    user name (``AXES_ADDRESS_FAILURE_LIMIT``), so that trying a few passwords on many
    accounts is stopped too. Either limit refuses that address for the cool-off time, which
    failures during it do not extend; the same account from another address is never held
    up, so nobody can lock a victim out for good. A successful login clears only that user
    name's failures from that address: logging in to one's own account does not wipe a
    spray's count."""

    def get_failures(self, request, credentials=None) -> int:
        pair, address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        scaled = address * settings.AXES_FAILURE_LIMIT // settings.AXES_ADDRESS_FAILURE_LIMIT
        return max(pair, scaled)  # measured against AXES_FAILURE_LIMIT by django-axes

    def reset_user_attempts(self, request, credentials=None) -> int:
        pair = self.filter_user_attempts(request, credentials)[0]
        deleted, _ = pair.delete()
        return deleted
