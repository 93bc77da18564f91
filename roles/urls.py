from django.urls import path

from roles import views

urlpatterns = [
    path("", views.catalogue, name="role-catalogue"),
    path("<slug:code>/", views.role_detail, name="role-page"),
]
