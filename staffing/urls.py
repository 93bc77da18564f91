from django.urls import path

from staffing import views

urlpatterns = [
    path("", views.org_chart, name="home"),
    path("chart/<int:pk>/children/", views.chart_children, name="chart-children"),
    path("chart/search/", views.chart_search, name="chart-search"),
]
