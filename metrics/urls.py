from django.urls import path

from metrics import people_views, views

urlpatterns = [
    path("", views.dashboard_page, name="dashboard"),
    path("snapshot/", views.snapshot_take, name="dashboard-snapshot"),
    path("kpis/upload/", views.kpi_upload, name="kpi-upload"),
    path("<slug:table>.csv", views.dashboard_csv, name="dashboard-csv"),
]

# mounted at the site's root (orgdesign/urls.py): promotion readiness and people's pages
people_urlpatterns = [
    path("readiness/", people_views.readiness_list, name="readiness"),
    path("people/<int:pk>/", people_views.person_page, name="person-page"),
    path("people/<int:pk>/signoff/", people_views.person_signoff, name="person-signoff"),
    path("people/<int:pk>/promote/", people_views.person_promote, name="person-promote"),
    path("positions/<int:pk>/about/", people_views.position_about, name="position-about"),
]
