"""Staff workspace pages of the invoices app (mounted at /staff/invoices/)."""

from django.urls import path  # noqa: F401

app_name = "invoices"

urlpatterns: list = []
