"""Staff workspace pages of the clients app (mounted at /staff/clients/)."""

from django.urls import path  # noqa: F401

app_name = "clients"

urlpatterns: list = []
