"""Client portal pages of the invoices app (mounted at /portal/invoices/)."""

from django.urls import path  # noqa: F401

app_name = "invoices_portal"

urlpatterns: list = []
