"""API tokens for integrations (HR systems, scripts), and the catalogue's version.

A token is stored as a SHA-512 digest by django-rest-knox (its AuthToken row); the key itself
is shown once, when ``manage.py create_api_token`` makes it. Beside it we keep a name and
the scope: a token reads only, unless it was created with write scope. Deleting the token
revokes it.
"""

from django.db import models
from knox.models import AuthToken


class ApiTokenInfo(models.Model):
    """What we keep about a token beside knox's row: its purpose and its scope."""

    token = models.OneToOneField(
        AuthToken, on_delete=models.CASCADE, primary_key=True, related_name="info"
    )
    name = models.CharField(
        max_length=80, blank=True, help_text="What the token is for, e.g. the HR system's name."
    )
    can_write = models.BooleanField(
        default=False, help_text="Whether the token may change data; otherwise it only reads."
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ["-token__created"]

    def __str__(self) -> str:
        return f"{self.token.token_key}… ({self.name or 'unnamed'}, {self.scope_display})"

    @property
    def scope_display(self) -> str:
        return "read and write" if self.can_write else "read only"


def token_create(*, user, name: str = "", can_write: bool = False, expiry=None) -> tuple:
    """A new token for ``user``: returns (its info row, the key, shown only now)."""
    from django.db import transaction

    with transaction.atomic():
        token, key = AuthToken.objects.create(user=user, expiry=expiry)
        info = ApiTokenInfo.objects.create(token=token, name=name, can_write=can_write)
    return info, key


class CatalogueVersion(models.Model):
    """One row that changes whenever anything in the catalogue does (tiers, squads, roles,
    skills, promotion paths, span rules, KPIs), for cheap conditional GETs of the API."""

    counter = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Catalogue version {self.counter} ({self.changed_at:%Y-%m-%d %H:%M:%S})"
