from django.urls import path

from metrics import views

urlpatterns = [
    path("", views.dashboard_page, name="dashboard"),
    path("snapshot/", views.snapshot_take, name="dashboard-snapshot"),
    path("kpis/upload/", views.kpi_upload, name="kpi-upload"),
    path("<slug:table>.csv", views.dashboard_csv, name="dashboard-csv"),
]
