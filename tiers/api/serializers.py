from rest_framework import serializers

from orgdesign.kernel.rest import BriefRelatedField, lines_field
from tiers.models import Squad, Tier


class TierSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    escalates_to = BriefRelatedField("tier-detail", read_only=True, allow_null=True)
    squads = BriefRelatedField("squad-detail", many=True, read_only=True)
    volume_share = serializers.CharField(source="volume_share_display", read_only=True)

    class Meta:
        model = Tier
        fields = [
            "id",
            "url",
            "code",
            "name",
            "kind",
            "kind_display",
            "rank",
            "staffed",
            "target_handling_minutes",
            "volume_share_min",
            "volume_share_max",
            "volume_share",
            "channels",
            "triages",
            "escalates_to",
            "squads",
            "colour",
            "description",
        ]
        extra_kwargs = {"url": {"view_name": "tier-detail"}}


class SquadSerializer(serializers.ModelSerializer):
    tier = BriefRelatedField("tier-detail", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    portfolio = lines_field("portfolio_items")

    class Meta:
        model = Squad
        fields = [
            "id",
            "url",
            "code",
            "name",
            "tier",
            "kind",
            "kind_display",
            "portfolio",
            "rotate_after_months",
            "description",
        ]
        extra_kwargs = {"url": {"view_name": "squad-detail"}}
