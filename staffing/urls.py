from django.urls import path

from staffing import views

urlpatterns = [
    path("", views.org_overview, name="home"),
]
