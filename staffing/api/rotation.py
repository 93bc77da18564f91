"""Squads over time over REST (staffing.rotation): ``GET /api/squads/{id}/members/`` (who is
in a squad now, since when, and who is due to rotate: the people of the caller's scope) and
``GET /api/people/{id}/rotations/`` (the squads a person has served in). The squads'
endpoint belongs to the tiers app, which cannot depend on staffing: :mod:`orgdesign.api`
mixes the members action into it, as it mixes readiness into the people endpoint."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from orgdesign.kernel import days
from orgdesign.kernel.rest import BriefRelatedField, answer_action, response_example
from staffing import rotation
from staffing.scope import request_scope

BRIEF = "https://orgdesign.example/api"


class SquadMemberSerializer(serializers.Serializer):
    person = BriefRelatedField("person-detail", name="full_name", read_only=True)
    position = BriefRelatedField("position-detail", name="title", read_only=True)
    since = days.DayField(help_text="The day they joined the squad (their run in it started).")
    days_in_squad = serializers.IntegerField(source="days")
    months_in_squad = serializers.DecimalField(source="months", max_digits=6, decimal_places=1)
    due_on = days.DayField(
        allow_null=True,
        help_text="When their time in the squad reaches its rotation time; null: they do not "
        "rotate (no time set for the squad, or a role outside its tier, such as its lead).",
    )
    due_to_rotate = serializers.BooleanField(source="due")


class RotationSerializer(serializers.Serializer):
    squad = BriefRelatedField("squad-detail", read_only=True)
    start = days.DayField(help_text="The day they joined the squad.")
    end = days.DayField(allow_null=True, help_text="The day they left it; null: still there.")
    days = serializers.IntegerField(help_text="Days in the squad, up to today.")


MEMBER_EXAMPLE = response_example(
    "An engineer due to rotate",
    person={"id": 311, "url": f"{BRIEF}/people/311/", "name": "Aoife Byrne"},
    position={"id": 42, "url": f"{BRIEF}/positions/42/", "name": "Technical Support Engineer"},
    since="2025-01-06",
    days_in_squad=401,
    months_in_squad="13.2",
    due_on="2026-01-06",
    due_to_rotate=True,
)
ROTATION_EXAMPLE = response_example(
    "A year in a specialist squad, then another",
    squad={"id": 2, "url": f"{BRIEF}/squads/2/", "name": "Voice and Messaging"},
    start="2024-03-04",
    end="2025-03-03",
    days=364,
)


class SquadMembersMixin:
    """``GET /api/squads/{id}/members/``."""

    @extend_schema(
        summary="The people in a squad now, with their time in it",
        description="Those of the caller's part of the organization (everyone for admins "
        "and HR), due to rotate first, then the longest in the squad. Time in the squad "
        "runs from the day they joined it; a new post inside the squad does not restart it.",
        responses=SquadMemberSerializer(many=True),
        examples=[MEMBER_EXAMPLE],
        filters=False,
    )
    @answer_action()
    def members(self, request, pk=None):
        squad = self.get_object()
        members = rotation.squad_members(request_scope(request), squad)
        return Response(
            SquadMemberSerializer(members, many=True, context={"request": request}).data
        )


class PersonRotationsMixin:
    """``GET /api/people/{id}/rotations/``."""

    @extend_schema(
        summary="The squads a person has served in, oldest first",
        description="One row per unbroken time in a squad: consecutive posts in the same "
        "squad count as one.",
        responses=RotationSerializer(many=True),
        examples=[ROTATION_EXAMPLE],
        filters=False,
    )
    @answer_action()
    def rotations(self, request, pk=None):
        person = self.get_object()
        today = timezone.localdate()
        rows = [
            {"squad": squad, "start": run.start, "end": run.end, "days": run.days(today)}
            for run, squad in rotation.person_rotations(person)
        ]
        return Response(RotationSerializer(rows, many=True, context={"request": request}).data)
