"""Messaging pages (outbox, delivery log) and provider webhooks (mounted at /messaging/)."""

from django.urls import path  # noqa: F401

app_name = "messaging"

urlpatterns: list = []
