from django.contrib import admin

from tiers.models import Squad, Tier


class SquadInline(admin.TabularInline):
    model = Squad
    extra = 0
    fields = ("name", "code", "kind", "portfolio", "rotate_after_months")


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "staffed",
        "target_handling_minutes",
        "volume_share_display",
        "triages",
        "escalates_to",
    )
    list_filter = ("kind", "staffed")
    search_fields = ("name", "code", "description")
    prepopulated_fields = {"code": ("name",)}
    inlines = [SquadInline]

    @admin.display(description="share of volume")
    def volume_share_display(self, tier):
        return tier.volume_share_display


@admin.register(Squad)
class SquadAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "kind", "rotate_after_months", "portfolio_summary")
    list_filter = ("tier", "kind")
    search_fields = ("name", "code", "portfolio")
    prepopulated_fields = {"code": ("name",)}

    @admin.display(description="portfolio")
    def portfolio_summary(self, squad):
        return ", ".join(squad.portfolio_items) or "—"
