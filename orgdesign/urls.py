from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from metrics.urls import people_urlpatterns
from orgdesign import views
from orgdesign.api import router

admin.site.site_header = "orgdesign administration"
admin.site.site_title = "orgdesign"
admin.site.index_title = "Catalogue, organization and metrics"

urlpatterns = [
    path("", include("staffing.urls")),
    path("roles/", include("roles.urls")),
    path("dashboard/", include("metrics.urls")),
    path("", include(people_urlpatterns)),
    path("health/", views.health, name="health"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include(router.urls)),
    path("admin/", admin.site.urls),
]

handler404 = "orgdesign.views.not_found"
handler500 = "orgdesign.views.server_error"
