"""The REST API's one router: every app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from staffing.api.views import FindingViewSet

router = DefaultRouter()
router.register("findings", FindingViewSet, basename="finding")
