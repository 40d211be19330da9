"""Staff workspace pages of the services app (mounted at /staff/services/)."""

from django.urls import path  # noqa: F401

app_name = "services"

urlpatterns: list = []
