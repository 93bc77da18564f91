"""The REST API's one router: every app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from metrics.api.readiness import PersonReadinessMixin, ReadinessViewSet
from metrics.api.views import KPIObservationViewSet, KPIViewSet
from roles.api.views import CareerPathViewSet, PromotionPathViewSet, RoleViewSet, SkillViewSet
from staffing.api.capacity import CapacityViewSet
from staffing.api.history import HistoryViewSet
from staffing.api.rotation import SquadMembersMixin
from staffing.api.scenarios import ScenarioViewSet
from staffing.api.triage import TriageWeekViewSet
from staffing.api.views import (
    FindingViewSet,
    HeadcountViewSet,
    LocationViewSet,
    PersonViewSet,
    PositionViewSet,
)
from tiers.api import views as tiers_api
from tiers.api.views import TierViewSet


class PeopleViewSet(PersonReadinessMixin, PersonViewSet):
    # people (staffing) with their promotion readiness (metrics): /api/people/{id}/readiness/
    pass


class SquadViewSet(SquadMembersMixin, tiers_api.SquadViewSet):
    # the squads (tiers) with the people in them now (staffing): /api/squads/{id}/members/
    pass


router = DefaultRouter()
# the catalogue (read only)
router.register("tiers", TierViewSet, basename="tier")
router.register("squads", SquadViewSet, basename="squad")
router.register("skills", SkillViewSet, basename="skill")
router.register("roles", RoleViewSet, basename="role")
router.register("promotion-paths", PromotionPathViewSet, basename="promotionpath")
router.register("career-paths", CareerPathViewSet, basename="careerpath")
router.register("kpis", KPIViewSet, basename="kpi")
# the organization
router.register("findings", FindingViewSet, basename="finding")
router.register("positions", PositionViewSet, basename="position")
router.register("people", PeopleViewSet, basename="person")
router.register("locations", LocationViewSet, basename="location")
router.register("triage", TriageWeekViewSet, basename="triageweek")
router.register("headcount", HeadcountViewSet, basename="headcount")
router.register("kpi-observations", KPIObservationViewSet, basename="kpiobservation")
router.register("readiness", ReadinessViewSet, basename="readiness")
router.register("capacity", CapacityViewSet, basename="capacity")
router.register("scenarios", ScenarioViewSet, basename="scenario")
router.register("history", HistoryViewSet, basename="history")
