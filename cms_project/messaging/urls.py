"""Messaging pages (outbox, delivery log) and provider webhooks (mounted at /messaging/)."""

from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/resend/", views.delivery_resend, name="delivery_resend"),
    path("outbox/", views.outbox, name="outbox"),
    path("twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
]
