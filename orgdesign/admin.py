"""The admin of API tokens (the orgdesign app's own model)."""

from django.contrib import admin
from knox.models import AuthToken

from orgdesign.models import ApiTokenInfo

admin.site.unregister(AuthToken)  # one place for tokens: the list below


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
