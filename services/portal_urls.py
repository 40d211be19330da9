"""Client portal pages of the services app (mounted at /portal/services/)."""

from django.urls import path  # noqa: F401

app_name = "services_portal"

urlpatterns: list = []
