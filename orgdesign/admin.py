from contextlib import contextmanager

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from orgdesign.models import ApiTokenInfo

admin.site.unregister(AuthToken)  # one place for tokens: the list below


class HistoryAdmin(SimpleHistoryAdmin):
    """The admin's "History" page of an object from the audit trail, read only: a past
    version is shown but never saved back (that would bypass the services)."""

    def history_view(self, request, object_id, extra_context=None):
        with self._unseen_as_missing(request):
            return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied("Past versions are read only; change the object itself.")
        with self._unseen_as_missing(request):
            return super().history_form_view(request, object_id, version_id, extra_context)

    @contextmanager
    def _unseen_as_missing(self, request):
        """The history of an object the viewer may not see is answered like that of an
        object that never existed (404), not with a 403 that would confirm it exists."""
        try:
            yield
        except PermissionDenied:
            if self.has_view_or_change_permission(request):
                raise Http404 from None
            raise


@admin.register(ApiTokenInfo)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with ``manage.py create_api_token`` (the key is shown once there);
    here they are reviewed, narrowed to read-only, and revoked."""

    list_display = ["token_key", "user", "name", "can_write", "created", "expiry", "last_used_at"]
    list_filter = ["can_write"]
    list_select_related = ["token__user"]
    search_fields = ["token__user__username", "name", "token__token_key"]
    fields = ["token_key", "user", "name", "can_write", "created", "expiry", "last_used_at"]
    readonly_fields = ["token_key", "user", "created", "expiry", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="key starts")
    def token_key(self, info: ApiTokenInfo) -> str:
        return f"{info.token.token_key}…"

    @admin.display(ordering="token__user__username")
    def user(self, info: ApiTokenInfo):
        return info.token.user

    @admin.display(ordering="token__created")
    def created(self, info: ApiTokenInfo):
        return info.token.created

    @admin.display(ordering="token__expiry")
    def expiry(self, info: ApiTokenInfo):
        return info.token.expiry

    def delete_model(self, request, obj: ApiTokenInfo) -> None:
        obj.token.delete()  # revoking deletes knox's row; the info row goes with it

    def delete_queryset(self, request, queryset) -> None:
        AuthToken.objects.filter(info__in=queryset).delete()

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke(self, request, queryset):
        count = queryset.count()
        self.delete_queryset(request, queryset)
        self.message_user(request, f"Revoked {count} token(s).")
