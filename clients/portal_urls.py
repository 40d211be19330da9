"""Client portal pages of the clients app (mounted at /portal/clients/)."""

from django.urls import path  # noqa: F401

app_name = "clients_portal"

urlpatterns: list = []
