from django.urls import path

from staffing import views

urlpatterns = [
    path("", views.org_chart, name="home"),
    path("chart/export.<slug:fmt>", views.chart_export, name="chart-export"),
    path("chart/<int:pk>/export.<slug:fmt>", views.chart_export, name="chart-export"),
    path("chart/<int:pk>/children/", views.chart_children, name="chart-children"),
    path("chart/<int:pk>/<slug:action>/", views.chart_edit, name="chart-edit"),
    path("chart/search/", views.chart_search, name="chart-search"),
    path("chart/people/", views.people_search, name="chart-people"),
    path("chart/holders/<slug:code>/", views.role_holders, name="role-holders"),
    path("capacity/", views.capacity_page, name="capacity"),
]
